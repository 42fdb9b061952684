"""`ces fit` end to end: IPD and digitised inputs, the YAML block running in a model, joint PSA, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from ces.cli import app
from ces.params.parameters import parse_parameters
from ces.survival.km import kaplan_meier, number_at_risk

MODEL_HEAD = """ces: 1
title: fitted-curve PSM
kind: psm
cycle: 1 month
horizon: 120 cycles
time_unit: month
currency: USD
correction: life-table
discount: {costs: 0.03, effects: 0.03}
crossing: cap
partition: [pfs, os]
states: {PF: {cost: 1000, utility: 0.8}, PD: {cost: 3000, utility: 0.6}, Dead: {dead: true}}
strategies: {soc: {label: SoC}, new: {label: New, initial_costs: {treatment: 50000}}}
"""


@pytest.fixture(scope="module")
def trial_csv(tmp_path_factory):
    """PFS and OS on the same 250 patients: death D ~ Weibull, progression P ~ exponential."""
    rng = np.random.default_rng(3)
    n = 250
    D = 30 * rng.weibull(1.2, n)
    P = rng.exponential(10, n)
    C = rng.uniform(12, 60, n)
    pfs = np.minimum.reduce([P, D, C])
    df = pd.DataFrame({"pfs": pfs, "pfs_e": (pfs < C).astype(int), "os": np.minimum(D, C),
                       "os_e": (D <= C).astype(int)})
    path = tmp_path_factory.mktemp("fit") / "trial.csv"
    df.to_csv(path, index=False)
    return path, df


def _model(tmp_path, curves_yaml):
    return _model_named(tmp_path, curves_yaml, "model.yaml")


def test_fit_yaml_pastes_into_a_model(runner, trial_csv, tmp_path):
    path, df = trial_csv
    out = tmp_path / "curves.yaml"
    r = runner.invoke(app, ["fit", str(path), "--time", "pfs", "--event", "pfs_e", "--name", "pfs",
                            "--time", "os", "--event", "os_e", "--name", "os", "--families",
                            "weibull,lognormal", "--no-cure", "--yaml", str(out), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    block = yaml.safe_load(out.read_text())
    assert block["curves"]["os"]["dist"] in ("weibull", "lognormal")
    assert block["parameters"]["os_coef"]["dist"] == "mvnormal"
    assert (tmp_path / "o" / "fit_os.csv").exists() and (tmp_path / "o" / "fit_os_km.png").exists()
    model = _model(tmp_path, out)
    assert runner.invoke(app, ["validate", str(model)]).exit_code == 0
    from ces.pipeline import run

    res = run(model, draws=64, seed=1)
    assert res.psa is not None and res.psa.n_draws == 64
    # the base case uses the MLE: the model's curve is the fitted curve
    from ces.survival.fit import fit_all
    from ces.survival.fit_likelihood import Model
    from ces.survival.fit_data import make_data

    d = make_data(df, "os", "os_e")
    f = fit_all(d, [Model(block["curves"]["os"]["dist"])])[0]
    np.testing.assert_allclose(block["parameters"]["os_coef"]["mean"], f.coef, rtol=1e-6)


def test_mvnormal_block_draws_jointly(runner, trial_csv, tmp_path):
    path, _ = trial_csv
    out = tmp_path / "c.yaml"
    r = runner.invoke(app, ["fit", str(path), "--time", "os", "--event", "os_e", "--families", "weibull",
                            "--no-cure", "--yaml", str(out)])
    assert r.exit_code == 0, r.output
    block = yaml.safe_load(out.read_text())
    defs = parse_parameters(block["parameters"], lambda p: (None, ".".join(p), None), frozenset(), tmp_path)
    dist = defs["os_log_shape"].dist
    assert defs["os_log_scale"].dist is dist  # one joint distribution for the curve's coefficients
    x = dist.sample(np.random.default_rng(0), 20000)
    np.testing.assert_allclose(np.cov(x.T), block["parameters"]["os_coef"]["cov"], rtol=0.05)


def test_bootstrap_keeps_pfs_os_correlation(runner, trial_csv, tmp_path):
    path, _ = trial_csv
    out = tmp_path / "b.yaml"
    r = runner.invoke(app, ["fit", str(path), "--time", "pfs", "--event", "pfs_e", "--name", "pfs",
                            "--time", "os", "--event", "os_e", "--name", "os", "--families", "exponential",
                            "--no-cure", "--yaml", str(out), "--bootstrap", "300", "--seed", "5"])
    assert r.exit_code == 0, r.output
    block = yaml.safe_load(out.read_text())
    entry = block["parameters"]["pfs_os_coef"]
    assert entry["dist"] == "bootstrap" and entry["names"] == ["pfs_log_rate", "os_log_rate"] and entry["B"] == 300
    draws = pd.read_csv(tmp_path / entry["file"], comment="#")
    assert len(draws) == 300
    # deaths before progression are PFS events too: the two log rates are positively correlated. On these
    # data the bootstrap correlation is about 0.26 (5,000 resamples of the closed-form exponential MLE,
    # log(events / exposure)); with B = 300 its SE is about (1 − 0.26²)/√300 ≈ 0.05, so > 0.1 is 3 SE below
    # it.
    assert np.corrcoef(draws.pfs_log_rate, draws.os_log_rate)[0, 1] > 0.1
    model = _model(tmp_path, out)
    from ces.pipeline import run

    assert run(model, draws=32, seed=2).psa.n_draws == 32
    # same seed, same draws file
    out2 = tmp_path / "b2.yaml"
    runner.invoke(app, ["fit", str(path), "--time", "pfs", "--event", "pfs_e", "--name", "pfs", "--time", "os",
                        "--event", "os_e", "--name", "os", "--families", "exponential", "--no-cure", "--yaml",
                        str(out2), "--bootstrap", "300", "--seed", "5"])
    assert (tmp_path / "b2_bootstrap.csv").read_text() == (tmp_path / entry["file"]).read_text()


def test_digitised_path(runner, tmp_path):
    rng = np.random.default_rng(8)
    T = 24 * rng.weibull(1.1, 200)
    C = np.minimum(rng.uniform(0, 70, 200), 48)
    t, e = np.minimum(T, C), (T <= C).astype(int)
    km = kaplan_meier(t, e)
    pd.DataFrame({"time": km.time, "survival": km.surv}).to_csv(tmp_path / "km.csv", index=False)
    at = np.arange(0, 48, 6.0)
    pd.DataFrame({"time": at, "n_risk": number_at_risk(t, at)}).to_csv(tmp_path / "risk.csv", index=False)
    r = runner.invoke(app, ["fit", "--km", str(tmp_path / "km.csv"), "--at-risk", str(tmp_path / "risk.csv"),
                            "--events", str(int(e.sum())), "--families", "weibull", "--no-cure",
                            "--yaml", str(tmp_path / "k.yaml")])
    assert r.exit_code == 0, r.output
    ipd = pd.read_csv(tmp_path / "km_ipd.csv", comment="#")
    assert len(ipd) == 200 and ipd.event.sum() == e.sum()


def test_errors_exit_2(runner, tmp_path):
    (tmp_path / "km.csv").write_text("time,survival\n0,1\n1,0.8\n2,0.9\n")
    (tmp_path / "risk.csv").write_text("time,n_risk\n0,10\n")
    r = runner.invoke(app, ["fit", "--km", str(tmp_path / "km.csv"), "--at-risk", str(tmp_path / "risk.csv")])
    assert r.exit_code == 2 and "survival goes up" in r.output and "km.csv" in r.output
    (tmp_path / "d.csv").write_text("t,e\n1,1\n-2,0\n3,1\n")
    r = runner.invoke(app, ["fit", str(tmp_path / "d.csv"), "--time", "t", "--event", "e"])
    assert r.exit_code == 2 and "row 3" in r.output and "d.csv" in r.output
    r = runner.invoke(app, ["fit", str(tmp_path / "d.csv"), "--time", "nope", "--event", "e"])
    assert r.exit_code == 2 and "column `nope`" in r.output


def test_merge_into_model(runner, trial_csv, tmp_path):
    """--merge writes the model with the fitted curves in place; it validates and runs."""
    path, _ = trial_csv
    base = tmp_path / "base.yaml"
    base.write_text(MODEL_HEAD + "parameters: {c_x: 1}\ncurves:\n  pfs: {dist: exponential, rate: 0.1}\n"
                    "  os: {dist: exponential, rate: 0.05}\n")
    out = tmp_path / "m.yaml"
    r = runner.invoke(app, ["fit", str(path), "--time", "pfs", "--event", "pfs_e", "--name", "pfs", "--time", "os",
                            "--event", "os_e", "--name", "os", "--families", "weibull", "--no-cure", "--yaml",
                            str(out), "--merge", str(base)])
    assert r.exit_code == 0, r.output
    merged = yaml.safe_load((tmp_path / "m_model.yaml").read_text())
    assert merged["curves"]["os"]["dist"] == "weibull" and merged["parameters"]["c_x"] == 1
    assert runner.invoke(app, ["validate", str(tmp_path / "m_model.yaml")]).exit_code == 0
    r = runner.invoke(app, ["fit", str(path), "--time", "os", "--event", "os_e", "--families", "weibull",
                            "--no-cure", "--time-unit", "year", "--yaml", str(out), "--merge", str(base)])
    assert r.exit_code == 2 and "time_unit" in r.output


def test_joint_bootstrap_prevents_pfs_above_os(runner, tmp_path):
    """PFS close to OS (progression rare). Exponential fits: in every resample d_PFS ≥ d_OS and the PFS
    person-time ≤ the OS person-time, so rate_PFS ≥ rate_OS and the bootstrap PSA never has PFS above OS;
    independent per-curve MVN draws do (the problem of issue 14's CAR-T example)."""
    rng = np.random.default_rng(4)
    n = 300
    D, P, C = 30 * rng.weibull(1.2, n), rng.exponential(150, n), rng.uniform(12, 60, n)
    pfs = np.minimum.reduce([P, D, C])
    pd.DataFrame({"pfs": pfs, "pfs_e": (pfs < C).astype(int), "os": np.minimum(D, C),
                  "os_e": (D <= C).astype(int)}).to_csv(tmp_path / "t.csv", index=False)
    from ces.pipeline import run

    crossed = {}
    for tag, extra in (("mvn", []), ("boot", ["--bootstrap", "60"])):
        r = runner.invoke(app, ["fit", str(tmp_path / "t.csv"), "--time", "pfs", "--event", "pfs_e", "--name", "pfs",
                                "--time", "os", "--event", "os_e", "--name", "os", "--families", "exponential",
                                "--no-cure", "--yaml", str(tmp_path / f"{tag}.yaml")] + extra)
        assert r.exit_code == 0, r.output
        res = run(_model_named(tmp_path, tmp_path / f"{tag}.yaml", f"{tag}_model.yaml"), draws=400, seed=3)
        crossed[tag] = res.psa.crossing["soc"].draws
    assert crossed["boot"] == 0
    assert crossed["mvn"] > 0


def _model_named(tmp_path, curves_yaml, name):
    block = yaml.safe_load(curves_yaml.read_text())
    path = tmp_path / name
    path.write_text(MODEL_HEAD + yaml.safe_dump(block, sort_keys=False, default_flow_style=None))
    return path


def test_arms_per_arm_and_joint(runner, tmp_path):
    rng = np.random.default_rng(11)
    n = 200
    arm = np.repeat(["ctl", "trt"], n // 2)
    T = np.where(arm == "trt", 30.0, 18.0) * rng.weibull(1.3, n)
    C = rng.uniform(6, 48, n)
    pd.DataFrame({"t": np.minimum(T, C), "e": (T <= C).astype(int), "arm": arm}).to_csv(tmp_path / "a.csv",
                                                                                        index=False)
    base = ["fit", str(tmp_path / "a.csv"), "--time", "t", "--event", "e", "--arm", "arm", "--families", "weibull",
            "--no-cure"]
    r = runner.invoke(app, base + ["--yaml", str(tmp_path / "per.yaml")])
    assert r.exit_code == 0, r.output
    per = yaml.safe_load((tmp_path / "per.yaml").read_text())
    assert set(per["curves"]) == {"os_ctl", "os_trt"}
    r = runner.invoke(app, base + ["--joint", "--yaml", str(tmp_path / "joint.yaml")])
    assert r.exit_code == 0, r.output
    joint = yaml.safe_load((tmp_path / "joint.yaml").read_text())
    assert set(joint["curves"]) == {"os", "os_trt"}  # reference arm ctl, and trt = ctl + the arm effect
    p = joint["parameters"]
    assert p["os_coef"]["names"] == ["os_log_shape", "os_log_scale", "os_armtrt"]
    assert p["os_scale_armtrt"] == "exp((os_log_scale + os_armtrt))"
    # the treatment effect (AFT, log time ratio) is estimated near the truth ln(30/18) with its covariance
    assert p["os_coef"]["mean"][2] == pytest.approx(np.log(30 / 18), abs=0.2)
    assert p["os_coef"]["cov"][1][2] != 0
    model = _model_named(tmp_path, tmp_path / "joint.yaml", "jm.yaml")
    model.write_text(model.read_text().replace("partition: [pfs, os]", "partition: [os, os_trt]"))
    assert runner.invoke(app, ["validate", str(model)]).exit_code == 0


def test_extrapolation_with_background_floor(runner, trial_csv, tmp_path):
    path, _ = trial_csv
    base = ["fit", str(path), "--time", "os", "--event", "os_e", "--families", "weibull", "--knots", "1",
            "--background", "us_2021", "--out", str(tmp_path / "o")]
    r = runner.invoke(app, base + ["--age", "60", "--sex", "0.6"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "fit_os_extrapolation.svg").stat().st_size > 0
    r = runner.invoke(app, base + ["--age", "60", "--sex", "both"])
    assert r.exit_code == 2 and "--sex" in r.output


def test_bootstrap_same_for_any_split(trial_csv):
    """Replicate b depends only on (seed, b): serial, split into blocks, or in worker processes, same rows."""
    from ces.survival.fit import fit_all
    from ces.survival.fit_likelihood import Model
    from ces.survival.fit_data import make_data
    from ces.survival.fit_output import bootstrap
    from ces.executors import LocalExecutor

    _, df = trial_csv
    eps = [(n, t, e, fit_all(make_data(df, t, e), [Model("weibull")])[0], None)
           for n, t, e in (("pfs", "pfs", "pfs_e"), ("os", "os", "os_e"))]
    cols, one = bootstrap(df, eps, 12, 7)
    _, split = bootstrap(df, eps, 12, 7, blocks=5)
    _, par = bootstrap(df, eps, 12, 7, map_fn=LocalExecutor(2).map, blocks=3)
    assert cols == ["pfs_log_shape", "pfs_log_scale", "os_log_shape", "os_log_scale"]
    np.testing.assert_array_equal(one, split)
    np.testing.assert_array_equal(one, par)
