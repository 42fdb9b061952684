"""``ces bia``: budget impact only (base-case per-patient costs, no PSA)."""

from pathlib import Path

import typer

from ces.cli.common import check_outputs, warn, write_json
from ces.cli.core import app
from ces.cli.options import JsonFile, OutDir, Quiet, Strict
from ces.errors import CesError


@app.command()
def bia(
    config: Path = typer.Argument(..., help="Config with a `budget_impact:` block."),
    out: OutDir("Write the budget tables as CSV into this directory.") = None,
    json_out: JsonFile("Write the budget tables as JSON.") = None,
    quiet: Quiet() = False,
    strict: Strict() = False,
) -> None:
    """Budget impact only (base case per-patient costs, no PSA)."""
    from ces.pipeline import run as run_pipeline
    from ces.report.atomic import write_text_atomic
    from ces.report.console_budget import print_budget

    check_outputs(out=(out, "into"))
    res = run_pipeline(config, psa=False)
    if res.budget is None:
        raise CesError("the config has no `budget_impact:` block", file=str(config))
    warn(res.warnings, strict)
    if not quiet:
        print_budget(res)
    write_json(json_out, res.budget)
    if out is not None:
        for name, df in res.budget.items():
            write_text_atomic(out / f"budget_impact_{name}.csv", df.to_csv(index=False))
