"""Counting (within-cycle correction) and discounting conventions, pinned.

Notation: ``m_k`` is the cohort occupancy after k transitions (``m_0`` = initial),
n cycles, Δ = cycle length in years.  Every reward stream (costs by category,
QALYs, life-years) is accumulated over *reward periods* k = 0..n as

    total = Σ_k  d_k · v_k · (α_k · m_{k-1} + β_k · m_k)          (state rewards)
          + Σ_k  d_k · (α_k + β_k) · Σ_ij m_{k-1,i} P_k[i,j] R_k[i,j]  (transition rewards, k ≥ 1)

with v_k the per-cycle state values of period k, d_k its discount factor and
(α_k, β_k) the counting weights below (α_0 = 0).  This one formula serves every
method and both the Markov and the partitioned-survival paths.  In a partitioned-survival
model the transition-reward term carries the ``entry_rewards``: Σ_j I_j,k R_k[j], with
I_j,k the persons entering state j in cycle k (:func:`ces.engine.psm.state_inflows`) in
place of the Markov flows Σ_i m_{k-1,i} P_k[i,j].

Interval methods (period k = cycle k, k = 1..n; values evaluated at ``cycle = k``,
``time = (k-1)Δ``):

==============  ==================  ==========================================
method          α_k, β_k            equivalent
==============  ==================  ==========================================
``start``       1, 0                heemod ``method="beginning"`` (≥0.14)
``end``         0, 1                heemod ``method="end"``, hesim riemann_right
``life-table``  ½, ½                heemod default; per-cycle trapezoid
==============  ==================  ==========================================

Point methods (period k = time point kΔ, k = 0..n; α = 0, β_k = w_k; values
evaluated at ``cycle = k``, ``time = kΔ``):

=================  ================================================================
``half-cycle``     w = ½, 1, …, 1, ½  (DARTH half-cycle, trapezoid over points)
``simpson``        textbook Simpson 1/3 by parity: w_0 = w_n = ⅓, odd k ⅔·2 = 4/3,
                   even k 2/3 (exact Simpson only when n is even)
``darth-simpson``  DARTH ``gen_wcc(n, "Simpson1/3")``: over v = 1..n+1, w = 2/3 if v
                   even else 4/3, then w_0 = w_n = 1/3 (so w_1 = 2/3) — Alarid-Escudero
                   et al., MDM 2023, R/Functions.R
``none``           w = 1 at every point 0..n (DARTH without correction)
=================  ================================================================

Discounting (rate r per year, τ_k = discount time of period k in years):
interval methods use τ_k = (k-1)Δ (``timing: start``, heemod ``first=FALSE``),
(k-½)Δ (``middle``) or kΔ (``end``, heemod ``first=TRUE``); point methods use τ_k = kΔ.
``discrete``: d = (1+r)^-τ; ``annual``: d = (1+r)^-floor(τ) (whole-year steps, the
NICE/Excel convention); ``continuous``: d = exp(-r τ).
One-off costs at time 0 are never discounted and never weighted.
"""

from __future__ import annotations

import numpy as np

INTERVAL_METHODS = {"start": (1.0, 0.0), "end": (0.0, 1.0), "life-table": (0.5, 0.5)}
POINT_METHODS = ("half-cycle", "simpson", "darth-simpson", "none")


def is_point_method(method: str) -> bool:
    return method in POINT_METHODS


def counting_weights(method: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(α, β) vectors of length n+1 for ``method`` over n cycles (see module docstring)."""
    alpha = np.zeros(n + 1)
    beta = np.zeros(n + 1)
    if method in INTERVAL_METHODS:
        a, b = INTERVAL_METHODS[method]
        alpha[1:] = a
        beta[1:] = b
        return alpha, beta
    k = np.arange(n + 1)
    if method == "half-cycle":
        w = np.ones(n + 1)
        w[0] = w[-1] = 0.5
    elif method == "simpson":
        w = np.where(k % 2 == 1, 4.0 / 3.0, 2.0 / 3.0)
        w[0] = w[-1] = 1.0 / 3.0
    elif method == "darth-simpson":
        v = k + 1
        w = np.where(v % 2 == 0, 2.0 / 3.0, 4.0 / 3.0)
        w[0] = w[-1] = 1.0 / 3.0
    elif method == "none":
        w = np.ones(n + 1)
    else:
        raise ValueError(f"unknown counting method {method!r}")
    beta[:] = w
    return alpha, beta


def period_cycles_and_times(method: str, n: int, cycle_years: float) -> tuple[np.ndarray, np.ndarray]:
    """(cycle, time) at which state values of periods k = 0..n are evaluated.

    Interval methods: period k ≥ 1 is cycle k with time (k-1)Δ (period 0 has zero
    weight and repeats cycle 1).  Point methods: cycle k, time kΔ.
    """
    k = np.arange(n + 1, dtype=float)
    if is_point_method(method):
        return k, k * cycle_years
    cyc = np.maximum(k, 1.0)
    return cyc, (cyc - 1.0) * cycle_years


def transition_cycles_and_times(n: int, cycle_years: float) -> tuple[np.ndarray, np.ndarray]:
    """Cycle k = 1..n moves m_{k-1} to m_k; its expressions see cycle = k, time = (k-1)Δ."""
    cyc = np.arange(1, n + 1, dtype=float)
    return cyc, (cyc - 1.0) * cycle_years


def discount_times(method: str, timing: str, n: int, cycle_years: float) -> np.ndarray:
    """τ_k (years) of periods k = 0..n."""
    k = np.arange(n + 1, dtype=float)
    if is_point_method(method):
        return k * cycle_years
    offset = {"start": 1.0, "middle": 0.5, "end": 0.0}[timing]
    return np.maximum(k - offset, 0.0) * cycle_years


def discount_factors(rate: float, times: np.ndarray, method: str = "discrete") -> np.ndarray:
    """Discount factor for each time τ (years) at annual rate ``rate``."""
    times = np.asarray(times, dtype=float)
    if method == "discrete":
        return (1.0 + rate) ** (-times)
    if method == "annual":
        return (1.0 + rate) ** (-np.floor(times + 1e-9))
    if method == "continuous":
        return np.exp(-rate * times)
    raise ValueError(f"unknown discount method {method!r}")
