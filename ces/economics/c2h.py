"""Japan's cost-effectiveness evaluation (C2H / Chuikyo): the price adjustment after the ICER is appraised.

The result is a price, not a verdict (Chuikyo rules, coefficients in ``ces/settings/japan.yaml`` with
their sources).  For a product with price P, usefulness-premium portion A (有用性系加算部分) and, if it
was priced by cost accounting with cost disclosure under 50 %, operating-profit portion O (営業利益部分):

    P' = P − A·(1 − γ) − O·(1 − θ)

γ (premium) and θ (operating profit) are step coefficients of the ICER band: boundaries
¥5M / 7.5M / 10M per QALY, ×1.5 (¥7.5M / 11.25M / 15M) for products the appraisal names for special
consideration (anticancer drugs, diseases without adequate treatment, paediatric indications).
Limits on a downward adjustment:

- cap on the cut: P' ≥ P·(1 − c), c = 10 % if the premium rate r ≤ 25 %, 10 + (r − 25)/15 % for
  25 % < r ≤ 100 %, 15 % above 100 %;
- floor: the ICER at the adjusted price may not fall below the lower boundary (¥5M, or ¥7.5M):
  for a one-off price, ΔC(P') = ΔC − (P − P'), so P' ≥ P − (ΔC − b_0·ΔE).

Several analysis populations: P' is computed per population and weighted by the patient shares.
Upward adjustments (dominant or ICER < ¥2M/QALY under further conditions) are not implemented.
"""

from __future__ import annotations

import numpy as np


def band_index(icer: float, boundaries: list) -> int:
    """0 below the first boundary, k in [b_{k−1}, b_k), len(boundaries) at or above the last."""
    return int(np.searchsorted(np.asarray(boundaries, dtype=float), icer, side="right"))


def cut_cap(premium_rate: float, caps: dict) -> float:
    """Largest fractional cut allowed for a premium rate r (fraction): ``caps`` from the preset."""
    r = 100.0 * premium_rate
    if r <= caps["low_rate"]:
        return caps["low_cut"] / 100.0
    if r <= caps["high_rate"]:
        return (caps["low_cut"] + (r - caps["low_rate"]) / caps["slope_divisor"]) / 100.0
    return caps["high_cut"] / 100.0


def adjusted_price(price: float, premium: float, icer: float, rule: dict, considered: bool = False,
                   premium_rate: float = 0.0, operating_profit: float = 0.0, inc_cost: float | None = None,
                   inc_effect: float | None = None) -> dict:
    """The C2H-adjusted price for one population (see the module docstring)."""
    f = rule["special_factor"] if considered else 1.0
    b = [x * f for x in rule["boundaries"]]
    k = band_index(icer, b)
    g, t = rule["premium_coefficients"][k], rule["operating_profit_coefficients"][k]
    raw = price - premium * (1.0 - g) - operating_profit * (1.0 - t)
    limits = []
    lo_cap = price * (1.0 - cut_cap(premium_rate, rule["cut_cap"]))
    out = raw
    if out < lo_cap:
        out, limits = lo_cap, ["cap on the cut"]
    if out < price and inc_cost is not None and inc_effect is not None and inc_effect > 0:
        floor = price - (inc_cost - b[0] * inc_effect)
        if out < floor:
            out, limits = min(price, floor), limits + ["ICER floor"]
    return {"icer": icer, "band": k, "boundaries": b, "gamma": g, "theta": t, "unlimited_price": raw,
            "adjusted_price": out, "cut": 1.0 - out / price, "limited_by": ", ".join(limits)}


def band_table(price: float, premium: float, rule: dict, considered: bool = False, premium_rate: float = 0.0,
               operating_profit: float = 0.0) -> list:
    """Adjusted price and % cut in every ICER band (the cap applies; the ICER floor needs the model)."""
    f = rule["special_factor"] if considered else 1.0
    b = [x * f for x in rule["boundaries"]]
    edges = [0.0] + b
    rows = []
    for k, lo in enumerate(edges):
        hi = edges[k + 1] if k + 1 < len(edges) else float("inf")
        r = adjusted_price(price, premium, lo, rule, considered, premium_rate, operating_profit)
        rows.append({"band": f"{lo:,.0f}–{hi:,.0f}" if hi != float("inf") else f"≥ {lo:,.0f}",
                     "gamma": r["gamma"], "theta": r["theta"], "adjusted_price": r["adjusted_price"], "cut": r["cut"],
                     "limited_by": r["limited_by"]})
    return rows


def weighted_price(populations: list) -> float:
    """Σ share_i·P'_i over analysis populations [(share, adjusted price)]; shares must sum to 1."""
    s = sum(w for w, _ in populations)
    if abs(s - 1.0) > 1e-9:
        raise ValueError(f"population shares sum to {s:g}, must sum to 1")
    return float(sum(w * p for w, p in populations))
