"""The output directory is one transaction: a SIGKILL at any moment leaves DIR entirely old or entirely new.

A `ces run --out DIR` subprocess is stopped at a named stage of the writer (CES_TEST_PAUSE_AT, see
ces.report.atomic) and killed there; DIR is then compared file by file with the old run and with a
reference copy of the new run.  The next run into DIR must remove every temporary folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ces.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _snapshot(d: Path) -> dict:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _comparable(snap: dict) -> dict:
    """Drop the files that legitimately differ between two identical runs (timestamps inside)."""
    return {k: v for k, v in snap.items() if k not in ("manifest.json", "results.xlsx", "report.html")}


def _debris(out: Path) -> list:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


@pytest.fixture
def scene(runner, tmp_path, small_model):
    """DIR holding an old PSA run, and a reference copy of the new (--no-psa) run."""
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(small_model), "--out", str(out), "--draws", "20", "-q"])
    assert r.exit_code == 0, r.stderr
    ref = tmp_path / "ref" / "new"
    r = runner.invoke(app, ["run", str(small_model), "--out", str(ref), "--no-psa", "-q"])
    assert r.exit_code == 0, r.stderr
    old, new = _snapshot(out), _snapshot(ref)
    assert any(k.startswith("psa_") for k in old) and not any(k.startswith("psa_") for k in new)
    return small_model, out, old, new


def _kill_at(stage: str, model: Path, out: Path, tmp: Path) -> None:
    marker = tmp / f"paused-{stage}"
    env = {**os.environ, "CES_TEST_PAUSE_AT": stage, "CES_TEST_PAUSE_FILE": str(marker),
           "CES_TEST_PAUSE_SECONDS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "ces.cli", "run", str(model), "--out", str(out), "--no-psa", "-q"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"writer ended before pausing at {stage}: {proc.stderr.read().decode()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"writer never reached {stage}")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)  # reaped: its PID is no longer alive for the stale-folder check
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("stage,expect", [("files", "old"), ("before_swap", "old"), ("after_swap", "new")])
def test_sigkill_leaves_old_or_new_never_a_mix(runner, tmp_path, scene, stage, expect):
    model, out, old, new = scene
    _kill_at(stage, model, out, tmp_path)
    got = _snapshot(out)
    if expect == "old":
        assert got == old
    else:
        assert _comparable(got) == _comparable(new) and set(got) == set(new)
    assert _debris(out), "the killed run should have left its temporary folder (else the test proves nothing)"
    r = runner.invoke(app, ["run", str(model), "--out", str(out), "--no-psa", "-q"])
    assert r.exit_code == 0, r.stderr
    assert _debris(out) == []
    got = _snapshot(out)
    assert _comparable(got) == _comparable(new) and set(got) == set(new)


def test_new_run_leaves_no_files_of_the_old_one(runner, scene):
    model, out, old, new = scene
    r = runner.invoke(app, ["run", str(model), "--out", str(out), "--no-psa", "-q"])
    assert r.exit_code == 0, r.stderr
    assert set(_snapshot(out)) == set(new)  # no psa_*.csv of the earlier PSA run


def test_two_rename_fallback_and_its_recovery(runner, scene, monkeypatch):
    """Without renameat2 the swap is two renames; a crash between them is repaired by the next run."""
    import ces.report.atomic as atomic

    model, out, old, new = scene
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    r = runner.invoke(app, ["run", str(model), "--out", str(out), "--no-psa", "-q"])
    assert r.exit_code == 0, r.stderr
    assert set(_snapshot(out)) == set(new) and _debris(out) == []
    # a crash after `DIR -> .DIR.ces-old-PID-x` and before the new folder was renamed in: DIR is missing
    dead_pid = 2 ** 22 + 12345  # above Linux's pid_max: never alive
    backup = out.parent / f".{out.name}.ces-old-{dead_pid}-abc"
    out.rename(backup)
    atomic.recover(out)
    assert set(_snapshot(out)) == set(new) and _debris(out) == []


def test_error_during_write_leaves_dir_untouched(runner, scene, monkeypatch):
    import ces.report.outputs as outputs

    model, out, old, new = scene

    def broken(run):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(outputs, "tables", broken)
    r = runner.invoke(app, ["run", str(model), "--out", str(out), "--no-psa", "-q"])
    assert r.exit_code == 2 and "No space left on device" in r.stderr and "left as it was" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert _snapshot(out) == old and _debris(out) == []
