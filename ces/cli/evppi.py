"""``ces evppi``: value of information from one PSA run (EVPPI per parameter and group, expected loss).

Flags, printing and writing only; the study is :func:`ces.studies.evppi.run_evppi`.
"""

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
    from ces.cli.progress import psa_progress
    from ces.studies.evppi import run_evppi

    check_at_least(draws=(draws, 1), bootstrap=(bootstrap, 0))
    if plots and out is None:
        raise CesError("--plots needs an output directory: pass --out DIR")
    groups = _parse_groups(group)
    set_threads(threads)
    res, at, seconds = run_evppi(config, parameters=param, groups=groups, wtp=wtp, draws=draws, seed=seed,
                                 bootstrap=bootstrap, progress=lambda: psa_progress(not quiet))
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
