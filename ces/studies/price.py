"""``ces price``: the threshold price of a cost parameter, the value p* at which the ICER equals a WTP.

Two deterministic runs of the config (at the parameter's base value p0 and at p0 + 1) and the
linear formula of :mod:`ces.economics.price`:  p* = p0 + (λ·ΔE − ΔC(p0)) / b,  b = ΔC(p0 + 1) − ΔC(p0).
"""

from __future__ import annotations

from ces.economics.price import at_wtp, price_line
from ces.pipeline import run


def threshold_price(path, parameter: str, wtp: float, strategy: str | None = None, comparator: str | None = None,
                    cost_column: str = "cost") -> dict:
    """p* of ``parameter`` at WTP ``wtp`` for ``strategy`` vs ``comparator`` (default: last vs first) under
    the perspective whose cost is ``cost_column`` (:func:`ces.economics.price.at_wtp`)."""
    line = price_line(run(path, psa=False), lambda over: run(path, psa=False, overrides=over, checks=False),
                      parameter, [cost_column], strategy, comparator)
    return at_wtp(line, cost_column, wtp)
