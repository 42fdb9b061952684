"""``ces schema``: the JSON Schema of model or config files, or the key reference (docs/schema.md)."""

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from ces.cli.core import app
from ces.cli.options import Flag
from ces.errors import CesError


@app.command()
def schema(
    kind: str = typer.Argument("model", help="`model` or `config`."),
    out: Optional[Path] = typer.Option(None, "--file", "-o", help="Write to this file instead of stdout."),
    markdown: Flag("--markdown", help="Print the key reference (docs/schema.md) instead.") = False,
) -> None:
    """Print the JSON Schema of model files or config files (for editor autocompletion)."""
    from ces.modelfile.schema import ModelSpec
    from ces.modelfile.schema_config import ConfigSpec
    from ces.modelfile.schema_doc import schema_markdown
    from ces.report.atomic import write_text_atomic

    if kind not in ("model", "config"):
        raise CesError(f"unknown schema `{kind}` (allowed: model, config)")
    cls = ModelSpec if kind == "model" else ConfigSpec
    text = schema_markdown() if markdown else json.dumps(cls.model_json_schema(by_alias=True), indent=2) + "\n"
    if out:
        write_text_atomic(out, text)
    else:
        sys.stdout.write(text)
