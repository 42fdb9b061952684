"""`ces diff` for reviewers: inputs first, headline per perspective, changed metrics sorted, formats."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from ces.analysis.diff import headline, review
from ces.cli import app
from ces.report.diff_report import markdown
from tests.conftest import MODELS

GOLDEN = Path(__file__).parent / "golden" / "diff_review.md"


def _doc():
    """A small synthetic results document (two strategies, payer and societal, a PSA at two WTPs)."""
    icer = [{"strategy": "A", "cost": 1000.0, "effect": 1.0, "inc_cost": None, "inc_effect": None, "icer": None,
             "status": "ND", "ref": None},
            {"strategy": "B", "cost": 21000.0, "effect": 2.0, "inc_cost": 20000.0, "inc_effect": 1.0,
             "icer": 20000.0, "status": "ND", "ref": "A"}]
    soc = copy.deepcopy(icer)
    soc[1].update(cost=16000.0, inc_cost=15000.0, icer=15000.0)
    return {"schema": "ces.results", "schema_version": 1,
            "provenance": {"inputs": [{"role": "config", "path": "c.yaml", "sha256": "aa"},
                                      {"role": "model", "path": "m.yaml", "sha256": "bb"}]},
            "base_case": {"totals": [{"strategy": "A", "cost": 1000.0, "qaly": 1.0},
                                     {"strategy": "B", "cost": 21000.0, "qaly": 2.0}],
                          "icer": icer, "icer_societal": soc,
                          "nmb": [{"wtp": w, "strategy": s, "nmb": w * e - c} for w in (10000.0, 30000.0)
                                  for s, c, e in (("A", 1000.0, 1.0), ("B", 21000.0, 2.0))]},
            "budget_impact": {"summary": [{"year": 1, "impact": 5.0}]},
            "psa": {"n_draws": 10000, "wtp": [{"wtp": w, "evpi": 50.0, "ceac.A": pa, "ceac.B": 1 - pa}
                                            for w, pa in ((10000.0, 0.9), (30000.0, 0.3))]}}


def _new():
    d = _doc()
    d["provenance"]["inputs"][1]["sha256"] = "cc"
    d["base_case"]["totals"][1]["cost"] = 23000.0
    for t in (d["base_case"]["icer"],):
        t[1].update(cost=23000.0, inc_cost=22000.0, icer=22000.0)
    del d["budget_impact"]
    d["psa"]["wtp"][1]["ceac.A"], d["psa"]["wtp"][1]["ceac.B"] = 0.5, 0.5
    return d


def test_headline_is_per_perspective_and_generic():
    h = headline(_doc())
    assert list(h) == ["payer", "societal"]
    assert h["payer"]["ICER B vs A"] == 20000.0 and h["societal"]["ICER B vs A"] == 15000.0
    assert h["payer"]["NMB B at WTP 30000"] == 30000 * 2.0 - 21000.0
    assert h["payer"]["P(CE) A at WTP 30000"] == 0.3 and h["payer"]["EVPI at WTP 10000"] == 50.0
    assert "P(CE) A at WTP 30000" not in h["societal"]  # no societal PSA in this document


def test_review_inputs_tables_and_order():
    rv = review(_doc(), _new())
    assert [(r, w) for r, _, _, w in rv["inputs"]] == [("model", "content differs")]
    assert rv["tables_removed"] == ["budget_impact.summary"] and rv["tables_added"] == []
    assert all(not r.path.startswith("budget_impact") for r in rv["changed"])  # reported as a table, not None rows
    rel = [abs(r.new - r.old) / abs(r.old) for r in rv["changed"]]
    assert rel == sorted(rel, reverse=True) and rv["changed"][0].path == "psa.wtp[30000].ceac.A"


def test_markdown_matches_golden():
    text = markdown(review(_doc(), _new()), "old.json", "new.json")
    if not GOLDEN.exists():  # pragma: no cover - written once, then reviewed and committed
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def _run_json(runner, tmp_path, name, target):
    out = tmp_path / name
    r = runner.invoke(app, ["run", str(target), "-q", "--json", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_one_parameter_change_headline_and_few_rows(runner, tmp_path):
    a = _run_json(runner, tmp_path, "a.json", MODELS / "hiv_dmhee.yaml")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'hiv_dmhee.yaml'}\nparameters: {{cost_C: 9100}}\n")
    b = _run_json(runner, tmp_path, "b.json", cfg)
    r = runner.invoke(app, ["diff", str(a), str(b), "--format", "markdown"])
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert lines.index("### Headline: payer") < lines.index("### Changed metrics (largest relative change first)")
    assert "| ICER Zidovudine + lamivudine vs Zidovudine monotherapy |" in r.stdout
    assert sum(1 for ln in lines if ln.startswith("| `")) < 30
    assert "read by the new run only" in r.stdout and "c.yaml" in r.stdout  # the config is a new input
    js = json.loads(runner.invoke(app, ["diff", str(a), str(b), "--format", "json"]).stdout)
    assert js["n_changed"] == len(js["changed"]) and js["headline"]["payer"][0]["metric"] == "ICER Zidovudine + lamivudine vs Zidovudine monotherapy"


def test_masked_model_edit_is_reported_as_changed_input(runner, tmp_path):
    """A model edit that a config override hides gives equal metrics, but the inputs differ and are named."""
    m = tmp_path / "m.yaml"
    m.write_text((MODELS / "hiv_dmhee.yaml").read_text())
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ces: 1\nmodel: m.yaml\nparameters: {cost_C: 9007}\n")
    a = _run_json(runner, tmp_path, "a.json", cfg)
    m.write_text(m.read_text().replace("cost_C: 9007", "cost_C: 9500"))
    b = _run_json(runner, tmp_path, "b.json", cfg)
    r = runner.invoke(app, ["diff", str(a), str(b)])
    assert r.exit_code == 0 and "0 changed" in r.stdout
    assert r.stdout.index("Inputs differ") < r.stdout.index("Headline") and "m.yaml" in r.stdout


def test_documents_without_provenance_list_no_inputs():
    old = _doc()
    del old["provenance"]
    rv = review(old, _new())
    assert rv["inputs"] == [] and not rv["has_inputs"]
    assert "not recorded in one of the documents" in markdown(rv, "a", "b")
