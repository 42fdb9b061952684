"""Deterministic sensitivity analysis: tornado rows equal full runs; two-way, threshold, scenarios."""

from __future__ import annotations

import pytest

from ces.cli import app
from ces.pipeline import run
from ces.studies.dsa import run_dsa
from tests.conftest import CONFIGS, MODELS


def _icer(res, s="comb", c="mono", effect="ly"):
    t = res.totals.set_index("strategy")
    return (t.loc[s, "cost"] - t.loc[c, "cost"]) / (t.loc[s, effect] - t.loc[c, effect])


def test_hiv_tornado_matches_full_runs_row_for_row(tmp_path):
    r = run_dsa(CONFIGS / "hiv_dsa.yaml")
    tornado = r["one_way"].set_index("parameter")
    model = MODELS / "hiv_heemod_vignette.yaml"
    for name, lo, hi, setting in (("rr", 0.4, 0.6, False), ("cost_zido", 1500, 3000, False),
                                  ("cost_lami", 1500, 3000, False), ("discount.costs", 0.04, 0.08, True)):
        for bound, col in ((lo, "outcome_low"), (hi, "outcome_high")):
            cfg = tmp_path / f"{name}_{bound}.yaml"
            body = (f"settings: {{discount: {{costs: {bound}}}}}\n" if setting else f"parameters: {{{name}: {bound}}}\n")
            cfg.write_text(f"ces: 1\nmodel: {model}\n" + body)
            assert tornado.loc[name, col] == pytest.approx(_icer(run(cfg, psa=False)), rel=1e-12), (name, bound)
    # sorted by range, largest first
    assert list(r["one_way"]["range"]) == sorted(r["one_way"]["range"], reverse=True)
    assert r["base"] == pytest.approx(_icer(run(model, psa=False)), rel=1e-12)


def test_two_way_threshold_and_scenarios(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"""ces: 1
model: {MODELS / 'hiv_heemod_vignette.yaml'}
dsa:
  parameters: {{rr: [0.4, 0.6]}}
  strategy: comb
  comparator: mono
  outcome: nmb
  wtp: 5000
  two_way: {{x: rr, y: cost_lami, x_values: [0.4, 0.5], y_values: [1000, 2000, 3000]}}
  threshold: {{parameter: cost_lami, low: 0, high: 5000, wtp: 5000}}
scenarios:
  cheap: {{parameters: {{cost_lami: 1000}}}}
""")
    r = run_dsa(cfg)
    tw = r["two_way"]
    assert len(tw) == 6
    row = tw[(tw["rr"] == 0.5) & (tw["cost_lami"] == 2000)]["nmb"].iloc[0]
    cfg2 = tmp_path / "c2.yaml"
    cfg2.write_text(f"ces: 1\nmodel: {MODELS / 'hiv_heemod_vignette.yaml'}\nparameters: {{rr: 0.5, cost_lami: 2000}}\n")
    t = run(cfg2, psa=False).totals.set_index("strategy")
    assert row == pytest.approx(5000 * (t.loc["comb", "ly"] - t.loc["mono", "ly"]) - (t.loc["comb", "cost"] - t.loc["mono", "cost"]), rel=1e-12)
    # threshold: incremental NMB at the found value is 0, and brute force brackets it
    th = r["threshold"]["threshold"]
    assert 0 < th < 5000
    vals = []
    for v in (th - 1.0, th + 1.0):
        cfg2.write_text(f"ces: 1\nmodel: {MODELS / 'hiv_heemod_vignette.yaml'}\nparameters: {{cost_lami: {v}}}\n")
        tt = run(cfg2, psa=False).totals.set_index("strategy")
        vals.append(5000 * (tt.loc["comb", "ly"] - tt.loc["mono", "ly"]) - (tt.loc["comb", "cost"] - tt.loc["mono", "cost"]))
    assert vals[0] > 0 > vals[1]
    assert list(r["scenarios"]["scenario"]) == ["base case", "cheap"]


def test_bounds_from_distributions(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'sick_sicker.yaml'}\ndsa: {{parameters: [c_trtB, u_S1], strategy: B, comparator: SoC}}\n")
    r = run_dsa(cfg)
    t = r["one_way"].set_index("parameter")
    from scipy import stats
    assert t.loc["c_trtB", "low"] == pytest.approx(stats.gamma(86.2, scale=150.8).ppf(0.025), rel=1e-12)
    assert t.loc["u_S1", "high"] == pytest.approx(stats.beta(130, 45).ppf(0.975), rel=1e-12)


def test_dsa_cli(runner, tmp_path):
    r = runner.invoke(app, ["dsa", str(CONFIGS / "hiv_dsa.yaml"), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "cost_lami" in r.output and (tmp_path / "dsa_one_way.csv").exists()
    r = runner.invoke(app, ["dsa", str(MODELS / "hiv_dmhee.yaml")])
    assert r.exit_code == 2 and "neither `dsa:` nor `scenarios:`" in r.stderr
