"""Japan high-cost medical expense benefit (kōgaku ryōyōhi): monthly caps by bracket, many-times rule, annual max."""

from __future__ import annotations

import numpy as np
import pytest

from ces.economics.japan_hcb import monthly_oop, oop_stream
from ces.modelfile.presets import load_setting
from ces.pipeline import run
from tests.conftest import CONFIGS

HCB = load_setting("japan")["high_cost_medical_expense"]
CUR, AUG = HCB["rules"]["current"]["brackets"], HCB["rules"]["aug2026"]["brackets"]


def test_monthly_cap_by_bracket_by_hand():
    # middle bracket (u): 80,100 + (1,000,000 - 267,000) x 1 % = 87,430 < 30 % = 300,000
    assert monthly_oop(1_000_000, CUR["u"], 0.3) == (pytest.approx(87_430), True)
    assert monthly_oop(200_000, CUR["u"], 0.3) == (pytest.approx(60_000), False)   # 30 % below the limit
    assert monthly_oop(1_000_000, CUR["a"], 0.3)[0] == pytest.approx(252_600 + (1_000_000 - 842_000) * 0.01)
    assert monthly_oop(1_000_000, CUR["i"], 0.3)[0] == pytest.approx(167_400 + (1_000_000 - 558_000) * 0.01)
    assert monthly_oop(1_000_000, CUR["e"], 0.3)[0] == 57_600
    assert monthly_oop(1_000_000, CUR["o"], 0.3)[0] == 35_400
    # a CAR-T month (JPY 37.7M): 80,100 + 374,330 = 454,430
    assert monthly_oop(37_700_000, CUR["u"], 0.3)[0] == pytest.approx(454_430)


def test_many_times_rule_and_the_august_2026_annual_maximum():
    five = oop_stream(np.full(5, 1_000_000.0), CUR["u"], 0.3)
    assert list(five) == pytest.approx([87_430] * 3 + [44_400] * 2)        # from the 4th capped month: 44,400
    year = oop_stream(np.full(24, 1_000_000.0), AUG["u"], 0.3, AUG["u"]["annual"])
    first = 3 * (85_800 + (1_000_000 - 286_000) * 0.01) + 9 * 44_400       # 678,420 without the annual maximum
    assert first > 530_000 and year[:12].sum() == pytest.approx(530_000)  # capped at JPY 530,000 (seed 002:839)
    assert year[12:].sum() == pytest.approx(530_000) and year[12] == 44_400  # resets yearly; many-times continues
    assert AUG["u"]["fixed"] - CUR["u"]["fixed"] == 5_700                 # Aug 2026: +5,700 (seed 002:802)


def test_japan_config_shows_patient_capped_cost_and_net_insurer_cost():
    res = run(CONFIGS / "cart_lbcl_japan.yaml", psa=False)
    cs = res.appraisal["cost_sharing"]["table"].set_index("strategy")
    tot = res.totals.set_index("strategy")
    # the cost sharing works on the per-period costs on model time, which the CAR-T tree's wait before infusion does
    # not shift (docs/tree.md, per-period outputs): its total is the model's total without the wait, exactly
    no_wait = run(CONFIGS / "cart_lbcl_japan.yaml", psa=False, overrides={"parameters": {"d_wait": 0.0}})
    tot0 = no_wait.totals.set_index("strategy")
    d = 1.03 ** -(22 / 365.25)
    assert tot.loc["cart", "cost"] < tot0.loc["cart", "cost"] and tot.loc["cart", "cost"] > d * tot0.loc["cart", "cost"]
    for s in ("chemo", "cart"):
        assert cs.loc[s, "total"] == pytest.approx(tot0.loc[s, "cost"], rel=1e-9)  # same discounting as the model
        assert cs.loc[s, "insurer"] + cs.loc[s, "patient"] == pytest.approx(cs.loc[s, "total"], rel=1e-12)
        assert cs.loc[s, "patient"] <= cs.loc[s, "patient_without_annual_max"] < cs.loc[s, "patient_without_cap"]
