"""``ces fit``: parametric survival models fitted to patient-level data or a digitised KM curve (Guyot)."""

from pathlib import Path
from typing import Optional

import typer

from ces.cli.core import app
from ces.cli.options import OutDir
from ces.errors import CesError


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
    clean: bool = typer.Option(False, "--clean", help="With --km: repair digitised points first (percent to "
                               "proportions, negative times dropped, sorted, upticks flattened; each change printed)."),
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
    psa_form: Optional[str] = typer.Option(None, "--psa", help="PSA of the --yaml block: hessian (one mvnormal "
                                           "per curve; default without --bootstrap), bootstrap (draws take whole "
                                           "replicates; default with it) or mvn (one mvnormal over all curves, "
                                           "bootstrap covariance)."),
    seed: int = typer.Option(2026, "--seed", help="Bootstrap seed."),
    jobs: int = typer.Option(1, "--jobs", help="Worker processes for --bootstrap (same result for any number)."),
    background: Optional[str] = typer.Option(None, "--background", help="Life table for cure curves (e.g. us_2021)."),
    age: Optional[float] = typer.Option(None, "--age", help="With --background: age at start, for the "
                                        "extrapolation plot's background-mortality floor."),
    sex: str = typer.Option("0.5", "--sex", help="With --age: male, female, or the male share (0-1)."),
    smr: float = typer.Option(1.0, "--smr", help="With --age: excess mortality ratio on the background hazard "
                              "(as the curves' `smr:` key), for cure models fitted as the model evaluates them."),
    out: OutDir("Directory for the tables (CSV) and plots (PNG, SVG).") = None,
) -> None:
    """Fit parametric survival models to patient-level data or a digitised KM curve (Guyot)."""
    from ces.executors import LocalExecutor
    from ces.studies import fit as fit_study

    if jobs < 1:
        raise CesError(f"--jobs must be at least 1, got {jobs}")
    fit_study.main(data=data, time_col=time_col, event_col=event_col, name=name, arm=arm, joint=joint,
                    weight=weight, km=km, at_risk=at_risk, events=events, ipd_out=ipd_out, families=families,
                    knots=knots, cure=cure, time_unit=time_unit, at=at, horizon=horizon, choose=choose,
                    yaml_out=yaml_out, merge=merge, bootstrap_b=bootstrap_b, seed=seed, background=background,
                    age=age, sex=sex, out=out, psa=psa_form, clean=clean, smr=smr,
                    executor=LocalExecutor(jobs) if jobs > 1 else None, blocks=4 * jobs if jobs > 1 else 1)
