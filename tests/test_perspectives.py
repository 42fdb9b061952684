"""Perspectives as a view over cost categories: every result per perspective, from the same draws."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ces.analysis.diff import diff_results
from ces.analysis.psa_tables import draws_table, wtp_table
from ces.cli import app
from ces.economics.perspectives import base_perspective, by_key, perspectives
from ces.engine.psa import PsaResult
from ces.pipeline import run
from tests.conftest import CONFIGS

# A linear model: one state, three yearly cycles, no deaths; every cost is linear in one sampled parameter,
# so the PSA mean of each perspective's cost estimates the deterministic value (E[a·X + b] = a·E[X] + b).
LINEAR = """\
ces: 1
cycle: 1 year
horizon: 3 cycles
start_age: 40
correction: end
discount: {costs: 0, effects: 0, timing: end}
parameters:
  c_sick: {value: 100, dist: gamma, mean: 100, sd: 20}
  v_hour: {value: 20, dist: normal, mean: 20, sd: 5}
states:
  Sick: {cost: c_sick, utility: 0.7}
  Dead: {dead: true}
transitions:
  Sick: {Dead: 0, Sick: rest}
strategies:
  a: {}
  b: {parameters: {c_sick: 50}}
indirect:
  caregiver: {hours_per_week: {Sick: 2}, value_per_hour: v_hour}
