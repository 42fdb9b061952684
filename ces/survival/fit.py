"""Maximum-likelihood fits of the registry's survival families to (weighted, right-censored) data.

This module holds the fit results (:class:`Fit`), the starting values, the optimisation (MLE and
numerical Hessian) and the candidate set; the likelihood it maximises (models, data, parameter
transforms, ℓ) is in :mod:`ces.survival.fit_likelihood`, whose names are re-exported here.

The covariance of the transformed estimates is the inverse of the numerical Hessian of −ℓ at the MLE
(central differences); natural-scale SEs follow by the delta method and 95% CIs are back-transformed
from the transformed scale (as flexsurv's ``res`` table).  AIC = −2ℓ + 2k, BIC = −2ℓ + k ln n with
n the number of observations (flexsurv's default ``cens = TRUE``).

Spline knots (Royston & Parmar, Stat Med 2002; flexsurvspline): boundary knots at the smallest and
largest log event time, m internal knots at the equally spaced quantiles of the log event times.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ces.errors import CesError
from ces.survival import registry
from ces.survival.fit_likelihood import (  # noqa: F401  (re-exported)
    _TRANSFORMS, BASIC, CURE_TYPES, SPLINE_SCALES, Background, Data, Model, _fwd, _grid, _inv, _log_density,
    _log_f_and_S, _natural, _uncured, coef_names, loglik, model_survival)


@dataclass
class Fit:
    model: Model
    coef_names: tuple  # transformed-scale names (e.g. log(shape), b_arm2)
    coef: np.ndarray  # transformed-scale MLE
    cov: np.ndarray  # its covariance (inverse Hessian of −ℓ)
    loglik: float
    n: int
    events: float
    converged: bool
    message: str = ""
    covariates: tuple = ()
    natural: dict = field(default_factory=dict)  # name -> (est, se, lcl, ucl)
    background: Background | None = None  # cure models: S(t) below is S_bg·S_cure, as the model evaluates it

    @property
    def k(self) -> int:
        return int(self.coef.size)

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.k

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + self.k * math.log(self.n)

    def params_at(self, x: np.ndarray | None = None) -> dict:
        """Natural-scale parameters at covariate values x (default: the reference level)."""
        p = _natural(self.model, self.coef, None if x is None else np.atleast_2d(x))
        return {k: float(np.asarray(v).reshape(-1)[0]) if np.size(v) == 1 else v for k, v in p.items()}

    def survival(self, t, x=None) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        S = model_survival(self.model, t, self.params_at(x))
        return S * self.background.survival(t) if self.model.cure and self.background else S

    def hazard(self, t, x=None) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        p = self.params_at(x)
        h = np.exp(_log_density(self.model, t, p) - np.log(model_survival(self.model, t, p)))
        return h + self.background.hazard(t) if self.model.cure and self.background else h

    def rmst(self, horizon: float, x=None, n: int = 20001) -> float:
        """Restricted mean survival ∫₀^τ S(t) dt (trapezoid on n points)."""
        t = np.linspace(0.0, horizon, n)
        return float(np.trapezoid(self.survival(t, x), t))


# ----------------------------------------------------------------------------- starting values
def _start(model: Model, data: Data, fits: dict) -> list:
    """Starting points on the transformed scale (several for the awkward families)."""
    d = float(np.sum(data.weight * data.event))
    T = float(np.sum(data.weight * data.time))
    rate = max(d, 0.5) / T
    m = -math.log(rate)  # log of the exponential mean
    p = len(data.covariates)

    def tr(nat):
        return np.array([_fwd(t, v) for t, v in zip(model.transforms, nat)] + [0.0] * p)

    def base(name):
        f = fits.get(name)
        return None if f is None else f.coef[:len(Model(name).params)]

    starts: list = []
    if model.cure is not None:
        u = Model(model.dist, model.knots, model.scale)
        f = fits.get(u.label)
        for pi in (0.2, 0.5):
            if f is not None:
                starts.append(np.concatenate([f.coef[:len(u.params)], [_fwd("logit", pi)], np.zeros(p)]))
            starts += [np.concatenate([s[:len(u.params)], [_fwd("logit", pi)], np.zeros(p)])
                       for s in _start(u, data, fits)[:1]]
        return starts
    dist = model.dist
    if dist == "exponential":
        return [tr([rate])]
    if dist in ("weibull", "loglogistic"):
        return [tr([1.0, math.exp(m)])]
    if dist == "weibull_ph":
        return [tr([1.0, rate])]
    if dist == "gompertz":
        return [tr([0.0, rate]), tr([-1.0 / math.exp(m), rate]), tr([1.0 / math.exp(m), rate * 0.5])]
    if dist == "lognormal":
        return [tr([m + math.log(math.log(2.0)), 1.0])]
    if dist == "gamma":
        return [tr([1.0, rate]), tr([2.0, 2.0 * rate]), tr([0.5, 0.5 * rate])]
    if dist == "gengamma":
        out = []
        w = base("weibull")
        if w is not None:  # Weibull = gengamma with Q = 1, mu = ln scale, sigma = 1/shape
            out.append(np.concatenate([[w[1], -w[0], 1.0], np.zeros(p)]))
        ln = base("lognormal")
        if ln is not None:
            for q in (0.5, -0.5):
                out.append(np.concatenate([[ln[0], ln[1], q], np.zeros(p)]))
        out.append(np.concatenate([[m, 0.0, 1.0], np.zeros(p)]))
        return out
    if dist == "spline":
        g = np.zeros(len(model.knots))
        src = {"hazard": "weibull", "odds": "loglogistic", "normal": "lognormal"}[model.scale]
        b = base(src)
        if b is None:
            b = np.array([0.0, m]) if src != "lognormal" else np.array([m, 0.0])
        if src == "lognormal":  # η = (ln t − μ)/σ
            sig = math.exp(b[1])
            g[0], g[1] = -b[0] / sig, 1.0 / sig
        else:  # η = a ln t − a ln b
            a = math.exp(b[0])
            g[0], g[1] = -a * b[1], a
        return [np.concatenate([g, np.zeros(p)])]
    raise CesError(f"no fitting rule for family `{dist}`")


# ----------------------------------------------------------------------------- optimisation
def hessian(f, x: np.ndarray, rel: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of f at x (steps h_j = rel·max(1, |x_j|))."""
    k = x.size
    h = rel * np.maximum(1.0, np.abs(x))
    H = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h[i] * h[j])
    return H


