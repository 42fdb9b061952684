"""Japan: market-expansion repricing (市場拡大再算定), Chuikyo drug-pricing rules; tiers in ``japan.yaml``.

A tier fires in year t when annual sales S_t exceed its sales threshold (and, for the special tiers,
do not exceed its upper bound) and the market-expansion ratio X = S_t / forecast_t reaches its ratio,
and the product's pricing method is one the tier names (the 10× / ¥10bn tier: cost accounting only).
The repriced price (Chuikyo 薬価専門部会 no. 205, 2023-07-26, "市場拡大再算定対象品等の計算方法"):

    P' = P·{0.9^(log X / log B) + α},  B = 2 for the ordinary tiers (X = 2, α = 0 gives −10 %),

α = the correction premium rate for verified usefulness (0 when none), bounded below by the tier's
floor for the pricing method: P' ≥ floor·P (75/100 cost accounting, 85/100 comparator method; 50/100
for the > ¥150bn special tier) and P' ≤ P.  When several tiers fire, the lowest price is taken.
"""

from __future__ import annotations

import math


def repriced_price(price: float, ratio: float, alpha: float, floor: float, log_base: float = 2.0) -> float:
    """P·{0.9^(log X / log B) + α}, limited to [floor·P, P]."""
    factor = 0.9 ** (math.log(ratio) / math.log(log_base)) + alpha
    return price * min(1.0, max(floor, factor))


def fired_tier(sales: float, forecast: float, tiers: list, method: str) -> dict | None:
    """The tiers whose conditions hold for one year's sales; None if none."""
    if forecast <= 0:
        return None
    x = sales / forecast
    out = [t for t in tiers if method in t["floor"] and sales > t["sales_above"]
           and (t.get("sales_at_most") is None or sales <= t["sales_at_most"]) and x >= t["ratio_at_least"]]
    return out or None


def repricing(price: float, sales, forecast, tiers: list, method: str, alpha: float = 0.0) -> dict:
    """First year (0-based) a tier fires, the tier and the repriced price (lowest over fired tiers)."""
    for t, (s, f) in enumerate(zip(sales, forecast)):
        fired = fired_tier(float(s), float(f), tiers, method)
        if fired:
            x = float(s) / float(f)
            best = min(fired, key=lambda tr: repriced_price(price, x, alpha, tr["floor"][method], tr.get("log_base", 2)))
            p = repriced_price(price, x, alpha, best["floor"][method], best.get("log_base", 2))
            return {"year": t, "tier": best, "ratio": x, "price": p, "cut": 1.0 - p / price}
    return {"year": None, "tier": None, "ratio": None, "price": price, "cut": 0.0}
