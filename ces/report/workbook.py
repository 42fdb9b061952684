"""The auditable workbook ``results.xlsx`` (openpyxl): inputs, results and per-strategy calculation sheets.

Layout (every sheet has a title row, a header row frozen below it, fitted widths):

* ``model``   — title, files, settings and conventions of the run.
* ``inputs``  — every parameter: base value, expression, distribution and its parameters, source,
  strategy overrides and where it is used (see :func:`ces.report.inputs.inputs_table`).
* ``base_case_totals`` — one row per strategy; every number is an Excel formula over the calculation
  sheets: a stream's discounted total is ``SUMPRODUCT(value_k, d_k)`` + the one-off cost at time 0
  (+ the payment-model adjustment, + a decision tree's timing row), the same sum as
  :func:`ces.engine.kernels.accumulate_rewards` and :mod:`ces.engine.tree`.
  Perspective totals add categories in the order of :func:`ces.analysis.basecase.totals_table`.
* ``base_case_icer*`` — the incremental analysis per perspective; ``inc_cost``, ``inc_effect`` and
  ``icer`` are formulas over the sheet's own cost/effect cells (the frontier status is ces's).
* every other table of the run (NMB, PSA, CEAC/CEAF/EVPI, budget impact, payments, DSA) as values.
* ``calc <strategy>`` — one row per reward period k = 0..n: time, age, occupancy m_k per state,
  counting weights (α_k, β_k), discount factors d_k (costs, effects), the undiscounted value of each
  stream in the period (= Σ_s v_s,k (α_k m_{k-1,s} + β_k m_{k,s}) + transition rewards, from the engine)
  and its discounted value (formula d_k × value); then the one-off costs, adjustments and the sums.

This module assembles the workbook; the formula sheets are in :mod:`ces.report.workbook_calc`, the sheet
writer and cell formats in :mod:`ces.report.workbook_style` (their names are re-exported here).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ces.report.workbook_calc import (  # noqa: F401  (re-exported)
    _composition, calc_sheet, fill_totals, icer_sheet, link_to_totals, totals_sheet)
from ces.report.workbook_style import (  # noqa: F401  (re-exported)
    EFFECT_FMT, HEADER_ROW, PROB_FMT, STAT_COLS, _Book, _cell_value, _col, _kind, _money_fmt, _ref, cell_kind,
    is_numeric, sheet_name)


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
            if name == "base_case_nmb":  # the payer's NMB: over the payer cost
                link_to_totals(ws, df, run, tot.title, ("nmb",))
            elif name.startswith("base_case_nmb_"):  # another perspective's NMB: over its own total cost
                key = name[len("base_case_nmb_"):]
                cost = next(p.cost_column for p in run.perspective_list if p.key == key)
                link_to_totals(ws, df, run, tot.title, ("nmb",), cost)
    formulas = {s: calc_sheet(book, run, s) for s in run.model.strategies}
    fill_totals(book, tot, run, formulas)
    book.fit()
    book.wb.save(path)
