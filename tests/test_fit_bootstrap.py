"""Joint bootstrap of PFS and OS (`ces fit --bootstrap B [--psa bootstrap|mvn]`) and `dist: bootstrap` rows.

Issue 14, item 4: PFS and OS come from the same patients, so their coefficients must be drawn jointly.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from ces.cli import app
from tests.test_fit_cli import MODEL_HEAD  # the same fitted-curve PSM head

ENDPOINTS = ["--time", "pfs", "--event", "pfs_e", "--name", "pfs", "--time", "os", "--event", "os_e", "--name", "os"]


def _trial(path, seed: int, n: int, progression_mean: float, independent: bool = False):
    """PFS and OS of the same patients: death D ~ 30·Weibull(1.2), progression P ~ Exp(mean), censoring
    C ~ U(12, 60); PFS = min(P, D, C), OS = min(D, C).  ``independent``: OS rows permuted across patients
    (same margins, no PFS–OS dependence)."""
    rng = np.random.default_rng(seed)
    D, P, C = 30 * rng.weibull(1.2, n), rng.exponential(progression_mean, n), rng.uniform(12, 60, n)
    pfs = np.minimum.reduce([P, D, C])
    df = pd.DataFrame({"pfs": pfs, "pfs_e": (pfs < C).astype(int), "os": np.minimum(D, C),
                       "os_e": (D <= C).astype(int)})
    if independent:
        perm = rng.permutation(n)
        df[["os", "os_e"]] = df[["os", "os_e"]].to_numpy()[perm]
    df.to_csv(path, index=False)
    return df


def _model(tmp_path, curves_yaml, name):
    block = yaml.safe_load(curves_yaml.read_text())
    path = tmp_path / name
    path.write_text(MODEL_HEAD + yaml.safe_dump(block, sort_keys=False, default_flow_style=None))
    return path


def _fit(runner, data, out, *extra, families="weibull"):
    r = runner.invoke(app, ["fit", str(data), *ENDPOINTS, "--families", families, "--no-cure", "--yaml", str(out),
                            *extra])
    assert r.exit_code == 0, r.output
    return yaml.safe_load(out.read_text())


def test_bootstrap_covariance_agrees_with_hessian():
    """One correctly specified Weibull endpoint: the bootstrap covariance Σ* and the inverse Hessian estimate the
    same asymptotic covariance, so each entry agrees within 4 Monte-Carlo SEs of Σ* (the MCSE of a sample
    covariance entry is sd((x_j − x̄_j)(x_k − x̄_k))/√B).  A resample that is not with replacement, or refits
    that do not move from the start, give Σ* ≈ 0 and fail."""
    from ces.survival.bootstrap import bootstrap_replicates
    from ces.survival.fit import fit_all
    from ces.survival.fit_likelihood import Model
    from ces.survival.fit_data import make_data

    rng = np.random.default_rng(21)
    n, B = 400, 300
    T, C = 20 * rng.weibull(1.3, n), rng.uniform(10, 60, n)
    df = pd.DataFrame({"t": np.minimum(T, C), "e": (T <= C).astype(int)})
    fit = fit_all(make_data(df, "t", "e"), [Model("weibull")])[0]
    rep = bootstrap_replicates(df, [("os", "t", "e", fit, None)], B, seed=9)
    assert len(rep.draws) == B and rep.columns == ["os_log_shape", "os_log_scale"]
    S = rep.covariance()
    dev = rep.draws - rep.draws.mean(axis=0)
    mcse = np.array([[np.std(dev[:, j] * dev[:, k], ddof=1) / np.sqrt(B) for k in range(2)] for j in range(2)])
    assert np.all(np.diag(mcse) < 0.2 * np.diag(fit.cov))  # the check is tight enough to mean something
    assert np.all(np.abs(S - fit.cov) <= 4 * mcse), (S, fit.cov, mcse)


def test_joint_mvn_carries_pfs_os_correlation(runner, tmp_path):
    """--psa mvn: ONE mvnormal over the PFS and OS coefficients (mean = the MLEs, cov = bootstrap covariance).
    With rare progression PFS ≈ OS patient by patient, so the scale coefficients are strongly correlated; with
    the OS rows permuted across patients (same margins, no dependence) they are not."""
    corr = {}
    for tag, independent in (("dep", False), ("ind", True)):
        data = tmp_path / f"{tag}.csv"
        _trial(data, 4, 300, 150.0, independent)
        block = _fit(runner, data, tmp_path / f"{tag}.yaml", "--bootstrap", "80", "--psa", "mvn", "--seed", "3")
        p = block["parameters"]
        assert "pfs_coef" not in p and "os_coef" not in p  # no per-curve blocks: one joint block
        entry = p["pfs_os_coef"]
        assert entry["dist"] == "mvnormal"
        assert entry["names"] == ["pfs_log_shape", "pfs_log_scale", "os_log_shape", "os_log_scale"]
        cov = np.array(entry["cov"])
        rows = pd.read_csv(tmp_path / f"{tag}_bootstrap.csv", comment="#")
        np.testing.assert_allclose(cov, np.cov(rows[entry["names"]].to_numpy(), rowvar=False), rtol=1e-12)
        corr[tag] = cov[1, 3] / np.sqrt(cov[1, 1] * cov[3, 3])
        # the block parses into one distribution shared by the four coefficients
        from ces.params.parameters import parse_parameters

        defs = parse_parameters(p, lambda k: (None, ".".join(k), None), frozenset(), tmp_path)
        assert defs["pfs_log_scale"].dist is defs["os_log_scale"].dist
    assert corr["dep"] > 0.7
    assert abs(corr["ind"]) < 0.35  # about 3 SE of a correlation from 80 replicates


def test_bootstrap_rows_cap_fewer_draws(runner, tmp_path):
    """The CAR-T problem of issue 14: PFS and OS drawn independently (one mvnormal per curve) cross often; drawn
    from the same bootstrap replicate (rows, or the joint mvnormal), far less.  Counted by the sanity check
    (`psm_capped`, ces/analysis/sanity.py) on the same data, draws and seed."""
    data = tmp_path / "t.csv"
    _trial(data, 4, 300, 150.0)
    capped = {}
    for tag, extra in (("hessian", []), ("mvn", ["--bootstrap", "100", "--psa", "mvn"]),
                       ("rows", ["--bootstrap", "100"])):
        _fit(runner, data, tmp_path / f"{tag}.yaml", *extra)
        from ces.pipeline import run

        res = run(_model(tmp_path, tmp_path / f"{tag}.yaml", f"{tag}_model.yaml"), draws=400, seed=3)
        counts = [int(re.search(r"capped in ([\d,]+) of", w["message"]).group(1).replace(",", ""))
                  for w in res.warnings if w["code"] == "psm_capped" and w["message"].startswith("`soc`")]
        capped[tag] = counts[0] if counts else 0
        assert capped[tag] == res.psa.crossing["soc"].draws or (not counts and capped[tag] <= 4)
    assert capped["hessian"] > 40  # the independent draws do cross (the test can fail)
    assert capped["rows"] < capped["hessian"] / 2
    assert capped["mvn"] < capped["hessian"] / 2


def test_same_result_for_any_worker_count_and_chunk(runner, tmp_path):
    """Replicate b depends only on (seed, b); PSA draw i only on (seed, block, i): bit-identical files and
    results for --jobs 1 and 2, for any chunk size, and B: 20 of a 40-replicate file = a 20-replicate file."""
    data = tmp_path / "t.csv"
    _trial(data, 7, 200, 20.0)
    _fit(runner, data, tmp_path / "j1.yaml", "--bootstrap", "40", "--seed", "11")
    _fit(runner, data, tmp_path / "j2.yaml", "--bootstrap", "40", "--seed", "11", "--jobs", "2")
    one = (tmp_path / "j1_bootstrap.csv").read_text()
    assert one == (tmp_path / "j2_bootstrap.csv").read_text()
    assert (tmp_path / "j1.yaml").read_text() == (tmp_path / "j2.yaml").read_text().replace("j2_", "j1_")
    # the header says where the rows come from
    import hashlib

    assert f"# data_sha256: {hashlib.sha256(data.read_bytes()).hexdigest()}" in one
    assert "# seed: 11" in one and "# replicates: 40" in one and "pfs=weibull (pfs, pfs_e)" in one
    # the first 20 replicates of a 40-replicate run are those of a 20-replicate run
    _fit(runner, data, tmp_path / "k.yaml", "--bootstrap", "20", "--seed", "11")
    r40 = pd.read_csv(tmp_path / "j1_bootstrap.csv", comment="#")
    r20 = pd.read_csv(tmp_path / "k_bootstrap.csv", comment="#")
    pd.testing.assert_frame_equal(r40[r40.replicate < 20], r20)
    from ces.pipeline import run

    m = _model(tmp_path, tmp_path / "j1.yaml", "m.yaml")
    res = run(m, draws=300, seed=5, chunk=300)
    a = res.psa
    assert str((tmp_path / "j1_bootstrap.csv").resolve()) in res.model.data_files  # hashed in the provenance
    b = run(m, draws=300, seed=5, chunk=70).psa
    for s in a.totals:
        np.testing.assert_array_equal(a.totals[s], b.totals[s])
    # `B: 20` on the 40-replicate file samples exactly as the 20-replicate file
    m20 = tmp_path / "m20.yaml"
    m20.write_text(m.read_text().replace("B: 40", "B: 20"))
    k = _model(tmp_path, tmp_path / "k.yaml", "mk.yaml")
    c, d = run(m20, draws=200, seed=5).psa, run(k, draws=200, seed=5).psa
    for s in c.totals:
        np.testing.assert_array_equal(c.totals[s], d.totals[s])
    assert not np.array_equal(a.totals["soc"][:200], c.totals["soc"])


@pytest.mark.parametrize("args,fragment", [
    (["--bootstrap", "1"], "--bootstrap must be an integer between 2 and 100,000, got 1"),
    (["--bootstrap", "1000000000"], "--bootstrap must be an integer between 2 and 100,000"),
    (["--psa", "mvn"], "--psa mvn needs --bootstrap B"),
    (["--psa", "rows", "--bootstrap", "5"], "--psa must be one of hessian, bootstrap, mvn"),
])
def test_fit_bad_options_exit_2_before_reading(runner, tmp_path, args, fragment):
    """Option errors come first: the data file named does not even exist."""
    r = runner.invoke(app, ["fit", str(tmp_path / "absent.csv"), *ENDPOINTS, "--yaml", str(tmp_path / "x.yaml"),
                            *args])
    assert r.exit_code == 2 and fragment in r.output, r.output
    assert "Traceback" not in r.output and not list(tmp_path.iterdir())


def test_fit_bad_data_exit_2(runner, tmp_path):
    y = ["--yaml", str(tmp_path / "c.yaml")]
    r = runner.invoke(app, ["fit", str(tmp_path / "absent.csv"), *ENDPOINTS, "--bootstrap", "10"])
    assert r.exit_code == 2 and "--bootstrap needs --yaml" in r.output
    r = runner.invoke(app, ["fit", str(tmp_path / "absent.csv"), *ENDPOINTS, "--bootstrap", "10", *y])
    assert r.exit_code == 2 and "absent.csv" in r.output and "not found" in r.output
    _trial(tmp_path / "t.csv", 1, 50, 20.0)
    r = runner.invoke(app, ["fit", str(tmp_path / "t.csv"), "--time", "pfs", "--event", "pfs_e", "--time", "os_t",
                            "--event", "os_e", "--bootstrap", "10", *y])
    assert r.exit_code == 2 and "column `os_t` not found" in r.output
    assert not (tmp_path / "c.yaml").exists()


@pytest.fixture
def rows_model(runner, tmp_path):
    data = tmp_path / "t.csv"
    _trial(data, 7, 150, 20.0)
    _fit(runner, data, tmp_path / "c.yaml", "--bootstrap", "12", families="exponential")
    return _model(tmp_path, tmp_path / "c.yaml", "m.yaml")


@pytest.mark.parametrize("old,new,fragment", [
    ("file: c_bootstrap.csv", "file: gone.csv", "bootstrap replicates file `gone.csv` not found"),
    ("names: [pfs_log_rate, os_log_rate]", "names: [pfs_log_rate, os_lograte]", "column `os_lograte` not in draws file"),
    ("B: 12", "B: 13", "B = 13 but `c_bootstrap.csv` holds 12 replicates"),
    ("B: 12", "B: 1", "`B` must be an integer between 2 and 100,000, got 1"),
    ("B: 12", "B: 1000000000", "`B` must be an integer between 2 and 100,000"),
    ("B: 12", "B: 2.5", "`B` must be an integer"),
])
def test_bootstrap_block_errors(runner, rows_model, old, new, fragment):
    text = rows_model.read_text()
    assert old in text
    rows_model.write_text(text.replace(old, new))
    r = runner.invoke(app, ["validate", str(rows_model)])
    assert r.exit_code == 2 and fragment in r.output, r.output
    assert "m.yaml" in r.output and "parameters.pfs_os_coef" in r.output and "Traceback" not in r.output


def test_docs_workflow_runs(runner, tmp_path):
    """docs/survival.md's joint-bootstrap commands, with fewer replicates: the merged model validates and runs."""
    from tests.conftest import ROOT

    r = runner.invoke(app, ["fit", str(ROOT / "tests/data/pfs_os_example.csv"), "--time", "pfs_years", "--event",
                            "pfs_event", "--name", "pfs", "--time", "os_years", "--event", "os_event", "--name", "os",
                            "--time-unit", "year", "--families", "weibull_ph", "--no-cure", "--bootstrap", "20",
                            "--yaml", str(tmp_path / "curves.yaml"), "--merge",
                            str(ROOT / "models/trastuzumab_psm.yaml")])
    assert r.exit_code == 0, r.output
    model = tmp_path / "curves_model.yaml"
    assert yaml.safe_load(model.read_text())["parameters"]["pfs_os_coef"]["dist"] == "bootstrap"
    assert runner.invoke(app, ["validate", str(model)]).exit_code == 0
    from ces.pipeline import run

    assert run(model, draws=100, seed=1).psa.n_draws == 100


