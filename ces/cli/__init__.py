"""Command-line interface (typer).  Thin: parse flags, call the pipeline or a study, print or write.

One module per command; the shared options are declared once in :mod:`ces.cli.options` and the
error → exit-code mapping once in :mod:`ces.cli.core` (bad input: exit 2, a bug: exit 3).  Lower
modules are imported inside the command functions, so ``ces --help`` stays fast.

- ``core``: the typer app, ``--version``, the safety net (errors → one line + exit code);
- ``options``: the shared options (``--json``, ``-q``, ``--draws``, ``--seed``, ``--threads``, ``--out``, ...);
- ``common``: limits, output-path checks, warnings, threads, ``--json`` writing, ``--wtp`` ranges;
- ``progress``: progress bars; ``runners``: ``--executor`` / ``--scheduler`` for the PSA's chunks;
- one module per command, registered here in the order ``ces --help`` lists them.
"""

from ces.cli.core import app

# registration order = the order of `ces --help`
from ces.cli import run, sweep, diff, dsa, bia, price, report, validate, schema, evppi, fit  # noqa: E402,F401

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover
    app()
