"""Cost shares per payer (e.g. China's payer tiers for CAR-T, seed 003:1-7): the CEA and the BIA per payer.

Each cost category k is split among payers with shares w[p][k] (Σ_p w[p][k] = 1; a ``default``
row applies to categories not listed).  Payer p's cost of strategy s is C_p(s) = Σ_k w[p][k]·C_k(s),
so the payer's ICER is ΔC_p / ΔE (the effect is not split) and its budget impact in year t is
Σ_k w[p][k]·(new_k(t) − current_k(t)).  Shares are the analyst's assumptions (no shipped source).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ces.errors import CesError


def share_matrix(shares: dict, categories: list) -> tuple[list, np.ndarray]:
    """(payers, W) with W[p, k] the share of category k paid by payer p; columns sum to 1."""
    payers = []
    for row in shares.values():
        for p in row:
            if p not in payers:
                payers.append(p)
    unknown = [k for k in shares if k != "default" and k not in categories]
    if unknown:
        raise CesError(f"payers.shares: unknown cost category `{unknown[0]}` (model has: {', '.join(categories)}, "
                       "or default)")
    W = np.zeros((len(payers), len(categories)))
    for j, k in enumerate(categories):
        row = shares.get(k, shares.get("default"))
        if row is None:
            raise CesError(f"payers.shares: no shares for category `{k}` (give it, or a `default` row)")
        tot = sum(float(v) for v in row.values())
        if abs(tot - 1.0) > 1e-9 or any(float(v) < 0 for v in row.values()):
            raise CesError(f"payers.shares.{k if k in shares else 'default'}: shares must be >= 0 and sum to 1 "
                           f"(got {tot:g})")
        for p, v in row.items():
            W[payers.index(p), j] = float(v)
    return payers, W


def payer_cea(totals: pd.DataFrame, categories: list, effect: str, payers: list, W: np.ndarray,
              strategy: str, comparator: str) -> pd.DataFrame:
    """Cost of each strategy per payer and the payer's incremental cost and ICER (strategy vs comparator)."""
    t = totals.set_index("strategy")
    C = np.array([[float(t.loc[s, f"cost.{k}"]) for k in categories] for s in (comparator, strategy)])
    de = float(t.loc[strategy, effect] - t.loc[comparator, effect])
    rows = []
    for i, p in enumerate(payers + ["all payers"]):
        w = W.sum(axis=0) if p == "all payers" else W[i]
        c0, c1 = float(C[0] @ w), float(C[1] @ w)
        rows.append({"payer": p, f"cost.{comparator}": c0, f"cost.{strategy}": c1, "inc_cost": c1 - c0,
                     "inc_effect": de, "icer": (c1 - c0) / de if de != 0 else float("nan")})
    return pd.DataFrame(rows)


def payer_budget(detail: pd.DataFrame, categories: list, payers: list, W: np.ndarray) -> pd.DataFrame:
    """Net budget impact per payer and year from the BIA detail table (cost.{category} per world)."""
    cur = detail[detail["world"] == "current"].set_index("year")
    new = detail[detail["world"] == "new"].set_index("year")
    net = np.column_stack([new[f"cost.{k}"] - cur[f"cost.{k}"] for k in categories])  # (T, K)
    out = pd.DataFrame({"year": cur.index.to_numpy()})
    for i, p in enumerate(payers):
        out[f"net_impact.{p}"] = net @ W[i]
        out[f"new_total.{p}"] = np.column_stack([new[f"cost.{k}"] for k in categories]) @ W[i]
    return out


def payer_analysis(res) -> dict:
    """The CEA and, with a budget impact, the BIA per payer, from a run result (ces.analysis.results.RunResult):
    the config's ``payers:`` shares split the payer's cost categories (:func:`share_matrix`), then
    :func:`payer_cea` and :func:`payer_budget` (on the run's budget-impact detail, if any)."""

    loaded = res.loaded
    spec = loaded.config.payers
    cl = loaded.config_loc
    names = list(res.model.strategies)
    comp = spec.comparator or names[0]
    for key, x in (("strategy", spec.strategy), ("comparator", comp)):
        if x not in names:
            raise (cl.error(("payers", key), f"unknown strategy `{x}` (strategies: {', '.join(names)})") if cl
                   else CesError(f"unknown strategy `{x}`"))
    cats = list(res.model.payer_streams)  # healthcare cost categories (indirect costs have no payer)
    try:
        payers, W = share_matrix(spec.shares, cats)
    except CesError as exc:
        raise (cl.error(("payers", "shares"), exc.message) if cl else exc) from None
    out = {"shares": pd.DataFrame(W, index=payers, columns=cats).reset_index(names="payer"),
           "cea": payer_cea(res.totals, cats, loaded.model.effect, payers, W, spec.strategy, comp), "bia": None}
    if res.budget is not None:
        bcats = [c for c in cats if f"cost.{c}" in res.budget["detail"].columns]
        out["bia"] = payer_budget(res.budget["detail"], bcats, payers, W[:, [cats.index(c) for c in bcats]])
    return out
