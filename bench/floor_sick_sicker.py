"""A hand-written numba kernel of the DARTH Sick-Sicker model (models/sick_sicker.yaml): ces's own speed floor.

Issue 17 asks that the PSA ratio to a hand-written kernel also hold for Sick-Sicker; the shared floor
(../shared/bench/floor) covers only models A and B, so this is ours, coded from the model file alone and
sharing no code with ces:

- 4 states H, S1, S2, D; everyone starts in H; 1-year cycles, 75 cycles (age 25 to 100).
- Per-cycle probabilities p = 1 − exp(−rate) from the annual rates; death from S1 and S2 is the
  background rate times hr_S1, hr_S2; strategy B multiplies the S1 → S2 rate by hr_S1S2_trtB.
- Rows: H → (H, S1, D) = ((1−p_HD)(1−p_HS1), (1−p_HD)p_HS1, p_HD);
  S1 → (H, S1, S2, D) = ((1−p_S1D)p_S1H, (1−p_S1D)(1−p_S1H−p_S1S2), (1−p_S1D)p_S1S2, p_S1D);
  S2 → (S2, D) = (1−p_S2D, p_S2D).
- Rewards per point k = 0..75 (point counting): total = Σ_k w_k (1.03)^−k Σ_s m_k,s v_s, with DARTH's
  ``gen_wcc(n, "Simpson1/3")`` weights: over v = 1..n+1, w = 2/3 for even v, 4/3 for odd v, then
  w_0 = w_n = 1/3 (Alarid-Escudero et al., Med Decis Making 2023;43(1):3-20, R/Functions.R).
- Costs: H c_H; S1 and S2 add trtA·c_trtA + trtB·c_trtB; QALYs: S1 has u_trtA under A.

The PSA samples the 15 distributions of the model file with one numpy Generator (vectorised, not ces's
chunk-invariant per-parameter streams: the floor is a timing reference, its draws differ from ces's);
the timed part is sampling + kernel + per-strategy means, after a first call (compile or cache load),
as in ../shared/bench/floor.  ``--det`` runs the point values once and prints the four strategies'
discounted cost and QALYs, which bench/own_floor.py checks against ``ces`` (the same model, so the
same numbers up to summation order).

Usage: python bench/floor_sick_sicker.py (--det | --n N) [--seed S]; prints one ``RESULT_JSON`` line.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
from numba import njit, prange

N_CYCLES = 75
RATE = 0.03
#: strategy flags (trtA, trtB): SoC, A, B, AB, in the model file's order
STRATEGIES = ((0, 0), (1, 0), (0, 1), (1, 1))
#: parameter → (distribution, a, b, point value), from models/sick_sicker.yaml
PARAMS = {
    "r_HD": ("gamma_rate", 20, 10000, 0.002), "r_HS1": ("gamma_rate", 30, 200, 0.15),
    "r_S1H": ("gamma_rate", 60, 120, 0.5), "r_S1S2": ("gamma_rate", 84, 800, 0.105),
    "hr_S1": ("lognormal", math.log(3), 0.01, 3.0), "hr_S2": ("lognormal", math.log(10), 0.02, 10.0),
    "hr_S1S2_trtB": ("lognormal", math.log(0.6), 0.02, 0.6),
    "c_H": ("gamma_scale", 100, 20, 2000.0), "c_S1": ("gamma_scale", 177.8, 22.5, 4000.0),
    "c_S2": ("gamma_scale", 225, 66.7, 15000.0), "c_trtA": ("gamma_scale", 73.5, 163.3, 12000.0),
    "c_trtB": ("gamma_scale", 86.2, 150.8, 13000.0),
    "u_H": ("beta", 200, 3, 1.0), "u_S1": ("beta", 130, 45, 0.75), "u_S2": ("beta", 230, 230, 0.5),
    "u_trtA": ("beta", 300, 15, 0.95),
}
NAMES = list(PARAMS)


def weights(n: int) -> np.ndarray:
    """DARTH Simpson 1/3 weights w_0..w_n times the discount factors (1 + r)^−k."""
    v = np.arange(1, n + 2)
    w = np.where(v % 2 == 0, 2.0 / 3.0, 4.0 / 3.0)
    w[0] = w[-1] = 1.0 / 3.0
    return w * (1.0 + RATE) ** -np.arange(n + 1.0)


def sample(n: int, seed: int) -> np.ndarray:
    """(len(PARAMS), n) draws, one row per parameter in PARAMS order."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(PARAMS), n))
    for j, (dist, a, b, _) in enumerate(PARAMS.values()):
        if dist == "gamma_rate":
            out[j] = rng.gamma(a, 1.0 / b, n)
        elif dist == "gamma_scale":
            out[j] = rng.gamma(a, b, n)
        elif dist == "lognormal":
            out[j] = rng.lognormal(a, b, n)
        else:
            out[j] = rng.beta(a, b, n)
    return out


