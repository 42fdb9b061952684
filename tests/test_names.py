"""No silent ignores: a name the model does not define is an error (exit 2) with a suggestion, everywhere."""

from __future__ import annotations

import pytest

from ces.cli import app
from tests.conftest import MODELS

HIV = MODELS / "hiv_dmhee.yaml"
BIA = """budget_impact:
  population: {patients: [10, 10]}
  years: 2
  current: {mono: 1}
  uptake: {strategy: comb, target: 0.5}
"""

# (config body after `model:`, text that the one-line error must contain)
CASES = {
    "parameters": ("parameters: {cost_CC: 9100}\n", "parameters.cost_CC", "did you mean `cost_C`?"),
    "scenario parameters": ("scenarios:\n  s1: {parameters: {cost_lamii: 1}}\n", "scenarios.s1.parameters.cost_lamii",
                            "did you mean `cost_lami`?"),
    "scenario settings": ("scenarios:\n  s1: {settings: {discount: {cost: 0}}}\n", "scenarios.s1.settings.discount.cost",
                          "did you mean `discount.costs`?"),
    "dsa one-way": ("dsa:\n  parameters: {cost_AA: [1, 2]}\n", "dsa.parameters.cost_AA", "did you mean `cost_A`?"),
    "dsa one-way list": ("dsa:\n  parameters: [cost_AA]\n", "dsa.parameters[0]", "did you mean `cost_A`?"),
    "dsa setting": ("dsa:\n  parameters: {discount.cost: [0, 0.05]}\n", "dsa.parameters.discount.cost",
                    "did you mean `discount.costs`?"),
    "dsa two-way": ("dsa:\n  parameters: {cost_A: [1, 2]}\n  two_way: {x: cost_A, y: cost_BB, x_values: [1], "
                    "y_values: [1]}\n", "dsa.two_way.y", "did you mean `cost_B`?"),
    "dsa threshold": ("dsa:\n  parameters: {cost_A: [1, 2]}\n  threshold: {parameter: cost_lam, low: 0, high: 1, "
                      "wtp: 1}\n", "dsa.threshold.parameter", "did you mean `cost_lami`?"),
    "dsa strategy": ("dsa:\n  parameters: {cost_A: [1, 2]}\n  strategy: combb\n", "dsa.strategy",
                     "did you mean `comb`?"),
    "budget_impact.dsa": (BIA + "  dsa: {population.eligble: [0.1, 0.2]}\n", "budget_impact.dsa.population.eligble",
                          "did you mean `population.eligible`?"),
    "setting key": ("settings: {horizen: 10 cycles}\n", "settings.horizen", "did you mean `horizon`?"),
    "setting subkey": ("settings: {discount: {effect: 0}}\n", "settings.discount.effect",
                       "did you mean `discount.effects`?"),
    "duplicate strategies": ("strategies: [mono, comb, mono]\n", "strategies[2]", "duplicate strategy `mono`"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_typo_in_config_is_exit_2_with_suggestion(runner, tmp_path, case):
    body, path, hint = CASES[case]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {HIV}\n{body}")
    r = runner.invoke(app, ["run", str(cfg), "-q"])
    assert r.exit_code == 2, r.output
    assert str(cfg) in r.stderr and path in r.stderr and hint in r.stderr, r.stderr
    assert "Traceback" not in r.output


def test_the_line_is_reported(runner, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {HIV}\nparameters:\n  cost_A: 1\n  c_drug_nwe: 40000\n")
    r = runner.invoke(app, ["run", str(cfg), "-q"])
    assert r.exit_code == 2 and f"{cfg}:5 parameters.c_drug_nwe" in r.stderr, r.stderr


def test_sweep_grid_typo(runner):
    r = runner.invoke(app, ["sweep", str(HIV), "--grid", "cost_CC=1,2", "--wtp", "0:1:1", "-q"])
    assert r.exit_code == 2 and "--grid cost_CC" in r.stderr and "did you mean `cost_C`?" in r.stderr, r.stderr
    r = runner.invoke(app, ["sweep", str(HIV), "--grid", "discount.cost=0,0.05", "--wtp", "0:1:1", "-q"])
    assert r.exit_code == 2 and "did you mean `discount.costs`?" in r.stderr, r.stderr


def test_price_typo(runner):
    r = runner.invoke(app, ["price", str(HIV), "-p", "cost_lam", "--wtp", "30000"])
    assert r.exit_code == 2 and "did you mean `cost_lami`?" in r.stderr, r.stderr
    r = runner.invoke(app, ["price", str(HIV), "-p", "cost_lami", "--wtp", "30000", "--strategy", "com"])
    assert r.exit_code == 2 and "did you mean `comb`?" in r.stderr, r.stderr


def test_duplicate_joint_names(runner, tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text(HIV.read_text().replace(
        "  cost_A: 2756", "  cost_A: 2756\n  joint: {names: [cost_B, x2], dist: dirichlet, alpha: [1, 1]}"))
    r = runner.invoke(app, ["validate", str(m)])
    assert r.exit_code == 2 and "duplicate parameter name `cost_B`" in r.stderr and "parameters.joint.names[0]" in r.stderr


def test_valid_names_still_run(runner, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {HIV}\nparameters: {{cost_C: 9100}}\nsettings: {{discount: {{costs: 0.05}}}}\n"
                   "scenarios:\n  s: {parameters: {cost_A: 1}, settings: {discount: {effects: 0}}}\n")
    r = runner.invoke(app, ["run", str(cfg), "-q"])
    assert r.exit_code == 0, r.output
