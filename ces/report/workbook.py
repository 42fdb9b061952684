"""The auditable workbook ``results.xlsx`` (openpyxl): inputs, results and per-strategy calculation sheets.

Layout (every sheet has a title row, a header row frozen below it, fitted widths):

* ``model``   — title, files, settings and conventions of the run.
* ``inputs``  — every parameter: base value, expression, distribution and its parameters, source,
  strategy overrides and where it is used (see :func:`ces.report.inputs.inputs_table`).
* ``base_case_totals`` — one row per strategy; every number is an Excel formula over the calculation
  sheets: a stream's discounted total is ``SUMPRODUCT(value_k, d_k)`` + the one-off cost at time 0
  (+ the payment-model adjustment), the same sum as :func:`ces.engine.kernels.accumulate_rewards`.
  Perspective totals add categories in the order of :func:`ces.analysis.basecase.totals_table`.
* ``base_case_icer*`` — the incremental analysis per perspective; ``inc_cost``, ``inc_effect`` and
  ``icer`` are formulas over the sheet's own cost/effect cells (the frontier status is ces's).
* every other table of the run (NMB, PSA, CEAC/CEAF/EVPI, budget impact, payments, DSA) as values.
* ``calc <strategy>`` — one row per reward period k = 0..n: time, age, occupancy m_k per state,
  counting weights (α_k, β_k), discount factors d_k (costs, effects), the undiscounted value of each
  stream in the period (= Σ_s v_s,k (α_k m_{k-1,s} + β_k m_{k,s}) + transition rewards, from the engine)
  and its discounted value (formula d_k × value); then the one-off costs, adjustments and the sums.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ces.engine import conventions as cv

HEADER_ROW = 2  # row 1: title; row 2: column headers; data from row 3
_BAD = re.compile(r"[\[\]\*\?/\\:]")


def _money_fmt(currency: str | None) -> str:
    return f'#,##0.00 "{currency}"' if currency else "#,##0.00"


EFFECT_FMT = "0.000000"
PROB_FMT = "0.0000"


def _kind(col: str) -> str:
    """Number format family of a column from its name: money, effect, probability or plain."""
    c = col.lower()
    if c.startswith(("ceac", "ceaf", "prob", "p_", "share")) or c in ("probability", "below_threshold"):
        return "prob"
    if any(w in c for w in ("qaly", "nhb", "effect")) or c in ("ly", "ly_undiscounted"):
        return "effect"
    if any(w in c for w in ("cost", "nmb", "icer", "impact", "price", "evpi", "budget", "amount", "total",
                            "payment", "threshold", "adjust", "discounted", "cash", "current", "new_",
                            "upfront", "instal", "outcome", "cumulative", "base")):
        return "money"
    return "plain"


def is_numeric(values) -> bool:
    """Does a column hold numbers (not only strings / None)?"""
    return any(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values)


STAT_COLS = ("mean", "sd", "lower", "upper", "mcse", "median")


def cell_kind(col: str, row) -> str:
    """As :func:`_kind`, but summary statistics take the kind of the row's ``outcome`` (cost, qaly, ...)."""
    if col in STAT_COLS and isinstance(row.get("outcome"), str):
        return _kind(row["outcome"])
    return _kind(col)


