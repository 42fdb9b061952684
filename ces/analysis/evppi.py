"""Expected value of partial perfect information (EVPPI) from one PSA sample, no re-simulation.

Pure functions over arrays: per-draw ``costs[n, K]`` and ``effects[n, K]`` of K strategies,
the sampled values ``theta[n, q]`` of the q parameters of interest (one row per PSA draw,
the same draws as the costs and effects) and a WTP grid ``wtp[L]``.  Nothing here knows
about models, perspectives or files, so the same functions serve any cost perspective.

Regression method (Strong, Oakley & Brennan 2014, Med Decis Making 34:311-326)
---------------------------------------------------------------------------------
EVPPI(φ) = E_φ[max_d E(NB_d | φ)] − max_d E(NB_d).  With NB_d = λ·E_d − C_d and the
incremental net benefit vs a reference strategy r, INB_d = λ·ΔE_d − ΔC_d
(ΔE_d = E_d − E_r, ΔC_d = C_d − C_r; INB_r ≡ 0; EVPPI is unchanged by the shift), the
conditional expectations g_d(φ) = E(INB_d | φ) are estimated by regressing the per-draw
ΔE_d and ΔC_d on φ:  ĝ_d(φ_i; λ) = λ·f̂(ΔE_d)(φ_i) − f̂(ΔC_d)(φ_i).  Because the smoother
is linear in its response, two regressions per strategy serve every WTP.  Then

    EVPPI(λ) = (1/n) Σ_i max(0, max_d ĝ_d(φ_i; λ)) − max(0, max_d (1/n) Σ_i ĝ_d(φ_i; λ)).

Regression: least squares on a B-spline basis of the parameter's *ranks* u = (rank − ½)/n
(so knots sit at quantiles of φ; E(y | φ) = E(y | u) for a strictly monotone map):
one parameter → a cubic regression spline; a group → the tensor product of marginal
B-spline bases (Wood 2006, tensor-product smooths).  B-spline bases come from
scikit-learn's ``SplineTransformer``.  The basis size is chosen from a small ladder
(:func:`basis_ladder`) by generalised cross-validation, GCV_t = n·RSS_t/(n − r)² (Craven &
Wahba 1979), r = rank of the basis: one basis for all responses of the parameter/group,
the one minimising Σ_t GCV_t / var(y_t) (scale-free across effects and costs).  Unpenalised
fits keep the estimator exactly linear, so the bootstrap below refits cheaply.

Standard error: non-parametric bootstrap over PSA draws (Efron & Tibshirani 1993):
B multinomial resamples of the n draws, each refitting every regression (same basis,
weighted least squares) and recomputing EVPPI with the same weights; SE = sample sd
(ddof=1) of the B estimates.  It covers the Monte Carlo error of the PSA sample and
the regression error, not the bias of a misspecified smoother (hence the fit check).

Fit check: residuals of every response are grouped into 20 equal-count bins of each
parameter's ranks; a one-way ANOVA F test (scipy) of equal bin means detects structure
the smoother missed.  A warning is raised when the smallest p-value is below 0.001
divided by the number of tests (Bonferroni) and the missed between-bin structure is
material: at least 1 % of the response's variance (a tiny but detectable misfit of a
noise-free response does not move the EVPPI).

Cross-check for single parameters: the sorted-partition estimator of Strong & Oakley
(2013, Med Decis Making 33:755-766): sort the draws by φ, cut them into J groups of
near-equal size (default J = round(√n)), replace g_d(φ_i) by the mean INB_d of the
draw's group, and apply the same EVPPI formula.  It is biased upwards by the noise of
the group means and is reported only as a check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike

from ces.errors import CesError

__all__ = ["EvppiEstimate", "evppi_regression", "evppi_partition", "incremental", "basis_ladder", "bootstrap_weights"]

#: Largest number of basis columns of a group regression (memory and time bound).
MAX_COLUMNS = 300
#: Residual bins of the lack-of-fit test, and its family-wise significance level.
FIT_BINS = 20
FIT_ALPHA = 0.001
#: Share of a response's variance that missed structure must reach to count as a bad fit.
FIT_MATERIAL = 0.01


@dataclass
class EvppiEstimate:
    """EVPPI of one parameter or group at every WTP (per person, currency units)."""

    evppi: np.ndarray  # (L,)
    se: np.ndarray  # (L,) bootstrap SE; NaN without bootstrap
    columns: int  # rank of the regression basis chosen by GCV
    fit_p: float  # smallest lack-of-fit p-value over responses and parameters
    r2: float  # smallest R² over responses that vary
    warnings: list = field(default_factory=list)


# ------------------------------------------------------------------ kernel

@njit(parallel=True, cache=True)
def _evppi_kernel(F, w, lam):  # pragma: no cover - compiled
    """EVPPI for each weight vector: F (B, n, 2(K−1)) fitted [ΔE | ΔC]; w (B, n); lam (L,) → (B, L).

    out[b, l] = Σ_i w_bi max(0, max_d g_bid) / Σ_i w_bi − max(0, max_d Σ_i w_bi g_bid / Σ_i w_bi),
    g_bid = lam[l]·F[b,i,d] − F[b,i,K−1+d].  Sequential sums within each b: bit-reproducible.
    """
    B, n, t2 = F.shape
    k = t2 // 2
    L = lam.shape[0]
    out = np.empty((B, L))
    for b in prange(B):
        sw = 0.0
        for i in range(n):
            sw += w[b, i]
        sums = np.zeros((L, k))
        smax = np.zeros(L)
        for i in range(n):
            wi = w[b, i]
            if wi == 0.0:
                continue
            for l in range(L):
                best = 0.0
                for d in range(k):
                    v = lam[l] * F[b, i, d] - F[b, i, k + d]
                    sums[l, d] += wi * v
                    if v > best:
                        best = v
                smax[l] += wi * best
        for l in range(L):
            m = 0.0
            for d in range(k):
                if sums[l, d] > m:
                    m = sums[l, d]
            out[b, l] = (smax[l] - m) / sw
    return out


# ------------------------------------------------------------------ helpers

def incremental(costs: ArrayLike, effects: ArrayLike, reference: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """ΔE, ΔC (n, K−1) of every strategy but ``reference`` minus the reference, per draw."""
    c = np.asarray(costs, dtype=float)
    e = np.asarray(effects, dtype=float)
    if c.ndim != 2 or c.shape != e.shape or c.shape[1] < 2:
        raise CesError(f"EVPPI needs costs and effects of the same shape [n_draws, ≥2 strategies], got "
                       f"{c.shape} and {e.shape}")
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(e))):
        raise CesError("EVPPI: costs and effects must be finite")
    if not 0 <= reference < c.shape[1]:
        raise CesError(f"EVPPI: reference strategy index {reference} out of range")
    keep = [j for j in range(c.shape[1]) if j != reference]
    return e[:, keep] - e[:, [reference]], c[:, keep] - c[:, [reference]]


def _increments(d_effects: ArrayLike, d_costs: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    dE = np.asarray(d_effects, dtype=float)
    dC = np.asarray(d_costs, dtype=float)
    if dE.ndim != 2 or dE.shape != dC.shape or dE.shape[1] < 1 or dE.shape[0] < 2:
        raise CesError(f"EVPPI: incremental effects and costs must both be [n_draws, K−1], got {dE.shape} and "
                       f"{dC.shape}")
    if not (np.all(np.isfinite(dE)) and np.all(np.isfinite(dC))):
        raise CesError("EVPPI: incremental effects and costs must be finite")
    return dE, dC


def _theta(theta: ArrayLike, n: int) -> np.ndarray:
    t = np.asarray(theta, dtype=float)
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2 or t.shape[0] != n:
        raise CesError(f"EVPPI: parameter samples must be [n_draws={n}, n_parameters], got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise CesError("EVPPI: parameter samples must be finite")
    return t


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return (rankdata(x) - 0.5) / x.size


def basis_ladder(q: int) -> tuple:
    """Candidate marginal basis sizes for a q-parameter regression (tensor product has m**q columns)."""
    if q == 1:
        return (4, 6, 9, 13)
    if q == 2:
        return (4, 5, 6)
    if q == 3:
        return (3, 4)
    ladder = tuple(m for m in (3, 2) if m ** q <= MAX_COLUMNS)
    if not ladder:
        raise CesError(f"EVPPI groups of {q} parameters are too large for the tensor-product regression "
                       f"(at most 8 parameters)")
    return ladder[:1]


def _marginal(u: np.ndarray, m: int) -> np.ndarray:
    """B-spline basis with m functions on [0, 1] (degree min(3, m−1), uniform knots; sums to 1)."""
    from sklearn.preprocessing import SplineTransformer

    degree = min(3, m - 1)
    st = SplineTransformer(n_knots=m - degree + 1, degree=degree, knots=np.linspace(0.0, 1.0, m - degree + 1)[:, None],
                           include_bias=True, extrapolation="constant")
    return st.fit_transform(u[:, None])


def _basis(U: np.ndarray, m: int) -> np.ndarray:
    """Tensor product of the marginal bases of each column of U (row-wise Kronecker product)."""
    X = _marginal(U[:, 0], m)
    for j in range(1, U.shape[1]):
        Bj = _marginal(U[:, j], m)
        X = (X[:, :, None] * Bj[:, None, :]).reshape(X.shape[0], -1)
    return X


def _orthonormal(X: np.ndarray) -> np.ndarray:
    """Orthonormal basis (n, r) of the column space of X, r = numerical rank (SVD)."""
    Uo, s, _ = np.linalg.svd(X, full_matrices=False)
    r = int(np.sum(s > s[0] * 1e-10))
    return np.ascontiguousarray(Uo[:, :r])


def _fit_p(resid: np.ndarray, U: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Lack-of-fit p-values (responses × parameters): ANOVA of residuals over FIT_BINS rank bins.

    Only material structure counts: a response whose missed between-bin sum of squares is below
    FIT_MATERIAL of its total sum of squares (about its mean) gets p = 1, as does one fitted to
    rounding error (residual sum of squares ≤ 1e-12 of Σy²)."""
    from scipy.stats import f as f_dist

    n = resid.shape[0]
    J = min(FIT_BINS, n // 5)
    out = np.ones((resid.shape[1], U.shape[1]))
    if J < 2:
        return out
    for j in range(U.shape[1]):
        bins = np.minimum((U[:, j] * J).astype(np.int64), J - 1)
        cnt = np.bincount(bins, minlength=J).astype(float)
        ok = cnt > 0
        for t in range(resid.shape[1]):
            r = resid[:, t]
            if float(np.sum(r ** 2)) <= 1e-12 * float(np.sum(Y[:, t] ** 2)):
                continue
            means = np.bincount(bins, weights=r, minlength=J)[ok] / cnt[ok]
            between = float(np.sum(cnt[ok] * (means - r.mean()) ** 2))
            within = float(np.sum(r ** 2) - np.sum(cnt[ok] * means ** 2))
            Jk = int(ok.sum())
            if between < FIT_MATERIAL * float(np.sum((Y[:, t] - Y[:, t].mean()) ** 2)):
                continue
            if within <= 1e-12 * max(float(np.sum(r ** 2)), 1e-300) or Jk < 2:
                continue
            F = (between / (Jk - 1)) / (within / (n - Jk))
            out[t, j] = float(f_dist.sf(F, Jk - 1, n - Jk))
    return out


def bootstrap_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) multinomial resampling counts of the draws (seeded, reproducible)."""
    rng = np.random.Generator(np.random.Philox(np.random.SeedSequence([seed, 0x45565050])))
    w = np.empty((n_boot, n))
    for b in range(n_boot):
        w[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return w


def _weighted_refit(Q: np.ndarray, Y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Coefficients (B, r, t) of the weighted least-squares fits of Y (n, t) on Q (n, r), one per row of W.

    Normal equations G_b β_b = Qᵀ diag(w_b) Y with G_b = Σ_i w_bi q_i q_iᵀ, all b at once as one
    matrix product W · [q_i ⊗ q_i] over the upper triangle (rows chunked to bound memory).
    """
    n, r = Q.shape
    t = Y.shape[1]
    B = W.shape[0]
    iu, ju = np.triu_indices(r)  # G is symmetric: accumulate the upper triangle only
    Gu = np.zeros((B, iu.size))
    R = np.zeros((B, r * t))
    step = max(1, int(2e7 // (8 * (iu.size + r * t))))
    for i0 in range(0, n, step):
        q = Q[i0:i0 + step]
        Gu += W[:, i0:i0 + step] @ (q[:, iu] * q[:, ju])
        R += W[:, i0:i0 + step] @ (q[:, :, None] * Y[i0:i0 + step, None, :]).reshape(q.shape[0], r * t)
    G = np.empty((B, r, r))
    G[:, iu, ju] = Gu
    G[:, ju, iu] = Gu
    R = R.reshape(B, r, t)
    try:
        beta = np.linalg.solve(G, R)
    except np.linalg.LinAlgError:  # a resample that leaves a basis function without data
        beta = np.stack([np.linalg.lstsq(G[b], R[b], rcond=None)[0] for b in range(B)])
    return beta


# ------------------------------------------------------------------ estimators

def evppi_regression(d_effects: ArrayLike, d_costs: ArrayLike, theta: ArrayLike, wtp: ArrayLike,
                     n_boot: int = 100, seed: int = 0, weights: np.ndarray | None = None) -> EvppiEstimate:
    """EVPPI of the parameter(s) ``theta`` (n, q) at every WTP, regression method (see module doc).

    ``d_effects``/``d_costs``: (n, K−1) increments vs the reference strategy (:func:`incremental`).
    ``n_boot`` bootstrap resamples for the SE (0: no SE); ``weights`` may pass precomputed
    bootstrap counts (n_boot, n) so that several parameters share the same resamples.
    Linear algebra runs on one BLAS thread: faster on small matrices, and bit-reproducible
    whatever the machine's core count.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _evppi_regression(d_effects, d_costs, theta, wtp, n_boot, seed, weights)


def _evppi_regression(d_effects, d_costs, theta, wtp, n_boot, seed, weights) -> EvppiEstimate:
    dE, dC = _increments(d_effects, d_costs)
    n, k = dE.shape
    th = _theta(theta, n)
    lam = np.atleast_1d(np.asarray(wtp, dtype=float))
    q = th.shape[1]
    U = np.column_stack([_ranks(th[:, j]) for j in range(q)])
    for j in range(q):
        if np.ptp(th[:, j]) == 0:
            raise CesError(f"EVPPI: parameter column {j} does not vary over the PSA draws")
    Y = np.hstack([dE, dC])  # responses: ΔE_1..ΔE_{K-1}, ΔC_1..ΔC_{K-1}
    T = Y.shape[1]
    ladder = [m for m in basis_ladder(q) if n >= 10 * m ** q]
    if not ladder:
        raise CesError(f"EVPPI: {n} draws are too few for a regression on {q} parameter(s) "
                       f"(need at least {10 * min(basis_ladder(q)) ** q})")
    bases, gcv, fits = [], [], []
    for m in ladder:
        Q = _orthonormal(_basis(U, m))
        F = Q @ (Q.T @ Y)
        rss = np.sum((Y - F) ** 2, axis=0)
        r = Q.shape[1]
        bases.append(Q)
        fits.append(F)
        gcv.append(n * rss / (n - r) ** 2)
    var = Y.var(axis=0)
    live = var > 1e-300
    score = [float(np.sum(g[live] / var[live])) if live.any() else 0.0 for g in gcv]
    c = int(np.argmin(score))  # one basis for all responses (ties → smaller basis)
    Q, fitted = bases[c], fits[c]
    warnings = []
    resid = Y - fitted
    pvals = _fit_p(resid, U, Y)
    fit_p = float(pvals.min())
    if fit_p < FIT_ALPHA / pvals.size:
        warnings.append(f"regression may fit badly: residuals vary with the parameter (lack-of-fit p = {fit_p:.2g})")
    r2 = [1.0 - resid[:, t].var() / var[t] for t in range(T) if var[t] > 1e-300]
    est = _evppi_kernel(fitted[None], np.ones((1, n)), lam)[0]
    se = np.full(lam.size, np.nan)
    if n_boot and n_boot > 1:
        w = weights if weights is not None else bootstrap_weights(n, n_boot, seed)
        reps = np.empty((w.shape[0], lam.size))
        chunk = max(2, int(4e7 // (n * T * 8)))
        for b0 in range(0, w.shape[0], chunk):
            wb = w[b0:b0 + chunk]
            reps[b0:b0 + wb.shape[0]] = _evppi_kernel(np.matmul(Q[None], _weighted_refit(Q, Y, wb)), wb, lam)
        se = reps.std(axis=0, ddof=1)
    return EvppiEstimate(est, se, int(Q.shape[1]), fit_p,
                         float(min(r2)) if r2 else float("nan"), warnings)


def evppi_partition(d_effects: ArrayLike, d_costs: ArrayLike, theta: ArrayLike, wtp: ArrayLike,
                    n_groups: int | None = None) -> np.ndarray:
    """Sorted-partition EVPPI of one parameter (Strong & Oakley 2013), ``[L]``; J = round(√n) by default."""
    dE, dC = _increments(d_effects, d_costs)
    n, k = dE.shape
    th = _theta(theta, n)
    if th.shape[1] != 1:
        raise CesError("the sorted-partition EVPPI is for a single parameter")
    J = int(n_groups or max(1, round(math.sqrt(n))))
    order = np.argsort(th[:, 0], kind="stable")
    group = np.empty(n, dtype=np.int64)
    group[order] = (np.arange(n) * J) // n
    cnt = np.bincount(group, minlength=J).astype(float)
    fe = np.empty((n, k))
    fc = np.empty((n, k))
    for d in range(k):
        fe[:, d] = (np.bincount(group, weights=dE[:, d], minlength=J) / cnt)[group]
        fc[:, d] = (np.bincount(group, weights=dC[:, d], minlength=J) / cnt)[group]
    lam = np.atleast_1d(np.asarray(wtp, dtype=float))
    return _evppi_kernel(np.hstack([fe, fc])[None], np.ones((1, n)), lam)[0]
