"""``ces dsa``: deterministic sensitivity analysis (tornado, two-way grid, threshold, scenarios)."""

from pathlib import Path

import typer

from ces.cli.common import check_outputs, limits, warn, write_json
from ces.cli.core import app
from ces.cli.options import JsonFile, Limit, MaxCycles, OutDir, Perspective, Quiet, Strict


@app.command()
def dsa(
    config: Path = typer.Argument(..., help="Config with `dsa:` and/or `scenarios:`."),
    out: OutDir("Directory for tornado/two-way/scenario CSVs.") = None,
    perspective: Perspective("payer, societal, societal_with_consumption or bearer_NAME (default: the base case).")
    = None,
    json_out: JsonFile("Write the DSA tables as JSON.") = None,
    quiet: Quiet() = False,
    strict: Strict() = False,
    max_cycles: MaxCycles() = None,
    limit: Limit() = None,
) -> None:
    """Deterministic sensitivity analysis: tornado, two-way grid, threshold, scenarios."""
    from ces.studies.dsa import run_dsa

    check_outputs(out=(out, "into"), json=(json_out, "file"))
    with limits(max_cycles, limit):
        r = run_dsa(config, perspective)
    warn(r["warnings"], strict)
    write_json(json_out, {k: v for k, v in r.items() if k != "loaded"})
    if not quiet:
        from ces.report.dsa_console import print_dsa

        print_dsa(r)
    if out is not None:
        _write(r, out)


def _write(r: dict, out: Path) -> None:
    """``--out DIR``: dsa_one_way/two_way/scenarios.csv and the tornado figure."""
    from ces.report.atomic import write_text_atomic

    for key in ("one_way", "two_way", "scenarios"):
        if r.get(key) is not None:
            df = r[key] if "perspective" in r[key] else r[key].assign(perspective=r["perspective"])
            write_text_atomic(out / f"dsa_{key}.csv", df.to_csv(index=False))
    if "one_way" in r:
        from ces.report.plots import plot_tornado
        from ces.report.plots_dsa import dsa_heading

        spec = r["loaded"].model
        unit = "QALY" if spec.effect == "qaly" else "life-year"
        label = (f"ICER ({spec.currency} per {unit})" if r["outcome"] == "icer"
                 else f"Incremental NMB ({spec.currency}) at WTP {r['wtp']:,.0f}") + \
            f", {r['perspective_label']} perspective"
        plot_tornado(r["one_way"], r["base"], label, out, title=dsa_heading(r))
