"""Budget impact: a hand-computed 3-treatment, 5-year case with a linear ramp; consistency with the CEA."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from ces.cli import app
from ces.errors import CesError
from ces.pipeline import run
from tests.conftest import CONFIGS, MODELS

MODEL = """\
ces: 1
cycle: 1 year
horizon: 10 cycles
correction: start
discount: {costs: 0, effects: 0}
parameters:
  c: 0
states:
  Alive: {cost: c, utility: 1}
  Dead: {dead: true}
transitions:
  Alive: {Alive: 1}
strategies:
  A: {parameters: {c: 10}, initial_costs: {drug: 100}}
  B: {parameters: {c: 5}, initial_costs: {drug: 200}}
  C: {parameters: {c: 50}}
"""


def _write(tmp_path, bia: str):
    (tmp_path / "m.yaml").write_text(MODEL)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ces: 1\nmodel: m.yaml\nbudget_impact:\n" + textwrap.indent(textwrap.dedent(bia), "  "))
    return cfg


BIA = """\
years: 5
population: {size: 1000000, rate: 0.0001, growth: 0.1}
current: {A: 0.7, B: 0.3, C: 0}
uptake: {strategy: C, target: 0.5, years_to_target: 2}
"""


def test_hand_computed_three_treatment_five_year_ramp(tmp_path):
    res = run(_write(tmp_path, BIA), psa=False)
    sm = res.budget["summary"]
    # patients: 100, 110, 121, 133.1, 146.41
    patients = [100.0, 110.0, 121.0, 133.1, 146.41]
    assert np.allclose(sm["patients"], patients)
    # per-patient streams by year since start (cost category `cost` per year + `drug` at start)
    stream = {"A": [110, 10, 10, 10, 10], "B": [205, 5, 5, 5, 5], "C": [50, 50, 50, 50, 50]}
    cur = {"A": [0.7] * 5, "B": [0.3] * 5, "C": [0.0] * 5}
    # ramp: C share 0.25 in year 1, 0.5 from year 2; A and B keep their 70:30 split of the rest
    new = {"C": [0.25, 0.5, 0.5, 0.5, 0.5]}
    new["A"] = [0.7 * (1 - x) for x in new["C"]]
    new["B"] = [0.3 * (1 - x) for x in new["C"]]

    def budget(shares):
        out = [0.0] * 5
        for y in range(5):
            for s in "ABC":
                for a in range(5 - y):
                    out[y + a] += patients[y] * shares[s][y] * stream[s][a]
        return out
    bc, bn = budget(cur), budget(new)
    assert np.allclose(sm["current_total"], bc, rtol=1e-12)
    assert np.allclose(sm["new_total"], bn, rtol=1e-12)
    assert np.allclose(sm["net_impact"], np.array(bn) - np.array(bc), rtol=1e-12)
    assert np.allclose(sm["cumulative_impact"], np.cumsum(np.array(bn) - np.array(bc)), rtol=1e-12)
    d = res.budget["detail"]
    y1 = d[(d["world"] == "new") & (d["year"] == 1)].iloc[0]
    assert (y1["patients.A"], y1["patients.B"], y1["patients.C"]) == pytest.approx((52.5, 22.5, 25.0))


def test_bia_consistent_with_cea_first_year_cost(tmp_path):
    """One-year cohort, no ramp: BIA cost per treated patient in year 1 = the model's undiscounted first-year cost."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"""ces: 1
model: {MODELS / 'cart_lbcl.yaml'}
budget_impact:
  years: 5
  population: {{patients: [1, 0, 0, 0, 0]}}
  current: {{chemo: 0, cart: 1}}
  new: {{chemo: 0, cart: 1}}
