"""``ces run``: the base case (and the PSA if configured): print the tables, write the outputs."""

import json
import time
from pathlib import Path
from typing import Optional

import typer

from ces.cli.common import check_at_least, check_outputs, limits, set_threads, warn
from ces.cli.core import app
from ces.cli.options import (Draws, Executor, Flag, JsonFile, Limit, MaxCycles, OutDir, Plots, Quiet, Scheduler,
                             Seed, Strict, Threads, WtpList)
from ces.errors import CesError


@app.command()
def run(
    config: Path = typer.Argument(..., help="Analysis config (configs/*.yaml) or a model file (models/*.yaml)."),
    json_out: JsonFile() = None,
    wtp: WtpList() = None,
    draws: Draws("Run a PSA with this many draws (overrides psa.draws).") = None,
    seed: Seed() = None,
    chunk: Optional[int] = typer.Option(None, "--chunk", help="PSA draws per chunk (memory bound)."),
    threads: Threads() = None,
    no_psa: Flag("--no-psa", help="Skip the PSA even if the config has one.") = False,
    draws_out: Optional[Path] = typer.Option(None, "--draws-out", help="Write per-draw PSA results (.csv or .parquet)."),
    out: OutDir("Output directory: results.json, CSV per table, results.xlsx, manifest.json (written atomically).")
    = None,
    plots: Plots("Also write figures (PNG and SVG) into the output directory.") = False,
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="Compare with an earlier results.json "
                                            "(as `ces diff`; exit 1 if a metric moved beyond tolerance)."),
    quiet: Quiet() = False,
    full: Flag("--full", help="Print every table (default: a compact summary that fits 100 columns).") = False,
    strict: Strict() = False,
    executor: Executor(" The PSA's chunks become the tasks; the result is bit-identical to a local run.") = None,
    scheduler: Scheduler() = None,
    max_cycles: MaxCycles() = None,
    limit: Limit() = None,
) -> None:
    """Run the base case (and the PSA if configured) and print the results tables."""
    params = {k: v for k, v in locals().items() if k not in ("max_cycles", "limit")}
    with limits(max_cycles, limit):
        code = _run(**params)
    raise typer.Exit(code=code)


def _run(config, json_out, wtp, draws, seed, chunk, threads, no_psa, draws_out, out, plots, baseline, quiet,
         full, strict, executor, scheduler) -> int:
    """The run; returns the exit code (1 if --baseline moved beyond tolerance)."""
    from ces.cli.diff import load_results, report_diff
    from ces.cli.progress import psa_progress
    from ces.cli.runners import psa_runner
    from ces.pipeline import run as run_pipeline
    from ces.report.atomic import write_text_atomic
    from ces.report.results_json import dumps, results_document

    if baseline is not None:
        load_results(baseline)  # bad baseline: fail before running
    check_at_least(draws=(draws, 1), chunk=(chunk, 1))
    set_threads(threads)
    if draws_out is not None and draws_out.suffix.lower() not in (".csv", ".parquet"):
        raise CesError(f"--draws-out must end in .csv or .parquet, got `{draws_out.name}`")
    if wtp:
        from ces.modelfile.sizes import check_wtp_values

        check_wtp_values(list(wtp), where="--wtp")
    check_outputs(json=(json_out, "file"), draws_out=(draws_out, "file"), out=(out, "dir"))
    t0 = time.perf_counter()
    with psa_runner(executor, scheduler, config) as runner, psa_progress(not quiet) as on_chunk:
        res = run_pipeline(config, wtp=list(wtp) if wtp else None, psa=not no_psa, draws=draws, seed=seed,
                           chunk=chunk, on_chunk=on_chunk, psa_runner=runner, **_fit_pool())
    seconds = time.perf_counter() - t0
    warn(res.warnings, strict)
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
    if not quiet:
        _print(res, full)
    if draws_out is not None:
        from ces.report.draws_file import write_draws

        write_draws(draws_out, res.psa, res.perspective_list)
    doc = results_document(res)
    if json_out is not None:
        write_text_atomic(json_out, dumps(doc))
    if out is not None or outputs is not None:
        from ces.report.outputs import write_output_dir

        if res.loaded.config.dsa is not None:  # the tornado goes into the workbook and the report
            from ces.studies.dsa import run_dsa

            res.dsa = run_dsa(config)
        if out is not None:
            write_output_dir(res, out, seconds, plots=plots)
        else:
            base = Path(res.loaded.config_loc.file).parent
            write_output_dir(res, base / outputs.dir, seconds, tuple(outputs.formats), plots=plots)
    if baseline is not None:
        return report_diff(load_results(baseline), json.loads(dumps(doc)), (str(baseline), str(config)))
    return 0


def _print(res, full: bool) -> None:
    """The compact summary, or (--full) every table."""
    if not full:
        from ces.report.summary import print_summary

        print_summary(res)
        return
    from ces.report.console_base import print_run
    from ces.report.console_psa import print_psa

    print_run(res)
    if res.psa is not None:
        print_psa(res)
    if res.appraisal is not None:
        from ces.report.console_appraisal import print_appraisal

        print_appraisal(res)
    if res.payment is not None:
        from ces.report.console_budget import print_payment

        print_payment(res)
    if res.budget is not None:
        from ces.report.console_budget import print_budget

        print_budget(res)
    if res.payers is not None:
        from ces.report.console_budget import print_payers

        print_payers(res)


def _fit_pool() -> dict:
    """The refits of ``psa.curves`` run on a process pool of ``--threads`` workers (blocks of replicates;
    the replicates do not depend on it)."""
    import numba

    n = numba.get_num_threads()
    if n <= 1:
        return {}
    from ces.executors import LocalExecutor

    return {"fit_map": LocalExecutor(n).map, "fit_blocks": 4 * n}
