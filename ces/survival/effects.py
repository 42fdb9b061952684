"""Curve operations on survival evaluated on a time grid: treatment effects, cure, mortality floor.

All functions take survival S (draws × times) on a grid t (times, in the curve's unit) and
return a new S; they are vectorised numpy (the grid is small; the hot loops are the kernels).

- Proportional hazards with an optional waning time T (Bagust & Beale, MDM 2014, on waning):
  H'(t) = hr·H(t) for t ≤ T, and hr·H(T) + (H(t) − H(T)) after (the effect stops, the gain stays).
- Proportional odds (odds of the event): F'/(1−F') = OR·F/(1−F)  ⇒  S' = S / (S + OR·(1 − S)).
- Accelerated failure time: S'(t) = S(t/φ) with φ the acceleration factor (φ > 1 = longer survival);
  applied by evaluating the family at t/φ (see :mod:`ces.engine.psm`).
- Mixture cure (e.g. Lambert et al., Stat Med 2007): S(t) = S_bg(t)·[π + (1 − π)·S_u(t)].
- Non-mixture cure (promotion time): S(t) = S_bg(t)·π^(1 − S_u(t)).
- General-population floor: on each grid interval the hazard is at least the life table's:
  S'_k = S'_(k−1)·min(S_k/S_(k−1), S_bg,k/S_bg,(k−1)).
"""

from __future__ import annotations

import numpy as np


def proportional_hazards(S: np.ndarray, t: np.ndarray, hr, until: float | None = None) -> np.ndarray:
    H = -np.log(np.clip(S, 1e-300, 1.0))
    hr = np.asarray(hr, dtype=float)
    if until is None:
        return np.exp(-hr * H)
    k = np.searchsorted(t, until, side="right") - 1  # last grid point ≤ T
    HT = H[:, k:k + 1]
    out = np.where(t[None, :] <= until, hr * H, hr * HT + (H - HT))
    return np.exp(-out)


def proportional_odds(S: np.ndarray, odds_ratio) -> np.ndarray:
    orr = np.asarray(odds_ratio, dtype=float)
    return S / (S + orr * (1.0 - S))


def mixture_cure(S_u: np.ndarray, S_bg: np.ndarray, cure) -> np.ndarray:
    """S_bg is (times,) or (draws, times) (per-draw background, e.g. with an excess mortality ratio)."""
    pi = np.asarray(cure, dtype=float)
    return np.atleast_2d(S_bg) * (pi + (1.0 - pi) * S_u)


def non_mixture_cure(S_u: np.ndarray, S_bg: np.ndarray, cure) -> np.ndarray:
    pi = np.asarray(cure, dtype=float)
    return np.atleast_2d(S_bg) * pi ** (1.0 - S_u)


def mortality_floor(S: np.ndarray, S_bg: np.ndarray) -> np.ndarray:
    S_bg = np.atleast_2d(S_bg)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(S[:, :-1] > 0, S[:, 1:] / S[:, :-1], 0.0)
    r_bg = S_bg[:, 1:] / S_bg[:, :-1]
    step = np.minimum(r, r_bg)
    out = np.empty_like(S)
    out[:, 0] = S[:, 0]
    out[:, 1:] = S[:, :1] * np.cumprod(step, axis=1)
    return out
