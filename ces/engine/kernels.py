"""Numba kernels: the Markov trace and the reward accumulation.

Arrays only, no Python objects.  Every array that may be shared across draws or
cycles is passed with a leading dimension of 1 (broadcast) or of full size, and
the kernels pick index 0 when the dimension is 1; this keeps time-homogeneous and
deterministic runs cheap without copies.  ``prange`` runs over draws; each draw's
arithmetic is sequential and identical whatever the thread count or chunking, so
results are bit-reproducible.

The reward formula (one definition for Markov and partitioned survival) is in
:mod:`ces.engine.conventions`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def markov_trace(P, init, TR, trace, tr_vals):  # pragma: no cover - compiled
    """Cohort trace m_k = m_{k-1} · P_k and per-cycle transition-reward values.

    P: (Dp, Kp, S, S) transition matrices (Dp ∈ {1, D}, Kp ∈ {1, n}; cycle k uses P[:, k-1]).
    init: (Di, S) occupancy at time 0.
    TR: (Dt, R, Kt, S, S) reward per person moving i→j (R may be 0).
    trace (out): (D, n+1, S).
    tr_vals (out): (D, R, n+1); tr_vals[d, r, k] = Σ_ij m_{k-1,i} P_k[i,j] TR_k[r,i,j], k ≥ 1.
    """
    D = trace.shape[0]
    n1 = trace.shape[1]
    S = trace.shape[2]
    R = TR.shape[1]
    for dd in prange(D):
        d = np.int64(dd)  # prange indices may be unsigned; keep index arithmetic in int64
        dp = d if P.shape[0] > 1 else np.int64(0)
        di = d if init.shape[0] > 1 else np.int64(0)
        dt = d if TR.shape[0] > 1 else np.int64(0)
        for s in range(S):
            trace[d, 0, s] = init[di, s]
        for r in range(R):
            tr_vals[d, r, 0] = 0.0
        for k in range(1, n1):
            kp = k - 1 if P.shape[1] > 1 else 0
            for j in range(S):
                acc = 0.0
                for i in range(S):
                    acc += trace[d, k - 1, i] * P[dp, kp, i, j]
                trace[d, k, j] = acc
            if R > 0:
                kt = k - 1 if TR.shape[2] > 1 else 0
                for r in range(R):
                    acc = 0.0
                    for i in range(S):
                        mi = trace[d, k - 1, i]
                        if mi != 0.0:
                            for j in range(S):
                                acc += mi * P[dp, kp, i, j] * TR[dt, r, kt, i, j]
                    tr_vals[d, r, k] = acc


@njit(parallel=True, cache=True)
def accumulate_rewards(trace, V, alpha, beta, disc, extra, totals, totals_undisc, periods):  # pragma: no cover
    """Discounted and undiscounted reward totals (see conventions.py for the formula).

    trace: (D, n+1, S) occupancy at points k = 0..n.
    V: (Dv, R, Kv, S) state values per cycle-length (Kv ∈ {1, n+1}, period k uses V[:, :, k]).
    alpha, beta: (n+1,) counting weights; disc: (R, n+1) discount factors.
    extra: (De, R, Ke) per-period transition-reward values, weighted by (α_k+β_k)·d_k.
    totals, totals_undisc (out): (D, R).
    periods (out): (Dq, R, n+1) undiscounted value of each period, written when Dq == D.
    """
    D = trace.shape[0]
    n1 = trace.shape[1]
    S = trace.shape[2]
    R = V.shape[1]
    keep = periods.shape[0] == D
    for dd in prange(D):
        d = np.int64(dd)
        dv = d if V.shape[0] > 1 else np.int64(0)
        de = d if extra.shape[0] > 1 else np.int64(0)
        for r in range(R):
            tot = 0.0
            tot_u = 0.0
            for k in range(n1):
                kv = k if V.shape[2] > 1 else 0
                a = alpha[k]
                b = beta[k]
                val = 0.0
                if a != 0.0:
                    for s in range(S):
                        val += V[dv, r, kv, s] * a * trace[d, k - 1, s]
                if b != 0.0:
                    for s in range(S):
                        val += V[dv, r, kv, s] * b * trace[d, k, s]
                if k > 0 and extra.shape[1] > 0:
                    ke = k if extra.shape[2] > 1 else 0
                    val += (a + b) * extra[de, r, ke]
                tot += disc[r, k] * val
                tot_u += val
                if keep:
                    periods[d, r, k] = val
            totals[d, r] = tot
            totals_undisc[d, r] = tot_u
