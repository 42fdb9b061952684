"""Parse durations: cycle lengths and horizons.

Conventions (pinned): 1 year = 365.25 days; 1 month = 1/12 year; 1 week = 7 days
= 7/365.25 year; 1 day = 1/365.25 year.  A cycle length is always converted to
years, which is the unit of ``time``, ``age`` and of annual rates and discount rates.
"""

from __future__ import annotations

import math
import re

YEARS_PER_UNIT = {
    "year": 1.0, "years": 1.0, "yr": 1.0, "y": 1.0,
    "month": 1.0 / 12.0, "months": 1.0 / 12.0,
    "week": 7.0 / 365.25, "weeks": 7.0 / 365.25,
    "day": 1.0 / 365.25, "days": 1.0 / 365.25,
}

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)?\s*([A-Za-z]+)\s*$")


def parse_cycle(value) -> float:
    """Cycle length in years from ``"1 year"``, ``"1 month"``, ``"4 weeks"``, ``"28 days"`` or a number of years.

    Raises ValueError with an explanation on anything else (the caller adds the location).
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration such as `1 year`, `1 month`, `4 weeks` or `28 days`")
    if isinstance(value, (int, float)):
        years = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m or m.group(2).lower() not in YEARS_PER_UNIT:
            if isinstance(value, str) and value.strip().startswith("-"):
                raise ValueError(f"cycle length must be positive, got `{value}`")
            raise ValueError(f"`{value}` is not a duration; use `<number> year|month|week|day` (e.g. `1 month`)")
        years = float(m.group(1) or 1.0) * YEARS_PER_UNIT[m.group(2).lower()]
    if not math.isfinite(years) or years <= 0:
        raise ValueError(f"cycle length must be positive, got `{value}`")
    return years


def parse_horizon(value, cycle_years: float, start_age: float | None, max_age: float) -> int:
    """Number of cycles from ``"20 cycles"``, ``"40 years"``, ``"lifetime"`` or an integer.

    ``lifetime`` runs until the cohort reaches ``max_age``: n = ceil((max_age − start_age)/Δ).
    A horizon in years must be a whole number of cycles (within 1e-9), otherwise it is an error.
    """
    if isinstance(value, bool):
        raise ValueError("expected `N cycles`, `N years` or `lifetime`")
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        raise ValueError(f"horizon `{value}` is ambiguous; write `{value} years` or `{int(value)} cycles`")
    elif str(value).strip().lower() == "lifetime":
        if start_age is None:
            raise ValueError("`lifetime` horizon needs `start_age`")
        n = int(math.ceil((max_age - start_age) / cycle_years - 1e-9))
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"`{value}` is not a horizon; use `N cycles`, `N years`, `N months` or `lifetime`")
        num = float(m.group(1) or 1.0)
        unit = m.group(2).lower()
        if unit in ("cycle", "cycles"):
            if num != int(num):
                raise ValueError(f"number of cycles must be whole, got `{value}`")
            n = int(num)
        elif unit in YEARS_PER_UNIT:
            cycles = num * YEARS_PER_UNIT[unit] / cycle_years
            n = int(round(cycles))
            if abs(cycles - n) > 1e-9 * max(1.0, cycles):
                raise ValueError(f"horizon `{value}` is not a whole number of cycles ({cycles:g})")
        else:
            raise ValueError(f"unknown unit `{unit}` in horizon; use cycles, years, months, weeks, days or `lifetime`")
    if n < 1:
        raise ValueError(f"horizon must be at least 1 cycle, got `{value}`")
    return n
