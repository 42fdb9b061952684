"""A second pass over the PSA draws that keeps each draw's trace and per-period costs, chunk by chunk.

``ces.engine.psa.run_psa`` keeps only per-draw totals.  Payment models that depend on the trace
(refunds for non-response, instalments that stop at death, staged payments) and the probabilistic
budget impact need each draw's occupancy and yearly costs, so they re-evaluate the same draws
(same seed, same sampling keys, so draw i is the same parameter set as in the PSA) with
``keep=True``, one chunk at a time (memory bounded by the chunk), and reduce each chunk at once.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ces.engine.model import CohortModel
from ces.engine.psa import chunk_results


def for_each_chunk(model: CohortModel, n_draws: int, seed: int, chunk: int, reduce: Callable) -> None:
    """Call ``reduce(start, stop, {strategy: StrategyResult with trace and periods})`` per chunk."""
    for start, stop, _, res in chunk_results(model, n_draws, seed, chunk, keep=True):
        reduce(start, stop, res)


def annual_streams_draws(periods: np.ndarray, initial: np.ndarray, period_years: np.ndarray, n_years: int) -> np.ndarray:
    """(D, R, n_years) yearly undiscounted costs per draw: periods (D, R, n+1) summed into whole years
    by ``period_years``; one-off costs (D, R) in year 0 (as ``ces.analysis.budget.annual_streams``)."""
    D, R, _ = periods.shape
    out = np.zeros((D, R, n_years))
    keep = period_years < n_years
    idx = period_years[keep].astype(int)
    for y in np.unique(idx):
        out[:, :, y] = periods[:, :, np.flatnonzero(keep)[idx == y]].sum(axis=2)
    out[:, :, 0] += initial
    return out