""")
    bia = run(cfg, psa=False).budget["summary"]
    one = tmp_path / "one.yaml"
    one.write_text(f"ces: 1\nmodel: {MODELS / 'cart_lbcl.yaml'}\nsettings: {{horizon: 1 years}}\n")
    first = run(one, psa=False).totals.set_index("strategy").loc["cart", "cost_undiscounted"]
    assert bia["new_total"].iloc[0] == pytest.approx(first, rel=1e-12)


@pytest.mark.parametrize("bia,fragment", [
    ("years: 5\npopulation: {patients: [1, 1, 1, 1, 1]}\ncurrent: {A: 0.7, B: 0.2}\nuptake: {strategy: C, target: 0.5}\n",
     "sum to 0.9"),
    ("years: 5\npopulation: {size: -5, rate: 0.1}\ncurrent: {A: 1}\nuptake: {strategy: C, target: 0.5}\n",
     "budget_impact.population.size"),
    ("years: 3\npopulation: {patients: [1, 1, 1]}\ncurrent: {A: 1}\nuptake: {strategy: C, target: 0.5, years_to_target: 4}\n",
     "longer than the horizon"),
])
def test_bia_bad_input(tmp_path, runner, bia, fragment):
    cfg = _write(tmp_path, bia)
    r = runner.invoke(app, ["bia", str(cfg)])
    assert r.exit_code == 2 and fragment in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cart_bia_config_prints_and_plots(runner, tmp_path):
    r = runner.invoke(app, ["bia", str(CONFIGS / "cart_lbcl_bia.yaml")])
    assert r.exit_code == 0 and "Budget impact" in r.output and "Cumulative" in r.output
    out = tmp_path / "o"
    r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl_bia.yaml"), "-q", "--out", str(out), "--plots"])
    assert r.exit_code == 0, r.output
    assert (out / "plots" / "budget_impact.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "budget_impact_summary.csv").exists()


REPRICE = """\
years: 5
population: {patients: [100, 200, 400, 800, 1600]}
current: {A: 1, B: 0, C: 0}
new: {A: 0, B: 0, C: 1}
pricing: {strategy: A, category: drug, forecast_sales: [1, 1, 1, 1, 1], pricing_method: comparator}
"""


def test_japan_repricing_fires_in_the_right_year_and_cuts_later_prices(tmp_path):
    # A's price is 100 (drug, one-off) so current-world sales are 100·patients: 10,000 ... 160,000.
    # Scale the Japanese thresholds (¥15 bn, 2x forecast) down by putting the forecast at 1 and the
    # sales tier above 15 bn out of reach; use explicit patients so sales pass 15e9 only in year 4.
    body = REPRICE.replace("patients: [100, 200, 400, 800, 1600]", "patients: [1000000, 10000000, 90000000, 200000000, 300000000]")
    body = body.replace("current: {A: 1, B: 0, C: 0}\nnew: {A: 0, B: 0, C: 1}", "current: {A: 0, B: 0, C: 1}\nnew: {A: 1, B: 0, C: 0}")
    cfg = _write(tmp_path, body)
    cfg.write_text(cfg.read_text().replace("ces: 1\n", "ces: 1\nsetting: japan\n", 1))
    res = run(cfg, psa=False)
    flags = res.budget["flags"]
    # sales = patients x price 100: 1e8, 1e9, 9e9 (below both tiers' ¥10 bn / ¥15 bn), 2e10 -> fires in year 4
    assert list(flags["year"]) == [4] and "repricing" in flags["rule"].iloc[0]
    new_total = res.budget["summary"]["new_total"].to_numpy()
    # X = 2e10 (forecast 1): 0.9^(log X/log 2) is far below the comparator-method floor 85/100 -> 85
    # new world = A: price 100 at treatment + 10 per year afterwards; cohorts from year 5 pay 85
    pts = [1.0e6, 1.0e7, 9.0e7, 2.0e8, 3.0e8]
    expected = []
    for t in range(5):
        tot = 0.0
        for y in range(t + 1):
            price = 85.0 if y >= 4 else 100.0
            tot += pts[y] * ((price + 10.0) if y == t else 10.0)
        expected.append(tot)
    assert np.allclose(new_total, expected, rtol=1e-12)
    rp = res.budget["repricing"]
    assert list(rp["price_in_force"]) == [100, 100, 100, 100, 85]


def test_market_expansion_repricing_formula_and_tiers_by_hand():
    from ces.economics.repricing import repriced_price, repricing
    from ces.modelfile.presets import load_setting

    assert repriced_price(100, 2, 0, 0.75) == pytest.approx(90)          # X = 2: 0.9^1 (-10 %)
    assert repriced_price(100, 4, 0, 0.75) == pytest.approx(81)          # X = 4: 0.9^2
    assert repriced_price(100, 4, 0.05, 0.75) == pytest.approx(86)       # alpha softens the cut
    assert repriced_price(100, 10, 0, 0.75) == pytest.approx(75)         # 0.9^3.32 = 0.705 -> floor 75/100
    assert repriced_price(100, 10, 0, 0.85) == pytest.approx(85)
    tiers = load_setting("japan")["pricing_rules"]["market_expansion_repricing"]["tiers"]
    # JPY 12bn at 12x the forecast: the 10x / 10bn tier, for cost-accounting products only
    r = repricing(1e6, [12e9], [1e9], tiers, "cost_accounting")
    assert r["year"] == 0 and "cost accounting" in r["tier"]["name"] and r["price"] == pytest.approx(0.75e6)
    assert repricing(1e6, [12e9], [1e9], tiers, "comparator")["year"] is None
    assert repricing(1e6, [12e9], [2.4e9], tiers, "cost_accounting")["year"] is None  # 5x, < 15bn
    # JPY 16bn at 2.5x: the 2x / 15bn tier, price x 0.9^(log 2.5 / log 2)
    r = repricing(1e6, [1e9, 16e9], [1e9, 6.4e9], tiers, "comparator")
    assert r["year"] == 1 and r["price"] == pytest.approx(1e6 * 0.9 ** (np.log(2.5) / np.log(2)))


def test_china_price_ceiling_flags(tmp_path):
    body = "years: 3\npopulation: {patients: [1, 1, 1]}\ncurrent: {A: 1}\nnew: {B: 1}\npricing: {strategy: B, category: drug}\n"
    cfg = _write(tmp_path, body)
    text = cfg.read_text().replace("ces: 1\n", "ces: 1\nsetting: china\n", 1)
    (tmp_path / "m.yaml").write_text(MODEL.replace("initial_costs: {drug: 200}", "initial_costs: {drug: 400000}"))
    cfg.write_text(text)
    res = run(cfg, psa=False)
    assert res.loaded.model.currency == "CNY"
    f = res.budget["flags"]
    assert len(f) == 1 and "300,000" in f["detail"].iloc[0] and f["year"].iloc[0] == 1
    (tmp_path / "m.yaml").write_text(MODEL.replace("initial_costs: {drug: 200}", "initial_costs: {drug: 999000}"))
    assert "excluded" in run(cfg, psa=False).budget["flags"]["detail"].iloc[0]


def test_bia_scenarios_and_dsa_rederive_patients(tmp_path):
    body = BIA + ("scenarios:\n  conservative: {population: {rate: 0.00005}, uptake: {target: 0.3}}\n"
                  "dsa: {population.rate: [0.00005, 0.0002], population.eligible: [0.5, 1.0]}\n")
    res = run(_write(tmp_path, body), psa=False)
    sc = res.budget["scenarios"].set_index("scenario")
    assert sc.loc["base", "patients_total"] == pytest.approx(sum([100.0, 110.0, 121.0, 133.1, 146.41]))
    assert sc.loc["conservative", "patients_total"] == pytest.approx(0.5 * sc.loc["base", "patients_total"])
    d = res.budget["dsa"].set_index("input")
    base_cum = sc.loc["base", "cumulative_impact"]
    # the cumulative impact is linear in the number of patients: rate x2 doubles it, eligible 0.5 halves it
    assert d.loc["population.rate", "cumulative_high"] == pytest.approx(2 * base_cum, rel=1e-12)
    assert d.loc["population.eligible", "cumulative_low"] == pytest.approx(0.5 * base_cum, rel=1e-12)


def test_unknown_setting(tmp_path, runner):
    cfg = _write(tmp_path, BIA)
    cfg.write_text(cfg.read_text().replace("ces: 1\n", "ces: 1\nsetting: atlantis\n", 1))
    r = runner.invoke(app, ["bia", str(cfg)])
    assert r.exit_code == 2 and "unknown setting `atlantis`" in r.stderr


def test_cart_japan_config_prints_five_year_budget_impact(runner):
    r = runner.invoke(app, ["bia", str(CONFIGS / "cart_lbcl_japan.yaml")])
    assert r.exit_code == 0, r.output
    assert "Budget impact (JPY)" in r.output and "Cumulative" in r.output
    assert "conservative" in r.output and "population.treated" in r.output
    assert "market" in r.output.lower() or "none fired" in r.output