@njit(parallel=True, cache=True)
def sick_sicker_kernel(x, flags, wd, cost, qaly):  # pragma: no cover
    """cost, qaly (n, 4): discounted totals per draw and strategy (formula in the module docstring)."""
    n = x.shape[1]
    K = wd.shape[0]
    for d in prange(n):
        r_HD, r_HS1, r_S1H, r_S1S2 = x[0, d], x[1, d], x[2, d], x[3, d]
        hr_S1, hr_S2, hr_B = x[4, d], x[5, d], x[6, d]
        c_H, c_S1, c_S2, c_A, c_B = x[7, d], x[8, d], x[9, d], x[10, d], x[11, d]
        u_H, u_S1, u_S2, u_A = x[12, d], x[13, d], x[14, d], x[15, d]
        p_HD = 1.0 - math.exp(-r_HD)
        p_S1D = 1.0 - math.exp(-r_HD * hr_S1)
        p_S2D = 1.0 - math.exp(-r_HD * hr_S2)
        p_HS1 = 1.0 - math.exp(-r_HS1)
        p_S1H = 1.0 - math.exp(-r_S1H)
        for s in range(flags.shape[0]):
            a, b = flags[s, 0], flags[s, 1]
            p_S1S2 = 1.0 - math.exp(-r_S1S2 * (hr_B if b == 1 else 1.0))
            vc_H = c_H
            vc_S1 = c_S1 + a * c_A + b * c_B
            vc_S2 = c_S2 + a * c_A + b * c_B
            vq_S1 = u_A if a == 1 else u_S1
            mH, m1, m2 = 1.0, 0.0, 0.0
            tc = wd[0] * mH * vc_H
            tq = wd[0] * mH * u_H
            for k in range(1, K):
                nH = mH * (1.0 - p_HD) * (1.0 - p_HS1) + m1 * (1.0 - p_S1D) * p_S1H
                n1 = mH * (1.0 - p_HD) * p_HS1 + m1 * (1.0 - p_S1D) * (1.0 - (p_S1H + p_S1S2))
                n2 = m1 * (1.0 - p_S1D) * p_S1S2 + m2 * (1.0 - p_S2D)
                mH, m1, m2 = nH, n1, n2
                tc += wd[k] * (mH * vc_H + m1 * vc_S1 + m2 * vc_S2)
                tq += wd[k] * (mH * u_H + m1 * vq_S1 + m2 * u_S2)
            cost[d, s] = tc
            qaly[d, s] = tq


def run(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[1]
    cost, qaly = np.empty((n, 4)), np.empty((n, 4))
    sick_sicker_kernel(x, np.array(STRATEGIES, dtype=np.int64), weights(N_CYCLES), cost, qaly)
    return cost, qaly


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--det", action="store_true")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    t0 = time.perf_counter()
    run(sample(1, args.seed))  # first call: compile (cold cache) or cache load
    t1 = time.perf_counter()
    if args.det:
        cost, qaly = run(np.array([[v[3]] for v in PARAMS.values()]))
        print("RESULT_JSON " + json.dumps({"cost": cost[0].tolist(), "qaly": qaly[0].tolist()}))
        return
    t2 = time.perf_counter()
    cost, qaly = run(sample(args.n, args.seed))
    means = cost.mean(axis=0), qaly.mean(axis=0)
    t3 = time.perf_counter()
    print("RESULT_JSON " + json.dumps({"jit_first_call_s": t1 - t0, "psa_seconds": t3 - t2,
                                       "mean_cost": means[0].tolist(), "mean_qaly": means[1].tolist()}))


if __name__ == "__main__":
    main()
