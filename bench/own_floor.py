"""`make bench`, second part: ces against its own hand-written numba kernel of Sick-Sicker (bench/floor_sick_sicker.py).

First checks that the hand-written kernel is the same model: at the point values its four strategies'
discounted costs and QALYs equal ces's base case to 1e-12 relative (they differ only in summation
order).  Then times both, each measurement a fresh process (bench/worker.py for ces, on
models/sick_sicker.yaml with 2,000-draw chunks), interleaved so both see the same machine load, at each
draw count and thread count of bench/floor_compare.py (``BENCH_FLOOR_SIZES``, ``BENCH_FLOOR_THREADS``,
``BENCH_FLOOR_REPS``); prints the median PSA seconds, the ratio ces/floor and ces's 2-thread speed-up.
Both times are sampling + simulation + totals, after a first (compile or cache load) call.  Not a test.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile

from floor_compare import HERE, PY, REPS, ROOT, SIZES, THREADS, run_ces

MODEL = ROOT / "models" / "sick_sicker.yaml"
FLOOR = HERE / "floor_sick_sicker.py"


def run_floor(args: list, env: dict) -> dict:
    out = subprocess.run([PY, str(FLOOR), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT_JSON "))
    return json.loads(line[len("RESULT_JSON "):])


def check_same_model(env: dict) -> float:
    """Largest relative difference between the floor's and ces's base-case cost and QALYs (4 strategies)."""
    from ces.pipeline import build

    det = run_floor(["--det"], env)
    _, model = build(MODEL)
    worst = 0.0
    for j, s in enumerate(model.strategies):
        tot = model.run_strategy(s).totals[0]
        for name, col in (("cost", model.streams.index("cost")), ("qaly", model.streams.index("qaly"))):
            worst = max(worst, abs(det[name][j] - tot[col]) / abs(tot[col]))
    return worst


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        base = {**os.environ, "NUMBA_CACHE_DIR": cache, "CES_CACHE_DIR": cache}
        worst = check_same_model(base)
        print(f"\nces vs its own hand-written Sick-Sicker kernel (bench/floor_sick_sicker.py): base case equal to "
              f"{worst:.1e} relative")
        if worst > 1e-12:
            raise SystemExit(f"the hand-written Sick-Sicker kernel is not the model ces runs ({worst:.2e} relative)")
        run_floor(["--n", "100"], base)  # compile both once: every timed process loads a warm cache
        run_ces(MODEL, 100, {**base, "CES_KERNEL": "generated"})
        print(f"  PSA seconds, median of {REPS} fresh processes, interleaved")
        print(f"  {'draws':>8} {'threads':>8} {'floor s':>9} {'ces s':>9} {'ces/floor':>10}")
        ces_t: dict = {}
        for n in SIZES:
            for t in THREADS:
                env = {**base, "NUMBA_NUM_THREADS": str(t)}
                fl, ce = [], []
                for _ in range(REPS):
                    fl.append(run_floor(["--n", str(n)], env)["psa_seconds"])
                    ce.append(run_ces(MODEL, n, env))
                f, c = statistics.median(fl), statistics.median(ce)
                ces_t[(n, t)] = c
                print(f"  {n:>8,} {t:>8} {f:>9.3f} {c:>9.3f} {c / f:>9.2f}x", flush=True)
        if 1 in THREADS and 2 in THREADS:
            print("  ces speed-up of 2 threads over 1: " + ", ".join(
                f"{n:,}: {ces_t[(n, 1)] / ces_t[(n, 2)]:.2f}x" for n in SIZES))


if __name__ == "__main__":
    main()
