"""One registry of parametric survival families, in flexsurv's parameterisations.

Each family is defined once, as numba functions of (t, θ) giving the survival S(t)
(:func:`survival_scalar`) and the hazard h(t) (:func:`hazard_scalar`, closed forms); the
cumulative hazard is H(t) = −ln S(t).  The same code serves the
partitioned-survival engine and time-dependent Markov transitions.

| ``dist`` | parameters | H(t) or S(t) | flexsurv |
|---|---|---|---|
| ``exponential`` | rate | H = rate·t | ``exp`` |
| ``weibull`` (AFT) | shape a, scale b | H = (t/b)^a | ``weibull`` (= R dweibull) |
| ``weibull_ph`` | shape a, scale m | H = m·t^a | ``weibullPH`` |
| ``gompertz`` | shape a, rate b | H = (b/a)(e^(a t) − 1); a = 0: b·t | ``gompertz`` |
| ``loglogistic`` | shape a, scale b | S = 1/(1 + (t/b)^a) | ``llogis`` |
| ``lognormal`` | meanlog μ, sdlog σ | S = 1 − Φ((ln t − μ)/σ) | ``lnorm`` |
| ``gamma`` | shape a, rate b | S = 1 − P(a, b t) | ``gamma`` |
| ``gengamma`` | mu, sigma, Q | w = (ln t − μ)/σ, u = Q^−2 e^(Q w): S = 1 − P(Q^−2, u) (Q > 0), P(Q^−2, u) (Q < 0), lognormal (Q = 0) | ``gengamma`` (Prentice 1974) |
| ``spline`` | gamma0..gamma(m+1), ``knots`` (log time), ``scale`` hazard/odds/normal | η = γ0 + γ1 x + Σ γ(j+1) v_j(x), x = ln t; H = e^η, S = 1/(1+e^η), or S = Φ(−η) | ``survspline`` (Royston & Parmar 2002) |
| ``piecewise_exponential`` | rate1..rateK, ``cuts`` (K−1 interior cut times) | H = Σ rate_i × time spent in interval i | ``pexp`` (msm) |
| ``km`` | ``times``, ``surv`` (a Kaplan-Meier table), ``join`` time T, ``tail`` family + its parameters | S_KM(t) (step) for t ≤ T; S_KM(T)·S_tail(t)/S_tail(T) after | — |

P(a, x) is the regularised lower incomplete gamma function (series for x < a + 1, Lentz
continued fraction otherwise; Press et al., *Numerical Recipes*, §6.2; Wilson–Hilferty's normal
approximation for a > 5·10⁶, i.e. a generalised gamma with |Q| < 4.5·10⁻⁴, where both need too many terms).  Spline basis:
v_j(x) = (x − k_j)_+³ − λ_j (x − k_min)_+³ − (1 − λ_j)(x − k_max)_+³, λ_j = (k_max − k_j)/(k_max − k_min).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ces.errors import CesError

EXP, WEI, WEIPH, GOMP, LLOG, LNORM, GAMMA, GENG, SPLINE, PEXP = range(10)
SCALES = {"hazard": 0, "odds": 1, "normal": 2}


@njit(cache=True)
def _gammainc_lower(a, x):  # pragma: no cover - compiled
    """Regularised lower incomplete gamma P(a, x)."""
    if x <= 0.0:
        return 0.0
    if a > 5e6:  # Wilson-Hilferty (1931): the series/fraction would need > 20000 terms; error O(1/a)
        z = 3.0 * math.sqrt(a) * ((x / a) ** (1.0 / 3.0) - 1.0 + 1.0 / (9.0 * a))
        return 1.0 - _norm_sf(z)
    gln = math.lgamma(a)
    if x < a + 1.0:
        ap = a
        s = 1.0 / a
        d = s
        for _ in range(20000):
            ap += 1.0
            d *= x / ap
            s += d
            if abs(d) < abs(s) * 1e-16:
                break
        return s * math.exp(-x + a * math.log(x) - gln)
    b = x + 1.0 - a
    c = 1.0 / 1e-300
    d = 1.0 / b
    h = d
    for i in range(1, 20000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < 1e-300:
            d = 1e-300
        c = b + an / c
        if abs(c) < 1e-300:
            c = 1e-300
        d = 1.0 / d
        de = d * c
        h *= de
        if abs(de - 1.0) < 1e-16:
            break
    return 1.0 - math.exp(-x + a * math.log(x) - gln) * h


@njit(cache=True)
def _norm_sf(z):  # pragma: no cover
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@njit(cache=True)
def _spline_eta(x, theta, knots):  # pragma: no cover
    kmin = knots[0]
    kmax = knots[knots.shape[0] - 1]
    eta = theta[0] + theta[1] * x
    for j in range(1, knots.shape[0] - 1):
        lam = (kmax - knots[j]) / (kmax - kmin)
        v = max(x - knots[j], 0.0) ** 3 - lam * max(x - kmin, 0.0) ** 3 - (1 - lam) * max(x - kmax, 0.0) ** 3
        eta += theta[j + 1] * v
    return eta


@njit(cache=True)
def survival_scalar(code, t, theta, extra, scale):  # pragma: no cover
    """S(t) of family ``code`` with parameters ``theta`` (extra: knots or cut points)."""
    if t <= 0.0:
        return 1.0
    if code == EXP:
        return math.exp(-theta[0] * t)
    if code == WEI:
        return math.exp(-((t / theta[1]) ** theta[0]))
    if code == WEIPH:
        return math.exp(-theta[1] * t ** theta[0])
    if code == GOMP:
        a, b = theta[0], theta[1]
        if a == 0.0:
            return math.exp(-b * t)
        return math.exp(-(b / a) * math.expm1(a * t))
    if code == LLOG:
        return 1.0 / (1.0 + (t / theta[1]) ** theta[0])
    if code == LNORM:
        return _norm_sf((math.log(t) - theta[0]) / theta[1])
    if code == GAMMA:
        return 1.0 - _gammainc_lower(theta[0], theta[1] * t)
    if code == GENG:
        mu, sigma, q = theta[0], theta[1], theta[2]
        w = (math.log(t) - mu) / sigma
        if q == 0.0:
            return _norm_sf(w)
        a = 1.0 / (q * q)
        u = a * math.exp(q * w)
        if q > 0:
            return 1.0 - _gammainc_lower(a, u)
        return _gammainc_lower(a, u)
    if code == SPLINE:
        eta = _spline_eta(math.log(t), theta, extra)
        if scale == 0:
            return math.exp(-math.exp(eta))
        if scale == 1:
            return 1.0 / (1.0 + math.exp(eta))
        return _norm_sf(eta)
    if code == PEXP:
        H = 0.0
        lo = 0.0
        for i in range(theta.shape[0]):
            hi = extra[i] if i < extra.shape[0] else 1e300
            if t <= lo:
                break
            H += theta[i] * (min(t, hi) - lo)
            lo = hi
        return math.exp(-H)
    return math.nan


@njit(cache=True)
def _spline_deta(x, theta, knots):  # pragma: no cover
    """dη/dx of the Royston-Parmar linear predictor."""
    kmin = knots[0]
    kmax = knots[knots.shape[0] - 1]
    d = theta[1]
    for j in range(1, knots.shape[0] - 1):
        lam = (kmax - knots[j]) / (kmax - kmin)
        dv = 3 * max(x - knots[j], 0.0) ** 2 - 3 * lam * max(x - kmin, 0.0) ** 2 - 3 * (1 - lam) * max(x - kmax, 0.0) ** 2
        d += theta[j + 1] * dv
    return d


@njit(cache=True)
def hazard_scalar(code, t, theta, extra, scale):  # pragma: no cover
    """h(t) of family ``code`` (closed forms; h = f/S where no simpler form exists)."""
    if t <= 0.0:
        t = 1e-300
    if code == EXP:
        return theta[0]
    if code == WEI:
        a, b = theta[0], theta[1]
        return (a / b) * (t / b) ** (a - 1.0)
    if code == WEIPH:
        return theta[1] * theta[0] * t ** (theta[0] - 1.0)
    if code == GOMP:
        return theta[1] * math.exp(theta[0] * t)
    if code == LLOG:
        a, b = theta[0], theta[1]
        z = (t / b) ** a
        return (a / t) * z / (1.0 + z)
    if code == LNORM:
        z = (math.log(t) - theta[0]) / theta[1]
        pdf = math.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * theta[1] * t)
        return pdf / _norm_sf(z)
    if code == GAMMA:
        a, b = theta[0], theta[1]
        logf = a * math.log(b) + (a - 1.0) * math.log(t) - b * t - math.lgamma(a)
        return math.exp(logf) / survival_scalar(code, t, theta, extra, scale)
    if code == GENG:
        mu, sigma, q = theta[0], theta[1], theta[2]
        w = (math.log(t) - mu) / sigma
        if q == 0.0:
            pdf = math.exp(-0.5 * w * w) / (math.sqrt(2 * math.pi) * sigma * t)
        else:
            qi = 1.0 / (q * q)
            logf = (math.log(abs(q)) + qi * math.log(qi) - math.log(sigma * t) - math.lgamma(qi)
                    + qi * (q * w - math.exp(q * w)))
            pdf = math.exp(logf)
        return pdf / survival_scalar(code, t, theta, extra, scale)
    if code == SPLINE:
        x = math.log(t)
        eta = _spline_eta(x, theta, extra)
        deta = _spline_deta(x, theta, extra) / t
        if scale == 0:
            return deta * math.exp(eta)
        if scale == 1:
            return deta * math.exp(eta) / (1.0 + math.exp(eta))
        return deta * math.exp(-0.5 * eta * eta) / math.sqrt(2 * math.pi) / _norm_sf(eta)
    if code == PEXP:
        for i in range(theta.shape[0]):
            if i >= extra.shape[0] or t < extra[i]:
                return theta[i]
        return theta[theta.shape[0] - 1]
    return math.nan


@njit(parallel=True, cache=True, nogil=True)
def hazard_rows(code, t, thetas, extra, scale, out):  # pragma: no cover
    """out[d, k] = h(t[d or 0, k]; thetas[d])."""
    for dd in prange(out.shape[0]):
        d = np.int64(dd)
        td = d if t.shape[0] > 1 else np.int64(0)
        th = thetas[d if thetas.shape[0] > 1 else np.int64(0)]
        for k in range(out.shape[1]):
            out[d, k] = hazard_scalar(code, t[td, k], th, extra, scale)


@njit(parallel=True, cache=True, nogil=True)
def survival_rows(code, t, thetas, extra, scale, out):  # pragma: no cover
    """out[d, k] = S(t[d or 0, k]; thetas[d]) for every draw d (prange over draws)."""
    D = out.shape[0]
    K = out.shape[1]
    for dd in prange(D):
        d = np.int64(dd)
        td = d if t.shape[0] > 1 else np.int64(0)
        th = thetas[d if thetas.shape[0] > 1 else np.int64(0)]
        for k in range(K):
            out[d, k] = survival_scalar(code, t[td, k], th, extra, scale)


@dataclass(frozen=True)
class Family:
    name: str
    code: int
    params: tuple  # parameter names, in θ order
    positive: tuple  # parameters that must be > 0
    flexsurv: str


FAMILIES = {f.name: f for f in (
    Family("exponential", EXP, ("rate",), ("rate",), "exp"),
    Family("weibull", WEI, ("shape", "scale"), ("shape", "scale"), "weibull"),
    Family("weibull_ph", WEIPH, ("shape", "scale"), ("shape", "scale"), "weibullPH"),
    Family("gompertz", GOMP, ("shape", "rate"), ("rate",), "gompertz"),
    Family("loglogistic", LLOG, ("shape", "scale"), ("shape", "scale"), "llogis"),
    Family("lognormal", LNORM, ("meanlog", "sdlog"), ("sdlog",), "lnorm"),
    Family("gamma", GAMMA, ("shape", "rate"), ("shape", "rate"), "gamma"),
    Family("gengamma", GENG, ("mu", "sigma", "Q"), ("sigma",), "gengamma"),
    Family("spline", SPLINE, (), (), "survspline"),
    Family("piecewise_exponential", PEXP, (), (), "pexp"),
    Family("km", -1, (), (), "(KM table + parametric tail)"),
)}
ALIASES = {"exp": "exponential", "weibullPH": "weibull_ph", "llogis": "loglogistic", "lnorm": "lognormal",
           "survspline": "spline", "pexp": "piecewise_exponential"}


def family(name: str) -> Family:
    name = ALIASES.get(name, name)
    if name not in FAMILIES:
        import difflib

        close = difflib.get_close_matches(name, list(FAMILIES), n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        raise CesError(f"unknown survival family `{name}`{hint} (allowed: {', '.join(FAMILIES)})")
    return FAMILIES[name]


def curve_inputs(name: str, spec: dict | None = None) -> tuple:
    """(parameter names, non-expression keys) of a family; spline and piecewise depend on the spec."""
    fam = family(name)
    spec = spec or {}
    if fam.code == SPLINE:
        knots = spec.get("knots") or []
        return tuple(f"gamma{i}" for i in range(len(knots))), ("knots", "scale")
    if fam.code == PEXP:
        cuts = spec.get("cuts") or []
        return tuple(f"rate{i + 1}" for i in range(len(cuts) + 1)), ("cuts",)
    if fam.name == "km":
        tail = spec.get("tail")
        if not isinstance(tail, str) or family(tail).name == "km":
            raise CesError("a `km` curve needs `tail: FAMILY` (e.g. weibull) for the extrapolation after `join`")
        tparams, textra = curve_inputs(tail, spec)
        return tparams, ("times", "surv", "join", "tail") + textra
    return fam.params, ()


def check_extra(name: str, extra: dict) -> tuple:
    """Validate knots/cuts; returns (extra array, scale code)."""
    fam = family(name)
    if fam.code == SPLINE:
        knots = np.asarray(extra.get("knots", []), dtype=float)
        if knots.ndim != 1 or knots.size < 2 or not np.all(np.isfinite(knots)):
            raise CesError("spline `knots` must be a list of at least 2 log-time knots (boundaries included)")
        if np.any(np.diff(knots) <= 0):
            raise CesError(f"spline `knots` must be strictly increasing, got {list(knots)}")
        scale = extra.get("scale", "hazard")
        if scale not in SCALES:
            raise CesError(f"spline `scale` must be one of hazard, odds, normal, got {scale!r}")
        return knots, SCALES[scale]
    if fam.code == PEXP:
        cuts = np.asarray(extra.get("cuts", []), dtype=float)
        if cuts.ndim != 1 or np.any(cuts <= 0) or np.any(np.diff(cuts) <= 0):
            raise CesError("piecewise_exponential `cuts` must be positive, strictly increasing times")
        return cuts, 0
    return np.zeros(0), 0


def _km_table(extra: dict) -> tuple:
    times = np.asarray(extra.get("times", []), dtype=float)
    surv = np.asarray(extra.get("surv", []), dtype=float)
    join = extra.get("join")
    if times.ndim != 1 or times.size < 1 or times.shape != surv.shape:
        raise CesError("`km` needs `times` and `surv` lists of the same length")
    if np.any(np.diff(times) <= 0) or np.any(times < 0):
        raise CesError("`km` `times` must be ≥ 0 and strictly increasing")
    if np.any(np.diff(surv) > 0) or np.any((surv < 0) | (surv > 1)):
        raise CesError("`km` `surv` must be non-increasing values in [0, 1]")
    if isinstance(join, bool) or not isinstance(join, (int, float)) or not times[0] <= join <= times[-1]:
        raise CesError(f"`km` `join` must be a time within the table ({times[0]:g} to {times[-1]:g})")
    return times, surv, float(join)


def _km_survival(t: np.ndarray, theta: dict, extra: dict, where) -> np.ndarray:
    """Kaplan-Meier step function up to `join`, then the parametric tail conditional on survival to `join`."""
    try:
        times, surv, join = _km_table(extra)
    except CesError as exc:
        if where is not None:
            raise CesError(exc.message, file=where.where[0], path=where.where[1], line=where.where[2]) from None
        raise
    idx = np.searchsorted(times, t, side="right") - 1
    s_km = np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)
    s_join = surv[np.searchsorted(times, join, side="right") - 1]
    tail = survival_matrix(extra["tail"], t, theta, extra, where)
    tail_join = survival_matrix(extra["tail"], np.full((1, 1), join), theta, extra, where)
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where(tail_join > 0, tail / tail_join, 0.0)
    return np.where(t <= join, s_km, s_join * cond)


def survival_matrix(name: str, t: np.ndarray, theta: dict, extra: dict, where=None) -> np.ndarray:
    """S(t) for every draw: t (1 or D, K); theta: parameter → float or (D, 1) array. Returns (D, K)."""
    if family(name).name == "km":
        return _km_survival(t, theta, extra, where)
    return _rows(survival_rows, name, t, theta, extra, where)


def hazard_matrix(name: str, t: np.ndarray, theta: dict, extra: dict, where=None) -> np.ndarray:
    """h(t) for every draw (closed forms); shapes as :func:`survival_matrix`."""
    if family(name).name == "km":
        raise CesError("the hazard of a `km` curve is not defined (step function)")
    return _rows(hazard_rows, name, t, theta, extra, where)


def _rows(kernel, name: str, t: np.ndarray, theta: dict, extra: dict, where) -> np.ndarray:
    """Validate the parameters of family ``name`` and run ``kernel`` over draws × times."""
    fam = family(name)
    pnames, _ = curve_inputs(name, extra)
    cols = [np.asarray(theta[p], dtype=float).reshape(-1) for p in pnames]
    D = max([c.size for c in cols] + [t.shape[0]])
    thetas = np.empty((max(c.size for c in cols) if cols else 1, len(pnames)))
    for j, c in enumerate(cols):
        thetas[:, j] = c if c.size == thetas.shape[0] else np.broadcast_to(c, (thetas.shape[0],))
    for j, p in enumerate(pnames):
        bad = ~np.isfinite(thetas[:, j])
        if p in fam.positive:
            bad |= thetas[:, j] <= 0
        if bad.any():
            v = thetas[np.flatnonzero(bad)[0], j]
            what = "a finite number > 0" if p in fam.positive else "a finite number"
            msg = f"{fam.name} `{p}` must be {what}, got {v:g}"
            if where is not None:
                raise CesError(msg, file=where.where[0], path=f"{where.where[1]}.{p}", line=where.where[2])
            raise CesError(msg)
    try:
        ex, scale = check_extra(name, extra)
    except CesError as exc:
        if where is not None:
            raise CesError(exc.message, file=where.where[0], path=where.where[1], line=where.where[2]) from None
        raise
    out = np.empty((D, t.shape[1]))
    kernel(fam.code, np.ascontiguousarray(t, dtype=float), thetas, ex, scale, out)
    return out


def survival(name: str, t, params: dict, extra: dict | None = None) -> np.ndarray:
    """S(t) for one parameter set (a convenience wrapper used in tests and plots)."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    return survival_matrix(name, t[None, :], params, extra or {})[0]


def cumhaz(name: str, t, params: dict, extra: dict | None = None) -> np.ndarray:
    """H(t) = −ln S(t)."""
    return -np.log(survival(name, t, params, extra))


def hazard(name: str, t, params: dict, extra: dict | None = None) -> np.ndarray:
    """h(t) for one parameter set."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    return hazard_matrix(name, t[None, :], params, extra or {})[0]
