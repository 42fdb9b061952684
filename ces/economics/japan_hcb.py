"""Japan's high-cost medical expense benefit (高額療養費, kōgaku ryōyōhi): the patient's capped cost-sharing.

Under 70, a patient pays the co-insurance c (30 %) of the monthly medical cost x, capped by the
income bracket's monthly limit (table in ``ces/settings/japan.yaml`` with its source):

    cap(x) = fixed + max(0, x − base)·rate,   OOP(x) = min(c·x, cap(x)),

and, from the 4th month in 12 with the limit reached (多数回該当), OOP(x) = min(c·x, many).  From
August 2026 an annual maximum applies (¥530,000 for the middle bracket, seed 002:839): the sum of
OOP over a year (here: each year since treatment start) is at most ``annual``.  The insurer pays
x − OOP(x).

Cohort models give expected costs per patient, not per individual; the cap is applied to the
average monthly cost of a patient alive in that month (x_k = m_k / alive_k), which is exact when
costs are homogeneous among the living and an approximation otherwise (the cap is concave).
"""

from __future__ import annotations

import numpy as np


def monthly_oop(cost: float, bracket: dict, coinsurance: float, many: bool = False) -> tuple[float, bool]:
    """(patient's payment for one month's medical cost, whether the limit bound)."""
    share = coinsurance * cost
    limit = bracket["many"] if many and bracket.get("many") is not None else (
        bracket["fixed"] + max(0.0, cost - bracket.get("base", 0.0)) * bracket.get("rate", 0.0))
    return (limit, True) if share > limit else (share, False)


def oop_stream(monthly_cost: np.ndarray, bracket: dict, coinsurance: float, annual: float | None = None) -> np.ndarray:
    """Patient payments month by month (month 0 = the treatment month), with the many-times rule
    (4th+ capped month in the last 12) and the annual maximum per 12-month year since start."""
    out = np.zeros(len(monthly_cost))
    hits: list = []
    year_total = 0.0
    for m, x in enumerate(monthly_cost):
        if m % 12 == 0:
            year_total = 0.0
        recent = sum(1 for h in hits if m - 12 < h < m)
        pay, bound = monthly_oop(float(x), bracket, coinsurance, many=recent >= 3)
        if bound:
            hits.append(m)
        if annual is not None:
            pay = min(pay, max(0.0, annual - year_total))
        year_total += pay
        out[m] = pay
    return out


def cost_sharing(periods_cost: np.ndarray, alive: np.ndarray, disc: np.ndarray, bracket: dict, coinsurance: float,
                 annual: float | None = None) -> dict:
    """Split of one strategy's healthcare cost (per patient, monthly periods incl. one-offs in period 0/1)
    into the patient's OOP and the insurer's cost, discounted with ``disc``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        per_alive = np.where(alive > 0, periods_cost / alive, 0.0)
    oop = oop_stream(per_alive, bracket, coinsurance, annual) * alive
    return {"total": float(periods_cost @ disc), "patient": float(oop @ disc),
            "insurer": float((periods_cost - oop) @ disc), "patient_undiscounted": float(oop.sum())}
