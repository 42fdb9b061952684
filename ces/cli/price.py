"""``ces price``: the threshold price (the price at which the ICER equals the WTP)."""

from pathlib import Path
from typing import Optional

import typer

from ces.cli.common import write_json
from ces.cli.core import app
from ces.cli.options import JsonFile, Perspective, Quiet
from ces.errors import CesError

COST_COLUMNS = {"payer": "cost", "societal": "cost_societal", "societal_with_consumption": "cost_societal_consumption"}


@app.command()
def price(
    config: Path = typer.Argument(..., help="Config or model file."),
    parameter: str = typer.Option(..., "--parameter", "-p", help="Cost parameter holding the price."),
    wtp: float = typer.Option(..., "--wtp", help="Willingness to pay per unit of effect."),
    strategy: Optional[str] = typer.Option(None, "--strategy", help="Strategy (default: the last)."),
    comparator: Optional[str] = typer.Option(None, "--comparator", help="Comparator (default: the first)."),
    perspective: Perspective("payer, societal or societal_with_consumption.") = "payer",
    json_out: JsonFile("Write the result as JSON.") = None,
    quiet: Quiet("Do not print the result.") = False,
) -> None:
    """Threshold price: the value of a price parameter at which the ICER equals the WTP (exact, linear)."""
    from ces.studies.price import threshold_price

    if perspective not in COST_COLUMNS:
        raise CesError(f"--perspective must be one of {', '.join(COST_COLUMNS)}, got `{perspective}`")
    r = threshold_price(config, parameter, wtp, strategy, comparator, COST_COLUMNS[perspective])
    write_json(json_out, {**r, "perspective": perspective})
    if not quiet:
        typer.echo(f"{r['strategy']} vs {r['comparator']} ({perspective}): ICER = {wtp:,.0f} when {parameter} = "
                   f"{r['threshold_price']:,.2f} (base value {r['base_value']:,.2f}; each unit of {parameter} adds "
                   f"{r['slope']:,.6g} to the incremental cost)")
