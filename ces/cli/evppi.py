"""``ces evppi``: value of information from one PSA run (EVPPI per parameter and group, expected loss)."""

import time
from pathlib import Path
from typing import Optional

import typer

from ces.cli.common import check_at_least, set_threads
from ces.cli.core import app
from ces.cli.options import Draws, JsonFile, OutDir, Plots, Quiet, Seed, Threads, WtpList
from ces.errors import CesError


@app.command()
def evppi(
    config: Path = typer.Argument(..., help="Analysis config with a PSA (`psa:` or --draws) and optionally `evppi:`."),
    param: Optional[list[str]] = typer.Option(None, "--param", help="A sampled parameter (repeatable); replaces "
                                              "the config's `evppi.parameters`."),
    group: Optional[list[str]] = typer.Option(None, "--group", help="NAME=P1,P2 (repeatable): EVPPI of learning "
                                              "P1 and P2 together; replaces the config's `evppi.groups`."),
    wtp: WtpList() = None,
    draws: Draws() = None,
    seed: Seed() = None,
    bootstrap: Optional[int] = typer.Option(None, "--bootstrap", help="Bootstrap resamples for the SEs "
                                            "(overrides evppi.bootstrap; 0 = none)."),
    threads: Threads() = None,
    json_out: JsonFile() = None,
    out: OutDir("Output directory (as `ces run --out`), with the EVPPI and decision-uncertainty tables.") = None,
    plots: Plots("Also write the figures, VOI figures included.") = False,
    quiet: Quiet() = False,
) -> None:
    """Value of information from one PSA run: EVPPI per parameter and group (regression method), expected loss."""
    from ces.analysis.voi_tables import check_sizes, decision_tables, evppi_items, evppi_tables, sort_wtp
    from ces.cli.progress import psa_progress
    from ces.modelfile.loader import load
    from ces.modelfile.schema_config import EvppiSpec
    from ces.pipeline import psa_options
    from ces.pipeline import run as run_pipeline

    check_at_least(draws=(draws, 1), bootstrap=(bootstrap, 0))
    if plots and out is None:
        raise CesError("--plots needs an output directory: pass --out DIR")
    groups = _parse_groups(group)
    set_threads(threads)
    pre = load(config)  # sizes bounded before the PSA runs
    pre_opts = psa_options(pre, draws, seed)
    if pre_opts is not None:
        check_sizes(pre_opts.draws, (pre.config.evppi or EvppiSpec()).bootstrap if bootstrap is None else bootstrap)
    t0 = time.perf_counter()
    with psa_progress(not quiet) as on_chunk:
        res = run_pipeline(config, wtp=list(wtp) if wtp else None, draws=draws, seed=seed, on_chunk=on_chunk)
    if res.psa is None:
        raise CesError("EVPPI needs a PSA: add `psa:` to the config or pass --draws N", file=str(config))
    spec = res.loaded.config.evppi or EvppiSpec()
    names = res.psa.strategies
    if spec.reference is not None and spec.reference not in names:
        raise CesError(f"evppi.reference: unknown strategy `{spec.reference}` (strategies: {', '.join(names)})",
                       file=str(config))
    ref = names.index(spec.reference) if spec.reference else 0
    samples = res.psa.parameter_draws()
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
        from ces.report.console_psa import print_evppi

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


def _parse_groups(group: Optional[list[str]]) -> dict:
    """``--group NAME=P1,P2`` → {NAME: [P1, P2]}."""
    groups = {}
    for g in group or []:
        name, sep, names = g.partition("=")
        members = [p.strip() for p in names.split(",") if p.strip()]
        if not sep or not name.strip() or not members:
            raise CesError(f"--group must be NAME=P1,P2,..., got `{g}`")
        groups[name.strip()] = members
    return groups
