"""Look-up tables (life tables, age-banded rates) callable from expressions.

A table maps a numeric key (usually age) to a value column, or to one column per
sex.  ``step`` look-up returns the value of the last row whose key ≤ x (age bands
given by their lower bound, as in heemod's mortality look-ups); ``linear``
interpolates.  Outside the key range the first/last value is used.  A mixed-sex
cohort gets the weighted mean of the sex columns with the model's ``sex`` weights
(fixed weights over time; documented simplification).

Tables shipped with ces are referenced as ``builtin:NAME`` (files in ``ces/data``,
each with its source in the comment header); other files are read relative to the
model file.  CSV comment lines start with ``#``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ces.errors import CesError
from ces.modelfile.paths import check_data_path

BUILTIN = {
    "us_2015_mx": "lifetable_us_2015_mx_darth.csv",
}


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("ces") / "data" / BUILTIN[name]))


def resolve_table_file(file: str, base_dir: Path) -> Path:
    if file.startswith("builtin:"):
        name = file.split(":", 1)[1]
        if name not in BUILTIN:
            raise KeyError(f"unknown builtin table `{name}` (available: {', '.join(sorted(BUILTIN))})")
        return builtin_path(name)
    return (base_dir / file).resolve()


@dataclass
class Table:
    name: str
    keys: np.ndarray
    columns: dict  # label -> values ndarray ("value" or "male"/"female")
    method: str
    sex_weights: dict  # "male"/"female" -> weight, used when no sex argument is given

    def __call__(self, x, sex=None):
        x = np.asarray(x, dtype=float)
        if sex is not None:
            if not isinstance(sex, str) or sex not in self.columns:
                raise CesError(f"table `{self.name}`: second argument must be one of "
                               f"{', '.join(repr(c) for c in self.columns)}, got {sex!r}")
            return self._lookup(x, self.columns[sex])
        if "value" in self.columns:
            return self._lookup(x, self.columns["value"])
        if not self.sex_weights:
            raise CesError(f"table `{self.name}` has columns by sex; set the model's `sex` or call "
                           f"{self.name}(age, \"female\")")
        out = 0.0
        for s, w in self.sex_weights.items():
            out = out + w * self._lookup(x, self.columns[s])
        return out

    def _lookup(self, x, vals):
        if self.method == "linear":
            return np.interp(x, self.keys, vals)
        idx = np.searchsorted(self.keys, x + 1e-9, side="right") - 1
        return vals[np.clip(idx, 0, len(vals) - 1)]


def read_csv_bounded(path: Path, what: str, shown: str) -> pd.DataFrame:
    """Read a CSV data file: a regular file no larger than ``max_file_mb``, with a header and at least one row.

    Errors (ValueError) name the file but never echo its contents.
    """
    from ces.modelfile.yamlio import check_regular_file

    try:
        st = Path(path).stat()
    except FileNotFoundError:
        raise ValueError(f"{what} `{shown}` not found (resolved to {path})") from None
    except OSError as exc:
        raise ValueError(f"cannot read {what} `{shown}` ({exc.strerror or exc.__class__.__name__})") from None
    try:
        check_regular_file(Path(path), st, f"a CSV {what}")
    except CesError as exc:
        raise ValueError(f"{what} `{shown}` {exc.message}") from None
    try:
        df = pd.read_csv(path, comment="#")
    except UnicodeDecodeError:
        raise ValueError(f"cannot read CSV {what} `{shown}`: not UTF-8 text") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"CSV {what} `{shown}` is empty (no header line)") from None
    except Exception as exc:  # pandas raises many types on malformed CSV; never show file content
        raise ValueError(f"cannot read CSV {what} `{shown}` ({exc.__class__.__name__}): expected comma-separated "
                         "columns with one header line") from None
    if len(df) == 0:
        raise ValueError(f"CSV {what} `{shown}` has a header but no data rows")
    return df


def load_table(name: str, spec, base_dir: Path, sex, raise_at, allowed: list | None = None) -> Table:
    """Read a table per its :class:`~ces.modelfile.schema.TableSpec`; ``raise_at(key, msg)`` builds errors."""
    try:
        path = resolve_table_file(spec.file, base_dir)
    except KeyError as exc:
        raise raise_at("file", str(exc.args[0])) from None
    try:
        if not spec.file.startswith("builtin:"):
            check_data_path(path, allowed if allowed is not None else [base_dir], "table file", spec.file)
        df = read_csv_bounded(path, "table file", spec.file)
    except ValueError as exc:
        raise raise_at("file", str(exc)) from None
    if spec.key not in df.columns:
        raise raise_at("key", f"column `{spec.key}` not in table file `{spec.file}` ({len(df.columns)} columns)")
    if (spec.value is None) == (spec.columns is None):
        raise raise_at("value", "give exactly one of `value` (one column) or `columns` (by sex)")
    wanted = {"value": spec.value} if spec.value is not None else dict(spec.columns)
    for label in wanted:
        if label not in ("value", "male", "female"):
            raise raise_at("columns", f"`columns` keys must be male and/or female, got `{label}`")
    df = df.sort_values(spec.key)
    keys = pd.to_numeric(df[spec.key], errors="coerce").to_numpy(dtype=float)
    if np.isnan(keys).any():
        raise raise_at("key", f"column `{spec.key}` of `{spec.file}` has non-numeric values")
    cols = {}
    for label, col in wanted.items():
        if col not in df.columns:
            raise raise_at("columns" if spec.columns else "value",
                           f"column `{col}` not in table file `{spec.file}` ({len(df.columns)} columns)")
        vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        if np.isnan(vals).any():
            raise raise_at("columns" if spec.columns else "value", f"column `{col}` of `{spec.file}` has "
                           "missing or non-numeric values")
        cols[label] = vals * float(spec.scale)
    weights = {}
    if isinstance(sex, str):
        weights = {sex: 1.0}
    elif isinstance(sex, dict):
        tot = sum(sex.values())
        weights = {k: v / tot for k, v in sex.items()}
    if "value" not in cols:
        for s in weights:
            if s not in cols:
                raise raise_at("columns", f"model sex `{s}` has no column in table `{name}`")
    return Table(name=name, keys=keys, columns=cols, method=spec.method, sex_weights=weights)
