"""The likelihood of the survival fits: the candidate models, the data and background mortality, the
parameter transforms, S(t; θ), ln f(t; θ) and the log-likelihood ℓ(θ) (maximised by :mod:`ces.survival.fit`).

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    at t = 0, sex weights, the data's time units per year and an excess mortality ratio ``smr`` (``--smr``,
    the engine's ``smr:`` key).  For a mixed cohort S_bg = Σ_s w_s S_s with S_s = exp(−smr·H_s) and
    h_bg = Σ_s w_s S_s smr·μ_s / S_bg (as the engine's background survival, LifeTable.survival)."""
    table: object
    age: float
    weights: dict
    per_year: float
    smr: float = 1.0

    def survival(self, t) -> np.ndarray:
        return self.table.survival(self.age, np.asarray(t, dtype=float) / self.per_year, self.weights,
                                   None if self.smr == 1.0 else self.smr)

    def hazard(self, t) -> np.ndarray:
        """Per data time unit."""
        y = np.asarray(t, dtype=float) / self.per_year
        num = den = 0.0
        for sx, w in self.weights.items():
            S = np.exp(-self.smr * self.table.cumhaz(self.age, y, sx))
            num = num + w * S * self.smr * self.table.hazard_at(self.age + y, {sx: 1.0})
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
