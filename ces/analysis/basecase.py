"""Deterministic results tables: totals per strategy, the ICER table and NMB/NHB."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ces.analysis.icer import calculate_icers, nhb, nmb


def totals_table(names, streams, cost_streams, totals: np.ndarray, totals_undisc: np.ndarray) -> pd.DataFrame:
    """One row per strategy: total cost, QALYs, LYs (discounted), each cost category, and undiscounted values."""
    rows = []
    for i, s in enumerate(names):
        row = {"strategy": s}
        row["cost"] = float(sum(totals[i, streams.index(c)] for c in cost_streams))
        row["qaly"] = float(totals[i, streams.index("qaly")])
        row["ly"] = float(totals[i, streams.index("ly")])
        for c in cost_streams:
            row[f"cost.{c}"] = float(totals[i, streams.index(c)])
        row["cost_undiscounted"] = float(sum(totals_undisc[i, streams.index(c)] for c in cost_streams))
        row["qaly_undiscounted"] = float(totals_undisc[i, streams.index("qaly")])
        row["ly_undiscounted"] = float(totals_undisc[i, streams.index("ly")])
        for c in cost_streams:
            row[f"cost.{c}_undiscounted"] = float(totals_undisc[i, streams.index(c)])
        rows.append(row)
    return pd.DataFrame(rows)


def icer_table(totals: pd.DataFrame, effect: str) -> pd.DataFrame:
    return calculate_icers(list(totals["strategy"]), totals["cost"].to_numpy(), totals[effect].to_numpy())


def nmb_table(totals: pd.DataFrame, effect: str, wtps) -> pd.DataFrame:
    """NMB = E·λ − C and NHB = E − C/λ for every strategy and WTP λ (NHB undefined at λ = 0)."""
    rows = []
    c = totals["cost"].to_numpy()
    e = totals[effect].to_numpy()
    for w in wtps:
        b = nmb(c, e, w)
        h = nhb(c, e, w) if w > 0 else np.full(len(c), np.nan)
        best = int(np.argmax(b))
        for i, s in enumerate(totals["strategy"]):
            rows.append({"wtp": float(w), "strategy": s, "nmb": float(b[i]), "nhb": float(h[i]),
                         "optimal": i == best})
    return pd.DataFrame(rows, columns=["wtp", "strategy", "nmb", "nhb", "optimal"])
