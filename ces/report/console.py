"""rich terminal tables for the results.  Formatting only."""

from __future__ import annotations

import math

import numpy as np

from rich.console import Console
from rich.table import Table

from ces.report.tree_view import model_shape, print_trees


def _num(x, digits=0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return f"{x:,.{digits}f}"


def _effect_digits(values) -> int:
    return 3


def strategy_label(run, name: str) -> str:
    """The strategy's `label:` (its key when none is given)."""
    cs = run.model.strategies.get(name)
    return cs.label if cs is not None and cs.label else str(name)


def make_console() -> Console:
    """A console that does not truncate wide tables when output is piped to a file."""
    c = Console()
    return c if c.is_terminal else Console(width=160)


_PERSPECTIVE_TITLES = {
    "payer": "Healthcare payer perspective",
    "societal": "Societal perspective",
    "societal_with_consumption": "Societal perspective with consumption in added life-years",
}


def perspective_title(run, key: str) -> str:
    """Label of a perspective for table titles, marked when it is the base case."""
    p = {x.key: x for x in getattr(run, "perspective_list", [])}.get(key)
    title = _PERSPECTIVE_TITLES.get(key) or (f"Perspective: {p.label}" if p else key)
    return title + (" (base case)" if key == getattr(run, "base_perspective", "payer") else "")


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


BLOCKS = " ▁▂▃▄▅▆▇█"


def ceac_sparkline(probs) -> str:
    """One character per WTP: the CEAC probability as a block height (0 → ' ', 1 → '█')."""
    return "".join(BLOCKS[min(8, int(round(float(p) * 8)))] for p in probs)


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


def print_budget(run, console: Console | None = None) -> None:
    console = console or make_console()
    b = run.budget
    cur = f" ({run.loaded.model.currency})" if run.loaded.model.currency else ""
    t = Table(title=f"Budget impact{cur}, undiscounted unless configured", title_justify="left")
    for c in ("Year", "Patients", "Current world", "New world", "Net impact", "Cumulative"):
        t.add_column(c, justify="right")
    for _, r in b["summary"].iterrows():
        t.add_row(str(int(r["year"])), _num(r["patients"], 1), _num(r["current_total"]), _num(r["new_total"]),
                  _num(r["net_impact"]), _num(r["cumulative_impact"]))
    console.print(t)
    d = b["detail"]
    strat_cols = [c for c in d.columns if c.startswith("patients.")]
    t = Table(title="Patients and costs by strategy and year (new world)", title_justify="left")
    t.add_column("Year", justify="right")
    for c in strat_cols:
        t.add_column(f"patients {strategy_label(run, c[len('patients.'):])}", justify="right")
    cost_cols = [c for c in d.columns if c.startswith("cost.")]
    for c in cost_cols:
        name = c[len("cost."):]
        t.add_column(f"cost {strategy_label(run, name) if name in run.model.strategies else name}{cur}",
                     justify="right")
    for _, r in d[d["world"] == "new"].iterrows():
        t.add_row(str(int(r["year"])), *[_num(r[c], 1) for c in strat_cols], *[_num(r[c]) for c in cost_cols])
    console.print(t)
    if "psa" in b:
        ps = b["psa"]
        t = Table(title=f"Probabilistic budget impact{cur}: mean and 95 % interval over {int(ps['n_draws'].iloc[0]):,} "
                  "PSA draws", title_justify="left")
        for c in ("Year", "Net impact (mean)", "2.5 %", "97.5 %", "Cumulative (mean)", "2.5 % ", "97.5 % "):
            t.add_column(c, justify="right")
        for _, r in ps.iterrows():
            t.add_row(str(int(r["year"])), _num(r["net_impact_mean"]), _num(r["net_impact_lower"]),
                      _num(r["net_impact_upper"]), _num(r["cumulative_mean"]), _num(r["cumulative_lower"]),
                      _num(r["cumulative_upper"]))
        console.print(t)
    elif run.loaded.config.budget_impact.psa:
        console.print("budget_impact.psa: no PSA in this run (add `psa:` or --draws), so no probabilistic budget impact.")
    if len(b["scenarios"]) > 1:
        t = Table(title=f"Budget impact scenarios: cumulative net impact{cur}", title_justify="left")
        for c in ("Scenario", "Patients (total)", "Cumulative impact"):
            t.add_column(c, justify="left" if c == "Scenario" else "right")
        for _, r in b["scenarios"].iterrows():
            t.add_row(str(r["scenario"]), _num(r["patients_total"], 1), _num(r["cumulative_impact"]))
        console.print(t)
    if "dsa" in b:
        t = Table(title=f"One-way sensitivity of the cumulative impact{cur}", title_justify="left")
        for c in ("Input", "Low", "High", "At low", "At high", "Range"):
            t.add_column(c, justify="left" if c == "Input" else "right")
        for _, r in b["dsa"].iterrows():
            t.add_row(str(r["input"]), f"{r['low']:g}", f"{r['high']:g}", _num(r["cumulative_low"]),
                      _num(r["cumulative_high"]), _num(r["range"]))
        console.print(t)
    if "repricing" in b:
        t = Table(title=f"Japan market-expansion repricing check by year{cur} (new world)", title_justify="left")
        for c in ("Year", "Forecast sales", "Sales at listed price", "Price in force", "Sales at price in force"):
            t.add_column(c, justify="right")
        for _, r in b["repricing"].iterrows():
            t.add_row(str(int(r["year"])), _num(r["forecast_sales"]), _num(r["sales_at_listed_price"]),
                      _num(r["price_in_force"]), _num(r["sales_at_price_in_force"]))
        console.print(t)
    pricing = run.loaded.config.budget_impact.pricing
    if pricing is not None and not len(b["flags"]):
        console.print(f"pricing rules of setting `{run.loaded.config.setting}` checked for {pricing.strategy}: "
                      "none fired over the horizon.")
    for _, f in b["flags"].iterrows():
        console.print(f"[yellow]pricing rule[/yellow] {f['rule']}, year {f['year']}: {f['detail']} ({f['source']})",
                      highlight=False)


def print_payment(run, console: Console | None = None) -> None:
    console = console or make_console()
    p = run.payment
    cur = f" ({run.loaded.model.currency})" if run.loaded.model.currency else ""
    t = Table(title=f"Payer cash flow per treated patient{cur}: {p['strategy']}, price {p['price']:,.0f}, "
              f"payment model `{p['model']}`", title_justify="left")
    for c in p["cash_flow"].columns:
        t.add_column(c, justify="right")
    for _, r in p["cash_flow"].iterrows():
        t.add_row(str(int(r["year"])), *[_num(v) for v in r.iloc[1:]])
    console.print(t)
    console.print(f"CEA: discounted expected payments replace the price at time 0 (adjustment "
                  f"{p['cea_adjustment']:,.2f} per patient in `{p['category']}`).")
    if "psa_adjustment" in p:
        a = p["psa_adjustment"]
        console.print(f"PSA: each draw's adjustment from its own trace (mean {a['mean']:,.2f}, sd {a['sd']:,.2f}).")


def print_appraisal(run, console: Console | None = None) -> None:
    console = console or make_console()
    a = run.appraisal
    cur = run.loaded.model.currency
    if a["severity"]:
        sv = a["severity"]
        console.print(f"Severity vs general population (utility norm, discounted): QALE {sv['qale_general_population']:.2f}, "
                      f"{sv['comparator']} {sv['qale_comparator']:.2f}; absolute shortfall {sv['absolute_shortfall']:.2f}, "
                      f"proportional {sv['proportional_shortfall']:.2f}")
    console.print(f"Setting [bold]{a['setting']}[/bold] (base case perspective: {a['base_perspective']}): threshold "
                  f"{cur} {a['threshold']['threshold']:,.0f} per QALY — {a['threshold']['basis']}. Source: {a['source']}")
    if a.get("in_force_from"):
        console.print(f"Threshold {'option `' + a['threshold_option'] + '` ' if a.get('threshold_option') else ''}in "
                      f"force from {a['in_force_from']}" + (f" until {a['in_force_until']}" if a.get("in_force_until")
                                                            else ""), highlight=False)
    if a.get("scenario"):
        console.print(f"[yellow]non-reference-case scenario[/yellow] `{a['scenario']}` ({a['scenario_source']}): "
                      "the analyst confirmed its conditions", highlight=False)
    t = Table(title="Verdicts", title_justify="left")
    for c in ("Perspective", "Strategy", "vs", f"ICER ({cur})", "Threshold", "Verdict") + (
            ("C2H band",) if "c2h_band" in a["verdicts"].columns else ()):
        t.add_column(c)
    for _, v in a["verdicts"].iterrows():
        verdict = "below threshold" if v["below_threshold"] else "above threshold"
        if "c2h_band" in v:  # Japan: the ICER sets a price adjustment, not an accept/reject verdict
            verdict = "no price adjustment" if v["below_threshold"] else "price adjustment (see C2H table)"
        row = [v["perspective"], v["strategy"], v["vs"], _num(v["icer"]), _num(v["threshold"]), verdict]
        if "c2h_band" in v:
            row.append(v["c2h_band"])
        t.add_row(*row)
    console.print(t)
    if a.get("c2h"):
        print_c2h(a["c2h"], cur, console)
    if a.get("cost_sharing"):
        c = a["cost_sharing"]
        t = Table(title=f"Patient cost-sharing under the high-cost medical expense benefit ({cur}, discounted): "
                  f"bracket {c['bracket']}, rules `{c['rules']}` (in force {c['in_force']})", title_justify="left")
        for col in ("Strategy", "Total medical cost", "Patient (capped)", "Insurer (net)",
                    "Patient, no annual max", "Patient, no cap (30 %)"):
            t.add_column(col, justify="left" if col == "Strategy" else "right")
        for _, r in c["table"].iterrows():
            t.add_row(r["strategy"], _num(r["total"]), _num(r["patient"]), _num(r["insurer"]),
                      _num(r["patient_without_annual_max"]), _num(r["patient_without_cap"]))
        console.print(t)
        console.print(f"source: {c['source']}", highlight=False)
    if a["unverified"]:
        console.print(f"[yellow]unverified[/yellow] preset values (not seen in a primary source): "
                      f"{', '.join(a['unverified'])}")
    for ref in a.get("reference_data", []):
        if ref.get("partial"):
            console.print(f"[yellow]partial reference data[/yellow] ces/data/{ref['file']}: {ref['note']}", highlight=False)


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


def print_c2h(c, cur, console) -> None:
    """Japan C2H price adjustment: the adjusted price, and the price and cut in every ICER band."""
    t = Table(title=f"C2H price adjustment of {c['strategy']} ({cur}): price {c['price']:,.0f}, premium portion "
              f"{c['premium']:,.0f}, operating-profit portion {c['operating_profit']:,.0f}"
              + (" (boundaries x1.5)" if c["considered"] else ""), title_justify="left")
    for col in ("ICER band", "γ premium", "θ op. profit", "Adjusted price", "Cut", "Limited by"):
        t.add_column(col, justify="left" if col in ("ICER band", "Limited by") else "right")
    for _, r in c["bands"].iterrows():
        t.add_row(r["band"], f"{r['gamma']:g}", f"{r['theta']:g}", _num(r["adjusted_price"]), f"{-r['cut']:.1%}" if r["cut"] else "0.0%",
                  r["limited_by"])
    console.print(t)
    console.print(f"At the model's ICER: adjusted price {cur} {c['adjusted_price']:,.0f} ({-c['cut']:.1%}); "
                  f"source: {c['source']}", highlight=False)


def print_payers(run, console: Console | None = None) -> None:
    """Cost per payer (CEA) and the net budget impact per payer and year (BIA)."""
    console = console or make_console()
    p = run.payers
    cur = f" ({run.loaded.model.currency})" if run.loaded.model.currency else ""
    cea = p["cea"]
    t = Table(title=f"Cost per payer{cur} (shares of each cost category; effect not split)", title_justify="left")
    for c in cea.columns:
        t.add_column(c, justify="left" if c == "payer" else "right")
    for _, r in cea.iterrows():
        t.add_row(str(r["payer"]), *[f"{v:.3f}" if k == "inc_effect" else _num(v) for k, v in r.iloc[1:].items()])
    console.print(t)
    if p.get("bia") is not None:
        b = p["bia"]
        cols = [c for c in b.columns if c.startswith("net_impact.")]
        t = Table(title=f"Net budget impact per payer{cur}", title_justify="left")
        t.add_column("Year", justify="right")
        for c in cols:
            t.add_column(c.replace("net_impact.", ""), justify="right")
        for _, r in b.iterrows():
            t.add_row(str(int(r["year"])), *[_num(r[c]) for c in cols])
        console.print(t)

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
