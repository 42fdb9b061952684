"""The partitioned-survival path: curves → occupancy, entry rewards; and curves used by a Markov model.

One job: evaluate a strategy's curves S(kΔ), k = 0..n (:mod:`ces.engine.psm`, families in
:mod:`ces.survival`), partition them into state occupancy (state 1 = S_1, state j = S_j − S_(j−1),
last = 1 − S_(N−1)) under the crossing policy (error: :func:`ces.engine.checks.crossing_error`),
add one column per curve with costs (its occupancy is the curve itself), and value the one-off entry
rewards on the state inflows.  A Markov model may name a curve in a transition row: its per-cycle
probability is p_k = 1 − S(kΔ)/S((k−1)Δ) (:func:`curve_probabilities`).
"""

from __future__ import annotations

import numpy as np

from ces.engine.checks import crossing_error
from ces.engine.evaluate import expr_array
from ces.engine.kernels import psm2_totals


def curve_probabilities(m, cs, venv, D) -> dict:
    """Markov use of curves: per-cycle probability p_k = 1 − S(kΔ)/S((k−1)Δ), cycle k = 1..n."""
    from ces.engine.psm import curve_survival

    t_years = np.arange(m.n_cycles + 1) * m.cycle_years
    out = {}
    for name, c in cs.curves.items():
        S = curve_survival(m, c, venv, D, t_years)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = np.where(S[:, :-1] > 0, 1.0 - S[:, 1:] / S[:, :-1], 1.0)
    return out


def strategy_curves(m, cs, venv, D, shared=None) -> dict:
    """Curve name → S(kΔ), k = 0..n, (1 or D, n+1) of one strategy (mixtures from the other curves)."""
    from ces.engine.psm import curve_survival, mixture_survival

    t_years = np.arange(m.n_cycles + 1) * m.cycle_years
    cache = shared.setdefault("curves", {}) if shared is not None else None
    surv = {name: curve_survival(m, c, venv, D, t_years, cache, cs.affected) for name, c in cs.curves.items()
            if c.family != "mixture"}
    for name, c in cs.curves.items():  # mixtures: S = Σ w_i S_i of other curves
        if c.family == "mixture":
            surv[name] = mixture_survival(m, c, surv, venv)
    return surv


def psm_trace(m, cs, venv, D, draw_offset, shared=None) -> tuple:
    """Occupancy from the partition curves, plus one column per curve with costs (share under the curve)."""
    from ces.engine.psm import partition_occupancy

    spec = m.loaded.model
    n = m.n_cycles
    surv = strategy_curves(m, cs, venv, D, shared)
    occ, info = partition_occupancy([surv[c] for c in spec.partition], spec.crossing,
                                    crossing_error(m, cs, D, draw_offset),
                                    len(m.states))
    Dt = occ.shape[0]
    if cs.curve_costs:
        cols = [np.broadcast_to(surv[c], (Dt, n + 1)) for c in cs.curve_costs]
        occ = np.concatenate([occ] + [c[:, :, None] for c in cols], axis=2)
    if Dt != D:
        occ = np.broadcast_to(occ, (D,) + occ.shape[1:])
    return np.ascontiguousarray(occ), info


def entry_rewards(m, cs, trace, tenv) -> np.ndarray:
    """PSM one-off rewards per period: extra[d, r, k] = Σ_j I_j,k · R_j,r(cycle k), I = state inflows.

    Passed to the reward kernel as the transition-reward term of ces.engine.conventions (weight
    (α_k + β_k)·d_k), exactly as a Markov model's flows × transition rewards.
    """
    from ces.engine.psm import state_inflows

    inflow = state_inflows(trace[:, :, :len(m.states)])  # (D, n+1, S)
    D, n1 = inflow.shape[:2]
    extra = np.zeros((D, len(m.streams), n1))
    for j, rewards in cs.entry_rewards:
        for stream, e in rewards.items():
            a = np.broadcast_to(expr_array(m, e, tenv), (D, n1 - 1))  # cycle k = 1..n
            extra[:, m.streams.index(stream), 1:] += inflow[:, 1:, j] * a
    return extra


def psm_path_totals(m, cs, venv, D, shared, V, alpha, beta, disc):
    """Reward totals (D, R) discounted and undiscounted, and the crossing info, of a 3-state PSM
    (two partition curves, no curve costs, no entry rewards) without building the occupancy:
    :func:`ces.engine.kernels.psm2_totals`, bit-identical to :func:`psm_path` + the reward kernel.
    None when the crossing policy `error` must act (then :func:`psm_path` raises the located error)."""
    from ces.engine.psm import CROSS_TOL, crossing_info

    spec = m.loaded.model
    surv = strategy_curves(m, cs, venv, D, shared)
    S1, S2 = (np.ascontiguousarray(surv[c], dtype=np.float64) for c in spec.partition)
    Dc, n1 = max(S1.shape[0], S2.shape[0]), S1.shape[1]  # as partition_occupancy: the curves' own draws
    cross = np.broadcast_to(S1, (Dc, n1)) > np.broadcast_to(S2, (Dc, n1)) + CROSS_TOL
    cap = np.ascontiguousarray(cross.any(axis=1))  # per draw, as partition_occupancy
    if cap.any() and spec.crossing == "error":
        return None
    info = crossing_info(cross)
    totals = np.empty((D, V.shape[1]))
    totals_u = np.empty((D, V.shape[1]))
    psm2_totals(S1, S2, cap, V, alpha, beta, disc, totals, totals_u)
    return totals, totals_u, info


def psm_path(m, cs, tenv, venv, D, draw_offset, shared=None) -> tuple:
    """PSM occupancy (D, n+1, N + curves with costs), entry-reward values per period, crossing info."""
    trace, crossing = psm_trace(m, cs, venv, D, draw_offset, shared)
    extra = entry_rewards(m, cs, trace, tenv) if cs.entry_rewards else np.zeros((1, 0, 1))
    return trace, extra, crossing
