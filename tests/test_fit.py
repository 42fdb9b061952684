"""Survival fitting (ces.survival.fit) against published flexsurv values, closed forms and identities.

Reference log-likelihoods: flexsurv's own test suite, chjackson/flexsurv tests/testthat/test_flexsurvreg.R
(flexsurv 2.x; retrieved 2026-12-01), fits to R's `ovarian` data (tests/data/ovarian.csv):
- ``flexsurvreg(Surv(futime, fustat) ~ 1, dist = "lnorm")``:  loglik −97.12174204265681
- ``flexsurvreg(Surv(futime, fustat) ~ 1, dist = "gamma")``:  loglik −97.86379723453011
- ``flexsurvreg(Surv(futime, fustat) ~ factor(rx), dist = "weibull")``: loglik −97.3641506645869
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ces.survival import registry
from ces.survival.fit import candidates, fit_all, spline_knots
from ces.survival.fit_likelihood import Data, Model, loglik
from ces.survival.fit_data import make_data

DATA = Path(__file__).parent / "data" / "ovarian.csv"


@pytest.fixture(scope="module")
def ovarian():
    df = pd.read_csv(DATA, comment="#")
    return df, make_data(df, "futime", "fustat")


def _fit(model, data):
    return fit_all(data, [model])[0]


@pytest.mark.parametrize("dist, ref", [("lognormal", -97.12174204265681), ("gamma", -97.86379723453011)])
def test_flexsurv_published_loglik(ovarian, dist, ref):
    f = _fit(Model(dist), ovarian[1])
    assert f.converged
    assert f.loglik == pytest.approx(ref, rel=1e-6)


def test_flexsurv_weibull_with_arm_covariate(ovarian):
    df, _ = ovarian
    d = make_data(df.assign(rx=df.rx.astype(int)), "futime", "fustat", arm="rx")
    assert d.covariates == ("rx2",) and d.X.sum() == 13
    f = _fit(Model("weibull"), d)
    assert f.loglik == pytest.approx(-97.3641506645869, rel=1e-6)
    assert f.k == 3 and f.aic == pytest.approx(2 * 97.3641506645869 + 6, rel=1e-6)


def test_exponential_closed_form(ovarian):
    """rate = d / Σt, ℓ = d ln(rate) − rate Σt, SE(ln rate) = 1/√d (observed information)."""
    d = ovarian[1]
    ev, T = d.event.sum(), d.time.sum()
    f = _fit(Model("exponential"), d)
    assert f.natural["rate"][0] == pytest.approx(ev / T, rel=1e-6)
    assert f.loglik == pytest.approx(ev * math.log(ev / T) - ev, rel=1e-9)
    assert math.sqrt(f.cov[0, 0]) == pytest.approx(1 / math.sqrt(ev), rel=1e-4)
    assert f.bic == pytest.approx(-2 * f.loglik + math.log(26), rel=1e-12)


def test_nested_families_agree(ovarian):
    """Identities of flexsurv's test suite: Weibull = gengamma(Q = 1), gamma = gengamma(σ = Q),
    lognormal = gengamma(Q → 0), Weibull PH = Weibull AFT, spline with no internal knot = Weibull."""
    d = ovarian[1]
    gg = Model("gengamma")
    ll = lambda m, nat: loglik(m, np.array(nat), d)  # noqa: E731
    assert ll(gg, [6, math.log(0.8), 1]) == pytest.approx(ll(Model("weibull"), [math.log(1 / 0.8), 6]), rel=1e-10)
    assert ll(gg, [6, math.log(0.5), 0.5]) == pytest.approx(
        ll(Model("gamma"), [math.log(1 / 0.25), math.log(math.exp(-6) / 0.25)]), rel=1e-8)
    assert ll(gg, [6, math.log(0.8), 0.0]) == pytest.approx(ll(Model("lognormal"), [6, math.log(0.8)]), rel=1e-12)
    w = _fit(Model("weibull"), d)
    wph = _fit(Model("weibull_ph"), d)
    assert wph.loglik == pytest.approx(w.loglik, rel=1e-8)
    a, b = wph.natural["shape"][0], wph.natural["scale"][0]
    assert b == pytest.approx(w.natural["scale"][0] ** -a, rel=1e-4)  # m = b^(−a)
    sp = _fit(Model("spline", spline_knots(d, 0), "hazard"), d)
    assert sp.loglik == pytest.approx(w.loglik, rel=1e-8)
    g = _fit(Model("gengamma"), d)
    assert g.loglik >= max(w.loglik, _fit(Model("lognormal"), d).loglik) - 1e-8  # it nests both


def test_fitted_curve_uses_registry(ovarian):
    f = _fit(Model("loglogistic"), ovarian[1])
    t = np.array([100.0, 500.0, 1000.0])
    p = {k: v[0] for k, v in f.natural.items()}
    np.testing.assert_allclose(f.survival(t), registry.survival("loglogistic", t, p), rtol=1e-14)
    np.testing.assert_allclose(f.hazard(t), registry.hazard("loglogistic", t, p), rtol=1e-10)
    assert f.rmst(2000.0) == pytest.approx(
        np.trapezoid(registry.survival("loglogistic", np.linspace(0, 2000, 20001), p), np.linspace(0, 2000, 20001)))


def test_cure_models(ovarian):
    """Cure fits: S(∞) → π; the mixture-cure Weibull beats the plain Weibull (it nests it at π → 0)."""
    d = ovarian[1]
    w = _fit(Model("weibull"), d)
    for ct in ("mixture", "non_mixture"):
        f = _fit(Model("weibull", cure=ct), d)
        assert f.loglik >= w.loglik - 1e-6
        pi = f.natural["cure"][0]
        assert 0 < pi < 1
        assert f.survival(np.array([1e7]))[0] == pytest.approx(pi, abs=1e-6)


def test_candidates_cover_registry(ovarian):
    labels = {m.label for m in candidates(ovarian[1])}
    for fam in ("exponential", "weibull", "weibull_ph", "gompertz", "loglogistic", "lognormal", "gamma", "gengamma"):
        assert fam in labels and f"mixture_cure_{fam}" in labels and f"non_mixture_cure_{fam}" in labels
    for k in (1, 2, 3):
        for s in ("hazard", "odds", "normal"):
            assert f"spline_{s}_k{k}" in labels


def test_weights_equal_duplication(ovarian):
    """A case weight of 3 is the same likelihood as three copies of the row (flexsurv/survreg weights)."""
    df, _ = ovarian
    w = np.ones(len(df))
    w[[0, 2, 4]] = 3
    dw = make_data(df.assign(w=w), "futime", "fustat", weight="w")
    dup = pd.concat([df, df.iloc[[0, 2, 4]], df.iloc[[0, 2, 4]]])
    dd = make_data(dup, "futime", "fustat")
    assert _fit(Model("weibull"), dw).loglik == pytest.approx(_fit(Model("weibull"), dd).loglik, rel=1e-9)


lifelines = pytest.importorskip("lifelines", reason="lifelines is the test-only oracle (pip install .[test])")


def _oracle(d, dist, fitter, pairs):
    """Our fit vs lifelines' fitter: log-likelihood to 1e-6 and the paired parameters to 1e-4 (relative)."""
    lf = getattr(lifelines, fitter)().fit(d.time, d.event)
    f = _fit(Model(dist), d)
    assert f.loglik == pytest.approx(lf.log_likelihood_, rel=1e-6)
    for ours, theirs in pairs.items():
        assert f.natural[ours][0] == pytest.approx(getattr(lf, theirs), rel=1e-4)
    return f, lf


