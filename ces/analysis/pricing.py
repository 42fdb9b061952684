"""Pricing-rule checks on the budget impact, with rule parameters from the country preset.

- Japan, market expansion repricing (seed 000:239–240): in year t the rule fires when
  sales_t > ratio·forecast_t and sales_t > threshold for any tier; the user's price cut
  applies to patients starting treatment from year t+1.
- China, reported national-reimbursement ceilings (seed 003:4): the price per course is
  compared with each ceiling (highest first); the first exceeded gives the flag (year 1).
"""

from __future__ import annotations

import numpy as np


def repricing_year(sales: np.ndarray, forecast: np.ndarray, tiers: list) -> tuple:
    """(first 0-based year the rule fires, or None; the tier that fired)."""
    for t in range(len(sales)):
        for tier in tiers:
            if sales[t] > tier["ratio"] * forecast[t] and sales[t] > tier["sales"]:
                return t, tier
    return None, None


def ceiling_flag(price: float, ceilings: list) -> str | None:
    for c in sorted(ceilings, key=lambda c: -c["price"]):
        if price > c["price"]:
            return c["flag"]
    return None
