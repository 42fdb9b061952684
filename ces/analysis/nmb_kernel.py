"""One compiled pass over the PSA draws per willingness to pay: expected NMB, CEAC, EVPI and MCSEs.

:func:`nmb_statistics` computes, for every WTP λ and NMB = effect·λ − cost (Stinnett & Mullahy 1998),
the numbers that :mod:`ces.analysis.psa` defines (expected NMB, CEAC, per-person EVPI, the MCSEs of
the convergence check) bit for bit as its numpy formulas do, but with two passes over the draws per
WTP instead of a dozen, and the WTP values spread over the numba threads (each WTP is summed by one
thread, so the result does not depend on the thread count).

Bit-identity rests on numpy's summation order (numpy 2.x, checked in tests/test_psa_analysis.py):
``a.sum(axis=0)`` of a C-contiguous ``(n, K)`` array with ``K ≥ 2`` adds the rows one after the
other from 0.0; a 1-D array, or a ``(n, 1)`` column, is summed pairwise (``pairwise_sum`` in numpy's
``loops_utils.h``: blocks of at most 128 values summed with 8 accumulators, larger ones split in
two at a multiple of 8).  The kernel repeats both orders; the caller uses it only for C-contiguous
inputs (:func:`ces.analysis.psa.nmb_statistics`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = ["pairwise_sum", "nmb_kernel", "running_sums"]


@njit(cache=True)
def _block_sum(a, lo, n):  # pragma: no cover - compiled
    """numpy's ``pairwise_sum`` for ``n <= 128`` values: 8 accumulators, then the rest one by one."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    m = n - n % 8
    while i < m:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def pairwise_sum(a, lo, n):  # pragma: no cover - compiled
    """Sum of ``a[lo:lo + n]`` in numpy's pairwise order (``pairwise_sum`` of numpy's loops_utils.h): a
    block of more than 128 values is the sum of its halves (split at ``n2 = n//2 - (n//2) % 8``),
    left + right.  Written with an explicit stack (numba's cache does not load self-recursive functions)."""
    if n <= 128:
        return _block_sum(a, lo, n)
    st_lo = np.empty(200, np.int64)  # depth ≤ log2(n / 64) levels, ≤ 2 pending nodes each
    st_n = np.empty(200, np.int64)  # n = -1 marks "add the last two values"
    vals = np.empty(100)
    top, nv = 1, 0
    st_lo[0], st_n[0] = lo, n
    while top > 0:
        top -= 1
        lo_, n_ = st_lo[top], st_n[top]
        if n_ < 0:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
        elif n_ <= 128:
            vals[nv] = _block_sum(a, lo_, n_)
            nv += 1
        else:
            n2 = n_ // 2
            n2 -= n2 % 8
            st_lo[top], st_n[top] = 0, -1  # combine after both halves
            st_lo[top + 1], st_n[top + 1] = lo_ + n2, n_ - n2  # right, summed second
            st_lo[top + 2], st_n[top + 2] = lo_, n2  # left, popped first
            top += 3
    return vals[0]


@njit(cache=True)
def _np_sum(a):  # pragma: no cover - compiled
    """``np.add.reduce`` of a contiguous 1-D float64 array: 0.0 + the pairwise sum."""
    return 0.0 + pairwise_sum(a, 0, a.size)


@njit(cache=True)
def _sd_column(x, n):  # pragma: no cover - compiled
    """``x[:, None].std(axis=0, ddof=1)[0]`` as numpy's ``_var`` computes it (x overwritten)."""
    mean = _np_sum(x) / n
    for d in range(n):
        dev = x[d] - mean
        x[d] = dev * dev
    return math.sqrt(_np_sum(x) / (n - 1))


