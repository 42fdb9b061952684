"""Guyot reconstruction: simulate IPD from known Weibull curves, digitise, reconstruct, refit.

Tolerances (stated, not tuned): the reconstruction places each interval's events exactly where the KM
steps are, but spreads the censoring evenly over the interval, so the reconstructed KM can differ from
the true one by a few censored patients' worth of probability (each ≈ S/n_risk ≈ 0.005 here): we allow
0.035 pointwise and 0.01 on average over follow-up.  Fitted medians and the hazard ratio from the
reconstructed data must be within 5% of those from the original data.
"""

import math

import numpy as np
import pytest

from ces.errors import CesError
from ces.survival.fit import fit_all
from ces.survival.fit_likelihood import Data, Model
from ces.survival.guyot import reconstruct
from ces.survival.km import kaplan_meier, number_at_risk

AT = np.arange(0, 48, 6.0)  # at-risk table every 6 months


def _arm(rng, scale, n=300):
    T = scale * rng.weibull(1.3, n)
    C = np.minimum(rng.uniform(0, 60, n), 48.0)  # random censoring + administrative cut-off at 48 months
    return np.minimum(T, C), (T <= C).astype(int)


@pytest.fixture(scope="module")
def trial():
    rng = np.random.default_rng(12)
    return [_arm(rng, 20.0), _arm(rng, 30.0)]


@pytest.mark.parametrize("give_events", [False, True])
def test_reconstruction_recovers_km_and_at_risk(trial, give_events):
    for t, e in trial:
        km = kaplan_meier(t, e)
        nr = number_at_risk(t, AT)
        rt, re = reconstruct(km.time, km.surv, AT, nr, int(e.sum()) if give_events else None)
        assert rt.size == t.size
        np.testing.assert_array_equal(number_at_risk(rt, AT), nr)
        if give_events:
            assert re.sum() == e.sum()
        km2 = kaplan_meier(rt, re)
        g = np.linspace(0, km.time[-1], 2001)
        diff = np.abs(km.at(g) - km2.at(g))
        assert diff.max() < 0.035
        assert diff.mean() < 0.01


def _weibull_joint(arms):
    t = np.concatenate([a[0] for a in arms])
    e = np.concatenate([a[1] for a in arms]).astype(float)
    x = np.concatenate([np.zeros(arms[0][0].size), np.ones(arms[1][0].size)]).reshape(-1, 1)
    return fit_all(Data(t, e, np.ones_like(t), x, ("armB",)), [Model("weibull")])[0]


def test_refit_recovers_hr_and_median(trial):
    rec = []
    for t, e in trial:
        km = kaplan_meier(t, e)
        rec.append(reconstruct(km.time, km.surv, AT, number_at_risk(t, AT), int(e.sum())))
    f0, f1 = _weibull_joint(trial), _weibull_joint(rec)

    def hr(f):  # Weibull AFT: scale_B = scale_A·e^β  ⇒  PH hazard ratio e^(−shape·β)
        return math.exp(-f.natural["shape"][0] * f.natural["armB"][0])

    def median(f, x):
        p = f.params_at(np.array([x]))
        return float(p["scale"] * math.log(2) ** (1 / p["shape"]))

    assert hr(f1) == pytest.approx(hr(f0), rel=0.05)
    assert hr(f0) == pytest.approx((20 / 30) ** 1.3, rel=0.25)  # the simulation truth, sampling error of n = 600
    for x in (0.0, 1.0):
        assert median(f1, x) == pytest.approx(median(f0, x), rel=0.05)


@pytest.mark.parametrize("t, s, at, n, msg", [
    ([0, 1, 2], [1, 0.9, 0.95], [0], [10], "survival goes up"),
    ([0, 2, 1], [1, 0.9, 0.8], [0], [10], "before the previous"),
    ([-1, 1, 2], [1, 0.9, 0.8], [0], [10], "negative time"),
    ([0, 1, 2], [1, 0.9, 0.8], [0, 1], [10, 12], "number at risk goes up"),
    ([0, 1, 2], [1, 90, 80], [0], [10], "outside [0, 1]"),
])
def test_bad_digitised_input(t, s, at, n, msg):
    with pytest.raises(CesError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        reconstruct(t, s, at, n, km_file="km.csv", risk_file="risk.csv")
