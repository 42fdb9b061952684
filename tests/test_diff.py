"""`ces diff` and `ces run --baseline`: regression checks for CI (exit 0 / 1 / 2)."""

from __future__ import annotations

import json

from ces.cli import app
from tests.conftest import CONFIGS, MODELS


def _run_json(runner, tmp_path, name, *args):
    out = tmp_path / name
    r = runner.invoke(app, ["run", *args, "-q", "--json", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_identical_files_exit_0(runner, tmp_path):
    a = _run_json(runner, tmp_path, "a.json", str(MODELS / "hiv_dmhee.yaml"))
    b = _run_json(runner, tmp_path, "b.json", str(MODELS / "hiv_dmhee.yaml"))
    r = runner.invoke(app, ["diff", str(a), str(b)])
    assert r.exit_code == 0, r.output
    assert "0 changed" in r.output


def test_changed_parameter_exit_1_with_the_right_rows(runner, tmp_path):
    a = _run_json(runner, tmp_path, "a.json", str(MODELS / "hiv_dmhee.yaml"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'hiv_dmhee.yaml'}\nparameters: {{cost_C: 9100}}\n")
    b = _run_json(runner, tmp_path, "b.json", str(cfg))
    r = runner.invoke(app, ["diff", str(a), str(b)])
    assert r.exit_code == 1
    assert "base_case.totals[mono].cost" in r.output and "base_case.icer[comb].icer" in r.output
    assert "base_case.totals[mono].ly " not in r.output  # life-years did not move
    assert "model.config" not in r.output  # file locations are metadata, not results


def test_psa_runs_with_different_seeds_pass_under_mc_tolerance(runner, tmp_path):
    a = _run_json(runner, tmp_path, "a.json", str(CONFIGS / "sick_sicker.yaml"), "--draws", "2000", "--seed", "1")
    b = _run_json(runner, tmp_path, "b.json", str(CONFIGS / "sick_sicker.yaml"), "--draws", "2000", "--seed", "2")
    r = runner.invoke(app, ["diff", str(a), str(b)])
    assert r.exit_code == 0, r.output
    # without the Monte Carlo allowance the same comparison fails
    r = runner.invoke(app, ["diff", str(a), str(b), "--z", "0", "--all"])
    assert r.exit_code == 1 and "psa.summary[SoC,cost].mean" in r.output


def test_bad_input_exit_2(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    good = _run_json(runner, tmp_path, "a.json", str(MODELS / "hiv_dmhee.yaml"))
    r = runner.invoke(app, ["diff", str(bad), str(good)])
    assert r.exit_code == 2 and "not a JSON file" in r.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": "something"}))
    r = runner.invoke(app, ["diff", str(other), str(good)])
    assert r.exit_code == 2 and "not a ces results document" in r.stderr
    r = runner.invoke(app, ["diff", str(tmp_path / "missing.json"), str(good)])
    assert r.exit_code == 2 and "file not found" in r.stderr


def test_run_with_baseline(runner, tmp_path):
    base = _run_json(runner, tmp_path, "a.json", str(MODELS / "thr_dmhee.yaml"))
    r = runner.invoke(app, ["run", str(MODELS / "thr_dmhee.yaml"), "-q", "--baseline", str(base)])
    assert r.exit_code == 0, r.output
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'thr_dmhee.yaml'}\nparameters: {{c_revision: 6000}}\n")
    r = runner.invoke(app, ["run", str(cfg), "-q", "--baseline", str(base)])
    assert r.exit_code == 1 and "base_case.totals[standard].cost" in r.output


def test_diff_models_lists_changes(runner, tmp_path):
    old = MODELS / "sick_sicker.yaml"
    new = tmp_path / "ss2.yaml"
    text = old.read_text().replace("c_trtB: {value: 13000", "c_trtB: {value: 12000").replace(
        "horizon: 75 cycles", "horizon: 70 cycles")
    new.write_text(text + "  C: {label: Strategy C, parameters: {trtB: 1}}\n")
    r = runner.invoke(app, ["diff", "--models", str(old), str(new)])
    assert r.exit_code == 1
    for frag in ("parameters.c_trtB.value", "changed", "horizon", "strategies.C", "added"):
        assert frag in r.output
    r = runner.invoke(app, ["diff", "--models", str(old), str(old)])
    assert r.exit_code == 0 and "no changes" in r.output
