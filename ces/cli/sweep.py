"""``ces sweep``: a WTP sweep from one PSA, or a parallel batch over configs × parameter grid × WTP."""

from typing import Optional

import typer

from ces.cli.common import check_outputs, limits, parse_wtp_range, set_threads, write_json
from ces.cli.core import app, err_console
from ces.cli.options import (Draws, Executor, Flag, JsonFile, Limit, MaxCycles, OutDir, Quiet, Scheduler, Seed,
                             Threads)
from ces.errors import CesError


@app.command()
def sweep(
    configs: list[str] = typer.Argument(..., help="Config or model files (glob patterns allowed)."),
    wtp: Optional[str] = typer.Option(None, "--wtp", help="WTP grid FROM:TO:BY (default: the config's `wtp:`)."),
    grid: Optional[list[str]] = typer.Option(None, "--grid", help="NAME=v1,v2,... (a parameter, or a setting "
                                             "such as discount.costs); repeat for a multi-way grid."),
    draws: Draws("PSA draws (single config: default psa.draws or 1000).") = None,
    seed: Seed("PSA seed.") = None,
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel worker processes for grids and several configs."),
    threads: Threads("numba threads (single-config PSA sweep).") = None,
    out: OutDir("Output directory: writes sweep.csv.") = None,
    json_out: JsonFile("Write the table as JSON (a list of rows).") = None,
    quiet: Quiet("Do not print the table.") = False,
    executor: Executor(" --jobs applies to local.") = None,
    scheduler: Scheduler() = None,
    fail_fast: Flag("--fail-fast", help="Stop at the first failing run (default: report "
                    "each failing run's error, finish the others, exit 2).") = False,
    max_cycles: MaxCycles() = None,
    limit: Limit() = None,
) -> None:
    """WTP sweep from one PSA (one config), or a parallel batch over configs × parameter grid × WTP."""
    params = {k: v for k, v in locals().items() if k not in ("max_cycles", "limit")}
    with limits(max_cycles, limit):
        _sweep(**params)


def _sweep(configs, wtp, grid, draws, seed, jobs, threads, out, json_out, quiet, executor, scheduler,
           fail_fast) -> None:
    from ces.modelfile.loader import load
    from ces.pipeline import wtp_values
    from ces.report.atomic import write_text_atomic

    set_threads(threads)
    paths = _expand(configs)
    loaded = load(paths[0])
    grid_spec = _parse_grid(grid, loaded)
    grid_ = parse_wtp_range(wtp) if wtp else wtp_values(loaded.config.wtp)
    if not grid_:
        raise CesError("no WTP values: pass --wtp FROM:TO:BY or add `wtp:` to the config")
    if out is not None and out.suffix.lower() in (".csv", ".json"):
        raise CesError(f"--out is an output directory (sweep.csv is written into it); for a JSON file use "
                       f"--json, got `{out.name}`")
    check_outputs(out=(out, "into"), json=(json_out, "file"))
    if jobs < 1:
        raise CesError(f"--jobs must be at least 1, got {jobs}")
    failed = 0
    if len(paths) > 1 or grid_spec:
        table = _batch(paths, grid_spec, grid_, loaded, draws, seed, jobs, quiet, executor, scheduler, fail_fast)
        failed = len(table.attrs["errors"])
    else:
        if draws is None and loaded.config.psa is None:
            draws = 1000
        table = _one_psa(paths[0], grid_, draws, seed, quiet, executor, scheduler)
    if out is not None:
        write_text_atomic(out / "sweep.csv", table.to_csv(index=False))
    write_json(json_out, table)
    if failed:
        err_console.print(f"{failed} of {table.attrs['tasks']} runs failed", highlight=False)
        raise typer.Exit(code=2)


