"""PSA result tables from per-draw totals: summaries, probabilistic ICERs, CEAC/CEAF, EVPI, convergence.

Every table takes a ``perspective`` (:mod:`ces.economics.perspectives`): its cost is the sum of the
perspective's cost categories per draw; ``None`` is the healthcare payer.  The same functions run for
every perspective, from the same draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ces.analysis.icer import calculate_icers
from ces.economics.indirect import CAREGIVER_QALY
from ces.analysis.psa import ceaf_from, convergence_check, nmb_statistics, population_evpi, summarise_draws

#: Default precision of the convergence check: 1 % of |expected NMB| of the optimal strategy,
#: floored at one currency unit (documented in docs/psa.md, Convergence).
DEFAULT_RELATIVE_PRECISION = 0.01


def _cost(psa, perspective) -> np.ndarray:
    return psa.matrix("cost") if perspective is None else psa.costs(perspective.categories)


def summary_table(psa, perspective=None) -> pd.DataFrame:
    """Mean, sd, 95 % interval (2.5th/97.5th percentiles) and MCSE of cost, QALYs and LYs per strategy."""
    rows = []
    for stream in ("cost", "qaly", "ly"):
        m = _cost(psa, perspective) if stream == "cost" else psa.matrix(stream)
        s = summarise_draws(m)
        for j, name in enumerate(psa.strategies):
            rows.append({"strategy": name, "outcome": stream, "mean": s["mean"][j], "sd": s["sd"][j],
                         "lower": s["lower"][j], "upper": s["upper"][j], "mcse": s["mcse"][j]})
    return pd.DataFrame(rows)


def probabilistic_icers(psa, effect: str, perspective=None) -> pd.DataFrame:
    """Incremental analysis on the PSA means (expected costs and effects)."""
    return calculate_icers(psa.strategies, _cost(psa, perspective).mean(axis=0), psa.matrix(effect).mean(axis=0))


def wtp_statistics(psa, effect: str, wtps, perspective=None) -> dict:
    """:func:`ces.analysis.psa.nmb_statistics` of the perspective's cost and ``effect`` at ``wtps``: the one
    computation behind :func:`wtp_table` and :func:`convergence_table`."""
    return nmb_statistics(_cost(psa, perspective), psa.matrix(effect), np.asarray(wtps, dtype=float))


def wtp_table(psa, effect: str, wtps, population: float | None = None, years: int | None = None,
              discount_rate: float = 0.0, perspective=None, stats: dict | None = None) -> pd.DataFrame:
    """One row per WTP: optimal strategy (highest expected NMB), its expected NMB, CEAC of each strategy,
    CEAF probability, per-person EVPI and (if a population is given) population EVPI.

    ``stats``: :func:`wtp_statistics` of the same PSA, effect, WTPs and perspective, if already computed."""
    if stats is None:
        stats = wtp_statistics(psa, effect, wtps, perspective)
    w = np.asarray(wtps, dtype=float)
    ce, enmb, ev = stats["ceac"], stats["enmb"], stats["evpi"]
    opt, prob = ceaf_from(enmb, ce)  # = ceaf(c, e, w), without computing both again
    rows = []
    for i, lam in enumerate(w):
        row = {"wtp": float(lam), "optimal": psa.strategies[int(opt[i])], "expected_nmb": float(enmb[i, opt[i]]),
               "ceaf": float(prob[i]), "evpi": float(ev[i])}
        if population is not None and years is not None:
            row["evpi_population"] = float(population_evpi(ev[i], population, years, discount_rate))
        for j, s in enumerate(psa.strategies):
            row[f"ceac.{s}"] = float(ce[i, j])
        for j, s in enumerate(psa.strategies):
            row[f"nmb.{s}"] = float(enmb[i, j])
        rows.append(row)
    return pd.DataFrame(rows)


def convergence_table(psa, effect: str, wtps, precision: float | None = None, perspective=None,
                      stats: dict | None = None) -> pd.DataFrame:
    """Monte Carlo check per WTP; default precision = 1 % of |expected NMB| of the optimal strategy (≥ 1).

    ``stats``: :func:`wtp_statistics` of the same arguments if already computed (e.g. for :func:`wtp_table`)."""
    c, e = _cost(psa, perspective), psa.matrix(effect)
    w = np.asarray(wtps, dtype=float)
    if stats is None:
        stats = wtp_statistics(psa, effect, wtps, perspective)
    precs = [precision if precision is not None else max(1.0, DEFAULT_RELATIVE_PRECISION * float(np.max(np.abs(row))))
             for row in stats["enmb"]]
    t = convergence_check(c, e, w, precs, stats)
    t["precision"] = precs
    t["best"] = [psa.strategies[b] for b in t["best"]]
    t["second"] = [psa.strategies[b] if b >= 0 else None for b in t["second"]]
    return t


def draws_table(psa, perspectives: list = ()) -> pd.DataFrame:
    """Per-draw results in long-wide form: draw, strategy, cost (payer), the cost of every other
    perspective (``cost_societal``, ...), each cost category, qaly, ly, then one ``param.NAME`` column
    per sampled parameter (the same value in every strategy's row of a draw), so that users can run
    their own regression or EVPPI on the draws."""
    frames = []
    samples = psa.samples if psa.sample_names else None  # generated again (not kept by the PSA): once here
    for s in psa.strategies:
        t = psa.totals[s]
        df = pd.DataFrame({"draw": np.arange(1, psa.n_draws + 1), "strategy": s})
        idx = [psa.streams.index(x) for x in psa.cost_streams]
        df["cost"] = t[:, idx].sum(axis=1)
        for p in perspectives:
            if p.cost_column != "cost":
                df[p.cost_column] = t[:, [psa.streams.index(x) for x in p.categories]].sum(axis=1)
        for x in [c for c in psa.streams if c not in ("qaly", "ly", CAREGIVER_QALY)]:
            df[f"cost.{x}"] = t[:, psa.streams.index(x)]
        df["qaly"] = t[:, psa.streams.index("qaly")]
        df["ly"] = t[:, psa.streams.index("ly")]
        if CAREGIVER_QALY in psa.streams:
            df[CAREGIVER_QALY] = t[:, psa.streams.index(CAREGIVER_QALY)]
        if samples is not None:
            df = pd.concat([df, pd.DataFrame(samples, columns=[f"param.{n}" for n in psa.sample_names])], axis=1)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
