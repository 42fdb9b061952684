"""Cost shares per payer (China's CAR-T payer tiers): CEA and BIA per payer, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ces.errors import CesError
from ces.pipeline import run
from tests.conftest import CONFIGS
from tests.test_budget import MODEL

PAYERS = """\
payers:
  strategy: B
  comparator: A
  shares:
    drug: {basic: 0.1, commercial: 0.5, huiminbao: 0.2, oop: 0.2}
    default: {basic: 0.7, oop: 0.3}
budget_impact:
  years: 3
  population: {patients: [10, 20, 30]}
  current: {A: 1, B: 0, C: 0}
  new: {A: 0, B: 1, C: 0}
"""


def _run(tmp_path, body=PAYERS):
    (tmp_path / "m.yaml").write_text(MODEL)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ces: 1\nmodel: m.yaml\n" + body)
    return run(cfg, psa=False)


def test_payer_shares_split_cea_and_bia_by_hand(tmp_path):
    res = _run(tmp_path)
    cea = res.payers["cea"].set_index("payer")
    # 10 cycles, undiscounted: A = drug 100 + cost 10 x 10 = 200; B = drug 200 + 5 x 10 = 250; effect equal (10 each)
    # basic: A 0.1*100 + 0.7*100 = 80; B 0.1*200 + 0.7*50 = 55
    assert cea.loc["basic", "cost.A"] == pytest.approx(80) and cea.loc["basic", "cost.B"] == pytest.approx(55)
    assert cea.loc["commercial", "inc_cost"] == pytest.approx(0.5 * 100)
    assert cea.loc["oop", "inc_cost"] == pytest.approx(0.2 * 100 + 0.3 * -50)
    assert cea.loc["all payers", "inc_cost"] == pytest.approx(50)
    assert cea["inc_cost"].iloc[:-1].sum() == pytest.approx(cea.loc["all payers", "inc_cost"])
    bia = res.payers["bia"].set_index("year")
    # year 1: 10 patients; B vs A in year 1: drug +100 each, cost -5 each
    assert bia.loc[1, "net_impact.commercial"] == pytest.approx(10 * 0.5 * 100)
    assert bia.loc[1, "net_impact.basic"] == pytest.approx(10 * (0.1 * 100 + 0.7 * -5))
    # year 2: cohort 1 (cost -5) + cohort 2 (20 x (drug +100, cost -5))
    assert bia.loc[2, "net_impact.oop"] == pytest.approx(10 * 0.3 * -5 + 20 * (0.2 * 100 + 0.3 * -5))
    total = sum(bia[c] for c in bia.columns if c.startswith("net_impact."))
    assert np.allclose(total, res.budget["summary"].set_index("year")["net_impact"])


def test_payer_shares_must_sum_to_one(tmp_path):
    with pytest.raises(CesError, match="sum to 1"):
        _run(tmp_path, PAYERS.replace("oop: 0.3}", "oop: 0.2}"))
    with pytest.raises(CesError, match="unknown cost category `drugs`"):
        _run(tmp_path, PAYERS.replace("    drug: {", "    drugs: {"))


def test_china_config_costs_per_payer_and_latest_gdp():
    res = run(CONFIGS / "cart_lbcl_china.yaml", psa=False)
    assert set(res.payers["cea"]["payer"]) == {"basic_medical_insurance", "commercial_innovative_drug_list",
                                               "huiminbao", "out_of_pocket", "all payers"}
    assert res.payers["bia"] is not None
    thr = res.appraisal["threshold"]
    assert (thr["lower"], thr["threshold"]) == (99665, 3 * 99665)
