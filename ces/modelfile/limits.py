"""Size limits checked at load time, before anything large is allocated.

A typo (``horizon: 1000000000 cycles``, ``wtp: {to: 3e11, by: 25000}``) must give a clean
error in a second, not a hang or an out-of-memory crash.  Every limit has a default that
is far above what a real HTA model needs (the reasons are in docs/limits.md, "Limits
and bad input") and can be raised in a config's ``limits:`` block or on the command line
(``--max-cycles N``, ``--limit NAME=VALUE``).

Precedence: command-line flag > the config's ``limits:`` > the defaults below.  The YAML
limits (file size, nodes, depth) of the config file itself can only be raised by a flag,
since they apply before the config is read.
"""

from __future__ import annotations

import contextvars
import math
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace

from ces.errors import CesError


@dataclass(frozen=True)
class Limits:
    max_cycles: int = 100_000          # 100 years of weekly cycles is 5,218; daily 36,525
    max_cells: int = 400_000_000       # cycles × states × draws-per-chunk (≈ 3.2 GB of float64)
    max_wtp_points: int = 100_000      # points of a WTP grid
    max_residence: int = 10_000        # tunnel length (cycles tracked in one state)
    max_states: int = 100_000          # states after tunnel expansion
    max_parameters: int = 100_000      # parameters of a model (plus config overrides)
    max_file_mb: float = 64.0          # any YAML, CSV table or draws file
    max_yaml_nodes: int = 2_000_000    # YAML nodes after alias expansion (alias bombs)
    max_yaml_depth: int = 100          # nesting depth of YAML mappings/lists
    max_expr_depth: int = 100          # nesting depth of one expression
    max_draws: int = 100_000_000       # PSA draws (the per-draw totals are kept in memory)
    max_payment_years: int = 1_000     # years of a payment schedule (instalments n, rebate and stage years)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


DEFAULTS = Limits()
_flags: contextvars.ContextVar[dict] = contextvars.ContextVar("ces_limit_flags", default={})
_config: contextvars.ContextVar[dict] = contextvars.ContextVar("ces_limit_config", default={})


def _coerce(name: str, value, where: str) -> float | int:
    kind = type(getattr(DEFAULTS, name))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise CesError(f"{where}: limit `{name}` must be a positive number, got {value!r}")
    return kind(value)


def parse_flags(max_cycles: int | None, limit_flags: list[str] | None) -> dict:
    """``--max-cycles N`` and ``--limit NAME=VALUE`` → {name: value}."""
    out: dict = {}
    if max_cycles is not None:
        out["max_cycles"] = _coerce("max_cycles", max_cycles, "--max-cycles")
    for text in limit_flags or []:
        name, sep, val = text.partition("=")
        name = name.strip()
        if not sep or name not in Limits.names():
            raise CesError(f"--limit must be NAME=VALUE with NAME one of {', '.join(Limits.names())}, got `{text}`")
        try:
            num = float(val)
        except ValueError:
            raise CesError(f"--limit {name}: `{val}` is not a number") from None
        out[name] = _coerce(name, num, f"--limit {name}")
    return out


@contextmanager
def flags(values: dict):
    """Apply command-line limits for the duration of one command."""
    tok = _flags.set(dict(values))
    tok2 = _config.set({})
    try:
        yield
    finally:
        _flags.reset(tok)
        _config.reset(tok2)


def set_config_limits(block: dict | None, error, reset: bool = False) -> None:
    """Adopt a config's ``limits:`` block; ``error(key, msg)`` builds a located error.

    ``reset=True`` forgets the limits of a config loaded earlier (each load starts afresh)."""
    if reset:
        _config.set({})
    if not block:
        return
    if not isinstance(block, dict):
        raise error(None, f"`limits` must be a mapping of {', '.join(Limits.names())}")
    vals = {}
    for k, v in block.items():
        if k not in Limits.names():
            raise error(k, f"unknown limit `{k}` (allowed: {', '.join(Limits.names())})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise error(k, f"limit `{k}` must be a positive number, got {v!r}")
        vals[k] = type(getattr(DEFAULTS, k))(v)
    _config.set({**_config.get(), **vals})


def current() -> Limits:
    return replace(DEFAULTS, **{**_config.get(), **_flags.get()})


def how_to_raise(name: str) -> str:
    flag = "--max-cycles N" if name == "max_cycles" else f"--limit {name}=N"
    return f"raise it with `limits: {{{name}: N}}` in the config or {flag}"


def check(name: str, value: float, what: str, *, file=None, path=None, line=None) -> None:
    """Raise a located CesError if ``value`` exceeds the limit ``name``."""
    lim = getattr(current(), name)
    if not (value <= lim):
        shown = f"{value:,.0f}" if isinstance(value, (int, float)) and math.isfinite(value) else str(value)
        raise CesError(f"{what} is {shown}, above the limit {name} = {lim:,}; {how_to_raise(name)}",
                       file=file, path=path, line=line)