def _expand(configs: list[str]) -> list[str]:
    """The config arguments with glob patterns expanded (each pattern must match)."""
    import glob as globmod

    paths = []
    for c in configs:
        found = sorted(globmod.glob(c)) if any(ch in c for ch in "*?[") else [c]
        if not found:
            raise CesError(f"no file matches `{c}`")
        paths += found
    return paths


def _parse_grid(grid: Optional[list[str]], loaded) -> dict:
    """``--grid NAME=v1,v2`` → {NAME: [v1, v2]}, each NAME checked against the model's inputs."""
    from ces.modelfile.names import check_input, model_parameter_names

    grid_spec = {}
    for g in grid or []:
        if "=" not in g:
            raise CesError(f"--grid must be NAME=v1,v2,..., got `{g}`")
        name, vals = g.split("=", 1)
        try:
            grid_spec[name.strip()] = [float(v) for v in vals.split(",")]
        except ValueError:
            raise CesError(f"--grid values must be numbers, got `{vals}`") from None
    mdata = loaded.model_loc.data
    for name in grid_spec:
        check_input(name, model_parameter_names(mdata), mdata,
                    lambda _p, msg, n=name: CesError(f"--grid {n}: {msg}"), ())
    return grid_spec


def _batch(paths, grid_spec, grid_, loaded, draws, seed, jobs, quiet, executor, scheduler, fail_fast):
    """The batch over configs × grid × WTP on an executor; each failing run's error printed."""
    from rich.markup import escape

    from ces.cli.progress import task_progress
    from ces.cli.runners import note_retried
    from ces.executors import make_executor
    from ces.studies.sweep import sweep as batch

    with make_executor(executor, scheduler, jobs) as ex, task_progress(not quiet) as on_done:
        table = batch(paths, grid_spec, grid_, ex, draws=draws, seed=seed, on_done=on_done, fail_fast=fail_fast)
        note_retried(ex)
    for e in table.attrs["errors"]:
        point = ", ".join(f"{k}={v:g}" for k, v in e.point)
        err_console.print(f"[red]error:[/red] {escape(e.message)}" + (f" (grid point {point})" if point else ""),
                          highlight=False, soft_wrap=True)
    if not quiet:
        from ces.report.console_format import make_console
        from ces.report.console_psa import print_grid_sweep

        print_grid_sweep(table, loaded, make_console())
    return table


def _one_psa(path, grid_, draws, seed, quiet, executor, scheduler):
    """One config: one PSA, the WTP table per perspective (base case first)."""
    import pandas as pd

    from ces.cli.progress import psa_progress
    from ces.cli.runners import psa_runner
    from ces.pipeline import run as run_pipeline
    from ces.report.console_format import perspective_title

    with psa_runner(executor, scheduler, path) as runner, psa_progress(not quiet) as on_chunk:
        res = run_pipeline(path, wtp=grid_, draws=draws, seed=seed, on_chunk=on_chunk, psa_runner=runner)
    per = [(p.key, res.psa_tables if p.key == "payer" else res.psa_perspectives[p.key])
           for p in res.perspective_list]  # one row per perspective and WTP, base case first
    table = pd.concat([t["wtp"].assign(perspective=k)[["perspective"] + list(t["wtp"].columns)]
                       for k, t in per], ignore_index=True)
    if not quiet:
        from ces.report.console_format import make_console
        from ces.report.console_psa import print_wtp_table

        spec = res.loaded.model
        console = make_console()
        console.print(f"[bold]{spec.title}[/bold]: WTP sweep over {len(grid_)} values, "
                      f"{res.psa.n_draws:,} PSA draws (seed {res.psa.seed})")
        for k, t in per:
            print_wtp_table(t["wtp"], res.psa.strategies, f" ({spec.currency})" if spec.currency else "",
                            "QALYs" if spec.effect == "qaly" else "LYs", console, t["convergence"],
                            max_rows=len(grid_) if len(grid_) <= 25 else 25,
                            label=perspective_title(res, k) if len(per) > 1 else "")
    return table