def sheet_name(name: str, used: set) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, none of []:*?/\\)."""
    base = _BAD.sub("_", name)[:31] or "sheet"
    out, i = base, 2
    while out.lower() in used:
        suffix = f"~{i}"
        out, i = base[:31 - len(suffix)] + suffix, i + 1
    used.add(out.lower())
    return out


def _cell_value(v):
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (list, tuple, dict)):
        return str(v)
    if v is not None and not isinstance(v, (int, float, str, bool)):
        return str(v)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


class _Book:
    """An openpyxl workbook with the house style (title row, bold frozen headers, formats, widths)."""

    def __init__(self, currency: str | None):
        from openpyxl import Workbook

        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self.used: set = set()
        self.currency = currency
        self.money = _money_fmt(currency)

    def sheet(self, name: str, title: str, headers: list):
        from openpyxl.styles import Alignment, Font, PatternFill

        ws = self.wb.create_sheet(sheet_name(name, self.used))
        ws.cell(1, 1, title).font = Font(bold=True, size=12)
        fill = PatternFill("solid", fgColor="DDDDDD")
        for j, h in enumerate(headers, start=1):
            c = ws.cell(HEADER_ROW, j, h)
            c.font = Font(bold=True)
            c.fill = fill
            c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
        return ws

    def fmt(self, kind: str) -> str | None:
        return {"money": self.money, "effect": EFFECT_FMT, "prob": PROB_FMT}.get(kind)

    def table(self, name: str, title: str, df: pd.DataFrame, money_cols=None):
        """A DataFrame as a sheet; headers carry the currency for money columns."""
        kinds = {c: ("money" if money_cols is not None and c in money_cols else
                     ("plain" if money_cols is not None and _kind(str(c)) == "money" else _kind(str(c))))
                 for c in df.columns}
        headers = [f"{c} [{self.currency}]" if kinds[c] == "money" and self.currency and is_numeric(df[c]) else str(c)
                   for c in df.columns]
        ws = self.sheet(name, title, headers)
        for i, row in enumerate(df.to_dict(orient="records"), start=HEADER_ROW + 1):
            for j, c in enumerate(df.columns, start=1):
                cell = ws.cell(i, j, _cell_value(row[c]))
                f = self.fmt(cell_kind(str(c), row) if money_cols is None else kinds[c])
                if f and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    cell.number_format = f
        return ws

    def fit(self) -> None:
        """Column widths that fit the header and the displayed values (capped)."""
        from openpyxl.utils import get_column_letter

        for ws in self.wb.worksheets:
            widths: dict = {}
            for row in ws.iter_rows(min_row=HEADER_ROW):
                for c in row:
                    if c.value is None:
                        continue
                    if isinstance(c.value, str) and c.value.startswith("="):
                        n = 16
                    elif isinstance(c.value, float):
                        n = len(f"{c.value:,.2f}") + (len(self.currency) + 2 if c.number_format == self.money
                                                      and self.currency else 0)
                    else:
                        n = len(str(c.value)) if c.row > HEADER_ROW else min(len(str(c.value)), 28)
                    widths[c.column] = max(widths.get(c.column, 8), min(n + 2, 60))
            for j, w in widths.items():
                ws.column_dimensions[get_column_letter(j)].width = w


def _ref(sheet: str, col: int, row: int, absolute: bool = True) -> str:
    from openpyxl.utils import get_column_letter

    q = "'" + sheet.replace("'", "''") + "'"
    L = get_column_letter(col)
    return f"{q}!${L}${row}" if absolute else f"{q}!{L}{row}"


def _col(sheet: str, col: int, r0: int, r1: int) -> str:
    from openpyxl.utils import get_column_letter

    q = "'" + sheet.replace("'", "''") + "'"
    L = get_column_letter(col)
    return f"{q}!${L}${r0}:${L}${r1}"


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
    _, times = cv.period_cycles_and_times(spec.correction, n, model.cycle_years)
    cycles, _ = cv.period_cycles_and_times(spec.correction, n, model.cycle_years)
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
    r_sum = r_adj + 1
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
        vals = _col(ws.title, c_val + si, r0, r1)
        f_d = (f"SUMPRODUCT({vals},{_col(ws.title, dcol, r0, r1)})+{_ref(ws.title, c_dis + si, r_one)}"
               f"+{_ref(ws.title, c_dis + si, r_adj)}")
        f_u = f"SUM({vals})+{_ref(ws.title, c_val + si, r_one)}+{_ref(ws.title, c_val + si, r_adj)}"
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


def link_to_totals(ws, df: pd.DataFrame, run, tot_title: str, cols=("cost", "effect", "nmb")) -> None:
    """Replace a table's per-strategy cost/effect cells by references to base_case_totals where a totals
    column holds exactly the same values (so the incremental analysis follows the calc sheets); an
    ``nmb`` column becomes ``wtp × E − C`` and ``nhb`` ``E − C / wtp`` over the payer totals."""
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
                ws.cell(r, j, f"={tref(effect, s)}*{jw}{r}-{tref('cost', s)}")
                if jh is not None and df["wtp"].iloc[i] > 0:
                    ws.cell(r, jh, f"={tref(effect, s)}-{tref('cost', s)}/{jw}{r}")
            continue
        vals = [float(df[c].iloc[i]) for i in range(len(df))]
        match = next((t for t in tcols[1:] if all(float(totals.iloc[rows[s] - HEADER_ROW - 1][t]) == v
                                                   for s, v in zip(names, vals))), None)
        if match is not None:
            for i, s in enumerate(names):
                ws.cell(HEADER_ROW + 1 + i, j, f"={tref(match, s)}")


def model_sheet(book: _Book, run):
    info = run.model_info
    rows = [(k, v if isinstance(v, (int, float, str)) or v is None else str(v)) for k, v in info.items()]
    rows.append(("strategies", ", ".join(f"{s} ({cs.label})" for s, cs in run.model.strategies.items())))
    if run.psa is not None:
        rows += [("psa draws", run.psa.n_draws), ("psa seed", run.psa.seed)]
    if run.wtps:
        rows.append(("willingness to pay", ", ".join(f"{w:,.0f}" for w in run.wtps)))
    return book.table("model", f"Model and settings: {info['title']}", pd.DataFrame(rows, columns=["item", "value"]),
                      money_cols=())


def extra_tables(run, dsa: dict | None = None) -> dict:
    """Tables of a run not in the CSV set: payments, appraisal verdicts, DSA."""
    out = {}
    pay = run.payment
    if pay is not None:
        out["payment_schedule"] = pd.DataFrame(pay["schedule"], columns=["year", "amount"])
        out["payment_cash_flow"] = pay["cash_flow"]
    ap = getattr(run, "appraisal", None)
    if ap is not None and len(ap.get("verdicts", [])):
        out["appraisal_verdicts"] = ap["verdicts"]
    if dsa is not None:
        for key in ("one_way", "two_way", "scenarios"):
            if dsa.get(key) is not None and len(dsa[key]):
                out[f"dsa_{key}"] = dsa[key]
    return out


def write_workbook(run, tabs: dict, path: Path, dsa: dict | None = None) -> None:
    """Write the auditable workbook to ``path`` (``tabs``: name → DataFrame, the run's CSV tables)."""
    from ces.report.inputs import inputs_table

    spec = run.loaded.model
    cur = spec.currency or "no currency"
    book = _Book(spec.currency)
    model_sheet(book, run)
    book.table("inputs", f"Inputs: every parameter of {spec.title} (base value, distribution, source, use)",
               inputs_table(run), money_cols=())
    tot = totals_sheet(book, run)
    for name, df in {**tabs, **extra_tables(run, dsa)}.items():
        if name in ("base_case_totals", "base_case_trace") or df is None or not len(df):
            continue
        if name.startswith("base_case_icer"):
            key = name[len("base_case_icer"):].strip("_") or "healthcare payer"
            ws = icer_sheet(book, name, f"Incremental analysis, {key.replace('_', ' ')} perspective ({cur})", df)
            link_to_totals(ws, df, run, tot.title, ("cost", "effect"))
        else:
            ws = book.table(name, f"{name.replace('_', ' ')} ({cur})", df)
            if name == "base_case_nmb":  # ces's NMB is over the payer cost
                link_to_totals(ws, df, run, tot.title, ("nmb",))
    formulas = {s: calc_sheet(book, run, s) for s in run.model.strategies}
    fill_totals(book, tot, run, formulas)
    book.fit()
    book.wb.save(path)
