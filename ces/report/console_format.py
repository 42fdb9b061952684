"""Shared pieces of the terminal tables: number formatting, strategy and perspective labels, the console,
the CEAC sparkline.  Formatting only."""

from __future__ import annotations

import math

from rich.console import Console


def _num(x, digits=0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return f"{x:,.{digits}f}"


def strategy_label(run, name: str) -> str:
    """The strategy's `label:` (its key when none is given)."""
    cs = run.model.strategies.get(name)
    return cs.label if cs is not None and cs.label else str(name)


def make_console() -> Console:
    """A console that does not truncate wide tables when output is piped to a file."""
    c = Console()
    return c if c.is_terminal else Console(width=160)


_PERSPECTIVE_TITLES = {
    "payer": "Healthcare payer perspective",
    "societal": "Societal perspective",
    "societal_with_consumption": "Societal perspective with consumption in added life-years",
}


def perspective_title(run, key: str) -> str:
    """Label of a perspective for table titles, marked when it is the base case."""
    p = {x.key: x for x in getattr(run, "perspective_list", [])}.get(key)
    title = _PERSPECTIVE_TITLES.get(key) or (f"Perspective: {p.label}" if p else key)
    return title + (" (base case)" if key == getattr(run, "base_perspective", "payer") else "")


BLOCKS = " ▁▂▃▄▅▆▇█"


def ceac_sparkline(probs) -> str:
    """One character per WTP: the CEAC probability as a block height (0 → ' ', 1 → '█')."""
    return "".join(BLOCKS[min(8, int(round(float(p) * 8)))] for p in probs)
