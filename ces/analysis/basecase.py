"""Deterministic results tables: totals per strategy, the ICER table and NMB/NHB."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ces.analysis.icer import calculate_icers, nhb, nmb
from ces.economics.indirect import CAREGIVER_QALY
from ces.economics.perspectives import perspectives


def totals_table(names, streams, cost_streams, totals: np.ndarray, totals_undisc: np.ndarray,
                 payer_streams: list | None = None, bearers: dict | None = None) -> pd.DataFrame:
    """One row per strategy: total cost, QALYs, LYs (discounted), each cost category, and undiscounted values.

    ``cost`` is the healthcare-payer cost (``payer_streams``); every other perspective of
    :func:`ces.economics.perspectives.perspectives` adds a column ``cost_KEY`` (``cost_societal``,
    ``cost_societal_consumption``, ``cost_bearer_NAME``):
    the sum of that perspective's categories.
    """
    payer = payer_streams if payer_streams is not None else cost_streams
    persps = perspectives(cost_streams, payer, bearers)
    rows = []
    for i, s in enumerate(names):
        row = {"strategy": s}
        row["cost"] = float(sum(totals[i, streams.index(c)] for c in payer))
        for p in persps[1:]:
            extra = [c for c in p.categories if c not in payer]
            base = row["cost"] if len(extra) < len(p.categories) else 0.0
            row[p.cost_column] = base + float(sum(totals[i, streams.index(c)] for c in extra))
        row["qaly"] = float(totals[i, streams.index("qaly")])
        row["ly"] = float(totals[i, streams.index("ly")])
        if CAREGIVER_QALY in streams:  # caregiver health spillover: its own line, and the effect with it
            row[CAREGIVER_QALY] = float(totals[i, streams.index(CAREGIVER_QALY)])
            row["qaly_with_caregiver"] = row["qaly"] + row[CAREGIVER_QALY]
        for c in cost_streams:
            row[f"cost.{c}"] = float(totals[i, streams.index(c)])
        row["cost_undiscounted"] = float(sum(totals_undisc[i, streams.index(c)] for c in payer))
        row["qaly_undiscounted"] = float(totals_undisc[i, streams.index("qaly")])
        row["ly_undiscounted"] = float(totals_undisc[i, streams.index("ly")])
        for c in cost_streams:
            row[f"cost.{c}_undiscounted"] = float(totals_undisc[i, streams.index(c)])
        rows.append(row)
    return pd.DataFrame(rows)


def icer_table(totals: pd.DataFrame, effect: str, cost: str = "cost") -> pd.DataFrame:
    return calculate_icers(list(totals["strategy"]), totals[cost].to_numpy(), totals[effect].to_numpy())


def inventory_table(totals: pd.DataFrame, cost_streams: list, bearers: dict | None = None) -> pd.DataFrame:
    """Impact inventory (Second Panel on Cost-Effectiveness): every cost component per strategy,
    discounted and undiscounted, labelled by perspective.  A category of another bearer (hospital,
    manufacturer) is a societal cost outside the payer total."""
    from ces.economics.indirect import CONSUMPTION, INDIRECT

    rows = []
    for c in cost_streams:
        who = (bearers or {}).get(c, "payer")
        persp = ("societal (consumption)" if c == CONSUMPTION else "societal" if c in INDIRECT else
                 "healthcare payer" if who == "payer" else f"societal (borne by {who})")
        for _, r in totals.iterrows():
            rows.append({"component": c, "perspective": persp, "strategy": r["strategy"],
                         "discounted": r[f"cost.{c}"], "undiscounted": r[f"cost.{c}_undiscounted"]})
    return pd.DataFrame(rows)


def nmb_table(totals: pd.DataFrame, effect: str, wtps, cost_column: str = "cost") -> pd.DataFrame:
    """NMB = E·λ − C and NHB = E − C/λ for every strategy and WTP λ (NHB undefined at λ = 0).

    ``cost_column`` is the perspective's total cost C: ``cost`` (healthcare payer), or e.g. ``cost_societal``
    (:mod:`ces.economics.perspectives`), so each perspective's NMB comes from this one definition."""
    rows = []
    c = totals[cost_column].to_numpy()
    e = totals[effect].to_numpy()
    for w in wtps:
        b = nmb(c, e, w)
        h = nhb(c, e, w) if w > 0 else np.full(len(c), np.nan)
        best = int(np.argmax(b))
        for i, s in enumerate(totals["strategy"]):
            rows.append({"wtp": float(w), "strategy": s, "nmb": float(b[i]), "nhb": float(h[i]),
                         "optimal": i == best})
    return pd.DataFrame(rows, columns=["wtp", "strategy", "nmb", "nhb", "optimal"])
