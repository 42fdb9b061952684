"""The one-file HTML report ``report.html`` (Jinja2 template ``templates/report.html.j2``).

Self-contained: CSS inline, figures embedded as SVG (``data:image/svg+xml`` URIs), no script and no
network request.  Rendered from three documents that the output directory holds, so that
``ces report DIR`` rebuilds the same page without re-running the model:

* ``results.json`` — every table (looped over generically: each perspective and PSA table present);
* ``manifest.json`` — provenance (versions, date, seed, input files and their SHA-256);
* ``report_data.json`` — what results.json does not carry: the inputs table, the model structure and
  its diagram, settings and conventions, warnings, DSA, payments, and the figures (SVG text).
"""

from __future__ import annotations

import base64
import json
import math
import tempfile
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from ces.errors import CesError
from ces.report.workbook import _kind, cell_kind, is_numeric

DATA_FILE = "report_data.json"
REPORT_FILE = "report.html"


def _env() -> Environment:
    env = Environment(loader=PackageLoader("ces.report", "templates"), autoescape=select_autoescape(["j2", "html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = format_number
    env.filters["svg_uri"] = lambda svg: "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    env.filters["title"] = lambda k: str(k).replace("_", " ")
    env.filters["kind"] = lambda c: _kind(str(c))
    env.filters["caption"] = caption
    env.filters["money_col"] = lambda c, rows: _kind(str(c)) == "money" and is_numeric([r.get(c) for r in rows])
    return env


def format_number(v, col: str = "", row: dict | None = None) -> str:
    """Display format by column kind (money 0 decimals with separators, effects 4, probabilities 3)."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return "–"
    kind = cell_kind(col, row) if row is not None else _kind(col)
    if kind == "prob":
        return f"{v:.3f}"
    if kind == "effect":
        return f"{v:,.4f}"
    if isinstance(v, int) or float(v).is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if kind == "money" or abs(v) >= 1000:
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    return f"{v:.4g}"


def _figures(run, dsa, plots: Path | None = None) -> dict:
    """name → SVG text of every figure the run supports (the same functions as ``--plots``; the SVGs
    already in ``plots`` are reused)."""
    from ces.report.plots import plot_run, plot_tornado

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if plots is not None and plots.is_dir() and any(plots.glob("*.svg")):
            paths = sorted(p for p in plots.glob("*.svg") if p.stem != "tornado")
        else:
            paths = [tmp / n for n in plot_run(run, tmp)]
        if dsa is not None and dsa.get("one_way") is not None and len(dsa["one_way"]):
            lab = {s: cs.label for s, cs in run.model.strategies.items()}
            title = (f"One-way sensitivity: {lab.get(dsa['strategy'], dsa['strategy'])} vs "
                     f"{lab.get(dsa['comparator'], dsa['comparator'])}, healthcare payer")
            labels = {n: d.meta.get("label") for n, d in run.model.model_defs.items() if d.meta.get("label")}
            paths += [tmp / n for n in plot_tornado(dsa["one_way"], dsa["base"], dsa_label(run, dsa), tmp, labels,
                                                    title)]
        return {p.stem: p.read_text(encoding="utf-8") for p in paths if p.suffix == ".svg"}


def dsa_label(run, dsa) -> str:
    spec = run.loaded.model
    unit = "QALY" if spec.effect == "qaly" else "life-year"
    return (f"ICER ({spec.currency} per {unit}), healthcare payer" if dsa["outcome"] == "icer"
            else f"Incremental NMB ({spec.currency}) at WTP {dsa['wtp']:,.0f}, healthcare payer")


def warnings(run) -> list:
    """Notes a reviewer must see: capped curve crossings, unverified preset values, partial reference data,
    budget-impact pricing flags, and the payment-model approximation under PSA."""
    out = []
    for s, r in run.base.results.items():
        if r.crossing is not None and r.crossing.points:
            out.append(f"{s}: survival curves crossed at {r.crossing.points} time points; the lower curve was capped "
                       "at the upper one (crossing: cap).")
    if run.psa is not None:
        for s, c in (run.psa.crossing or {}).items():
            if c.draws:
                out.append(f"PSA, {s}: curves capped in {c.draws:,} of {run.psa.n_draws:,} draws.")
    ap = getattr(run, "appraisal", None)
    if ap is not None:
        if ap.get("unverified"):
            out.append("Unverified preset values (not seen in a primary source): " + ", ".join(ap["unverified"]))
        for ref in ap.get("reference_data", []):
            if ref.get("note"):
                out.append(f"Partial reference data ces/data/{ref.get('file')}: {ref['note']}")
    if run.budget is not None and "flags" in run.budget:
        for _, f in run.budget["flags"].iterrows():
            out.append(f"Budget impact: {f['rule']}, year {f['year']}: {f['detail']} ({f['source']})")
    if run.payment is not None and run.psa is not None:
        out.append("PSA: the base-case payment-model adjustment is applied to every draw (documented approximation).")
    return out


def conventions(run) -> list:
    """(setting, value) rows: cycle, horizon, counting correction, discounting, currency, effect, WTP."""
    spec = run.loaded.model
    m = run.model
    d = spec.discount
    corr = {"start": "α=1, β=0 (start of cycle)", "end": "α=0, β=1 (end of cycle)",
            "life-table": "α=β=½ (life-table / trapezoid per cycle)", "half-cycle": "w=½,1,…,1,½ over time points",
            "simpson": "Simpson 1/3 weights over time points", "darth-simpson": "DARTH Simpson 1/3 weights",
            "none": "w=1 at every time point"}
    rows = [("model type", "partitioned survival" if spec.kind == "psm" else "Markov cohort"),
            ("cycle length", f"{m.cycle_years:g} years"), ("horizon", f"{m.n_cycles} cycles "
                                                           f"({m.n_cycles * m.cycle_years:g} years)"),
            ("start age", spec.start_age), ("counting (within-cycle) correction",
                                            f"{spec.correction}: {corr.get(spec.correction, '')}"),
            ("discount rate, costs", f"{d.costs:g} per year"), ("discount rate, effects", f"{d.effects:g} per year"),
            ("discounting", f"{d.method}, timing {d.timing}"),
            ("one-off costs at time 0", "not discounted, not weighted"),
            ("currency", spec.currency or "not set"), ("effect", spec.effect),
            ("cost categories", ", ".join(m.cost_streams)),
            ("healthcare payer categories", ", ".join(m.payer_streams)),
            ("willingness to pay", ", ".join(f"{w:,.0f}" for w in run.wtps) or "not set")]
    ap = getattr(run, "appraisal", None)
    if ap is not None:
        thr = ap["threshold"]
        rows.append(("setting", f"{ap['setting']}; rule {ap['rule']}; threshold "
                                f"{format_number(thr.get('threshold'), 'threshold')} ({ap.get('source') or ''})"))
    return [(k, v) for k, v in rows if v is not None]


def report_data(run, dsa: dict | None = None, plots: Path | None = None) -> dict:
    """Everything the report needs that results.json does not hold (JSON-serialisable)."""
    from ces.report.diagram import diagram_svg, structure
    from ces.report.inputs import inputs_table
    from ces.report.results_json import _clean
    from ces.report.workbook import extra_tables

    st = structure(run.model)
    extra = {k: v for k, v in extra_tables(run, dsa).items() if k.startswith(("dsa_", "payment_"))}
    return _clean({
        "title": run.loaded.model.title,
        "labels": {s: cs.label for s, cs in run.model.strategies.items()},
        "structure": st,
        "diagram": diagram_svg(st),
        "conventions": [list(r) for r in conventions(run)],
        "inputs": inputs_table(run),
        "warnings": warnings(run),
        "dsa": None if dsa is None else {k: dsa[k] for k in ("strategy", "comparator", "outcome", "wtp", "base")},
        "extra_tables": extra,
        "figures": _figures(run, dsa, plots),
    })


FIGURE_SECTIONS = {"model": ("trace", "survival"), "dsa": ("tornado",), "budget": ("budget_impact",),
                   "psa": ("ce_plane", "ceac", "evpi", "evppi", "loss", "expected_loss", "convergence")}


CAPTIONS = {"trace": "Base-case state occupancy per strategy (cohort trace)",
            "survival": "Survival curves per strategy (extrapolated; KM points where given)",
            "ce_plane": "Cost-effectiveness plane (PSA draws, healthcare payer)",
            "ceac": "Cost-effectiveness acceptability curves and frontier (CEAF)",
            "evpi": "Expected value of perfect information per person",
            "tornado": "One-way sensitivity analysis (tornado)",
            "budget_impact": "Budget impact by year"}


def caption(name: str) -> str:
    return CAPTIONS.get(name, name.replace("_", " "))


def figure_groups(names) -> dict:
    """Figures by report section (by name prefix); figures of unknown names go to `other`."""
    out: dict = {k: [] for k in (*FIGURE_SECTIONS, "other")}
    for n in names:
        sec = next((k for k, pre in FIGURE_SECTIONS.items() if n.startswith(pre)), "other")
        out[sec].append(n)
    return out


def render(results: dict, manifest: dict, data: dict) -> str:
    """The HTML text of the report."""
    return _env().get_template("report.html.j2").render(r=results, m=manifest, d=data,
                                                         groups=figure_groups(data.get("figures", {})))


def write_report_files(run, folder: Path, results: dict, manifest: dict, dsa: dict | None = None) -> list:
    """Write report_data.json and report.html into ``folder``; returns their names."""
    data = report_data(run, dsa, folder / "plots")
    (folder / DATA_FILE).write_text(json.dumps(data, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    (folder / REPORT_FILE).write_text(render(results, manifest, data), encoding="utf-8")
    return [DATA_FILE, REPORT_FILE]


def rebuild(folder: Path) -> Path:
    """``ces report DIR``: render report.html again from the directory's documents."""
    folder = Path(folder)
    docs = []
    for name in ("results.json", "manifest.json", DATA_FILE):
        p = folder / name
        if not p.exists():
            raise CesError(f"not a ces results directory: {name} is missing (write it with `ces run CONFIG --out "
                           "DIR` in the json format)", file=str(folder))
        try:
            docs.append(json.loads(p.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CesError(f"not a JSON file ({exc})", file=str(p)) from None
    from ces.report.atomic import write_text_atomic

    out = folder / REPORT_FILE
    write_text_atomic(out, render(*docs))
    return out
