"""Partitioned survival: curves → state occupancy (the "trace" of a PSM).

A PSM has N states and an ordered list of N−1 curves (``partition``), S_1 ≤ S_2 ≤ … (e.g.
PFS ≤ OS).  At each point k = 0..n (time kΔ):

    occupancy(state 1) = S_1,  occupancy(state j) = S_j − S_(j−1),  occupancy(last) = 1 − S_(N−1).

The occupancy array then goes through the same reward kernel, counting corrections and
discounting as a Markov trace (:func:`ces.engine.kernels.accumulate_rewards`).

Crossing policy (``crossing``): ``error`` stops when S_j < S_(j−1) − 1e-12 anywhere;
``cap`` replaces S_(j−1) by min(S_(j−1), S_j) (the lower curve is capped at the upper one),
which keeps every occupancy ≥ 0 and the total exactly 1; the number of affected points
and draws is reported.

Curve = family S_u(t; θ) (flexsurv parameterisation, :mod:`ces.survival.families`) at the
curve time t = kΔ / unit, then, in this order: acceleration factor ``af`` (S_u(t/af)),
hazard ratio ``hr`` (optionally only until ``hr_until``, in curve time units), odds ratio
``or``, cure fraction ``cure`` (``cure_type`` mixture or non-mixture, needs ``background``),
and the general-population floor ``floor: true`` (needs ``background``).  ``smr`` (excess
mortality ratio, e.g. of long-term lymphoma survivors vs the general population) multiplies the
background hazard of each sex: S_bg(t) = Σ_s w_s·exp(−smr·H_s(t)) (needs ``cure`` or ``floor``).
The formulas are in :mod:`ces.survival.effects`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ces.errors import CesError, ModelCheckError
from ces.modelfile.units import YEARS_PER_UNIT
from ces.survival import effects

CURVE_KEYS = ("dist", "hr", "hr_until", "af", "or", "cure", "cure_type", "background", "floor", "smr")
CROSS_TOL = 1e-12


@dataclass
class CurveDef:
    name: str
    family: str
    params: dict  # family parameter name -> Expr (time-invariant)
    mods: dict  # hr, af, or, cure -> Expr
    hr_until: float | None = None
    cure_type: str = "mixture"
    background: str | None = None
    floor: bool = False
    where: tuple = (None, None, None)
    extra: dict = field(default_factory=dict)  # non-expression family inputs (knots, KM table...)


@dataclass
class CrossingInfo:
    points: int = 0  # (draw, point) pairs where a curve was capped
    draws: int = 0  # draws with at least one capped point
    cycles: list = field(default_factory=list)  # points capped in the first affected draw


def curve_names(cdef: CurveDef) -> set:
    out = set()
    for e in list(cdef.params.values()) + list(cdef.mods.values()):
        out |= e.names
    return out


def background_survival(model, t_years: np.ndarray, table: str, smr=None) -> np.ndarray:
    """S_bg(t) of the model's cohort; with ``smr`` (shape (D, 1)) Σ_s w_s·exp(−smr·H_s(t)), shape (D, n+1)."""
    from ces.survival.lifetable import life_table, sex_weights

    spec = model.loaded.model
    if spec.start_age is None:
        raise CesError("background mortality needs the model's `start_age`", file=model.loaded.model_loc.file,
                       path="start_age")
    lt, weights = life_table(table), sex_weights(spec.sex)
    return lt.survival(float(spec.start_age), t_years, weights, smr)


def curve_survival(model, cdef: CurveDef, env: dict, D: int, t_years: np.ndarray, cache: dict | None = None,
                   affected: set = frozenset()) -> np.ndarray:
    """S(t_k) for k = 0..n, shape (D or 1, n+1).

    ``cache`` (shared by the strategies of one PSA chunk) keeps the family's S_u when its
    parameters are not touched by any strategy override, so a curve that differs between
    strategies only by hr/or/cure is evaluated once per chunk.
    """
    from ces.survival.registry import survival_matrix

    unit = YEARS_PER_UNIT[model.loaded.model.time_unit]
    t = t_years / unit
    theta = {p: np.asarray(e.evaluate(env, model.functions), dtype=float) for p, e in cdef.params.items()}
    mods = {m: np.asarray(e.evaluate(env, model.functions), dtype=float).reshape(-1, 1) for m, e in cdef.mods.items()}
    for name, v in list(theta.items()) + list(mods.items()):
        if v.ndim == 2 and v.shape[1] > 1:
            raise CesError(f"curve `{cdef.name}`: `{name}` must not depend on time", file=cdef.where[0],
                           path=f"{cdef.where[1]}.{name}", line=cdef.where[2])
    key = (cdef.name, cdef.family, tuple(sorted((p, e.source) for p, e in cdef.params.items())),
           repr(sorted(cdef.extra.items())))
    shareable = cache is not None and "af" not in mods and not (set().union(
        *(e.names for e in cdef.params.values())) & set(affected))
    if shareable and key in cache:
        S = cache[key]
    elif "af" in mods:
        S = survival_matrix(cdef.family, t[None, :] / mods["af"], theta, cdef.extra, cdef)
    else:
        S = survival_matrix(cdef.family, t[None, :], theta, cdef.extra, cdef)
        if shareable:
            cache[key] = S
    if "hr" in mods:
        S = effects.proportional_hazards(S, t, mods["hr"], cdef.hr_until)
    if "or" in mods:
        S = effects.proportional_odds(S, mods["or"])
    if "cure" in mods or cdef.floor:
        smr = mods.get("smr")
        if smr is not None and (np.any(smr <= 0) or not np.all(np.isfinite(smr))):
            raise ModelCheckError(f"curve `{cdef.name}`: excess mortality ratio smr {float(np.ravel(smr)[0]):g} must be "
                                  "positive", file=cdef.where[0], path=f"{cdef.where[1]}.smr", line=cdef.where[2])
        S_bg = background_survival(model, t_years, cdef.background, smr)
        if "cure" in mods:
            pi = mods["cure"]
            if np.any((pi < 0) | (pi > 1)) or not np.all(np.isfinite(pi)):
                bad = float(pi[(pi < 0) | (pi > 1) | ~np.isfinite(pi)][0])
                raise ModelCheckError(f"curve `{cdef.name}`: cure fraction {bad:g} is outside [0, 1]",
                                      file=cdef.where[0], path=f"{cdef.where[1]}.cure", line=cdef.where[2])
            S = (effects.mixture_cure if cdef.cure_type == "mixture" else effects.non_mixture_cure)(S, S_bg, pi)
        if cdef.floor:
            S = effects.mortality_floor(S, S_bg)
    return S


