"""Terminal tables of the base case (`ces run`: costs, effects, ICERs, net benefit per perspective) and of the
model structure (`ces validate`: states, transitions, parameters).  Formatting only."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ces.report.console_format import _num, make_console, perspective_title, strategy_label
from ces.report.tree_view import model_shape, print_trees


def print_run(run, console: Console | None = None) -> None:
    console = console or make_console()
    spec = run.loaded.model
    cur = f" ({spec.currency})" if spec.currency else ""
    eff = "QALYs" if spec.effect == "qaly" else "LYs"
    m = run.model
    console.print(f"[bold]{spec.title}[/bold]")
    console.print(f"{model_shape(spec, m, f'{m.cycle_years:g}')} · "
                  f"correction {spec.correction} · discount costs {spec.discount.costs:g}, effects "
                  f"{spec.discount.effects:g} ({spec.discount.method}, timing {spec.discount.timing})")
    t = Table(title="Base case: totals per strategy (discounted)", title_justify="left")
    t.add_column("Strategy")
    t.add_column(f"Cost{cur}", justify="right")
    if len(m.cost_streams) > 1:
        for c in m.cost_streams:
            t.add_column(f"{c}{cur}", justify="right")
    t.add_column("QALYs", justify="right")
    t.add_column("LYs", justify="right")
    t.add_column("LYs undisc.", justify="right")
    for _, r in run.totals.iterrows():
        row = [strategy_label(run, r["strategy"]), _num(r["cost"], 2)]
        if len(m.cost_streams) > 1:
            row += [_num(r[f"cost.{c}"], 2) for c in m.cost_streams]
        row += [_num(r["qaly"], 4), _num(r["ly"], 4), _num(r["ly_undiscounted"], 4)]
        t.add_row(*row)
    console.print(t)
    keys = [p.key for p in getattr(run, "perspective_list", [])] or ["payer"]
    for key in keys:  # the base-case perspective first
        table = run.icers if key == "payer" else run.perspectives[key]
        title = (f"{perspective_title(run, key)}: incremental analysis" if len(keys) > 1
                 else f"Incremental analysis (efficiency frontier, effect = {eff})")
        t = Table(title=title, title_justify="left")
        for col, j in (("Strategy", "left"), (f"Cost{cur}", "right"), (eff, "right"), (f"Inc. cost{cur}", "right"),
                       (f"Inc. {eff}", "right"), (f"ICER{cur}/{eff[:-1]}", "right"), ("Status", "left"), ("vs", "left")):
            t.add_column(col, justify=j)
        for _, r in table.iterrows():
            t.add_row(strategy_label(run, r["strategy"]), _num(r["cost"], 2), _num(r["effect"], 4),
                      _num(r["inc_cost"], 2), _num(r["inc_effect"], 4), _num(r["icer"], 0), str(r["status"]),
                      strategy_label(run, r["ref"]) if r["ref"] else "")
        console.print(t)
    console.print("Status: ND non-dominated (frontier), D strongly dominated, ED extendedly dominated.")
    if "caregiver_qaly" in run.totals:
        console.print("Caregiver health spillover (caregiver QALYs, discounted; not in the effect above): " + ", ".join(
            f"{r['strategy']} {r['caregiver_qaly']:.4f}" for _, r in run.totals.iterrows()), highlight=False)
    if getattr(run, "spillover_icers", None) is not None:
        t = Table(title=f"{perspective_title(run, run.perspective_list[0].key)}, QALYs including caregiver "
                  "spillover: incremental analysis", title_justify="left")
        for col in ("Strategy", f"Cost{cur}", "QALYs incl. caregivers", f"Inc. cost{cur}", "Inc. QALYs",
                    f"ICER{cur}/QALY", "Status", "vs"):
            t.add_column(col, justify="left" if col in ("Strategy", "Status", "vs") else "right")
        for _, r in run.spillover_icers.iterrows():
            t.add_row(strategy_label(run, r["strategy"]), _num(r["cost"], 2), _num(r["effect"], 4),
                      _num(r["inc_cost"], 2), _num(r["inc_effect"], 4), _num(r["icer"], 0), str(r["status"]),
                      strategy_label(run, r["ref"]) if r["ref"] else "")
        console.print(t)
    ind = spec.indirect
    if run.loaded.config.setting == "sweden" and ind is not None and ind.consumption is None:
        console.print("note: consumption in added life-years is off (the model does not decide; whether TLV still "
                      "requires it is unverified). Switch it on with `indirect: {consumption: {include: true, "
                      "per_year: ...}}` and a sourced consumption-by-age table (none is shipped) to see the "
                      "societal ICER with and without it.", highlight=False)
    if getattr(run, "inventory", None) is not None:
        inv = run.inventory
        t = Table(title=f"Impact inventory{cur}: cost components per strategy (discounted / undiscounted)",
                  title_justify="left")
        t.add_column("Component")
        t.add_column("Perspective")
        strategies = list(dict.fromkeys(inv["strategy"]))
        for st in strategies:
            t.add_column(strategy_label(run, st), justify="right")
        for comp in dict.fromkeys(inv["component"]):
            rows = inv[inv["component"] == comp].set_index("strategy")
            t.add_row(comp, rows["perspective"].iloc[0],
                      *[f"{_num(rows.loc[st, 'discounted'])} / {_num(rows.loc[st, 'undiscounted'])}" for st in strategies])
        console.print(t)
    for name, r in run.base.results.items():
        if r.crossing is not None and r.crossing.points:
            console.print(f"[yellow]note[/yellow]: {name}: curves crossed at {r.crossing.points} time points "
                          f"(cycles {', '.join(map(str, r.crossing.cycles[:10]))}{' …' if len(r.crossing.cycles) > 10 else ''}); "
                          "the lower curve was capped at the upper one (crossing: cap).")
    if len(run.nmb):
        t = Table(title=f"Net benefit at willingness to pay per {eff[:-1]}", title_justify="left")
        for col in ("WTP", "Strategy", f"NMB{cur}", f"NHB ({eff})", "Optimal"):
            t.add_column(col, justify="right" if col != "Strategy" else "left")
        for _, r in run.nmb.iterrows():
            t.add_row(_num(r["wtp"]), strategy_label(run, r["strategy"]), _num(r["nmb"], 2), _num(r["nhb"], 4),
                      "★" if r["optimal"] else "")
        console.print(t)


def print_structure(loaded, model, console: Console | None = None) -> None:
    """`ces validate`: states, transitions and parameters without running."""
    console = console or make_console()
    spec = loaded.model
    console.print(f"[bold]{spec.title}[/bold]  ({loaded.model_loc.file})  ✓ valid")
    console.print(f"{spec.kind}; cycle {model.cycle_years:g} years; {model.n_cycles} cycles; correction "
                  f"{spec.correction}; strategies: {', '.join(model.strategies)}")
    print_trees(model, console)  # decision trees (docs/tree.md)
    if spec.kind == "tree":  # a pure decision tree: no states, transitions or curves
        console.print(_parameter_table(spec))
        return
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
    if spec.kind == "psm":
        t = Table(title=f"Curves (time unit: {spec.time_unit}); partition: {', '.join(spec.partition)}; "
                  f"crossing: {spec.crossing}", title_justify="left")
        t.add_column("Curve")
        t.add_column("Definition")
        for name, c in spec.curves.items():
            t.add_row(name, ", ".join(f"{k}: {v}" for k, v in c.items()))
    else:
        t = Table(title="Transitions", title_justify="left")
        t.add_column("From")
        t.add_column("To")
        t.add_column("Probability per cycle")
        for frm, row in spec.transitions.items():
            for to, e in row.items():
                t.add_row(frm, to, str(e))
    console.print(t)
    console.print(_parameter_table(spec))


def _parameter_table(spec) -> Table:
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
    return t