@njit(parallel=True, cache=True)
def nmb_kernel(c, e, w, enmb, curves, evpi, mcse, best, second, mcse_inc, eloss):  # pragma: no cover - compiled
    """Fill, for each ``w[i]``: ``enmb[i]`` mean NMB per strategy; ``curves[i]`` share of draws where each
    strategy has the highest NMB (ties to the lowest index); ``evpi[i]`` mean of max NMB − NMB of the
    strategy of highest mean NMB; ``mcse[i]`` sd(NMB, ddof=1)/√n per strategy; ``best[i]``/``second[i]``
    the strategies of highest/second-highest mean NMB (stable order); ``mcse_inc[i]`` sd of their
    per-draw difference /√n (NaN with one strategy); ``eloss[i]`` the expected loss of each strategy, mean of
    max NMB − its NMB (rows added one after the other, as numpy's ``mean(axis=0)``; with one strategy every
    term is exactly 0), computed only when ``eloss`` has a row per WTP (pass 0 rows to skip it).  With one draw the sds are NaN."""
    n, K = c.shape
    root_n = math.sqrt(n)
    want_loss = eloss.shape[0] == w.size
    for i in prange(w.size):
        lam = w[i]
        s = np.zeros(K)
        counts = np.zeros(K, np.int64)
        col = np.empty(n) if K == 1 else np.empty(0)
        for d in range(n):
            top = 0
            vmax = e[d, 0] * lam - c[d, 0]
            for k in range(K):
                v = e[d, k] * lam - c[d, k]
                if K == 1:
                    col[d] = v
                else:
                    s[k] += v
                if v > vmax:
                    vmax = v
                    top = k
            counts[top] += 1
        if K == 1:
            s[0] = _np_sum(col)
        mean = s / n
        b = 0
        for k in range(K):
            if mean[k] > mean[b]:
                b = k
        b2 = -1
        for k in range(K):
            if k != b and (b2 < 0 or mean[k] > mean[b2]):
                b2 = k
        q = np.zeros(K)
        el = np.zeros(K)
        loss = np.empty(n)
        diff = np.empty(n)
        row = np.empty(K)
        for d in range(n):
            vmax = e[d, 0] * lam - c[d, 0]
            for k in range(K):
                v = e[d, k] * lam - c[d, k]
                row[k] = v
                dev = v - mean[k]
                if K == 1:
                    col[d] = dev * dev
                else:
                    q[k] += dev * dev
                if v > vmax:
                    vmax = v
            loss[d] = vmax - row[b]
            if want_loss:
                for k in range(K):
                    el[k] += vmax - row[k]
            if b2 >= 0:
                diff[d] = row[b] - row[b2]
        if K == 1:
            q[0] = _np_sum(col)
        for k in range(K):
            enmb[i, k] = mean[k]
            curves[i, k] = counts[k] / n
            mcse[i, k] = math.sqrt(q[k] / (n - 1)) / root_n if n > 1 else np.nan
            if want_loss:
                eloss[i, k] = el[k] / n
        evpi[i] = _np_sum(loss) / n
        best[i] = b
        second[i] = b2
        mcse_inc[i] = _sd_column(diff, n) / root_n if (b2 >= 0 and n > 1) else np.nan


@njit(cache=True)
def running_sums(c, e, lam, ref, ms, s1, s2, wins):  # pragma: no cover - compiled
    """At each draw count ``ms[j]`` (increasing): ``s1[j]``/``s2[j]`` the sums over the first ``ms[j]`` draws of
    NMB − ``ref`` and of its square, and ``wins[j]`` the draws in which each strategy has the highest NMB (ties
    to the lowest index).  The sums run draw after draw from the first term, as ``numpy.cumsum`` does."""
    n, K = c.shape
    a1 = np.zeros(K)
    a2 = np.zeros(K)
    cnt = np.zeros(K, np.int64)
    j = 0
    for d in range(n):
        top = 0
        vmax = e[d, 0] * lam - c[d, 0]
        for k in range(K):
            v = e[d, k] * lam - c[d, k]
            dev = v - ref[k]
            if d == 0:
                a1[k] = dev
                a2[k] = dev * dev
            else:
                a1[k] += dev
                a2[k] += dev * dev
            if v > vmax:
                vmax = v
                top = k
        cnt[top] += 1
        while j < ms.size and ms[j] == d + 1:
            s1[j] = a1
            s2[j] = a2
            wins[j] = cnt
            j += 1
