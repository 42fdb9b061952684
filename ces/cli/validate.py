"""``ces validate``: check a model (schema, names, structure) and print its structure without running it."""

from pathlib import Path

import typer

from ces.cli.common import limits
from ces.cli.core import app
from ces.cli.options import Limit, MaxCycles


@app.command()
def validate(model: Path = typer.Argument(..., help="Model or config file to check."),
             max_cycles: MaxCycles() = None, limit: Limit() = None) -> None:
    """Check a model (schema, names, structure) and print its structure without running it."""
    from ces.pipeline import build
    from ces.report.console_base import print_structure

    with limits(max_cycles, limit):
        loaded, m = build(model)
        if loaded.config.psa is not None and loaded.config.psa.curves is not None:
            from ces.survival.boot_run import check_recipes

            check_recipes(loaded)  # the refit itself runs in `ces run`
    print_structure(loaded, m)
