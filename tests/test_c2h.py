"""Japan C2H price adjustment (Chuikyo rules), by hand and on tisagenlecleucel's published listing."""

from __future__ import annotations

import pytest

from ces.economics.c2h import adjusted_price, band_index, band_table, cut_cap, weighted_price
from ces.modelfile.presets import load_setting
from ces.pipeline import run
from tests.conftest import CONFIGS

RULE = load_setting("japan")["threshold"]


def test_bands_and_coefficients_follow_the_rule_table():
    b = RULE["boundaries"]
    assert [band_index(x, b) for x in (4_999_999, 5_000_000, 7_499_999, 7_500_000, 9_999_999, 10_000_000)] == \
        [0, 1, 1, 2, 2, 3]
    assert RULE["premium_coefficients"] == [1.0, 0.7, 0.4, 0.1]
    assert RULE["operating_profit_coefficients"] == [1.0, 0.83, 0.67, 0.5]
    # x1.5 for anticancer etc.: 8M falls in 7.5M-11.25M (gamma 0.7), not in 7.5M-10M (gamma 0.4)
    assert adjusted_price(10e6, 2e6, 8e6, RULE, considered=True)["gamma"] == 0.7
    assert adjusted_price(10e6, 2e6, 8e6, RULE)["gamma"] == 0.4


def test_premium_portion_adjustment_and_the_cap_by_hand():
    # P = 10M, premium 2M (rate 20 % <= 25 %: cut capped at 10 %)
    r = adjusted_price(10e6, 2e6, 6e6, RULE, premium_rate=0.2)
    assert r["adjusted_price"] == pytest.approx(10e6 - 2e6 * 0.3) and r["cut"] == pytest.approx(0.06)
    r = adjusted_price(10e6, 2e6, 8e6, RULE, premium_rate=0.2)  # raw 10M - 1.2M = 8.8M (12 %) -> capped at 9M
    assert r["unlimited_price"] == pytest.approx(8.8e6)
    assert r["adjusted_price"] == pytest.approx(9e6) and r["limited_by"] == "cap on the cut"
    assert adjusted_price(10e6, 2e6, 4e6, RULE)["adjusted_price"] == 10e6  # below 5M: no adjustment
    # cap for a premium rate of 55 %: 10 + (55 - 25)/15 = 12 %; above 100 %: 15 %
    assert cut_cap(0.55, RULE["cut_cap"]) == pytest.approx(0.12)
    assert cut_cap(1.0, RULE["cut_cap"]) == pytest.approx(0.15) == cut_cap(1.2, RULE["cut_cap"])


def test_cost_accounting_operating_profit_portion_by_hand():
    # disclosure < 50 %: premium 0.5M with gamma, operating profit 1M with theta; ICER >= 10M: gamma 0.1, theta 0.5
    r = adjusted_price(10e6, 0.5e6, 12e6, RULE, premium_rate=0.3, operating_profit=1e6)
    assert r["adjusted_price"] == pytest.approx(10e6 - 0.5e6 * 0.9 - 1e6 * 0.5)  # 9.05M, cut 9.5 % < cap 10.33 %
    r = adjusted_price(10e6, 0.5e6, 6e6, RULE, operating_profit=1e6)  # theta 0.83
    assert r["adjusted_price"] == pytest.approx(10e6 - 0.5e6 * 0.3 - 1e6 * 0.17)


def test_icer_floor_at_the_lower_boundary():
    # ICER 5.2M (dC 5.2M, dE 1): gamma 0.7 would cut 0.6M and bring the ICER to 4.6M < 5M -> floor at ICER = 5M
    r = adjusted_price(10e6, 2e6, 5.2e6, RULE, premium_rate=0.2, inc_cost=5.2e6, inc_effect=1.0)
    assert r["adjusted_price"] == pytest.approx(9.8e6) and r["limited_by"] == "ICER floor"
    assert (5.2e6 - (10e6 - r["adjusted_price"])) / 1.0 == pytest.approx(5e6)
    r = adjusted_price(10e6, 2e6, 6e6, RULE, premium_rate=0.2, inc_cost=6e6, inc_effect=1.0)  # 5.4M: no floor
    assert r["adjusted_price"] == pytest.approx(9.4e6) and r["limited_by"] == ""


def test_band_table_and_population_weights():
    rows = band_table(10e6, 2e6, RULE, premium_rate=0.2)
    assert [r["cut"] for r in rows] == pytest.approx([0.0, 0.06, 0.10, 0.10])
    assert weighted_price([(0.25, 10e6), (0.75, 9e6)]) == pytest.approx(9.25e6)
    with pytest.raises(ValueError):
        weighted_price([(0.5, 1.0)])


def test_tisagenlecleucel_published_listing_and_2021_cut_fit_the_rule():
    """Kymriah (qlifepro 2019-05-17; m3.com 2021-04-14): cost base 30,727,896, usefulness premium 35 % and market
    premium 10 %, both x 0.2 (disclosure < 50 %) -> listed at 33,493,407; 2021: 34,113,655 -> 32,647,761 (-4.3 %),
    coefficients 1.0-0.4 across populations."""
    base = 30_727_896
    assert base * (1 + (0.35 + 0.10) * 0.2) == pytest.approx(33_493_407, abs=1)
    p21, after = 34_113_655, 32_647_761
    assert 1 - after / p21 == pytest.approx(0.043, abs=5e-4)
    premium = base * 0.35 * 0.2 * p21 / 33_493_407  # usefulness premium portion at the 2021 price
    cap = cut_cap(0.35, RULE["cut_cap"])
    assert 1 - after / p21 < cap  # within the cap on the cut (10.67 % for a 35 % premium)
    # gamma 0.4 on the premium alone, for every patient, cuts only 3.85 %: the published 4.3 % needs the
    # operating-profit portion (theta), as the rule provides for disclosure < 50 %.
    only_premium = adjusted_price(p21, premium, 12e6, RULE, considered=True, premium_rate=0.35)
    assert only_premium["gamma"] == 0.4 and only_premium["cut"] < 1 - after / p21


def test_japan_config_shows_the_adjusted_price():
    res = run(CONFIGS / "cart_lbcl_japan.yaml", psa=False)
    c = res.appraisal["c2h"]
    icer = float(res.icers.set_index("strategy").loc["cart", "icer"])
    expected = adjusted_price(33e6, 2150953, icer, RULE, True, 0.35, 3e6,
                              float(res.icers.set_index("strategy").loc["cart", "inc_cost"]),
                              float(res.icers.set_index("strategy").loc["cart", "inc_effect"]))
    assert c["adjusted_price"] == pytest.approx(expected["adjusted_price"], rel=1e-12)
    assert len(c["bands"]) == 4 and c["considered"]


def test_c2h_block_needs_the_japan_setting_and_names_its_key(tmp_path):
    from ces.errors import CesError

    text = (CONFIGS / "cart_lbcl_japan.yaml").read_text().replace("setting: japan", "setting: us")
    text = text.replace("model: ../models/", f"model: {CONFIGS.parent / 'models'}/")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(CesError, match="needs setting japan") as e:
        run(cfg, psa=False)
    assert e.value.path and "c2h" in str(e.value.path)


def test_japan_outputs_carry_the_c2h_and_cost_sharing_tables(runner, tmp_path):
    from openpyxl import load_workbook

    from ces.cli import app

    out = tmp_path / "o"
    r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl_japan.yaml"), "--no-psa", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    names = load_workbook(next(out.glob("*.xlsx")), read_only=True).sheetnames
    assert {"c2h_bands", "cost_sharing", "budget_impact_repricing"} <= set(names)
