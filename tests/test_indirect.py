"""Societal terms, hand-computed on a 2-state model with 3 yearly cycles (INDIRECT.md §2)."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from ces.errors import CesError
from ces.pipeline import run
from tests.conftest import ROOT

BASE = """\
ces: 1
cycle: 1 year
horizon: 3 cycles
start_age: 63
correction: end
discount: {{costs: {r}, effects: 0, timing: end}}
parameters:
  p: 0.1
states:
  Sick: {{cost: 100, utility: 0.7}}
  Dead: {{dead: true}}
transitions:
  Sick: {{Dead: p, Sick: rest}}
strategies:
  s: {{}}
indirect:
{indirect}
"""

ALIVE = [0.9, 0.81, 0.729]  # occupancy of Sick at the end of cycles 1..3 (end counting)
AGES = [63, 64, 65]  # age at the start of cycles 1..3


def _run(tmp_path, indirect: str, r: float = 0.0):
    p = tmp_path / "m.yaml"
    p.write_text(BASE.format(r=r, indirect=textwrap.indent(textwrap.dedent(indirect), "  ")))
    return run(p, psa=False).totals.iloc[0]


def test_productivity_human_capital_with_death_and_retirement(tmp_path):
    t = _run(tmp_path, """\
    productivity: {wage: 400000, payroll: 0.3142, employment: 0.8, retirement_age: 65, work_lost: {Sick: 0.25}}
    """)
    annual = 0.8 * 400000 * 1.3142
    # cycle k (age at start 63, 64, 65): alive lose 25 %, dead lose 100 %, nothing from age 65
    expected = sum(annual * (0.25 * a + 1.0 * (1 - a)) * (1 if age < 65 else 0) for a, age in zip(ALIVE, AGES))
    assert t["cost.productivity"] == pytest.approx(expected, rel=1e-12)
    assert t["cost_societal"] == pytest.approx(t["cost"] + expected, rel=1e-12)
    assert t["cost"] == pytest.approx(100 * sum(ALIVE), rel=1e-12)  # payer cost unchanged


def test_zero_work_loss_gives_zero_productivity_cost_when_nobody_dies(tmp_path):
    p = tmp_path / "x.yaml"
    t = _run(tmp_path, "productivity: {wage: 400000, employment: 0.8, work_lost: {Sick: 0}}\n")
    # only deaths lose production; with p = 0 nothing is lost
    p.write_text(BASE.format(r=0, indirect="  productivity: {wage: 400000, employment: 0.8, work_lost: {Sick: 0}}")
                 .replace("p: 0.1", "p: 0"))
    assert run(p, psa=False).totals.iloc[0]["cost.productivity"] == 0.0
    assert t["cost.productivity"] == pytest.approx(0.8 * 400000 * sum(1 - a for a in ALIVE), rel=1e-12)


def test_caregiver_and_patient_time(tmp_path):
    t = _run(tmp_path, """\
    caregiver: {hours_per_week: {Sick: 10}, value_per_hour: 20}
    patient_time: {visits_per_cycle: {Sick: 4}, travel_cost: 30, hours_per_visit: 3, value_of_time: 15, out_of_pocket: {Sick: 50}}
    """)
    assert t["cost.informal_care"] == pytest.approx(10 * 52 * 20 * sum(ALIVE), rel=1e-12)
    assert t["cost.patient_time"] == pytest.approx((4 * (30 + 3 * 15) + 50) * sum(ALIVE), rel=1e-12)


def test_consumption_off_by_default_and_reported_separately(tmp_path):
    t = _run(tmp_path, "caregiver: {hours_per_week: {Sick: 1}, value_per_hour: 1}\n")
    assert "cost.consumption" not in t.index and "cost_societal_consumption" not in t.index
    t = _run(tmp_path, "consumption: {include: true, per_year: 200000}\n")
    assert t["cost.consumption"] == pytest.approx(200000 * sum(ALIVE), rel=1e-12)
    assert t["cost_societal_consumption"] == pytest.approx(t["cost_societal"] + t["cost.consumption"], rel=1e-12)
    with pytest.raises(CesError, match="no consumption-by-age"):
        _run(tmp_path, "consumption: {include: true}\n")


def test_discounting_follows_direct_costs(tmp_path):
    t = _run(tmp_path, "caregiver: {hours_per_week: {Sick: 10}, value_per_hour: 20}\n", r=0.03)
    assert t["cost.informal_care"] == pytest.approx(sum(10 * 52 * 20 * a / 1.03 ** (k + 1)
                                                        for k, a in enumerate(ALIVE)), rel=1e-12)
    assert t["cost"] == pytest.approx(sum(100 * a / 1.03 ** (k + 1) for k, a in enumerate(ALIVE)), rel=1e-12)


def test_bad_indirect_inputs(tmp_path):
    with pytest.raises(CesError, match="unknown state `Well`"):
        _run(tmp_path, "productivity: {wage: 1, employment: 0.5, work_lost: {Well: 0.2}}\n")


def test_cart_societal_config_reports_both_perspectives(runner):
    from ces.cli import app
    from tests.conftest import CONFIGS

    r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl_societal.yaml"), "--no-psa", "--full"])
    assert r.exit_code == 0, r.output
    assert "Societal perspective" in r.output and "Impact inventory" in r.output and "productivity" in r.output
    res = run(CONFIGS / "cart_lbcl_societal.yaml", psa=False)
    soc = res.perspectives["societal"].set_index("strategy")
    pay = res.icers.set_index("strategy")
    assert soc.loc["cart", "effect"] == pay.loc["cart", "effect"]  # QALYs are the same under both perspectives
    assert soc.loc["cart", "icer"] != pay.loc["cart", "icer"]
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl_societal.yaml"), "--no-psa", "-q", "--out", d])
        assert r.exit_code == 0
        names = {p.name for p in Path(d).iterdir()}
        assert {"base_case_icer_societal.csv", "base_case_inventory.csv"} <= names


FRICTION = """\
ces: 1
cycle: 1 year
horizon: 4 cycles
start_age: 40
correction: end
discount: {costs: 0.05, effects: 0, timing: end}
states:
  Well: {cost: 0, utility: 1}
  Sick: {cost: 0, utility: 0.5}
  Dead: {dead: true}
