"""`make bench`, first part: ces against the hand-written numba kernel (the speed floor) in one run.

When the shared bench material is present (``BENCH_FLOOR``, else ``../shared/bench/floor`` or
``../../shared/bench/floor`` from the repository root), runs ``floor_numba.py`` and ces
(bench/worker.py) on the shared-spec models A (bench/models/a_thr.yaml) and B (bench/models/b_psm.yaml)
at each draw count, with 1 and 2 numba threads (``NUMBA_NUM_THREADS``), each measurement a fresh
process, ces and floor interleaved so both see the same machine load; prints the median PSA time of
``BENCH_FLOOR_REPS`` (default 3) processes and the ratio ces/floor, and the speed-up of 2 threads
over 1.  Both times are in-process: sampling + simulation + totals, after a first (compile or cache
load) call.  Skipped, with a note, when the floor is absent.  The project never reads ../shared
anywhere else.  Not a test.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
REPS = int(os.environ.get("BENCH_FLOOR_REPS", "3"))
SIZES = [int(x) for x in os.environ.get("BENCH_FLOOR_SIZES", "10000,100000").split(",")]
THREADS = [int(x) for x in os.environ.get("BENCH_FLOOR_THREADS", "1,2").split(",")]
MODELS = {"A": HERE / "models" / "a_thr.yaml", "B": HERE / "models" / "b_psm.yaml"}


def floor_dir() -> Path | None:
    """The folder of floor_numba.py, or None when the shared bench material is absent."""
    env = os.environ.get("BENCH_FLOOR")
    cands = [Path(env)] if env else [ROOT.parent / "shared" / "bench" / "floor",
                                     ROOT.parent.parent / "shared" / "bench" / "floor"]
    return next((c for c in cands if (c / "floor_numba.py").is_file()), None)


def run_floor(floor: Path, model: str, n: int, env: dict) -> float:
    out = subprocess.run([PY, "floor_numba.py", "--model", model, "--n", str(n)], cwd=floor, env=env,
                         capture_output=True, text=True, check=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT_JSON "))
    return float(json.loads(line[len("RESULT_JSON "):])["psa_seconds"])


def run_ces(model: Path, n: int, env: dict) -> float:
    """ces's in-process PSA seconds of the model file ``model`` at ``n`` draws (bench/worker.py, a fresh process)."""
    out = subprocess.run([PY, str(HERE / "worker.py"), str(model), str(n), "2026"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["psa_s"])


def main() -> None:
    floor = floor_dir()
    if floor is None:
        print("ces vs the hand-written numba kernel: skipped (../shared/bench/floor not found; set BENCH_FLOOR)")
        return
    with tempfile.TemporaryDirectory() as cache:
        base = {**os.environ, "NUMBA_CACHE_DIR": cache, "CES_CACHE_DIR": cache}  # ../shared is read-only: the caches live here
        for model in MODELS:  # compile both once, so every timed process loads from a warm cache
            run_floor(floor, model, 100, base)
            run_ces(MODELS[model], 100, {**base, "CES_KERNEL": "generated"})
        print(f"\nces vs the hand-written numba kernel ({floor}/floor_numba.py), PSA seconds, median of {REPS} "
              f"fresh processes, interleaved")
        print(f"  {'model':<6} {'draws':>8} {'threads':>8} {'floor s':>9} {'ces s':>9} {'ces/floor':>10}")
        ces_t: dict = {}
        for model in MODELS:
            for n in SIZES:
                for t in THREADS:
                    env = {**base, "NUMBA_NUM_THREADS": str(t)}
                    fl, ce = [], []
                    for _ in range(REPS):
                        fl.append(run_floor(floor, model, n, env))
                        ce.append(run_ces(MODELS[model], n, env))
                    f, c = statistics.median(fl), statistics.median(ce)
                    ces_t[(model, n, t)] = c
                    print(f"  {model:<6} {n:>8,} {t:>8} {f:>9.3f} {c:>9.3f} {c / f:>9.2f}x", flush=True)
        if 1 in THREADS and 2 in THREADS:
            print("  ces speed-up of 2 threads over 1: " + ", ".join(
                f"{m} {n:,}: {ces_t[(m, n, 1)] / ces_t[(m, n, 2)]:.2f}x" for m in MODELS for n in SIZES))


if __name__ == "__main__":
    main()
