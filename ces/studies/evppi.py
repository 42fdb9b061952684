"""``ces evppi``: the value-of-information study: one PSA run of the config, then the EVPPI of single
parameters and groups and the decision-uncertainty tables over its draws.

The estimators are :mod:`ces.analysis.evppi` and :mod:`ces.analysis.voi` (tables:
:mod:`ces.analysis.voi_tables`); this module runs the pipeline once and assembles their inputs.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

from ces.errors import CesError


def run_evppi(config, *, parameters: list | None = None, groups: dict | None = None, wtp: list | None = None,
              draws: int | None = None, seed: int | None = None, bootstrap: int | None = None, progress=None):
    """Run the PSA of ``config`` and add the EVPPI and decision tables to ``res.psa_tables``.

    ``parameters``/``groups`` (when either is given) replace the config's ``evppi.parameters`` /
    ``evppi.groups``; ``bootstrap`` replaces ``evppi.bootstrap``.  ``progress()`` is a context manager
    yielding the PSA's ``on_chunk`` callback (none by default).  The sizes are checked before the PSA
    runs.  Returns ``(res, at, seconds)``: the pipeline results, the WTP at which the tables are sorted
    and the seconds from the start of the PSA to the last table.
    """
    from ces.analysis.voi_tables import check_sizes, decision_tables, evppi_items, evppi_tables, sort_wtp
    from ces.modelfile.loader import load
    from ces.modelfile.schema_config import EvppiSpec
    from ces.pipeline import psa_options
    from ces.pipeline import run as run_pipeline

    groups = groups or {}
    pre = load(config)  # sizes bounded before the PSA runs
    pre_opts = psa_options(pre, draws, seed)
    if pre_opts is not None:
        check_sizes(pre_opts.draws, (pre.config.evppi or EvppiSpec()).bootstrap if bootstrap is None else bootstrap)
    t0 = time.perf_counter()
    with (progress or (lambda: nullcontext(None)))() as on_chunk:
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
    from_caller = bool(parameters or groups)
    try:
        items = evppi_items(samples, list(parameters or []) if from_caller else spec.parameters,
                            groups if from_caller else spec.groups)
    except CesError as exc:
        if from_caller or res.loaded.config_loc is None or res.loaded.config.evppi is None:
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
    return res, at, time.perf_counter() - t0
