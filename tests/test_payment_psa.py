"""Outcome-based payments and the budget impact per PSA draw, from each draw's own trace."""

from __future__ import annotations

import numpy as np
import pytest

from ces.pipeline import run
from tests.conftest import CONFIGS

MODEL = """\
ces: 1
cycle: 1 year
horizon: 6 cycles
correction: start
discount: {costs: 0.05, effects: 0}
parameters:
  p_resp: {value: 0.7, dist: beta, alpha: 7, beta: 3}
  c_n: {value: 100, dist: gamma, mean: 100, sd: 30}
  gene: 0
states:
  R: {cost: 0, utility: 1}
  N: {cost: c_n, utility: 0.5}
initial: {R: gene * p_resp, N: 1 - gene * p_resp}
transitions:
  R: {R: 1}
  N: {N: 1}
strategies:
  soc: {}
  gene: {parameters: {gene: 1}, initial_costs: {therapy: 1000000}}
"""
PAY = ("payment: {strategy: gene, category: therapy, price: 1000000, model: outcome, rebate: 0.8, rebate_year: 2, "
       "response_states: [R], response_year: 2}\n")
BIA = ("budget_impact: {years: 4, psa: true, population: {patients: [10, 20, 30, 40]}, current: {soc: 1, gene: 0}, "
       "new: {soc: 0, gene: 1}}\n")


def _cfg(tmp_path, extra=""):
    (tmp_path / "m.yaml").write_text(MODEL)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ces: 1\nmodel: m.yaml\n" + PAY + extra)
    return cfg


def test_refund_uses_the_base_case_trace(tmp_path):
    res = run(_cfg(tmp_path), psa=False)
    assert res.payment["schedule"][1] == (2, pytest.approx(-0.8 * 1e6 * 0.3))  # P(not in R at year 2) = 1 - 0.7
    t = res.totals.set_index("strategy")
    assert t.loc["gene", "cost.therapy"] == pytest.approx(1e6 - 0.8e6 * 0.3 / 1.05 ** 2, rel=1e-12)


def test_refund_varies_across_draws_and_its_mean_is_refund_times_expected_non_response(tmp_path):
    res = run(_cfg(tmp_path, "psa: {draws: 4000, seed: 11}\n"))
    refund = -res.payment_draws * 1.05 ** 2           # undiscounted refund per draw
    assert refund.std() > 1e4                          # varies with each draw's p_resp
    expected = 0.8 * 1e6 * 3 / (7 + 3)                 # rebate x P x E[1 - p_resp], p_resp ~ Beta(7, 3)
    se = refund.std(ddof=1) / np.sqrt(len(refund))
    assert abs(refund.mean() - expected) < 4 * se
    # the draws' therapy cost carries each draw's own refund (no longer the base-case adjustment for all)
    therapy = res.psa.totals["gene"][:, res.model.streams.index("therapy")]
    assert np.allclose(therapy, 1e6 + res.payment_draws, rtol=1e-12)


def test_probabilistic_budget_impact_matches_the_deterministic_bia_draw_by_draw(tmp_path):
    from ces.engine.psa import distribution_keys
    from ces.params.sampling import sample_draws

    cfg = _cfg(tmp_path, "psa: {draws: 300, seed: 5, chunk: 128}\n" + BIA)
    res = run(cfg)
    tab = res.budget["psa"]
    assert list(tab["year"]) == [1, 2, 3, 4] and (tab["n_draws"] == 300).all()
    net = res.bia_draws
    assert np.all(tab["net_impact_lower"] <= tab["net_impact_mean"]) and np.all(tab["net_impact_mean"] <= tab["net_impact_upper"])
    assert np.allclose(tab["net_impact_mean"], net.mean(axis=0))
    assert net[:, 2].std() > 0  # year 3 carries the refunds of cohort 1
    samples = sample_draws(distribution_keys(res.model), 5, 0, 300)
    for d in (0, 137, 299):  # the same draw run deterministically gives the same budget
        over = {"parameters": {"p_resp": float(samples["p_resp"][d]), "c_n": float(samples["c_n"][d])}}
        det = run(cfg, psa=False, overrides=over).budget["summary"]["net_impact"].to_numpy()
        assert np.allclose(net[d], det, rtol=1e-10)


def test_bia_psa_in_console_json_and_xlsx(runner, tmp_path):
    import json

    from openpyxl import load_workbook

    from ces.cli import app

    cfg = _cfg(tmp_path, "psa: {draws: 200, seed: 3}\n" + BIA)
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(cfg), "--full", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Probabilistic budget impact" in r.output and "95 %" in r.output
    doc = json.loads((out / "results.json").read_text())
    assert len(doc["budget_impact"]["psa"]) == 4
    wb = load_workbook(next(out.glob("*.xlsx")), read_only=True)
    assert any("budget_impact_psa" in n for n in wb.sheetnames)


def test_betibeglogene_refund_config():
    res = run(CONFIGS / "genetherapy_tdt_refund.yaml", psa=False)
    p = res.payment
    assert p["model"] == "outcome" and p["schedule"][1][0] == 2
    # 80 % of the price back for patients not transfusion-independent at 2 years (1 - TI occupancy in the trace)
    tr = res.base.results["gene"].trace[0]
    ti = sum(tr[2, res.model.states.index(s)] for s in ("TIiron", "TI"))  # both transfusion-independent states
    assert p["schedule"][1][1] == pytest.approx(-0.8 * 2_800_000 * (1 - ti))


def test_per_draw_payments_and_budgets_do_not_depend_on_the_chunk_size(tmp_path):
    cfg = _cfg(tmp_path, BIA)
    a = run(cfg, draws=257, seed=9, chunk=1000)
    b = run(cfg, draws=257, seed=9, chunk=50)
    assert np.array_equal(a.payment_draws, b.payment_draws)
    assert np.array_equal(a.bia_draws, b.bia_draws)
