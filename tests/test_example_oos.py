"""The OOS / manufacturing-failure scenario (models/cart_lbcl_oos.yaml) on the LBCL flagship's inputs: with no
failure it is the flagship; its failure branches carry the costs and cure fractions docs/models.md describes."""

from __future__ import annotations

import pytest

from ces.pipeline import run
from tests.conftest import CONFIGS

W = 22 / 365.25  # leukapheresis to infusion (the flagship's wait)
D = 1.03 ** -W  # everything after the wait is discounted by d(W) (docs/tree.md)


def _t(name="cart_lbcl_oos", **p):
    return run(CONFIGS / f"{name}.yaml", psa=False, overrides={"parameters": p}).totals.set_index("strategy")


def test_without_manufacturing_failure_the_oos_model_is_the_flagship():
    oos, flag = _t(p_mf=0.0), _t("cart_lbcl")
    for s in ("chemo", "cart"):
        for col in ("cost", "qaly", "ly"):
            assert oos.loc[s, col] == pytest.approx(flag.loc[s, col], rel=1e-12), (s, col)
        assert oos.loc[s, "cost_societal"] == pytest.approx(oos.loc[s, "cost"], rel=1e-12)  # no other bearer's cost


def test_arm_is_the_failure_weighted_mixture_of_the_first_pass_and_failure_branches():
    base = _t()
    first, mf = _t(p_mf=0.0), _t(p_mf=1.0)
    p = 38 / 981  # UK panel: 38 manufacturing failures in 981 LBCL patients
    for col in ("cost", "cost_societal", "qaly", "ly"):
        assert base.loc["cart", col] == pytest.approx((1 - p) * first.loc["cart", col] + p * mf.loc["cart", col],
                                                      rel=1e-6)


def test_failed_remanufacture_without_infusion_is_the_comparator_plus_apheresis_and_cost_of_goods():
    # s_oos = 0, s_reman = 0: everyone with a failure is not infused (n_drop = 0): salvage chemotherapy after the wait
    t = _t(p_mf=1.0, s_oos=0.0, s_reman=0.0)
    assert t.loc["cart", "qaly"] == pytest.approx(0.71 * W + D * t.loc["chemo", "qaly"], rel=1e-12)
    assert t.loc["cart", "cost"] == pytest.approx(10000.0 + D * t.loc["chemo", "cost"], rel=1e-12)
    assert t.loc["cart", "cost.failed_manufacture"] == pytest.approx(D * 200000.0, rel=1e-12)  # the failed product
    assert t.loc["cart", "cost.apheresis_repeat"] == 0


def test_oos_product_is_free_and_the_remanufacture_costs_follow_the_panel_counts():
    oos = _t(p_mf=1.0, s_oos=1.0)
    assert oos.loc["cart", "cost.treatment"] == pytest.approx(D * 35000.0, rel=1e-12)  # administration, no price
    assert oos.loc["cart", "cost.oos_product"] == pytest.approx(D * 200000.0, rel=1e-12)
    reman = _t(p_mf=1.0, s_oos=0.0)
    s, drop_share, attempts = 11 / 25, 9 / 26, 21 / 11  # late-infused, dropout while waiting, attempts per late
    n_drop = min(s / (1 - drop_share), 1) - s
    assert reman.loc["cart", "cost.apheresis_repeat"] == pytest.approx(D * (s + n_drop) * 10000.0, rel=1e-5)
    assert reman.loc["cart", "cost.failed_manufacture"] == pytest.approx(
        D * (1 + s * (attempts - 1) + n_drop) * 200000.0, rel=1e-5)
    assert reman.loc["cart", "cost.treatment"] == pytest.approx(D * s * (373000.0 + 35000.0), rel=1e-5)
    # worse cure fractions after OOS (x 52.8/68.4) or late infusion (x 46.8/68.4) than a first-pass infusion
    first = _t(p_mf=0.0, p_infused=1.0)
    late = _t(p_mf=1.0, s_oos=0.0, s_reman=1.0, d_reman=0.0)
    assert first.loc["cart", "qaly"] > oos.loc["cart", "qaly"] > late.loc["cart", "qaly"]
