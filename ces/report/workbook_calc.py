"""The workbook's formula sheets: ``calc <strategy>`` (per-cycle values and discount factors), the
``base_case_totals`` formulas over them, and the ``base_case_icer*`` / NMB cells linked to the totals.

Every formula is the sum the engine computes (:func:`ces.engine.kernels.accumulate_rewards`); the
layout of the workbook is described in :mod:`ces.report.workbook`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ces.engine import conventions as cv
from ces.report.workbook_style import EFFECT_FMT, HEADER_ROW, _Book, _cell_value, _col, _ref


def calc_sheet(book: _Book, run, strategy: str) -> dict:
    """The per-cycle calculation sheet of one strategy; returns {stream: (discounted, undiscounted) formula}.

    The formulas returned are the totals ``SUMPRODUCT(value, d) + one-off + adjustment`` and
    ``SUM(value) + one-off + adjustment`` of each stream over this sheet's cells.
    """
    model = run.model
    spec = run.loaded.model
    r = run.base.results[strategy]
    n = model.n_cycles
    streams = model.streams
    costs = model.cost_streams
    cur = spec.currency
    label = model.strategies[strategy].label
    cycles, times = cv.period_cycles_and_times(spec.correction, n, model.cycle_years)
    alpha, beta = r.weights
    disc = r.disc
    ci = streams.index(costs[0]) if costs else None
    qi = streams.index("qaly")
    d_cost = disc[ci] if ci is not None else disc[qi]
    d_eff = disc[qi]
    unit = {s: (f"[{cur}]" if s in costs and cur else ("[QALY]" if s == "qaly" else ("[LY]" if s == "ly" else "")))
            for s in streams}
    head = ["period k", "cycle", "time (years)"] + (["age (years)"] if spec.start_age is not None else [])
    head += [f"occupancy {s}" for s in model.states] + ["α_k (weight of m_k-1)", "β_k (weight of m_k)",
                                                        "d_k costs", "d_k effects"]
    c_val = len(head) + 1
    head += [f"{s} in period, undiscounted {unit[s]}".strip() for s in streams]
    c_dis = len(head) + 1
    head += [f"{s} in period, discounted {unit[s]}".strip() for s in streams]
    d = spec.discount
    title = (f"Calculation sheet: {label} ({strategy}); currency {cur or 'not set'}; healthcare payer and "
             f"societal categories as columns; correction {spec.correction}; discount costs {d.costs:g}, "
             f"effects {d.effects:g} per year ({d.method}, timing {d.timing}); cycle {model.cycle_years:g} years")
    ws = book.sheet(f"calc {strategy}", title, head)
    r0 = HEADER_ROW + 1
    r1 = r0 + n
    c_dc = c_val - 2
    c_de = c_val - 1
    occ = r.trace[0]
    for k in range(n + 1):
        row = r0 + k
        vals = [k, float(cycles[k]), float(times[k])]
        if spec.start_age is not None:
            vals.append(float(spec.start_age) + float(times[k]))
        vals += [float(x) for x in occ[k]] + [float(alpha[k]), float(beta[k]), float(d_cost[k]), float(d_eff[k])]
        for j, v in enumerate(vals, start=1):
            ws.cell(row, j, v)
        for si, s in enumerate(streams):
            c = ws.cell(row, c_val + si, float(r.periods[0, si, k]))
            c.number_format = book.money if s in costs else EFFECT_FMT
            dcol = c_dc if s in costs else c_de
            assert np.array_equal(disc[si], d_cost if s in costs else d_eff)
            f = ws.cell(row, c_dis + si, f"={_ref(ws.title, c_val + si, row, False)}*"
                                         f"{_ref(ws.title, dcol, row, False)}")
            f.number_format = c.number_format
    # one-offs and adjustments, then the sums
    r_one = r1 + 2
    ws.cell(r_one, 1, "one-off costs at time 0 (never discounted or weighted)")
    r_adj = r_one + 1
    ws.cell(r_adj, 1, "payment-model adjustment (discounted / undiscounted schedule − upfront price)")
    r_tree = r_adj + 1
    ws.cell(r_tree, 1, "decision-tree timing: payoffs at t_n and model runs entered at T_n discounted by d(t) "
                       "(docs/tree.md; the tree's total − the rows above; 0 without tree durations)")
    r_sum = r_tree + 1
    ws.cell(r_sum, 1, "total (undiscounted: SUM; discounted: SUMPRODUCT with d_k)")
    pay = run.payment if run.payment is not None and run.payment["strategy"] == strategy else None
    out = {}
    for si, s in enumerate(streams):
        one = float(r.initial[0, si])
        adj_d = adj_u = 0.0
        if pay is not None and s == pay["category"]:
            adj_d, adj_u = float(pay["cea_adjustment"]), float(pay["cea_adjustment_undiscounted"])
        fmt = book.money if s in costs else EFFECT_FMT
        for col, val in ((c_val + si, one), (c_dis + si, one)):
            ws.cell(r_one, col, val).number_format = fmt
        ws.cell(r_adj, c_val + si, adj_u).number_format = fmt
        ws.cell(r_adj, c_dis + si, adj_d).number_format = fmt
        dcol = c_dc if s in costs else c_de
        tree_d = tree_u = 0.0
        if getattr(r, "tree_paths", None):  # E_r of docs/tree.md minus the per-period sum on model time
            dk = d_cost if s in costs else d_eff
            tree_d = float(r.totals[0, si]) - (float(r.periods[0, si] @ dk) + one)
            tree_u = float(r.totals_undisc[0, si]) - (float(r.periods[0, si].sum()) + one)
        ws.cell(r_tree, c_val + si, tree_u).number_format = fmt
        ws.cell(r_tree, c_dis + si, tree_d).number_format = fmt
        vals = _col(ws.title, c_val + si, r0, r1)
        f_d = (f"SUMPRODUCT({vals},{_col(ws.title, dcol, r0, r1)})+{_ref(ws.title, c_dis + si, r_one)}"
               f"+{_ref(ws.title, c_dis + si, r_adj)}+{_ref(ws.title, c_dis + si, r_tree)}")
        f_u = (f"SUM({vals})+{_ref(ws.title, c_val + si, r_one)}+{_ref(ws.title, c_val + si, r_adj)}"
               f"+{_ref(ws.title, c_val + si, r_tree)}")
        ws.cell(r_sum, c_val + si, "=" + f_u).number_format = fmt
        ws.cell(r_sum, c_dis + si, "=" + f_d).number_format = fmt
        out[s] = (f_d, f_u)
    return out


def _composition(col: str, model) -> tuple | None:
    """How ces builds a totals column (see :func:`ces.analysis.basecase.totals_table`): (base column, streams).

    ``cost`` = Σ payer categories; ``cost_societal`` = cost + Σ societal categories;
    ``cost_societal_consumption`` = cost_societal + consumption; ``cost.C`` / ``qaly`` / ``ly`` = that stream.
    The same with ``_undiscounted``.  None for a column this module does not know (written as a value).
    """
    from ces.economics.indirect import CONSUMPTION, SOCIETAL

    und = col.endswith("_undiscounted")
    c = col[: -len("_undiscounted")] if und else col
    if c.startswith("cost.") and c[5:] in model.streams:
        return None, [c[5:]], und
    if c in ("qaly", "ly"):
        return None, [c], und
    if c == "cost":
        return None, list(model.payer_streams), und
    if c == "cost_societal" and not und:
        return "cost", [s for s in model.cost_streams if s in SOCIETAL], und
    if c == "cost_societal_consumption" and not und:
        return "cost_societal", [CONSUMPTION], und
    return None


def totals_sheet(book: _Book, run):
    """base_case_totals (headers and strategies); :func:`fill_totals` writes the formulas."""
    cur = book.currency
    persp = {"cost": "healthcare payer", "cost_societal": "societal", "cost_societal_consumption":
             "societal incl. consumption"}

    def header(c):
        base = c.replace("_undiscounted", "")
        if base in ("qaly", "ly") or c == "strategy":
            return c
        p = persp.get(base, "")
        return f"{c} [{cur}]" + (f" ({p})" if p else "") if cur else c
    ws = book.sheet("base_case_totals", f"Base-case totals per strategy ({cur or 'no currency'}); every number "
                    "is a formula over the calculation sheets", [header(c) for c in run.totals.columns] + ["label"])
    last = len(run.totals.columns) + 1  # the strategy label, after the formula columns (their places are fixed)
    for i, s in enumerate(run.totals["strategy"]):
        ws.cell(HEADER_ROW + 1 + i, 1, s)
        ws.cell(HEADER_ROW + 1 + i, last, run.model.strategies[s].label)
    return ws


def fill_totals(book: _Book, ws, run, formulas: dict) -> None:
    totals = run.totals
    cols = list(totals.columns)
    for i, s in enumerate(totals["strategy"]):
        row = HEADER_ROW + 1 + i
        for j, c in enumerate(cols[1:], start=2):
            comp = _composition(c, run.model)
            if comp is None:
                ws.cell(row, j, _cell_value(totals.iloc[i][c]))
                continue
            base, streams, und = comp
            terms = [formulas[s][st][1 if und else 0] for st in streams]
            expr = "+".join(f"({t})" for t in terms) if terms else "0"
            if base is not None:
                expr = f"{_ref(ws.title, cols.index(base) + 1, row)}+({expr})"
            cell = ws.cell(row, j, "=" + expr)
            cell.number_format = EFFECT_FMT if c.replace("_undiscounted", "") in ("qaly", "ly") else book.money


def icer_sheet(book: _Book, name: str, title: str, df: pd.DataFrame):
    """The incremental analysis with inc_cost, inc_effect and icer as formulas over the sheet's own cells."""
    from openpyxl.utils import get_column_letter

    ws = book.table(name, title, df)
    cols = list(df.columns)
    need = ("strategy", "cost", "effect", "inc_cost", "inc_effect", "icer", "ref")
    if not all(c in cols for c in need):
        return ws
    L = {c: get_column_letter(cols.index(c) + 1) for c in need}
    rows = {s: HEADER_ROW + 1 + i for i, s in enumerate(df["strategy"])}
    for i, (s, ref) in enumerate(zip(df["strategy"], df["ref"])):
        if not isinstance(ref, str) or ref not in rows or pd.isna(df["icer"].iloc[i]):
            continue
        r, q = HEADER_ROW + 1 + i, rows[ref]
        ws[f"{L['inc_cost']}{r}"] = f"={L['cost']}{r}-{L['cost']}{q}"
        ws[f"{L['inc_effect']}{r}"] = f"={L['effect']}{r}-{L['effect']}{q}"
        ws[f"{L['icer']}{r}"] = f"={L['inc_cost']}{r}/{L['inc_effect']}{r}"
    return ws


