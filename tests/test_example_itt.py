"""The LBCL flagship and tisagenlecleucel examples of issue 19: correlated PFS and OS (no capped PSA draws), the
intention-to-treat tree of the LBCL CAR-T arm, and the sourced inputs reaching the model."""

from __future__ import annotations

import pytest

from ces.pipeline import run
from tests.conftest import CONFIGS

LBCL_CONFIGS = ["flagship", "cart_lbcl", "cart_lbcl_bia", "cart_lbcl_societal", "cart_lbcl_japan", "cart_lbcl_sweden",
                "cart_lbcl_china", "cart_lbcl_oos"]


@pytest.mark.parametrize("name", LBCL_CONFIGS + ["tisacel_ball"])
def test_psa_caps_pfs_above_os_in_under_one_percent_of_1000_draws(name):
    """PFS <= OS by construction (OS cure = PFS cure + a beta increment, PFS rate = OS rate + a gamma increment),
    so no draw is capped at all: zero capped points summed over every model run (tree branches included)."""
    res = run(CONFIGS / f"{name}.yaml", draws=1000, seed=2026)
    psa = res.psa
    assert psa.n_draws == 1000
    assert set(psa.crossing) == set(res.strategy_names)
    for strategy, info in psa.crossing.items():
        assert info.draws / psa.n_draws < 0.01, (strategy, info.draws)
        assert info.points == 0, (strategy, info.points)
    assert "psm_capped" not in {w["code"] for w in res.warnings}


def _totals(overrides=None):
    res = run(CONFIGS / "cart_lbcl.yaml", psa=False, overrides={"parameters": overrides or {}})
    return res, res.totals.set_index("strategy")


def _itt_branches(totals_of, arm: str) -> tuple:
    """(p_infused, totals, infused-only totals, not-infused-only totals) of an intention-to-treat arm, after
    checking that the arm is p·infused + (1 − p)·not infused in cost, QALYs and LYs."""
    res, t = totals_of()
    _, inf = totals_of({"p_infused": 1.0})
    _, non = totals_of({"p_infused": 0.0})
    p = res.loaded.model.parameters["p_infused"]["value"]
    for col in ("cost", "qaly", "ly"):
        assert t.loc[arm, col] == pytest.approx(p * inf.loc[arm, col] + (1 - p) * non.loc[arm, col], rel=1e-12)
    return p, t, inf, non


def test_itt_cart_arm_is_the_weighted_sum_of_the_infused_and_not_infused_branches():
    p, t, inf, non = _itt_branches(_totals, "cart")
    assert p == pytest.approx(101 / 111, abs=1e-5)  # ZUMA-1: 101 of 111 leukapheresed were infused
    # the not-infused branch is the comparator's run (same curves, no IVIG) after the 22-day wait (utility u_pd,
    # everything after it discounted by d = 1.03^-w), plus apheresis (at t = 0) and bridging (after the wait)
    w = 22 / 365.25
    d = 1.03 ** -w
    assert non.loc["cart", "qaly"] == pytest.approx(0.71 * w + d * t.loc["chemo", "qaly"], rel=1e-12)
    assert non.loc["cart", "ly"] == pytest.approx(w + d * t.loc["chemo", "ly"], rel=1e-12)
    c_chemo_course = 30000.0
    bridging = (19 / 24) * c_chemo_course  # bridging share of the not infused x one course
    assert non.loc["cart", "cost"] == pytest.approx(10000.0 + d * (t.loc["chemo", "cost"] + bridging), rel=1e-4)
    # the price is paid on the infused branch only
    _, inf_hi = _totals({"p_infused": 1.0, "c_cart": 473000})
    _, non_hi = _totals({"p_infused": 0.0, "c_cart": 473000})
    assert inf_hi.loc["cart", "cost"] - inf.loc["cart", "cost"] == pytest.approx(100000.0 * d, rel=1e-12)
    assert non_hi.loc["cart", "cost"] == pytest.approx(non.loc["cart", "cost"], rel=1e-12)


def test_ivig_is_paid_by_infused_patients_in_the_first_year_only():
    res, t = _totals({"p_infused": 1.0})
    _, none = _totals({"p_infused": 1.0, "s_ivig": 0.0})
    _, longer = _totals({"p_infused": 1.0, "d_ivig": 2})
    ivig = t.loc["cart", "cost"] - none.loc["cart", "cost"]
    # 36.6 % on IVIG x USD 3,500 a month x at most 12 months in PF: positive, below the cap
    assert 0 < ivig < 0.36585 * 3500 * 12
    assert longer.loc["cart", "cost"] > t.loc["cart", "cost"]
    assert none.loc["chemo", "cost"] == pytest.approx(t.loc["chemo", "cost"], rel=1e-12)


def test_survivor_excess_mortality_and_age_adjusted_utility_lower_the_qalys():
    _, t = _totals()
    _, no_smr = _totals({"smr_survivors": 1.0})
    assert (t["qaly"] < no_smr["qaly"]).all() and (t["ly"] < no_smr["ly"]).all()


