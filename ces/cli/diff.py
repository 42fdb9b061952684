"""``ces diff``: the reviewer's comparison of two results files (or two model files); also ``run --baseline``."""

import json
import sys
from pathlib import Path

import typer

from ces.cli.core import app
from ces.cli.options import Flag
from ces.errors import CesError


def load_results(path: Path) -> dict:
    """Read a ``results.json`` (ces.results, this schema version) or raise a one-line error."""
    from ces.modelfile.yamlio import read_text_bounded
    from ces.report.results_json import SCHEMA, SCHEMA_VERSION

    text = read_text_bounded(path, "a results.json file")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CesError(f"not a JSON file ({exc})", file=str(path)) from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise CesError(f"not a ces results document (expected \"schema\": \"{SCHEMA}\")", file=str(path))
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise CesError(f"results schema version {doc.get('schema_version')} is not supported (this ces writes "
                       f"{SCHEMA_VERSION})", file=str(path))
    return doc


def report_diff(old: dict, new: dict, names: tuple, fmt: str = "text", top: int | None = 25,
                abs_tol: float = 1e-9, rel_tol: float = 1e-9, z: float = 4.0) -> int:
    """Print the reviewer's diff (text, markdown or json) on stdout; exit code 1 if a metric changed."""
    from ces.analysis.diff import review
    from ces.report import diff_report

    rv = review(old, new, abs_tol, rel_tol, z)
    if fmt == "markdown":
        sys.stdout.write(diff_report.markdown(rv, *names, top=top))
    elif fmt == "json":
        sys.stdout.write(diff_report.as_json(rv, *names))
    else:
        from ces.report.console_format import make_console

        diff_report.print_text(rv, make_console(), top)
    return 1 if rv["n_changed"] else 0


@app.command()
def diff(
    old: Path = typer.Argument(..., help="Old results.json (or, with --models, the old model YAML)."),
    new: Path = typer.Argument(..., help="New results.json (or model YAML)."),
    models: Flag("--models", help="Compare two model files: list changed keys.") = False,
    abs_tol: float = typer.Option(1e-9, "--abs-tol", help="Absolute tolerance."),
    rel_tol: float = typer.Option(1e-9, "--rel-tol", help="Relative tolerance."),
    z: float = typer.Option(4.0, "--z", help="PSA metrics: allowance in Monte Carlo standard errors."),
    fmt: str = typer.Option("text", "--format", help="text, markdown (a CI job summary) or json (to archive)."),
    top: int = typer.Option(25, "--top", help="Changed metrics listed (largest relative change first)."),
    show_all: Flag("--all", help="List every changed metric (not only the first --top).") = False,
) -> None:
    """Compare two results files: inputs, headline per perspective, then the changed metrics (exit 0 within
    tolerance, 1 if not, 2 on bad input)."""
    if fmt not in ("text", "markdown", "json"):
        raise CesError(f"--format must be text, markdown or json, got `{fmt}`")
    if top < 1:
        raise CesError(f"--top must be at least 1, got {top}")
    if models:
        raise typer.Exit(code=_diff_models(old, new))
    a, b = load_results(old), load_results(new)
    raise typer.Exit(code=report_diff(a, b, (str(old), str(new)), fmt, None if show_all else top, abs_tol, rel_tol, z))


def _diff_models(old: Path, new: Path) -> int:
    """``--models``: the table of changed keys; exit code 1 if any."""
    from rich.markup import escape
    from rich.table import Table

    from ces.analysis.diff import diff_models
    from ces.modelfile.yamlio import load_yaml
    from ces.report.console_format import make_console

    console = make_console()
    changes = diff_models(load_yaml(old).data, load_yaml(new).data)
    t = Table(title=f"Model changes: {old} → {new}", title_justify="left")
    for c in ("key", "change", "old", "new"):
        t.add_column(c)
    for path, kind, a, b in changes:
        t.add_row(escape(path), kind, "" if a is None else escape(str(a)), "" if b is None else escape(str(b)))
    console.print(t if changes else "no changes")
    return 1 if changes else 0
