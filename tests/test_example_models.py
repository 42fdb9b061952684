"""The cell- and gene-therapy examples of issue 19 (TDT gene therapy, OOS scenario, cilta-cel): each config's PSA
caps PFS above OS in under 1 % of draws, the OOS product is a scenario on the CAR-T arm (not a strategy), and the
sourced inputs reach the model (medians, trial counts, the refund rule)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ces.pipeline import run
from ces.studies.dsa import run_dsa
from tests.conftest import CONFIGS

PSA_CONFIGS = ["cart_lbcl_oos", "ciltacel_mm", "genetherapy_tdt_upfront", "genetherapy_tdt_instalments",
               "genetherapy_tdt_outcome", "genetherapy_tdt_refund", "genetherapy_tdt_icer2022"]


@pytest.mark.parametrize("name", PSA_CONFIGS)
def test_psa_caps_pfs_above_os_in_under_one_percent_of_draws(name):
    res = run(CONFIGS / f"{name}.yaml", draws=500, seed=20260)
    psa = res.psa
    assert psa.n_draws == 500
    if res.loaded.model.kind == "psm":
        assert set(psa.crossing) == set(res.strategy_names)  # every strategy's crossing is counted
    for strategy, info in psa.crossing.items():
        assert info.draws / psa.n_draws < 0.01, (strategy, info.draws)
    assert "psm_capped" not in {w["code"] for w in res.warnings}


def test_oos_is_a_scenario_on_the_cart_arm_not_a_strategy():
    res = run(CONFIGS / "cart_lbcl_oos.yaml", psa=False)
    assert res.strategy_names == ["chemo", "cart"]
    frontier = res.icers[res.icers["status"] == "ND"]["strategy"].tolist()
    assert frontier == ["chemo", "cart"]
    t = res.totals.set_index("strategy")
    for c in ("apheresis_repeat", "oos_product", "failed_manufacture"):  # other bearers, on the CAR-T arm only
        assert t.loc["cart", f"cost.{c}"] > 0 and t.loc["chemo", f"cost.{c}"] == 0


def test_oos_scenarios_move_outcomes_and_bearers_as_described():
    d = run_dsa(CONFIGS / "cart_lbcl_oos.yaml", "societal")
    sc = d["scenarios"].set_index("scenario")
    pay = run_dsa(CONFIGS / "cart_lbcl_oos.yaml", "payer")["scenarios"].set_index("scenario")
    base, none_ = "base case", "no manufacturing failure"
    # without failures there is nothing for the hospital or the manufacturer: societal cost = payer cost
    assert sc.loc[none_, "cost.cart"] == pytest.approx(pay.loc[none_, "cost.cart"], rel=1e-12)
    assert sc.loc[base, "cost.cart"] > pay.loc[base, "cost.cart"]
    # more failures, fewer QALYs on the CAR-T arm (3.87 % < 7.4 % < 13 %); the comparator does not move
    q = [sc.loc[s, "qaly.cart"] for s in (none_, base, "failure 7.4 % (Jo et al. 2023, Japan)",
                                          "failure 13 % (top of 1-13 % range)")]
    assert all(a > b for a, b in zip(q, q[1:]))
    assert sc["qaly.chemo"].nunique() == 1
    # the manufacturer's cost is at cost of goods: halving it lowers the societal cost, not the payer's
    cogs = "cost of goods USD 100,000"
    assert pay.loc[cogs, "cost.cart"] == pytest.approx(pay.loc[base, "cost.cart"], rel=1e-12)
    assert sc.loc[cogs, "cost.cart"] < sc.loc[base, "cost.cart"]


def _median_month(curve: np.ndarray) -> int:
    """First whole month at which the survival curve is at or below one half."""
    return int(np.flatnonzero(curve <= 0.5)[0])


def test_cilta_cel_comparator_reproduces_locommotion_medians():
    res = run(CONFIGS / "ciltacel_mm.yaml", psa=False)
    states = res.model.states
    tr = res.base.results["soc"].trace[0]
    pfs, os_ = tr[:, states.index("PF")], 1 - tr[:, states.index("Dead")]
    assert _median_month(pfs) == math.ceil(4.6)    # LocoMMotion median PFS 4.6 months (Mateos 2022)
    assert _median_month(os_) == math.ceil(12.4)   # median OS 12.4 months
    # CAR-T arm, intention to treat: 97 of 113 infused reach CARTITUDE-1's 27-month OS of 70.4 %
    cart = 1 - res.base.results["cart"].trace[0][:, states.index("Dead")]
    w = 97 / 113
    assert cart[27] == pytest.approx(w * 0.704 + (1 - w) * os_[27], abs=2e-3)


def test_tdt_icer2022_payback_is_80_percent_of_the_price_without_ti_at_two_years():
    res = run(CONFIGS / "genetherapy_tdt_icer2022.yaml", psa=False)
    states = res.model.states
    gene = res.base.results["gene"].trace[0]
    ti = gene[2, states.index("TIiron")] + gene[2, states.index("TI")]
    assert res.payment["schedule"][1] == (2, pytest.approx(-0.8 * 2_100_000 * (1 - ti)))
    soc = res.base.results["transfusion"].trace[0]
    assert soc[:, [states.index("Post"), states.index("TIiron"), states.index("TI")]].max() == 0
    # year 1 is spent in the post-infusion state; transfusion independence starts at the end of it
    assert gene[0, states.index("Post")] == 1 and gene[1, states.index("Post")] == 0
