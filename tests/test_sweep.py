"""Batch sweep: 3 configs × 5 WTP × 2 values in parallel equals the individual runs."""

from __future__ import annotations

import pandas as pd
import pytest

from ces.cli import app
from ces.pipeline import run
from ces.executors import LocalExecutor
from ces.studies.sweep import sweep
from tests.conftest import CONFIGS

CFGS = [str(CONFIGS / "hiv_dsa.yaml"), str(CONFIGS / "sick_sicker.yaml"), str(CONFIGS / "cart_lbcl.yaml")]
WTPS = [0.0, 25000.0, 50000.0, 100000.0, 150000.0]


def test_parallel_sweep_equals_individual_runs():
    table = sweep(CFGS, {"discount.costs": [0.03, 0.05]}, WTPS, LocalExecutor(2))
    assert len(table) == 5 * 2 * (2 + 4 + 2)
    for cfg in CFGS:
        for dr in (0.03, 0.05):
            res = run(cfg, psa=False, overrides={"settings": {"discount": {"costs": dr}}})
            eff = res.loaded.model.effect
            t = res.totals.set_index("strategy")
            rows = table[(table["config"] == cfg) & (table["discount.costs"] == dr)]
            for _, r in rows.iterrows():
                assert r["cost"] == t.loc[r["strategy"], "cost"]
                assert r["effect"] == t.loc[r["strategy"], eff]
                assert r["nmb"] == pytest.approx(r["wtp"] * r["effect"] - r["cost"], rel=1e-12, abs=1e-9)
            best = rows.loc[rows.groupby("wtp")["nmb"].idxmax(), "strategy"].tolist()
            assert best == rows[rows["optimal"]]["strategy"].tolist()


def test_sweep_cli_with_glob_and_psa(runner, tmp_path):
    out = tmp_path / "sw"
    r = runner.invoke(app, ["sweep", str(CONFIGS / "hiv_*.yaml"), str(CONFIGS / "sick_sicker.yaml"),
                            "--grid", "discount.costs=0.03,0.05", "--wtp", "0:20000:10000", "-q", "--out", str(out),
                            "--draws", "50", "--seed", "3"])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out / "sweep.csv")
    assert {"ceac", "evpi"} <= set(t.columns) and len(t) == 2 * 3 * (2 + 4)
    r = runner.invoke(app, ["sweep", str(CONFIGS / "nothing_*.yaml"), "--wtp", "0:1:1"])
    assert r.exit_code == 2 and "no file matches" in r.stderr
    r = runner.invoke(app, ["sweep", str(CONFIGS / "sick_sicker.yaml"), "--grid", "c_H", "--wtp", "0:1:1"])
    assert r.exit_code == 2 and "NAME=v1,v2" in r.stderr
