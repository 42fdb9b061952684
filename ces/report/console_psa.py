"""Terminal tables over draws and grids: the PSA (net benefit, CEAC, EVPI per WTP), the EVPPI of
`ces evppi`, and the batch sweep of `ces sweep`.  Formatting only."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from ces.report.console_format import _num, ceac_sparkline, make_console, perspective_title, strategy_label


def print_psa(run, console: Console | None = None) -> None:
    console = console or make_console()
    psa, tabs = run.psa, run.psa_tables
    spec = run.loaded.model
    cur = f" ({spec.currency})" if spec.currency else ""
    eff = "QALYs" if spec.effect == "qaly" else "LYs"
    console.print(f"[bold]PSA[/bold]: {psa.n_draws:,} draws, seed {psa.seed}, {psa.seconds:.2f} s")
    for name, info in psa.crossing.items():
        if info.points:
            console.print(f"[yellow]note[/yellow]: {name}: curves capped in {info.draws:,} of {psa.n_draws:,} draws "
                          f"({info.points:,} time points; crossing: cap).")
    keys = [p.key for p in getattr(run, "perspective_list", [])] or ["payer"]
    for key in keys:
        tables = tabs if key == "payer" else run.psa_perspectives[key]
        _print_psa_perspective(run, tables, psa.strategies, perspective_title(run, key) if len(keys) > 1 else "",
                               cur, eff, console)


def _print_psa_perspective(run, tabs, strategies, label, cur, eff, console) -> None:
    """PSA summary, probabilistic ICERs and the WTP table of one perspective, titled with its label."""
    tag = f" — {label}" if label else ""
    t = Table(title=f"PSA: mean and 95 % interval (2.5th–97.5th percentile){tag}", title_justify="left")
    for c in ("Strategy", f"Cost{cur}", f"Cost 95 % interval{cur}", "QALYs", "QALY 95 % interval", "LYs",
              f"MCSE cost{cur}"):
        t.add_column(c, justify="left" if c == "Strategy" else "right")
    s = tabs["summary"].set_index(["strategy", "outcome"])
    for name in strategies:
        c, q, ly = s.loc[(name, "cost")], s.loc[(name, "qaly")], s.loc[(name, "ly")]
        t.add_row(strategy_label(run, name), _num(c["mean"], 0), f"{_num(c['lower'], 0)} – {_num(c['upper'], 0)}", _num(q["mean"], 3),
                  f"{_num(q['lower'], 3)} – {_num(q['upper'], 3)}", _num(ly["mean"], 3), _num(c["mcse"], 1))
    console.print(t)
    t = Table(title=f"Probabilistic incremental analysis (means, effect = {eff}){tag}", title_justify="left")
    for col in ("Strategy", f"Cost{cur}", eff, f"Inc. cost{cur}", f"Inc. {eff}", f"ICER{cur}/{eff[:-1]}", "Status", "vs"):
        t.add_column(col, justify="left" if col in ("Strategy", "Status", "vs") else "right")
    for _, r in tabs["icer"].iterrows():
        t.add_row(strategy_label(run, r["strategy"]), _num(r["cost"], 0), _num(r["effect"], 4), _num(r["inc_cost"], 0),
                  _num(r["inc_effect"], 4), _num(r["icer"], 0), str(r["status"]),
                  strategy_label(run, r["ref"]) if r["ref"] else "")
    console.print(t)
    if "wtp" not in tabs:
        console.print("(add `wtp:` to the config or --wtp for CEAC, CEAF and EVPI)")
        return
    print_wtp_table(tabs["wtp"], strategies, cur, eff, console, tabs.get("convergence"), label=label,
                    labels={s: strategy_label(run, s) for s in strategies})


def print_wtp_table(w, strategies, cur, eff, console, conv=None, max_rows: int = 25, label: str = "",
                    labels: dict | None = None) -> None:
    labels = labels or {}
    rows = w
    if len(w) > max_rows:
        idx = sorted(set(int(round(i)) for i in np.linspace(0, len(w) - 1, max_rows)))
        rows = w.iloc[idx]
    t = Table(title=f"CEAC, CEAF and EVPI by willingness to pay per {eff[:-1]}"
              + (f" ({len(rows)} of {len(w)} WTP values)" if len(rows) < len(w) else "")
              + (f" — {label}" if label else ""), title_justify="left")
    t.add_column("WTP", justify="right")
    for s in strategies:
        t.add_column(f"P(CE) {labels.get(s, s)}", justify="right")
    for col in ("Optimal", f"E[NMB]{cur}", f"EVPI{cur}/person"):
        t.add_column(col, justify="right")
    has_pop = "evpi_population" in w.columns
    if has_pop:
        t.add_column(f"EVPI{cur} population", justify="right")
    if conv is not None:
        t.add_column("MC converged", justify="right")
    for i, r in rows.iterrows():
        cells = [_num(r["wtp"])] + [f"{r[f'ceac.{s}']:.3f}" for s in strategies]
        cells += [labels.get(r["optimal"], str(r["optimal"])), _num(r["expected_nmb"], 0), _num(r["evpi"], 2)]
        if has_pop:
            cells.append(_num(r["evpi_population"], 0))
        if conv is not None:
            c = conv.iloc[i]
            cells.append("yes" if c["converged"] else f"no (need {c['n_needed']:,})")
        t.add_row(*cells)
    console.print(t)
    console.print("CEAC over the WTP grid " + f"({_num(w['wtp'].iloc[0])} → {_num(w['wtp'].iloc[-1])}):")
    width = max(len(labels.get(s, s)) for s in strategies)
    for s in strategies:
        console.print(f"  {labels.get(s, s):<{width}} │{ceac_sparkline(w[f'ceac.{s}'])}│", highlight=False)


def print_evppi(run, sort_wtp: float, console: Console | None = None) -> None:
    """EVPPI ranking at ``sort_wtp`` (per person, SE, population, sorted-partition check), then warnings."""
    console = console or make_console()
    spec = run.loaded.model
    cur = f" ({spec.currency})" if spec.currency else ""
    rk = run.psa_tables["evppi_ranking"]
    has_pop = "evppi_population" in rk.columns
    for perspective, t_rows in rk.groupby("perspective", sort=False):
        evpi_v = float(t_rows["evpi"].iloc[0])
        t = Table(title=f"EVPPI at WTP {sort_wtp:,.0f} ({perspective} perspective; {run.psa.n_draws:,} draws; "
                  f"EVPI {evpi_v:,.2f}{cur} per person)", title_justify="left")
        cols = ["Parameter / group", "Kind", f"EVPPI{cur}/person", "SE"] + (
            [f"EVPPI{cur} population"] if has_pop else []) + ["% of EVPI", "Partition check", "Fit"]
        for c in cols:
            t.add_column(c, justify="left" if c in ("Parameter / group", "Kind", "Fit") else "right")
        for _, r in t_rows.iterrows():
            label = r["item"] if r["kind"] == "parameter" else f"{r['item']} ({r['parameters']})"
            share = f"{100 * r['share_of_evpi']:.1f}" if r["share_of_evpi"] == r["share_of_evpi"] else ""
            row = [label, r["kind"], f"{r['evppi']:,.2f}", f"{r['se']:,.2f}" if r["se"] == r["se"] else ""]
            if has_pop:
                row.append(f"{r['evppi_population']:,.0f}")
            row += [share, f"{r['evppi_partition']:,.2f}" if r["evppi_partition"] == r["evppi_partition"] else "",
                    "[yellow]check[/yellow]" if r["warning"] else "ok"]
            t.add_row(*row)
        console.print(t)
        for _, r in t_rows[t_rows["warning"] != ""].iterrows():
            console.print(f"[yellow]warning[/yellow]: {r['item']}: {r['warning']}")
    console.print("EVPPI: regression method (Strong, Oakley & Brennan 2014); SE: bootstrap over PSA draws; "
                  "partition check: sorted-partition estimator (Strong & Oakley 2013). All WTP values are in "
                  "psa_evppi.csv / results.json.")


def print_grid_sweep(table, loaded, console: Console) -> None:
    """The batch sweep (configs × grid × WTP) with formatted numbers and each strategy's frontier ICER."""
    spec = loaded.model
    cur = f" ({spec.currency})" if spec.currency else ""
    eff = "QALYs" if spec.effect == "qaly" else "LYs"
    money = {"cost": f"Cost{cur}", "nmb": f"NMB{cur}", "icer": f"ICER{cur}/{eff[:-1]}", "evpi": f"EVPI{cur}"}
    t = Table(title="Sweep: configs × grid × WTP" + (f" (first 60 of {len(table)} rows)" if len(table) > 60 else ""),
              title_justify="left")
    cols = list(table.columns)
    for c in cols:
        t.add_column(money.get(c, eff if c == "effect" else c), justify="left" if c in ("config", "strategy") else "right")
    for _, r in table.head(60).iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if c in ("cost", "nmb", "icer", "evpi", "wtp"):
                cells.append(_num(v, 0))
            elif c == "effect":
                cells.append(_num(v, 3))
            elif c == "ceac":
                cells.append(f"{v:.3f}")
            elif c == "optimal":
                cells.append("★" if v else "")
            else:
                cells.append(f"{v:g}" if isinstance(v, float) else str(v))
        t.add_row(*cells)
    console.print(t)
