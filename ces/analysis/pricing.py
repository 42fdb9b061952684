"""Pricing-rule checks on the budget impact, with rule parameters from the country preset.

- Japan, market expansion repricing: see :mod:`ces.economics.repricing` (tiers, formula and floors
  from the Chuikyo rules in ``ces/settings/japan.yaml``).
- China, reported national-reimbursement ceilings (seed 003:4): the price per course is
  compared with each ceiling (highest first); the first exceeded gives the flag (year 1).
"""

from __future__ import annotations


def ceiling_flag(price: float, ceilings: list) -> str | None:
    for c in sorted(ceilings, key=lambda c: -c["price"]):
        if price > c["price"]:
            return c["flag"]
    return None
