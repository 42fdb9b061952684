"""The deterministic (base-case) run: one draw at the parameters' base values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ces.engine.model import CohortModel, StrategyResult


@dataclass
class BaseCase:
    model: CohortModel
    results: dict  # strategy -> StrategyResult (D = 1, with trace and periods)

    def totals(self, undiscounted: bool = False) -> dict:
        """strategy -> {stream: value}, plus `cost` total over categories."""
        out = {}
        for s, r in self.results.items():
            arr = (r.totals_undisc if undiscounted else r.totals)[0]
            row = {st: float(arr[i]) for i, st in enumerate(self.model.streams)}
            row["total_cost"] = float(sum(arr[self.model.streams.index(c)] for c in self.model.cost_streams))
            out[s] = row
        return out


def run_base_case(model: CohortModel) -> BaseCase:
    return BaseCase(model, {s: model.run_strategy(s, keep=True) for s in model.strategies})


def effect_and_cost(base: BaseCase, effect: str) -> tuple[list, np.ndarray, np.ndarray]:
    tot = base.totals()
    names = list(tot)
    return names, np.array([tot[s]["total_cost"] for s in names]), np.array([tot[s][effect] for s in names])
