"""The typer application and the one error path of the CLI (error → exit code), declared once.

Every command module registers itself on :data:`app`; no command catches :class:`CesError`
itself: :class:`SafetyNet` maps it (and usage errors) to one line on stderr and exit code 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from typer import _click as click
from typer.core import TyperGroup
from typer.exceptions import Abort

from ces.errors import CesError

err_console = Console(stderr=True)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def print_error(text: str) -> None:
    """``error: TEXT`` on stderr, on one line."""
    from rich.markup import escape

    err_console.print(f"[red]error:[/red] {escape(_one_line(text))}", highlight=False, soft_wrap=True)


class SafetyNet(TyperGroup):
    """The one error path of the CLI (the safety net, not the fix).

    - a :class:`CesError` (bad input): one line, exit 2;
    - a command-line usage error (unknown flag, bad value): one line, exit 2;
    - anything else is a bug: one line ``internal error ... please report``, exit 3
      (``CES_DEBUG=1`` prints the traceback instead);
    - numpy RuntimeWarnings (overflow in a WTP of 1e308, ...) are not printed: the results
      are checked for finiteness where it matters.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        import os
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
        except CesError as exc:
            print_error(str(exc))
            sys.exit(2)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.UsageError as exc:
            cmd = " ".join(["ces"] + (exc.ctx.command_path.split()[1:] if exc.ctx is not None else []))
            print_error(f"{exc.format_message()} (see `{cmd} --help`)")
            sys.exit(2)
        except click.ClickException as exc:
            print_error(exc.format_message())
            sys.exit(exc.exit_code)
        except (Abort, KeyboardInterrupt):
            print_error("interrupted")
            sys.exit(130)
        except SystemExit:
            raise
        except Exception as exc:  # noqa: BLE001 - the safety net
            if os.environ.get("CES_DEBUG") == "1":
                raise
            what = "out of memory" if isinstance(exc, MemoryError) else f"{exc.__class__.__name__}: {exc}"
            print_error(f"internal error ({_one_line(what)[:300]}); this is a bug in ces, please report it "
                        "with the command and input files (CES_DEBUG=1 shows the traceback)")
            sys.exit(3)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=SafetyNet, pretty_exceptions_enable=False,
                  help="ces: health-economic evaluation of Markov and partitioned-survival models.")


def _version(value: bool) -> None:
    if value:
        from ces import __version__

        typer.echo(f"ces {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", metavar=" ", callback=_version, is_eager=True,
                                       help="Print the ces version and exit.")) -> None:
    """ces: health-economic evaluation of Markov and partitioned-survival models."""
    import os

    if os.environ.get("CES_KERNEL") is not None:  # a misspelt value fails every command, not only a Markov PSA
        from ces.engine.kernel_codegen import mode

        mode()
