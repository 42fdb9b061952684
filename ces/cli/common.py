"""Helpers shared by the commands: limits, output-path checks, warnings, threads, --json, --wtp ranges."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from ces.cli.core import err_console
from ces.errors import CesError


@contextmanager
def limits(max_cycles: Optional[int] = None, limit: Optional[list[str]] = None):
    """Command-line limits (``--max-cycles``, ``--limit NAME=VALUE``) for the duration of a command."""
    from ces.modelfile import limits as lim

    with lim.flags(lim.parse_flags(max_cycles, limit)):
        yield


def check_outputs(**paths) -> None:
    """Validate output paths before any work starts: flag -> (path, kind)."""
    from ces.report.atomic import check_output_path

    for flag, (path, kind) in paths.items():
        if path is not None:
            check_output_path(path, kind, "--" + flag.replace("_", "-"))


def warn(warnings: list, strict: bool = False) -> None:
    """Print each sanity warning once on stderr; under --strict the first one is an error."""
    from rich.markup import escape

    if strict and warnings:
        w = warnings[0]
        more = f" (and {len(warnings) - 1} more warnings)" if len(warnings) > 1 else ""
        raise CesError(f"--strict: {w['message']} [{w['code']}]{more}", file=None, path=w["where"])
    for w in warnings:
        where = f"{w['where']}: " if w["where"] else ""
        err_console.print(f"[yellow]warning:[/yellow] {escape(where + w['message'] + ' [' + w['code'] + ']')}",
                          highlight=False, soft_wrap=True)


def set_threads(threads: Optional[int]) -> None:
    """``--threads N``: numba's thread count (1 … the number it was started with)."""
    if threads is None:
        return
    import numba

    if threads < 1 or threads > numba.config.NUMBA_NUM_THREADS:
        raise CesError(f"--threads must be between 1 and {numba.config.NUMBA_NUM_THREADS}, got {threads}")
    numba.set_num_threads(threads)


def check_at_least(**values) -> None:
    """``--draws 0``, ...: each flag -> (value, minimum); None is not given."""
    for flag, (v, low) in values.items():
        if v is not None and v < low:
            raise CesError(f"--{flag.replace('_', '-')} must be at least {low}, got {v}")


def write_json(path: Optional[Path], obj) -> None:
    """--json FILE: any result (tables, dicts) as JSON, NaN as null."""
    if path is None:
        return
    from ces.report.atomic import write_text_atomic
    from ces.report.results_json import _clean

    write_text_atomic(path, json.dumps(_clean(obj), indent=2, allow_nan=False) + "\n")


def parse_wtp_range(text: str) -> list[float]:
    """`FROM:TO:BY` → [FROM, FROM+BY, ..., ≤ TO]."""
    import math

    from ces.modelfile import limits

    try:
        a, b, c = (float(x) for x in text.split(":"))
    except ValueError:
        raise CesError(f"--wtp must be FROM:TO:BY (e.g. 0:200000:5000), got `{text}`") from None
    if not all(math.isfinite(v) for v in (a, b, c)) or c <= 0 or b < a or a < 0:
        raise CesError(f"--wtp FROM:TO:BY needs finite numbers with 0 ≤ FROM ≤ TO and BY > 0, got `{text}`")
    span = (b - a) / c
    limits.check("max_wtp_points", span + 1, f"--wtp {text}: the number of WTP points")
    n = int(span + 1e-9) + 1
    return [a + i * c for i in range(n)]
