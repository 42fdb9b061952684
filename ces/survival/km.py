"""Kaplan–Meier (product-limit) estimate with weights, Greenwood variance, and numbers at risk.

At each distinct event time t_j, with d_j = Σ w_i δ_i (events at t_j) and n_j = Σ_{t_i ≥ t_j} w_i
(at risk just before t_j):

    S(t) = Π_{t_j ≤ t} (1 − d_j / n_j),     Var S(t) = S(t)² Σ_{t_j ≤ t} d_j / (n_j (n_j − d_j))

(Kaplan & Meier, JASA 1958; Greenwood 1926).  Censored times tied with event times count as at risk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class KM:
    time: np.ndarray  # distinct event times
    surv: np.ndarray  # S just after each
    var: np.ndarray  # Greenwood variance
    n_risk: np.ndarray
    n_event: np.ndarray

    def at(self, t) -> np.ndarray:
        """S(t), right-continuous step function (1 before the first event)."""
        idx = np.searchsorted(self.time, np.asarray(t, dtype=float), side="right") - 1
        return np.where(idx >= 0, self.surv[np.clip(idx, 0, None)], 1.0)


def kaplan_meier(time, event, weight=None) -> KM:
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    w = np.ones_like(time) if weight is None else np.asarray(weight, dtype=float)
    ev_times = np.unique(time[(event > 0) & (w > 0)])
    n_risk = np.array([w[time >= t].sum() for t in ev_times])
    n_event = np.array([w[(time == t) & (event > 0)].sum() for t in ev_times])
    surv = np.cumprod(1.0 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(n_risk > n_event, n_event / (n_risk * (n_risk - n_event)), np.inf)
        var = np.where(surv > 0, surv ** 2 * np.cumsum(g), 0.0)  # S = 0 after the last patient dies
    return KM(ev_times, surv, var, n_risk, n_event)


def number_at_risk(time, at, weight=None) -> np.ndarray:
    """Σ w_i over subjects with t_i ≥ a, for each a in ``at`` (the usual at-risk table under a KM plot)."""
    time = np.asarray(time, dtype=float)
    w = np.ones_like(time) if weight is None else np.asarray(weight, dtype=float)
    return np.array([w[time >= a].sum() for a in np.atleast_1d(at)])