@pytest.mark.parametrize("dist, fitter, pairs", [
    ("weibull", "WeibullFitter", {"shape": "rho_", "scale": "lambda_"}),
    ("lognormal", "LogNormalFitter", {"meanlog": "mu_", "sdlog": "sigma_"}),
    ("loglogistic", "LogLogisticFitter", {"shape": "beta_", "scale": "alpha_"}),
    ("exponential", "ExponentialFitter", {}),
])
def test_lifelines_oracle(ovarian, dist, fitter, pairs):
    f, lf = _oracle(ovarian[1], dist, fitter, pairs)
    if dist == "exponential":
        assert 1 / f.natural["rate"][0] == pytest.approx(lf.lambda_, rel=1e-4)


def test_lifelines_km(ovarian):
    from ces.survival.km import kaplan_meier

    d = ovarian[1]
    km = kaplan_meier(d.time, d.event)
    lf = lifelines.KaplanMeierFitter().fit(d.time, d.event)
    t = np.linspace(0, 1200, 61)
    np.testing.assert_allclose(km.at(t), lf.survival_function_at_times(t).to_numpy(), atol=1e-12)


@pytest.fixture(scope="module")
def gbsg2():
    """GBSG2 (German Breast Cancer Study Group 2, 686 patients; Schumacher et al., JCO 1994), as shipped with
    lifelines (lifelines.datasets.load_gbsg2); recurrence-free time in years."""
    from lifelines.datasets import load_gbsg2

    df = load_gbsg2()
    return df.assign(years=df.time / 365.25)


@pytest.mark.parametrize("dist, fitter, pairs", [
    ("gengamma", "GeneralizedGammaFitter", {"mu": "mu_", "Q": "lambda_"}),
    ("weibull", "WeibullFitter", {"shape": "rho_", "scale": "lambda_"}),
    ("lognormal", "LogNormalFitter", {"meanlog": "mu_", "sdlog": "sigma_"}),
    ("loglogistic", "LogLogisticFitter", {"shape": "beta_", "scale": "alpha_"}),
])
def test_lifelines_oracle_gbsg2(gbsg2, dist, fitter, pairs):
    """lifelines' GeneralizedGammaFitter has flexsurv's (Prentice) parameterisation: mu, ln sigma, lambda = Q."""
    f, lf = _oracle(make_data(gbsg2, "years", "cens"), dist, fitter, pairs)
    if dist == "gengamma":
        assert math.log(f.natural["sigma"][0]) == pytest.approx(lf.ln_sigma_, rel=1e-4)


