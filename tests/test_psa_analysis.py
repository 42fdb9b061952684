"""Tests for ces.analysis.psa (expected values derived by hand in each test)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ces.analysis.psa import (
    ceac, ceaf, convergence_check, evpi, expected_nmb, mcse_mean_nmb, population_evpi,
    summarise_draws,
)
from ces.errors import CesError

# Four draws, two strategies.  Strategy 0 costs nothing and gives nothing (NMB 0);
# strategy 1 costs 10 and gives 1, 0.5, 0.2, 0.05 -> NMB_1 = 20*e - 10 at wtp 20:
# 10, 0, -6, -9 (draw 2 ties with strategy 0); at wtp 100: 90, 40, 10, -5.
COSTS4 = np.array([[0.0, 10.0]] * 4)
EFFECTS4 = np.array([[0.0, 1.0], [0.0, 0.5], [0.0, 0.2], [0.0, 0.05]])
WTP3 = np.array([0.0, 20.0, 100.0])


def _random_psa(n=500, k=3, seed=0):
    rng = np.random.default_rng(seed)
    costs = rng.normal(1000.0, 200.0, (n, k)) + np.arange(k) * 300.0
    effects = rng.normal(5.0, 0.5, (n, k)) + np.arange(k) * 0.2
    return costs, effects


def test_ceac_by_hand_two_strategies():
    got = ceac(COSTS4, EFFECTS4, WTP3)
    # wtp 0: strategy 0 wins all; wtp 20: wins draws 1 (10>0) only, the tie in draw 2
    # goes to the lower index; wtp 100: strategy 1 wins draws 0-2.
    np.testing.assert_allclose(got, [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75]])


def test_ceac_rows_sum_to_one():
    costs, effects = _random_psa()
    wtp = np.linspace(0, 5000, 26)
    got = ceac(costs, effects, wtp)
    assert got.shape == (26, 3)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)
    assert np.all((got >= 0) & (got <= 1))


def test_ceac_all_tied_goes_to_lowest_index():
    costs = np.ones((5, 3))
    effects = np.ones((5, 3))
    np.testing.assert_allclose(ceac(costs, effects, [0.0, 7.0]), [[1, 0, 0], [1, 0, 0]])


def test_expected_nmb_by_hand():
    got = expected_nmb(COSTS4, EFFECTS4, WTP3)
    # mean effect of strategy 1 = 1.75/4 = 0.4375
    np.testing.assert_allclose(got, [[0.0, -10.0], [0.0, 20 * 0.4375 - 10], [0.0, 100 * 0.4375 - 10]])


def test_evpi_by_hand_four_draws():
    got = evpi(COSTS4, EFFECTS4, WTP3)
    # wtp 0: strategy 0 best in every draw -> 0.
    # wtp 20: mean of max = (10+0+0+0)/4 = 2.5; max of means = max(0, -5/4) = 0.
    # wtp 100: mean of max = (90+40+10+0)/4 = 35; max of means = max(0, 135/4) = 33.75.
    np.testing.assert_allclose(got, [0.0, 2.5, 1.25])


def test_evpi_zero_when_one_strategy_dominates_every_draw():
    rng = np.random.default_rng(3)
    c0 = rng.normal(1000, 100, 300)
    e0 = rng.normal(3, 0.3, 300)
    costs = np.column_stack([c0, c0 - rng.uniform(1, 50, 300)])
    effects = np.column_stack([e0, e0 + rng.uniform(0.01, 0.2, 300)])
    got = evpi(costs, effects, np.linspace(0, 100000, 11))
    np.testing.assert_array_equal(got, 0.0)


def test_evpi_non_negative_random():
    costs, effects = _random_psa()
    assert np.all(evpi(costs, effects, np.linspace(0, 5000, 11)) >= 0)


def test_ceaf_picks_max_expected_nmb():
    # wtp 1: NMB of strategy 1 is 1, 1, 1, -100 -> it wins 3 of 4 draws but its mean
    # (-97/4) is below strategy 0's (0), so the frontier picks strategy 0 (prob 0.25).
    costs = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 100.0]])
    effects = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    idx, prob = ceaf(costs, effects, [1.0])
    assert list(idx) == [0]
    np.testing.assert_allclose(prob, [0.25])
    np.testing.assert_allclose(ceac(costs, effects, [1.0]), [[0.25, 0.75]])


def test_ceaf_four_draw_example():
    idx, prob = ceaf(COSTS4, EFFECTS4, WTP3)
    # expected NMB of strategy 1: -10, -1.25, 33.75 (strategy 0: 0)
    assert list(idx) == [0, 0, 1]
    np.testing.assert_allclose(prob, [1.0, 0.75, 0.75])


def test_population_evpi_formula():
    assert population_evpi(10.0, 1000.0, 3) == pytest.approx(30000.0)
    expected = 10.0 * 1000.0 * (1.0 + 1.0 / 1.05 + 1.0 / 1.05 ** 2)
    assert population_evpi(10.0, 1000.0, 3, 0.05) == pytest.approx(expected)
    np.testing.assert_allclose(population_evpi(np.array([1.0, 2.0]), 100.0, 1, 0.03), [100.0, 200.0])


@pytest.mark.parametrize("args", [
    (10.0, 1000.0, 0), (10.0, 1000.0, 2.5), (10.0, -1.0, 3), (10.0, 1000.0, 3, -0.1),
    (-1.0, 1000.0, 3), (float("nan"), 1000.0, 3), (10.0, 1000.0, True),
])
def test_population_evpi_invalid(args):
    with pytest.raises(CesError):
        population_evpi(*args)


def test_summarise_draws_by_hand():
    values = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [4.0, 10.0], [5.0, 10.0]])
    s = summarise_draws(values)
    np.testing.assert_allclose(s["mean"], [3.0, 10.0])
    # linear interpolation: position 0.025*4 = 0.1 -> 1.1; 0.975*4 = 3.9 -> 4.9
    np.testing.assert_allclose(s["lower"], [1.1, 10.0])
    np.testing.assert_allclose(s["upper"], [4.9, 10.0])
    # sample variance = (4+1+0+1+4)/4 = 2.5
    np.testing.assert_allclose(s["sd"], [math.sqrt(2.5), 0.0])
    np.testing.assert_allclose(s["mcse"], [math.sqrt(2.5 / 5), 0.0])


def test_mcse_mean_nmb_by_hand():
    # wtp 100, strategy 1 NMB = 90, 40, 10, -5: mean 33.75
    dev = np.array([90, 40, 10, -5]) - 33.75
    sd = math.sqrt((dev ** 2).sum() / 3)
    got = mcse_mean_nmb(COSTS4, EFFECTS4, [100.0])
    np.testing.assert_allclose(got, [[0.0, sd / 2]])


# Convergence example: effects 0; costs col0 = 0,0,2,2 and col1 = 2,2,0,0 (means 1).
# NMB at any wtp: s0 = 0,0,-2,-2 and s1 = -2,-2,0,0: sample sd sqrt(4/3) each,
# MCSE sqrt(4/3)/2 = sqrt(1/3).  Means tie -> best 0, second 1; difference
# 2,2,-2,-2: sd sqrt(16/3), MCSE sqrt(4/3) ~ 1.1547.
CONV_COSTS = np.array([[0.0, 2.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
CONV_EFFECTS = np.zeros((4, 2))


def test_convergence_check_n_needed():
    df = convergence_check(CONV_COSTS, CONV_EFFECTS, [0.0, 50.0], precision=0.5)
    assert list(df["wtp"]) == [0.0, 50.0]
    row = df.iloc[0]
    assert row["best"] == 0 and row["second"] == 1
    assert row["mcse_max_strategy"] == pytest.approx(math.sqrt(1 / 3))
    assert row["mcse_incremental"] == pytest.approx(math.sqrt(4 / 3))
    assert row["mcse_max"] == pytest.approx(math.sqrt(4 / 3))
    assert not row["converged"]
    # ceil(4 * (4/3) / 0.25) = ceil(21.33) = 22
    assert list(df["n_needed"]) == [22, 22]
    assert list(df["n_draws"]) == [4, 4]


def test_convergence_check_incremental_decides():
    # strategies' MCSE 0.577 < 1 but incremental 1.155 > 1 -> not converged;
    # n_needed = ceil(4 * 4/3) = 6
    df = convergence_check(CONV_COSTS, CONV_EFFECTS, [0.0], precision=1.0)
    assert not df.iloc[0]["converged"]
    assert df.iloc[0]["n_needed"] == 6
    df = convergence_check(CONV_COSTS, CONV_EFFECTS, [0.0], precision=2.0)
    assert df.iloc[0]["converged"]
    assert df.iloc[0]["n_needed"] == 2  # ceil(4 * (4/3) / 4) = ceil(1.33)


def test_convergence_check_single_strategy():
    costs = np.array([[0.0], [0.0], [2.0], [2.0]])
    df = convergence_check(costs, np.zeros((4, 1)), [0.0], precision=0.1)
    row = df.iloc[0]
    assert row["second"] == -1 and math.isnan(row["mcse_incremental"])
    # MCSE sqrt(1/3); ceil(4 * (1/3) / 0.01) = ceil(133.3) = 134
    assert row["n_needed"] == 134
    assert not row["converged"]


def test_convergence_exact_square_not_rounded_up():
    # MCSE of [0, 0, 2, 2] is sqrt(1/3); precision sqrt(1/3)/2 -> n_needed exactly 4*4 = 16
    costs = np.array([[0.0], [0.0], [2.0], [2.0]])
    df = convergence_check(costs, np.zeros((4, 1)), [0.0], precision=math.sqrt(1 / 3) / 2)
    assert df.iloc[0]["n_needed"] == 16


@pytest.mark.parametrize("func", [ceac, ceaf, evpi, expected_nmb, mcse_mean_nmb])
def test_validation(func):
    good_c, good_e = COSTS4, EFFECTS4
    with pytest.raises(CesError):
        func(good_c, good_e, [-1.0])
    with pytest.raises(CesError):
        func(good_c, good_e, [float("nan")])
    with pytest.raises(CesError):
        func(good_c, good_e, [])
    with pytest.raises(CesError):
        func(good_c[:, :1], good_e, [1.0])
    with pytest.raises(CesError):
        func(good_c[:, 0], good_e[:, 0], [1.0])
    bad = good_c.copy()
    bad[0, 0] = np.nan
    with pytest.raises(CesError):
        func(bad, good_e, [1.0])


def test_validation_other():
    with pytest.raises(CesError):
        convergence_check(COSTS4, EFFECTS4, [1.0], precision=0.0)
    with pytest.raises(CesError):
        summarise_draws(np.array([1.0, 2.0]))
    with pytest.raises(CesError):
        summarise_draws(np.empty((0, 2)))


def test_scalar_wtp_accepted():
    np.testing.assert_allclose(ceac(COSTS4, EFFECTS4, 100.0), [[0.25, 0.75]])


# ---------------------------------------------------------------- compiled pass = numpy formulas, bit for bit

@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 127, 128, 129, 1000, 4097, 100_003])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_compiled_statistics_equal_numpy_formulas_bit_for_bit(n, k):
    """The compiled kernel (C-contiguous input) sums in numpy's order, so every statistic has the same bits
    as the numpy formulas (:func:`_numpy_statistics`, the pre-kernel code), ties and one draw included."""
    from ces.analysis.psa import _numpy_statistics, nmb_statistics

    rng = np.random.default_rng(n * 10 + k)
    costs = rng.gamma(2.0, 1000.0, (n, k)) * 10 ** rng.uniform(0, 3)
    effects = rng.normal(5.0, 2.0, (n, k))
    if n % 2:  # rounded values: ties within draws and between expected NMBs
        costs, effects = np.round(costs, -2), np.round(effects, 1)
    w = np.concatenate([[0.0], rng.uniform(0.0, 5e4, 5)])
    got, want = nmb_statistics(costs, effects, w), _numpy_statistics(costs, effects, w)
    assert set(got) == set(want)
    for key in want:
        assert np.array_equal(got[key], want[key], equal_nan=True), key
    f = nmb_statistics(np.asfortranarray(costs), np.asfortranarray(effects), w)  # numpy path: same values
    for key in want:
        np.testing.assert_allclose(f[key], want[key], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("n", [1, 7, 8, 64, 128, 129, 136, 1000, 8193, 123_457])
def test_pairwise_sum_is_numpys_sum(n):
    from ces.analysis.nmb_kernel import pairwise_sum

    a = np.random.default_rng(n).normal(size=n) * 10 ** np.random.default_rng(n + 1).uniform(-3, 6, size=n)
    assert 0.0 + pairwise_sum(a, 0, n) == np.add.reduce(a)


def test_compiled_statistics_do_not_depend_on_the_thread_count():
    import numba

    from ces.analysis.psa import nmb_statistics

    costs, effects = _random_psa(n=5000, k=3, seed=4)
    w = np.linspace(0.0, 5000.0, 37)
    try:
        numba.set_num_threads(1)
        one = nmb_statistics(costs, effects, w)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = nmb_statistics(costs, effects, w)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for key in one:
        assert np.array_equal(one[key], many[key], equal_nan=True), key