transitions:
  Well: {Sick: "if_else(cycle == 2, 0.2, 0)", Dead: "if_else(cycle == 3, 0.1, 0)", Well: rest}
  Sick: {Dead: "if_else(cycle == 3, 0.5, 0)", Sick: rest}
strategies:
  s: {}
indirect:
  productivity: {method: friction_cost, cost_per_hour: 40, hours_per_year: 1500, employment: 0.8, %s
                 work_lost: {Sick: 0.5}}
"""


def test_friction_period_starts_at_each_new_absence(tmp_path):
    """Koopmanschap: absences start in year 2 (Well → Sick, 20 %), deaths in year 3 (10 % of Sick, 8 % of
    Well); each new absence costs E·hours·cost/h·elasticity·(increase in work lost)·FP, once, in its year."""
    p = tmp_path / "f.yaml"
    p.write_text(FRICTION % "friction_weeks: 26.089285714285715,")  # FP = 0.5 years
    t = run(p, psa=False).totals.iloc[0]
    loss = 0.8 * 1500 * 40 * 1.0 * 0.5  # elasticity default 1.0
    year2 = 0.2 * (0.5 - 0)  # new absences: work lost rises 0 → 0.5
    year3 = 0.2 * 0.5 * (1 - 0.5) + 0.8 * 0.1 * (1 - 0)  # deaths from Sick (0.5 → 1) and from Well (0 → 1)
    assert t["cost.productivity"] == pytest.approx(loss * (year2 / 1.05 ** 2 + year3 / 1.05 ** 3), rel=1e-12)
    assert t["cost"] == 0 and t["cost_societal"] == t["cost.productivity"]
    # the Dutch default friction period: the CBS 5-year average 2019-2023, 17.24 weeks
    p.write_text(FRICTION % "")
    t2 = run(p, psa=False).totals.iloc[0]
    assert t2["cost.productivity"] == pytest.approx(t["cost.productivity"] * 17.2404 * 7 / 365.25 / 0.5, rel=1e-5)
    # the other societal terms are unaffected by the productivity method
    p.write_text((FRICTION % "") + "  caregiver: {hours_per_week: {Sick: 1}, value_per_hour: 10}\n")
    t3 = run(p, psa=False).totals.iloc[0]
    assert t3["cost.productivity"] == t2["cost.productivity"]
    assert t3["cost.informal_care"] == pytest.approx(52 * 10 * (0.2 / 1.05 ** 2 + 0.1 / 1.05 ** 3 + 0.1 / 1.05 ** 4),
                                                     rel=1e-12)  # Sick occupancy 0, 0.2, 0.1, 0.1 at cycle ends


def test_friction_cost_needs_transitions(tmp_path):
    from ces.economics.indirect import dutch_friction_weeks

    assert dutch_friction_weeks() == pytest.approx(17.2404)
    psm = (ROOT / "models" / "cart_lbcl.yaml").read_text()
    assert "indirect:" not in psm
    p = tmp_path / "p.yaml"
    shutil.copytree(ROOT / "models" / "tables", tmp_path / "tables")  # the model's look-up tables (EQ-5D norms)
    p.write_text(psm + "\nindirect:\n  productivity: {method: friction_cost, cost_per_hour: 40}\n")
    with pytest.raises(CesError, match="partitioned-survival model"):
        run(p, psa=False)


def test_employment_rate_outside_unit_interval_and_missing_wage_table(tmp_path):
    with pytest.raises(CesError, match=r"employment rate must lie in \[0, 1\]"):
        _run(tmp_path, "productivity: {wage: 1000, employment: 1.4}\n")
    p = tmp_path / "w.yaml"
    p.write_text(BASE.format(r=0, indirect="  productivity: {wage: wage_tab(age), employment: 0.5}")
                 .replace("parameters:", "tables:\n  wage_tab: {file: wages_missing.csv, value: wage}\nparameters:"))
    with pytest.raises(CesError, match="wages_missing.csv"):
        run(p, psa=False)
    with pytest.raises(CesError, match="needs `wage`"):
        _run(tmp_path, "productivity: {employment: 0.5}\n")


def test_per_event_indirect_cost_on_a_transition(tmp_path):
    p = tmp_path / "e.yaml"
    p.write_text(BASE.format(r=0, indirect="  caregiver: {hours_per_week: {Sick: 0}, value_per_hour: 1}").replace(
        "strategies:", "transition_rewards:\n  - {from: Sick, to: Dead, costs: {informal_care: 5000}}\nstrategies:"))
    t = run(p, psa=False).totals.iloc[0]
    deaths = [0.1, 0.09, 0.081]
    assert t["cost.informal_care"] == pytest.approx(5000 * sum(deaths), rel=1e-12)
    assert t["cost"] == pytest.approx(100 * sum(ALIVE), rel=1e-12)  # not a payer cost
    assert t["cost_societal"] == pytest.approx(t["cost"] + 5000 * sum(deaths), rel=1e-12)


def test_caregiver_health_spillover_is_its_own_line_and_off_by_default(tmp_path):
    t = _run(tmp_path, "caregiver: {hours_per_week: {Sick: 1}, value_per_hour: 1, qaly_change: {Sick: -0.1}}\n")
    assert t["caregiver_qaly"] == pytest.approx(-0.1 * sum(ALIVE), rel=1e-12)  # per year × 1-year cycles
    assert t["qaly"] == pytest.approx(0.7 * sum(ALIVE), rel=1e-12)  # the patient's QALYs are untouched
    assert t["qaly_with_caregiver"] == pytest.approx(0.6 * sum(ALIVE), rel=1e-12)
    p = tmp_path / "m.yaml"
    assert run(p, psa=False).spillover_icers is None  # reported, not counted, unless switched on
    p.write_text(p.read_text().replace("qaly_change: {Sick: -0.1}", "qaly_change: {Sick: -0.1}, include_qaly_change: true"))
    r = run(p, psa=False)
    assert r.spillover_icers.iloc[0]["effect"] == pytest.approx(0.6 * sum(ALIVE), rel=1e-12)
    with pytest.raises(CesError, match="alive states"):
        _run(tmp_path, "caregiver: {hours_per_week: {Sick: 1}, value_per_hour: 1, qaly_change: {Dead: -0.1}}\n")
