"""Vectorised evaluation of a parameter set over draws and cycles.

Values are numpy arrays broadcastable to (n_draws, n_periods): (1, 1) or a float
for constants, (D, 1) for sampled or draw-dependent values, (1, K) / (D, K) for
time-dependent ones.  Time variables are provided by the caller as (1, K) arrays.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ces.spec.expr import RESERVED, dependency_order

TIME_VARS = frozenset({"cycle", "time", "age"})


class ParamEvaluator:
    """Evaluates parameters in dependency order; knows which depend on time or residence."""

    def __init__(self, defs: Mapping, functions: Mapping, known: frozenset):
        self.defs = dict(defs)
        self.functions = dict(functions)
        exprs = {n: d.expr for n, d in self.defs.items()}
        where = {n: d.where for n, d in self.defs.items()}
        self.order = dependency_order(exprs, known | frozenset(functions), where)
        # transitive dependence on the reserved variables
        self.uses: dict[str, frozenset] = {}
        for n in self.order:
            deps = set(exprs[n].names & RESERVED)
            for m in exprs[n].names:
                if m in self.uses:
                    deps |= self.uses[m]
            self.uses[n] = frozenset(deps)

    def evaluate(self, env: Mapping, draws: Mapping | None = None, base: Mapping | None = None,
                 only_if_uses: str | None = None) -> dict:
        """Evaluate every parameter with ``env`` (time variables, cycle_length, residence).

        ``draws``: name → array (D, 1) replacing the expression of sampled parameters.
        ``base`` + ``only_if_uses``: reuse values from ``base`` for parameters that do not
        depend on the variable ``only_if_uses`` (e.g. residence).
        """
        values: dict = dict(env)
        for n in self.order:
            if base is not None and only_if_uses is not None and only_if_uses not in self.uses[n]:
                values[n] = base[n]
                continue
            if "residence" in self.uses[n] and "residence" not in env:
                continue  # only defined inside tunnel states, evaluated per residence
            if draws is not None and n in draws:
                values[n] = draws[n]
            else:
                values[n] = self.defs[n].expr.evaluate(values, self.functions)
        return values


def as_array(x) -> np.ndarray:
    """A value as a float array of ndim 2 (draws × periods)."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(-1, 1)
    return a


def uses_any(expr, evaluator: ParamEvaluator, var: str) -> bool:
    """Does ``expr`` depend on ``var`` directly or through a parameter?"""
    if var in expr.names:
        return True
    return any(var in evaluator.uses.get(n, ()) for n in expr.names)