def test_cart_calibration_targets_hold_for_the_infused_branch():
    """ZUMA-1 OS targets are of the infused patients: 18-month OS ~52 %, 5-year ~42.6 % (SMR included)."""
    res, _ = _totals({"p_infused": 1.0})
    os_c = 1 - res.base.results["cart"].trace[0][:, 2]
    assert abs(os_c[18] - 0.52) < 0.03 and abs(os_c[60] - 0.426) < 0.03


def test_tisacel_comparator_pays_the_sourced_transplant_share_and_ivig_follows_tisagenlecleucel():
    res = run(CONFIGS / "tisacel_ball.yaml", psa=False)
    t = res.totals.set_index("strategy")
    # 10 of 25 transplanted after clofarabine-based salvage (Hijiya 2011) x USD 683,099 first-year HSCT cost
    assert t.loc["chemo", "cost.transplant"] == pytest.approx(0.4 * 683099, rel=1e-12)
    # by intention to treat the 17 of 92 never infused get the comparator's transplant share, after the 43-day wait
    p, d = 75 / 92, 1.03 ** -(43 / 365.25)
    assert t.loc["tisa", "cost.transplant"] == pytest.approx((1 - p) * d * 0.4 * 683099, rel=1e-4)
    assert t.loc["chemo", "cost.ivig"] == 0
    assert 0 < t.loc["tisa", "cost.ivig"] < 2000 * 24  # at most 24 months at USD 2,000, discounted and survival-weighted
    no_late = run(CONFIGS / "tisacel_ball.yaml", psa=False, overrides={"parameters": {"smr_late": 1.0}})
    assert (t["qaly"] < no_late.totals.set_index("strategy")["qaly"]).all()


def test_leukapheresis_to_infusion_wait_delays_and_discounts_the_cart_arm():
    """docs/tree.md: E_r = sum_n pi_n d_r(t_n) payoff_n + sum_terminals pi_n d_r(T_n) M_n. The root (leukapheresis)
    lasts w = 22 days at utility u_pd; its apheresis cost is at t = 0, every branch payoff and the model run start at
    T = w, so with d = 1.03^-w: QALY = u w + d QALY(w=0), LY = w + d LY(w=0), cost = c_aph + d (cost(w=0) - c_aph)."""
    res, t = _totals()
    _, t0 = _totals({"d_wait": 0.0})
    w, u, c_aph = 22 / 365.25, 0.71, 10000.0  # ZUMA-1 17 days to delivery + 5 days of lymphodepletion; u_pd
    assert res.loaded.model.parameters["u_pd"]["value"] == u
    d = 1.03 ** -w  # discrete annual discounting at 3 %, costs and effects alike
    assert t.loc["cart", "qaly"] == pytest.approx(u * w + d * t0.loc["cart", "qaly"], rel=1e-12)
    assert t.loc["cart", "ly"] == pytest.approx(w + d * t0.loc["cart", "ly"], rel=1e-12)
    assert t.loc["cart", "cost"] == pytest.approx(c_aph + d * (t0.loc["cart", "cost"] - c_aph), rel=1e-12)
    # the delay lowers the discounted QALYs of everything after the wait by (1 - d) x QALY(w=0) (about 0.2 %)
    after = t.loc["cart", "qaly"] - u * w
    assert after == pytest.approx(t0.loc["cart", "qaly"] * (1 - (1 - d)), rel=1e-12) and after < t0.loc["cart", "qaly"]
    for col in ("cost", "qaly", "ly"):  # the comparator has no wait
        assert t.loc["chemo", col] == pytest.approx(t0.loc["chemo", col], rel=1e-12)


def _tisa(overrides=None):
    res = run(CONFIGS / "tisacel_ball.yaml", psa=False, overrides={"parameters": overrides or {}})
    return res, res.totals.set_index("strategy")


def test_tisacel_itt_arm_is_the_weighted_sum_of_the_infused_and_not_infused_branches():
    """ELIANA: 75 of 92 enrolled were infused. Arm = p x infused + (1 - p) x not infused; the not infused get the
    comparator's run after the 43-day wait (utility u_pd = 0.5, everything after it discounted by d = 1.03^-w) plus
    apheresis at t = 0; the price is paid on the infused branch only (after the wait)."""
    p, t, inf, non = _itt_branches(_tisa, "tisa")
    assert p == pytest.approx(75 / 92, abs=1e-5)
    w = 43 / 365.25
    d = 1.03 ** -w
    assert non.loc["tisa", "qaly"] == pytest.approx(0.5 * w + d * t.loc["chemo", "qaly"], rel=1e-12)
    assert non.loc["tisa", "ly"] == pytest.approx(w + d * t.loc["chemo", "ly"], rel=1e-12)
    assert non.loc["tisa", "cost"] == pytest.approx(10000.0 + d * t.loc["chemo", "cost"], rel=1e-12)
    assert non.loc["tisa", "cost.ivig"] == 0  # IVIG follows tisagenlecleucel only
    _, inf_hi = _tisa({"p_infused": 1.0, "c_tisa": 575000})
    _, non_hi = _tisa({"p_infused": 0.0, "c_tisa": 575000})
    assert inf_hi.loc["tisa", "cost"] - inf.loc["tisa", "cost"] == pytest.approx(100000.0 * d, rel=1e-12)
    assert non_hi.loc["tisa", "cost"] == pytest.approx(non.loc["tisa", "cost"], rel=1e-12)
