"""Dask executor benchmark (called by bench/run.py in a fresh process; needs ces[dask]).

1. A sweep of 24 tasks (3 configs × 8 cost discount rates, 5 WTPs): serial in this process
   against ``dask-local:2`` (a LocalCluster of 2 one-thread worker processes).
2. A 200,000-draw PSA of Sick-Sicker (4 strategies): ``run_psa`` in this process (numba
   threads = all cores) against the same PSA split into 2,000-draw chunk tasks on the cluster;
   the merged per-draw totals are checked to be bit-identical.

Overhead per task (formula): with W one-thread workers, T_1 the in-process time with one numba
thread (the same per-task computation as a worker's) and T_dask the cluster's wall time for n
tasks, overhead = (W · T_dask − T_1) / n: the worker-seconds a task costs beyond its own
computation (shipping the task and its bundle, scheduling, result transfer, idle time at the
end).  The in-process time with all numba threads is shown too (what one machine does without
Dask).  Also shown: the round trip of a no-op task (scheduling alone).  Cluster start-up
(process spawn, imports, numba warm-up) is reported separately; it is paid once per session.
On a shared machine other processes' load inflates every number; ``uptime``'s load is printed.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPS = int(os.environ.get("BENCH_REPS", "3"))
W = 2


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from ces.engine.psa import run_psa
    from ces.executors import SerialExecutor, make_executor
    from ces.pipeline import build
    from ces.remote import ChunkedPsa
    from ces.studies.sweep import sweep

    cfgs = [str(ROOT / "configs" / c) for c in ("hiv_dsa.yaml", "sick_sicker.yaml", "cart_lbcl.yaml")]
    grid = {"discount.costs": [0.0, 0.01, 0.015, 0.02, 0.03, 0.035, 0.04, 0.05]}
    wtps = [0.0, 25000.0, 50000.0, 100000.0, 150000.0]
    n_tasks = len(cfgs) * len(grid["discount.costs"])

    import numba

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    def threads(k: int, fn) -> float:
        numba.set_num_threads(k)
        try:
            return statistics.median(timed(fn) for _ in range(REPS))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)

    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    sweep(cfgs, grid, wtps, SerialExecutor())  # warm caches (numba, imports)
    t_serial = threads(numba.config.NUMBA_NUM_THREADS, lambda: sweep(cfgs, grid, wtps, SerialExecutor()))
    t_serial1 = threads(1, lambda: sweep(cfgs, grid, wtps, SerialExecutor()))
    t0 = time.perf_counter()
    ex = make_executor(f"dask-local:{W}")
    t_start = time.perf_counter() - t0
    with ex:
        sweep(cfgs, grid, wtps, ex)  # each worker builds its caches once
        t_dask = statistics.median(timed(lambda: sweep(cfgs, grid, wtps, ex)) for _ in range(REPS))
        same = sweep(cfgs, grid, wtps, ex).equals(sweep(cfgs, grid, wtps, SerialExecutor()))
        print(f"sweep of {n_tasks} tasks (3 configs x 8 discount rates x 5 WTPs), median of {REPS}:")
        print(f"  serial {t_serial:.2f} s ({numba.config.NUMBA_NUM_THREADS} numba threads), {t_serial1:.2f} s (1 thread); "
              f"dask-local:{W} {t_dask:.2f} s; overhead per task {(W * t_dask - t_serial1) / n_tasks * 1000:.0f} ms; "
              f"same table: {same}")
        t_noop = statistics.median(timed(lambda: ex.map(_noop, range(n_tasks))) for _ in range(REPS))
        print(f"  no-op round trip: {t_noop / n_tasks * 1000:.1f} ms per task ({n_tasks} tasks in {t_noop:.2f} s)")
        print(f"  LocalCluster start with numba warm-up: {t_start:.1f} s (once per session)")

        n, chunk, seed = int(os.environ.get("BENCH_DASK_DRAWS", "200000")), 2000, 2026
        path = ROOT / "configs" / "sick_sicker.yaml"
        _, model = build(path)
        run_psa(model, 2 * chunk, seed, chunk)  # warm
        runner = ChunkedPsa(ex, path)
        runner(model, 2 * chunk, seed, chunk)  # each worker builds the model once
        out = {}
        tl = threads(numba.config.NUMBA_NUM_THREADS, lambda: out.setdefault("a", run_psa(model, n, seed, chunk)))
        tl1 = threads(1, lambda: run_psa(model, n, seed, chunk))
        td = statistics.median(timed(lambda: out.__setitem__("b", runner(model, n, seed, chunk))) for _ in range(REPS))
        a, b = out["a"], out["b"]
        same = all(np.array_equal(a.totals[s], b.totals[s]) and np.array_equal(a.totals_undisc[s], b.totals_undisc[s])
                   for s in a.strategies)
        tasks = -(-n // chunk)
        print(f"PSA of {n:,} draws of Sick-Sicker (4 strategies), {tasks} chunk tasks of {chunk:,}, median of {REPS}:")
        print(f"  local {tl:.2f} s ({numba.config.NUMBA_NUM_THREADS} numba threads), {tl1:.2f} s (1 thread); "
              f"dask-local:{W} {td:.2f} s; overhead per task {(W * td - tl1) / tasks * 1000:.0f} ms; "
              f"bit-identical: {same}; retried {ex.retried}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _noop(x):
    return x


if __name__ == "__main__":
    main()
