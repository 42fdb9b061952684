"""Numba kernels: the Markov trace with its rewards, the reward accumulation (PSM), a fused 3-state PSM.

Arrays only, no Python objects.  Every array that may be shared across draws or
cycles is passed with a leading dimension of 1 (broadcast) or of full size, and
the kernels pick index 0 when the dimension is 1; this keeps time-homogeneous and
deterministic runs cheap without copies.  ``prange`` runs over draws; each draw's
arithmetic is sequential and identical whatever the thread count or chunking, so
results are bit-reproducible.

The reward formula (one definition for Markov and partitioned survival) is in
:mod:`ces.engine.conventions`.  One cycle of the trace (:func:`markov_step`) and one period's value
(:func:`period_value`, inlined) are each written once: :func:`markov_totals` runs the trace and its rewards
in one parallel region (keeping the trace and per-period values only when asked: deterministic runs,
payments, budget impact), :func:`accumulate_rewards` values a PSM occupancy, :func:`psm2_totals` does
both for a 3-state PSM in a PSA; every total is the same sum in the same order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def markov_step(frm, to, rest, buf, base, sk, km1, m, mn, rowsum, TR, dt, kt, trv, tol, ok, err, d):  # pragma: no cover
    """Cycle k = km1 + 1 of draw d: mn = m · P_k over the sparse entries, trv[r] = Σ flows · TR, checks.

    Returns the draw's ``ok`` flag; the first failed check is written to err[d] (see markov_totals)."""
    S = m.shape[0]
    R = trv.shape[0]
    k = km1 + 1
    for s in range(S):
        mn[s] = 0.0
        rowsum[s] = 0.0
    for r in range(R):
        trv[r] = 0.0
    for e in range(frm.shape[0]):
        i = frm[e]
        if rest[e] == 1:
            p = 1.0 - rowsum[i]
        else:
            p = buf[base[e] + km1 * sk[e]]
        if ok and not (p >= -tol and p <= 1.0 + tol):
            ok = False
            err[d, 0] = 1
            err[d, 1] = k
            err[d, 2] = i
            err[d, 3] = e
        rowsum[i] += p
        flow = m[i] * p
        mn[to[e]] += flow
        for r in range(R):
            trv[r] += flow * TR[dt, r, kt, i, to[e]]
    mass = 0.0
    for s in range(S):
        mass += mn[s]
        if ok and abs(rowsum[s] - 1.0) > tol:
            ok = False
            err[d, 0] = 2
            err[d, 1] = k
            err[d, 2] = s
            err[d, 3] = -1
    if ok and abs(mass - 1.0) > tol:
        ok = False
        err[d, 0] = 3
        err[d, 1] = k
        err[d, 2] = -1
        err[d, 3] = -1
    return ok


@njit(cache=True, inline="always")
def period_value(V, dv, r, kv, a, b, prev, cur, has_extra, ex):  # pragma: no cover
    """v = Σ_s V_s·α_k·m_(k−1),s + Σ_s V_s·β_k·m_k,s (+ (α_k + β_k)·ex): one stream's value of period k."""
    val = 0.0
    if a != 0.0:
        for s in range(prev.shape[0]):
            val += V[dv, r, kv, s] * a * prev[s]
    if b != 0.0:
        for s in range(cur.shape[0]):
            val += V[dv, r, kv, s] * b * cur[s]
    if has_extra:
        val += (a + b) * ex
    return val


