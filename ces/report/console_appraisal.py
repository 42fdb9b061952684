"""Terminal tables of the appraisal: the setting's dated threshold options and scenarios, and Japan's C2H
price adjustment.  Formatting only."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ces.report.console_format import _num, make_console


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
