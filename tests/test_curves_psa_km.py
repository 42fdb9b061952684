"""`psa: {curves: bootstrap | mvn, B}` on curves fitted to digitised KM curves (`ces fit --km --at-risk --yaml`): the
recipe records the two files and `--events`; `ces run` rebuilds the Guyot pseudo-patients and resamples them
(ces/survival/fit_recipe.py, ces/survival/boot_run.py)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import yaml

from ces.cli import app
from ces.survival.km import kaplan_meier, number_at_risk
from tests.test_curves_psa import _config, _located, counter, threads_and_chunks_agree  # noqa: F401  (fixture)
from tests.test_fit_bootstrap import _trial
from tests.test_fit_cli import MODEL_HEAD

AT = np.arange(0, 48, 6.0)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("CES_CACHE_DIR", str(d))
    return d / "bootstrap"


def _digitise(tmp_path, df, name):
    """The KM steps of one endpoint and its numbers at risk every 6 months, as a digitiser would give them."""
    t, e = df[name].to_numpy(), df[f"{name}_e"].to_numpy()
    km = kaplan_meier(t, e)
    pd.DataFrame({"time": km.time, "survival": km.surv}).to_csv(tmp_path / f"{name}_km.csv", index=False)
    pd.DataFrame({"time": AT, "n_risk": number_at_risk(t, AT)}).to_csv(tmp_path / f"{name}_risk.csv", index=False)
    return int(e.sum())


def _fit(runner, tmp_path, name, events, *extra):
    r = runner.invoke(app, ["fit", "--km", str(tmp_path / f"{name}_km.csv"), "--at-risk",
                            str(tmp_path / f"{name}_risk.csv"), "--events", str(events), "--name", name,
                            "--families", "weibull", "--no-cure", "--yaml", str(tmp_path / f"{name}.yaml"), *extra])
    assert r.exit_code == 0, r.output


def _setup(runner, tmp_path, *extra, n=200):
    """PFS and OS of one simulated arm (Weibull death, exponential progression), digitised separately, fitted
    one by one, and both blocks in one PSM model as written (each block's PSA entry is named after its fit,
    `pfs_coef` / `os_coef`, with or without --bootstrap)."""
    df = _trial(tmp_path / "ipd.csv", 7, n, 20.0)
    model = {"parameters": {}, "curves": {}, "fits": {}}
    for name in ("pfs", "os"):
        _fit(runner, tmp_path, name, _digitise(tmp_path, df, name), *extra)
        block = yaml.safe_load((tmp_path / f"{name}.yaml").read_text())
        assert not set(block["parameters"]) & set(model["parameters"])  # nothing to rename
        for key in model:
            model[key].update(block[key])
    path = tmp_path / "model.yaml"
    path.write_text(MODEL_HEAD + yaml.safe_dump(model, sort_keys=False, default_flow_style=None))
    return path


def test_recipe_and_replicates_as_ces_fit(runner, tmp_path, cache, counter):
    """The recipe names both files (relative) with their SHA-256 and the event count; the run-time replicates
    are byte-identical to `ces fit --km ... --bootstrap 20 --seed 5`'s, so `curves: bootstrap` gives exactly
    the PSA of the model as written; the files are in the provenance; the independence warning is given."""
    from ces.pipeline import run
    from ces.report.provenance import inputs

    _setup(runner, tmp_path, "--bootstrap", "20", "--seed", "5")
    rec = yaml.safe_load((tmp_path / "pfs.yaml").read_text())["fits"]["pfs"]
    assert rec["km"] == "pfs_km.csv" and rec["at_risk"] == "pfs_risk.csv" and "data" not in rec
    assert rec["sha256"] == hashlib.sha256((tmp_path / "pfs_km.csv").read_bytes()).hexdigest()
    assert rec["at_risk_sha256"] == hashlib.sha256((tmp_path / "pfs_risk.csv").read_bytes()).hexdigest()
    assert rec["events"] == int(pd.read_csv(tmp_path / "ipd.csv").pfs_e.sum()) and rec["parameters"] == ["pfs_coef"]
    assert runner.invoke(app, ["validate", str(tmp_path / "model.yaml")]).exit_code == 0
    a = run(_config(tmp_path, "{draws: 120, seed: 5, curves: bootstrap, B: 20}"))
    assert counter == [20, 20]
    cached = sorted(p.read_text() for p in cache.glob("*.csv"))
    assert cached == sorted((tmp_path / f"{n}_bootstrap.csv").read_text() for n in ("pfs", "os"))
    b = run(_config(tmp_path, "{draws: 120, seed: 5}", "plain.yaml"))
    for s in a.psa.totals:
        np.testing.assert_array_equal(a.psa.totals[s], b.psa.totals[s])
    got = {i["path"]: i for i in inputs(a) if i["role"] == "digitised_curve"}
    for f in ("pfs_km.csv", "pfs_risk.csv", "os_km.csv", "os_risk.csv"):
        p = str((tmp_path / f).resolve())
        assert got[p]["sha256"] == hashlib.sha256((tmp_path / f).read_bytes()).hexdigest()
    (w,) = [w for w in a.warnings if w["code"] == "curves_independent"]
    assert "`pfs`, `os`" in w["message"] and "PFS–OS" in w["message"] and w["where"].endswith("psa.curves")
    assert not [w for w in b.warnings if w["code"] == "curves_independent"]


def test_separately_digitised_curves_resampled_independently(runner, tmp_path):
    """Pseudo-patients are sorted by time and two curves of one arm have as many: drawn with the same row
    indices, their replicates would move together rank by rank.  The same KM files fitted under two names (so
    identical pseudo-patients): the replicates differ and are nearly uncorrelated (with one shared stream they
    would be identical, correlation 1)."""
    df = _trial(tmp_path / "ipd.csv", 7, 200, 20.0)
    events = _digitise(tmp_path, df, "os")
    reps = []
    for name in ("a", "b"):
        r = runner.invoke(app, ["fit", "--km", str(tmp_path / "os_km.csv"), "--at-risk", str(tmp_path / "os_risk.csv"),
                                "--events", str(events), "--name", name, "--families", "weibull", "--no-cure",
                                "--yaml", str(tmp_path / f"{name}.yaml"), "--bootstrap", "20", "--seed", "5"])
        assert r.exit_code == 0, r.output
        reps.append(pd.read_csv(tmp_path / f"{name}_bootstrap.csv", comment="#"))
    a, b = reps
    assert len(a) == len(b) == 20 and not np.array_equal(a.a_log_scale, b.b_log_scale)
    assert abs(np.corrcoef(a.a_log_scale, b.b_log_scale)[0, 1]) < 0.5


def test_bit_identical_for_threads_and_chunks_and_cached(runner, tmp_path, monkeypatch, counter):
    _setup(runner, tmp_path, n=150)  # hessian blocks: pfs_coef, os_coef
    cfg = _config(tmp_path, "{draws: 300, seed: 4, curves: mvn, B: 20}")
    assert len(threads_and_chunks_agree(runner, tmp_path, monkeypatch, cfg)) == 2  # one replicates file per curve
    # a second run with the same inputs reads the cache (counted in-process)
    from ces.pipeline import run

    monkeypatch.setenv("CES_CACHE_DIR", str(tmp_path / "cache_in"))
    before = len(counter)
    x = run(cfg)
    assert counter[before:] == [20, 20]  # one refit per recipe
    y = run(cfg)
    assert counter[before:] == [20, 20]  # none: cache hit
    np.testing.assert_array_equal(x.psa.totals["soc"], y.psa.totals["soc"])


def test_hessian_refit_reproduces_the_blocks(runner, tmp_path):
    """`curves: hessian` refits each digitised curve from its rebuilt pseudo-patients: each recipe's entry has
    the inverse Hessian `ces fit --km` wrote (the reconstruction is deterministic), with the run's source."""
    from ces.pipeline import run

    model = yaml.safe_load(_setup(runner, tmp_path, n=150).read_text())
    res = run(_config(tmp_path, "{draws: 40, seed: 1, curves: hessian}"))
    for name in ("pfs", "os"):
        entry = res.loaded.model.parameters[f"{name}_coef"]
        assert entry["source"] == f"ces run psa.curves: hessian of {name}_km.csv + {name}_risk.csv"
        np.testing.assert_allclose(entry["cov"], model["parameters"][f"{name}_coef"]["cov"], rtol=1e-10)
        np.testing.assert_allclose(entry["mean"], model["parameters"][f"{name}_coef"]["mean"], rtol=0)