def mixture_survival(model, cdef: CurveDef, surv: dict, env: dict) -> np.ndarray:
    """S(t) = Σ_i w_i·S_i(t) (branches of a decision, e.g. out-of-specification manufacture); Σ w_i must be 1."""
    total = 0.0
    out = 0.0
    for name, w in cdef.extra["components"]:
        wv = np.asarray(w.evaluate(env, model.functions), dtype=float).reshape(-1, 1)
        total = total + wv
        out = out + wv * surv[name]
    if np.any(np.abs(np.asarray(total) - 1.0) > 1e-9):
        raise ModelCheckError(f"curve `{cdef.name}`: mixture weights sum to {float(np.ravel(total)[0]):.6g}, must be 1",
                              file=cdef.where[0], path=f"{cdef.where[1]}.components", line=cdef.where[2])
    return np.asarray(out)


def crossing_info(capped: np.ndarray) -> CrossingInfo:
    """The crossing report of a (D, n+1) mask of capped points: their number, the number of draws with one,
    and the cycles capped in the first such draw."""
    info = CrossingInfo()
    if capped.any():
        rows = capped.any(axis=1)
        info.points = int(capped.sum())
        info.draws = int(rows.sum())
        info.cycles = [int(k) for k in np.flatnonzero(capped[np.flatnonzero(rows)[0]])]
    return info


def partition_occupancy(curves: list, policy: str, where_msg, n_states: int) -> tuple:
    """Occupancy (D, n+1, N) from curves S_1..S_(N−1) (each (Di, n+1)); applies the crossing policy."""
    D = max(c.shape[0] for c in curves)
    n1 = curves[0].shape[1]
    S = [np.broadcast_to(c, (D, n1)).copy() for c in curves]
    capped = np.zeros((D, n1), dtype=bool)
    # cap from the outermost curve inwards so every S_(j-1) ≤ S_j holds at the end.  The decision is per
    # draw (a draw is capped when any of its points crosses by more than CROSS_TOL, then S_(j-1) = min(S_(j-1),
    # S_j) on that draw's whole curve), so a draw's result never depends on the other draws of its chunk.
    for j in range(len(S) - 1, 0, -1):
        cross = S[j - 1] > S[j] + CROSS_TOL
        if cross.any():
            if policy == "error":
                d, k = np.argwhere(cross)[0]
                where_msg(j, int(d), int(k), float(S[j - 1][d, k]), float(S[j][d, k]))
            capped |= cross
            rows = cross.any(axis=1)
            S[j - 1][rows] = np.minimum(S[j - 1][rows], S[j][rows])
    info = crossing_info(capped)
    occ = np.empty((D, n1, n_states))
    occ[:, :, 0] = S[0]
    for j in range(1, len(S)):
        occ[:, :, j] = S[j] - S[j - 1]
    occ[:, :, len(S)] = 1.0 - S[-1]
    return occ, info


def state_inflows(occ: np.ndarray) -> np.ndarray:
    """Persons entering each state in each cycle, from a PSM occupancy (D, n+1, N) → (D, n+1, N).

    The states are ordered along the partition, so the share that has left states 1..j−1 by
    point k is 1 − S_(j−1)(kΔ) with S_(j−1) = Σ_(i<j) occupancy_i.  Entries into state j in
    cycle k (from (k−1)Δ to kΔ):

        I_j,k = max(0, S_(j−1)((k−1)Δ) − S_(j−1)(kΔ)),   I_j,0 = 0,  I_1,k = 0.

    For the last (dead) state this is the deaths in the cycle.  For an intermediate state it
    counts everyone who leaves the earlier states, including those who die without passing
    through it: a PSM does not know the path (the usual PSM approximation; e.g. PFS events
    for a cost at progression).  max(0, ·) guards curves that rise (a capped crossing).
    """
    S = np.cumsum(occ, axis=2)
    out = np.zeros_like(occ)
    out[:, 1:, 1:] = np.maximum(0.0, S[:, :-1, :-1] - S[:, 1:, :-1])
    return out
