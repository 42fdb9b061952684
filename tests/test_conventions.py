"""Counting weights and discount factors: each convention pinned against its definition."""

from __future__ import annotations

import numpy as np
import pytest

from ces.engine import conventions as cv


def test_darth_gen_wcc_weights():
    a, w = cv.counting_weights("darth-simpson", 75)
    assert not a.any()
    assert w[0] == pytest.approx(1 / 3) and w[75] == pytest.approx(1 / 3)
    assert w[1] == pytest.approx(2 / 3) and w[2] == pytest.approx(4 / 3) and w[3] == pytest.approx(2 / 3)
    assert w.sum() == pytest.approx(74 + 2 / 3)


def test_textbook_simpson_and_half_cycle_weights():
    _, w = cv.counting_weights("simpson", 4)
    assert np.allclose(w, [1 / 3, 4 / 3, 2 / 3, 4 / 3, 1 / 3])
    _, h = cv.counting_weights("half-cycle", 4)
    assert np.allclose(h, [0.5, 1, 1, 1, 0.5])
    _, n = cv.counting_weights("none", 4)
    assert np.allclose(n, 1)


@pytest.mark.parametrize("method,alpha,beta", [("start", 1, 0), ("end", 0, 1), ("life-table", .5, .5)])
def test_interval_weights(method, alpha, beta):
    a, b = cv.counting_weights(method, 3)
    assert a[0] == 0 and b[0] == 0
    assert np.all(a[1:] == alpha) and np.all(b[1:] == beta)


def test_discount_timing_matches_heemod_first_option():
    # heemod discount(x, r, first = FALSE) = x / (1+r)^(cycle-1); first = TRUE: x / (1+r)^cycle
    r, n = 0.06, 5
    start = cv.discount_factors(r, cv.discount_times("end", "start", n, 1.0))
    end = cv.discount_factors(r, cv.discount_times("end", "end", n, 1.0))
    k = np.arange(1, n + 1)
    assert np.allclose(start[1:], 1.06 ** -(k - 1.0))
    assert np.allclose(end[1:], 1.06 ** -k)
    mid = cv.discount_factors(r, cv.discount_times("end", "middle", n, 1.0))
    assert np.allclose(mid[1:], 1.06 ** -(k - 0.5))


def test_point_methods_discount_at_point_time():
    t = cv.discount_times("darth-simpson", "start", 3, 0.5)
    assert np.allclose(t, [0, 0.5, 1.0, 1.5])


def test_annual_step_and_continuous_discounting():
    # monthly cycles, timing start: months 1-12 undiscounted, months 13-24 by 1/(1+r)
    t = cv.discount_times("end", "start", 24, 1 / 12)
    d = cv.discount_factors(0.035, t, "annual")
    assert np.allclose(d[1:13], 1.0) and np.allclose(d[13:25], 1 / 1.035)
    c = cv.discount_factors(0.03, np.array([0.0, 2.0]), "continuous")
    assert np.allclose(c, [1.0, np.exp(-0.06)])


def test_value_grid_cycles_and_times():
    cyc, time = cv.period_cycles_and_times("life-table", 3, 1.0)
    assert list(cyc) == [1, 1, 2, 3] and list(time) == [0, 0, 1, 2]
    cyc, time = cv.period_cycles_and_times("half-cycle", 3, 0.5)
    assert list(cyc) == [0, 1, 2, 3] and list(time) == [0, 0.5, 1.0, 1.5]
