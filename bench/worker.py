"""One benchmark measurement in a fresh process (called by bench/run.py).

Usage: python bench/worker.py MODEL_YAML N_DRAWS SEED [--numpy]
Prints one JSON line: build, first-call (numba compile or cache load), PSA wall time,
draws per second and peak RSS.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

t_start = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ces.engine.psa import run_psa  # noqa: E402
from ces.pipeline import build  # noqa: E402

t_import = time.perf_counter()


def main() -> None:
    path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    use_numpy = "--numpy" in sys.argv
    t0 = time.perf_counter()
    _, model = build(path)
    t1 = time.perf_counter()
    if use_numpy:
        from numpy_thr import run_numpy_thr

        run_numpy_thr(model, 10, seed)  # warm-up (imports, allocation)
        t2 = time.perf_counter()
        out = run_numpy_thr(model, n, seed)
        t3 = time.perf_counter()
        mean_cost = float(out["standard"][:, 0].mean())
    else:
        for s in model.strategies:  # first call: numba compile (cold cache) or cache load (warm)
            model.run_strategy(s)
        t2 = time.perf_counter()
        res = run_psa(model, n, seed, chunk=2000)
        t3 = time.perf_counter()
        mean_cost = float(res.matrix("cost")[:, 0].mean())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"import_s": t_import - t_start, "build_s": t1 - t0, "first_call_s": t2 - t1,
                      "psa_s": t3 - t2, "draws_per_s": n / (t3 - t2), "peak_rss_mb": rss_mb,
                      "mean_cost_first_strategy": mean_cost}))


if __name__ == "__main__":
    main()
