"""One registry of parameter distributions for probabilistic sensitivity analysis.

Each distribution is built from its YAML mapping (``dist`` plus the fields of one of
its parameterisations), validated at load time, and exposes ``dim``, ``mean``, ``sd``,
``ppf(q)`` (univariate) and ``sample(rng, n)``.

Parameterisations and method-of-moments formulas (Briggs, Claxton & Sculpher,
*Decision Modelling for Health Economic Evaluation*, OUP 2006, ch. 4):

- ``fixed``: {value}
- ``normal``: {mean, sd}
- ``truncnormal``: {mean, sd, lower?, upper?} — mean and sd of the *untruncated* normal
- ``lognormal``: {meanlog, sdlog} | {mean, sd}: sdlog² = ln(1 + sd²/mean²), meanlog = ln(mean) − sdlog²/2
- ``beta``: {alpha, beta} | {shape1, shape2} | {mean, sd}: k = mean(1−mean)/sd² − 1, α = mean·k, β = (1−mean)·k
- ``gamma``: {shape, rate} | {shape, scale} | {mean, sd}: shape = mean²/sd², scale = sd²/mean
- ``uniform``: {min, max}; ``triangular``: {min, mode, max}
- ``pert``: {min, mode, max, lambda=4}: beta-PERT, α = 1 + λ(mode−min)/(max−min), β = 1 + λ(max−mode)/(max−min)
  on [min, max] (Vose, *Risk Analysis*, 2008)
- ``dirichlet``: {counts} | {mean, concentration}: α = mean·concentration
- ``mvnormal``: {mean, cov} | {mean, sd, corr}: cov = diag(sd)·corr·diag(sd)
- ``empirical``: {file, column} | {file, columns}: rows resampled with replacement
- ``bootstrap``: {file, column | columns, B?}: as empirical, over the replicates of ``ces fit --bootstrap``
  (replicates 0..B−1 with ``B``); see :mod:`ces.params.bootstrap_rows`
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ces.errors import CesError


def _stats():
    """scipy.stats, imported on first use (it costs ~0.5–1 s at start-up; only quantiles need it)."""
    from scipy import stats

    return stats


def _special():
    """scipy.special (~0.25 s to import, scipy.stats ~0.4 s more): the quantile functions of the common families."""
    import scipy.special._ufuncs as scu

    return scu


def _inside(q) -> bool:
    q = np.asarray(q, dtype=float)
    return bool(np.all((q > 0.0) & (q < 1.0)))


# ----------------------------------------------------------------- method of moments
def beta_from_mean_sd(mean: float, sd: float) -> tuple[float, float]:
    """(α, β) with the given mean and sd; needs 0 < mean < 1 and sd² < mean(1 − mean)."""
    if not 0 < mean < 1:
        raise ValueError(f"beta mean must be in (0, 1), got {mean}")
    if sd <= 0:
        raise ValueError(f"sd must be > 0, got {sd}")
    if sd ** 2 >= mean * (1 - mean):
        raise ValueError(f"beta sd too large: sd² = {sd ** 2:g} must be < mean(1−mean) = {mean * (1 - mean):g}")
    k = mean * (1 - mean) / sd ** 2 - 1
    return mean * k, (1 - mean) * k


def gamma_from_mean_sd(mean: float, sd: float) -> tuple[float, float]:
    """(shape, scale) with the given mean and sd."""
    if mean <= 0:
        raise ValueError(f"gamma mean must be > 0, got {mean}")
    if sd <= 0:
        raise ValueError(f"sd must be > 0, got {sd}")
    return mean ** 2 / sd ** 2, sd ** 2 / mean


def lognormal_from_mean_sd(mean: float, sd: float) -> tuple[float, float]:
    """(meanlog, sdlog) of a lognormal with the given arithmetic mean and sd."""
    if mean <= 0:
        raise ValueError(f"lognormal mean must be > 0, got {mean}")
    if sd <= 0:
        raise ValueError(f"sd must be > 0, got {sd}")
    s2 = math.log(1 + sd ** 2 / mean ** 2)
    return math.log(mean) - s2 / 2, math.sqrt(s2)


def dirichlet_from_mean(mean, concentration: float) -> np.ndarray:
    """Dirichlet α = mean · concentration (mean sums to 1)."""
    m = np.asarray(mean, dtype=float)
    if np.any(m <= 0) or abs(m.sum() - 1) > 1e-9:
        raise ValueError("dirichlet `mean` must be positive and sum to 1")
    if concentration <= 0:
        raise ValueError("dirichlet `concentration` must be > 0")
    return m * concentration


# ------------------------------------------------------------------- distribution
@dataclass
class Distribution:
    name: str
    dim: int
    mean: Any
    sd: Any
    _sample: Callable = field(repr=False)
    _ppf: Callable | None = field(default=None, repr=False)
    params: dict = field(default_factory=dict)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self._sample(rng, n)

    def ppf(self, q):
        if self._ppf is None:
            raise CesError(f"{self.name}: quantiles are defined only for univariate distributions")
        return self._ppf(np.asarray(q, dtype=float))


def _uni(name, mean, sd, sampler, frozen, params, quantile=None) -> Distribution:
    """A univariate distribution; ``frozen()`` builds the scipy.stats object for quantiles, lazily.

    ``quantile(q)``: the same quantiles from scipy.special without importing scipy.stats, for 0 < q < 1;
    each is scipy.stats' own formula (``rv_continuous.ppf`` = ``_ppf(q)·scale + loc``) with the same
    special function, so the values are identical (checked on 10,000 random cases per family)."""
    def ppf(q):
        return quantile(np.asarray(q, dtype=float)) if quantile is not None and _inside(q) else frozen().ppf(q)

    return Distribution(name, 1, float(mean), float(sd), sampler, ppf, params)


def _normal(p):
    m, s = p["mean"], p["sd"]
    _pos(s, "sd")
    return _uni("normal", m, s, lambda rng, n: m + s * rng.standard_normal(n), lambda: _stats().norm(m, s), p,
                lambda q: _special().ndtri(q) * s + m)


def _truncnormal(p):
    m, s = p["mean"], p["sd"]
    _pos(s, "sd")
    lo, hi = p.get("lower", -np.inf), p.get("upper", np.inf)
    if "lower" not in p and "upper" not in p:
        raise ValueError("truncnormal needs `lower` and/or `upper`")
    if lo >= hi:
        raise ValueError(f"truncnormal needs lower < upper, got {lo} and {hi}")
    a, b = (lo - m) / s, (hi - m) / s
    fr = _stats().truncnorm(a, b, loc=m, scale=s)
    # inverse-CDF sampling from uniforms: exact and reproducible
    return _uni("truncnormal", fr.mean(), fr.std(), lambda rng, n: fr.ppf(rng.random(n)), lambda: fr, p)


def _lognormal(p):
    if "meanlog" in p:
        ml, sl = p["meanlog"], p["sdlog"]
        _pos(sl, "sdlog")
    else:
        ml, sl = lognormal_from_mean_sd(p["mean"], p["sd"])
    mean = math.exp(ml + sl ** 2 / 2)
    sd = math.sqrt(math.expm1(sl ** 2)) * mean
    return _uni("lognormal", mean, sd, lambda rng, n: np.exp(ml + sl * rng.standard_normal(n)),
                lambda: _stats().lognorm(s=sl, scale=math.exp(ml)), p,
                lambda q: np.exp(sl * _special().ndtri(q)) * math.exp(ml) + 0.0)


def _beta(p):
    if "alpha" in p:
        a, b = p["alpha"], p["beta"]
    elif "shape1" in p:
        a, b = p["shape1"], p["shape2"]
    else:
        a, b = beta_from_mean_sd(p["mean"], p["sd"])
    _pos(a, "alpha")
    _pos(b, "beta")
    return _uni("beta", a / (a + b), math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))),
                lambda rng, n: rng.beta(a, b, n), lambda: _stats().beta(a, b), p,
                lambda q: _special()._beta_ppf(q, a, b) + 0.0)


def _gamma(p):
    if "rate" in p:
        k, th = p["shape"], 1.0 / _pos(p["rate"], "rate")
    elif "scale" in p:
        k, th = p["shape"], p["scale"]
    else:
        k, th = gamma_from_mean_sd(p["mean"], p["sd"])
    _pos(k, "shape")
    _pos(th, "scale")
    return _uni("gamma", k * th, math.sqrt(k) * th, lambda rng, n: rng.gamma(k, th, n),
                lambda: _stats().gamma(k, scale=th), p,
                lambda q: _special().gammaincinv(k, q) * th + 0.0)


def _uniform(p):
    lo, hi = p["min"], p["max"]
    if lo >= hi:
        raise ValueError(f"uniform needs min < max, got {lo} and {hi}")
    return _uni("uniform", (lo + hi) / 2, (hi - lo) / math.sqrt(12), lambda rng, n: rng.uniform(lo, hi, n),
                lambda: _stats().uniform(lo, hi - lo), p,
                lambda q: q * (hi - lo) + lo)


def _triangular(p):
    lo, mo, hi = p["min"], p["mode"], p["max"]
    if not (lo <= mo <= hi and lo < hi):
        raise ValueError(f"triangular needs min ≤ mode ≤ max with min < max, got {lo}, {mo}, {hi}")
    var = (lo ** 2 + mo ** 2 + hi ** 2 - lo * mo - lo * hi - mo * hi) / 18
    return _uni("triangular", (lo + mo + hi) / 3, math.sqrt(var), lambda rng, n: rng.triangular(lo, mo, hi, n),
                lambda: _stats().triang((mo - lo) / (hi - lo), loc=lo, scale=hi - lo), p)


def _pert(p):
    lo, mo, hi, lam = p["min"], p["mode"], p["max"], p.get("lambda", 4.0)
    if not (lo <= mo <= hi and lo < hi):
        raise ValueError(f"pert needs min ≤ mode ≤ max with min < max, got {lo}, {mo}, {hi}")
    _pos(lam, "lambda")
    a = 1 + lam * (mo - lo) / (hi - lo)
    b = 1 + lam * (hi - mo) / (hi - lo)
    mean = lo + (hi - lo) * a / (a + b)
    sd = (hi - lo) * math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return _uni("pert", mean, sd, lambda rng, n: lo + (hi - lo) * rng.beta(a, b, n),
                lambda: _stats().beta(a, b, loc=lo, scale=hi - lo), p)


def _fixed(p):
    v = p["value"]
    return Distribution("fixed", 1, float(v), 0.0, lambda rng, n: np.full(n, float(v)),
                        lambda q: np.full(np.shape(q), float(v)), p)


def _dirichlet(p):
    if "counts" in p:
        alpha = np.asarray(p["counts"], dtype=float)
        if alpha.ndim != 1 or alpha.size < 2 or np.any(alpha <= 0):
            raise ValueError("dirichlet `counts` must be a list of at least 2 positive numbers")
    else:
        alpha = dirichlet_from_mean(p["mean"], p["concentration"])
    a0 = alpha.sum()
    mean = alpha / a0
    sd = np.sqrt(mean * (1 - mean) / (a0 + 1))
    return Distribution("dirichlet", alpha.size, mean, sd, lambda rng, n: rng.dirichlet(alpha, n), None, p)


def _mvnormal(p):
    mean = np.asarray(p["mean"], dtype=float)
    if mean.ndim != 1 or mean.size < 1:
        raise ValueError("mvnormal `mean` must be a list of numbers")
    k = mean.size
    if "cov" in p:
        cov = np.asarray(p["cov"], dtype=float)
    else:
        sd = np.asarray(p["sd"], dtype=float)
        corr = np.asarray(p["corr"], dtype=float)
        if sd.shape != (k,) or np.any(sd <= 0):
            raise ValueError(f"mvnormal `sd` must be {k} positive numbers")
        if corr.shape != (k, k):
            raise ValueError(f"mvnormal `corr` must be a {k}×{k} matrix")
        if np.any(np.abs(corr) > 1) or not np.allclose(np.diag(corr), 1):
            raise ValueError("mvnormal `corr` entries must lie in [-1, 1] with 1 on the diagonal")
        cov = corr * np.outer(sd, sd)
    if cov.shape != (k, k):
        raise ValueError(f"covariance must be a {k}×{k} matrix (mean has {k} entries)")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-14):
        raise ValueError("covariance matrix is not symmetric")
    w, v = np.linalg.eigh(cov)
    scale = max(1.0, float(np.max(np.abs(w))))
    if w.min() < -1e-10 * scale:
        raise ValueError(f"covariance matrix is not positive semi-definite (smallest eigenvalue {w.min():.3g})")
    factor = v * np.sqrt(np.clip(w, 0, None))  # cov = F Fᵀ, works for singular PSD matrices

    def sample(rng, n):
        return mean + rng.standard_normal((n, k)) @ factor.T
    return Distribution("mvnormal", k, mean, np.sqrt(np.diag(cov)), sample, None, {**p, "cov": cov})


def _pos(x, name):
    if not (isinstance(x, (int, float)) and math.isfinite(x) and x > 0):
        raise ValueError(f"`{name}` must be a finite number > 0, got {x}")
    return x


# name -> (factory, parameterisations (sets of required keys), optional keys)
DISTRIBUTIONS: dict[str, tuple] = {
    "fixed": (_fixed, [{"value"}], set()),
    "normal": (_normal, [{"mean", "sd"}], set()),
    "truncnormal": (_truncnormal, [{"mean", "sd"}], {"lower", "upper"}),
    "lognormal": (_lognormal, [{"meanlog", "sdlog"}, {"mean", "sd"}], set()),
    "beta": (_beta, [{"alpha", "beta"}, {"shape1", "shape2"}, {"mean", "sd"}], set()),
    "gamma": (_gamma, [{"shape", "rate"}, {"shape", "scale"}, {"mean", "sd"}], set()),
    "uniform": (_uniform, [{"min", "max"}], set()),
    "triangular": (_triangular, [{"min", "mode", "max"}], set()),
    "pert": (_pert, [{"min", "mode", "max"}], {"lambda"}),
    "dirichlet": (_dirichlet, [{"counts"}, {"mean", "concentration"}], set()),
    "mvnormal": (_mvnormal, [{"mean", "cov"}, {"mean", "sd", "corr"}], set()),
    "empirical": (None, [{"file", "column"}, {"file", "columns"}], set()),
    "bootstrap": (None, [{"file", "column"}, {"file", "columns"}], {"B"}),
}
FILE_DISTRIBUTIONS = ("empirical", "bootstrap")  # read rows of a file (ces.params.bootstrap_rows)
ALIASES = {"multivariate_normal": "mvnormal", "truncated_normal": "truncnormal",
           "log-normal": "lognormal"}
MULTI_KEYS = {"counts", "mean", "cov", "sd", "corr", "columns"}


def make_distribution(spec: dict, *, file=None, path=None, line=None, base_dir=None) -> Distribution:
    """Build and validate a distribution from its YAML mapping (``dist`` + one parameterisation)."""
    def err(msg, sub=None):
        return CesError(msg, file=file, path=f"{path}.{sub}" if sub and path else (path or sub), line=line)

    name = spec.get("dist")
    if not isinstance(name, str):
        raise err(f"`dist` must be a distribution name (one of: {', '.join(DISTRIBUTIONS)})", "dist")
    name = ALIASES.get(name, name)
    if name not in DISTRIBUTIONS:
        import difflib

        close = difflib.get_close_matches(name, list(DISTRIBUTIONS), n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        raise err(f"unknown distribution `{spec.get('dist')}`{hint} (allowed: {', '.join(DISTRIBUTIONS)})", "dist")
    factory, forms, optional = DISTRIBUTIONS[name]
    given = set(spec) - {"dist"}
    form = next((f for f in forms if f <= given and not (given - f - optional)), None)
    if form is None:
        allowed = " | ".join("{" + ", ".join(sorted(f | optional)) + "}" for f in forms)
        raise err(f"{name} takes one of: {allowed}; got {{{', '.join(sorted(given))}}}")
    p = {k: spec[k] for k in given}
    for k, v in p.items():
        if k in ("file", "column", "columns"):
            continue
        if k in MULTI_KEYS and name in ("dirichlet", "mvnormal"):
            arr = np.asarray(v, dtype=float) if _numeric(v) else None
            if arr is None or not np.all(np.isfinite(arr)):
                raise err(f"`{k}` must be numbers", k)
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise err(f"`{k}` must be a finite number, got {v!r}", k)
        p[k] = float(v)
    try:
        if name in FILE_DISTRIBUTIONS:
            from ces.params import bootstrap_rows

            return getattr(bootstrap_rows, name)(p, base_dir)
        return factory(p)
    except ValueError as exc:
        raise err(f"invalid {name} distribution: {exc}") from None
    except (OverflowError, ZeroDivisionError):
        raise err(f"invalid {name} distribution: its moments overflow the float range (±1.8e308) or divide "
                  f"by zero; given {', '.join(f'{k}={v}' for k, v in p.items())}") from None


def _numeric(v) -> bool:
    try:
        np.asarray(v, dtype=float)
        return True
    except (TypeError, ValueError):
        return False
