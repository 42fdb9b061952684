"""Probabilistic sensitivity analysis: sample once, evaluate in chunks, run the same kernels.

The draw matrix is defined by (seed, parameter, draw index) only (see
:mod:`ces.params.sampling`), so any chunk size gives the same draws; each draw's
kernel arithmetic is sequential, so any thread count gives the same per-draw
results.  Memory is bounded by ``chunk`` (arrays are draws × cycles per chunk);
only the per-draw totals (draws × streams per strategy) and the sampled parameter values (draws ×
sampled scalars, ``PsaResult.samples`` with ``sample_names``; for regression metamodels and EVPPI) are
kept.  Every perspective's cost is a sum of stream columns (``PsaResult.costs``), so no perspective
needs a simulation of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ces.engine.model import CohortModel
from ces.engine.psm import CrossingInfo
from ces.params.sampling import sample_draws


@dataclass
class PsaResult:
    strategies: list
    streams: list
    cost_streams: list
    totals: dict  # strategy -> (n_draws, R) discounted
    totals_undisc: dict  # strategy -> (n_draws, R)
    n_draws: int
    seed: int
    seconds: float = 0.0
    chunk: int = 0
    crossing: dict = field(default_factory=dict)  # PSM: strategy -> CrossingInfo summed over draws
    sample_names: list = field(default_factory=list)  # one name per sampled parameter column
    samples: np.ndarray | None = None  # (n_draws, n_sampled): the sampled parameter values per draw

    def matrix(self, stream: str) -> np.ndarray:
        """(n_draws, n_strategies) of one stream, or of the payer's total cost for ``cost``."""
        if stream == "cost":
            return self.costs(self.cost_streams)
        i = self.streams.index(stream)
        return np.column_stack([self.totals[s][:, i] for s in self.strategies])

    def costs(self, categories) -> np.ndarray:
        """(n_draws, n_strategies): the sum of the given cost categories per draw (a perspective's cost)."""
        idx = [self.streams.index(c) for c in categories]
        return np.column_stack([self.totals[s][:, idx].sum(axis=1) for s in self.strategies])


def distribution_keys(model: CohortModel) -> dict:
    """Sampling key → distribution over all strategies (a joint entry is sampled once)."""
    out = {}
    for cs in model.strategies.values():
        for d in cs.params.values():
            if d.dist is not None:
                out[d.group or d.name] = d.dist
    return out


def strategy_draws(cs, samples: dict) -> dict:
    """Parameter name → draws (n,) for one strategy, from the chunk's samples."""
    draws = {}
    for d in cs.params.values():
        if d.dist is None:
            continue
        arr = samples[d.group or d.name]
        draws[d.name] = arr[:, d.column] if d.column is not None else arr
    return draws


def run_psa(model: CohortModel, n_draws: int, seed: int, chunk: int = 2000,
            on_chunk: Callable[[int, int], None] | None = None) -> PsaResult:
    """Run ``n_draws`` PSA draws of every strategy; ``on_chunk(done, total)`` reports progress."""
    t0 = time.perf_counter()
    dists = distribution_keys(model)
    R = len(model.streams)
    totals = {s: np.empty((n_draws, R)) for s in model.strategies}
    totals_u = {s: np.empty((n_draws, R)) for s in model.strategies}
    crossing = {}
    cols: list = []
    params = None
    for start in range(0, n_draws, chunk):
        stop = min(n_draws, start + chunk)
        samples = sample_draws(dists, seed, start, stop)
        if params is None:  # the sampled-parameter matrix, one column per scalar draw (for EVPPI, regression)
            for name, a in samples.items():
                cols += [name] if a.ndim == 1 else [f"{name}[{j}]" for j in range(a.shape[1])]
            params = np.empty((n_draws, len(cols)))
        if cols:
            params[start:stop] = np.hstack([a[:, None] if a.ndim == 1 else a for a in samples.values()])
        shared: dict = {}  # parameter values common to all strategies, evaluated once per chunk
        for s, cs in model.strategies.items():
            res = model.run_strategy(s, strategy_draws(cs, samples), n_draws=stop - start, draw_offset=start,
                                     shared=shared)
            totals[s][start:stop] = res.totals
            totals_u[s][start:stop] = res.totals_undisc
            if res.crossing is not None:
                acc = crossing.setdefault(s, CrossingInfo())
                acc.points += res.crossing.points
                acc.draws += res.crossing.draws
        if on_chunk is not None:
            on_chunk(stop, n_draws)
    return PsaResult(list(model.strategies), list(model.streams), list(model.payer_streams), totals, totals_u,
                     n_draws, seed, time.perf_counter() - t0, chunk, crossing=crossing, sample_names=cols,
                     samples=params if params is not None else np.empty((n_draws, 0)))