@njit(parallel=True, cache=True, nogil=True)
def markov_totals(frm, to, rest, buf, off, sd, sk, n_states, init, TR, tol, V, alpha, beta, disc, err,
                  totals, totals_undisc, trace, periods):  # pragma: no cover
    """Cohort trace m_k = m_{k-1} · P_k and the reward totals (D, R) in one pass per draw, with the run checks.

    Entry e moves mass from state frm[e] to state to[e]; its probability in cycle k for draw d
    is buf[off[e] + d·sd[e] + (k−1)·sk[e]] (sd = 0 for an entry constant over draws, sk = 0
    for one constant over cycles).  Only the model's entries are stored: no dense
    (draws × cycles × states × states) tensor is ever built.
    TR: (Dt, R, Kt, S, S) reward per person moving i→j (R may be 0); V, α, β, disc as
    :func:`accumulate_rewards` (α_0 must be 0: period 0 counts only m_0).
    err (out): (D, 4) int64, first failed check per draw: [kind, cycle k, state i, entry e];
    kind 1 = probability outside [0, 1] (± tol), 2 = row sum ≠ 1 (± tol), 3 = trace mass ≠ 1.
    trace (D, n+1, S) and periods (D, R, n+1, undiscounted value of each period) are written only when
    their first dimension is D (a PSA passes 0 rows: then nothing but the totals is stored).  The
    period values are those of accumulate_rewards, computed by the same :func:`period_value`."""
    D = totals.shape[0]
    n1 = alpha.shape[0]
    S = n_states
    E = frm.shape[0]
    Rt = TR.shape[1]
    R = V.shape[1]
    keep = trace.shape[0] == D and periods.shape[0] == D
    for dd in prange(D):
        d = np.int64(dd)
        di = d if init.shape[0] > 1 else np.int64(0)
        dt = d if TR.shape[0] > 1 else np.int64(0)
        dv = d if V.shape[0] > 1 else np.int64(0)
        m = np.empty(S)
        mn = np.empty(S)
        rowsum = np.empty(S)
        trv = np.empty(Rt)
        tot = np.zeros(R)
        tot_u = np.zeros(R)
        base = np.empty(E, dtype=np.int64)
        for e in range(E):
            base[e] = off[e] + d * sd[e]
        ok = True
        err[d, 0] = 0
        for s in range(S):
            m[s] = init[di, s]
            if keep:
                trace[d, 0, s] = m[s]
        for r in range(R):  # period 0: β_0 · m_0 (α_0 = 0)
            val = period_value(V, dv, r, 0, alpha[0], beta[0], m, m, False, 0.0)
            tot[r] += disc[r, 0] * val
            tot_u[r] += val
            if keep:
                periods[d, r, 0] = val
        for k in range(1, n1):
            kt = k - 1 if TR.shape[2] > 1 else 0
            ok = markov_step(frm, to, rest, buf, base, sk, k - 1, m, mn, rowsum, TR, dt, kt, trv, tol, ok, err, d)
            kv = k if V.shape[2] > 1 else 0
            for r in range(R):
                val = period_value(V, dv, r, kv, alpha[k], beta[k], m, mn, Rt > 0, trv[r] if Rt > 0 else 0.0)
                tot[r] += disc[r, k] * val
                tot_u[r] += val
                if keep:
                    periods[d, r, k] = val
            for s in range(S):
                m[s] = mn[s]
                if keep:
                    trace[d, k, s] = mn[s]
        for r in range(R):
            totals[d, r] = tot[r]
            totals_undisc[d, r] = tot_u[r]


@njit(parallel=True, cache=True, nogil=True)
def psm2_totals(S1, S2, cap, V, alpha, beta, disc, totals, totals_undisc):  # pragma: no cover
    """Partition of two curves into 3 states and accumulate_rewards in one pass, keeping only the totals.

    S1, S2: (1 or D, n+1) survival of the inner and outer curve, read in place; occupancy at point k is
    (s1, s2 − s1, 1 − s2) with s1 = min(S1, S2) on the draws where ``cap`` (bool, one per draw of the curves)
    is set: the crossing policy acted on that draw, as in :func:`ces.engine.psm.partition_occupancy`.  Same
    arithmetic, same order: bit-identical totals."""
    D = totals.shape[0]
    n1 = alpha.shape[0]
    R = V.shape[1]
    for dd in prange(D):
        d = np.int64(dd)
        d1 = d if S1.shape[0] > 1 else np.int64(0)
        d2 = d if S2.shape[0] > 1 else np.int64(0)
        dv = d if V.shape[0] > 1 else np.int64(0)
        capd = cap[d if cap.shape[0] > 1 else np.int64(0)]
        prev = np.empty(3)
        cur = np.empty(3)
        tot = np.zeros(R)
        tot_u = np.zeros(R)
        for k in range(n1):
            a = S1[d1, k]
            b = S2[d2, k]
            if capd and (b < a or b != b):  # np.minimum(a, b), NaN propagating
                a = b
            cur[0] = a
            cur[1] = b - a
            cur[2] = 1.0 - b
            kv = k if V.shape[2] > 1 else 0
            for r in range(R):
                val = period_value(V, dv, r, kv, alpha[k], beta[k], prev if k > 0 else cur, cur, False, 0.0)
                tot[r] += disc[r, k] * val
                tot_u[r] += val
            for s in range(3):
                prev[s] = cur[s]
        for r in range(R):
            totals[d, r] = tot[r]
            totals_undisc[d, r] = tot_u[r]


@njit(parallel=True, cache=True, nogil=True)
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
                has_extra = k > 0 and extra.shape[1] > 0
                ex = extra[de, r, k if extra.shape[2] > 1 else 0] if has_extra else 0.0
                val = period_value(V, dv, r, kv, alpha[k], beta[k], trace[d, k - 1], trace[d, k], has_extra, ex)
                tot += disc[r, k] * val
                tot_u += val
                if keep:
                    periods[d, r, k] = val
            totals[d, r] = tot
            totals_undisc[d, r] = tot_u
