"""The compact console summary of `ces run` (fits 100 columns; `ces run --full` prints every table).

Formatting only: every number is taken from the RunResult (totals, icers, perspectives, psa_tables,
psa_perspectives, budget, price, appraisal); rows are selected (headline WTPs), never computed.
Sections, in order: model line, base case (perspectives side by side) and impact inventory, net benefit
at the headline WTPs, PSA summary and CEAC per perspective, budget impact, threshold price, verdict.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ces.report.console_format import _num, ceac_sparkline, strategy_label
from ces.report.tree_view import model_shape

WIDTH = 100


def summary_console() -> Console:
    """A console at most WIDTH columns wide (WIDTH when the output is piped)."""
    c = Console()
    return Console(width=min(c.width, WIDTH)) if c.is_terminal else Console(width=WIDTH)


class _Titled(Table):
    """A borderless table whose title is printed as its own line (a table title would wrap to the table's width)."""

    def __init__(self, title: str):
        super().__init__(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        self.heading = title


def _table(title: str) -> _Titled:
    return _Titled(title)


def _print(console: Console, t: _Titled) -> None:
    console.print(f"[bold]{t.heading}[/bold]", highlight=False)
    console.print(t)


def _name(key: str) -> str:
    return key.replace("_", " ")


def _short(run, key: str) -> str:
    """Short perspective name (its key, e.g. payer, societal), marked when it is the base case."""
    return _name(key) + (" (base)" if key == run.base_perspective and len(run.perspective_list) > 1 else "")


def _psa_tables(run, key: str) -> dict:
    return run.psa_tables if key == "payer" else run.psa_perspectives[key]


def _icer_table(run, key: str):
    return run.icers if key == "payer" else run.perspectives[key]


def print_summary(run, console: Console | None = None) -> None:
    console = console or summary_console()
    spec = run.loaded.model
    cur = spec.currency or ""
    eff = "QALYs" if spec.effect == "qaly" else "LYs"
    m = run.model
    names = list(m.strategies)
    label = {s: strategy_label(run, s) for s in names}
    keys = [p.key for p in run.perspective_list] or ["payer"]
    persp = {p.key: p for p in run.perspective_list}
    setting = f" · setting {run.loaded.config.setting}" if run.loaded.config.setting else ""
    console.print(f"[bold]{spec.title}[/bold]")
    console.print(f"{model_shape(spec, m, f'{m.cycle_years:.4g}')} · "
                  f"discount {spec.discount.costs:g}/{spec.discount.effects:g}{setting}"
                  + (f" · {cur}" if cur else ""), highlight=False)

    # base case: each perspective's total cost side by side, then the frontier ICERs
    t = _table(f"Base case (discounted{', ' + cur if cur else ''})")
    t.add_column("Strategy")
    cost_col = {k: persp[k].cost_column if k in persp else "cost" for k in keys}
    cols = [k for k in keys if cost_col[k] in run.totals]
    for k in cols:
        t.add_column(f"Cost {_name(k)}", justify="right")
    t.add_column(eff, justify="right")
    t.add_column("LYs" if eff != "LYs" else "LYs undisc.", justify="right")
    tot = run.totals.set_index("strategy")
    for s in names:
        r = tot.loc[s]
        cells = [_num(r[cost_col[k]]) for k in cols]
        t.add_row(label[s], *cells, _num(r[spec.effect], 3), _num(r["ly" if eff != "LYs" else "ly_undiscounted"], 3))
    _print(console, t)
    t = _table(f"Incremental analysis (frontier; ICER in {cur + ' ' if cur else ''}per {eff[:-1]})")
    for c in ("Perspective", "Strategy", "vs", "Inc. cost", f"Inc. {eff}", "ICER", "Status"):
        t.add_column(c, justify="right" if c in ("Inc. cost", f"Inc. {eff}", "ICER") else "left")
    for k in keys:
        for _, r in _icer_table(run, k).iterrows():
            if not r["ref"] and r["status"] == "ND":
                continue  # the reference strategy of the frontier: no increment
            t.add_row(_short(run, k), label.get(r["strategy"], r["strategy"]),
                      label.get(r["ref"], r["ref"] or ""), _num(r["inc_cost"]), _num(r["inc_effect"], 3),
                      _num(r["icer"]), str(r["status"]))
    _print(console, t)
    if run.inventory is not None:
        inv = run.inventory
        t = _table(f"Impact inventory (discounted{', ' + cur if cur else ''}; undiscounted in --full)")
        t.add_column("Component")
        t.add_column("Perspective")
        strategies = list(dict.fromkeys(inv["strategy"]))
        for s in strategies:
            t.add_column(label.get(s, s), justify="right")
        for comp in dict.fromkeys(inv["component"]):
            rows = inv[inv["component"] == comp].set_index("strategy")
            t.add_row(comp, rows["perspective"].iloc[0], *[_num(rows.loc[s, "discounted"]) for s in strategies])
        _print(console, t)

    report = list(run.wtp_report)
    if len(run.nmb) and report:
        _print_nmb(run, [k for k in keys if cost_col[k] in run.totals], cost_col, names, label, report, cur,
                   console)

    if run.psa is not None:
        _print_psa(run, keys, names, label, report, cur, eff, console)
    if run.budget is not None:
        b = run.budget["summary"]
        t = _table(f"Budget impact over {len(b)} years ({cur + ', ' if cur else ''}undiscounted unless configured)")
        for c in ("Year", "Patients", "Current world", "New world", "Net impact", "Cumulative"):
            t.add_column(c, justify="right")
        for _, r in b.iterrows():
            t.add_row(str(int(r["year"])), _num(r["patients"], 1), _num(r["current_total"]), _num(r["new_total"]),
                      _num(r["net_impact"]), _num(r["cumulative_impact"]))
        _print(console, t)
        if "psa" in run.budget:
            last = run.budget["psa"].iloc[-1]
            console.print(f"PSA cumulative impact, year {int(last['year'])}: mean "
                          f"{_num(last['cumulative_mean'])} (95 % interval {_num(last['cumulative_lower'])}–"
                          f"{_num(last['cumulative_upper'])}; {int(last['n_draws']):,} draws)", highlight=False)
    if run.price is not None:
        p = run.price
        first = p.iloc[0]
        wtps = list(dict.fromkeys(p["wtp"]))
        t = _table(f"Threshold price of {first['parameter']} ({label.get(first['strategy'], first['strategy'])} vs "
                   f"{label.get(first['comparator'], first['comparator'])}; base value {_num(first['base_value'])})")
        t.add_column("Perspective")
        for w in wtps:
            t.add_column(f"ICER = {_num(w)}", justify="right")
        for k, g in p.groupby("perspective", sort=False):
            t.add_row(_short(run, k), *[_num(v) for v in g.set_index("wtp").loc[wtps, "threshold_price"]])
        _print(console, t)
    if run.appraisal is not None:
        _print_verdict(run, label, cur, console)
    more = [name for name, x in (("payer cash flow of the payment model", run.payment), ("cost per payer", run.payers),
                                 ("ICERs with caregiver QALY spillover", run.spillover_icers)) if x is not None]
    if more:
        console.print(f"Not shown here: {' and '.join(more)} (see --full)", highlight=False)
    console.print("Full results (CSV, workbook, HTML report, figures): --out DIR --plots · every table: --full",
                  highlight=False)


def perspective_nmb(run, key: str, cost_column: str, wtps):
    """The base-case NMB table of one perspective at ``wtps``: ``run.nmb`` for the payer, else the table the
    pipeline computed with :func:`ces.analysis.basecase.nmb_table` on that perspective's cost column."""
    table = run.nmb if key == "payer" or cost_column == "cost" else run.perspective_nmb[key]
    return table[table["wtp"].isin(list(wtps))]


def _print_nmb(run, keys, cost_col, names, label, report, cur, console) -> None:
    """Net monetary benefit at the headline WTPs, one block of rows per perspective (base case first)."""
    t = _table(f"Net monetary benefit{' (' + cur + ')' if cur else ''} per perspective, headline WTPs "
               f"({len(report)} of {len(run.wtps)}; payer at every WTP: --full)")
    t.add_column("Perspective")
    t.add_column("WTP", justify="right")
    for s in names:
        t.add_column(label[s], justify="right")
    t.add_column("Optimal")
    for k in keys:
        nmb = perspective_nmb(run, k, cost_col[k], report)
        for w, g in nmb.groupby("wtp", sort=False):
            g = g.set_index("strategy")
            t.add_row(_short(run, k), _num(w), *[_num(g.loc[s, "nmb"]) for s in names],
                      label[g.index[g["optimal"]][0]])
    _print(console, t)


def _print_psa(run, keys, names, label, report, cur, eff, console) -> None:
    psa = run.psa
    t = _table(f"PSA: {psa.n_draws:,} draws, seed {psa.seed}; means and 95 % intervals{', ' + cur if cur else ''}")
    for c in ("Strategy", "Cost", "95 % interval", eff, "95 % interval ", "Prob. ICER"):
        t.add_column(c, justify="left" if c == "Strategy" else "right", no_wrap=c != "Strategy")
    for k in keys:
        tabs = _psa_tables(run, k)
        s = tabs["summary"].set_index(["strategy", "outcome"])
        icer = tabs["icer"].set_index("strategy")
        if len(keys) > 1:
            t.add_row(f"[italic]{_short(run, k)}[/italic]")
        for name in names:
            c, q = s.loc[(name, "cost")], s.loc[(name, run.loaded.model.effect)]
            t.add_row(label[name], _num(c["mean"]), f"{_num(c['lower'])}–{_num(c['upper'])}", _num(q["mean"], 2),
                      f"{_num(q['lower'], 2)}–{_num(q['upper'], 2)}", _num(icer.loc[name, "icer"]))
    _print(console, t)
    if "wtp" not in run.psa_tables:
        return
    t = _table(f"CEAC: probability cost-effective at the headline WTPs; EVPI per person{' (' + cur + ')' if cur else ''}")
    t.add_column("Perspective")
    t.add_column("WTP", justify="right")
    for s in names:
        t.add_column(f"P(CE) {label[s]}", justify="right")
    t.add_column("Optimal")
    t.add_column("EVPI", justify="right")
    for k in keys:
        w = _psa_tables(run, k)["wtp"]
        for _, r in w[w["wtp"].isin(report)].iterrows():
            t.add_row(_short(run, k), _num(r["wtp"]), *[f"{r[f'ceac.{s}']:.3f}" for s in names],
                      label.get(r["optimal"], str(r["optimal"])), _num(r["evpi"]))
    _print(console, t)
    grid = run.psa_tables["wtp"]["wtp"]
    console.print(f"CEAC over the WTP grid ({_num(grid.iloc[0])} → {_num(grid.iloc[-1])}):", highlight=False)
    width = max(len(_short(run, k)) for k in keys) if len(keys) > 1 else 0
    lw = max(len(label[s]) for s in names)
    for k in keys:
        w = _psa_tables(run, k)["wtp"]
        for s in names:
            head = f"{_short(run, k):<{width}}  " if width else ""
            console.print(f"  {head}{label[s]:<{lw}} │{ceac_sparkline(w[f'ceac.{s}'])}│", highlight=False)


def _indented(text: str) -> Padding:
    """A line indented by 2, its wrapped continuation lines too."""
    return Padding(Text(text), (0, 0, 0, 2), expand=False)


def _print_verdict(run, label, cur, console) -> None:
    a = run.appraisal
    th = a["threshold"]
    console.print(f"[bold]Verdict[/bold] (setting {a['setting']}: threshold {cur} {th['threshold']:,.0f} per QALY, "
                  f"{th['basis']})", highlight=False)
    for _, v in a["verdicts"].iterrows():
        verdict = "below threshold" if v["below_threshold"] else "above threshold"
        if "c2h_band" in v:  # Japan: the ICER sets a price adjustment, not an accept/reject verdict
            verdict = f"C2H band {v['c2h_band']}"
        console.print(_indented(f"{v['perspective']}: {label.get(v['strategy'], v['strategy'])} vs "
                      f"{label.get(v['vs'], v['vs'])}, ICER {_num(v['icer'])}: {verdict}"), highlight=False)
    if a.get("c2h"):
        c = a["c2h"]
        console.print(_indented(f"C2H adjusted price {cur} {c['adjusted_price']:,.0f} ({-c['cut']:.1%})"),
                      highlight=False)
    if a["unverified"]:
        console.print(_indented(f"unverified preset values: {', '.join(a['unverified'])}"), highlight=False)
    for ref in a.get("reference_data", []):
        if ref.get("partial"):
            console.print(_indented(f"partial reference data: ces/data/{ref['file']}"), highlight=False)
    console.print(_indented(f"source: {a['source']}"), highlight=False)
