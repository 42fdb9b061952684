"""`make bench`: PSA speed of ces on the benchmark models, each measurement in fresh processes.

For each model and draw count: the median of REPS fresh processes (warm numba cache) of the PSA
wall time, draws per second and peak RSS; the numba first-call time on a cold cache (a new
NUMBA_CACHE_DIR) and on a warm one; a plain-numpy implementation of model (a) for comparison;
`ces run` end to end (process start included); a 1,000,000-draw run of a 4-state model for
memory; and the Dask executor (bench/dask_bench.py: a 24-task sweep serial against dask-local:2, a
200,000-draw PSA locally against Dask, overhead per task).  Not a test: CI does not run it.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
REPS = int(os.environ.get("BENCH_REPS", "3"))
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",")]
MODELS = {
    "(a) THR, 5 states, 60 yearly cycles, 2 strategies": HERE / "models" / "a_thr.yaml",
    "(b) Sick-Sicker, age-dep. mortality, 900 monthly cycles, 4 strategies": HERE / "models" / "b_sick_sicker_monthly.yaml",
    "(c) 3-state, 480 monthly cycles, 2 strategies": HERE / "models" / "c_three_state_monthly.yaml",
    "(B) shared spec model B: 3-state PSM, Weibull PFS/OS, 480 monthly cycles": HERE / "models" / "b_psm.yaml",
}
# peers' PSA times at 10,000 draws on this kind of machine (../shared/bench/README.md)
PEERS = {"(a)": "hesim 10.1 s, heormodel 8.2 s, pyheor 171 s, heemod ~620 s, plain numpy 0.40 s",
         "(B)": "hesim 21.4 s, pyheor ~1,540 s, heemod ~420 s, plain numpy 0.38 s"}


def worker(model: Path, n: int, seed: int = 2026, env: dict | None = None, numpy: bool = False) -> dict:
    cmd = [PY, str(HERE / "worker.py"), str(model), str(n), str(seed)] + (["--numpy"] if numpy else [])
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(rows: list, key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}; median of {REPS} fresh processes")
    env = dict(os.environ)
    header = f"{'model':<72} {'draws':>8} {'PSA s':>8} {'draws/s':>10} {'RSS MB':>8}"
    for label, path in MODELS.items():
        with tempfile.TemporaryDirectory() as cache:
            cold_env = {**env, "NUMBA_CACHE_DIR": cache}
            cold = worker(path, 100, env=cold_env)
            warm = worker(path, 100, env=cold_env)
        print(f"\n{label}\n  numba first call: cold cache {cold['first_call_s']:.2f} s, warm cache "
              f"{warm['first_call_s']:.3f} s (import {warm['import_s']:.2f} s, build {warm['build_s']:.3f} s)")
        if label[:3] in PEERS:
            print(f"  peers at 10,000 draws: {PEERS[label[:3]]}")
        print("  " + header)
        for n in SIZES:
            rows = [worker(path, n) for _ in range(REPS)]
            print(f"  {label[:3]:<72} {n:>8,} {median(rows, 'psa_s'):>8.3f} {median(rows, 'draws_per_s'):>10,.0f} "
                  f"{median(rows, 'peak_rss_mb'):>8.0f}")
            if label.startswith("(a)"):
                np_rows = [worker(path, n, numpy=True) for _ in range(REPS)]
                t_np, t_ces = median(np_rows, "psa_s"), median(rows, "psa_s")
                same = abs(np_rows[0]["mean_cost_first_strategy"] - rows[0]["mean_cost_first_strategy"]) < 1e-6
                print(f"  {'    plain numpy (vectorised over draws, no numba)':<72} {n:>8,} {t_np:>8.3f} "
                      f"{median(np_rows, 'draws_per_s'):>10,.0f} {median(np_rows, 'peak_rss_mb'):>8.0f}"
                      f"   ces is {t_np / t_ces:.1f}x faster; same mean cost: {same}")
    # end to end: `ces run` with 1,000 draws, warm cache, process start included
    ces = str(Path(PY).parent / "ces")
    cmd = [ces, "run", str(ROOT / "configs" / "sick_sicker.yaml"), "--draws", "1000", "-q"]
    subprocess.run(cmd, check=True, capture_output=True)
    times = []
    for _ in range(max(REPS, 5)):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    print(f"\n`ces run configs/sick_sicker.yaml --draws 1000` end to end (warm cache): median "
          f"{statistics.median(times):.2f} s over {len(times)} runs")
    evppi_case(env)
    if os.environ.get("BENCH_MILLION", "1") == "1":
        r = worker(ROOT / "models" / "sick_sicker.yaml", 1_000_000)
        print(f"1,000,000 draws of Sick-Sicker (4 states, 75 cycles, 4 strategies): {r['psa_s']:.1f} s, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
    if os.environ.get("BENCH_DASK", "1") == "1":
        print("\nDask executor (bench/dask_bench.py, a fresh process):", flush=True)
        subprocess.run([PY, str(HERE / "dask_bench.py")], cwd=ROOT, check=True)
    perspective_overhead()


EVPPI_CODE = """
import json, sys, time
from ces.analysis.voi_tables import evppi_items, evppi_tables
from ces.engine.psa import run_psa
from ces.pipeline import build
_, model = build(sys.argv[1])
psa = run_psa(model, 10_000, 2026)
s = psa.parameter_draws()
singles = ["r_HS1", "r_S1H", "r_S1S2", "hr_S1", "hr_S2", "c_trtA", "c_trtB", "u_S1", "u_S2", "u_trtA"]
items = evppi_items(s, singles, {"utilities": ["u_S1", "u_trtA"], "progression": ["r_S1S2", "hr_S1S2_trtB", "c_trtB"]})
wtp = [float(w) for w in range(0, 200_001, 25_000)]
evppi_tables(psa, s, "qaly", wtp, {"u_S1": items["u_S1"]}, 100_000.0, 10)  # warm-up (imports, numba cache)
t0, c0 = time.perf_counter(), time.process_time()
evppi_tables(psa, s, "qaly", wtp, items, 100_000.0, 100)
print(json.dumps({"evppi_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}))
"""


def evppi_case(env: dict) -> None:
    """EVPPI of 10 single parameters and 2 groups (2 and 3 parameters) at 10,000 draws, 9 WTP values,
    100 bootstrap resamples for the SEs (Sick-Sicker, 4 strategies); fresh processes, warm numba cache."""
    rows = []
    for _ in range(REPS):
        out = subprocess.run([PY, "-c", EVPPI_CODE, str(ROOT / "models" / "sick_sicker.yaml")], capture_output=True,
                             text=True, env=env, cwd=ROOT, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"\nEVPPI, 10 parameters + 2 groups (2 and 3 parameters), 10,000 draws, 9 WTP values, 4 strategies, "
          f"bootstrap SEs (100): median {median(rows, 'evppi_s'):.2f} s wall, {median(rows, 'cpu_s'):.2f} s CPU, "
          f"over {REPS} processes (PSA excluded)")


def perspective_overhead(n: int = int(os.environ.get("BENCH_PERSPECTIVE_DRAWS", "5000")),
                         n_wtp: int = int(os.environ.get("BENCH_PERSPECTIVE_WTPS", "51"))) -> None:
    """PSA of configs/cart_lbcl_sweden.yaml: payer-only vs every perspective (the issue's ≤ 10 % budget).

    Perspectives are sums of the same per-draw category totals, so the simulation runs once either way;
    the extra time is the analysis (summary, ICERs, CEAC/CEAF, EVPI, convergence) of the other
    perspectives.  Median of REPS repetitions in this process (warm numba cache)."""
    from ces.economics.perspectives import model_perspectives
    from ces.pipeline import analyse_psa, build, psa_options, wtp_values
    from ces.engine.psa import run_psa

    loaded, model = build(ROOT / "configs" / "cart_lbcl_sweden.yaml")
    opts = psa_options(loaded, draws=n)
    wtps = wtp_values(loaded.config.wtp)
    wtps = [wtps[-1] * i / (n_wtp - 1) for i in range(n_wtp)] if n_wtp > 1 else wtps  # a CEAC-sized grid
    persps, _ = model_perspectives(loaded, model)
    run_psa(model, 50, opts.seed)  # compile
    payer, every = [], []
    for _ in range(REPS):
        t0 = time.perf_counter()
        psa = run_psa(model, n, opts.seed, opts.chunk)
        t1 = time.perf_counter()
        analyse_psa(psa, loaded.model.effect, wtps, opts)
        t2 = time.perf_counter()
        for p in persps:
            if p.key != "payer":
                analyse_psa(psa, loaded.model.effect, wtps, opts, p)
        t3 = time.perf_counter()
        payer.append(t2 - t0)
        every.append(t3 - t0)
    a, b = statistics.median(payer), statistics.median(every)
    print(f"\nPSA of configs/cart_lbcl_sweden.yaml, {n:,} draws, {len(wtps)} WTP values: payer only {a:.3f} s, "
          f"every perspective ({', '.join(p.key for p in persps)}) {b:.3f} s: +{100 * (b / a - 1):.1f} % "
          f"(budget 10 %)")


if __name__ == "__main__":
    if os.environ.get("BENCH_ONLY") == "perspectives":
        perspective_overhead()
    else:
        main()
