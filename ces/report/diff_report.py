"""Render a `ces diff` review (:func:`ces.analysis.diff.review`) as text, Markdown or JSON.

Order, for a reviewer: the inputs whose SHA-256 differs (named), a headline block per
perspective (frontier ICERs, incremental cost and effect, NMB, P(CE) and EVPI at the run's
WTP values), tables added or removed, then the changed metrics sorted by relative change
with old, new, absolute and % change (the first ``top``; all with ``--all``).
"""

from __future__ import annotations

import json
import math

from ces.analysis.diff import relative_change


def fmt(v) -> str:
    """Numbers for reading: thousands separators, no decimals from 1,000 on, 4 significant digits below."""
    if v is None:
        return "—"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if not math.isfinite(v):
        return str(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _changes(a, b) -> tuple:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        d = b - a
        pct = f"{100 * d / abs(a):+.2f} %" if a != 0 else ("" if d == 0 else "new ≠ 0")
        return fmt(d) if d != 0 else "0", pct
    return ("" if a == b else "changed"), ""


def _headline_rows(rows: list) -> list:
    return [(k, fmt(a), fmt(b), *_changes(a, b)) for k, a, b in rows]


def _metric_rows(rv: dict, top: int | None) -> list:
    rows = rv["changed"] if top is None else rv["changed"][:top]
    out = []
    for r in rows:
        if r.old is None and r.new is not None and r.tol is None:
            d, pct = "added", ""
        elif r.new is None and r.old is not None and r.tol is None:
            d, pct = "removed", ""
        else:
            d, pct = _changes(r.old, r.new)
        out.append((r.path, fmt(r.old), fmt(r.new), d, pct))
    return out


def summary_line(rv: dict) -> str:
    return (f"{rv['n_metrics'] - rv['n_changed']} of {rv['n_metrics']} metrics within tolerance; "
            f"{rv['n_changed']} changed.")


def _input_lines(rv: dict) -> list:
    return [f"{role}: {a or b}" + (f" → {b}" if a and b and a != b else "") + f" ({what})"
            for role, a, b, what in rv["inputs"]]


def markdown(rv: dict, old: str, new: str, top: int | None = 25) -> str:
    """A Markdown report (a CI job summary or a merge-request comment)."""
    def table(header, rows):
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
        lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
        return lines
    out = [f"## ces diff: `{old}` → `{new}`", ""]
    if rv["inputs"]:
        out += ["**Inputs differ:**", ""] + [f"- {line}" for line in _input_lines(rv)] + [""]
    else:
        out += ["Inputs: identical (SHA-256 of every file read)." if rv.get("has_inputs", True) else
                "Inputs: not recorded in one of the documents (written by an older ces).", ""]
    for p, rows in rv["headline"].items():
        out += [f"### Headline: {p.replace('_', ' ')}", ""] + table(("metric", "old", "new", "change", "% change"),
                                                                  _headline_rows(rows)) + [""]
    for what in ("added", "removed"):
        if rv[f"tables_{what}"]:
            out += [f"**Tables {what}:** " + ", ".join(f"`{t}`" for t in rv[f"tables_{what}"]), ""]
    rows = _metric_rows(rv, top)
    if rows:
        more = len(rv["changed"]) - len(rows)
        out += ["### Changed metrics (largest relative change first)", ""]
        out += table(("metric", "old", "new", "abs change", "% change"), [(f"`{r[0]}`",) + r[1:] for r in rows])
        if more > 0:
            out += ["", f"… and {more} more (`ces diff --all` lists every one)."]
        out += [""]
    out += [summary_line(rv), ""]
    return "\n".join(out)


def as_json(rv: dict, old: str, new: str) -> str:
    doc = {"old": old, "new": new, "inputs_changed": [{"role": r, "old": a, "new": b, "change": w}
                                                      for r, a, b, w in rv["inputs"]],
           "headline": {p: [{"metric": k, "old": a, "new": b} for k, a, b in rows] for p, rows in rv["headline"].items()},
           "tables_added": rv["tables_added"], "tables_removed": rv["tables_removed"],
           "changed": [{"metric": r.path, "old": r.old, "new": r.new, "tolerance": r.tol,
                        "relative_change": None if math.isinf(relative_change(r)) else relative_change(r)}
                       for r in rv["changed"]],
           "n_metrics": rv["n_metrics"], "n_changed": rv["n_changed"]}
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def print_text(rv: dict, console, top: int | None = 25) -> None:
    """The same report as rich tables on the console."""
    from rich.markup import escape
    from rich.table import Table

    if rv["inputs"]:
        console.print("[bold yellow]Inputs differ:[/bold yellow]")
        for line in _input_lines(rv):
            console.print(f"  {escape(line)}", highlight=False)
    elif not rv["has_inputs"]:
        console.print("Inputs: not recorded in one of the documents (written by an older ces).")
    for p, rows in rv["headline"].items():
        t = Table(title=f"Headline: {p.replace('_', ' ')}", title_justify="left")
        for i, c in enumerate(("metric", "old", "new", "change", "% change")):
            t.add_column(c, justify="left" if i == 0 else "right")
        for row in _headline_rows(rows):
            t.add_row(*(escape(c) for c in row))
        console.print(t)
    for what in ("added", "removed"):
        if rv[f"tables_{what}"]:
            console.print(f"Tables {what}: " + ", ".join(escape(x) for x in rv[f"tables_{what}"]), highlight=False)
    rows = _metric_rows(rv, top)
    if rows:
        t = Table(title="Changed metrics (largest relative change first)", title_justify="left")
        for i, c in enumerate(("metric", "old", "new", "abs change", "% change")):
            t.add_column(c, justify="left" if i == 0 else "right", no_wrap=i == 0)
        for row in rows:
            t.add_row(*(escape(c) for c in row))
        console.print(t)
        more = len(rv["changed"]) - len(rows)
        if more > 0:
            console.print(f"… and {more} more (--all lists every one).")
    console.print(summary_line(rv))
