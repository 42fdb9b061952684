"""Simulate the LBCL flagship's "ZUMA-1-like" and "SCHOLAR-1-like" patient-level PFS and OS data.

    python models/data/make_lbcl_ipd.py        # rewrites models/data/lbcl_{zuma1,scholar1}_like_ipd.csv

Why.  The flagship (models/cart_lbcl.yaml) fits its survival curves with `ces fit` to patient-level data, so
that its PSA draws PFS and OS jointly from a bootstrap of the same patients (issue 14).  The trials' patient
data are not public and no digitised ZUMA-1 or SCHOLAR-1 curves were available here, so these files are
SIMULATED: patients drawn from the mixture-cure curves that the flagship used before, which were calibrated to
published landmarks (ZUMA-1, infused patients: OS ~52 % at 18 months and 42.6 % at 5 years, median PFS
~5.9 months, Neelapu et al., NEJM 2017 and Blood 2023; SCHOLAR-1: median OS 6.3 months, 2-year OS 20 %,
Crump et al., Blood 2017).  They are not a reconstruction of the published curves, and a fit to them returns
those calibrated curves up to sampling error; what they add is the sampling uncertainty of trials of the real
sizes and the PFS-OS dependence of one set of patients.

Curves (per month t; as the engine evaluates a `cure:` curve with `background:` and `smr:`, ces/engine/psm.py):
    S(t) = S_bg(t) * [pi + (1 - pi) * exp(-lambda * t)],  S_bg(t) = sum_s w_s * exp(-smr * H_s(t / 12))
with H_s the cumulative hazard of the US 2021 life table (NCHS) from age 58, w = 0.67 male / 0.33 female
(ZUMA-1), smr = 1.22 (Maurer et al., Ann Oncol 2018) and the calibrated values:
    CAR-T  PFS pi 0.38 lambda 0.25   OS pi 0.45 lambda 0.09
    chemo  PFS pi 0.10 lambda 0.30   OS pi 0.15 lambda 0.13

Patients.  One uniform U per patient gives both times, t_PFS = S_PFS^-1(U) and t_OS = S_OS^-1(U) (the
comonotone coupling): since S_PFS <= S_OS at every t, t_PFS <= t_OS for every patient, so no one progresses
after death, and each margin is exactly its curve.  It is the strongest PFS-OS dependence these margins allow
(assumption: the trials' own dependence is not published).  A progression-free death is then PFS = OS.
Sizes: 101 infused patients (ZUMA-1, Neelapu et al. 2017); 636 patients (SCHOLAR-1's refractory analysis
set, Crump et al. 2017).  Censoring (assumption: administrative only, no loss to follow-up): uniform
between 48 and 72 months of follow-up for ZUMA-1-like (its 5-year analysis), between 24 and 60 months for
SCHOLAR-1-like (pooled cohorts of different ages).  numpy default_rng seeds 1 (CAR-T) and 2 (chemo).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ces.survival.lifetable import life_table

HERE = Path(__file__).resolve().parent
AGE, WEIGHTS, SMR = 58.0, {"male": 0.67, "female": 0.33}, 1.22
ARMS = {  # arm: (file, n, seed, censoring range in months, (pi, lambda) of PFS, (pi, lambda) of OS)
    "cart": ("lbcl_zuma1_like_ipd.csv", 101, 1, (48.0, 72.0), (0.38, 0.25), (0.45, 0.09)),
    "chemo": ("lbcl_scholar1_like_ipd.csv", 636, 2, (24.0, 60.0), (0.10, 0.30), (0.15, 0.13)),
}
GRID = np.arange(0.0, 600.0 + 1e-9, 1.0 / 30.0)  # months, a day apart, to age 108


def survival(pi: float, lam: float) -> np.ndarray:
    """S(t) on GRID (module docstring)."""
    lt = life_table("us_2021")
    s_bg = sum(w * np.exp(-SMR * lt.cumhaz(AGE, GRID / 12.0, sx)) for sx, w in WEIGHTS.items())
    return s_bg * (pi + (1.0 - pi) * np.exp(-lam * GRID))


def inverse(S: np.ndarray, u: np.ndarray) -> np.ndarray:
    """t with S(t) = u, linear in ln S between grid points (S falls strictly on the grid)."""
    return np.interp(-np.log(u), -np.log(S), GRID)


def simulate(arm: str):
    _, n, seed, (c_lo, c_hi), pfs, os_ = ARMS[arm]
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=n)
    cens = rng.uniform(c_lo, c_hi, size=n)
    t_pfs, t_os = inverse(survival(*pfs), u), inverse(survival(*os_), u)
    assert np.all(t_pfs <= t_os + 1e-9)
    pfs_t, os_t = np.minimum(t_pfs, cens), np.minimum(t_os, cens)
    return np.round(pfs_t, 4), (t_pfs <= cens).astype(int), np.round(os_t, 4), (t_os <= cens).astype(int)


def render(arm: str) -> str:
    """The CSV text of ``arm``'s file (header comment, then one row per patient)."""
    name, n, seed, cens, pfs, os_ = ARMS[arm]
    pfs_t, pfs_e, os_t, os_e = simulate(arm)
    lines = [f"# SIMULATED {'ZUMA-1' if arm == 'cart' else 'SCHOLAR-1'}-like patient-level data for the LBCL "
             "flagship (not trial data, not a reconstruction):",
             f"# {n} patients, numpy seed {seed}; made by models/data/make_lbcl_ipd.py, whose docstring gives "
             "the curves, sources and assumptions.",
             f"# Mixture cure per month: PFS pi {pfs[0]} lambda {pfs[1]}, OS pi {os_[0]} lambda {os_[1]}, US 2021 "
             f"background from age 58, smr 1.22; censored U({cens[0]:g}, {cens[1]:g}) months.",
             "pfs_months,pfs_event,os_months,os_event"]
    lines += [f"{a:.4f},{b},{c:.4f},{d}" for a, b, c, d in zip(pfs_t, pfs_e, os_t, os_e)]
    return "\n".join(lines) + "\n"


def main() -> None:
    for arm, (name, n, *_) in ARMS.items():
        (HERE / name).write_text(render(arm))
        print(f"{name}: {n} patients")


if __name__ == "__main__":
    main()