@pytest.mark.parametrize("file,key", [("pfs_km.csv", "fits.pfs.sha256"), ("os_risk.csv", "fits.os.at_risk_sha256")])
def test_changed_file_refused(runner, tmp_path, file, key):
    _setup(runner, tmp_path, n=150)
    cfg = _config(tmp_path, "{draws: 20, curves: bootstrap, B: 5}")
    with open(tmp_path / file, "a") as fh:
        fh.write("# re-digitised\n")
    for cmd in (["run", str(cfg), "-q"], ["validate", str(cfg)]):
        r = runner.invoke(app, cmd)
        assert r.exit_code == 2 and f"`{file}` has changed since `ces fit` recorded it" in r.output, r.output
        _located(r.output, "model.yaml", key)


def test_errors_one_line(runner, tmp_path):
    model = _setup(runner, tmp_path, n=150)
    text = model.read_text()
    cfg = _config(tmp_path, "{draws: 20, curves: bootstrap, B: 5}")
    model.write_text(text.replace("km: os_km.csv", "km: gone.csv"))
    r = runner.invoke(app, ["run", str(cfg), "-q"])
    assert r.exit_code == 2 and "data file `gone.csv` not found" in r.output, r.output
    _located(r.output, "model.yaml", "fits.os.km")
    model.write_text(text.replace("    km: os_km.csv", "    data: ipd.csv\n    km: os_km.csv"))
    r = runner.invoke(app, ["run", str(cfg), "-q"])
    assert r.exit_code == 2 and "give either `data`" in r.output and r.output.count("\n") == 1, r.output
    r = runner.invoke(app, ["fit", "--km", str(tmp_path / "os_km.csv"), "--at-risk", str(tmp_path / "os_risk.csv"),
                            "--arm", "arm", "--yaml", str(tmp_path / "x.yaml")])
    assert r.exit_code == 2 and "--arm, --joint and --weight need patient-level data" in r.output, r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output
