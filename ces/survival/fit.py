"""Maximum-likelihood fits of the registry's survival families to (weighted, right-censored) data.

The log-likelihood is built from the SAME functions the engine evaluates
(:func:`ces.survival.registry.survival_matrix` and :func:`~ces.survival.registry.hazard_matrix`),
so a family is defined once and is fitted, extrapolated and simulated identically:

    ℓ(θ) = Σ_i w_i [ δ_i · ln h(t_i; θ) + ln S(t_i; θ) ]          (= Σ w_i [δ_i ln f + (1 − δ_i) ln S])

with δ_i = 1 for an event, 0 for a censored time (flexsurv's ``loglik``, constants included, so the
values compare with ``flexsurvreg``/``survreg``; Jackson, J Stat Softw 2016, 70(8)).

Cure models (Lambert et al., Stat Med 2007; flexsurvcure), with π the cure fraction and the registry
family as the uncured distribution S_u, h_u (the engine multiplies both by the background survival):
- mixture:      S = π + (1 − π) S_u,     f = (1 − π) h_u S_u;
- non-mixture:  S = π^(1 − S_u),         f = −ln π · h_u S_u · S.

Parameters are estimated on flexsurv's transformed (real-line) scale: ln of the positive parameters,
logit of π, identity otherwise.  A covariate (the arm, dummy-coded against the first level in sorted
order, as R's ``factor``) enters the transformed *location* parameter linearly, as flexsurv does:
rate (exponential, Gompertz, gamma) and scale (Weibull PH) → proportional hazards; scale (Weibull,
log-logistic), meanlog, mu → accelerated failure time; γ0 of a spline → PH / PO / probit shift.

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

# family -> (parameter transforms in θ order, index of the location parameter)
_TRANSFORMS = {
    "exponential": (("log",), 0),
    "weibull": (("log", "log"), 1),
    "weibull_ph": (("log", "log"), 1),
    "gompertz": (("identity", "log"), 1),
    "loglogistic": (("log", "log"), 1),
    "lognormal": (("identity", "log"), 0),
    "gamma": (("log", "log"), 1),
    "gengamma": (("identity", "log", "identity"), 0),
}
BASIC = tuple(_TRANSFORMS)
SPLINE_SCALES = ("hazard", "odds", "normal")
CURE_TYPES = ("mixture", "non_mixture")


@dataclass(frozen=True)
class Model:
    """One candidate: a registry family (``dist``), optional spline setup and optional cure."""
    dist: str
    knots: tuple = ()  # spline: log-time knots, boundaries included
    scale: str = "hazard"  # spline scale
    cure: str | None = None  # None | mixture | non_mixture

    @property
    def label(self) -> str:
        base = self.dist
        if self.dist == "spline":
            base = f"spline_{self.scale}_k{len(self.knots) - 2}"
        return f"{self.cure}_cure_{base}" if self.cure else base

    @property
    def params(self) -> tuple:
        """Natural-scale parameter names (the registry's, then `cure`)."""
        names = registry.curve_inputs(self.dist, {"knots": list(self.knots)})[0]
        return names + (("cure",) if self.cure else ())

    @property
    def transforms(self) -> tuple:
        tr = ("identity",) * len(self.knots) if self.dist == "spline" else _TRANSFORMS[self.dist][0]
        return tr + (("logit",) if self.cure else ())

    @property
    def location(self) -> int:
        return 0 if self.dist == "spline" else _TRANSFORMS[self.dist][1]

    @property
    def extra(self) -> dict:
        return {"knots": list(self.knots), "scale": self.scale} if self.dist == "spline" else {}


@dataclass(frozen=True)
class Background:
    """All-cause background mortality of the cohort: a :class:`~ces.survival.lifetable.LifeTable`, the age
    at t = 0, sex weights and the data's time units per year.  For a mixed cohort
    S_bg = Σ_s w_s S_s and h_bg = Σ_s w_s S_s μ_s / S_bg (as the engine's background survival)."""
    table: object
    age: float
    weights: dict
    per_year: float

    def survival(self, t) -> np.ndarray:
        return self.table.survival(self.age, np.asarray(t, dtype=float) / self.per_year, self.weights)

    def hazard(self, t) -> np.ndarray:
        """Per data time unit."""
        y = np.asarray(t, dtype=float) / self.per_year
        num = den = 0.0
        for sx, w in self.weights.items():
            S = np.exp(-self.table.cumhaz(self.age, y, sx))
            num = num + w * S * self.table.hazard_at(self.age + y, {sx: 1.0})
            den = den + w * S
        return num / den / self.per_year


@dataclass
class Data:
    """Right-censored observations: time > 0, event ∈ {0, 1}, weight ≥ 0, covariate matrix X (n × p).

    With ``background``, cure models are fitted as the engine evaluates them, S = S_bg·S_cure (relative
    survival; flexsurvcure's ``bhazard``): ln f = ln S_bg + ln S_cure + ln(h_bg + h_cure), ln S = ln S_bg +
    ln S_cure, so their log-likelihood stays the all-cause one, comparable with the other families'."""
    time: np.ndarray
    event: np.ndarray
    weight: np.ndarray
    X: np.ndarray
    covariates: tuple = ()
    background: Background | None = None

    @property
    def n(self) -> int:
        return int(self.time.size)

    @property
    def bg_terms(self):
        """(h_bg(t_i), ln S_bg(t_i)), computed once."""
        if self.background is None:
            return None
        if getattr(self, "_bg", None) is None:
            self._bg = (self.background.hazard(self.time), np.log(self.background.survival(self.time)))
        return self._bg


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


# ----------------------------------------------------------------------------- transforms
def _inv(tr: str, z):
    with np.errstate(over="ignore"):
        if tr == "log":
            return np.exp(z)
        if tr == "logit":
            return 1.0 / (1.0 + np.exp(-z))
    return z


def _fwd(tr: str, v: float) -> float:
    if tr == "log":
        return math.log(v)
    if tr == "logit":
        return math.log(v / (1.0 - v))
    return v


def _natural(model: Model, coef: np.ndarray, X: np.ndarray | None) -> dict:
    """Natural-scale parameters; the location gets + X β (per row of X when given)."""
    k = len(model.params)
    z = [coef[j] for j in range(k)]
    if coef.size > k:
        beta = coef[k:]
        xb = (X if X is not None else np.zeros((1, beta.size))) @ beta
        z[model.location] = z[model.location] + xb
    return {p: _inv(tr, z[j]) for j, (p, tr) in enumerate(zip(model.params, model.transforms))}


def coef_names(model: Model, covariates: tuple) -> tuple:
    names = []
    for p, tr in zip(model.params, model.transforms):
        names.append(p if tr == "identity" else f"{tr}({p})")
    return tuple(names) + tuple(covariates)


# ----------------------------------------------------------------------------- S, ln f via registry
def _grid(t: np.ndarray, params: dict):
    """Shape t and the parameters for the registry: per-row parameters go with t as a column."""
    per_row = any(np.ndim(v) > 0 and np.size(v) > 1 for v in params.values())
    if per_row:
        return t.reshape(-1, 1), {k: np.broadcast_to(np.asarray(v, float), t.shape).reshape(-1, 1)
                                  for k, v in params.items()}, True
    return t.reshape(1, -1), {k: float(np.asarray(v).reshape(-1)[0]) for k, v in params.items()}, False


def _uncured(model: Model, t: np.ndarray, params: dict):
    """(S_u, h_u) of the registry family, flattened to t's shape."""
    tt, th, _ = _grid(t, {p: v for p, v in params.items() if p != "cure"})
    S = registry.survival_matrix(model.dist, tt, th, model.extra).reshape(t.shape)
    h = registry.hazard_matrix(model.dist, tt, th, model.extra).reshape(t.shape)
    return S, h


def model_survival(model: Model, t: np.ndarray, params: dict) -> np.ndarray:
    """S(t) of a fitted model (cure models via :mod:`ces.survival.effects` with S_bg = 1)."""
    from ces.survival import effects

    t = np.atleast_1d(t)
    tt, th, _ = _grid(t, {p: v for p, v in params.items() if p != "cure"})
    S = registry.survival_matrix(model.dist, tt, th, model.extra).reshape(1, -1)
    if model.cure is None:
        return S.reshape(t.shape)
    pi = np.asarray(params["cure"], dtype=float).reshape(1, -1) if np.size(params["cure"]) > 1 else params["cure"]
    one = np.ones(S.shape[1])
    cure = effects.mixture_cure if model.cure == "mixture" else effects.non_mixture_cure
    return cure(S, one, pi).reshape(t.shape)


def _log_density(model: Model, t: np.ndarray, params: dict) -> np.ndarray:
    return _log_f_and_S(model, t, params)[0]


def _log_f_and_S(model: Model, t: np.ndarray, params: dict):
    """(ln f, ln S) at t, from one evaluation of the registry's S_u and h_u."""
    S_u, h_u = _uncured(model, t, params)
    with np.errstate(divide="ignore", invalid="ignore"):
        lf_u = np.log(h_u) + np.log(S_u)
        if model.cure is None:
            return lf_u, np.log(S_u)
        pi = params["cure"]
        if model.cure == "mixture":
            return np.log1p(-pi) + lf_u, np.log(pi + (1.0 - pi) * S_u)
        lS = np.log(pi) * (1.0 - S_u)
        return np.log(-np.log(pi)) + lf_u + lS, lS


def loglik(model: Model, coef: np.ndarray, data: Data) -> float:
    """ℓ(θ) (see the module docstring); −inf where the parameters are invalid."""
    try:
        params = _natural(model, np.asarray(coef, dtype=float), data.X if data.X.shape[1] else None)
        with np.errstate(all="ignore"):
            lf, lS = _log_f_and_S(model, data.time, params)
    except (CesError, ArithmeticError, ValueError, SystemError):  # numba raises ZeroDivisionError as SystemError
        return -math.inf
    if model.cure and data.background is not None:
        bh, lsb = data.bg_terms
        with np.errstate(all="ignore"):
            lf = lS + np.log(bh + np.exp(lf - lS)) + lsb
        lS = lS + lsb
    terms = np.where(data.event > 0, lf, lS)
    used = data.weight > 0
    if not np.all(np.isfinite(terms[used])):
        return -math.inf
    return float(np.sum(data.weight[used] * terms[used]))


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