def test_two_separate_fits_with_as_many_rows_resample_independently(runner, tmp_path):
    """Two arms fitted separately (two files with as many patients, both sorted by time, as exported or
    reconstructed data often are): each fit resamples on its own seed stream (the CRC-32 of its endpoint
    names), so their replicates are not coupled rank by rank; with the plain (seed, b) stream they would draw
    the same row indices and their log-scale replicates would move together."""
    reps = {}
    for arm, mean in (("a", 20.0), ("b", 35.0)):
        data = tmp_path / f"{arm}.csv"
        df = _trial(data, 3 if arm == "a" else 4, 150, mean).sort_values("os")
        df.to_csv(data, index=False)
        out = tmp_path / f"{arm}.yaml"
        r = runner.invoke(app, ["fit", str(data), "--time", "os", "--event", "os_e", "--name", f"os_{arm}",
                                "--families", "weibull", "--no-cure", "--bootstrap", "60", "--seed", "9",
                                "--yaml", str(out)])
        assert r.exit_code == 0, r.output
        rows = pd.read_csv(tmp_path / f"{arm}_bootstrap.csv", comment="#")
        reps[arm] = rows[[c for c in rows.columns if "scale" in c][0]].to_numpy()
    assert len(reps["a"]) == len(reps["b"]) == 60
    assert abs(np.corrcoef(reps["a"], reps["b"])[0, 1]) < 0.5
