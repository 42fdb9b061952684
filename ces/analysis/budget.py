"""Budget impact analysis (ISPOR good practice: Sullivan et al., Value Health 2014;17:5-14).

Inputs (pure): patients starting treatment in each calendar year t = 1..T, market shares
share[w][s][t] for the current and new worlds, and each strategy's per-patient cost stream
c[s][a] (a = years since treatment start, a = 0 is the treatment year), taken from the
model's own undiscounted per-cycle costs.

    budget_w(t) = Σ_{y ≤ t} patients(y) · Σ_s share_w[s][y] · c[s][t − y]

Net impact(t) = budget_new(t) − budget_current(t); cumulative = running sum; an optional
discount divides year t by (1+r)^(t−1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ces.errors import CesError


def funnel(size: float, rate: float, diagnosed: float, treated: float, eligible: float, growth: float,
           years: int) -> np.ndarray:
    """Patients per year = size·(1+growth)^(t−1) · rate · diagnosed · treated · eligible."""
    t = np.arange(years)
    return size * (1.0 + growth) ** t * rate * diagnosed * treated * eligible


def shares_by_year(spec: dict, strategies: list, years: int, what: str) -> np.ndarray:
    """(n_strategies, years) from {strategy: share | [share per year]}; columns must sum to 1."""
    out = np.zeros((len(strategies), years))
    for s, v in spec.items():
        if s not in strategies:
            raise CesError(f"budget_impact.{what}: unknown strategy `{s}` (strategies: {', '.join(strategies)})")
        arr = np.asarray(v, dtype=float)
        if arr.ndim == 0:
            arr = np.full(years, float(arr))
        if arr.shape != (years,):
            raise CesError(f"budget_impact.{what}.{s}: give one share or {years} (one per year), got {arr.size}")
        if np.any(arr < 0) or np.any(arr > 1):
            raise CesError(f"budget_impact.{what}.{s}: shares must lie in [0, 1]")
        out[strategies.index(s)] = arr
    tot = out.sum(axis=0)
    if np.any(np.abs(tot - 1.0) > 1e-9):
        y = int(np.argmax(np.abs(tot - 1.0)))
        raise CesError(f"budget_impact.{what}: market shares in year {y + 1} sum to {tot[y]:.6g}, must sum to 1")
    return out


def uptake_shares(current: np.ndarray, strategies: list, strategy: str, target: float, ramp: int,
                  years: int) -> np.ndarray:
    """New world: the new strategy's share rises linearly to ``target`` by year ``ramp``
    (share_t = target·min(1, t/ramp)); the other strategies keep their current-world
    proportions of the rest."""
    if ramp > years:
        raise CesError(f"budget_impact.uptake.years_to_target ({ramp}) is longer than the horizon ({years} years)")
    if strategy not in strategies:
        raise CesError(f"budget_impact.uptake.strategy: unknown strategy `{strategy}`")
    j = strategies.index(strategy)
    t = np.arange(1, years + 1)
    sh = target * np.minimum(1.0, t / ramp)
    out = np.zeros_like(current)
    rest = current.copy()
    rest[j] = 0.0
    norm = rest.sum(axis=0)
    if np.any(norm <= 0) and np.any(sh < 1):
        raise CesError("budget_impact.uptake: the current world has no other strategy to take share from")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(norm > 0, rest / norm, 0.0) * (1.0 - sh)
    out[j] = sh
    return out


def _cohorts(patients, strategies, streams, shares, price_adjust, row):
    """(cohort year y, strategy index, patients starting, per-patient stream) for every cohort with patients;
    ``price_adjust`` = (strategy, _, reduction by cohort year) lowers stream[row, 0] of that strategy."""
    for y in range(len(patients)):
        for i, s in enumerate(strategies):
            n = patients[y] * shares[i, y]
            if n == 0:
                continue
            st = streams[s]
            if price_adjust is not None and price_adjust[0] == s:
                st = st.copy()
                st[row, 0] -= price_adjust[2][y]
            yield y, i, n, st


def budget_tables(patients: np.ndarray, strategies: list, streams: dict, current: np.ndarray, new: np.ndarray,
                  categories: list, discount: float = 0.0, price_adjust: tuple | None = None) -> dict:
    """Per-year tables. streams[s]: (n_categories, n_years_of_stream) per-patient undiscounted costs.

    ``price_adjust`` = (strategy, category, reduction by cohort year): the one-off cost in the
    treatment year of cohort y is lowered by reduction[y] (e.g. price × cut after a repricing).
    """
    T = len(patients)
    d = (1.0 + discount) ** -np.arange(T)

    k = categories.index(price_adjust[1]) if price_adjust is not None else None

    def world(shares):
        by_cat = np.zeros((len(categories), T))
        by_strat = np.zeros((len(strategies), T))
        for y, i, n, st in _cohorts(patients, strategies, streams, shares, price_adjust, k):
            for a in range(T - y):
                col = st[:, a] if a < st.shape[1] else np.zeros(len(categories))
                by_cat[:, y + a] += n * col
                by_strat[i, y + a] += n * col.sum()
        return by_cat * d, by_strat * d

    cur_cat, cur_s = world(current)
    new_cat, new_s = world(new)
    years = np.arange(1, T + 1)
    summary = pd.DataFrame({"year": years, "patients": patients,
                            "current_total": cur_cat.sum(axis=0), "new_total": new_cat.sum(axis=0)})
    summary["net_impact"] = summary["new_total"] - summary["current_total"]
    summary["cumulative_impact"] = summary["net_impact"].cumsum()
    rows = []
    for w, shares, by_cat, by_s in (("current", current, cur_cat, cur_s), ("new", new, new_cat, new_s)):
        for t in range(T):
            row = {"world": w, "year": t + 1}
            for i, s in enumerate(strategies):
                row[f"patients.{s}"] = patients[t] * shares[i, t]
            for i, s in enumerate(strategies):
                row[f"cost.{s}"] = by_s[i, t]
            for k, c in enumerate(categories):
                row[f"cost.{c}"] = by_cat[k, t]
            row["total"] = by_cat[:, t].sum()
            rows.append(row)
    return {"summary": summary, "detail": pd.DataFrame(rows)}


def annual_streams(periods: np.ndarray, initial: np.ndarray, period_years: np.ndarray, n_years: int) -> np.ndarray:
    """Per-patient undiscounted cost by year since start: period values summed into whole years.

    periods: (R, n+1) undiscounted value of each reward period; initial: (R,) one-off costs at
    time 0 (year 0); period_years: (n+1,) year index of each period.
    """
    out = np.zeros((periods.shape[0], n_years))
    for k in range(periods.shape[1]):
        y = int(period_years[k])
        if y < n_years:
            out[:, y] += periods[:, k]
    out[:, 0] += initial
    return out


def budget_draws(patients: np.ndarray, strategies: list, streams: dict, current: np.ndarray, new: np.ndarray,
                 discount: float = 0.0, price_adjust: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-draw budgets of both worlds, (D, T) each: the formula of :func:`budget_tables` with
    streams[s] of shape (D, n_years_of_stream) (total over the counted categories per year since start).
    ``price_adjust`` = (strategy, reduction by cohort year), subtracted in the treatment year."""
    T = len(patients)
    d = (1.0 + discount) ** -np.arange(T)

    adjust = (price_adjust[0], None, price_adjust[1]) if price_adjust is not None else None

    def world(shares):
        D = next(iter(streams.values())).shape[0]
        out = np.zeros((D, T))
        for y, _, n, st in _cohorts(patients, strategies, streams, shares, adjust, slice(None)):
            m = min(T - y, st.shape[1])
            out[:, y:y + m] += n * st[:, :m]
        return out * d
    return world(current), world(new)


def interval_table(net: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Mean and central ``level`` interval per year of the net impact and of its running sum, over draws (D, T)."""
    lo, hi = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    cum = np.cumsum(net, axis=1)
    return pd.DataFrame({"year": np.arange(1, net.shape[1] + 1), "net_impact_mean": net.mean(axis=0),
                         "net_impact_lower": np.percentile(net, lo, axis=0),
                         "net_impact_upper": np.percentile(net, hi, axis=0),
                         "cumulative_mean": cum.mean(axis=0), "cumulative_lower": np.percentile(cum, lo, axis=0),
                         "cumulative_upper": np.percentile(cum, hi, axis=0), "n_draws": net.shape[0]})
