"""The data of ``ces fit``: patient-level CSVs read and checked, and turned into the :class:`Data` of one
endpoint (times, events, weights, the arm as a dummy-coded covariate)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ces.errors import CesError
from ces.survival.fit_likelihood import Data


def read_ipd(path: Path, time: str, event: str, arm: str | None = None, weight: str | None = None):
    """Read patient-level data; returns (DataFrame of clean columns). Errors name the file, column and row."""
    import pandas as pd

    try:
        df = pd.read_csv(path, comment="#")
    except FileNotFoundError:
        raise CesError(f"data file `{path}` not found") from None
    except Exception as exc:  # pandas raises many types on malformed CSV
        raise CesError(f"cannot read CSV: {exc}".splitlines()[0], file=str(path)) from None
    for col in (time, event, arm, weight):
        if col is not None and col not in df.columns:
            raise CesError(f"column `{col}` not found (columns: {', '.join(map(str, df.columns))})", file=str(path))
    if len(df) > 10_000_000:
        raise CesError(f"{len(df)} rows: at most 10,000,000 patients", file=str(path))
    for col, rule in ((time, "a time > 0"), (event, "0 (censored) or 1 (event)"), (weight, "a weight ≥ 0")):
        if col is None:
            continue
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v)
        if col == time:
            bad |= v <= 0
        elif col == event:
            bad |= ~np.isin(v, (0.0, 1.0))
        else:
            bad |= v < 0
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise CesError(f"row {k + 2}, column `{col}`: {df[col].iloc[k]!r} is not {rule}", file=str(path))
        df[col] = v
    return df


def make_data(df, time: str, event: str, weight: str | None = None, arm: str | None = None,
              levels: list | None = None, background=None) -> Data:
    """A :class:`Data`; with ``arm``, dummy columns for every level but the first (R's factor coding)."""
    t = df[time].to_numpy(dtype=float)
    e = df[event].to_numpy(dtype=float)
    w = df[weight].to_numpy(dtype=float) if weight else np.ones_like(t)
    if e[w > 0].sum() < 1:
        raise CesError(f"no events in `{event}`: nothing to fit")
    if arm is None:
        return Data(t, e, w, np.zeros((t.size, 0)), background=background)
    a = df[arm].astype(str).to_numpy()
    levels = levels or sorted(set(a))
    X = np.column_stack([(a == lv).astype(float) for lv in levels[1:]]) if len(levels) > 1 else np.zeros((t.size, 0))
    return Data(t, e, w, X, tuple(f"{arm}{lv}" for lv in levels[1:]), background)


def read_endpoints(path: Path, time_cols: list, event_cols: list, arm: str | None = None,
                   weight: str | None = None):
    """The patient-level data of several endpoints (one row per patient: each keeps all its columns)."""
    df = read_ipd(path, time_cols[0], event_cols[0], arm, weight)
    for t, e in zip(time_cols[1:], event_cols[1:]):
        more = read_ipd(path, t, e)
        df[t], df[e] = more[t], more[e]
    return df


def floor_inputs(background, age, sex, smr: float = 1.0):
    """(life table, age, sex weights, smr) of ``--background``/``--age``/``--sex``/``--smr``, or None without
    an age."""
    if age is None:
        if smr != 1.0:
            raise CesError("--smr needs --background LIFE_TABLE and --age")
        return None
    if not (np.isfinite(smr) and smr > 0):
        raise CesError(f"--smr (excess mortality ratio on the background hazard) must be positive, got {smr:g}")
    if background is None:
        raise CesError("--age needs --background LIFE_TABLE (e.g. us_2021)")
    from ces.survival.lifetable import life_table

    if not 0 <= age <= 110:
        raise CesError(f"--age must be between 0 and 110, got {age:g}")
    if sex in ("male", "female"):
        weights = {sex: 1.0}
    else:
        try:
            m = float(sex)
        except ValueError:
            raise CesError(f"--sex must be male, female or the male share (0-1), got `{sex}`") from None
        if not 0 <= m <= 1:
            raise CesError(f"--sex male share must be in [0, 1], got {m:g}")
        weights = {"male": m, "female": 1 - m}
    return life_table(background), float(age), weights, float(smr)