def link_to_totals(ws, df: pd.DataFrame, run, tot_title: str, cols=("cost", "effect", "nmb"),
                   cost_column: str = "cost") -> None:
    """Replace a table's per-strategy cost/effect cells by references to base_case_totals where a totals
    column holds exactly the same values (so the incremental analysis follows the calc sheets); an
    ``nmb`` column becomes ``wtp × E − C`` and ``nhb`` ``E − C / wtp`` over the totals' ``cost_column`` (``cost``,
    the payer's; ``cost_societal`` etc. for another perspective's NMB table)."""
    from openpyxl.utils import get_column_letter

    totals = run.totals
    rows = {s: HEADER_ROW + 1 + i for i, s in enumerate(totals["strategy"])}
    tcols = list(totals.columns)
    effect = run.loaded.model.effect

    def tref(col, s):
        return _ref(tot_title, tcols.index(col) + 1, rows[s])
    names = list(df["strategy"])
    if any(s not in rows for s in names):
        return
    for c in cols:
        if c not in df.columns:
            continue
        j = list(df.columns).index(c) + 1
        if c == "nmb" and "wtp" in df.columns:
            jw = get_column_letter(list(df.columns).index("wtp") + 1)
            jh = list(df.columns).index("nhb") + 1 if "nhb" in df.columns else None
            for i, s in enumerate(names):
                r = HEADER_ROW + 1 + i
                ws.cell(r, j, f"={tref(effect, s)}*{jw}{r}-{tref(cost_column, s)}")
                if jh is not None and df["wtp"].iloc[i] > 0:
                    ws.cell(r, jh, f"={tref(effect, s)}-{tref(cost_column, s)}/{jw}{r}")
            continue
        vals = [float(df[c].iloc[i]) for i in range(len(df))]
        match = next((t for t in tcols[1:] if all(float(totals.iloc[rows[s] - HEADER_ROW - 1][t]) == v
                                                   for s, v in zip(names, vals))), None)
        if match is not None:
            for i, s in enumerate(names):
                ws.cell(HEADER_ROW + 1 + i, j, f"={tref(match, s)}")
