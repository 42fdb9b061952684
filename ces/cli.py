"""Command-line interface (typer).  Thin: parse flags, call the pipeline, map errors to exit code 2."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from typer import _click as click
from typer.core import TyperGroup
from typer.exceptions import Abort

from ces.errors import CesError

err_console = Console(stderr=True)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _print_error(text: str) -> None:
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
            _print_error(str(exc))
            sys.exit(2)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.UsageError as exc:
            cmd = " ".join(["ces"] + (exc.ctx.command_path.split()[1:] if exc.ctx is not None else []))
            _print_error(f"{exc.format_message()} (see `{cmd} --help`)")
            sys.exit(2)
        except click.ClickException as exc:
            _print_error(exc.format_message())
            sys.exit(exc.exit_code)
        except (Abort, KeyboardInterrupt):
            _print_error("interrupted")
            sys.exit(130)
        except SystemExit:
            raise
        except Exception as exc:  # noqa: BLE001 - the safety net
            if os.environ.get("CES_DEBUG") == "1":
                raise
            what = "out of memory" if isinstance(exc, MemoryError) else f"{exc.__class__.__name__}: {exc}"
            _print_error(f"internal error ({_one_line(what)[:300]}); this is a bug in ces, please report it "
                         "with the command and input files (CES_DEBUG=1 shows the traceback)")
            sys.exit(3)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=SafetyNet, pretty_exceptions_enable=False,
                  help="ces: health-economic evaluation of Markov and partitioned-survival models.")


def _flag(*names: str, help: str | None = None):
    """A boolean flag (no value; shown without a `<bool>` placeholder in --help)."""
    return typer.Option(False, *names, metavar=" ", help=help)


def _version(value: bool) -> None:
    if value:
        from ces import __version__

        typer.echo(f"ces {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", metavar=" ", callback=_version, is_eager=True,
                                       help="Print the ces version and exit.")) -> None:
    """ces: health-economic evaluation of Markov and partitioned-survival models."""


def _fail(exc: CesError) -> None:
    _print_error(str(exc))
    raise typer.Exit(code=2)


@contextmanager
def _limits(max_cycles: Optional[int] = None, limit: Optional[list[str]] = None):
    """Command-line limits (``--max-cycles``, ``--limit NAME=VALUE``) for the duration of a command."""
    from ces.modelfile import limits as lim

    with lim.flags(lim.parse_flags(max_cycles, limit)):
        yield


def _check_outputs(**paths) -> None:
    """Validate output paths before any work starts: flag -> (path, kind)."""
    from ces.report.atomic import check_output_path

    for flag, (path, kind) in paths.items():
        if path is not None:
            check_output_path(path, kind, "--" + flag.replace("_", "-"))


MAX_CYCLES_OPT = typer.Option(None, "--max-cycles", help="Raise the limit on the number of cycles (default 100,000).")
LIMIT_OPT = typer.Option(None, "--limit", help="Raise a size limit: NAME=VALUE (see README, Limits and bad input).")


def _warn(warnings: list, strict: bool = False) -> None:
    """Print each sanity warning once on stderr; under --strict the first one is an error."""
    from rich.markup import escape

    if strict and warnings:
        w = warnings[0]
        more = f" (and {len(warnings) - 1} more warnings)" if len(warnings) > 1 else ""
        raise CesError(f"--strict: {w['message']} [{w['code']}]{more}", file=None, path=w["where"])
    for w in warnings:
        where = f"{w['where']}: " if w["where"] else ""
        err_console.print(f"[yellow]warning:[/yellow] {escape(where + w['message'] + ' [' + w['code'] + ']')}",
                          highlight=False, soft_wrap=True)


def _set_threads(threads: Optional[int]) -> None:
    if threads is None:
        return
    import numba

    if threads < 1 or threads > numba.config.NUMBA_NUM_THREADS:
        raise CesError(f"--threads must be between 1 and {numba.config.NUMBA_NUM_THREADS}, got {threads}")
    numba.set_num_threads(threads)


@contextmanager
def _progress(enabled: bool):
    """A rich progress bar for PSA chunks, shown only on a terminal and only after ~1 s."""
    console = Console()
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TimeRemainingColumn

    state = {"t0": time.perf_counter(), "bar": None, "task": None}

    def on_chunk(done: int, total: int) -> None:
        if state["bar"] is None:
            if time.perf_counter() - state["t0"] < 1.0 or done >= total:
                return
            state["bar"] = Progress("PSA", BarColumn(), "{task.completed:,}/{task.total:,} draws",
                                    TimeRemainingColumn(), console=console, transient=True)
            state["bar"].start()
            state["task"] = state["bar"].add_task("psa", total=total)
        state["bar"].update(state["task"], completed=done)

    try:
        yield on_chunk
    finally:
        if state["bar"] is not None:
            state["bar"].stop()


@contextmanager
def _progress_tasks(enabled: bool):
    """A rich progress bar over sweep tasks (terminal only)."""
    console = Console()
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress

    bar = Progress("sweep", BarColumn(), "{task.completed}/{task.total} runs", console=console, transient=True)
    task = None
    bar.start()

    def on_done(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            task = bar.add_task("sweep", total=total)
        bar.update(task, completed=done)

    try:
        yield on_done
    finally:
        bar.stop()


def _parse_wtp_range(text: str) -> list[float]:
    """`FROM:TO:BY` → [FROM, FROM+BY, ..., ≤ TO]."""
    import math

    from ces.modelfile import limits

    try:
        a, b, c = (float(x) for x in text.split(":"))
    except ValueError:
        raise CesError(f"--wtp must be FROM:TO:BY (e.g. 0:200000:5000), got `{text}`") from None
    if not all(math.isfinite(v) for v in (a, b, c)) or c <= 0 or b < a or a < 0:
        raise CesError(f"--wtp FROM:TO:BY needs finite numbers with 0 ≤ FROM ≤ TO and BY > 0, got `{text}`")
    span = (b - a) / c
    limits.check("max_wtp_points", span + 1, f"--wtp {text}: the number of WTP points")
    n = int(span + 1e-9) + 1
    return [a + i * c for i in range(n)]


def _write_draws(path: Path, psa, perspectives: list = ()) -> None:
    from ces.analysis.psa_tables import draws_table
    from ces.report.atomic import write_bytes_atomic

    df = draws_table(psa, perspectives)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_bytes_atomic(path, df.to_csv(index=False).encode())
    elif suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CesError("writing .parquet needs the pyarrow package (pip install pyarrow); use .csv instead") from None
        import io

        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        write_bytes_atomic(path, buf.getvalue())
    else:
        raise CesError(f"--draws-out must end in .csv or .parquet, got `{path.name}`")


EXECUTOR_HELP = ("Where tasks run: local (default), dask (an existing scheduler: --scheduler or CES_DASK_SCHEDULER) "
                 "or dask-local:N (a local Dask cluster of N worker processes); Dask needs pip install 'ces[dask]'.")
SCHEDULER_HELP = "Dask scheduler address, e.g. tcp://HOST:8786 (default: $CES_DASK_SCHEDULER)."


def _note_retried(executor) -> None:
    if executor.retried:
        err_console.print(f"note: {executor.retried} task(s) were lost with their worker and run again",
                          highlight=False)


@contextmanager
def _psa_runner(executor: Optional[str], scheduler: Optional[str], config: Path):
    """None (run the PSA in this process) or a runner that splits its chunks over a Dask cluster."""
    from ces.executors import make_executor

    if executor in (None, "local"):
        make_executor(executor, scheduler)  # checks the flags
        yield None
        return
    from ces.remote import ChunkedPsa

    started: list = []

    def runner(*args, **kwargs):  # the cluster is reached (or started) only if there is a PSA to run
        started.append(make_executor(executor, scheduler))
        return ChunkedPsa(started[0], config)(*args, **kwargs)
    try:
        yield runner
        if started:
            _note_retried(started[0])
    finally:
        if started:
            started[0].close()


@app.command()
def run(
    config: Path = typer.Argument(..., help="Analysis config (configs/*.yaml) or a model file (models/*.yaml)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the results document (ces.results v1)."),
    wtp: Optional[list[float]] = typer.Option(None, "--wtp", help="Willingness to pay (repeatable); overrides the config."),
    draws: Optional[int] = typer.Option(None, "--draws", help="Run a PSA with this many draws (overrides psa.draws)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="PSA seed (overrides psa.seed)."),
    chunk: Optional[int] = typer.Option(None, "--chunk", help="PSA draws per chunk (memory bound)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="numba threads (default: all cores)."),
    no_psa: bool = _flag("--no-psa", help="Skip the PSA even if the config has one."),
    draws_out: Optional[Path] = typer.Option(None, "--draws-out", help="Write per-draw PSA results (.csv or .parquet)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory: results.json, CSV per table, "
                                       "results.xlsx, manifest.json (written atomically)."),
    plots: bool = _flag("--plots", help="Also write figures (PNG and SVG) into the output directory."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="Compare with an earlier results.json "
                                            "(as `ces diff`; exit 1 if a metric moved beyond tolerance)."),
    quiet: bool = _flag("--quiet", "-q", help="Do not print tables."),
    full: bool = _flag("--full", help="Print every table (default: a compact summary that fits 100 columns)."),
    strict: bool = _flag("--strict", help="Treat sanity warnings as errors (exit 2, nothing written)."),
    executor: Optional[str] = typer.Option(None, "--executor", help=EXECUTOR_HELP + " The PSA's chunks become "
                                           "the tasks; the result is bit-identical to a local run."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    max_cycles: Optional[int] = MAX_CYCLES_OPT,
    limit: Optional[list[str]] = LIMIT_OPT,
) -> None:
    """Run the base case (and the PSA if configured) and print the results tables."""
    params = {k: v for k, v in locals().items() if k not in ("max_cycles", "limit")}
    with _limits(max_cycles, limit):
        _run(**params)


def _run(config, json_out, wtp, draws, seed, chunk, threads, no_psa, draws_out, out, plots, baseline, quiet,
         full, strict, executor, scheduler) -> None:
    from ces.pipeline import run as run_pipeline
    from ces.report.atomic import write_text_atomic
    from ces.report.results_json import dumps, results_document

    code = 0
    try:
        if baseline is not None:
            _load_results(baseline)  # bad baseline: fail before running
        for name, v in (("--draws", draws), ("--chunk", chunk)):
            if v is not None and v < 1:
                raise CesError(f"{name} must be at least 1, got {v}")
        _set_threads(threads)
        if draws_out is not None and draws_out.suffix.lower() not in (".csv", ".parquet"):
            raise CesError(f"--draws-out must end in .csv or .parquet, got `{draws_out.name}`")
        if wtp:
            from ces.modelfile.sizes import check_wtp_values

            check_wtp_values(list(wtp), where="--wtp")
        _check_outputs(json=(json_out, "file"), draws_out=(draws_out, "file"), out=(out, "dir"))
        t0 = time.perf_counter()
        with _psa_runner(executor, scheduler, config) as psa_runner, _progress(not quiet) as on_chunk:
            res = run_pipeline(config, wtp=list(wtp) if wtp else None, psa=not no_psa, draws=draws, seed=seed,
                               chunk=chunk, on_chunk=on_chunk, psa_runner=psa_runner)
        seconds = time.perf_counter() - t0
        _warn(res.warnings, strict)
        if draws_out is not None and res.psa is None:
            raise CesError("--draws-out needs a PSA: add `psa:` to the config or pass --draws N")
        outputs = res.loaded.config.outputs
        if out is None and outputs is not None:
            from ces.report.atomic import check_output_path

            try:
                check_output_path(Path(res.loaded.config_loc.file).parent / outputs.dir, "dir", "outputs.dir")
            except CesError as exc:
                raise res.loaded.config_loc.error(("outputs", "dir"), f"`{outputs.dir}`: " + exc.message
                                                  .replace("outputs.dir ", "").replace("outputs.dir: ", "")) from None
        elif out is None and plots:
            raise CesError("--plots needs an output directory: pass --out DIR or add `outputs: {dir: ...}`")
        if not quiet and not full:
            from ces.report.summary import print_summary

            print_summary(res)
        elif not quiet:
            from ces.report.console import print_psa, print_run

            print_run(res)
            if res.psa is not None:
                print_psa(res)
            if res.appraisal is not None:
                from ces.report.console import print_appraisal

                print_appraisal(res)
            if res.payment is not None:
                from ces.report.console import print_payment

                print_payment(res)
            if res.budget is not None:
                from ces.report.console import print_budget

                print_budget(res)
            if res.payers is not None:
                from ces.report.console import print_payers

                print_payers(res)
        if draws_out is not None:
            _write_draws(draws_out, res.psa, res.perspective_list)
        doc = results_document(res)
        if json_out is not None:
            write_text_atomic(json_out, dumps(doc))
        if out is not None or outputs is not None:
            from ces.report.outputs import write_output_dir

            if res.loaded.config.dsa is not None:  # the tornado goes into the workbook and the report
                from ces.sensitivity import run_dsa

                res.dsa = run_dsa(config)
            if out is not None:
                write_output_dir(res, out, seconds, plots=plots)
            else:
                base = Path(res.loaded.config_loc.file).parent
                write_output_dir(res, base / outputs.dir, seconds, tuple(outputs.formats), plots=plots)
        if baseline is not None:
            code = _report_diff(_load_results(baseline), json.loads(dumps(doc)), (str(baseline), str(config)))
    except CesError as exc:
        _fail(exc)
    raise typer.Exit(code=code)


@app.command()
def sweep(
    configs: list[str] = typer.Argument(..., help="Config or model files (glob patterns allowed)."),
    wtp: Optional[str] = typer.Option(None, "--wtp", help="WTP grid FROM:TO:BY (default: the config's `wtp:`)."),
    grid: Optional[list[str]] = typer.Option(None, "--grid", help="NAME=v1,v2,... (a parameter, or a setting "
                                             "such as discount.costs); repeat for a multi-way grid."),
    draws: Optional[int] = typer.Option(None, "--draws", help="PSA draws (single config: default psa.draws or 1000)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="PSA seed."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel worker processes for grids and several configs."),
    threads: Optional[int] = typer.Option(None, "--threads", help="numba threads (single-config PSA sweep)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory: writes sweep.csv."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the table as JSON (a list of rows)."),
    quiet: bool = _flag("--quiet", "-q", help="Do not print the table."),
    executor: Optional[str] = typer.Option(None, "--executor", help=EXECUTOR_HELP + " --jobs applies to local."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    fail_fast: bool = _flag("--fail-fast", help="Stop at the first failing run (default: report "
                                   "each failing run's error, finish the others, exit 2)."),
    max_cycles: Optional[int] = MAX_CYCLES_OPT,
    limit: Optional[list[str]] = LIMIT_OPT,
) -> None:
    """WTP sweep from one PSA (one config), or a parallel batch over configs × parameter grid × WTP."""
    params = {k: v for k, v in locals().items() if k not in ("max_cycles", "limit")}
    with _limits(max_cycles, limit):
        _sweep(**params)


def _sweep(configs, wtp, grid, draws, seed, jobs, threads, out, json_out, quiet, executor, scheduler,
           fail_fast) -> None:
    import glob as globmod

    from ces.pipeline import run as run_pipeline
    from ces.pipeline import wtp_values
    from ces.report.atomic import write_text_atomic

    try:
        _set_threads(threads)
        from ces.modelfile.loader import load

        paths = []
        for c in configs:
            found = sorted(globmod.glob(c)) if any(ch in c for ch in "*?[") else [c]
            if not found:
                raise CesError(f"no file matches `{c}`")
            paths += found
        loaded = load(paths[0])
        grid_spec = {}
        for g in grid or []:
            if "=" not in g:
                raise CesError(f"--grid must be NAME=v1,v2,..., got `{g}`")
            name, vals = g.split("=", 1)
            try:
                grid_spec[name.strip()] = [float(v) for v in vals.split(",")]
            except ValueError:
                raise CesError(f"--grid values must be numbers, got `{vals}`") from None
        from ces.modelfile.names import check_input, model_parameter_names

        mdata = loaded.model_loc.data
        for name in grid_spec:
            check_input(name, model_parameter_names(mdata), mdata,
                        lambda _p, msg, n=name: CesError(f"--grid {n}: {msg}"), ())
        grid_ = _parse_wtp_range(wtp) if wtp else wtp_values(loaded.config.wtp)
        if not grid_:
            raise CesError("no WTP values: pass --wtp FROM:TO:BY or add `wtp:` to the config")
        if out is not None and out.suffix.lower() in (".csv", ".json"):
            raise CesError(f"--out is an output directory (sweep.csv is written into it); for a JSON file use "
                           f"--json, got `{out.name}`")
        _check_outputs(out=(out, "into"), json=(json_out, "file"))
        if jobs < 1:
            raise CesError(f"--jobs must be at least 1, got {jobs}")
        failed = 0
        if len(paths) > 1 or grid_spec:
            from rich.markup import escape

            from ces.executors import make_executor
            from ces.sweep import sweep as batch

            with make_executor(executor, scheduler, jobs) as ex, _progress_tasks(not quiet) as on_done:
                table = batch(paths, grid_spec, grid_, ex, draws=draws, seed=seed, on_done=on_done,
                              fail_fast=fail_fast)
                _note_retried(ex)
            for e in table.attrs["errors"]:
                point = ", ".join(f"{k}={v:g}" for k, v in e.point)
                err_console.print(f"[red]error:[/red] {escape(e.message)}" + (f" (grid point {point})" if point else ""),
                                  highlight=False, soft_wrap=True)
            failed = len(table.attrs["errors"])
            if not quiet:
                from ces.report.console import make_console, print_grid_sweep

                print_grid_sweep(table, loaded, make_console())
        else:
            if draws is None and loaded.config.psa is None:
                draws = 1000
            with _psa_runner(executor, scheduler, paths[0]) as psa_runner, _progress(not quiet) as on_chunk:
                res = run_pipeline(paths[0], wtp=grid_, draws=draws, seed=seed, on_chunk=on_chunk,
                                   psa_runner=psa_runner)
            import pandas as pd

            from ces.report.console import perspective_title

            per = [(p.key, res.psa_tables if p.key == "payer" else res.psa_perspectives[p.key])
                   for p in res.perspective_list]  # one row per perspective and WTP, base case first
            table = pd.concat([t["wtp"].assign(perspective=k)[["perspective"] + list(t["wtp"].columns)]
                               for k, t in per], ignore_index=True)
            if not quiet:
                from ces.report.console import make_console, print_wtp_table

                spec = res.loaded.model
                console = make_console()
                console.print(f"[bold]{spec.title}[/bold]: WTP sweep over {len(grid_)} values, "
                              f"{res.psa.n_draws:,} PSA draws (seed {res.psa.seed})")
                for k, t in per:
                    print_wtp_table(t["wtp"], res.psa.strategies, f" ({spec.currency})" if spec.currency else "",
                                    "QALYs" if spec.effect == "qaly" else "LYs", console, t["convergence"],
                                    max_rows=len(grid_) if len(grid_) <= 25 else 25,
                                    label=perspective_title(res, k) if len(per) > 1 else "")
        if out is not None:
            write_text_atomic(out / "sweep.csv", table.to_csv(index=False))
        _write_json(json_out, table)
        if failed:
            err_console.print(f"{failed} of {table.attrs['tasks']} runs failed", highlight=False)
            raise typer.Exit(code=2)
    except CesError as exc:
        _fail(exc)


def _write_json(path: Optional[Path], obj) -> None:
    """--json FILE: any result (tables, dicts) as JSON, NaN as null."""
    if path is None:
        return
    from ces.report.atomic import write_text_atomic
    from ces.report.results_json import _clean

    write_text_atomic(path, json.dumps(_clean(obj), indent=2, allow_nan=False) + "\n")


def _load_results(path: Path) -> dict:
    from ces.report.results_json import SCHEMA, SCHEMA_VERSION

    from ces.modelfile.yamlio import read_text_bounded

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


def _report_diff(old: dict, new: dict, names: tuple, fmt: str = "text", top: int | None = 25,
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
        from ces.report.console import make_console

        diff_report.print_text(rv, make_console(), top)
    return 1 if rv["n_changed"] else 0


@app.command()
def diff(
    old: Path = typer.Argument(..., help="Old results.json (or, with --models, the old model YAML)."),
    new: Path = typer.Argument(..., help="New results.json (or model YAML)."),
    models: bool = _flag("--models", help="Compare two model files: list changed keys."),
    abs_tol: float = typer.Option(1e-9, "--abs-tol", help="Absolute tolerance."),
    rel_tol: float = typer.Option(1e-9, "--rel-tol", help="Relative tolerance."),
    z: float = typer.Option(4.0, "--z", help="PSA metrics: allowance in Monte Carlo standard errors."),
    fmt: str = typer.Option("text", "--format", help="text, markdown (a CI job summary) or json (to archive)."),
    top: int = typer.Option(25, "--top", help="Changed metrics listed (largest relative change first)."),
    show_all: bool = _flag("--all", help="List every changed metric (not only the first --top)."),
) -> None:
    """Compare two results files: inputs, headline per perspective, then the changed metrics (exit 0 within
    tolerance, 1 if not, 2 on bad input)."""
    from rich.markup import escape

    from ces.analysis.diff import diff_models
    from ces.report.console import make_console

    try:
        if fmt not in ("text", "markdown", "json"):
            raise CesError(f"--format must be text, markdown or json, got `{fmt}`")
        if top < 1:
            raise CesError(f"--top must be at least 1, got {top}")
        if models:
            from rich.table import Table

            from ces.modelfile.yamlio import load_yaml

            console = make_console()
            changes = diff_models(load_yaml(old).data, load_yaml(new).data)
            t = Table(title=f"Model changes: {old} → {new}", title_justify="left")
            for c in ("key", "change", "old", "new"):
                t.add_column(c)
            for path, kind, a, b in changes:
                t.add_row(escape(path), kind, "" if a is None else escape(str(a)), "" if b is None else escape(str(b)))
            console.print(t if changes else "no changes")
            raise typer.Exit(code=1 if changes else 0)
        a, b = _load_results(old), _load_results(new)
    except CesError as exc:
        _fail(exc)
    raise typer.Exit(code=_report_diff(a, b, (str(old), str(new)), fmt, None if show_all else top, abs_tol, rel_tol, z))


@app.command()
def dsa(
    config: Path = typer.Argument(..., help="Config with `dsa:` and/or `scenarios:`."),
    out: Optional[Path] = typer.Option(None, "--out", help="Directory for tornado/two-way/scenario CSVs."),
    perspective: Optional[str] = typer.Option(None, "--perspective", help="payer, societal, "
                                              "societal_with_consumption or bearer_NAME (default: the base case)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the DSA tables as JSON."),
    quiet: bool = _flag("--quiet", "-q", help="Do not print tables."),
    strict: bool = _flag("--strict", help="Treat sanity warnings as errors (exit 2, nothing written)."),
    max_cycles: Optional[int] = MAX_CYCLES_OPT,
    limit: Optional[list[str]] = LIMIT_OPT,
) -> None:
    """Deterministic sensitivity analysis: tornado, two-way grid, threshold, scenarios."""

    from ces.sensitivity import run_dsa

    try:
        _check_outputs(out=(out, "into"), json=(json_out, "file"))
        with _limits(max_cycles, limit):
            r = run_dsa(config, perspective)
        _warn(r["warnings"], strict)
        _write_json(json_out, {k: v for k, v in r.items() if k != "loaded"})
    except CesError as exc:
        _fail(exc)
    if not quiet:
        _print_dsa(r)
    if out is not None:
        from ces.report.atomic import write_text_atomic

        for key in ("one_way", "two_way", "scenarios"):
            if r.get(key) is not None:
                df = r[key] if "perspective" in r[key] else r[key].assign(perspective=r["perspective"])
                write_text_atomic(out / f"dsa_{key}.csv", df.to_csv(index=False))
        if "one_way" in r:
            from ces.report.plots import plot_tornado
            from ces.report.plots_dsa import dsa_heading

            spec = r["loaded"].model
            unit = "QALY" if spec.effect == "qaly" else "life-year"
            label = (f"ICER ({spec.currency} per {unit})" if r["outcome"] == "icer"
                     else f"Incremental NMB ({spec.currency}) at WTP {r['wtp']:,.0f}") + \
                f", {r['perspective_label']} perspective"
            plot_tornado(r["one_way"], r["base"], label, out, title=dsa_heading(r))


def _print_dsa(r: dict) -> None:
    from rich.table import Table

    from ces.report.console import make_console

    console = make_console()
    what = "ICER" if r["outcome"] == "icer" else f"incremental NMB at {r['wtp']:,.0f}"
    labels = {s: (c.label or s) for s, c in r["loaded"].model.strategies.items() if c is not None}
    pl = f"{r['perspective_label']} perspective"
    console.print(f"[bold]DSA[/bold] ({pl}): {what} of {labels.get(r['strategy'], r['strategy'])} vs "
                  f"{labels.get(r['comparator'], r['comparator'])}; base case "
                  f"{'undefined (ΔE = 0: equal effects)' if r['base'] != r['base'] else format(r['base'], ',.0f')}")
    if "one_way" in r:
        t = Table(title=f"One-way sensitivity (tornado, sorted by range) — {pl}", title_justify="left")
        cur = r["loaded"].model.currency
        name = ("ICER" if r["outcome"] == "icer" else "inc. NMB") + (f" ({cur})" if cur else "")
        for c in ("parameter", "low", "high", f"{name} at low", f"{name} at high", f"range{f' ({cur})' if cur else ''}"):
            t.add_column(c, justify="left" if c == "parameter" else "right")
        import math

        width = 30
        finite = r["one_way"]["range"][r["one_way"]["range"].map(math.isfinite)]
        rng = max(finite.max() if len(finite) else 0.0, 1e-300)
        for _, row in r["one_way"].iterrows():
            bar = ("█" * max(1, int(width * row["range"] / rng)) if math.isfinite(row["range"])
                   else "undefined (ΔE = 0 at low or high)")
            t.add_row(row["parameter"], f"{row['low']:g}", f"{row['high']:g}", f"{row['outcome_low']:,.0f}",
                      f"{row['outcome_high']:,.0f}", f"{row['range']:,.0f} " + bar)
        console.print(t)
    if r.get("two_way") is not None:
        tw = r["two_way"]
        x, y, z = tw.columns
        piv = tw.pivot(index=x, columns=y, values=z)
        t = Table(title=f"Two-way: {z} by {x} (rows) and {y} (columns) — {pl}", title_justify="left")
        t.add_column(x)
        for c in piv.columns:
            t.add_column(f"{c:g}", justify="right")
        for i, row in piv.iterrows():
            t.add_row(f"{i:g}", *[f"{v:,.2f}" for v in row])
        console.print(t)
    if r.get("threshold") is not None:
        th = r["threshold"]
        if th["threshold"] is None:
            console.print(f"Threshold: the decision does not change for {th['parameter']} in [{th['low']:g}, "
                          f"{th['high']:g}] at WTP {th['wtp']:,.0f}.")
        else:
            console.print(f"Threshold: at WTP {th['wtp']:,.0f} the decision changes at {th['parameter']} = "
                          f"{th['threshold']:,.6g} (incremental NMB = 0).")
    sc = r["scenarios"]
    if len(sc) > 1:
        t = Table(title=f"Scenarios — {pl}", title_justify="left")
        for c in sc.columns:
            t.add_column(c, justify="left" if c == "scenario" else "right")
        for _, row in sc.iterrows():
            t.add_row(str(row["scenario"]), str(row["perspective"]),
                      *[f"{v:,.0f}" if k == "icer" else f"{v:,.4f}" if abs(v) < 100 else f"{v:,.2f}"
                        for k, v in row.iloc[2:].items()])
        console.print(t)


@app.command()
def bia(
    config: Path = typer.Argument(..., help="Config with a `budget_impact:` block."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the budget tables as CSV into this directory."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the budget tables as JSON."),
    quiet: bool = _flag("--quiet", "-q", help="Do not print tables."),
    strict: bool = _flag("--strict", help="Treat sanity warnings as errors (exit 2, nothing written)."),
) -> None:
    """Budget impact only (base case per-patient costs, no PSA)."""
    from ces.pipeline import run as run_pipeline
    from ces.report.atomic import write_text_atomic
    from ces.report.console import print_budget

    try:
        _check_outputs(out=(out, "into"))
        res = run_pipeline(config, psa=False)
        if res.budget is None:
            raise CesError("the config has no `budget_impact:` block", file=str(config))
        _warn(res.warnings, strict)
        if not quiet:
            print_budget(res)
        _write_json(json_out, res.budget)
        if out is not None:
            for name, df in res.budget.items():
                write_text_atomic(out / f"budget_impact_{name}.csv", df.to_csv(index=False))
    except CesError as exc:
        _fail(exc)


@app.command()
def price(
    config: Path = typer.Argument(..., help="Config or model file."),
    parameter: str = typer.Option(..., "--parameter", "-p", help="Cost parameter holding the price."),
    wtp: float = typer.Option(..., "--wtp", help="Willingness to pay per unit of effect."),
    strategy: Optional[str] = typer.Option(None, "--strategy", help="Strategy (default: the last)."),
    comparator: Optional[str] = typer.Option(None, "--comparator", help="Comparator (default: the first)."),
    perspective: str = typer.Option("payer", "--perspective", help="payer, societal or societal_with_consumption."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the result as JSON."),
    quiet: bool = _flag("--quiet", "-q", help="Do not print the result."),
) -> None:
    """Threshold price: the value of a price parameter at which the ICER equals the WTP (exact, linear)."""
    from ces.economics.price import threshold_price

    cols = {"payer": "cost", "societal": "cost_societal", "societal_with_consumption": "cost_societal_consumption"}
    try:
        if perspective not in cols:
            raise CesError(f"--perspective must be one of {', '.join(cols)}, got `{perspective}`")
        r = threshold_price(config, parameter, wtp, strategy, comparator, cols[perspective])
        _write_json(json_out, {**r, "perspective": perspective})
    except CesError as exc:
        _fail(exc)
    if not quiet:
        typer.echo(f"{r['strategy']} vs {r['comparator']} ({perspective}): ICER = {wtp:,.0f} when {parameter} = "
                   f"{r['threshold_price']:,.2f} (base value {r['base_value']:,.2f}; each unit of {parameter} adds "
                   f"{r['slope']:,.6g} to the incremental cost)")


@app.command()
def report(
    results_dir: Path = typer.Argument(..., help="Output directory of `ces run --out DIR` (results.json, "
                                        "manifest.json, report_data.json)."),
) -> None:
    """Rebuild the one-file HTML report (report.html) of a results directory without re-running the model."""
    from ces.report.html import rebuild

    try:
        path = rebuild(results_dir)
    except CesError as exc:
        _fail(exc)
    typer.echo(f"wrote {path}")


@app.command()
def validate(model: Path = typer.Argument(..., help="Model or config file to check."),
             max_cycles: Optional[int] = MAX_CYCLES_OPT, limit: Optional[list[str]] = LIMIT_OPT) -> None:
    """Check a model (schema, names, structure) and print its structure without running it."""
    from ces.pipeline import build
    from ces.report.console import print_structure

    try:
        with _limits(max_cycles, limit):
            loaded, m = build(model)
        print_structure(loaded, m)
    except CesError as exc:
        _fail(exc)


@app.command()
def schema(
    kind: str = typer.Argument("model", help="`model` or `config`."),
    out: Optional[Path] = typer.Option(None, "--file", "-o", help="Write to this file instead of stdout."),
    markdown: bool = _flag("--markdown", help="Print the key reference (docs/schema.md) instead."),
) -> None:
    """Print the JSON Schema of model files or config files (for editor autocompletion)."""
    from ces.report.atomic import write_text_atomic
    from ces.modelfile.schema import ConfigSpec, ModelSpec
    from ces.modelfile.schema_doc import schema_markdown

    if kind not in ("model", "config"):
        _fail(CesError(f"unknown schema `{kind}` (allowed: model, config)"))
    cls = ModelSpec if kind == "model" else ConfigSpec
    text = schema_markdown() if markdown else json.dumps(cls.model_json_schema(by_alias=True), indent=2) + "\n"
    if out:
        write_text_atomic(out, text)
    else:
        sys.stdout.write(text)


@app.command()
def evppi(
    config: Path = typer.Argument(..., help="Analysis config with a PSA (`psa:` or --draws) and optionally `evppi:`."),
    param: Optional[list[str]] = typer.Option(None, "--param", help="A sampled parameter (repeatable); replaces "
                                              "the config's `evppi.parameters`."),
    group: Optional[list[str]] = typer.Option(None, "--group", help="NAME=P1,P2 (repeatable): EVPPI of learning "
                                              "P1 and P2 together; replaces the config's `evppi.groups`."),
    wtp: Optional[list[float]] = typer.Option(None, "--wtp", help="Willingness to pay (repeatable); overrides the config."),
    draws: Optional[int] = typer.Option(None, "--draws", help="PSA draws (overrides psa.draws)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="PSA seed (overrides psa.seed)."),
    bootstrap: Optional[int] = typer.Option(None, "--bootstrap", help="Bootstrap resamples for the SEs "
                                            "(overrides evppi.bootstrap; 0 = none)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="numba threads (default: all cores)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the results document (ces.results v1)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory (as `ces run --out`), with the "
                                       "EVPPI and decision-uncertainty tables."),
    plots: bool = typer.Option(False, "--plots", help="Also write the figures, VOI figures included."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print tables."),
) -> None:
    """Value of information from one PSA run: EVPPI per parameter and group (regression method), expected loss."""
    from ces.analysis.voi_tables import decision_tables, evppi_items, evppi_tables, sort_wtp
    from ces.engine.psa import sampled_parameters
    from ces.pipeline import psa_options
    from ces.pipeline import run as run_pipeline
    from ces.modelfile.schema import EvppiSpec

    try:
        for name, v in (("--draws", draws), ("--bootstrap", bootstrap)):
            if v is not None and v < (1 if name == "--draws" else 0):
                raise CesError(f"{name} must be at least {1 if name == '--draws' else 0}, got {v}")
        if plots and out is None:
            raise CesError("--plots needs an output directory: pass --out DIR")
        groups = {}
        for g in group or []:
            name, sep, names = g.partition("=")
            members = [p.strip() for p in names.split(",") if p.strip()]
            if not sep or not name.strip() or not members:
                raise CesError(f"--group must be NAME=P1,P2,..., got `{g}`")
            groups[name.strip()] = members
        _set_threads(threads)
        from ces.analysis.voi_tables import check_sizes
        from ces.modelfile.loader import load

        pre = load(config)  # sizes bounded before the PSA runs
        pre_opts = psa_options(pre, draws, seed)
        if pre_opts is not None:
            check_sizes(pre_opts.draws, (pre.config.evppi or EvppiSpec()).bootstrap if bootstrap is None else bootstrap)
        t0 = time.perf_counter()
        with _progress(not quiet) as on_chunk:
            res = run_pipeline(config, wtp=list(wtp) if wtp else None, draws=draws, seed=seed, on_chunk=on_chunk)
        if res.psa is None:
            raise CesError("EVPPI needs a PSA: add `psa:` to the config or pass --draws N", file=str(config))
        spec = res.loaded.config.evppi or EvppiSpec()
        names = res.psa.strategies
        if spec.reference is not None and spec.reference not in names:
            raise CesError(f"evppi.reference: unknown strategy `{spec.reference}` (strategies: {', '.join(names)})",
                           file=str(config))
        ref = names.index(spec.reference) if spec.reference else 0
        samples = sampled_parameters(res.model, res.psa.n_draws, res.psa.seed)
        from_cli = bool(param or group)
        try:
            items = evppi_items(samples, list(param or []) if from_cli else spec.parameters,
                                groups if from_cli else spec.groups)
        except CesError as exc:
            if from_cli or res.loaded.config_loc is None or res.loaded.config.evppi is None:
                raise
            raise res.loaded.config_loc.error(("evppi",), exc.message) from None
        at = sort_wtp(spec.wtp, res.wtps)
        wtps = sorted(set(res.wtps) | {at})
        opts = psa_options(res.loaded, draws, seed)
        tabs = evppi_tables(res.psa, samples, res.loaded.model.effect, wtps, items, at,
                            spec.bootstrap if bootstrap is None else bootstrap, ref, opts.population,
                            opts.population_years, opts.population_discount, res.perspective_list)
        tabs.update(decision_tables(res.psa, res.loaded.model.effect, wtps, at, ref, res.perspective_list))
        res.psa_tables.update(tabs)
        seconds = time.perf_counter() - t0
        if not quiet:
            from ces.report.console import print_evppi

            print_evppi(res, at)
        if json_out is not None:
            from ces.report.atomic import write_text_atomic
            from ces.report.results_json import dumps, results_document

            write_text_atomic(json_out, dumps(results_document(res)))
        if out is not None:
            from ces.report.outputs import write_output_dir

            write_output_dir(res, out, seconds, plots=plots)
            if plots:
                from ces.report.plots import plot_voi

                plot_voi(res, out / "plots", at)
    except CesError as exc:
        _fail(exc)


@app.command()
def fit(
    data: Optional[Path] = typer.Argument(None, help="Patient-level CSV, one row per patient (omit with --km)."),
    time_col: Optional[list[str]] = typer.Option(None, "--time", help="Time column (repeatable, one per endpoint)."),
    event_col: Optional[list[str]] = typer.Option(None, "--event", help="Event column, 1 = event, 0 = censored "
                                                  "(repeatable, paired with --time)."),
    name: Optional[list[str]] = typer.Option(None, "--name", help="Curve name per endpoint (default os / endpointN)."),
    arm: Optional[str] = typer.Option(None, "--arm", help="Arm column: fit per arm (or jointly with --joint)."),
    joint: bool = typer.Option(False, "--joint", help="With --arm: one fit, arm as a covariate on the location."),
    weight: Optional[str] = typer.Option(None, "--weight", help="Case-weight column."),
    km: Optional[Path] = typer.Option(None, "--km", help="Digitised KM curve CSV (time, survival)."),
    at_risk: Optional[Path] = typer.Option(None, "--at-risk", help="Numbers at risk CSV (time, n_risk)."),
    events: Optional[int] = typer.Option(None, "--events", help="Total number of events (Guyot), if reported."),
    ipd_out: Optional[Path] = typer.Option(None, "--ipd-out", help="Where to write the reconstructed data "
                                           "(default: KM file name + _ipd.csv)."),
    families: Optional[str] = typer.Option(None, "--families", help="Comma list (default: every fittable family)."),
    knots: str = typer.Option("1,2,3", "--knots", help="Internal spline knots to try, comma list."),
    cure: bool = typer.Option(True, "--cure/--no-cure", help="Also fit mixture and non-mixture cure models."),
    time_unit: str = typer.Option("month", "--time-unit", help="Unit of the time column: day, week, month, year."),
    at: str = typer.Option("1,2,5,10", "--at", help="Years at which to report S(t) beside the KM."),
    horizon: float = typer.Option(40.0, "--horizon", help="Restricted-mean horizon, years."),
    choose: Optional[str] = typer.Option(None, "--choose", help="Model for --yaml (default: lowest AIC)."),
    yaml_out: Optional[Path] = typer.Option(None, "--yaml", help="Write the curves block (parameters + curves)."),
    merge: Optional[Path] = typer.Option(None, "--merge", help="With --yaml: also write MODEL with the block merged "
                                         "in, as <yaml name>_model.yaml (same-named entries replaced)."),
    bootstrap_b: int = typer.Option(0, "--bootstrap", help="Refit on B resamples of the patients (joint PSA)."),
    seed: int = typer.Option(2026, "--seed", help="Bootstrap seed."),
    jobs: int = typer.Option(1, "--jobs", help="Worker processes for --bootstrap (same result for any number)."),
    background: Optional[str] = typer.Option(None, "--background", help="Life table for cure curves (e.g. us_2021)."),
    age: Optional[float] = typer.Option(None, "--age", help="With --background: age at start, for the "
                                        "extrapolation plot's background-mortality floor."),
    sex: str = typer.Option("0.5", "--sex", help="With --age: male, female, or the male share (0-1)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Directory for the tables (CSV) and plots (PNG, SVG)."),
) -> None:
    """Fit parametric survival models to patient-level data or a digitised KM curve (Guyot)."""
    from ces.report import fit_report
    from ces.executors import LocalExecutor

    try:
        if jobs < 1:
            raise CesError(f"--jobs must be at least 1, got {jobs}")
        fit_report.main(data=data, time_col=time_col, event_col=event_col, name=name, arm=arm, joint=joint,
                     weight=weight, km=km, at_risk=at_risk, events=events, ipd_out=ipd_out, families=families,
                     knots=knots, cure=cure, time_unit=time_unit, at=at, horizon=horizon, choose=choose,
                     yaml_out=yaml_out, merge=merge, bootstrap_b=bootstrap_b, seed=seed, background=background, age=age,
                          sex=sex, out=out,
                        executor=LocalExecutor(jobs) if jobs > 1 else None, blocks=4 * jobs if jobs > 1 else 1)
    except CesError as exc:
        _fail(exc)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