def test_lifelines_weibull_aft_covariate(gbsg2):
    """Arm as a covariate on the Weibull scale (AFT) = lifelines' WeibullAFTFitter with one covariate."""
    df = gbsg2.assign(hor=(gbsg2.horTh == "yes").astype(float))
    d = make_data(df, "years", "cens", arm="horTh")
    assert d.covariates == ("horThyes",)
    f = _fit(Model("weibull"), d)
    lf = lifelines.WeibullAFTFitter().fit(df[["years", "cens", "hor"]], "years", "cens")
    assert f.loglik == pytest.approx(lf.log_likelihood_, rel=1e-6)
    assert f.natural["horThyes"][0] == pytest.approx(lf.params_["lambda_"]["hor"], rel=1e-3)
    assert f.natural["horThyes"][1] == pytest.approx(lf.standard_errors_["lambda_"]["hor"], rel=1e-2)


def test_gengamma_continuous_as_q_goes_to_zero():
    """The registry's gengamma tends to the lognormal as Q → 0 (Prentice 1974), without the jump the
    incomplete-gamma series used to make at |Q| ≲ 1e-3 (1000-term cap; now Wilson–Hilferty for a > 5e6).
    A fit that wanders towards Q = 0 must not find a spurious optimum there."""
    t = np.array([0.5, 2.0, 7.0, 20.0, 60.0])
    s0 = registry.survival("lognormal", t, {"meanlog": 2.0, "sdlog": 0.8})
    for q in (1e-2, 1e-3, 1e-4, 1e-5, -1e-4, -1e-3):
        s = registry.survival("gengamma", t, {"mu": 2.0, "sigma": 0.8, "Q": q})
        assert np.max(np.abs(s - s0)) < 5 * abs(q)  # |dS/dQ| at Q = 0 is < 1 on this grid


def _engine_cure_sample(rng, n, pi, rate, bg, horizon):
    """T = min(T_bg, T_cure): S(t) = S_bg(t)·[π + (1 − π)e^(−rate·t)], the engine's mixture cure curve."""
    grid = np.linspace(0, 600, 60001)
    s_bg = bg.survival(grid)
    t_bg = np.interp(-rng.uniform(size=n), -s_bg, grid)  # inversion of the decreasing S_bg
    t_c = np.where(rng.uniform(size=n) < pi, np.inf, rng.exponential(1 / rate, n))
    t = np.minimum(t_bg, t_c)
    return np.minimum(t, horizon), (t <= horizon).astype(float)


def test_cure_fit_with_background_hazard():
    """With a background life table, cure models are fitted as the engine evaluates them (S_bg·S_cure):
    ℓ by hand from h_bg and S_bg, and recovery of the simulated cure fraction (n = 3000, 5 years, age 75)."""
    from ces.survival.fit_likelihood import Background
    from ces.survival.lifetable import life_table

    bg = Background(life_table("us_2021"), 75.0, {"male": 1.0}, 12.0)
    rng = np.random.default_rng(21)
    t, e = _engine_cure_sample(rng, 3000, 0.4, 0.15, bg, 60.0)
    d = Data(t, e, np.ones_like(t), np.zeros((t.size, 0)), background=bg)
    mo = Model("exponential", cure="mixture")
    z = np.array([math.log(0.15), math.log(0.4 / 0.6)])
    S_c = 0.4 + 0.6 * np.exp(-0.15 * t)
    h_c = 0.6 * 0.15 * np.exp(-0.15 * t) / S_c
    hand = np.sum(e * np.log(bg.hazard(t) + h_c) + np.log(S_c) + np.log(bg.survival(t)))
    assert loglik(mo, z, d) == pytest.approx(hand, rel=1e-12)
    f = _fit(mo, d)
    lo, hi = f.natural["cure"][2], f.natural["cure"][3]
    assert lo < 0.4 < hi and hi - lo < 0.1
    naive = _fit(mo, Data(t, e, np.ones_like(t), np.zeros((t.size, 0))))
    assert naive.natural["cure"][0] < f.natural["cure"][0]  # ignoring background deaths understates the cure
    assert f.survival(np.array([24.0]))[0] == pytest.approx(
        bg.survival(24.0) * (0.4 + 0.6 * math.exp(-0.15 * 24)), abs=0.03)


def test_covariate_on_spline_is_ph(ovarian):
    """A 0-knot hazard-scale spline with the arm on γ0 is the Weibull PH model with the arm on ln m."""
    df, d0 = ovarian
    d = make_data(df, "futime", "fustat", arm="rx")
    sp = _fit(Model("spline", spline_knots(d0, 0), "hazard"), d)
    wph = _fit(Model("weibull_ph"), d)
    assert sp.loglik == pytest.approx(wph.loglik, rel=1e-8)
    assert sp.natural["rx2"][0] == pytest.approx(wph.natural["rx2"][0], rel=1e-4)
    assert wph.loglik == pytest.approx(-97.3641506645869, rel=1e-6)  # = the AFT fit (flexsurv reference)