"""

CONFIG = """\
ces: 1
model: m.yaml
wtp: [0, 1000, 100000]
psa: {draws: 4000, seed: 7}
"""


def _linear(tmp_path, config: str = CONFIG):
    (tmp_path / "m.yaml").write_text(LINEAR)
    (tmp_path / "c.yaml").write_text(config)
    return run(tmp_path / "c.yaml")


def test_societal_psa_mean_within_3_mcse_of_the_deterministic_value(tmp_path):
    res = _linear(tmp_path)
    det = res.totals.set_index("strategy")
    # hand value: payer 3 cycles × 100, societal adds 2 h/week × 52 weeks × 20 per hour × 3 cycles
    assert det.loc["a", "cost_societal"] == pytest.approx(300 + 2 * 52 * 20 * 3, rel=1e-12)
    s = res.psa_perspectives["societal"]["summary"].set_index(["strategy", "outcome"])
    for name in ("a", "b"):
        mean, mcse = s.loc[(name, "cost"), "mean"], s.loc[(name, "cost"), "mcse"]
        assert abs(mean - det.loc[name, "cost_societal"]) < 3 * mcse
    # the payer tables are those of the payer perspective alone (informal care is not in them)
    p = res.psa_tables["summary"].set_index(["strategy", "outcome"])
    assert p.loc[("a", "cost"), "mean"] < s.loc[("a", "cost"), "mean"] - 6000


def _six_draws() -> PsaResult:
    """2 strategies × 6 draws: a payer category `drug`, the societal `productivity`, qaly, ly."""
    drug = {"A": [0, 0, 0, 0, 0, 0], "B": [100, 120, 80, 110, 90, 100]}
    prod = {"A": [50, 60, 40, 50, 70, 30], "B": [0, 10, 0, 20, 0, 10]}
    qaly = {"A": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0], "B": [1.02, 1.01, 1.03, 0.99, 1.02, 1.00]}
    totals = {s: np.column_stack([drug[s], prod[s], qaly[s], qaly[s]]).astype(float) for s in ("A", "B")}
    return PsaResult(["A", "B"], ["drug", "productivity", "qaly", "ly"], ["drug"], totals,
                     {s: t.copy() for s, t in totals.items()}, 6, 0)


def _hand_evpi(cost_a, cost_b, q_a, q_b, lam) -> float:
    nmb = [(q_a[i] * lam - cost_a[i], q_b[i] * lam - cost_b[i]) for i in range(6)]
    best_mean = max(sum(x[0] for x in nmb) / 6, sum(x[1] for x in nmb) / 6)
    return sum(max(x) for x in nmb) / 6 - best_mean


def test_per_perspective_evpi_on_six_draws_equals_a_hand_calculation():
    psa = _six_draws()
    persp = by_key(perspectives(["drug", "productivity"], ["drug"]))
    q_a, q_b = [1.0] * 6, [1.02, 1.01, 1.03, 0.99, 1.02, 1.00]
    drug_b = [100, 120, 80, 110, 90, 100]
    prod_a, prod_b = [50, 60, 40, 50, 70, 30], [0, 10, 0, 20, 0, 10]
    for lam in (3000.0, 5000.0):
        payer = wtp_table(psa, "qaly", [lam]).iloc[0]
        soc = wtp_table(psa, "qaly", [lam], perspective=persp["societal"]).iloc[0]
        assert payer["evpi"] == pytest.approx(_hand_evpi([0] * 6, drug_b, q_a, q_b, lam), abs=1e-9)
        assert soc["evpi"] == pytest.approx(
            _hand_evpi(prod_a, [d + p for d, p in zip(drug_b, prod_b)], q_a, q_b, lam), abs=1e-9)
    # at 3000/QALY: payer NMB of B − A per draw = −40, −90, 10, −140, −30, −100 → A optimal on average;
    # B best only in draw 3 → EVPI = 10/6.  Societal: add prod_a − prod_b = 50, 50, 40, 30, 70, 20 →
    # 10, −40, 50, −110, 40, −80: mean −130/6 < 0, A optimal; EVPI = (10 + 50 + 40)/6.
    assert wtp_table(psa, "qaly", [3000.0]).iloc[0]["evpi"] == pytest.approx(10 / 6, abs=1e-9)
    assert wtp_table(psa, "qaly", [3000.0], perspective=persp["societal"]).iloc[0]["evpi"] == pytest.approx(
        100 / 6, abs=1e-9)


def test_cost_bearer_categories_add_to_societal_and_not_to_payer():
    res = run(CONFIGS / "cart_lbcl_oos.yaml", psa=False)
    t = res.totals.set_index("strategy")
    for s in t.index:
        other = t.loc[s, "cost.apheresis_repeat"] + t.loc[s, "cost.oos_product"] + t.loc[s, "cost.failed_manufacture"]
        payer = sum(t.loc[s, f"cost.{c}"] for c in res.model.payer_streams)
        assert t.loc[s, "cost"] == pytest.approx(payer, rel=1e-12)
        assert t.loc[s, "cost_societal"] == pytest.approx(payer + other, rel=1e-12)
        assert t.loc[s, "cost_bearer_hospital"] == t.loc[s, "cost.apheresis_repeat"]
        assert t.loc[s, "cost_bearer_manufacturer"] == pytest.approx(
            t.loc[s, "cost.oos_product"] + t.loc[s, "cost.failed_manufacture"], rel=1e-12)
    for c in ("apheresis_repeat", "oos_product", "failed_manufacture"):
        assert c not in res.model.payer_streams
        assert t.loc["cart", f"cost.{c}"] > 0  # borne on the CAR-T arm (manufacturing failure is a scenario there)
    inv = res.inventory.set_index(["component", "strategy"])
    assert inv.loc[("oos_product", "cart"), "perspective"] == "societal (borne by manufacturer)"


def test_perspective_definitions_and_base_case():
    ps = perspectives(["drug", "rep", "productivity", "consumption"], ["drug"], {"rep": "hospital"})
    keys = {p.key: p.categories for p in ps}
    assert keys == {"payer": ("drug",), "societal": ("drug", "rep", "productivity"),
                    "societal_with_consumption": ("drug", "rep", "productivity", "consumption"),
                    "bearer_hospital": ("rep",)}
    assert base_perspective(ps, "societal") == "societal"
    assert base_perspective(ps, "healthcare") == "payer"
    assert base_perspective(perspectives(["drug"], ["drug"]), "societal") == "payer"  # nothing societal
    with pytest.raises(ValueError, match="unknown perspective"):
        base_perspective(ps, None, "insurer")


def test_base_case_perspective_follows_setting_and_is_printed_first(runner):
    r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl_sweden.yaml"), "--no-psa", "--full"])
    assert r.exit_code == 0, r.output
    assert r.output.index("Societal perspective (base case)") < r.output.index("Healthcare payer perspective")
    r = runner.invoke(app, ["run", str(CONFIGS / "tisacel_ball.yaml"), "--no-psa", "--full"])
    assert r.output.index("Healthcare payer perspective (base case)") < r.output.index("Societal perspective")


def test_draws_out_has_cost_per_perspective_and_the_sampled_parameters(runner, tmp_path):
    (tmp_path / "m.yaml").write_text(LINEAR)
    (tmp_path / "c.yaml").write_text(CONFIG.replace("4000", "50"))
    out = tmp_path / "d.csv"
    r = runner.invoke(app, ["run", str(tmp_path / "c.yaml"), "-q", "--draws-out", str(out)])
    assert r.exit_code == 0, r.output
    d = pd.read_csv(out)
    assert {"cost", "cost_societal", "cost.informal_care", "param.c_sick", "param.v_hour"} <= set(d)
    a = d[d["strategy"] == "a"]
    assert np.allclose(a["cost_societal"], a["cost"] + a["cost.informal_care"], rtol=1e-12)
    # costs are linear in the sampled values: payer cost of `a` = 3·c_sick, informal care = 2·52·3·v_hour
    assert np.allclose(a["cost"], 3 * a["param.c_sick"], rtol=1e-12)
    assert np.allclose(a["cost.informal_care"], 2 * 52 * 3 * a["param.v_hour"], rtol=1e-12)
    b = d[d["strategy"] == "b"].reset_index(drop=True)
    assert np.allclose(b["cost"], 150, rtol=1e-12)  # b fixes c_sick at 50
    assert (b["param.v_hour"].to_numpy() == a["param.v_hour"].to_numpy()).all()  # one draw, one value


def test_tornado_per_perspective(tmp_path):
    from ces.studies.dsa import Dsa, run_dsa

    (tmp_path / "m.yaml").write_text(LINEAR)
    (tmp_path / "c.yaml").write_text("ces: 1\nmodel: m.yaml\ndsa: {strategy: b, comparator: a, outcome: nmb, wtp: 0, "
                                     "parameters: {v_hour: [10, 30], c_sick: [80, 120]}}\n")
    payer = run_dsa(tmp_path / "c.yaml")
    soc = run_dsa(tmp_path / "c.yaml", "societal")
    assert payer["perspective"] == "payer" and soc["perspective"] == "societal"
    p, s = payer["one_way"].set_index("parameter"), soc["one_way"].set_index("parameter")
    assert p.loc["v_hour", "range"] == 0  # informal care is not a payer cost (and equal in both arms)
    # c_sick moves a only (b overrides it): incremental NMB at λ = 0 is C_a − C_b = 3·c_sick − 150
    assert p.loc["c_sick", "outcome_low"] == pytest.approx(3 * 80 - 150, rel=1e-12)
    assert s.loc["c_sick", "outcome_high"] == pytest.approx(3 * 120 - 150, rel=1e-12)
    assert (s["perspective"] == "societal").all()
    with pytest.raises(Exception, match="perspective"):
        Dsa(tmp_path / "c.yaml", "societal_with_consumption")


def test_dsa_cli_names_its_perspective(runner, tmp_path):
    (tmp_path / "m.yaml").write_text(LINEAR)
    (tmp_path / "c.yaml").write_text("ces: 1\nmodel: m.yaml\ndsa: {strategy: b, comparator: a, outcome: nmb, "
                                     "wtp: 0, parameters: {v_hour: [10, 30]}}\n")
    r = runner.invoke(app, ["dsa", str(tmp_path / "c.yaml"), "--perspective", "societal", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "societal perspective" in r.output
    assert set(pd.read_csv(tmp_path / "o" / "dsa_one_way.csv")["perspective"]) == {"societal"}


def test_sweep_gives_one_row_per_perspective(tmp_path):
    from ces.studies.sweep import sweep

    (tmp_path / "m.yaml").write_text(LINEAR)
    (tmp_path / "c.yaml").write_text(CONFIG)
    t = sweep([tmp_path / "c.yaml"], {"v_hour": [10.0]}, [1000.0])
    assert list(t["perspective"]) == ["payer", "payer", "societal", "societal"]
    soc = t[t["perspective"] == "societal"].set_index("strategy")
    pay = t[t["perspective"] == "payer"].set_index("strategy")
    assert soc.loc["a", "cost"] == pytest.approx(pay.loc["a", "cost"] + 2 * 52 * 10 * 3, rel=1e-12)


def test_results_json_and_diff_carry_the_societal_psa_metrics(runner, tmp_path):
    (tmp_path / "m.yaml").write_text(LINEAR)
    (tmp_path / "c.yaml").write_text(CONFIG.replace("4000", "500"))
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert runner.invoke(app, ["run", str(tmp_path / "c.yaml"), "-q", "--json", str(a)]).exit_code == 0
    assert runner.invoke(app, ["run", str(tmp_path / "c.yaml"), "-q", "--json", str(b), "--seed", "8"]).exit_code == 0
    da, db = json.loads(a.read_text()), json.loads(b.read_text())
    assert da["psa"]["base_perspective"] == "payer"
    assert "societal" in da["psa"]["perspectives"] and "wtp" in da["psa"]["perspectives"]["societal"]
    rows = {r.path: r for r in diff_results(da, db)}
    key = "psa.perspectives.societal.summary[a,cost].mean"
    assert key in rows and rows[key].ok  # a different seed passes under the Monte Carlo allowance
    assert rows[key].tol > 1.0
    db["psa"]["perspectives"]["societal"]["summary"][0]["mean"] += 1e6  # a real change is flagged
    assert not {r.path: r for r in diff_results(da, db)}[key].ok
    assert not math.isnan(rows["psa.perspectives.societal.wtp[1000].evpi"].tol)


def test_config_overrides_the_base_case_perspective(runner, tmp_path):
    (tmp_path / "m.yaml").write_text(LINEAR)
    (tmp_path / "c.yaml").write_text(CONFIG.replace("4000", "50") + "perspective: societal\n")
    res = run(tmp_path / "c.yaml")
    assert res.base_perspective == "societal" and res.perspective_list[0].key == "societal"
    r = runner.invoke(app, ["run", str(tmp_path / "c.yaml"), "--full", "--out", str(tmp_path / "o"), "--plots"])
    assert r.exit_code == 0, r.output
    assert r.output.index("Societal perspective (base case)") < r.output.index("Healthcare payer perspective")
    files = {p.name for p in (tmp_path / "o" / "plots").iterdir()}
    assert {"ce_plane.png", "ce_plane_societal.png", "ceac.png", "ceac_societal.png"} <= files
    assert (tmp_path / "o" / "psa_societal_wtp.csv").exists()
    (tmp_path / "bad.yaml").write_text(CONFIG + "perspective: insurer\n")
    r = runner.invoke(app, ["run", str(tmp_path / "bad.yaml"), "--no-psa"])
    assert r.exit_code == 2 and "perspective" in r.output and "insurer" in r.output


@pytest.mark.parametrize("name", ["tisacel_ball", "cart_lbcl_sweden"])
def test_psa_configs_with_indirect_terms_report_every_perspective(runner, tmp_path, name):
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["run", str(CONFIGS / f"{name}.yaml"), "--full", "--draws", "40", "--json", str(out)])
    assert r.exit_code == 0, r.output
    for title in ("PSA: mean and 95 % interval", "Probabilistic incremental analysis", "CEAC, CEAF and EVPI"):
        assert r.output.count(title) == 2  # payer and societal
    assert "Societal perspective" in r.output and "Healthcare payer perspective" in r.output
    doc = json.loads(out.read_text())
    soc = doc["psa"]["perspectives"]["societal"]
    assert {"summary", "icer", "wtp", "convergence"} <= set(soc)
    assert all("evpi" in row and "ceaf" in row for row in soc["wtp"])


def test_base_case_nmb_of_every_perspective_is_written_to_results_json_and_csv(runner, tmp_path):
    """NMB_s(λ) = λ·E_s − C_s with the societal total cost, recomputed here from the written totals table."""
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl_sweden.yaml"), "--no-psa", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "results.json").read_text())
    totals = {t["strategy"]: t for t in doc["base_case"]["totals"]}
    rows = doc["base_case"]["nmb_societal"]
    assert rows and {x["wtp"] for x in rows} == {x["wtp"] for x in doc["base_case"]["nmb"]}
    for x in rows:
        t = totals[x["strategy"]]
        assert x["nmb"] == pytest.approx(x["wtp"] * t["qaly"] - t["cost_societal"], rel=1e-12)
        assert x["nmb"] != pytest.approx(x["wtp"] * t["qaly"] - t["cost"], rel=1e-6)  # not the payer's
    for w in {x["wtp"] for x in rows}:
        best = max((x for x in rows if x["wtp"] == w), key=lambda x: x["nmb"])
        assert best["optimal"]
    csv = pd.read_csv(out / "base_case_nmb_societal.csv", float_precision="round_trip")
    assert list(csv.columns[:3]) == ["wtp", "strategy", "label"]
    assert np.allclose(csv["nmb"], [x["nmb"] for x in rows], rtol=0, atol=0)
