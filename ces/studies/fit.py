"""``ces fit``: read the inputs, run the fits, print the model-choice tables, write CSV/YAML/plots.

All numbers come from :mod:`ces.survival.fit` (likelihood, MLE, Hessian), :mod:`ces.survival.km`
and :mod:`ces.survival.guyot` (run by :func:`ces.survival.fit_output.run_fit`); the tables and the
merged model are rendered by :mod:`ces.report.fit_report`.  This module reads the inputs, runs the
fits and writes.  Nothing is written until every fit has succeeded (no partial output).
"""

from __future__ import annotations

from pathlib import Path

from ces.errors import CesError


def _floats(text: str, what: str) -> tuple:
    try:
        vals = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise CesError(f"{what} must be a comma list of numbers, got `{text}`") from None
    return vals


def main(*, data, time_col, event_col, name, arm, joint, weight, km, at_risk, events, ipd_out, families,
         knots, cure, time_unit, at, horizon, choose, yaml_out, merge, bootstrap_b, seed, background, age=None, sex="0.5", psa=None,
         out=None, executor=None, blocks=1, clean=False, smr=1.0) -> None:
    import pandas as pd
    from rich.console import Console

    from ces.report.atomic import write_bytes_atomic, write_text_atomic
    from ces.report.fit_report import merged_model, print_tables
    from ces.survival import fit_output as fo
    from ces.survival.fit_data import floor_inputs, read_endpoints
    from ces.survival.guyot import pseudo_ipd, source_label

    console = Console()
    writes: list = []  # (path, text) written at the end
    from ces.survival.bootstrap import check_psa_option

    check_psa_option(psa, bootstrap_b, yaml_out)  # before any data is read
    if km is not None or at_risk is not None:
        if km is None or at_risk is None:
            raise CesError("the digitised path needs both --km KM.csv and --at-risk RISK.csv")
        if data is not None:
            raise CesError("give either DATA.csv or --km/--at-risk, not both")
        if arm is not None or joint or weight is not None:
            raise CesError("--arm, --joint and --weight need patient-level data: digitise each arm's curve and "
                           "fit it with its own `ces fit --km ... --name NAME`")
        notes: list = []
        df, rt, rn, time = pseudo_ipd(km, at_risk, events, clean=clean, notes=notes)
        if notes:
            console.print(f"cleaned {km.name}: " + "; ".join(notes))
        ipd_path = ipd_out or km.with_name(km.stem + "_ipd.csv")
        cleaned = f" after cleaning ({'; '.join(notes)})" if notes else ""
        writes.append((ipd_path, f"# reconstructed from {km.name} and {at_risk.name} (Guyot et al. 2012){cleaned}\n"
                       + df.to_csv(index=False)))
        console.print(f"reconstructed {len(df)} patients, {int(df.event.sum())} events -> {ipd_path}")
        from ces.survival.km import number_at_risk

        rec = number_at_risk(time, rt[rt <= time.max()])
        console.print("numbers at risk, published vs reconstructed: " + ", ".join(
            f"t={a:g}: {n:.0f}/{r:.0f}" for a, n, r in zip(rt, rn, rec)))
        time_col, event_col, source = ["time"], ["event"], source_label(km, at_risk)
    else:
        if data is None:
            raise CesError("give DATA.csv with --time and --event, or --km KM.csv --at-risk RISK.csv")
        if clean:
            raise CesError("--clean repairs digitised points: it goes with --km KM.csv --at-risk RISK.csv")
        if not time_col or not event_col or len(time_col) != len(event_col):
            raise CesError("give one --event for each --time (e.g. --time os_months --event os_event)")
        source = data.name
        df = None
    names = list(name or [])
    if names and len(names) != len(time_col):
        raise CesError(f"--name given {len(names)} times for {len(time_col)} endpoints")
    if not names:
        names = ["os"] if len(time_col) == 1 else [f"endpoint{i + 1}" for i in range(len(time_col))]
    if df is None:
        df = read_endpoints(data, time_col, event_col, arm, weight)
    fams = [f.strip() for f in families.split(",")] if families else None
    knot_list = tuple(int(k) for k in _floats(knots, "--knots"))
    if any(k < 1 or k > 5 for k in knot_list):
        raise CesError("--knots: internal knots must be between 1 and 5")
    if joint and arm is None:
        raise CesError("--joint needs --arm")
    floor = floor_inputs(background, age, sex, smr)
    from ces.survival.bootstrap import curve_stream

    stream = curve_stream(names)  # each fit (its endpoints jointly) resampled on its own stream
    res = fo.run_fit(df, source, list(zip(names, time_col, event_col)), arm=arm, weight=weight, joint=joint,
                     families=fams, knots=knot_list, cure=cure, time_unit=time_unit,
                     at_years=_floats(at, "--at"), horizon_years=horizon, choose=choose,
                     bootstrap_b=bootstrap_b, seed=seed, background=background, mortality=floor,
                     map_fn=executor.map if executor is not None else map, blocks=blocks, bootstrap_stream=stream)
    print_tables(console, res)
    if yaml_out is not None:
        from ces.survival.bootstrap import yaml_block

        text, more = yaml_block(res, yaml_out, psa=psa, source=source, inputs=[data] if data is not None else
                                [km, at_risk], seed=seed, time_unit=time_unit, background=background)
        writes.extend(more)
        if arm is None or joint:
            text += _recipe_yaml(data, km, at_risk, events, yaml_out, res, names, time_col, event_col, psa or (
                "bootstrap" if bootstrap_b else "hessian"), arm=arm, joint=joint, weight=weight, families=fams,
                knots=knot_list, cure=cure, choose=choose, time_unit=time_unit, background=background, age=age,
                sex=sex, smr=smr, clean=clean)
        if floor is not None and any(f.model.cure for _, f, _, _ in res["chosen"]):
            smr_note = f", smr {floor[3]:g} (give the curves `smr: {floor[3]:g}`)" if floor[3] != 1.0 else ""
            text = (f"# Cure curves fitted with the background hazard of {floor[0].name} from age {floor[1]:g}, "
                    f"sex weights {floor[2]}{smr_note}: set the model's start_age and sex to match.\n") + text
        writes.append((yaml_out, text))
        if merge is not None:
            writes.append((yaml_out.with_name(yaml_out.stem + "_model.yaml"), merged_model(merge, text, time_unit)))
    elif merge is not None:
        raise CesError("--merge needs --yaml (the curves block to merge)")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for title, rows, _ in res["tables"]:
            label = title.split(":")[0]
            writes.append((out / f"fit_{label}.csv", pd.DataFrame(rows).to_csv(index=False)))
    for path, text in writes:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, text)
        console.print(f"wrote {path}")
    if out is not None:
        from ces.report.fit_plots import fit_plots

        for label, f, _, d in res["chosen"]:
            fits = next(fs for title, _, fs in res["tables"] if title.split(":")[0] == label)
            for path, data_bytes in fit_plots(label, fits, d, time_unit, floor=floor):
                write_bytes_atomic(out / path, data_bytes)
                console.print(f"wrote {out / path}")


def _recipe_yaml(data, km, at_risk, events, yaml_out, res, names, time_col, event_col, psa, clean=False,
                 **options) -> str:
    """The block's ``fits:`` entry (:mod:`ces.survival.fit_recipe`), for ``psa: {curves: ...}`` in ``ces run``."""
    import yaml

    from ces.survival.fit_yaml import entry_key
    from ces.survival.fit_recipe import recipe, recipe_key

    labels = [m for _, m, _, _ in res["endpoints"]]
    eps = list(zip(names, time_col, event_col, labels))
    keys = [entry_key(names)] if psa in ("bootstrap", "mvn") else [entry_key([n]) for n in names]
    rec = recipe(data, yaml_out, endpoints=eps, parameters=keys, km=km, at_risk=at_risk, events=events,
                 clean=clean, **options)
    return yaml.safe_dump({"fits": {recipe_key(eps): rec}}, sort_keys=False, width=100, default_flow_style=None)