def fit_model(model: Model, data: Data, fits: dict | None = None, starts: list | None = None,
              covariance: bool = True) -> Fit:
    """MLE of one model: BFGS from each start, restarted once (best kept); covariance from the Hessian."""
    from scipy import optimize

    fits = fits or {}

    def nll(z):
        v = loglik(model, z, data)
        return -v if math.isfinite(v) else 1e300

    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow while the line search probes far points
        for z0 in (starts or _start(model, data, fits)):
            if not math.isfinite(loglik(model, z0, data)):
                continue
            r = optimize.minimize(nll, z0, method="BFGS", options={"gtol": 1e-7, "maxiter": 2000})
            if not r.success:  # line search lost (e.g. an invalid region next to the optimum): simplex, then BFGS
                r = optimize.minimize(nll, r.x, method="Nelder-Mead",
                                      options={"xatol": 1e-9, "fatol": 1e-11, "maxfev": 4000 * z0.size})
            r = optimize.minimize(nll, r.x, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000})
            if best is None or r.fun < best.fun:
                best = r
    names = coef_names(model, data.covariates)
    if best is None:
        k = len(names)
        return Fit(model, names, np.full(k, np.nan), np.full((k, k), np.nan), -math.inf, data.n,
                   float(np.sum(data.weight * data.event)), False, "no valid starting value", data.covariates)
    z = best.x
    if not covariance:
        k = z.size
        return Fit(model, names, z, np.full((k, k), np.nan), -float(best.fun), data.n,
                   float(np.sum(data.weight * data.event)), bool(best.success), "", data.covariates,
                   background=data.background)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        H = hessian(nll, z)
    try:
        cov = np.linalg.inv(H)
        ok = bool(np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0))
    except np.linalg.LinAlgError:
        cov, ok = np.full_like(H, np.nan), False
    cov = (cov + cov.T) / 2
    msg = "" if ok else "Hessian not positive definite at the optimum (boundary or non-identified parameter)"
    fit = Fit(model, names, z, cov, -float(best.fun), data.n, float(np.sum(data.weight * data.event)),
              ok, msg, data.covariates, background=data.background)
    fit.natural = _natural_table(model, z, cov, data.covariates)
    return fit


def _natural_table(model: Model, z, cov, covariates) -> dict:
    """est, SE (delta method), 95% CI back-transformed from the transformed scale."""
    out = {}
    q = 1.959963984540054
    for j, (p, tr) in enumerate(zip(model.params + tuple(covariates),
                                    model.transforms + ("identity",) * len(covariates))):
        se_z = math.sqrt(cov[j, j]) if np.isfinite(cov[j, j]) and cov[j, j] > 0 else math.nan
        est = float(_inv(tr, z[j]))
        deriv = est if tr == "log" else (est * (1 - est) if tr == "logit" else 1.0)
        out[p] = (est, abs(deriv) * se_z, float(_inv(tr, z[j] - q * se_z)), float(_inv(tr, z[j] + q * se_z)))
    return out


# ----------------------------------------------------------------------------- candidate set
def spline_knots(data: Data, m: int) -> tuple:
    """Boundary knots at min/max log event time, m internal knots at equally spaced quantiles."""
    lt = np.log(data.time[(data.event > 0) & (data.weight > 0)])
    if lt.size < 2:
        raise CesError("a spline fit needs at least 2 events")
    inner = np.quantile(lt, np.linspace(0, 1, m + 2)[1:-1]) if m else np.array([])
    return tuple(float(v) for v in np.concatenate([[lt.min()], inner, [lt.max()]]))


def candidates(data: Data, families=None, knots=(1, 2, 3), cure: bool = True) -> list:
    """Every registry family: the basic eight, splines (m internal knots × 3 scales), cure versions."""
    chosen = list(families) if families else list(BASIC) + ["spline"]
    out = []
    for f in chosen:
        f = registry.ALIASES.get(f, f)
        if f == "spline":
            for m in knots:
                for s in SPLINE_SCALES:
                    out.append(Model("spline", spline_knots(data, m), s))
        elif f in _TRANSFORMS:
            out.append(Model(f))
        else:
            raise CesError(f"family `{f}` cannot be fitted (fittable: {', '.join(BASIC)}, spline)")
    if cure:
        out += [Model(mo.dist, mo.knots, mo.scale, ct) for ct in CURE_TYPES for mo in list(out)
                if mo.dist != "spline"]
    return out


def fit_all(data: Data, models: list) -> list:
    """Fit every model (basic families first: they seed the harder ones); sorted by AIC.

    The registry kernels run single-threaded here: one likelihood is one small call, and thread start-up
    would dominate it (the thread count is restored afterwards)."""
    import numba

    done: dict = {}
    order = sorted(models, key=lambda mo: (mo.cure is not None, mo.dist in ("gengamma", "spline")))
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for mo in order:
            done[mo.label] = fit_model(mo, data, done)
    finally:
        numba.set_num_threads(threads)
    return sorted(done.values(), key=lambda f: (not math.isfinite(f.aic), f.aic))
