"""Survival families (flexsurv parameterisations) against scipy.stats and closed forms; life tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ces.errors import CesError
from ces.survival.registry import cumhaz, hazard, survival
from ces.survival.lifetable import life_table

T = np.linspace(0.1, 30, 20)

CASES = [
    ("exponential", {"rate": 0.2}, stats.expon(scale=5)),
    ("weibull", {"shape": 1.3, "scale": 8}, stats.weibull_min(1.3, scale=8)),
    ("weibull_ph", {"shape": 1.3, "scale": 0.05}, stats.weibull_min(1.3, scale=0.05 ** (-1 / 1.3))),
    ("gompertz", {"shape": 0.05, "rate": 0.03}, stats.gompertz(0.03 / 0.05, scale=1 / 0.05)),
    ("loglogistic", {"shape": 2.2, "scale": 7}, stats.fisk(2.2, scale=7)),
    ("lognormal", {"meanlog": 2.0, "sdlog": 0.9}, stats.lognorm(0.9, scale=math.exp(2.0))),
    ("gamma", {"shape": 1.7, "rate": 0.25}, stats.gamma(1.7, scale=4)),
    # flexsurv gengamma (Prentice): a = Q^-2, c = Q/sigma, scale = exp(mu) * Q^(2 sigma / Q) in scipy's gengamma
    ("gengamma", {"mu": 2.0, "sigma": 0.8, "Q": 0.5}, stats.gengamma(0.5 ** -2, 0.5 / 0.8, scale=math.exp(2.0) * 0.5 ** (2 * 0.8 / 0.5))),
]


@pytest.mark.parametrize("name,params,ref", CASES, ids=[c[0] for c in CASES])
def test_family_matches_scipy(name, params, ref):
    assert np.allclose(survival(name, T, params), ref.sf(T), rtol=0, atol=1e-10)
    h = ref.pdf(T) / ref.sf(T)
    assert np.allclose(hazard(name, T, params), h, rtol=1e-8)
    assert np.allclose(cumhaz(name, T, params), -np.log(ref.sf(T)), rtol=1e-9, atol=1e-12)
    assert survival(name, [0.0], params)[0] == 1.0


def test_gengamma_special_cases():
    mu, sigma = 1.5, 0.7
    # Q = 1: Weibull with shape 1/sigma and scale exp(mu)
    assert np.allclose(survival("gengamma", T, {"mu": mu, "sigma": sigma, "Q": 1.0}),
                       survival("weibull", T, {"shape": 1 / sigma, "scale": math.exp(mu)}), atol=1e-10)
    # Q = 0: lognormal(mu, sigma)
    assert np.allclose(survival("gengamma", T, {"mu": mu, "sigma": sigma, "Q": 0.0}),
                       stats.lognorm(sigma, scale=math.exp(mu)).sf(T), atol=1e-10)
    # Q = sigma: gamma with shape 1/sigma^2 and rate 1/(sigma^2 exp(mu))
    assert np.allclose(survival("gengamma", T, {"mu": mu, "sigma": sigma, "Q": sigma}),
                       stats.gamma(1 / sigma ** 2, scale=sigma ** 2 * math.exp(mu)).sf(T), atol=1e-10)
    # Q < 0 against scipy (c < 0 branch)
    q = -0.4
    ref = stats.gengamma(q ** -2, q / sigma, scale=math.exp(mu) * (q * q) ** (sigma / q))
    assert np.allclose(survival("gengamma", T, {"mu": mu, "sigma": sigma, "Q": q}), ref.sf(T), atol=1e-10)


def _rp_eta(x, gammas, knots):
    kmin, kmax = knots[0], knots[-1]
    eta = gammas[0] + gammas[1] * x
    for j in range(1, len(knots) - 1):
        lam = (kmax - knots[j]) / (kmax - kmin)
        v = max(x - knots[j], 0) ** 3 - lam * max(x - kmin, 0) ** 3 - (1 - lam) * max(x - kmax, 0) ** 3
        eta += gammas[j + 1] * v
    return eta


@pytest.mark.parametrize("scale", ["hazard", "odds", "normal"])
def test_royston_parmar_spline_by_hand(scale):
    knots = [math.log(0.5), math.log(3.0), math.log(8.0), math.log(25.0)]
    g = {"gamma0": -2.0, "gamma1": 1.2, "gamma2": 0.03, "gamma3": -0.02}
    S = survival("spline", T, g, {"knots": knots, "scale": scale})
    # hazard = -d ln S / dt, checked by a central difference of the hand-computed S
    h = hazard("spline", T, g, {"knots": knots, "scale": scale})
    eps = 1e-6
    for i, t in enumerate(T):
        s_hi = survival("spline", [t * (1 + eps)], g, {"knots": knots, "scale": scale})[0]
        s_lo = survival("spline", [t * (1 - eps)], g, {"knots": knots, "scale": scale})[0]
        assert h[i] == pytest.approx(-(math.log(s_hi) - math.log(s_lo)) / (2 * eps * t), rel=1e-5)
    for i, t in enumerate(T):
        eta = _rp_eta(math.log(t), list(g.values()), knots)
        ref = {"hazard": math.exp(-math.exp(eta)), "odds": 1 / (1 + math.exp(eta)),
               "normal": 0.5 * math.erfc(eta / math.sqrt(2))}[scale]
        assert S[i] == pytest.approx(ref, abs=1e-12)


def test_piecewise_exponential_by_hand():
    S = survival("piecewise_exponential", [1.0, 3.0, 10.0], {"rate1": 0.1, "rate2": 0.3, "rate3": 0.05},
                 {"cuts": [2.0, 5.0]})
    assert np.allclose(S, [math.exp(-0.1), math.exp(-(0.2 + 0.3)), math.exp(-(0.2 + 0.9 + 0.25))], atol=1e-14)
    h = hazard("piecewise_exponential", [1.0, 3.0, 10.0], {"rate1": 0.1, "rate2": 0.3, "rate3": 0.05},
               {"cuts": [2.0, 5.0]})
    assert list(h) == [0.1, 0.3, 0.05]


@pytest.mark.parametrize("name,params,extra,fragment", [
    ("weibul", {"shape": 1, "scale": 1}, {}, "unknown survival family"),
    ("weibull", {"shape": -1.0, "scale": 1.0}, {}, "`shape` must be a finite number > 0"),
    ("lognormal", {"meanlog": 1.0, "sdlog": 0.0}, {}, "`sdlog`"),
    ("spline", {"gamma0": 1.0, "gamma1": 1.0, "gamma2": 0.1}, {"knots": [0.0, 2.0, 1.0]}, "strictly increasing"),
    ("spline", {"gamma0": 1.0, "gamma1": 1.0}, {"knots": [0.0, 2.0], "scale": "logit"}, "scale"),
    ("piecewise_exponential", {"rate1": 0.1, "rate2": 0.1}, {"cuts": [-1.0]}, "cuts"),
])
def test_invalid_curves(name, params, extra, fragment):
    with pytest.raises(CesError, match=None) as exc:
        survival(name, T, params, extra)
    assert fragment in str(exc.value)


def test_life_tables_match_published_life_expectancy():
    # the shipped tables' own e_x columns: US 2021 e0 male 73.55; UK 2018-20 e0 male 79.04, e60 female 25.25 (ONS)
    assert life_table("us_2021").life_expectancy(0, {"male": 1.0}) == pytest.approx(73.55, abs=0.02)
    assert life_table("uk_2018_2020").life_expectancy(0, {"male": 1.0}) == pytest.approx(79.04, abs=0.05)
    assert life_table("uk_2018_2020").life_expectancy(60, {"female": 1.0}) == pytest.approx(25.25, abs=0.05)
    lt = life_table("japan_wpp")
    assert lt.ages[0] == 0 and lt.ages[-1] == 100
    # mixed cohort = weighted survival
    t = np.array([5.0, 20.0])
    mix = lt.survival(60, t, {"male": 0.5, "female": 0.5})
    assert np.allclose(mix, 0.5 * lt.survival(60, t, {"male": 1.0}) + 0.5 * lt.survival(60, t, {"female": 1.0}))
    with pytest.raises(CesError, match="unknown life table"):
        life_table("mars_2021")


def test_km_table_with_parametric_tail():
    extra = {"times": [0.0, 1.0, 2.0, 4.0], "surv": [1.0, 0.8, 0.6, 0.5], "join": 4.0, "tail": "exponential"}
    S = survival("km", [0.5, 1.0, 3.9, 4.0, 6.0], {"rate": 0.2}, extra)
    assert np.allclose(S, [1.0, 0.8, 0.6, 0.5, 0.5 * math.exp(-0.2 * 2.0)], atol=1e-14)
    with pytest.raises(CesError, match="join"):
        survival("km", [1.0], {"rate": 0.2}, {**extra, "join": 9.0})
    with pytest.raises(CesError, match="non-increasing"):
        survival("km", [1.0], {"rate": 0.2}, {**extra, "surv": [1.0, 0.8, 0.9, 0.5]})
