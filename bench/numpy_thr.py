"""Plain numpy implementation of benchmark model A (THR), vectorised over draws, no numba.

Written independently of the ces engine (it shares only the parameter draws, so the two can
be compared draw by draw): a 5×5 matrix per draw, refilled per cycle, propagated with a
batched matmul, rewards counted at the end of each cycle (spec: ../shared/bench/README.md).
"""

from __future__ import annotations

import numpy as np

from ces.engine.psa import distribution_keys, strategy_draws
from ces.params.sampling import sample_draws

MORT_AGE = np.array([35, 45, 55, 65, 75, 85], dtype=float)
MORT_F = np.array([0.00099, 0.0026, 0.0067, 0.0193, 0.0535, 0.1548])


def run_numpy_thr(model, n: int, seed: int) -> dict:
    samples = sample_draws(distribution_keys(model), seed, 0, n)
    out = {}
    for s, cs in model.strategies.items():
        d = strategy_draws(cs, samples)
        np1 = s == "NP1"
        lam = np.exp(d["cons"] + d["ageC"] * 60 + d["maleC"] * 0) * (np.exp(d["lrrNP1"]) if np1 else 1.0)
        gam = np.exp(d["lngamma"])
        m = np.zeros((n, 5))
        m[:, 0] = 1.0
        P = np.zeros((n, 5, 5))
        cost = np.full(n, 579.0 if np1 else 394.0)
        qaly = np.zeros(n)
        for t in range(1, 61):
            age = 60 + t - 1
            mr = MORT_F[np.searchsorted(MORT_AGE, age, side="right") - 1]
            rr = 1 - np.exp(lam * ((t - 1.0) ** gam - float(t) ** gam))
            P[:] = 0.0
            P[:, 0, 1] = 1 - d["omrPTHR"]
            P[:, 0, 4] = d["omrPTHR"]
            P[:, 1, 1] = 1 - rr - mr
            P[:, 1, 2] = rr
            P[:, 1, 4] = mr
            P[:, 2, 3] = 1 - d["omrRTHR"] - mr
            P[:, 2, 4] = d["omrRTHR"] + mr
            P[:, 3, 2] = d["rrr"]
            P[:, 3, 3] = 1 - d["rrr"] - mr
            P[:, 3, 4] = mr
            P[:, 4, 4] = 1.0
            m = np.matmul(m[:, None, :], P)[:, 0, :]
            cost += d["cRevision"] * m[:, 2] / 1.06 ** t
            qaly += (d["uSuccessP"] * m[:, 1] + d["uRevisionTHR"] * m[:, 2] + d["uSuccessR"] * m[:, 3]) / 1.015 ** t
        out[s] = np.column_stack([cost, qaly])
    return out
