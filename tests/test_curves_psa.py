"""`psa: {curves: bootstrap | mvn | hessian, B}` in an analysis config: the run refits the model's curves from the
`fits:` recipe that `ces fit --yaml` records (issue 14, item 4; ces/survival/boot_run.py)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import yaml

from ces.cli import app
from tests.test_fit_bootstrap import ENDPOINTS, _model, _trial


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("CES_CACHE_DIR", str(d))
    return d / "bootstrap"


def _fit(runner, data, out, *extra):
    r = runner.invoke(app, ["fit", str(data), *ENDPOINTS, "--families", "weibull", "--no-cure", "--yaml", str(out),
                            *extra])
    assert r.exit_code == 0, r.output


def _setup(runner, tmp_path, *extra, n=200, progression=20.0, seed=7):
    data = tmp_path / "t.csv"
    _trial(data, seed, n, progression)
    _fit(runner, data, tmp_path / "curves.yaml", *extra)
    return data, _model(tmp_path, tmp_path / "curves.yaml", "model.yaml")


def _config(tmp_path, psa: str, name="cfg.yaml"):
    path = tmp_path / name
    path.write_text(f"ces: 1\nmodel: model.yaml\nwtp: 50000\npsa: {psa}\n")
    return path


@pytest.fixture
def counter(monkeypatch):
    """Counts the refits (ces.survival.boot_run.replay)."""
    from ces.survival import boot_run

    calls = []
    real = boot_run.replay

    def counted(*a, **k):
        calls.append(a[2])  # B
        return real(*a, **k)

    monkeypatch.setattr(boot_run, "replay", counted)
    return calls


def test_recipe_recorded_and_validated(runner, tmp_path):
    """`ces fit --yaml` records the recipe: data path relative to the block, its SHA-256, columns, models, the PSA
    entries it wrote; the model validates with it."""
    import hashlib

    data, model = _setup(runner, tmp_path)
    rec = yaml.safe_load((tmp_path / "curves.yaml").read_text())["fits"]["pfs_os"]
    assert rec["data"] == "t.csv" and rec["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert rec["endpoints"] == [{"name": "pfs", "time": "pfs", "event": "pfs_e", "model": "weibull"},
                                {"name": "os", "time": "os", "event": "os_e", "model": "weibull"}]
    assert rec["parameters"] == ["pfs_coef", "os_coef"] and rec["families"] == ["weibull"] and rec["cure"] is False
    assert runner.invoke(app, ["validate", str(model)]).exit_code == 0


def test_same_replicates_as_ces_fit_bootstrap(runner, tmp_path, cache, counter):
    """One definition: the run-time replicates file is byte for byte the one `ces fit --bootstrap B --seed S` writes
    (S = the run's PSA seed); on a model written with `--bootstrap B --seed S` the config's `curves: bootstrap`
    gives exactly the PSA of the model as written."""
    from ces.pipeline import run

    data, model = _setup(runner, tmp_path, "--bootstrap", "25", "--seed", "5")
    cfg = _config(tmp_path, "{draws: 150, seed: 5, curves: bootstrap, B: 25}")
    a = run(cfg)
    assert counter == [25]
    (rows,) = cache.glob("*.csv")
    assert rows.read_text() == (tmp_path / "curves_bootstrap.csv").read_text()
    b = run(_config(tmp_path, "{draws: 150, seed: 5}", "plain.yaml"))
    for s in a.psa.totals:
        np.testing.assert_array_equal(a.psa.totals[s], b.psa.totals[s])
    # provenance: the patient data with its SHA-256
    from ces.report.provenance import inputs

    rows_in = {i["role"]: i for i in inputs(a)}
    assert rows_in["patient_data"]["path"] == str(data.resolve())
    assert rows_in["patient_data"]["sha256"] == yaml.safe_load((tmp_path / "curves.yaml").read_text())[
        "fits"]["pfs_os"]["sha256"]
    # another seed: other replicates (the seed reaches the resampling)
    c = run(cfg, seed=6)
    assert counter == [25, 25] and not np.array_equal(a.psa.totals["soc"], c.psa.totals["soc"])


def test_cache_hit_then_invalidated_by_new_data(runner, tmp_path, cache, counter):
    from ces.pipeline import run

    data, model = _setup(runner, tmp_path)
    cfg = _config(tmp_path, "{draws: 100, seed: 2, curves: bootstrap, B: 20}")
    a = run(cfg)
    b = run(cfg)
    assert counter == [20]  # the second run read the cache
    np.testing.assert_array_equal(a.psa.totals["new"], b.psa.totals["new"])
    # the data change: the recorded SHA-256 no longer matches -> error until refitted
    _trial(data, 8, 200, 20.0)
    r = runner.invoke(app, ["run", str(cfg), "-q"])
    assert r.exit_code == 2 and "has changed since `ces fit` recorded it" in r.output
    assert "model.yaml" in r.output and "fits.pfs_os.sha256" in r.output, r.output
    _fit(runner, data, tmp_path / "curves.yaml")
    _model(tmp_path, tmp_path / "curves.yaml", "model.yaml")
    c = run(cfg)
    assert counter == [20, 20] and len(list(cache.glob("*.csv"))) == 2
    assert not np.array_equal(a.psa.totals["new"], c.psa.totals["new"])


def test_bit_identical_for_threads_and_chunks(runner, tmp_path, monkeypatch):
    """--threads 1 (serial refits) and 2 (a process pool of 2, 8 blocks), chunk 300 and 70: the same replicates
    and the same PSA results."""
    _setup(runner, tmp_path, n=150)
    rows = threads_and_chunks_agree(runner, tmp_path, monkeypatch,
                                    _config(tmp_path, "{draws: 300, seed: 4, curves: bootstrap, B: 20}"))
    assert len(rows) == 1


def threads_and_chunks_agree(runner, tmp_path, monkeypatch, cfg) -> list:
    """Runs ``cfg`` with --threads 1 --chunk 300 and --threads 2 --chunk 70 (fresh caches); asserts the same
    replicates files and the same PSA and base case; returns the replicates files' texts."""
    docs, rows = [], []
    for i, extra in enumerate((["--threads", "1", "--chunk", "300"], ["--threads", "2", "--chunk", "70"])):
        d = tmp_path / f"cache{i}"
        monkeypatch.setenv("CES_CACHE_DIR", str(d))
        r = runner.invoke(app, ["run", str(cfg), "-q", "--json", str(tmp_path / f"r{i}.json"), *extra])
        assert r.exit_code == 0, r.output
        docs.append(json.loads((tmp_path / f"r{i}.json").read_text()))
        rows.append(sorted(p.read_text() for p in (d / "bootstrap").glob("*.csv")))
    assert rows[0] and rows[0] == rows[1]
    assert docs[0]["psa"].pop("chunk") == 300 and docs[1]["psa"].pop("chunk") == 70
    assert docs[0]["psa"] == docs[1]["psa"] and docs[0]["base_case"] == docs[1]["base_case"]
    return rows[0]


def _located(out: str, file: str, where: str) -> None:
    """One line: ``error: FILE:LINE KEY.PATH: message``, no traceback."""
    assert re.search(rf"{re.escape(file)}:\d+ {re.escape(where)}: ", out) and out.count("\n") == 1, out
    assert "Traceback" not in out


def _capped(res) -> int:
    counts = [int(re.search(r"capped in ([\d,]+) of", w["message"]).group(1).replace(",", ""))
              for w in res.warnings if w["code"] == "psm_capped" and w["message"].startswith("`soc`")]
    return counts[0] if counts else 0


def test_correlation_kept(runner, tmp_path):
    """Rare progression: PFS ≈ OS patient by patient.  The model's own blocks (one mvnormal per curve, and the
    config's `curves: hessian`) draw them independently and cross often; `curves: bootstrap` / `mvn` refit both
    on the same resampled patients and cross far less.  The base case is the model's in every form."""
    from ces.pipeline import run

    _setup(runner, tmp_path, n=300, progression=150.0, seed=4)
    res = {form: run(_config(tmp_path, "{draws: 400, seed: 3" + (f", curves: {form}" if form else "") +
                             (", B: 60" if form in ("bootstrap", "mvn") else "") + "}", f"{form}.yaml"))
           for form in (None, "hessian", "bootstrap", "mvn")}
    capped = {k: _capped(v) for k, v in res.items()}
    assert capped[None] > 40 and capped["hessian"] > 40, capped
    assert capped["bootstrap"] < capped[None] / 2 and capped["mvn"] < capped[None] / 2, capped
    for v in res.values():
        assert v.totals.equals(res[None].totals)
    entry = res["mvn"].model.model_defs["os_log_scale"]
    assert entry.dist.name == "mvnormal" and entry.group == "pfs_coef"  # one joint entry over both curves


@pytest.mark.parametrize("psa,fragment,where", [
    ("{curves: bootstrap, B: 1}", "greater than or equal to 2", "psa.B"),
    ("{curves: bootstrap, B: 100001}", "less than or equal to 100000", "psa.B"),
    ("{curves: bootstrap, B: 2.5}", "valid integer", "psa.B"),
    ("{B: 50}", "`B` needs `curves: bootstrap`", "psa"),
    ("{curves: jackknife}", "expected 'bootstrap', 'mvn' or 'hessian'", "psa.curves"),
])
def test_config_errors(runner, tmp_path, psa, fragment, where):
    _setup(runner, tmp_path, n=60)
    r = runner.invoke(app, ["run", str(_config(tmp_path, psa)), "-q"])
    assert r.exit_code == 2 and fragment in r.output, r.output
    _located(r.output, "cfg.yaml", where)


@pytest.mark.parametrize("old,new,fragment,where", [
    ("data: t.csv", "data: gone.csv", "data file `gone.csv` not found", "fits.pfs_os.data"),
    ("data: t.csv", "data: /etc/passwd", "outside the model's and the config's folders", "fits.pfs_os.data"),
    ("    sha256: ", "    sha256: x", "should match pattern", "fits.pfs_os.sha256"),
    ("    parameters: [pfs_coef, os_coef]", "    parameters: [pfs_shape, os_coef]", "not a joint parameter entry",
     "fits.pfs_os.parameters[0]"),
    ("{name: os, time: os, event: os_e, model: weibull}", "{name: os, time: os, event: os_e, model: lognormal}",
     "the refit chooses `weibull`, the recipe records `lognormal`", "psa.curves"),
])
def test_recipe_errors(runner, tmp_path, old, new, fragment, where):
    _, model = _setup(runner, tmp_path, n=60)
    text = model.read_text()
    assert old in text
    model.write_text(text.replace(old, new))
    cfg = _config(tmp_path, "{draws: 20, curves: bootstrap, B: 5}")
    r = runner.invoke(app, ["run", str(cfg), "-q"])
    assert r.exit_code == 2 and fragment in r.output, r.output
    _located(r.output, "cfg.yaml" if where == "psa.curves" else "model.yaml", where)
    if where != "psa.curves":  # `ces validate` finds it without fitting
        v = runner.invoke(app, ["validate", str(cfg)])
        assert v.exit_code == 2 and fragment in v.output, v.output


def test_model_without_recipe(runner, tmp_path):
    _, model = _setup(runner, tmp_path, n=60)
    data = yaml.safe_load(model.read_text())
    del data["fits"]
    model.write_text(yaml.safe_dump(data, sort_keys=False))
    r = runner.invoke(app, ["run", str(_config(tmp_path, "{draws: 20, curves: bootstrap, B: 5}")), "-q"])
    assert r.exit_code == 2 and "needs the model's `fits:` recipe" in r.output, r.output
    _located(r.output, "cfg.yaml", "psa.curves")
    v = runner.invoke(app, ["validate", str(tmp_path / "cfg.yaml")])
    assert v.exit_code == 2 and "needs the model's `fits:` recipe" in v.output


@pytest.mark.parametrize("form", ["bootstrap", "mvn"])
def test_dask_executor_equals_local(runner, tmp_path, tmp_path_factory, monkeypatch, form):
    """`--executor dask-local:2`: the workers rebuild the model with the refitted entries (the replicates file
    travels in the bundle, from a cache outside the model's folder), so the draws are bit for bit those of a local
    run, and not those of the model's own per-curve blocks."""
    pytest.importorskip("distributed")
    _setup(runner, tmp_path, n=80)
    monkeypatch.setenv("CES_CACHE_DIR", str(tmp_path_factory.mktemp("elsewhere")))
    cfg = _config(tmp_path, "{draws: 120, seed: 3, chunk: 50, curves: %s, B: 12}" % form)
    _config(tmp_path, "{draws: 120, seed: 3, chunk: 50}", "plain.yaml")
    out = {}
    for tag, c, extra in (("local", cfg, []), ("dask", cfg, ["--executor", "dask-local:2"]),
                          ("plain", tmp_path / "plain.yaml", [])):
        r = runner.invoke(app, ["run", str(c), "-q", "--threads", "1", "--draws-out", str(tmp_path / f"{tag}.csv"),
                                *extra])
        assert r.exit_code == 0, r.output
        out[tag] = (tmp_path / f"{tag}.csv").read_bytes()
    assert out["dask"] == out["local"] and out["local"] != out["plain"]


def test_sweep_on_dask_equals_local(runner, tmp_path, tmp_path_factory, monkeypatch):
    """`ces sweep --executor dask-local:2` with `psa.curves`: the recipe's data file travels in each task's
    bundle (it was missing, so every grid point failed with `data file not found`), and the sweep table is
    byte-identical to a local sweep."""
    pytest.importorskip("distributed")
    _setup(runner, tmp_path, n=80)
    monkeypatch.setenv("CES_CACHE_DIR", str(tmp_path_factory.mktemp("elsewhere")))
    cfg = _config(tmp_path, "{draws: 60, seed: 3, chunk: 50, curves: bootstrap, B: 6}")
    out = {}
    for tag, extra in (("local", []), ("dask", ["--executor", "dask-local:2"])):
        r = runner.invoke(app, ["sweep", str(cfg), "--grid", "os_shape=1.1,1.2", "--draws", "60", "--out",
                                str(tmp_path / tag), *extra])
        assert r.exit_code == 0, r.output
        out[tag] = (tmp_path / tag / "sweep.csv").read_bytes()
    assert out["dask"] == out["local"]


def test_unreadable_cache_entry_is_refitted(runner, tmp_path, cache, counter):
    from ces.pipeline import run

    _setup(runner, tmp_path, n=80)
    cfg = _config(tmp_path, "{draws: 50, seed: 2, curves: mvn, B: 10}")
    a = run(cfg)
    (meta,) = cache.glob("*.json")
    meta.write_text("{not json")
    b = run(cfg)
    assert counter == [10, 10] and json.loads(meta.read_text())["boot_cov"]
    np.testing.assert_array_equal(a.psa.totals["soc"], b.psa.totals["soc"])


def test_merge_carries_the_recipe(runner, tmp_path):
    """`ces fit --merge MODEL` writes the recipe into the merged model, next to the data path it names."""
    from tests.test_fit_cli import MODEL_HEAD

    data = tmp_path / "t.csv"
    _trial(data, 3, 80, 20.0)
    base = tmp_path / "base.yaml"
    base.write_text(MODEL_HEAD + "curves:\n  pfs: {dist: exponential, rate: 0.1}\n  os: {dist: exponential, rate: 0.05}\n")
    out = tmp_path / "fit" / "curves.yaml"
    _fit(runner, data, out, "--merge", str(base))
    merged = yaml.safe_load((tmp_path / "fit" / "curves_model.yaml").read_text())
    assert merged["fits"]["pfs_os"]["data"] == "../t.csv"
    (tmp_path / "fit" / "cfg.yaml").write_text("ces: 1\nmodel: curves_model.yaml\nallow_paths: [..]\n"
                                               "psa: {draws: 30, curves: bootstrap, B: 5}\n")
    r = runner.invoke(app, ["run", str(tmp_path / "fit" / "cfg.yaml"), "-q", "--threads", "1"])
    assert r.exit_code == 0, r.output


def test_two_bootstrap_blocks_in_one_model(runner, tmp_path, counter):
    """Two `ces fit --bootstrap --yaml` blocks in one model (two trials: PFS + OS of one, time on treatment of the
    other).  Each names its joint PSA entry after its fit (`pfs_os_coef`, `ttd_coef`; both were `fit_coef`), so the
    blocks combine unchanged: the model validates and runs as written, and `curves: bootstrap` refits both recipes
    and gives exactly that PSA.  A block written with the older name `fit_coef` still loads and runs."""
    from ces.pipeline import run
    from tests.test_fit_cli import MODEL_HEAD

    _trial(tmp_path / "t.csv", 7, 120, 20.0)
    _trial(tmp_path / "d.csv", 8, 100, 10.0)
    _fit(runner, tmp_path / "t.csv", tmp_path / "a.yaml", "--bootstrap", "15", "--seed", "5")
    r = runner.invoke(app, ["fit", str(tmp_path / "d.csv"), "--time", "pfs", "--event", "pfs_e", "--name", "ttd",
                            "--families", "weibull", "--no-cure", "--yaml", str(tmp_path / "b.yaml"),
                            "--bootstrap", "15", "--seed", "5"])
    assert r.exit_code == 0, r.output
    a, b = (yaml.safe_load((tmp_path / f"{n}.yaml").read_text()) for n in ("a", "b"))
    assert a["fits"]["pfs_os"]["parameters"] == ["pfs_os_coef"] and a["parameters"]["pfs_os_coef"]["dist"] == "bootstrap"
    assert b["fits"]["ttd"]["parameters"] == ["ttd_coef"] and b["parameters"]["ttd_coef"]["dist"] == "bootstrap"
    assert not set(a["parameters"]) & set(b["parameters"])

    def write(name, blocks):
        model = {k: {key: v for blk in blocks for key, v in blk[k].items()} for k in ("parameters", "curves", "fits")}
        model["parameters"]["c_drug"] = 2000
        (tmp_path / name).write_text(MODEL_HEAD + "curve_costs: {ttd: {drug: c_drug}}\n"
                                     + yaml.safe_dump(model, sort_keys=False, default_flow_style=None))

    write("model.yaml", [a, b])
    assert runner.invoke(app, ["validate", str(tmp_path / "model.yaml")]).exit_code == 0
    refit = run(_config(tmp_path, "{draws: 80, seed: 5, curves: bootstrap, B: 15}"))
    assert counter == [15, 15]  # one refit per recipe
    plain = run(_config(tmp_path, "{draws: 80, seed: 5}", "plain.yaml"))
    for res in (refit, plain):
        defs = res.model.model_defs
        assert defs["os_log_scale"].group == "pfs_os_coef" and defs["ttd_log_scale"].group == "ttd_coef"
    for s in plain.psa.totals:
        np.testing.assert_array_equal(refit.psa.totals[s], plain.psa.totals[s])
    assert np.std(plain.psa.totals["soc"][:, plain.model.streams.index("drug")]) > 0  # the ttd entry is drawn
    # the older name: the entry and its recipe's `parameters` say `fit_coef`
    a["parameters"]["fit_coef"] = a["parameters"].pop("pfs_os_coef")
    a["fits"]["pfs_os"]["parameters"] = ["fit_coef"]
    write("legacy.yaml", [a, b])
    assert runner.invoke(app, ["validate", str(tmp_path / "legacy.yaml")]).exit_code == 0
    runs = []
    for psa in ("{draws: 80, seed: 5, curves: bootstrap, B: 15}", "{draws: 80, seed: 5}"):
        cfg = tmp_path / "legacy_cfg.yaml"
        cfg.write_text(f"ces: 1\nmodel: legacy.yaml\nwtp: 50000\npsa: {psa}\n")
        runs.append(run(cfg))
        assert runs[-1].model.model_defs["os_log_scale"].group == "fit_coef"
    for s in runs[0].psa.totals:
        np.testing.assert_array_equal(runs[0].psa.totals[s], runs[1].psa.totals[s])
