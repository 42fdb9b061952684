"""PSA engine: reproducibility, agreement with the deterministic model, and the Sick-Sicker result."""

from __future__ import annotations

import textwrap

import numba
import numpy as np
import pytest

from ces.engine.psa import run_psa
from ces.pipeline import build, run
from tests.conftest import CONFIGS, MODELS


@pytest.fixture(scope="module")
def sick_sicker_psa():
    return run(CONFIGS / "sick_sicker.yaml", wtp=[float(w) for w in range(0, 200001, 5000)])


def test_sick_sicker_psa_reproduces_published_qualitative_result(sick_sicker_psa):
    """Alarid-Escudero et al. 2023: SoC optimal below ~$80k/QALY, B between ~$80k and ~$120k, AB above."""
    w = sick_sicker_psa.psa_tables["wtp"].set_index("wtp")
    assert sick_sicker_psa.psa.n_draws == 1000
    for lam in range(0, 75001, 5000):
        assert w.loc[lam, "optimal"] == "SoC", lam
    for lam in range(85000, 115001, 5000):
        assert w.loc[lam, "optimal"] == "B", lam
    for lam in range(125000, 200001, 5000):
        assert w.loc[lam, "optimal"] == "AB", lam
    # SoC has the highest probability of being cost-effective at low WTP (CEAC)
    assert w.loc[50000, "ceac.SoC"] > 0.9 and w.loc[200000, "ceac.AB"] > 0.9


def test_strategy_a_strongly_dominated_in_most_draws(sick_sicker_psa):
    psa = sick_sicker_psa.psa
    c, q = psa.matrix("cost"), psa.matrix("qaly")
    a = psa.strategies.index("A")
    others = [j for j in range(len(psa.strategies)) if j != a]
    dominated = np.zeros(psa.n_draws, dtype=bool)
    for j in others:
        dominated |= (c[:, j] <= c[:, a]) & (q[:, j] >= q[:, a])
    assert dominated.mean() > 0.5


LINEAR = """\
ces: 1
horizon: 10 cycles
correction: life-table
discount: {costs: 0.03, effects: 0.03}
parameters:
  c_well: {value: 1000, dist: gamma, mean: 1000, sd: 200}
  c_sick: {value: 5000, dist: normal, mean: 5000, sd: 800}
  u_well: {value: 0.85, dist: beta, mean: 0.85, sd: 0.05}
states:
  Well: {cost: c_well, utility: u_well}
  Sick: {cost: c_sick, utility: 0.5}
  Dead: {dead: true}
transitions:
  Well: {Well: rest, Sick: 0.1, Dead: 0.02}
  Sick: {Sick: rest, Dead: 0.2}
strategies:
  s: {}
"""


def test_linear_model_psa_mean_equals_deterministic_within_3_mcse(tmp_path):
    p = tmp_path / "lin.yaml"
    p.write_text(LINEAR)
    res = run(p, draws=4000, seed=7)
    summ = res.psa_tables["summary"].set_index("outcome")
    det = res.totals.iloc[0]
    for outcome in ("cost", "qaly"):
        row = summ.loc[outcome]
        assert abs(row["mean"] - det[outcome]) < 3 * row["mcse"], (outcome, row["mean"], det[outcome], row["mcse"])
        assert row["mcse"] > 0


def _psa_totals(path, n, seed, chunk, threads):
    numba.set_num_threads(threads)
    try:
        _, model = build(path)
        res = run_psa(model, n, seed, chunk)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return np.concatenate([res.totals[s] for s in res.strategies], axis=1)


@pytest.mark.parametrize("path", [MODELS / "sick_sicker.yaml", MODELS.parent / "bench" / "models" / "a_thr.yaml",
                                  MODELS.parent / "bench" / "models" / "b_psm.yaml"], ids=["markov", "thr", "psm"])
def test_psa_bit_identical_across_threads_and_chunks(path):
    ref = _psa_totals(path, 1500, 2026, 1500, 1)
    for chunk, threads in ((137, 2), (1000, 2), (4096, 1), (250, 1)):
        got = _psa_totals(path, 1500, 2026, chunk, threads)
        assert np.array_equal(ref, got), (chunk, threads)
    other_seed = _psa_totals(path, 1500, 2027, 1500, 2)
    assert not np.array_equal(ref, other_seed)


def test_psa_per_draw_output_and_sweep(runner, tmp_path):
    from ces.cli import app

    out = tmp_path / "draws.csv"
    r = runner.invoke(app, ["run", str(CONFIGS / "sick_sicker.yaml"), "--draws", "200", "--seed", "1", "-q",
                            "--draws-out", str(out), "--json", str(tmp_path / "r.json")])
    assert r.exit_code == 0, r.output
    import pandas as pd

    d = pd.read_csv(out)
    assert len(d) == 200 * 4 and set(d["strategy"]) == {"SoC", "A", "B", "AB"}
    assert {"draw", "cost", "qaly", "ly"} <= set(d.columns)
    sw = tmp_path / "sweep.csv"
    r = runner.invoke(app, ["sweep", str(CONFIGS / "sick_sicker.yaml"), "--wtp", "0:200000:50000", "--draws", "200",
                            "--seed", "1", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    s = pd.read_csv(tmp_path / "sweep.csv")
    assert list(s["wtp"]) == [0, 50000, 100000, 150000, 200000]
    # the sweep equals the run's own WTP table for the same draws
    res = run(CONFIGS / "sick_sicker.yaml", wtp=[0.0, 50000.0, 100000.0, 150000.0, 200000.0], draws=200, seed=1)
    w = res.psa_tables["wtp"]
    assert np.allclose(s["evpi"], w["evpi"], rtol=1e-12, atol=0)
    assert list(s["optimal"]) == list(w["optimal"])
    assert "CEAC over the WTP grid" in r.output


def test_bad_psa_flags(runner, tmp_path):
    from ces.cli import app

    r = runner.invoke(app, ["run", str(CONFIGS / "sick_sicker.yaml"), "--draws", "0"])
    assert r.exit_code == 2 and "--draws must be at least 1" in r.stderr
    r = runner.invoke(app, ["run", str(CONFIGS / "sick_sicker.yaml"), "--draws-out", str(tmp_path / "x.txt")])
    assert r.exit_code == 2 and ".csv or .parquet" in r.stderr
    r = runner.invoke(app, ["sweep", str(CONFIGS / "sick_sicker.yaml"), "--wtp", "0:abc"])
    assert r.exit_code == 2 and "FROM:TO:BY" in r.stderr
    assert not (tmp_path / "x.txt").exists()


def test_sampled_parameter_matrix_is_generated_again_with_the_values_the_psa_ran_with():
    """``PsaResult.samples`` is not kept but generated again (memory); it must equal, bit for bit, the
    values each chunk was simulated with, for any chunk size and for a part of the draws (``first``)."""
    from ces.engine.psa import chunk_results

    _, model = build(CONFIGS / "sick_sicker.yaml")
    ran = [np.hstack([a[:, None] if a.ndim == 1 else a for a in samples.values()])
           for _, _, samples, _ in chunk_results(model, 1300, 9, 777)]
    want = np.vstack(ran)
    psa = run_psa(model, 1300, 9, chunk=500)
    assert psa.samples.shape == (1300, len(psa.sample_names)) and psa.samples.shape[1] > 0
    assert np.array_equal(psa.samples, want)
    part = run_psa(model, 300, 9, chunk=128, first=1000)
    assert np.array_equal(part.samples, want[1000:])
    assert psa.totals_undisc == {}  # not kept unless asked for
