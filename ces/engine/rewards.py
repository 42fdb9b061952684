"""The reward side shared by the Markov and PSM paths: state values, discount factors, one-off costs.

One job: evaluate what each state is worth per cycle and stream (v_k, the array V), the discount
factor d_k of each stream and period, and the one-off costs at time 0.  The kernel
:func:`ces.engine.kernels.accumulate_rewards` then sums, per stream,

    total = Σ_k d_k · v_k · (α_k · m_{k-1} + β_k · m_k) + Σ_k d_k · (α_k + β_k) · (transition or entry rewards)_k

with the counting weights (α_k, β_k) of :mod:`ces.engine.conventions`, where the formula and its
sources are stated once for both paths; one-off costs at time 0 are added undiscounted.
"""

from __future__ import annotations

import numpy as np

from ces.engine import conventions as cv
from ces.engine.checks import check_values
from ces.engine.evaluate import expr_array
from ces.engine.markov import residence_envs


def state_values(m, cs, venv, D, n, dr) -> np.ndarray:
    """State values V (Dv, R, Kv, S + curves with costs) per stream and period: costs per cycle, qaly =
    utility × Δ, ly = Δ in every non-dead state; then one column per PSM curve with costs."""
    spec = m.loaded.model
    S = len(m.expanded)
    R = len(m.streams)
    renvs = residence_envs(m, cs, venv, dr) if any(r for _, r in m.expanded) else {}
    arrays = {}
    for si, (s, r) in enumerate(m.expanded):
        env = renvs[r] if r else venv
        vals = cs.values[s]
        dead = spec.states[s].dead
        for ri, stream in enumerate(m.streams):
            if stream == "ly":
                arrays[(ri, si)] = np.full((1, 1), 0.0 if dead else m.cycle_years)
            elif stream == "qaly":
                e = vals.get("qaly")
                arrays[(ri, si)] = (expr_array(m, e, env) * m.cycle_years) if e is not None else np.zeros((1, 1))
            else:
                e = vals.get(stream)
                arrays[(ri, si)] = expr_array(m, e, env) if e is not None else np.zeros((1, 1))
    # PSM: one extra column per curve with costs (its occupancy is the curve itself)
    for ci, costs in enumerate(cs.curve_costs.values()):
        for cat, e in costs.items():
            arrays[(m.streams.index(cat), S + ci)] = expr_array(m, e, venv)
    S = S + len(cs.curve_costs)
    Dv = max(a.shape[0] for a in arrays.values())
    Kv = max(a.shape[1] for a in arrays.values())
    V = np.zeros((Dv, R, Kv, S))
    for (ri, si), a in arrays.items():
        V[:, ri, :, si] = np.broadcast_to(a, (Dv, Kv))
    check_values(m, cs, V)
    return V


def stream_discounts(m, method: str) -> np.ndarray:
    """Discount factors d_k (R, n+1) per stream and period: the cost rate for cost streams, the effect rate
    for the others, at the times of :func:`ces.engine.conventions.discount_times`."""
    spec = m.loaded.model
    n, dy = m.n_cycles, m.cycle_years
    tau = cv.discount_times(method, spec.discount.timing, n, dy)
    disc = np.empty((len(m.streams), n + 1))
    dc = cv.discount_factors(float(spec.discount.costs), tau, spec.discount.method)
    de = cv.discount_factors(float(spec.discount.effects), tau, spec.discount.method)
    for r, s in enumerate(m.streams):
        disc[r] = dc if s in m.cost_streams else de
    return disc


def initial_costs(m, cs, venv, D) -> np.ndarray:
    """One-off costs at time 0 (D, R), undiscounted, from the values of the first period."""
    out = np.zeros((D, len(m.streams)))
    env0 = {k: (v[:, :1] if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[1] > 1 else v)
            for k, v in venv.items()}
    for c, e in cs.initial_costs.items():
        out[:, m.streams.index(c)] += np.broadcast_to(expr_array(m, e, env0)[:, 0], (D,))
    return out
