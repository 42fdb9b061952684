"""Vectorised evaluation of a parameter set over draws and cycles.

Values are numpy arrays broadcastable to (n_draws, n_periods): (1, 1) or a float
for constants, (D, 1) for sampled or draw-dependent values, (1, K) / (D, K) for
time-dependent ones.  Time variables are provided by the caller as (1, K) arrays.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ces.modelfile.expr import RESERVED, dependency_order

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

    def closure(self, names) -> set:
        """``names`` plus every parameter they depend on (transitively)."""
        out: set = set()
        stack = [n for n in names if n in self.defs]
        while stack:
            n = stack.pop()
            if n in out:
                continue
            out.add(n)
            stack.extend(m for m in self.defs[n].expr.names if m in self.defs)
        return out

    def dependents(self, names) -> set:
        """``names`` plus every parameter that depends on one of them (transitively)."""
        out = set(names)
        for n in self.order:
            if any(m in out for m in self.defs[n].expr.names):
                out.add(n)
        return out

    def evaluate(self, env: Mapping, draws: Mapping | None = None, needed: set | None = None,
                 reuse: Mapping | None = None, recompute: set | None = None) -> dict:
        """Evaluate the parameters (in dependency order) with ``env`` (time variables, cycle_length, residence).

        ``draws``: name → array (D, 1) replacing the expression of sampled parameters.
        ``needed``: evaluate only these names (a dependency-closed set); default all.
        ``reuse`` + ``recompute``: take the value from ``reuse`` for every name not in ``recompute``
        (values shared between strategies, or between residences of a tunnel state).
        """
        values: dict = dict(env)
        for n in self.order:
            if needed is not None and n not in needed:
                continue
            if reuse is not None and n in reuse and (recompute is None or n not in recompute):
                values[n] = reuse[n]
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


def expr_array(model, expr, env: Mapping) -> np.ndarray:
    """Value of one compiled expression over ``env`` with the model's functions, as a 2-D array (D, K)."""
    return as_array(expr.evaluate(env, model.functions))
