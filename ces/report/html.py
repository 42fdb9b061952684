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
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from ces.errors import CesError
from ces.report.workbook_style import _kind, cell_kind, is_numeric

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


def _figures(run, dsa) -> dict:
    """name → SVG text of every figure the run supports (:func:`ces.report.figures.run_figures`); used
    when the caller has not drawn them already (``write_output_dir`` passes its own)."""
    from ces.report.figures import run_figures

    fs = run_figures(run, dsa)
    try:
        return fs.svgs()
    finally:
        fs.close()


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


def report_data(run, dsa: dict | None = None, figures: dict | None = None) -> dict:
    """Everything the report needs that results.json does not hold (JSON-serialisable); ``figures``:
    name → SVG text already drawn (drawn here when None)."""
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
        "figures": _figures(run, dsa) if figures is None else figures,
    })


FIGURE_SECTIONS = {"model": ("trace", "survival"), "dsa": ("tornado",), "budget": ("budget_impact",),
                   "psa": ("ce_plane", "ceac", "evpi", "evppi", "loss", "expected_loss", "convergence")}


CAPTIONS = {"trace": "Base-case state occupancy per strategy (cohort trace)",
            "survival": "Survival curves per strategy (extrapolated; KM points where given)",
            "ce_plane": "Cost-effectiveness plane: PSA draws, means, 95 % ellipses and the WTP line",
            "ceac": "Cost-effectiveness acceptability curves and frontier (CEAF)",
            "evpi": "Expected value of perfect information per person",
            "expected_loss": "Expected loss curves (lower envelope = EVPI)",
            "tornado": "One-way sensitivity analysis (tornado)",
            "budget_impact": "Budget impact by year"}


def caption(name: str) -> str:
    """The caption of a figure file name; ``NAME_KEY`` (a perspective's figure) names its perspective."""
    base = max((k for k in CAPTIONS if name == k or name.startswith(k + "_")), key=len, default=None)
    if base is None:
        return name.replace("_", " ")
    rest = name[len(base) + 1:]
    return CAPTIONS[base] + (f" — {rest.replace('_', ' ')} perspective" if rest else
                             " — healthcare payer perspective" if base in ("ce_plane", "ceac", "evpi") else "")


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


def write_report_files(run, folder: Path, results: dict, manifest: dict, dsa: dict | None = None,
                       figures: dict | None = None) -> list:
    """Write report_data.json and report.html into ``folder``; returns their names."""
    data = report_data(run, dsa, figures)
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
