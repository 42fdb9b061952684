"""CLI commands: schema export, validate, JSON results document, config overrides."""

from __future__ import annotations

import json

from ces.cli import app
from ces.modelfile.schema_doc import schema_markdown
from tests.conftest import CONFIGS, MODELS, ROOT


def test_schema_exports_json_schema(runner):
    r = runner.invoke(app, ["schema", "model"])
    assert r.exit_code == 0
    s = json.loads(r.stdout)
    assert {"ces", "states", "transitions", "strategies", "discount"} <= set(s["properties"])
    assert "horizon" in s["required"]
    c = json.loads(runner.invoke(app, ["schema", "config"]).stdout)
    assert {"model", "settings", "parameters", "psa", "wtp"} <= set(c["properties"])
    assert runner.invoke(app, ["schema", "nope"]).exit_code == 2


def test_docs_schema_is_current():
    """docs/schema.md is generated from the schema; regenerate with `ces schema --markdown > docs/schema.md`."""
    assert (ROOT / "docs" / "schema.md").read_text() == schema_markdown()


def test_validate_prints_structure(runner):
    r = runner.invoke(app, ["validate", str(MODELS / "sick_sicker.yaml")])
    assert r.exit_code == 0, r.output
    for word in ("valid", "States", "Transitions", "Parameters", "S1", "hr_S1S2_trtB"):
        assert word in r.stdout


def test_json_document_is_versioned_and_complete(runner, tmp_path):
    out = tmp_path / "r.json"
    r = runner.invoke(app, ["run", str(CONFIGS / "sick_sicker.yaml"), "--no-psa", "-q", "--json", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    assert d["schema"] == "ces.results" and d["schema_version"] == 1
    assert set(d) >= {"model", "strategies", "base_case"} and "psa" not in d
    assert d["strategies"] == ["SoC", "A", "B", "AB"]
    icer = {row["strategy"]: row for row in d["base_case"]["icer"]}
    assert icer["A"]["status"] == "D" and icer["SoC"]["icer"] is None
    assert {"strategy", "cost", "qaly", "ly", "cost_undiscounted"} <= set(d["base_case"]["totals"][0])
    assert [row["wtp"] for row in d["base_case"]["nmb"][::4]] == [50000, 100000, 150000]
    out2 = tmp_path / "r2.json"
    runner.invoke(app, ["run", str(CONFIGS / "sick_sicker.yaml"), "--draws", "100", "-q", "--json", str(out2)])
    d2 = json.loads(out2.read_text())
    assert d2["psa"]["n_draws"] == 100 and len(d2["psa"]["wtp"]) == 3
    assert {"summary", "icer", "wtp", "convergence"} <= set(d2["psa"])


def test_config_overrides_parameters_and_settings(tmp_path):
    from ces.pipeline import run

    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'sick_sicker.yaml'}\nparameters: {{c_trtB: 12000}}\n")
    res = run(cfg, psa=False)
    # validation README: with c_trtB = 12,000, B = 249,119 and AB = 368,894
    t = res.totals.set_index("strategy")
    assert round(t.loc["B", "cost"]) == 249119 and round(t.loc["AB", "cost"]) == 368894


def test_model_file_runs_directly_with_default_settings(runner):
    r = runner.invoke(app, ["run", str(MODELS / "hiv_dmhee.yaml"), "-q"])
    assert r.exit_code == 0


def test_readme_tour_model_and_config_run(tmp_path):
    """The 5-minute tour (docs/tour.md) must run as written."""
    import re

    from ces.pipeline import run

    text = (ROOT / "docs" / "tour.md").read_text()
    model = re.search(r"save it as `models/tour.yaml`\):\n\n```yaml\n(.*?)```", text, re.S).group(1)
    config = re.search(r"# configs/tour_uk.yaml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "models").mkdir()
    (tmp_path / "configs").mkdir()
    (tmp_path / "models" / "tour.yaml").write_text(model)
    (tmp_path / "configs" / "tour_uk.yaml").write_text(config)
    res = run(tmp_path / "configs" / "tour_uk.yaml", draws=50, seed=1)
    assert list(res.totals["strategy"]) == ["usual", "new"] and res.psa.n_draws == 50
    assert len(res.nmb) == 2 * 6
