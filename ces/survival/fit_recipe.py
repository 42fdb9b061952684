"""The recipe of a ``ces fit`` run: written into the ``--yaml`` block (``fits:``) and replayed by ``ces run``.

The recipe holds every input that determines the fitted coefficients: the data file (path relative to the
block, SHA-256), the endpoint columns, the candidate families, knots and cure option, ``--choose``, arm/joint,
weights and background mortality (schema: :mod:`ces.modelfile.schema_fit`).  :func:`replay` calls the same
:func:`ces.survival.fit_output.run_fit` as ``ces fit``, with the same arguments, so the full-data fits and the
bootstrap replicates (seeded by ``np.random.default_rng([seed, b])``, :mod:`ces.survival.bootstrap`) are those
``ces fit DATA.csv ... --bootstrap B --seed S`` gives, bit for bit.
"""

from __future__ import annotations

import os
from pathlib import Path

from ces.errors import CesError


def recipe(data: Path, yaml_out: Path, *, sha256: str, endpoints: list, arm, joint: bool, weight, families,
           knots: tuple, cure: bool, choose, time_unit: str, background, age, sex: str, parameters: list) -> dict:
    """The ``fits:`` entry of a block written to ``yaml_out``; ``endpoints``: [(name, time, event, model label)]."""
    rel = os.path.relpath(Path(data).resolve(), Path(yaml_out).resolve().parent)
    out = {"data": Path(rel).as_posix(), "sha256": sha256,
           "endpoints": [{"name": n, "time": t, "event": e, "model": m} for n, t, e, m in endpoints]}
    for key, value, default in (("arm", arm, None), ("joint", bool(joint), False), ("weight", weight, None),
                                ("families", list(families) if families else None, None),
                                ("knots", [int(k) for k in knots], [1, 2, 3]), ("cure", bool(cure), True),
                                ("choose", choose, None), ("time_unit", time_unit, "month"),
                                ("background", background, None),
                                ("age", float(age) if age is not None else None, None), ("sex", str(sex), "0.5")):
        if value != default:
            out[key] = value
    out["parameters"] = list(parameters)
    return out


def recipe_key(endpoints: list) -> str:
    """The ``fits:`` key of a recipe: its endpoint names joined (e.g. ``pfs_os``)."""
    return "_".join(n for n, *_ in endpoints)


def replay(rec, data_path: Path, B: int, seed: int, map_fn=map, blocks: int = 1) -> dict:
    """``run_fit`` on the recipe ``rec`` (a :class:`ces.modelfile.schema_fit.FitRecipe`) with ``B`` replicates
    (0: the full-data fits only); checks that every endpoint chooses the recorded model again."""
    from ces.survival.fit_data import floor_inputs, read_endpoints
    from ces.survival.fit_output import run_fit

    eps = rec.endpoints
    df = read_endpoints(data_path, [e.time for e in eps], [e.event for e in eps], rec.arm, rec.weight)
    res = run_fit(df, data_path.name, [(e.name, e.time, e.event) for e in eps], arm=rec.arm, weight=rec.weight,
                  joint=rec.joint, families=rec.families, knots=tuple(rec.knots), cure=rec.cure,
                  time_unit=rec.time_unit, choose=rec.choose, bootstrap_b=B, seed=seed,
                  background=rec.background, mortality=floor_inputs(rec.background, rec.age, rec.sex),
                  map_fn=map_fn, blocks=blocks)
    for e, (name, label, _, _) in zip(eps, res["endpoints"]):
        if label != e.model:
            raise CesError(f"{name}: the refit chooses `{label}`, the recipe records `{e.model}` (rerun `ces fit`)")
    return res
