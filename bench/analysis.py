"""Time the PSA analysis alone (``ces.pipeline.analyse_psa``: summary, ICERs, CEAC/CEAF, EVPI, convergence check;
and ``ces.analysis.voi_tables.decision_tables``: expected loss, CE-plane ellipses, convergence curves).

Synthetic per-draw totals shaped like Sick-Sicker's (streams cost, qaly, ly; K strategies), so no PSA
has to run: ``python bench/analysis.py [DRAWS] [K] [N_WTP]`` (default 100,000 draws, 4 strategies, 101
WTP values from 0 to 200,000).  Prints one JSON line: the medians of 5 calls in this process after one
warm-up call (numba cache loaded).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

from ces.analysis.voi_tables import decision_tables
from ces.engine.psa import PsaResult
from ces.pipeline import PsaOptions, analyse_psa


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    n_wtp = int(sys.argv[3]) if len(sys.argv) > 3 else 101
    rng = np.random.default_rng(1)
    totals = {f"s{j}": np.column_stack([rng.gamma(5.0, 2000.0 + 300.0 * j, n), rng.normal(10.0 + 0.1 * j, 1.0, n),
                                        rng.normal(15.0, 1.0, n)]) for j in range(k)}
    psa = PsaResult(list(totals), ["cost", "qaly", "ly"], ["cost"], totals, {}, n, 1)
    opts = PsaOptions(n, 1, 2000)
    wtps = [200_000.0 * i / (n_wtp - 1) for i in range(n_wtp)] if n_wtp > 1 else [50_000.0]
    analyse_psa(psa, "qaly", wtps, opts)
    decision_tables(psa, "qaly", wtps, wtps[len(wtps) // 2])
    times, dtimes = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        analyse_psa(psa, "qaly", wtps, opts)
        t1 = time.perf_counter()
        decision_tables(psa, "qaly", wtps, wtps[len(wtps) // 2])
        times.append(t1 - t0)
        dtimes.append(time.perf_counter() - t1)
    print(json.dumps({"draws": n, "strategies": k, "wtp": len(wtps), "analyse_s": statistics.median(times),
                      "decision_s": statistics.median(dtimes)}))


if __name__ == "__main__":
    main()
