"""The options shared by several commands, declared once (typer ``Annotated`` aliases).

Each alias is a function returning the annotated type; the default value stays in the command's
signature (``quiet: Quiet() = False``).  A command may pass its own help line where the option
means something narrower there (``--json`` writes the DSA tables, not the results document).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

EXECUTOR_HELP = ("Where tasks run: local (default), dask (an existing scheduler: --scheduler or CES_DASK_SCHEDULER) "
                 "or dask-local:N (a local Dask cluster of N worker processes); Dask needs pip install 'ces[dask]'.")
SCHEDULER_HELP = "Dask scheduler address, e.g. tcp://HOST:8786 (default: $CES_DASK_SCHEDULER)."


def flag(*names: str, help: str | None = None) -> Any:
    """A boolean flag (no value; shown without a `<bool>` placeholder in --help); default in the signature."""
    return typer.Option(*names, metavar=" ", help=help)


def Flag(*names: str, help: str | None = None) -> Any:
    """``Annotated[bool, flag(...)]``: a command's own boolean flag."""
    return Annotated[bool, flag(*names, help=help)]


def JsonFile(help: str = "Write the results document (ces.results v1).") -> Any:
    """``--json FILE``."""
    return Annotated[Optional[Path], typer.Option("--json", help=help)]


def Quiet(help: str = "Do not print tables.") -> Any:
    """``-q/--quiet``."""
    return Annotated[bool, flag("--quiet", "-q", help=help)]


def Strict() -> Any:
    """``--strict``: sanity warnings become errors."""
    return Annotated[bool, flag("--strict", help="Treat sanity warnings as errors (exit 2, nothing written).")]


def OutDir(help: str) -> Any:
    """``--out DIR`` (always a directory; the help says what goes into it)."""
    return Annotated[Optional[Path], typer.Option("--out", help=help)]


def Plots(help: str) -> Any:
    """``--plots``: also write figures into the output directory."""
    return Annotated[bool, flag("--plots", help=help)]


def Draws(help: str = "PSA draws (overrides psa.draws).") -> Any:
    """``--draws N``."""
    return Annotated[Optional[int], typer.Option("--draws", help=help)]


def Seed(help: str = "PSA seed (overrides psa.seed).") -> Any:
    """``--seed N``."""
    return Annotated[Optional[int], typer.Option("--seed", help=help)]


def Threads(help: str = "numba threads (default: all cores).") -> Any:
    """``--threads N``."""
    return Annotated[Optional[int], typer.Option("--threads", help=help)]


def WtpList(help: str = "Willingness to pay (repeatable); overrides the config.") -> Any:
    """``--wtp X`` (repeatable)."""
    return Annotated[Optional[list[float]], typer.Option("--wtp", help=help)]


def Perspective(help: str) -> Any:
    """``--perspective NAME``."""
    return Annotated[Optional[str], typer.Option("--perspective", help=help)]


def Executor(more: str = "") -> Any:
    """``--executor NAME``: where tasks run; ``more`` says what the tasks are for this command."""
    return Annotated[Optional[str], typer.Option("--executor", help=EXECUTOR_HELP + more)]


def Scheduler() -> Any:
    """``--scheduler ADDRESS`` (with ``--executor dask``)."""
    return Annotated[Optional[str], typer.Option("--scheduler", help=SCHEDULER_HELP)]


def MaxCycles() -> Any:
    """``--max-cycles N``."""
    return Annotated[Optional[int], typer.Option("--max-cycles", help="Raise the limit on the number of cycles "
                                                 "(default 100,000).")]


def Limit() -> Any:
    """``--limit NAME=VALUE`` (repeatable)."""
    return Annotated[Optional[list[str]], typer.Option("--limit", help="Raise a size limit: NAME=VALUE (see README, "
                                                       "Limits and bad input).")]
