"""Terminal tables of the budget impact (`ces bia`), the payment model and the cost shares per payer.
Formatting only."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ces.report.console_format import _num, make_console, strategy_label


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
