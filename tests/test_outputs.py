"""Output directory: every table as CSV and XLSX, results.json, manifest; atomic on error."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ces.cli import app
from tests.conftest import CONFIGS, MODELS


def test_output_directory_contents(runner, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(CONFIGS / "sick_sicker.yaml"), "--draws", "100", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    names = {p.name for p in out.iterdir()}
    assert {"results.json", "results.xlsx", "manifest.json", "base_case_totals.csv", "base_case_icer.csv",
            "psa_summary.csv", "psa_wtp.csv"} <= names
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 71818 and m["n_draws"] == 100 and len(m["files"]["model"]["sha256"]) == 64
    assert {"numpy_version", "numba_version", "ces_version", "date_utc", "run_seconds"} <= set(m)
    xl = pd.ExcelFile(out / "results.xlsx")
    assert "base_case_icer" in xl.sheet_names and "psa_wtp" in xl.sheet_names
    icer = pd.read_csv(out / "base_case_icer.csv")
    assert list(icer["strategy"]) == ["SoC", "B", "AB", "A"]
    # data files read are hashed (a model with a CSV table)
    out2 = tmp_path / "thr"
    runner.invoke(app, ["run", str(MODELS / "thr_dmhee.yaml"), "-q", "--out", str(out2)])
    m2 = json.loads((out2 / "manifest.json").read_text())
    assert any(p.endswith("thr_mortality_dmhee.csv") for p in m2["data_files"])


def test_output_directory_is_atomic_on_error(runner, tmp_path, monkeypatch):
    out = tmp_path / "out"

    import ces.report.outputs as outputs
    from ces.pipeline import run

    def boom(*a, **k):  # fails after results.json, the CSVs and the workbook were written
        raise RuntimeError("disk full (injected)")
    monkeypatch.setattr(outputs, "manifest", boom)
    with pytest.raises(RuntimeError):
        outputs.write_output_dir(run(MODELS / "hiv_dmhee.yaml"), out, 0.0)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary folder left behind either


def test_outputs_block_in_config(runner, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'hiv_dmhee.yaml'}\noutputs: {{dir: res, formats: [csv]}}\n")
    r = runner.invoke(app, ["run", str(cfg), "-q"])
    assert r.exit_code == 0, r.output
    names = {p.name for p in (tmp_path / "res").iterdir()}
    assert "base_case_totals.csv" in names and "manifest.json" in names and "results.xlsx" not in names
