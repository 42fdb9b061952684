"""Deterministic incremental cost-effectiveness analysis.

Pure functions over numpy arrays: :func:`calculate_icers` (efficiency frontier with
strong and extended dominance), :func:`nmb` (net monetary benefit) and :func:`nhb`
(net health benefit).

Conventions follow Drummond et al., *Methods for the Economic Evaluation of Health
Care Programmes* (4th ed., 2015, ch. 4) and the ``calculate_icers`` function of the
DARTH ``dampack`` R package (Alarid-Escudero et al.); the implementation is our own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ces.errors import CesError

__all__ = ["calculate_icers", "nmb", "nhb", "ICER_COLUMNS", "COLLINEAR_RTOL"]

#: Columns of the table returned by :func:`calculate_icers`, in order.
ICER_COLUMNS = ["strategy", "cost", "effect", "inc_cost", "inc_effect", "icer", "status", "ref"]

#: Relative tolerance used to decide that three frontier points are collinear (equal
#: ICERs); see :func:`calculate_icers`.
COLLINEAR_RTOL = 1e-9


def _as_vector(values: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise CesError(f"{name} must be numbers") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise CesError(f"{name} must be a one-dimensional sequence of numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise CesError(f"{name} must be finite numbers (no NaN or infinity)")
    return arr


def _above_chord(c_prev: float, e_prev: float, c_mid: float, e_mid: float,
                 c_next: float, e_next: float) -> bool:
    """True when the middle point lies strictly above the line joining its neighbours.

    Requires ``e_prev < e_mid < e_next``.  Equivalent to
    ``ICER(mid vs prev) > ICER(next vs mid)`` but written as a cross product (no
    division); points within ``COLLINEAR_RTOL`` of the chord count as collinear.
    """
    lhs = (c_mid - c_prev) * (e_next - e_mid)
    rhs = (c_next - c_mid) * (e_mid - e_prev)
    return bool(lhs - rhs > COLLINEAR_RTOL * (abs(lhs) + abs(rhs)))


def calculate_icers(strategies: Sequence[str], costs: ArrayLike, effects: ArrayLike) -> pd.DataFrame:
    """Incremental analysis along the cost-effectiveness (efficiency) frontier.

    Algorithm (Drummond et al. 2015, ch. 4; same conventions as dampack
    ``calculate_icers``):

    1. **Strong dominance** (status ``"D"``): a strategy is dominated when another
       strategy has cost <= and effect >= with at least one inequality strict.  Hence
       with equal effects the costlier strategy is D, and with equal costs the less
       effective strategy is D.
    2. **Identical strategies** (same cost *and* same effect, compared exactly): the
       one listed first in the input is kept and evaluated as usual; every later
       duplicate is labelled ``"D"`` (it offers nothing the first does not).  This
       matches dampack, which sorts stably by cost and labels the later copy as
       dominated.
    3. **Extended dominance** (status ``"ED"``): the remaining strategies are sorted by
       effect (then cost) -- they are then strictly increasing in both -- and a
       strategy is extendedly dominated when its ICER versus the previous frontier
       strategy is *strictly greater* than the ICER of the next frontier strategy
       versus it, i.e. it lies strictly above the line joining its neighbours.  This
       is repeated until the frontier ICERs no longer decrease (implemented as a
       single lower-convex-hull sweep, which gives the same set as repeated
       removal because a point above a chord of two other points can never be on
       the frontier).
    4. **Collinear points**: a strategy lying *on* the line joining its neighbours
       (equal ICERs, up to a relative tolerance ``COLLINEAR_RTOL`` = 1e-9 on the cross
       product to absorb rounding) is **not** extendedly dominated and stays ``"ND"``;
       its ICER equals the next one's.  This follows dampack, which flags ED only when
       ``ICER[i] > ICER[i + 1]`` (strict); the decision maker is indifferent between
       it and a mix of its neighbours, so removing it would not be justified.

    Parameters
    ----------
    strategies:
        Unique strategy names.
    costs, effects:
        Expected (mean) cost and effect of each strategy, same length as
        ``strategies``; finite numbers.

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy, cost, effect, inc_cost, inc_effect, icer, status, ref``.
        ``status`` is ``"ND"`` (on the frontier), ``"ED"`` or ``"D"``.  For frontier
        strategies the increments and ``icer = inc_cost / inc_effect`` are relative to
        the previous frontier strategy, named in ``ref``; the first frontier strategy
        and all dominated strategies have NaN increments/ICER and ``ref`` = None.
        Rows: frontier strategies by increasing cost, then ED strategies, then D
        strategies, each group by increasing cost (then decreasing effect, then input
        order).  Index is 0..n-1.

    Raises
    ------
    CesError
        No strategies, unequal lengths, non-finite values, duplicate or empty names.
    """
    if isinstance(strategies, str):
        raise CesError("strategies must be a sequence of names, not a single string")
    names = list(strategies)
    if not names:
        raise CesError("at least one strategy is needed for an incremental analysis")
    for name in names:
        if not isinstance(name, str) or not name:
            raise CesError(f"strategy names must be non-empty strings, got {name!r}")
    dupes = sorted(name for name, count in Counter(names).items() if count > 1)
    if dupes:
        raise CesError(f"strategy names must be unique; repeated: {', '.join(dupes)}")
    cost = _as_vector(costs, "costs")
    eff = _as_vector(effects, "effects")
    n = len(names)
    if len(cost) != n or len(eff) != n:
        raise CesError(
            f"strategies, costs and effects must have the same length "
            f"(got {n}, {len(cost)}, {len(eff)})")

    # 1-2. strong dominance and identical duplicates (O(n^2); n is small).
    c_j, c_i = cost[:, None], cost[None, :]
    e_j, e_i = eff[:, None], eff[None, :]
    weakly_better = (c_j <= c_i) & (e_j >= e_i)
    strictly = (c_j < c_i) | (e_j > e_i)
    dominated = np.any(weakly_better & strictly, axis=0)
    identical_earlier = np.triu((c_j == c_i) & (e_j == e_i), k=1)  # [j, i] with j < i
    dominated |= np.any(identical_earlier, axis=0)

    status = np.full(n, "D", dtype=object)
    candidates = np.flatnonzero(~dominated)
    # Sorted by effect then cost; after step 1-2 both are strictly increasing.
    candidates = candidates[np.lexsort((cost[candidates], eff[candidates]))]

    # 3-4. extended dominance: lower convex hull sweep, collinear points kept.
    frontier: list[int] = []
    for k in candidates:
        while len(frontier) >= 2:
            p, m = frontier[-2], frontier[-1]
            if _above_chord(cost[p], eff[p], cost[m], eff[m], cost[k], eff[k]):
                status[m] = "ED"
                frontier.pop()
            else:
                break
        frontier.append(int(k))
    status[frontier] = "ND"

    inc_cost = np.full(n, np.nan)
    inc_eff = np.full(n, np.nan)
    icer = np.full(n, np.nan)
    ref: list[str | None] = [None] * n
    for prev, cur in zip(frontier[:-1], frontier[1:]):
        inc_cost[cur] = cost[cur] - cost[prev]
        inc_eff[cur] = eff[cur] - eff[prev]
        icer[cur] = inc_cost[cur] / inc_eff[cur]
        ref[cur] = names[prev]

    group = np.select([status == "ND", status == "ED"], [0, 1], default=2)
    order = np.lexsort((np.arange(n), -eff, cost, group))
    return pd.DataFrame({
        "strategy": [names[i] for i in order],
        "cost": cost[order],
        "effect": eff[order],
        "inc_cost": inc_cost[order],
        "inc_effect": inc_eff[order],
        "icer": icer[order],
        "status": [str(status[i]) for i in order],
        "ref": pd.Series([ref[i] for i in order], dtype=object),
    }, columns=ICER_COLUMNS)


def _as_float_array(values: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise CesError(f"{name} must be numbers") from None
    if not np.all(np.isfinite(arr)):
        raise CesError(f"{name} must be finite numbers (no NaN or infinity)")
    return arr


def nmb(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike) -> np.ndarray:
    """Net monetary benefit ``effect * wtp - cost`` (Stinnett & Mullahy 1998).

    Ordinary numpy broadcasting applies (e.g. ``wtp[:, None]`` against per-strategy
    vectors gives an ``[n_wtp, n_strategies]`` array).  ``wtp`` must be finite and >= 0.
    """
    c = _as_float_array(costs, "costs")
    e = _as_float_array(effects, "effects")
    w = _as_float_array(wtp, "wtp")
    if np.any(w < 0):
        raise CesError("willingness-to-pay must be >= 0")
    try:
        return e * w - c
    except ValueError:
        raise CesError(
            f"costs, effects and wtp cannot be broadcast together "
            f"(shapes {c.shape}, {e.shape}, {w.shape})") from None


def nhb(costs: ArrayLike, effects: ArrayLike, wtp: ArrayLike) -> np.ndarray:
    """Net health benefit ``effect - cost / wtp`` (Stinnett & Mullahy 1998).

    Broadcasting as in :func:`nmb`; ``wtp`` must be finite and strictly positive.
    """
    c = _as_float_array(costs, "costs")
    e = _as_float_array(effects, "effects")
    w = _as_float_array(wtp, "wtp")
    if np.any(w <= 0):
        raise CesError("willingness-to-pay must be > 0 for net health benefit")
    try:
        return e - c / w
    except ValueError:
        raise CesError(
            f"costs, effects and wtp cannot be broadcast together "
            f"(shapes {c.shape}, {e.shape}, {w.shape})") from None
