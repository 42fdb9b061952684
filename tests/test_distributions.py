"""Distribution registry: moments, method-of-moments helpers, multivariate draws, invalid inputs, sampling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ces.errors import CesError
from ces.params.distributions import (beta_from_mean_sd, gamma_from_mean_sd, lognormal_from_mean_sd,
                                      make_distribution)
from ces.params.sampling import sample_draws

N = 200_000

UNIVARIATE = [
    ({"dist": "fixed", "value": 3.0}, 3.0, 0.0),
    ({"dist": "normal", "mean": 2.0, "sd": 0.5}, 2.0, 0.5),
    ({"dist": "lognormal", "meanlog": 0.2, "sdlog": 0.3}, np.exp(0.2 + 0.045), np.sqrt((np.exp(0.09) - 1) * np.exp(0.4 + 0.09))),
    ({"dist": "lognormal", "mean": 3.0, "sd": 0.6}, 3.0, 0.6),
    ({"dist": "beta", "alpha": 130, "beta": 45}, 130 / 175, np.sqrt(130 * 45 / (175 ** 2 * 176))),
    ({"dist": "beta", "shape1": 2, "shape2": 98}, 0.02, np.sqrt(2 * 98 / (100 ** 2 * 101))),
    ({"dist": "beta", "mean": 0.85, "sd": 0.03}, 0.85, 0.03),
    ({"dist": "gamma", "shape": 30, "rate": 200}, 0.15, np.sqrt(30) / 200),
    ({"dist": "gamma", "shape": 100, "scale": 20}, 2000, 200),
    ({"dist": "gamma", "mean": 5294, "sd": 1487}, 5294, 1487),
    ({"dist": "uniform", "min": 1, "max": 3}, 2, 2 / np.sqrt(12)),
    ({"dist": "triangular", "min": 0, "mode": 1, "max": 4}, 5 / 3, np.sqrt((0 + 1 + 16 - 0 - 0 - 4) / 18)),
    ({"dist": "pert", "min": 0, "mode": 1, "max": 4}, (0 + 4 * 1 + 4) / 6, None),
    ({"dist": "truncnormal", "mean": 0, "sd": 1, "lower": 0}, np.sqrt(2 / np.pi), np.sqrt(1 - 2 / np.pi)),
]


@pytest.mark.parametrize("spec,mean,sd", UNIVARIATE, ids=[f"{s['dist']}-{i}" for i, (s, _, _) in enumerate(UNIVARIATE)])
def test_sample_moments_match_specified_moments(spec, mean, sd):
    d = make_distribution(spec)
    x = d.sample(np.random.default_rng(1), N)
    assert d.mean == pytest.approx(mean, rel=1e-9, abs=1e-12)
    if sd is not None:
        assert d.sd == pytest.approx(sd, rel=1e-9, abs=1e-12)
    # sample mean within 5 Monte Carlo standard errors; sample sd within 1 % (relative)
    se = d.sd / np.sqrt(N)
    assert abs(x.mean() - d.mean) <= 5 * se + 1e-12
    assert x.std(ddof=1) == pytest.approx(d.sd, rel=0.01, abs=1e-12)


def test_method_of_moments_helpers_match_published_spec():
    # ../shared/bench/spec.json: Beta(mean .85, sd .03) -> 119.567, 21.1; Gamma(5294, 1487) -> 12.6749, 417.675
    a, b = beta_from_mean_sd(0.85, 0.03)
    assert (round(a, 3), round(b, 1)) == (119.567, 21.1)
    a, b = beta_from_mean_sd(0.75, 0.04)
    assert (round(a, 4), round(b, 4)) == (87.1406, 29.0469)
    k, th = gamma_from_mean_sd(5294, 1487)
    assert (round(k, 4), round(th, 3)) == (12.6749, 417.675)
    ml, sl = lognormal_from_mean_sd(3.0, 0.6)
    assert np.exp(ml + sl ** 2 / 2) == pytest.approx(3.0)


def test_ppf_matches_scipy():
    d = make_distribution({"dist": "gamma", "shape": 30, "rate": 200})
    assert d.ppf(0.025) == pytest.approx(stats.gamma(30, scale=1 / 200).ppf(0.025), rel=1e-12)
    d = make_distribution({"dist": "beta", "alpha": 2, "beta": 98})
    assert d.ppf([0.025, 0.975]) == pytest.approx(stats.beta(2, 98).ppf([0.025, 0.975]), rel=1e-12)


def test_dirichlet_rows_sum_to_one():
    d = make_distribution({"dist": "dirichlet", "counts": [1251, 350, 116, 17]})
    x = d.sample(np.random.default_rng(2), N)
    assert x.shape == (N, 4)
    assert np.allclose(x.sum(axis=1), 1.0, atol=1e-12)
    assert np.allclose(x.mean(axis=0), np.array([1251, 350, 116, 17]) / 1734, atol=5 * x.std(axis=0).max() / np.sqrt(N))
    d2 = make_distribution({"dist": "dirichlet", "mean": [0.7, 0.2, 0.1], "concentration": 100})
    assert np.allclose(d2.mean, [0.7, 0.2, 0.1])


def test_mvnormal_reproduces_covariance():
    sd = np.array([0.2, 0.005, 0.1, 0.05])
    corr = np.array([[1, -0.3, -0.2, -0.3], [-0.3, 1, 0, 0], [-0.2, 0, 1, 0.1], [-0.3, 0, 0.1, 1]])
    mean = [-5.490935, -0.0367022, 0.768536, 0.3740968]
    d = make_distribution({"dist": "mvnormal", "mean": mean, "sd": list(sd), "corr": corr.tolist()})
    x = d.sample(np.random.default_rng(3), N)
    cov = corr * np.outer(sd, sd)
    emp = np.cov(x, rowvar=False)
    # relative error of each covariance entry within 3 % of sd_i*sd_j
    assert np.all(np.abs(emp - cov) <= 0.03 * np.outer(sd, sd))
    d2 = make_distribution({"dist": "mvnormal", "mean": mean, "cov": cov.tolist()})
    assert np.allclose(d2.params["cov"], cov)


def test_empirical_draws_rows_jointly(tmp_path):
    f = tmp_path / "post.csv"
    f.write_text("# posterior\na,b\n1,10\n2,20\n3,30\n")
    d = make_distribution({"dist": "empirical", "file": "post.csv", "columns": ["a", "b"]}, base_dir=tmp_path)
    x = d.sample(np.random.default_rng(4), 1000)
    assert np.all(x[:, 1] == 10 * x[:, 0]) and set(x[:, 0]) == {1, 2, 3}
    d1 = make_distribution({"dist": "bootstrap", "file": str(f), "column": "b"})
    assert set(d1.sample(np.random.default_rng(5), 100)) <= {10.0, 20.0, 30.0}


@pytest.mark.parametrize("spec,fragment", [
    ({"dist": "betta", "alpha": 1, "beta": 2}, "unknown distribution `betta`"),
    ({"dist": "normal", "mean": 1, "sd": -1}, "sd"),
    ({"dist": "beta", "mean": 1.2, "sd": 0.1}, "beta mean must be in (0, 1)"),
    ({"dist": "beta", "mean": 0.5, "sd": 0.6}, "sd too large"),
    ({"dist": "gamma", "mean": -1, "sd": 1}, "gamma mean must be > 0"),
    ({"dist": "gamma", "shape": 1}, "gamma takes one of"),
    ({"dist": "uniform", "min": 2, "max": 1}, "min < max"),
    ({"dist": "triangular", "min": 0, "mode": 5, "max": 4}, "min ≤ mode ≤ max"),
    ({"dist": "truncnormal", "mean": 0, "sd": 1, "lower": 2, "upper": 1}, "lower < upper"),
    ({"dist": "dirichlet", "counts": [1, -2]}, "positive"),
    ({"dist": "mvnormal", "mean": [0, 0], "cov": [[1, 2], [2, 1]]}, "not positive semi-definite"),
    ({"dist": "mvnormal", "mean": [0, 0], "cov": [[1, 0.5], [0.2, 1]]}, "not symmetric"),
    ({"dist": "mvnormal", "mean": [0, 0], "sd": [1, 1], "corr": [[1, 1.5], [1.5, 1]]}, "[-1, 1]"),
    ({"dist": "empirical", "file": "nope.csv", "column": "a"}, "not found"),
    ({"dist": "gamma", "shape": "x", "rate": 1}, "finite number"),
])
def test_invalid_distributions_are_load_time_errors(spec, fragment):
    with pytest.raises(CesError) as exc:
        make_distribution(spec, file="m.yaml", path="parameters.x", line=7)
    msg = str(exc.value)
    assert fragment in msg and msg.startswith("m.yaml:7 parameters.x") and "\n" not in msg


def test_sampling_is_chunk_invariant_and_keyed_by_name():
    dists = {"a": make_distribution({"dist": "gamma", "shape": 2, "rate": 1}),
             "m": make_distribution({"dist": "mvnormal", "mean": [0, 1], "sd": [1, 2], "corr": [[1, .5], [.5, 1]]})}
    whole = sample_draws(dists, 11, 0, 10000)
    parts = [sample_draws(dists, 11, a, b) for a, b in ((0, 137), (137, 4100), (4100, 10000))]
    for k in dists:
        assert np.array_equal(whole[k], np.concatenate([p[k] for p in parts]))
    more = sample_draws({**dists, "z": make_distribution({"dist": "normal", "mean": 0, "sd": 1})}, 11, 0, 10000)
    assert np.array_equal(more["a"], whole["a"])
    assert not np.array_equal(sample_draws(dists, 12, 0, 10000)["a"], whole["a"])
