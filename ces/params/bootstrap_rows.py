"""Parameter blocks drawn from files of rows: ``dist: empirical`` and ``dist: bootstrap``.

Both read a CSV of draws (``file``, ``column`` or ``columns``) and give each PSA draw one whole row,
picked uniformly with replacement, so the columns of a row stay together.  Draw i of a block comes
from the block's seeded Philox stream (:mod:`ces.params.sampling`): it depends only on (seed, block
name, i), for any chunk size, thread count or executor.

``bootstrap`` is for the replicates file written by ``ces fit --bootstrap B`` (one row per
bootstrap refit of the patients, all endpoints refitted on the same resample; see
:mod:`ces.survival.bootstrap`)::

    pfs_os_coef: {names: [pfs_log_shape, pfs_log_scale, os_log_shape, os_log_scale], dist: bootstrap,
                  file: curves_bootstrap.csv, B: 1000, value: [...]}

so the PFS and OS coefficients of a draw come from the same replicate.  ``columns`` defaults to
``names``; ``B`` (optional, 2 ≤ B ≤ 100,000) uses replicates 0..B−1 only (the rows whose ``replicate``
column is < B; without that column, the first B rows), and is an error when the file holds fewer
replicates.  Replicates that did not converge are absent from the file, so a draw picks among the
converged ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MIN_B, MAX_B = 2, 100_000  # as ces.survival.bootstrap (the file's writer)


def read_header(path: Path, max_lines: int = 50) -> dict:
    """The ``# key: value`` lines at the top of a rows file (empty if it has none)."""
    out: dict = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for _, line in zip(range(max_lines), fh):
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].partition(":")
            if sep:
                out[key.strip()] = value.strip()
    return out


def read_rows(p: dict, base_dir: Path | None, what: str):
    """(path, DataFrame) of a draws file, after the data-path check and the size bound; ValueError if bad."""
    from ces.modelfile.paths import check_data_path, data_dirs
    from ces.params.tables import read_csv_bounded

    path = Path(p["file"])
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    allowed = [Path(base_dir).resolve()] if base_dir is not None else [path.parent]  # direct API use
    ctx = data_dirs()  # the loaded model's folders (model, config, allow_paths)
    if ctx and base_dir is not None and Path(base_dir).resolve() in ctx:
        allowed = ctx
    check_data_path(path, allowed, what, str(p["file"]))
    return path, read_csv_bounded(path, what, str(p["file"]))


def _matrix(df, cols: list, shown: str) -> np.ndarray:
    import pandas as pd

    for c in cols:
        if c not in df.columns:
            raise ValueError(f"column `{c}` not in draws file `{shown}` ({len(df.columns)} columns)")
    data = df[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if len(data) == 0 or not np.all(np.isfinite(data)):
        raise ValueError(f"`{shown}` has no rows or non-numeric values in {', '.join(cols)}")
    return data


def rows_distribution(name: str, data: np.ndarray, univariate: bool, p: dict):
    """A :class:`Distribution` whose draw is a uniformly chosen row of ``data`` (m, k)."""
    from ces.params.distributions import Distribution

    if univariate:
        x = data[:, 0]
        return Distribution(name, 1, float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0,
                            lambda rng, n: x[rng.integers(0, len(x), n)], lambda q: np.quantile(x, q), p)
    return Distribution(name, data.shape[1], data.mean(axis=0), data.std(axis=0, ddof=1) if len(data) > 1
                        else np.zeros(data.shape[1]), lambda rng, n: data[rng.integers(0, len(data), n)], None, p)


def empirical(p: dict, base_dir: Path | None):
    """``dist: empirical``: rows of ``file`` (``column`` or ``columns``) resampled with replacement."""
    _, df = read_rows(p, base_dir, "draws file")
    cols = [p["column"]] if "column" in p else list(p["columns"])
    return rows_distribution("empirical", _matrix(df, cols, str(p["file"])), "column" in p, p)


def bootstrap(p: dict, base_dir: Path | None):
    """``dist: bootstrap``: one whole bootstrap replicate per draw (optionally replicates 0..B−1 only)."""
    B = p.get("B")
    if B is not None:  # bounded before the file is read
        if float(B) != int(B) or not MIN_B <= int(B) <= MAX_B:
            raise ValueError(f"`B` must be an integer between {MIN_B} and {MAX_B:,}, got {B:g}")
        B = int(B)
    path, df = read_rows(p, base_dir, "bootstrap replicates file")
    shown = str(p["file"])
    cols = [p["column"]] if "column" in p else list(p["columns"])
    if B is not None:
        header = read_header(path)
        held = header.get("replicates")
        if held is not None and held.isdigit() and B > int(held):
            raise ValueError(f"B = {B:,} but `{shown}` holds {int(held):,} replicates (rerun `ces fit --bootstrap "
                             f"{B}` or lower B)")
        if "replicate" in df.columns:
            rep = _matrix(df, ["replicate"], shown)[:, 0]
            if held is None and B > rep.max() + 1:
                raise ValueError(f"B = {B:,} but `{shown}` holds replicates up to {int(rep.max()):,}")
            df = df[rep < B]
        else:
            if B > len(df):
                raise ValueError(f"B = {B:,} but `{shown}` has {len(df):,} rows")
            df = df.iloc[:B]
    return rows_distribution("bootstrap", _matrix(df, cols, shown), "column" in p, p)
