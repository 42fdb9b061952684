"""Command-line interface (typer).  Thin: parse flags, call the pipeline, map errors to exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ces.errors import CesError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="ces: health-economic evaluation of Markov and partitioned-survival models.")
err_console = Console(stderr=True)


def _fail(exc: CesError) -> None:
    err_console.print(f"[red]error:[/red] {exc}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=2)


@app.command()
def run(
    config: Path = typer.Argument(..., help="Analysis config (configs/*.yaml) or a model file (models/*.yaml)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the results document (ces.results v1)."),
    wtp: Optional[list[float]] = typer.Option(None, "--wtp", help="Willingness to pay for NMB (repeatable)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print tables."),
) -> None:
    """Run the base case and print the ICER table."""
    from ces.pipeline import run as run_pipeline
    from ces.report.atomic import write_text_atomic
    from ces.report.results_json import dumps, results_document

    try:
        res = run_pipeline(config, wtp=list(wtp) if wtp else None)
        if not quiet:
            from ces.report.console import print_run

            print_run(res)
        if json_out is not None:
            write_text_atomic(json_out, dumps(results_document(res)))
    except CesError as exc:
        _fail(exc)


@app.command()
def validate(model: Path = typer.Argument(..., help="Model or config file to check.")) -> None:
    """Check a model (schema, names, structure) and print its structure without running it."""
    from ces.pipeline import build
    from ces.report.console import print_structure

    try:
        loaded, m = build(model)
        print_structure(loaded, m)
    except CesError as exc:
        _fail(exc)


@app.command()
def schema(
    kind: str = typer.Argument("model", help="`model` or `config`."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the key reference (docs/schema.md) instead."),
) -> None:
    """Print the JSON Schema of model files or config files (for editor autocompletion)."""
    from ces.report.atomic import write_text_atomic
    from ces.spec.schema import ConfigSpec, ModelSpec
    from ces.spec.schema_doc import schema_markdown

    if kind not in ("model", "config"):
        _fail(CesError(f"unknown schema `{kind}` (allowed: model, config)"))
    cls = ModelSpec if kind == "model" else ConfigSpec
    text = schema_markdown() if markdown else json.dumps(cls.model_json_schema(by_alias=True), indent=2) + "\n"
    if out:
        write_text_atomic(out, text)
    else:
        sys.stdout.write(text)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
