"""The DSA on the console (``ces dsa``): tornado table with bars, two-way grid, threshold, scenarios."""

from __future__ import annotations

import math


def print_dsa(r: dict) -> None:
    """Print the result of :func:`ces.studies.dsa.run_dsa` (the tornado's bar length is range / largest range)."""
    from rich.table import Table

    from ces.report.console_format import make_console

    console = make_console()
    what = "ICER" if r["outcome"] == "icer" else f"incremental NMB at {r['wtp']:,.0f}"
    labels = {s: (c.label or s) for s, c in r["loaded"].model.strategies.items() if c is not None}
    pl = f"{r['perspective_label']} perspective"
    console.print(f"[bold]DSA[/bold] ({pl}): {what} of {labels.get(r['strategy'], r['strategy'])} vs "
                  f"{labels.get(r['comparator'], r['comparator'])}; base case "
                  f"{'undefined (ΔE = 0: equal effects)' if r['base'] != r['base'] else format(r['base'], ',.0f')}")
    if "one_way" in r:
        t = Table(title=f"One-way sensitivity (tornado, sorted by range) — {pl}", title_justify="left")
        cur = r["loaded"].model.currency
        name = ("ICER" if r["outcome"] == "icer" else "inc. NMB") + (f" ({cur})" if cur else "")
        for c in ("parameter", "low", "high", f"{name} at low", f"{name} at high", f"range{f' ({cur})' if cur else ''}"):
            t.add_column(c, justify="left" if c == "parameter" else "right")
        width = 30
        finite = r["one_way"]["range"][r["one_way"]["range"].map(math.isfinite)]
        rng = max(finite.max() if len(finite) else 0.0, 1e-300)
        for _, row in r["one_way"].iterrows():
            bar = ("█" * max(1, int(width * row["range"] / rng)) if math.isfinite(row["range"])
                   else "undefined (ΔE = 0 at low or high)")
            t.add_row(row["parameter"], f"{row['low']:g}", f"{row['high']:g}", f"{row['outcome_low']:,.0f}",
                      f"{row['outcome_high']:,.0f}", f"{row['range']:,.0f} " + bar)
        console.print(t)
    if r.get("two_way") is not None:
        tw = r["two_way"]
        x, y, z = tw.columns
        piv = tw.pivot(index=x, columns=y, values=z)
        t = Table(title=f"Two-way: {z} by {x} (rows) and {y} (columns) — {pl}", title_justify="left")
        t.add_column(x)
        for c in piv.columns:
            t.add_column(f"{c:g}", justify="right")
        for i, row in piv.iterrows():
            t.add_row(f"{i:g}", *[f"{v:,.2f}" for v in row])
        console.print(t)
    if r.get("threshold") is not None:
        th = r["threshold"]
        if th["threshold"] is None:
            console.print(f"Threshold: the decision does not change for {th['parameter']} in [{th['low']:g}, "
                          f"{th['high']:g}] at WTP {th['wtp']:,.0f}.")
        else:
            console.print(f"Threshold: at WTP {th['wtp']:,.0f} the decision changes at {th['parameter']} = "
                          f"{th['threshold']:,.6g} (incremental NMB = 0).")
    sc = r["scenarios"]
    if len(sc) > 1:
        t = Table(title=f"Scenarios — {pl}", title_justify="left")
        for c in sc.columns:
            t.add_column(c, justify="left" if c == "scenario" else "right")
        for _, row in sc.iterrows():
            t.add_row(str(row["scenario"]), str(row["perspective"]),
                      *[f"{v:,.0f}" if k == "icer" else f"{v:,.4f}" if abs(v) < 100 else f"{v:,.2f}"
                        for k, v in row.iloc[2:].items()])
        console.print(t)
