"""Sanity warnings: each fires on a crafted model, is listed once in results.json, and --strict makes it an error."""

from __future__ import annotations

import glob
import json

import pytest

from ces.cli import app
from ces.pipeline import run
from tests.conftest import CONFIGS, MODELS, SMALL_MODEL

PSM = """\
ces: 1
kind: psm
cycle: 1 year
horizon: 10 cycles
crossing: cap
parameters:
  l_pfs: {value: 0.2, dist: normal, mean: 0.2, sd: 0.05}
  l_os: {value: 0.2, dist: normal, mean: 0.2, sd: 0.05}
curves:
  pfs: {dist: exponential, rate: l_pfs}
  os:  {dist: exponential, rate: l_os}
partition: [pfs, os]
states:
  PF: {cost: 10, utility: 0.8}
  PD: {cost: 20, utility: 0.5}
  Dead: {dead: true}
strategies:
  s: {}
"""


def _codes(tmp_path, model: str, config: str | None = None, **kw):
    m = tmp_path / "m.yaml"
    m.write_text(model)
    path = m
    if config is not None:
        path = tmp_path / "c.yaml"
        path.write_text(f"ces: 1\nmodel: m.yaml\n{config}")
    res = run(path, **kw)
    return [w["code"] for w in res.warnings], res.warnings


CRAFTED = {
    "utility_range": (SMALL_MODEL.replace("utility: 1}", "utility: 1.2}"), None),
    "base_vs_dist": (SMALL_MODEL.replace("c_well: 100", "c_well: {value: 150, dist: normal, mean: 100, sd: 5}"), None),
    "dsa_bracket": (SMALL_MODEL, "dsa:\n  parameters: {c_well: [200, 300]}\n"),
    "negative_cost": (SMALL_MODEL.replace("c_well: 100", "c_well: -100"), None),
    "unused_parameter": (SMALL_MODEL.replace("c_well: 100", "c_well: 100\n  c_spare: 7"), None),
    "psa_precision": (SMALL_MODEL.replace("p_die: 0.1", "p_die: {value: 0.1, dist: beta, alpha: 10, beta: 90}"),
                      "wtp: 1000\npsa: {draws: 20, precision: 0.001}\n"),
}


@pytest.mark.parametrize("code", list(CRAFTED))
def test_each_warning_fires_on_a_crafted_model(tmp_path, code):
    model, config = CRAFTED[code]
    codes, warnings = _codes(tmp_path, model, config)
    assert codes == [code], warnings
    assert len({w["message"] for w in warnings}) == len(warnings)


def test_base_far_from_the_mean_but_inside_the_central_99(tmp_path):
    codes, w = _codes(tmp_path, SMALL_MODEL.replace("c_well: 100", "c_well: {value: 130, dist: normal, mean: 100, sd: 20}"))
    assert codes == ["base_vs_dist"] and "more than 20% away" in w[0]["message"]


def test_psm_capped_in_more_than_1_percent_of_draws(tmp_path):
    codes, w = _codes(tmp_path, PSM, draws=200, seed=1)
    assert codes == ["psm_capped"] and "of 200 PSA draws" in w[0]["message"]


def test_no_warning_on_a_clean_model(tmp_path):
    assert _codes(tmp_path, SMALL_MODEL)[0] == []


def test_listed_in_results_json_printed_once_and_strict(runner, tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text(SMALL_MODEL.replace("c_well: 100", "c_well: -100"))
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["run", str(m), "-q", "--json", str(out)])
    assert r.exit_code == 0 and r.stderr.count("cost parameter `c_well` is negative") == 1, r.stderr
    assert "[negative_cost]" in r.stderr
    assert [w["code"] for w in json.loads(out.read_text())["warnings"]] == ["negative_cost"]
    out2 = tmp_path / "r2.json"
    r = runner.invoke(app, ["run", str(m), "-q", "--strict", "--json", str(out2)])
    assert r.exit_code == 2 and "--strict" in r.stderr and "negative_cost" in r.stderr and not out2.exists()


# Base-case warnings that remain on the shipped examples, each explained in docs/checks.md (Sanity warnings).
EXPLAINED = {("sick_sicker", "base_vs_dist")}


def test_examples_have_no_unexplained_base_case_warnings():
    for f in sorted(glob.glob(str(CONFIGS / "*.yaml"))) + sorted(glob.glob(str(MODELS / "*.yaml"))):
        name = f.rsplit("/", 1)[-1][:-5]
        for w in run(f, psa=False).warnings:
            assert (name, w["code"]) in EXPLAINED, (f, w)


def test_strict_on_dsa_and_bia(runner, tmp_path):
    """`--strict` turns the warnings of `ces dsa` and `ces bia` into exit 2 with nothing written."""
    cfg = tmp_path / "dsa.yaml"
    cfg.write_text((CONFIGS / "hiv_dsa.yaml").read_text()
                   .replace("../models/", f"{CONFIGS.parent / 'models'}/")
                   .replace("cost_zido: [1500, 3000]", "cost_zido: [2500, 3000]"))  # base 2278: not bracketed
    r = runner.invoke(app, ["dsa", str(cfg), "-q"])
    assert r.exit_code == 0 and "[dsa_bracket]" in r.stderr, r.output
    out = tmp_path / "dsa.json"
    r = runner.invoke(app, ["dsa", str(cfg), "-q", "--strict", "--json", str(out)])
    assert r.exit_code == 2 and "--strict" in r.stderr and "dsa_bracket" in r.stderr and not out.exists()
    bia = tmp_path / "bia.yaml"
    bia.write_text((CONFIGS / "cart_lbcl_bia.yaml").read_text().replace("../models/", f"{CONFIGS.parent / 'models'}/")
                   + "parameters: {u_pf: 1.2}\n")  # a utility above 1
    r = runner.invoke(app, ["bia", str(bia), "-q"])
    assert r.exit_code == 0 and "[utility_range]" in r.stderr, r.output
    out = tmp_path / "bia.json"
    r = runner.invoke(app, ["bia", str(bia), "-q", "--strict", "--json", str(out)])
    assert r.exit_code == 2 and "utility_range" in r.stderr and not out.exists()
