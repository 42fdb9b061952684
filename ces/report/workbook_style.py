"""The workbook's sheet writer and cell styles: number formats by column kind, sheet names, cell values,
cell references, and ``_Book`` (a titled table per sheet, header row frozen, fitted widths)."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd


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
