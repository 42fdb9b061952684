"""The recipe of a ``ces fit`` run: written into the ``--yaml`` block (``fits:``) and replayed by ``ces run``.

The recipe holds every input that determines the fitted coefficients: the data file (path relative to the
block, SHA-256), the endpoint columns, the candidate families, knots and cure option, ``--choose``, arm/joint,
weights and background mortality (schema: :mod:`ces.modelfile.schema_fit`).  :func:`replay` calls the same
:func:`ces.survival.fit_output.run_fit` as ``ces fit``, with the same arguments, so the full-data fits and the
bootstrap replicates (seeded by ``np.random.default_rng([seed, b, crc32(fit key)])``,
:mod:`ces.survival.bootstrap`) are those
``ces fit DATA.csv ... --bootstrap B --seed S`` gives, bit for bit.

A fit to a digitised curve (``ces fit --km KM.csv --at-risk RISK.csv [--events D] [--clean]``) records the two
files (SHA-256 each), D and ``clean`` instead of the data file; :func:`replay` rebuilds the pseudo-patients with the same
:func:`ces.survival.guyot.pseudo_ipd` (deterministic) and resamples them with the curve's own seed stream
(:func:`ces.survival.bootstrap.curve_stream`), as ``ces fit --km ... --bootstrap B --seed S`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

from ces.errors import CesError


def _rel(path: Path, yaml_out: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(yaml_out).resolve().parent)).as_posix()


def recipe(data: Path | None, yaml_out: Path, *, endpoints: list, arm, joint: bool, weight, families,
           knots: tuple, cure: bool, choose, time_unit: str, background, age, sex: str, parameters: list,
           smr: float = 1.0,
           km: Path | None = None, at_risk: Path | None = None, events: int | None = None,
           clean: bool = False) -> dict:
    """The ``fits:`` entry of a block written to ``yaml_out``; ``endpoints``: [(name, time, event, model label)].

    ``data`` (patient-level CSV) or ``km`` + ``at_risk`` (digitised curve; ``events``: ``--events``; ``clean``:
    ``--clean``, the raw file's hash is recorded and the cleaning replayed); paths are
    written relative to the block's folder, each with the SHA-256 of its bytes."""
    from ces.survival.bootstrap import file_sha256

    if km is not None:
        out = {"km": _rel(km, yaml_out), "at_risk": _rel(at_risk, yaml_out), "sha256": file_sha256([km]),
               "at_risk_sha256": file_sha256([at_risk])}
        if events is not None:
            out["events"] = int(events)
        if clean:
            out["clean"] = True
    else:
        out = {"data": _rel(data, yaml_out), "sha256": file_sha256([data])}
    out["endpoints"] = [{"name": n, "time": t, "event": e, "model": m} for n, t, e, m in endpoints]
    from ces.modelfile.schema_fit import FitRecipe

    options = {"arm": arm, "joint": bool(joint), "weight": weight, "families": list(families) if families else None,
               "knots": [int(k) for k in knots], "cure": bool(cure), "choose": choose, "time_unit": time_unit,
               "background": background, "age": float(age) if age is not None else None, "sex": str(sex),
               "smr": float(smr)}
    for key, value in options.items():  # written only where it differs from the schema's default
        if value != FitRecipe.model_fields[key].default:
            out[key] = value
    out["parameters"] = list(parameters)
    return out


def recipe_key(endpoints: list) -> str:
    """The ``fits:`` key of a recipe: :func:`ces.survival.fit_yaml.fit_key` of its endpoint names (``pfs_os``)."""
    from ces.survival.fit_yaml import fit_key

    return fit_key([n for n, *_ in endpoints])


def input_files(rec) -> list:
    """[(recipe key of the file, key of its SHA-256, the path as recorded)] of a recipe, in hashing order."""
    if rec.km is not None:
        return [("km", "sha256", rec.km), ("at_risk", "at_risk_sha256", rec.at_risk)]
    return [("data", "sha256", rec.data)]


def source(rec, paths: list) -> str:
    """The fit's ``source`` (as ``ces fit`` writes it in the replicates-file header)."""
    from ces.survival.guyot import source_label

    return source_label(*paths) if rec.km is not None else Path(paths[0]).name


def replay(rec, paths: list, B: int, seed: int, map_fn=map, blocks: int = 1) -> dict:
    """``run_fit`` on the recipe ``rec`` (a :class:`ces.modelfile.schema_fit.FitRecipe`) with ``B`` replicates
    (0: the full-data fits only); ``paths``: the resolved :func:`input_files`.  Checks that every endpoint
    chooses the recorded model again."""
    from ces.survival.bootstrap import curve_stream
    from ces.survival.fit_data import floor_inputs, read_endpoints
    from ces.survival.fit_output import run_fit
    from ces.survival.guyot import pseudo_ipd

    eps = rec.endpoints
    if rec.km is not None:
        df = pseudo_ipd(paths[0], paths[1], rec.events, clean=rec.clean)[0]
    else:
        df = read_endpoints(paths[0], [e.time for e in eps], [e.event for e in eps], rec.arm, rec.weight)
    stream = curve_stream([e.name for e in eps])  # as ces fit: the fit's own stream, its endpoints jointly
    res = run_fit(df, source(rec, paths), [(e.name, e.time, e.event) for e in eps], arm=rec.arm, weight=rec.weight,
                  joint=rec.joint, families=rec.families, knots=tuple(rec.knots), cure=rec.cure,
                  time_unit=rec.time_unit, choose=rec.choose, bootstrap_b=B, seed=seed,
                  background=rec.background, mortality=floor_inputs(rec.background, rec.age, rec.sex, rec.smr),
                  map_fn=map_fn, blocks=blocks, bootstrap_stream=stream)
    for e, (name, label, _, _) in zip(eps, res["endpoints"]):
        if label != e.model:
            raise CesError(f"{name}: the refit chooses `{label}`, the recipe records `{e.model}` (rerun `ces fit`)")
    return res
