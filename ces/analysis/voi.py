"""Decision uncertainty from PSA draws: expected loss curves, convergence curves, CE-plane ellipses.

Pure functions over ``costs[n_draws, K]``, ``effects[n_draws, K]`` (one row per PSA draw, one
column per strategy) and WTP values, like :mod:`ces.analysis.psa`; NMB = effect·λ − cost.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ces.analysis.psa import _pair, _wtp, nmb_statistics

__all__ = ["expected_loss", "convergence_curves", "ce_ellipse"]


def expected_loss(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike) -> np.ndarray:
    """Expected loss of choosing each strategy, ``[n_wtp, K]`` (Eckermann, Briggs & Willan 2008).

    ``EL_s(λ) = mean_draws(max_j NMB_j − NMB_s)``: the NMB forgone on average when ``s`` is
    adopted.  Its minimum over strategies, at the strategy of highest expected NMB, is the
    per-person EVPI (as in dampack's ``calc_exp_loss`` and BCEA).  Computed with the other per-WTP
    statistics by :func:`ces.analysis.psa.nmb_statistics` (one compiled pass, numpy's summation order).
    """
    return nmb_statistics(costs, effects, wtp, loss=True)["expected_loss"]


def convergence_curves(costs: ArrayLike, effects: ArrayLike, wtp: float, points: int = 50) -> pd.DataFrame:
    """Running mean NMB and P(cost-effective) of each strategy after the first m draws, with MCSEs.

    At ``points`` draw counts m (log-spaced from min(n, 10) to n): ``mean_nmb`` = mean of the first
    m NMBs, ``mcse_nmb`` = their sd (ddof=1) / √m; ``p_ce`` = share of the first m draws in which
    the strategy has the highest NMB (ties to the lowest index, as :func:`ces.analysis.psa.ceac`),
    ``mcse_p_ce`` = √(p(1−p)/m) (binomial).  Columns: n_draws, strategy (index), mean_nmb,
    mcse_nmb, p_ce, mcse_p_ce.  The running sums (centred on the full-sample mean NMB, so the running
    variances do not cancel) come from one compiled pass, :func:`ces.analysis.nmb_kernel.running_sums`.
    """
    from ces.analysis.nmb_kernel import running_sums

    c, e = _pair(costs, effects)
    lam = float(_wtp([wtp])[0])
    n, k = c.shape
    ms = np.unique(np.round(np.geomspace(min(n, 10), n, max(2, int(points)))).astype(np.int64))
    ref = nmb_statistics(c, e, [lam])["enmb"][0]  # = (e·λ − c).mean(axis=0)
    s1, s2 = np.empty((ms.size, k)), np.empty((ms.size, k))
    wins = np.empty((ms.size, k), np.int64)
    running_sums(np.ascontiguousarray(c), np.ascontiguousarray(e), lam, ref, ms, s1, s2, wins)
    rows = []
    for i, m in enumerate(ms):
        mean_c = s1[i] / m
        var = (s2[i] - m * mean_c ** 2) / (m - 1) if m > 1 else np.full(k, np.nan)
        p = wins[i] / m
        for s in range(k):
            rows.append({"n_draws": int(m), "strategy": s, "mean_nmb": float(mean_c[s] + ref[s]),
                         "mcse_nmb": float(math.sqrt(max(var[s], 0.0) / m)) if m > 1 else float("nan"),
                         "p_ce": float(p[s]), "mcse_p_ce": float(math.sqrt(p[s] * (1 - p[s]) / m))})
    return pd.DataFrame(rows)


def ce_ellipse(d_effect: ArrayLike, d_cost: ArrayLike, level: float = 0.95, points: int = 100) -> dict:
    """Mean and ``level`` confidence ellipse of PSA draws of (incremental) effect and cost.

    Bivariate-normal approximation (as BCEA's contour and dampack's CE-plane ellipses): the
    region ``(x − μ)ᵀ S⁻¹ (x − μ) ≤ χ²₂(level)`` with μ the sample mean and S the sample
    covariance (ddof=1); the boundary is ``μ + √χ²₂(level) · L (cos t, sin t)`` with ``S = L Lᵀ``
    (from the eigendecomposition of S; a degenerate S gives a segment).  Returns mean_effect, mean_cost, cov (2×2),
    and the boundary ``effect``/``cost`` arrays (``points`` + 1 points, closed).
    """
    from scipy.stats import chi2

    x = np.asarray(d_effect, dtype=float)
    y = np.asarray(d_cost, dtype=float)
    mu = np.array([x.mean(), y.mean()])
    S = np.cov(np.vstack([x, y]), ddof=1) if x.size > 1 else np.zeros((2, 2))
    vals, vecs = np.linalg.eigh(S)
    L = vecs * np.sqrt(np.clip(vals, 0.0, None))  # S = L Lᵀ also when S is singular
    t = np.linspace(0.0, 2.0 * math.pi, int(points) + 1)
    r = math.sqrt(chi2.ppf(level, 2))
    pts = mu[:, None] + r * (L @ np.vstack([np.cos(t), np.sin(t)]))
    return {"mean_effect": float(mu[0]), "mean_cost": float(mu[1]), "cov": S, "effect": pts[0], "cost": pts[1]}
