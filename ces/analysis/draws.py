"""A second pass over the PSA draws that keeps each draw's trace and per-period costs, chunk by chunk
(:func:`psa_draw_pass`: per-draw payments and the probabilistic budget impact).

``ces.engine.psa.run_psa`` keeps only per-draw totals.  Payment models that depend on the trace
(refunds for non-response, instalments that stop at death, staged payments) and the probabilistic
budget impact need each draw's occupancy and yearly costs, so they re-evaluate the same draws
(same seed, same sampling keys, so draw i is the same parameter set as in the PSA) with
``keep=True``, one chunk at a time (memory bounded by the chunk), and reduce each chunk at once.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ces.analysis.budget import budget_draws, interval_table
from ces.analysis.payment import discounted_total, occupancy_reader, schedule
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


def psa_draw_pass(res, opts) -> None:
    """Per-draw payment adjustments and the probabilistic budget impact, from each draw's own trace and costs.

    Payment: the CEA adjustment Σ_j a_j·d(j) − P of each draw replaces the price in that draw's totals
    (a_j from the draw's trace: survival, response states).  BIA (``budget_impact.psa``): each draw's
    yearly per-patient costs, with the payment stream of that draw, give budgets of both worlds; the
    table holds the mean and 95 % interval of the net impact per year (ces.analysis.budget).

    ``res``: the run result (:class:`ces.analysis.results.RunResult`) with its PSA, updated in place;
    ``opts``: its PSA options (``seed`` and ``chunk``: the same draws as the PSA, chunk by chunk)."""
    loaded, model, pay = res.loaded, res.model, res.payment
    b = loaded.config.budget_impact
    want_bia = b is not None and b.psa and res.bia_inputs is not None
    names = list(model.strategies)
    D = res.psa.n_draws
    dead = [i for i, s in enumerate(model.states) if loaded.model.states[s].dead]
    adj = np.zeros(D)
    rate = float(loaded.model.discount.costs)
    bi = res.bia_inputs
    if want_bia:
        T = b.years
        worlds = {"current": np.zeros((D, T)), "new": np.zeros((D, T))}

    def reduce(start, stop, rs):
        sched = None
        if pay is not None:
            spec = loaded.config.payment
            alive_at, occ_at = occupancy_reader(rs[pay["strategy"]].trace, model.states, dead, model.cycle_years)
            sched = schedule(spec, spec.price, alive_at, occ_at)
            adj[start:stop] = discounted_total(sched, rate) - spec.price
        if want_bia:
            streams = {}
            for s in names:
                st = annual_streams_draws(rs[s].periods[:, bi["idx"]], rs[s].initial[:, bi["idx"]],
                                          bi["period_years"], T)
                if pay is not None and s == pay["strategy"] and pay["category"] in bi["categories"]:
                    k = bi["categories"].index(pay["category"])
                    st[:, k, 0] -= pay["price"]
                    for y, a in sched:
                        if y < T:
                            st[:, k, y] += a
                streams[s] = st.sum(axis=1)
            pa = bi["price_adjust"]
            cur, new = budget_draws(bi["patients"], names, streams, bi["current"], bi["new"], float(b.discount),
                                    (pa[0], pa[2]) if pa is not None else None)
            worlds["current"][start:stop], worlds["new"][start:stop] = cur, new
    for_each_chunk(model, D, opts.seed, opts.chunk, reduce)
    if pay is not None:
        c = model.streams.index(pay["category"])
        res.psa.totals[pay["strategy"]][:, c] += adj
        res.payment["psa_adjustment"] = {"mean": float(adj.mean()), "sd": float(adj.std(ddof=1)) if D > 1 else 0.0}
        res.payment_draws = adj
    if want_bia:
        res.bia_draws = worlds["new"] - worlds["current"]
        res.budget["psa"] = interval_table(res.bia_draws)
