"""rich terminal tables for the results.  Formatting only."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table


def _num(x, digits=0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return f"{x:,.{digits}f}"


def _effect_digits(values) -> int:
    return 3


def make_console() -> Console:
    """A console that does not truncate wide tables when output is piped to a file."""
    c = Console()
    return c if c.is_terminal else Console(width=160)


def print_run(run, console: Console | None = None) -> None:
    console = console or make_console()
    spec = run.loaded.model
    cur = f" ({spec.currency})" if spec.currency else ""
    eff = "QALYs" if spec.effect == "qaly" else "LYs"
    m = run.model
    console.print(f"[bold]{spec.title}[/bold]")
    console.print(f"{spec.kind} · {len(m.states)} states · {m.n_cycles} cycles of {m.cycle_years:g} y · "
                  f"correction {spec.correction} · discount costs {spec.discount.costs:g}, effects "
                  f"{spec.discount.effects:g} ({spec.discount.method}, timing {spec.discount.timing})")
    t = Table(title="Base case: totals per strategy (discounted)", title_justify="left")
    t.add_column("Strategy")
    t.add_column(f"Cost{cur}", justify="right")
    if len(m.cost_streams) > 1:
        for c in m.cost_streams:
            t.add_column(c, justify="right")
    t.add_column("QALYs", justify="right")
    t.add_column("LYs", justify="right")
    t.add_column("LYs undisc.", justify="right")
    for _, r in run.totals.iterrows():
        row = [str(r["strategy"]), _num(r["cost"], 2)]
        if len(m.cost_streams) > 1:
            row += [_num(r[f"cost.{c}"], 2) for c in m.cost_streams]
        row += [_num(r["qaly"], 4), _num(r["ly"], 4), _num(r["ly_undiscounted"], 4)]
        t.add_row(*row)
    console.print(t)
    t = Table(title=f"Incremental analysis (efficiency frontier, effect = {eff})", title_justify="left")
    for col, j in (("Strategy", "left"), (f"Cost{cur}", "right"), (eff, "right"), ("Inc. cost", "right"),
                   (f"Inc. {eff}", "right"), (f"ICER{cur}/{eff[:-1]}", "right"), ("Status", "left"),
                   ("vs", "left")):
        t.add_column(col, justify=j)
    for _, r in run.icers.iterrows():
        t.add_row(str(r["strategy"]), _num(r["cost"], 2), _num(r["effect"], 4), _num(r["inc_cost"], 2),
                  _num(r["inc_effect"], 4), _num(r["icer"], 2), str(r["status"]), str(r["ref"] or ""))
    console.print(t)
    console.print("Status: ND non-dominated (frontier), D strongly dominated, ED extendedly dominated.")
    if len(run.nmb):
        t = Table(title=f"Net benefit at willingness to pay per {eff[:-1]}", title_justify="left")
        for col in ("WTP", "Strategy", f"NMB{cur}", f"NHB ({eff})", "Optimal"):
            t.add_column(col, justify="right" if col != "Strategy" else "left")
        for _, r in run.nmb.iterrows():
            t.add_row(_num(r["wtp"]), str(r["strategy"]), _num(r["nmb"], 2), _num(r["nhb"], 4),
                      "★" if r["optimal"] else "")
        console.print(t)


def print_structure(loaded, model, console: Console | None = None) -> None:
    """`ces validate`: states, transitions and parameters without running."""
    console = console or make_console()
    spec = loaded.model
    console.print(f"[bold]{spec.title}[/bold]  ({loaded.model_loc.file})  ✓ valid")
    console.print(f"{spec.kind}; cycle {model.cycle_years:g} years; {model.n_cycles} cycles; correction "
                  f"{spec.correction}; strategies: {', '.join(model.strategies)}")
    t = Table(title="States", title_justify="left")
    for c in ("State", "Costs", "Utility", "Dead", "Max residence"):
        t.add_column(c)
    for s, st in spec.states.items():
        costs = dict(st.costs)
        if st.cost is not None:
            costs["cost"] = st.cost
        t.add_row(s, ", ".join(f"{k}: {v}" for k, v in costs.items()), str(st.utility if st.utility is not None else ""),
                  "yes" if st.dead else "", str(st.max_residence or ""))
    console.print(t)
    t = Table(title="Transitions", title_justify="left")
    t.add_column("From")
    t.add_column("To")
    t.add_column("Probability per cycle")
    for frm, row in spec.transitions.items():
        for to, e in row.items():
            t.add_row(frm, to, str(e))
    console.print(t)
    t = Table(title="Parameters", title_justify="left")
    t.add_column("Name")
    t.add_column("Value / expression")
    t.add_column("Distribution")
    for name, raw in spec.parameters.items():
        if isinstance(raw, dict):
            dist = ", ".join(f"{k}={v}" for k, v in raw.items() if k not in ("value", "label", "unit", "source"))
            t.add_row(name, str(raw.get("value", "")), dist)
        else:
            t.add_row(name, str(raw), "")
    console.print(t)
