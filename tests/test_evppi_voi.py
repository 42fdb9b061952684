"""Decision-uncertainty outputs: expected loss, convergence curves, CE-plane ellipses (hand computations)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ces.analysis.psa import ceac, evpi
from ces.analysis.voi import ce_ellipse, convergence_curves, expected_loss


def test_expected_loss_by_hand_and_envelope_is_evpi():
    # 3 draws, 2 strategies, WTP 10: NMB = 10e − c
    e = np.array([[1.0, 2.0], [1.0, 1.0], [1.0, 3.0]])
    c = np.array([[0.0, 15.0], [0.0, 0.0], [0.0, 5.0]])
    # NMB: [10, 5], [10, 10], [10, 25]; max: 10, 10, 25
    el = expected_loss(c, e, [10.0])[0]
    assert el[0] == pytest.approx((0 + 0 + 15) / 3)
    assert el[1] == pytest.approx((5 + 0 + 0) / 3)
    rng = np.random.default_rng(0)
    c, e = rng.normal(100, 30, (500, 3)), rng.normal(1, 0.3, (500, 3))
    w = [0.0, 50.0, 100.0, 400.0]
    np.testing.assert_allclose(expected_loss(c, e, w).min(axis=1), evpi(c, e, w), rtol=1e-12, atol=1e-12)


def test_convergence_curves_end_at_full_sample_values():
    rng = np.random.default_rng(1)
    n = 1234
    c, e = rng.normal(100, 30, (n, 2)), rng.normal(1, 0.3, (n, 2))
    lam = 80.0
    cv = convergence_curves(c, e, lam, points=20)
    last = cv[cv["n_draws"] == n].sort_values("strategy")
    nmb = e * lam - c
    np.testing.assert_allclose(last["mean_nmb"], nmb.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(last["mcse_nmb"], nmb.std(axis=0, ddof=1) / math.sqrt(n), rtol=1e-9)
    np.testing.assert_allclose(last["p_ce"], ceac(c, e, [lam])[0], rtol=1e-12)
    p = last["p_ce"].to_numpy()
    np.testing.assert_allclose(last["mcse_p_ce"], np.sqrt(p * (1 - p) / n), rtol=1e-12)
    first = cv[cv["n_draws"] == 10].sort_values("strategy")  # the running mean after 10 draws
    np.testing.assert_allclose(first["mean_nmb"], nmb[:10].mean(axis=0), rtol=1e-12)
    assert cv["n_draws"].is_monotonic_increasing


def test_ce_ellipse_covers_95_percent_of_bivariate_normal_draws():
    rng = np.random.default_rng(2)
    cov = np.array([[0.04, 30.0], [30.0, 40000.0]])
    x = rng.multivariate_normal([0.5, 20000.0], cov, 20000)
    r = ce_ellipse(x[:, 0], x[:, 1])
    assert r["mean_effect"] == pytest.approx(x[:, 0].mean())
    np.testing.assert_allclose(r["cov"], np.cov(x.T), rtol=1e-12)
    # boundary points satisfy the quadratic form = chi2_2(0.95) = −2 ln 0.05
    d = np.vstack([r["effect"] - r["mean_effect"], r["cost"] - r["mean_cost"]])
    q = np.einsum("ip,ij,jp->p", d, np.linalg.inv(r["cov"]), d)
    np.testing.assert_allclose(q, -2 * math.log(0.05), rtol=1e-9)
    dx = x - [r["mean_effect"], r["mean_cost"]]
    inside = np.einsum("pi,ij,pj->p", dx, np.linalg.inv(r["cov"]), dx) <= -2 * math.log(0.05)
    assert abs(inside.mean() - 0.95) < 3 * math.sqrt(0.95 * 0.05 / x.shape[0])


def _numpy_convergence(c, e, lam, points):
    """The numpy formulas of convergence_curves before the compiled pass (the reference, bit for bit)."""
    nmb = e * lam - c
    n, k = nmb.shape
    ms = np.unique(np.round(np.geomspace(min(n, 10), n, max(2, int(points)))).astype(np.int64))
    wins = np.cumsum(np.argmax(nmb, axis=1)[:, None] == np.arange(k)[None, :], axis=0)
    ref = nmb.mean(axis=0)
    s1, s2 = np.cumsum(nmb - ref, axis=0), np.cumsum((nmb - ref) ** 2, axis=0)
    rows = []
    for m in ms:
        mean_c = s1[m - 1] / m
        var = (s2[m - 1] - m * mean_c ** 2) / (m - 1) if m > 1 else np.full(k, np.nan)
        p = wins[m - 1] / m
        for s in range(k):
            rows.append([m, s, mean_c[s] + ref[s], math.sqrt(max(var[s], 0.0) / m) if m > 1 else math.nan, p[s],
                         math.sqrt(p[s] * (1 - p[s]) / m)])
    return np.array(rows, dtype=float)


@pytest.mark.parametrize("n", [1, 2, 9, 128, 129, 1000, 4097, 100_003])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_expected_loss_and_convergence_equal_numpy_formulas_bit_for_bit(n, k):
    """The compiled pass sums in numpy's order: expected loss (rows added in turn, numpy's mean(axis=0)) and the
    running sums (cumsum order) have the same bits as the numpy formulas; a sum in another order would not."""
    rng = np.random.default_rng(n * 10 + k)
    c = rng.gamma(2.0, 1000.0, (n, k)) * 10 ** rng.uniform(0, 3)
    e = rng.normal(5.0, 2.0, (n, k))
    if n % 2:  # rounded values: ties within draws
        c, e = np.round(c, -2), np.round(e, 1)
    w = np.concatenate([[0.0], rng.uniform(0.0, 5e4, 5)])
    want = np.empty((w.size, k))
    for i, lam in enumerate(w):
        nmb = e * lam - c
        want[i] = (nmb.max(axis=1)[:, None] - nmb).mean(axis=0)
    assert np.array_equal(expected_loss(c, e, w), want)
    for lam in w[:3]:
        cv = convergence_curves(c, e, lam, points=30)
        got = cv[["n_draws", "strategy", "mean_nmb", "mcse_nmb", "p_ce", "mcse_p_ce"]].to_numpy(dtype=float)
        assert np.array_equal(got, _numpy_convergence(c, e, lam, 30), equal_nan=True)
