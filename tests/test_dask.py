"""The Dask executor on a real dask.distributed.LocalCluster of 2 worker processes (no mocks).

One cluster per module (starting one costs seconds).  The worker-loss test kills a worker, so
it runs last of the cluster tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from ces.bundle import localise, make_bundle, materialise  # noqa: E402
from ces.cli import app  # noqa: E402
from ces.errors import CesError  # noqa: E402
from ces.executors import DaskExecutor, SerialExecutor  # noqa: E402
from ces.pipeline import run  # noqa: E402
from ces.remote import ChunkedPsa  # noqa: E402
from ces.studies.sweep import Task, run_task, sweep  # noqa: E402
from tests.conftest import CONFIGS, MODELS  # noqa: E402

CFGS = [str(CONFIGS / "hiv_dsa.yaml"), str(CONFIGS / "sick_sicker.yaml"), str(CONFIGS / "cart_lbcl.yaml")]
WTPS = [0.0, 25000.0, 50000.0, 100000.0, 150000.0]
PSA_CFG = str(CONFIGS / "sick_sicker.yaml")
N_DRAWS, SEED, CHUNK = 20_000, 2026, 2000


@pytest.fixture(scope="module")
def cluster():
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield c
    c.close()


@pytest.fixture(scope="module")
def dask_ex(cluster):
    ex = DaskExecutor(distributed.Client(cluster))
    yield ex
    ex.client.close()


@pytest.fixture(scope="module")
def local_psa():
    """The reference: the 20,000-draw PSA in this process."""
    return run(PSA_CFG, draws=N_DRAWS, seed=SEED, chunk=CHUNK)


def _same_psa(a, b) -> None:
    assert a.psa.strategies == b.psa.strategies and a.psa.n_draws == b.psa.n_draws == N_DRAWS
    for s in a.psa.strategies:
        assert np.array_equal(a.psa.totals[s], b.psa.totals[s])  # bit for bit
    assert a.psa.totals_undisc == b.psa.totals_undisc == {}  # kept only on request (run_psa(undiscounted=True))
    assert a.psa.sample_names == b.psa.sample_names and np.array_equal(a.psa.samples, b.psa.samples)
    for name, t in a.psa_tables.items():
        pd.testing.assert_frame_equal(t, b.psa_tables[name], check_exact=True)
    assert a.psa_perspectives.keys() == b.psa_perspectives.keys()
    for key, tables in a.psa_perspectives.items():  # every perspective's tables, not only the payer's
        for name, t in tables.items():
            pd.testing.assert_frame_equal(t, b.psa_perspectives[key][name], check_exact=True)


def test_sweep_on_cluster_equals_serial(dask_ex):
    grid = {"discount.costs": [0.03, 0.05]}
    serial = sweep(CFGS, grid, WTPS, SerialExecutor())
    progress = []
    on_dask = sweep(CFGS, grid, WTPS, dask_ex, on_done=lambda done, total: progress.append((done, total)))
    assert progress == [(k, 6) for k in range(1, 7)]  # one call per finished future
    assert len(serial) == 5 * 2 * (2 + 4 + 2) and on_dask.attrs["errors"] == []
    pd.testing.assert_frame_equal(serial, on_dask, check_exact=True)


def test_psa_split_over_cluster_is_bit_identical(dask_ex, local_psa):
    seen = []
    res = run(PSA_CFG, draws=N_DRAWS, seed=SEED, chunk=CHUNK, psa_runner=ChunkedPsa(dask_ex, PSA_CFG),
              on_chunk=lambda done, total: seen.append((done, total)))
    _same_psa(local_psa, res)
    # progress comes from the futures: one call per chunk task, draws counted up to the total
    assert len(seen) == N_DRAWS // CHUNK and seen[-1] == (N_DRAWS, N_DRAWS)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_cli_run_on_scheduler_writes_the_local_outputs(cluster, runner, tmp_path, monkeypatch):
    local, remote = tmp_path / "local", tmp_path / "dask"
    args = ["run", PSA_CFG, "--draws", "2000", "--chunk", "1000", "-q"]
    assert runner.invoke(app, args + ["--out", str(local)]).exit_code == 0
    monkeypatch.setenv("CES_DASK_SCHEDULER", cluster.scheduler_address)
    r = runner.invoke(app, args + ["--out", str(remote), "--executor", "dask"])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in local.iterdir())
    assert names == sorted(p.name for p in remote.iterdir())
    for name in names:
        if name.endswith(".xlsx"):  # a zip: its entries carry the time of writing; compare the sheets
            a, b = (pd.read_excel(d / name, sheet_name=None) for d in (local, remote))
            assert a.keys() == b.keys() and all(a[k].equals(b[k]) for k in a)
        elif name == "report.html":  # carries the manifest's date and run time; everything else (figures too) equal
            import re

            a, b = (re.sub(r"\d{4}-\d\d-\d\dT[\d:+]*|run seconds</th><td>[^<]*", "", (d / name).read_text())
                    for d in (local, remote))
            assert a == b
        elif name != "manifest.json":
            assert (local / name).read_bytes() == (remote / name).read_bytes(), name
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (local, remote))
    for key in ("date_utc", "run_seconds"):
        ma.pop(key), mb.pop(key)
    assert ma == mb  # same files, same hashes, same seed and draws


def test_bundle_carries_the_inputs_and_checks_hashes(dask_ex, tmp_path):
    """A model with a CSV table, run from its bundle after the files are gone (no shared file system)."""
    src = tmp_path / "src"
    (src / "tables").mkdir(parents=True)
    shutil.copy(MODELS / "thr_dmhee.yaml", src / "thr.yaml")
    shutil.copy(MODELS / "tables" / "thr_mortality_dmhee.csv", src / "tables")
    expected = run_task(Task(str(src / "thr.yaml"), (), (20000.0,), None, None))
    b = make_bundle(src / "thr.yaml")
    assert sorted(r for r, _ in b.files) == ["tables/thr_mortality_dmhee.csv", "thr.yaml"]
    shutil.rmtree(src)
    [got] = dask_ex.map(run_task, [Task(str(src / "thr.yaml"), (), (20000.0,), None, None, b)])
    assert got == expected
    from dataclasses import replace

    with pytest.raises(CesError, match="does not match its hash"):
        materialise(replace(b, files=((b.files[0][0], b.files[0][1] + b" "),) + b.files[1:]))
    with pytest.raises(CesError, match="the client ces 0.0.0: install the same version"):
        materialise(replace(b, version="0.0.0"))


def _bad_config(tmp_path):
    shutil.copy(MODELS / "sick_sicker.yaml", tmp_path / "model.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("ces: 1\nmodel: model.yaml\nsettings:\n  discount: {costs: 0.03, efects: 0.03}\n")
    return bad


def test_bad_config_reports_its_error_and_the_others_finish(cluster, dask_ex, runner, tmp_path):
    bad = _bad_config(tmp_path)
    local = runner.invoke(app, ["run", str(bad), "-q"])
    assert local.exit_code == 2
    one_line = local.stderr.strip()
    assert one_line.count("\n") == 0 and str(bad) in one_line and "efects" in one_line
    out = tmp_path / "s"  # --out is a directory: the table is out/sweep.csv
    args = ["sweep", CFGS[0], str(bad), CFGS[1], "--grid", "discount.costs=0.03,0.05", "--wtp", "0:50000:25000",
            "-q", "--executor", "dask", "--scheduler", cluster.scheduler_address]
    r = runner.invoke(app, args + ["--out", str(out)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    # the same one-line error as a local run (file names as typed), once per grid point, then a count
    assert lines[:2] == [f"{one_line} (grid point discount.costs={v})" for v in ("0.03", "0.05")]
    assert lines[-1] == "2 of 6 runs failed"
    table = pd.read_csv(out / "sweep.csv")
    assert sorted(set(table["config"])) == sorted([CFGS[0], CFGS[1]]) and len(table) == 3 * 2 * (2 + 4)
    # a missing file in the batch: its own error too (the bundle cannot be made on the client)
    missing = sweep([CFGS[0], str(tmp_path / "gone.yaml")], {}, [0.0], dask_ex)
    [e] = missing.attrs["errors"]
    assert e.message == f"{tmp_path / 'gone.yaml'}: file not found" and set(missing["config"]) == {CFGS[0]}
    (out / "sweep.csv").unlink()
    r = runner.invoke(app, args + ["--out", str(out), "--fail-fast"])
    assert r.exit_code == 2 and r.stderr.strip() == one_line and not (out / "sweep.csv").exists()


def test_localise_maps_worker_paths_back(tmp_path):
    bad = _bad_config(tmp_path)
    b = make_bundle(bad)
    entry = materialise(b)
    with pytest.raises(CesError) as info:
        run(entry)
    assert str(localise(info.value, b, entry)) == str(pytest.raises(CesError, run, bad).value)


def test_worker_killed_mid_run_is_retried_and_result_unchanged(dask_ex, local_psa):
    pids = dask_ex.client.run(os.getpid)
    killed = []

    def kill_one(done, total):
        if not killed:  # the first chunk is back: the other tasks are queued on or running on both workers
            pid = next(iter(pids.values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    res = run(PSA_CFG, draws=N_DRAWS, seed=SEED, chunk=CHUNK, psa_runner=ChunkedPsa(dask_ex, PSA_CFG),
              on_chunk=kill_one)
    assert killed and dask_ex.retried >= 1
    _same_psa(local_psa, res)


def test_executor_flags_are_checked(monkeypatch):
    from ces.executors import make_executor

    monkeypatch.delenv("CES_DASK_SCHEDULER", raising=False)
    for name, scheduler, msg in [("dask", None, "needs --scheduler"), ("dask-local:x", None, "worker count"),
                                 ("dask-local:0", None, "worker count"), ("spark", None, "allowed: local, dask"),
                                 ("local", "tcp://h:8786", "--scheduler needs --executor dask")]:
        with pytest.raises(CesError, match=msg):
            make_executor(name, scheduler)


def test_merge_of_parts_in_any_order_equals_one_run():
    from ces.engine.psa import merge_psa, run_psa
    from ces.pipeline import build

    _, model = build(CONFIGS / "cart_lbcl.yaml")  # partitioned survival: crossing counts are merged too
    whole = run_psa(model, 700, 5, chunk=300, undiscounted=True)
    parts = [(a, run_psa(model, min(700, a + 250) - a, 5, chunk=100, first=a, undiscounted=True))
             for a in (500, 0, 250)]
    merged = merge_psa(parts, 700)
    for s in whole.strategies:
        assert np.array_equal(whole.totals[s], merged.totals[s])
        assert np.array_equal(whole.totals_undisc[s], merged.totals_undisc[s])
    assert whole.sample_names == merged.sample_names and whole.samples.shape[1] > 0
    assert np.array_equal(whole.samples, merged.samples)  # the sampled-parameter matrix (EVPPI, --draws-out)
    assert {s: (c.points, c.draws) for s, c in whole.crossing.items()} == \
        {s: (c.points, c.draws) for s, c in merged.crossing.items()}
    with pytest.raises(ValueError, match="cover 500 draws, expected 700"):
        merge_psa(parts[1:], 700)
