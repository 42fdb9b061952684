"""Probabilistic sensitivity analysis (PSA) summaries.

Pure functions over per-draw arrays ``costs[n_draws, n_strategies]`` and
``effects[n_draws, n_strategies]`` (one row per Monte Carlo draw, one column per
strategy) and a vector of willingness-to-pay (WTP) thresholds ``wtp[n_wtp]``.

Net monetary benefit is ``NMB = effect * wtp - cost`` (Stinnett & Mullahy 1998).  All
WTP-indexed functions loop over the thresholds, so memory stays at
``O(n_draws * n_strategies)``; no ``n_draws x n_strategies x n_wtp`` array is built.  The per-WTP statistics
are computed together by :func:`nmb_statistics` (a compiled pass that sums in numpy's order).

Conventions follow Fenwick, Claxton & Sculpher (2001) for acceptability curves and
the frontier, Claxton (1999) for EVPI, and the BCEA R package (Baio et al.) for the
per-person EVPI estimator; the implementation is our own.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ces.errors import CesError

__all__ = [
    "summarise_draws", "nmb_statistics", "expected_nmb", "ceac", "ceaf", "ceaf_from", "evpi", "population_evpi",
    "mcse_mean_nmb", "convergence_check",
]


# --------------------------------------------------------------------------- helpers

def _draws(values: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise CesError(f"{name} must be numbers") from None
    if arr.ndim != 2:
        raise CesError(f"{name} must be a 2-D array [n_draws, n_strategies], got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise CesError(f"{name} needs at least one draw and one strategy, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise CesError(f"{name} must be finite numbers (no NaN or infinity)")
    return arr


def _pair(costs: ArrayLike, effects: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    c = _draws(costs, "costs")
    e = _draws(effects, "effects")
    if c.shape != e.shape:
        raise CesError(f"costs and effects must have the same shape, got {c.shape} and {e.shape}")
    return c, e


def _wtp(wtp: ArrayLike) -> np.ndarray:
    try:
        w = np.atleast_1d(np.asarray(wtp, dtype=float))
    except (TypeError, ValueError):
        raise CesError("willingness-to-pay values must be numbers") from None
    if w.ndim != 1 or w.size == 0:
        raise CesError(f"willingness-to-pay must be a non-empty 1-D list of values, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise CesError("willingness-to-pay values must be finite")
    if np.any(w < 0):
        raise CesError("willingness-to-pay values must be >= 0")
    return w


def _sd(values: np.ndarray) -> np.ndarray:
    """Sample standard deviation (ddof=1) per column; NaN when there is one draw."""
    if values.shape[0] < 2:
        return np.full(values.shape[1], np.nan)
    return values.std(axis=0, ddof=1)


# ------------------------------------------------------------------------ functions

def summarise_draws(values: ArrayLike) -> dict[str, np.ndarray]:
    """Per-strategy summary of draws ``values[n_draws, n_strategies]``.

    Returns a dict of ``[n_strategies]`` arrays:

    * ``mean`` -- sample mean;
    * ``lower`` / ``upper`` -- 2.5th / 97.5th percentiles (95% percentile interval),
      computed with numpy's default ``"linear"`` interpolation (Hyndman & Fan type 7,
      the same as R's default ``quantile``);
    * ``sd`` -- sample standard deviation (``ddof=1``; NaN for a single draw);
    * ``mcse`` -- Monte Carlo standard error of the mean, ``sd / sqrt(n_draws)``.
    """
    v = _draws(values, "values")
    sd = _sd(v)
    lower, upper = np.percentile(v, [2.5, 97.5], axis=0)  # one partition; the same values as two calls
    return {
        "mean": v.mean(axis=0),
        "lower": lower,
        "upper": upper,
        "sd": sd,
        "mcse": sd / math.sqrt(v.shape[0]),
    }


def nmb_statistics(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike, loss: bool = False) -> dict[str, np.ndarray]:
    """Every per-WTP statistic of NMB = effect·λ − cost that the PSA tables use, in one computation.

    Keys: ``enmb`` expected NMB and ``ceac`` acceptability, ``mcse`` the MCSE of the mean NMB
    (``sd / sqrt(n)``, ``ddof=1``, NaN for one draw), all ``[n_wtp, n_strategies]``; ``evpi``
    (``[n_wtp]``); ``best`` / ``second`` the strategies of highest / second-highest expected NMB
    (stable order: ties toward the lower index; ``second`` = -1 with one strategy) and
    ``mcse_incremental`` the MCSE of their mean per-draw difference (``[n_wtp]``); with ``loss``,
    ``expected_loss`` (``[n_wtp, n_strategies]``; off by default: the PSA tables do not use it, and it costs
    one sum per strategy and draw).  The formulas are those of :func:`expected_nmb`, :func:`ceac`, :func:`evpi`,
    :func:`mcse_mean_nmb`, :func:`convergence_check` and :func:`ces.analysis.voi.expected_loss`.  C-contiguous inputs (as the PSA's matrices) go through the compiled
    :func:`ces.analysis.nmb_kernel.nmb_kernel`, which sums in numpy's order (same bits); others
    through the numpy formulas of :func:`_numpy_statistics`.
    """
    c, e = _pair(costs, effects)
    w = _wtp(wtp)
    if not (c.flags.c_contiguous and e.flags.c_contiguous):
        return _numpy_statistics(c, e, w, loss)
    from ces.analysis.nmb_kernel import nmb_kernel

    W, K = w.size, c.shape[1]
    out = {"enmb": np.empty((W, K)), "ceac": np.empty((W, K)), "evpi": np.empty(W), "mcse": np.empty((W, K)),
           "best": np.empty(W, np.int64), "second": np.empty(W, np.int64), "mcse_incremental": np.empty(W),
           "expected_loss": np.empty((W if loss else 0, K))}
    nmb_kernel(c, e, w, out["enmb"], out["ceac"], out["evpi"], out["mcse"], out["best"], out["second"],
               out["mcse_incremental"], out["expected_loss"])
    return out


def _numpy_statistics(c: np.ndarray, e: np.ndarray, w: np.ndarray, loss: bool = False) -> dict[str, np.ndarray]:
    """:func:`nmb_statistics` by numpy, one WTP at a time (memory ``O(n_draws * n_strategies)``)."""
    n, K = c.shape
    root_n = math.sqrt(n)
    out = {"enmb": np.empty((w.size, K)), "ceac": np.empty((w.size, K)), "evpi": np.empty(w.size),
           "mcse": np.empty((w.size, K)), "best": np.empty(w.size, np.int64), "second": np.empty(w.size, np.int64),
           "mcse_incremental": np.empty(w.size), "expected_loss": np.empty((w.size if loss else 0, K))}
    for i, lam in enumerate(w):
        nmb = e * lam - c
        mean = nmb.mean(axis=0)
        out["enmb"][i] = mean
        out["ceac"][i] = np.bincount(np.argmax(nmb, axis=1), minlength=K) / n
        best_on_average = int(np.argmax(mean))
        out["evpi"][i] = (nmb.max(axis=1) - nmb[:, best_on_average]).mean()
        if loss:
            out["expected_loss"][i] = (nmb.max(axis=1)[:, None] - nmb).mean(axis=0)
        out["mcse"][i] = _sd(nmb) / root_n
        order = np.argsort(-mean, kind="stable")
        out["best"][i] = order[0]
        out["second"][i] = order[1] if K > 1 else -1
        out["mcse_incremental"][i] = (float(_sd((nmb[:, order[0]] - nmb[:, order[1]])[:, None])[0] / root_n)
                                      if K > 1 else float("nan"))
    return out


def expected_nmb(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike) -> np.ndarray:
    """Expected (mean over draws) NMB, ``[n_wtp, n_strategies]``."""
    return nmb_statistics(costs, effects, wtp)["enmb"]


def ceac(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike) -> np.ndarray:
    """Cost-effectiveness acceptability curves, ``[n_wtp, n_strategies]``.

    Entry ``[i, s]`` is the share of draws in which strategy ``s`` has the highest NMB
    at ``wtp[i]`` (Van Hout et al. 1994; Fenwick et al. 2001).  Ties within a draw are
    broken toward the **lowest strategy index** (``numpy.argmax`` semantics), so every
    draw counts for exactly one strategy and each row sums to 1.
    """
    return nmb_statistics(costs, effects, wtp)["ceac"]


def ceaf(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Cost-effectiveness acceptability frontier (Fenwick, Claxton & Sculpher 2001).

    Returns ``(optimal_index[n_wtp], prob[n_wtp])``: at each WTP the strategy with the
    highest *expected* NMB (ties toward the lowest index) and its CEAC value, i.e. the
    probability that the optimal-on-average strategy is the most cost-effective.
    """
    stats = nmb_statistics(costs, effects, wtp)  # expected NMB and CEAC from one computation
    return ceaf_from(stats["enmb"], stats["ceac"])


def ceaf_from(enmb: np.ndarray, curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ceaf` from already computed expected NMBs and CEACs (both ``[n_wtp, n_strategies]``)."""
    optimal = np.argmax(enmb, axis=1)
    return optimal, curves[np.arange(curves.shape[0]), optimal]


def evpi(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike) -> np.ndarray:
    """Per-person expected value of perfect information, ``[n_wtp]``.

    ``EVPI(wtp) = mean_draws(max_s NMB) - max_s mean_draws(NMB)`` (Claxton 1999; the
    estimator used by BCEA).  It is computed, equivalently, as the mean per-draw
    opportunity loss ``mean_draws(max_s NMB - NMB[s*])`` with ``s*`` the strategy of
    highest mean NMB (ties toward the lowest index): every term is >= 0, no large
    numbers cancel, and EVPI is exactly 0 when ``s*`` is best in every draw.
    """
    return nmb_statistics(costs, effects, wtp)["evpi"]


def population_evpi(evpi_pp: ArrayLike, population_per_year: float, years: int,
                    discount_rate: float = 0.0) -> np.ndarray | float:
    """Population EVPI over a decision horizon.

    ``evpi_pp * sum_{t=0}^{years-1} population_per_year / (1 + discount_rate)^t``: a
    constant annual incident population, the first year undiscounted (discounting
    at the start of each year).  ``years`` is a positive integer, ``population_per_year``
    >= 0 and ``discount_rate`` >= 0.  Returns an array shaped like ``evpi_pp`` (a float
    for scalar input).
    """
    e = np.asarray(evpi_pp, dtype=float)
    if not np.all(np.isfinite(e)) or np.any(e < 0):
        raise CesError("per-person EVPI must be finite and >= 0")
    try:
        years_f = float(years)
        population_per_year = float(population_per_year)
        discount_rate = float(discount_rate)
    except (TypeError, ValueError):
        raise CesError("years, population_per_year and discount_rate must be numbers") from None
    if isinstance(years, bool) or not years_f.is_integer() or years_f < 1:
        raise CesError(f"years must be a whole number >= 1, got {years!r}")
    if not math.isfinite(population_per_year) or population_per_year < 0:
        raise CesError(f"population_per_year must be finite and >= 0, got {population_per_year!r}")
    if not math.isfinite(discount_rate) or discount_rate < 0:
        raise CesError(f"discount_rate must be finite and >= 0, got {discount_rate!r}")
    t = np.arange(int(years_f))
    effective_population = float(np.sum(population_per_year / (1.0 + discount_rate) ** t))
    result = e * effective_population
    return float(result) if result.ndim == 0 else result


def mcse_mean_nmb(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike) -> np.ndarray:
    """Monte Carlo standard error of the mean NMB, ``sd(NMB) / sqrt(n_draws)``.

    Shape ``[n_wtp, n_strategies]``; sample sd with ``ddof=1`` (NaN for one draw).
    """
    return nmb_statistics(costs, effects, wtp)["mcse"]


def convergence_check(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike,
                      precision: float, stats: dict | None = None) -> pd.DataFrame:
    """Whether the PSA has enough draws to pin down mean NMBs to ``precision``.

    Rule, for each WTP: take the MCSE (``sd / sqrt(n)``, ``ddof=1``) of the mean NMB
    of every strategy and the MCSE of the mean *incremental* NMB between the two
    strategies with the highest mean NMB (per-draw difference best minus second; ties
    toward the lower index).  The run is ``converged`` when all of them are strictly
    below ``precision`` (an absolute amount in currency units; one number, or one per WTP).  ``mcse_max`` is the
    largest of them, and ``n_needed = ceil(n * (mcse_max / precision)^2)`` is the number
    of draws for which it would reach ``precision`` (MCSE scales as ``1/sqrt(n)``); it
    may be below ``n`` when already converged.  (A relative 1e-12 is removed before the
    ceiling so rounding cannot add a spurious draw.)  With one strategy there is no
    increment (``second`` = -1, ``mcse_incremental`` NaN, ignored).

    Returns a DataFrame with one row per WTP and columns ``wtp, best, second,
    mcse_max_strategy, mcse_incremental, mcse_max, converged, n_draws, n_needed``.
    With a single draw the MCSE is undefined: ``converged`` is False and ``n_needed``
    is -1.  ``stats``: :func:`nmb_statistics` of the same arguments, if already computed.
    """
    c, e = _pair(costs, effects)
    w = _wtp(wtp)
    try:
        precs = np.broadcast_to(np.asarray(precision, dtype=float), w.shape)
    except (TypeError, ValueError):
        raise CesError("precision must be a number, or one number per willingness to pay") from None
    if not np.all(np.isfinite(precs)) or np.any(precs <= 0):
        raise CesError(f"precision must be a finite number > 0, got {precision!r}")
    n, n_strat = c.shape
    if stats is None:
        stats = nmb_statistics(c, e, w)
    rows = []
    for i, (lam, prec) in enumerate(zip(w, precs.tolist())):
        mcse_strat = stats["mcse"][i]
        best, second = int(stats["best"][i]), int(stats["second"][i])
        mcse_inc = float(stats["mcse_incremental"][i])
        m_strat = float(np.max(mcse_strat))
        m_all = m_strat if n_strat == 1 else max(m_strat, mcse_inc)
        if math.isnan(m_all):
            converged, n_needed = False, -1
        else:
            converged = m_all < prec
            n_needed = int(math.ceil(n * (m_all / prec) ** 2 * (1.0 - 1e-12)))
        rows.append({
            "wtp": float(lam), "best": best, "second": second,
            "mcse_max_strategy": m_strat, "mcse_incremental": mcse_inc, "mcse_max": m_all,
            "converged": bool(converged), "n_draws": n, "n_needed": n_needed,
        })
    return pd.DataFrame(rows, columns=[
        "wtp", "best", "second", "mcse_max_strategy", "mcse_incremental", "mcse_max",
        "converged", "n_draws", "n_needed"])
