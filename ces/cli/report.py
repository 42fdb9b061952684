"""``ces report``: rebuild the one-file HTML report of a results directory (no model run)."""

from pathlib import Path

import typer

from ces.cli.core import app


@app.command()
def report(
    results_dir: Path = typer.Argument(..., help="Output directory of `ces run --out DIR` (results.json, "
                                        "manifest.json, report_data.json)."),
) -> None:
    """Rebuild the one-file HTML report (report.html) of a results directory without re-running the model."""
    from ces.report.html import rebuild

    typer.echo(f"wrote {rebuild(results_dir)}")
