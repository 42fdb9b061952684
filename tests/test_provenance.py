"""Provenance: every input read, with its SHA-256, and where each parameter value came from."""

from __future__ import annotations

import hashlib
import json

import yaml
from pathlib import Path

from ces.cli import app
from tests.conftest import CONFIGS, ROOT


def test_sweden_preset_files_are_in_the_manifest_and_results(runner, tmp_path):
    out = tmp_path / "o"
    r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl_sweden.yaml"), "--no-psa", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    man = json.loads((out / "manifest.json").read_text())
    data = {Path(p).name: h for p, h in man["data_files"].items()}
    assert "sweden.yaml" in data and "lifetable_wpp2024_abridged_mx_chn_jpn_swe_nld.csv" in data
    preset = ROOT / "ces" / "settings" / "sweden.yaml"
    assert data["sweden.yaml"] == hashlib.sha256(preset.read_bytes()).hexdigest()
    doc = json.loads((out / "results.json").read_text())
    roles = {i["role"] for i in doc["provenance"]["inputs"]}
    assert roles == {"config", "model", "life_table", "setting", "table"}  # table: the model's EQ-5D norms
    model = next(i for i in doc["provenance"]["inputs"] if i["role"] == "model")
    assert model["sha256"] == hashlib.sha256((ROOT / "models" / "cart_lbcl.yaml").read_bytes()).hexdigest()


def test_parameter_values_and_who_set_them(runner, tmp_path):
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl_sweden.yaml"), "--no-psa", "-q", "--json", str(out)])
    assert r.exit_code == 0, r.output
    p = json.loads(out.read_text())["provenance"]
    c = p["parameters"]["c_cart"]  # overridden by the config
    assert c["value"] == 3250000 and c["file"].endswith("cart_lbcl_sweden.yaml") and c["key"] == "parameters.c_cart"
    lines = (CONFIGS / "cart_lbcl_sweden.yaml").read_text().splitlines()
    assert lines[c["line"] - 1].strip().startswith("c_cart:")
    cure = p["parameters"]["cure_os_cart"]  # set by the model
    from scipy.special import expit

    fitted = yaml.safe_load((ROOT / "models" / "cart_lbcl.yaml").read_text())["parameters"]["pfs_cart_os_cart_coef"]
    assert cure["file"].endswith("cart_lbcl.yaml") and cure["value"] == expit(fitted["value"][3])  # os logit cure
    assert p["strategy_parameters"]["cart"]["cart"]["key"] == "strategies.cart.parameters.cart"


def test_time_varying_parameter_has_its_expression(runner, tmp_path):
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["run", str(ROOT / "models" / "hiv_dmhee.yaml"), "-q", "--json", str(out)])
    assert r.exit_code == 0
    lami = json.loads(out.read_text())["provenance"]["parameters"]["cost_lami"]
    assert lami["value"] is None and lami["time_varying"] and "cycle <= 2" in lami["expression"]
