"""The cohort model: the one interface the pipeline, the studies, the executors and the bench use.

``CohortModel.from_loaded(loaded)`` compiles a loaded model file (:mod:`ces.engine.build`, the strategies
by :mod:`ces.engine.strategy`); ``run_strategy`` runs one strategy for a chunk of draws and returns a
:class:`StrategyResult`.  Per strategy: parameters (base values or a chunk of PSA draws) on the
transition grid (cycles 1..n) and the value grid (periods 0..n) → state values V, discount factors
(:mod:`ces.engine.rewards`) → the Markov trace (:mod:`ces.engine.markov`) or the PSM occupancy
(:mod:`ces.engine.partitioned`) → the reward kernel → totals per reward stream, plus one-off costs at
time 0.  Reward streams: one per cost category, then ``qaly`` (utility × Δ per cycle) and ``ly``
(Δ per cycle in every non-dead state).  Tunnel states (``max_residence``) are expanded into sub-states
X#1..X#L before the kernel runs, and folded back for reporting (:mod:`ces.engine.checks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ces.engine import conventions as cv
from ces.engine.build import build_model, mortality
from ces.engine.checks import ROW_TOL, fold_trace
from ces.engine.evaluate import ParamEvaluator
from ces.engine.kernels import accumulate_rewards
from ces.engine.markov import REST, markov_path_totals, pack_entries
from ces.engine.partitioned import psm_path, psm_path_totals
from ces.engine.rewards import initial_costs, state_values, stream_discounts
from ces.engine.strategy import CompiledStrategy, curve_exprs, is_rest
from ces.modelfile.loader import Loaded

__all__ = ["CohortModel", "CompiledStrategy", "StrategyResult", "pack_entries", "REST", "ROW_TOL"]

_curve_exprs, _is_rest = curve_exprs, is_rest  # older names, kept for callers


@dataclass
class StrategyResult:
    """Totals per draw and reward stream; trace and periods only when requested."""

    totals: np.ndarray  # (D, R) discounted, incl. one-off costs at time 0
    totals_undisc: np.ndarray  # (D, R)
    trace: np.ndarray | None = None  # (D, n+1, S_reported)
    periods: np.ndarray | None = None  # (D, R, n+1) undiscounted per period (no one-offs)
    initial: np.ndarray | None = None  # (D, R) one-off costs at time 0
    crossing: Any = None  # PSM: CrossingInfo (curves capped by the crossing policy)
    disc: np.ndarray | None = None  # (R, n+1) discount factor d_k of each stream and period (keep only)
    weights: tuple | None = None  # (α, β) counting weights, each (n+1,) (keep only; see conventions.py)


@dataclass
class CohortModel:
    loaded: Loaded
    n_cycles: int = 0
    cycle_years: float = 1.0
    states: list = field(default_factory=list)  # reported states
    expanded: list = field(default_factory=list)  # (state, residence) per kernel state
    cost_streams: list = field(default_factory=list)
    streams: list = field(default_factory=list)
    strategies: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    known: frozenset = frozenset()
    model_defs: dict = field(default_factory=dict)  # the model's parameters, without strategy overrides
    data_files: list = field(default_factory=list)  # every data file read (for the run manifest)
    payer_streams: list = field(default_factory=list)  # cost categories of the healthcare payer
    indirect: dict = field(default_factory=dict)  # state -> {societal category: expression}
    friction: list = field(default_factory=list)  # (from, to, expression): friction-cost one-offs on moves
    spillover: dict = field(default_factory=dict)  # state -> caregiver QALY change per cycle (expression)
    _model_evaluator: Any = None

    @classmethod
    def from_loaded(cls, loaded: Loaded, front_end: bool = True) -> "CohortModel":
        """Compile a loaded model file: time grid, functions, states, streams, then each selected strategy.

        ``front_end``: first the model-kind checks, and a model with a decision tree becomes a
        ces.engine.tree.TreeModel (same interface) whose terminals run this model."""
        if front_end:
            from ces.engine.tree import front_end_model

            tree_model = front_end_model(loaded)
            if tree_model is not None:
                return tree_model
        m = cls(loaded)
        build_model(m)
        return m

    def _mortality(self, table, age):
        """Expression function mortality("us_2021", age) (:func:`ces.engine.build.mortality`)."""
        return mortality(self, table, age)

    def fold_trace(self, trace: np.ndarray) -> np.ndarray:
        """Sum tunnel sub-states back into their states: (D, n+1, S_expanded) → (D, n+1, S)."""
        return fold_trace(self, trace)

    def env(self, cycles: np.ndarray, times: np.ndarray, strategy: str | None = None) -> dict:
        """The reserved variables of a grid: cycle, time (years), cycle_length, and age = start_age + time."""
        spec = self.loaded.model
        env = {"cycle": cycles.reshape(1, -1), "time": times.reshape(1, -1), "cycle_length": self.cycle_years}
        if strategy is not None:
            env["_strategy"] = strategy  # for error messages only (expression names cannot start with _)
        if spec.start_age is not None:
            env["age"] = spec.start_age + env["time"]
        return env

    def shared_values(self, dr: dict | None, method: str) -> dict:
        """Parameter values of the model (without strategy overrides) on both grids, to share across strategies."""
        n, dy = self.n_cycles, self.cycle_years
        if self._model_evaluator is None:
            self._model_evaluator = ParamEvaluator(self.model_defs, self.functions, self.known)
        ev = self._model_evaluator
        need_t = set().union(*(cs.need_t - cs.affected for cs in self.strategies.values()))
        need_v = set().union(*(cs.need_v - cs.affected for cs in self.strategies.values()))
        tcyc, ttime = cv.transition_cycles_and_times(n, dy)
        vcyc, vtime = cv.period_cycles_and_times(method, n, dy)
        return {"t": ev.evaluate(self.env(tcyc, ttime), dr, needed=ev.closure(need_t)),
                "v": ev.evaluate(self.env(vcyc, vtime), dr, needed=ev.closure(need_v))}

    def run_strategy(self, sname: str, draws: dict | None = None, n_draws: int = 1, keep: bool = False,
                     draw_offset: int = 0, shared: dict | None = None) -> StrategyResult:
        """Run one strategy for ``n_draws`` draws (``draws``: sampled parameter values, arrays (D,)).

        ``shared``: a dict reused across the strategies of one chunk; values of parameters that
        no strategy override touches are evaluated once into it.
        """
        cs = self.strategies[sname]
        spec = self.loaded.model
        n, dy = self.n_cycles, self.cycle_years
        D = n_draws
        dr = None if draws is None else {k: np.asarray(v, dtype=float).reshape(-1, 1) for k, v in draws.items()
                                          if k in cs.params}
        method = spec.correction
        tcyc, ttime = cv.transition_cycles_and_times(n, dy)
        vcyc, vtime = cv.period_cycles_and_times(method, n, dy)
        if shared is not None:
            if not shared:
                shared.update(self.shared_values(dr, method))
            tenv = cs.evaluator.evaluate(self.env(tcyc, ttime, sname), dr, needed=cs.need_t, reuse=shared["t"],
                                         recompute=cs.affected)
            venv = cs.evaluator.evaluate(self.env(vcyc, vtime, sname), dr, needed=cs.need_v, reuse=shared["v"],
                                         recompute=cs.affected)
        else:
            tenv = cs.evaluator.evaluate(self.env(tcyc, ttime, sname), dr, needed=cs.need_t)
            venv = cs.evaluator.evaluate(self.env(vcyc, vtime, sname), dr, needed=cs.need_v)
        S = len(self.expanded)
        R = len(self.streams)
        V = state_values(self, cs, venv, D, n, dr)
        alpha, beta = cv.counting_weights(method, n)
        disc = stream_discounts(self, method)
        crossing = None
        fused = None  # trace and rewards in one pass (one kernel to compile and load for a Markov model)
        if spec.kind != "psm":  # α_0 = 0 for every counting method (conventions.py)
            totals, totals_u, trace, periods = markov_path_totals(self, cs, tenv, venv, D, dr, draw_offset, V,
                                                                  alpha, beta, disc, keep)
            fused = True
        elif not keep and len(spec.partition) == 2 and not cs.curve_costs and not cs.entry_rewards and D > 1:
            fused = psm_path_totals(self, cs, venv, D, shared, V, alpha, beta, disc)  # PSA: only the totals
            if fused is not None:
                totals, totals_u, crossing = fused
        if fused is None:
            trace, extra, crossing = psm_path(self, cs, tenv, venv, D, draw_offset, shared)
            totals = np.empty((D, R))
            totals_u = np.empty((D, R))
            periods = np.empty((D if keep else 0, R, n + 1))
            accumulate_rewards(trace, V, alpha, beta, disc, extra, totals, totals_u, periods)
        ic = initial_costs(self, cs, venv, D)
        totals += ic
        totals_u += ic
        res = StrategyResult(totals, totals_u, initial=ic, crossing=crossing)
        if keep:
            res.trace = fold_trace(self, trace[:, :, :S])
            res.periods = periods
            res.disc, res.weights = disc, (alpha, beta)
        return res
