"""The pipeline: load → build → run → analyse.  Returns the results object; prints nothing.

The conductor only: each step is a call into the layer that owns it (the loader, the model, the
base case and the PSA of ``ces.engine``, the tables of ``ces.analysis`` and ``ces.economics``).  Its
result is a :class:`ces.analysis.results.RunResult`.  Studies that run the pipeline many times (DSA,
sweeps, threshold price, fits) are in :mod:`ces.studies`, above this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ces.analysis.basecase import icer_table, inventory_table, nmb_table, totals_table
from ces.analysis.budget_impact import budget_impact
from ces.analysis.draws import psa_draw_pass
from ces.analysis.payment import payment_model
from ces.analysis.psa_tables import convergence_table, probabilistic_icers, summary_table, wtp_statistics, wtp_table
from ces.analysis.results import RunResult
from ces.economics.appraisal import appraisal
from ces.economics.payers import payer_analysis
from ces.economics.perspectives import model_perspectives
from ces.engine.deterministic import run_base_case
from ces.engine.model import CohortModel
from ces.engine.psa import PsaResult, run_psa
from ces.errors import CesError
from ces.modelfile import limits, sizes
from ces.modelfile.loader import Loaded, load

__all__ = ["RunResult", "PsaOptions", "build", "psa_options", "run", "wtp_values"]


def wtp_values(spec_wtp, loc=None) -> list:
    """The WTP values of a config's `wtp:` (a number, a list or {from, to, by}); the grid size is
    checked against ``max_wtp_points`` before the list is built."""
    if spec_wtp is None:
        return []
    if isinstance(spec_wtp, (int, float)):
        out = [float(spec_wtp)]
    elif isinstance(spec_wtp, list):
        out = [float(w) for w in spec_wtp]
    else:
        span = (spec_wtp.to - spec_wtp.from_) / spec_wtp.by
        if not np.isfinite(span):
            out = [float(spec_wtp.to)]  # refused as not finite below
        else:
            n = int(np.floor(span + 1e-9)) + 1
            file, line = (loc.file, loc.line(("wtp",))) if loc is not None else (None, None)
            limits.check("max_wtp_points", n, "the number of WTP points", file=file, path="wtp", line=line)
            out = [float(spec_wtp.from_ + i * spec_wtp.by) for i in range(max(n, 0))]
    sizes.check_wtp_values(out, loc)
    return out



def build(path: str | Path, overrides: dict | None = None) -> tuple[Loaded, CohortModel]:
    loaded = load(path, overrides)
    return loaded, CohortModel.from_loaded(loaded)



@dataclass
class PsaOptions:
    """PSA settings after merging the config's `psa:` block with command-line flags."""

    draws: int
    seed: int
    chunk: int
    precision: float | None = None
    population: float | None = None
    population_years: int | None = None
    population_discount: float = 0.0



def psa_options(loaded: Loaded, draws: int | None = None, seed: int | None = None,
                chunk: int | None = None) -> PsaOptions | None:
    spec = loaded.config.psa
    if spec is None and draws is None:
        return None
    from ces.modelfile.schema_config import PsaSpec

    spec = spec or PsaSpec()
    if seed is not None and seed < 0:
        raise CesError(f"--seed must be a whole number ≥ 0, got {seed}")
    sizes.check_draws(loaded, draws if draws is not None else spec.draws, draws is not None)
    return PsaOptions(draws if draws is not None else spec.draws, seed if seed is not None else spec.seed,
                      chunk if chunk is not None else spec.chunk, spec.precision, spec.population,
                      spec.population_years, float(spec.population_discount))



def report_wtps(res: "RunResult", from_config: bool) -> list:
    """Headline WTPs: the config's `wtp_report:` (each on the grid), else the setting's threshold(s) on the
    grid, else the first, middle and last grid values.  Under a --wtp override, off-grid values are dropped."""
    grid = res.wtps
    asked = res.loaded.config.wtp_report
    if asked is not None:
        off = [w for w in asked if float(w) not in grid]
        if off and from_config:
            raise res.loaded.config_loc.error(("wtp_report",), f"{off[0]:g} is not on the `wtp:` grid; "
                                              "headline WTPs must be among the `wtp:` values")
        chosen = [float(w) for w in asked if float(w) in grid]
        if chosen:
            return chosen
    if res.appraisal is not None:
        t = res.appraisal["threshold"]
        chosen = [float(t[k]) for k in ("lower", "threshold") if k in t and float(t[k]) in grid]
        if chosen:
            return chosen
    if len(grid) <= 3:
        return list(grid)
    return [grid[0], grid[len(grid) // 2], grid[-1]]



def headline_prices(res: "RunResult", path, overrides: dict | None) -> pd.DataFrame:
    """Threshold price (:mod:`ces.economics.price`) of the config's `price:` parameter under every perspective,
    at the setting's threshold(s) (lower and upper end of a range), else at the headline WTPs."""
    from ces.economics.price import at_wtp, price_line

    spec = res.loaded.config.price
    if res.appraisal is not None:
        t = res.appraisal["threshold"]
        wtps = [float(t[k]) for k in ("lower", "threshold") if k in t]
    else:
        wtps = res.wtp_report
    persps = [p for p in res.perspective_list if p.cost_column in res.totals]
    cl = res.loaded.config_loc  # not None: `price:` is a config key
    try:
        line = price_line(res, lambda over: run(path, psa=False, overrides=over, checks=False), spec.parameter,
                          [p.cost_column for p in persps], spec.strategy, spec.comparator, overrides,
                          error=lambda key, msg: cl.error(("price", key), msg))
    except CesError as exc:
        raise (exc if exc.path else cl.error(("price",), exc.message)) from None
    rows = [{"perspective": p.key, "wtp": w, **at_wtp(line, p.cost_column, w)} for p in persps for w in wtps]
    return pd.DataFrame(rows)



def analyse_psa(psa: PsaResult, effect: str, wtps: list, opts: PsaOptions, perspective=None) -> dict:
    """PSA summary, probabilistic ICERs, CEAC/CEAF/EVPI and convergence for one perspective (None: payer)."""
    tables = {"summary": summary_table(psa, perspective), "icer": probabilistic_icers(psa, effect, perspective)}
    if wtps:
        stats = wtp_statistics(psa, effect, wtps, perspective)  # computed once for both tables
        tables["wtp"] = wtp_table(psa, effect, wtps, opts.population, opts.population_years, opts.population_discount,
                                  perspective, stats)
        tables["convergence"] = convergence_table(psa, effect, wtps, opts.precision, perspective, stats)
    return tables


def run(path: str | Path, wtp: list | None = None, psa: bool = True, draws: int | None = None,
        seed: int | None = None, chunk: int | None = None, on_chunk=None, overrides: dict | None = None,
        checks: bool = True, psa_runner=None, fit_map=None, fit_blocks: int = 1) -> RunResult:
    """Base case, and PSA when the config has `psa:` (or ``draws`` is given) and ``psa`` is True.

    ``overrides``: {"parameters": {...}, "settings": {...}} applied on top of the config.
    ``checks``: compute the sanity warnings (off for the repeated runs of a DSA, sweep or price search).
    ``psa_runner``: called as :func:`run_psa` (default); :class:`ces.remote.ChunkedPsa` runs the
    chunks on a cluster with the same result.  ``fit_map``/``fit_blocks``: where the refits of the config's
    ``psa.curves`` run (an executor's map, :mod:`ces.survival.boot_run`; same replicates for any).
    """
    loaded = load(path, overrides)
    wtps = wtp if wtp is not None else wtp_values(loaded.config.wtp, loaded.config_loc)
    opts = psa_options(loaded, draws, seed, chunk) if psa else None
    curve_files: list = []
    if opts is not None and loaded.config.psa is not None and loaded.config.psa.curves is not None:
        from ces.survival.boot_run import curve_psa

        loaded, curve_files = curve_psa(loaded, opts.seed, lambda over: load(path, over), overrides,
                                        fit_map or map, fit_blocks)
    model = CohortModel.from_loaded(loaded)  # built once, with the refitted entries of psa.curves if any
    model.data_files.extend(f for f in curve_files if f not in model.data_files)
    if opts is not None:
        sizes.check_cells(loaded, model.n_cycles, len(model.expanded), min(opts.chunk, opts.draws),
                          "--chunk or psa.chunk")
    base = run_base_case(model)
    names = list(model.strategies)
    tot = np.vstack([base.results[s].totals[0] for s in names])
    totu = np.vstack([base.results[s].totals_undisc[0] for s in names])
    payment = None
    if loaded.config.payment is not None:
        payment = payment_model(loaded, model, base)
        i = names.index(payment["strategy"])
        c = model.streams.index(payment["category"])
        tot[i, c] += payment["cea_adjustment"]
        totu[i, c] += payment["cea_adjustment_undiscounted"]
    totals = totals_table(names, model.streams, model.cost_streams, tot, totu, model.payer_streams,
                          loaded.model.cost_bearers)
    effect = loaded.model.effect
    icers = icer_table(totals, effect)
    persps, base_key = model_perspectives(loaded, model)
    perspectives = {p.key: icer_table(totals, effect, p.cost_column) for p in persps if p.key != "payer"}
    nmb = nmb_table(totals, effect, wtps)
    res = RunResult(loaded, model, base, totals, icers, nmb, wtps)
    res.payment = payment
    res.perspectives = perspectives
    res.perspective_nmb = {p.key: nmb_table(totals, effect, wtps, p.cost_column) for p in persps
                           if p.key != "payer" and p.cost_column in totals}
    res.perspective_list, res.base_perspective = persps, base_key
    cg = loaded.model.indirect.caregiver if loaded.model.indirect is not None else None
    if cg is not None and cg.include_qaly_change and "qaly_with_caregiver" in totals and effect == "qaly":
        res.spillover_icers = icer_table(totals, "qaly_with_caregiver", persps[0].cost_column)
    if perspectives or loaded.model.cost_bearers:
        res.inventory = inventory_table(totals, model.cost_streams, loaded.model.cost_bearers)
    if loaded.config.setting is not None:
        res.appraisal = appraisal(res)
    res.wtp_report = report_wtps(res, wtp is None)
    if checks and loaded.config.price is not None:
        res.price = headline_prices(res, path, overrides)
    if loaded.config.budget_impact is not None:
        res.budget = budget_impact(res)
    if loaded.config.payers is not None:
        res.payers = payer_analysis(res)
    if opts is not None:
        res.psa = (psa_runner or run_psa)(model, opts.draws, opts.seed, opts.chunk, on_chunk)
        sizes.check_psa_totals(loaded, res.psa)
        if payment is not None or (loaded.config.budget_impact is not None and loaded.config.budget_impact.psa):
            psa_draw_pass(res, opts)
        res.psa_tables = analyse_psa(res.psa, effect, wtps, opts)
        res.psa_perspectives = {p.key: analyse_psa(res.psa, effect, wtps, opts, p) for p in persps if p.key != "payer"}
    if checks:
        from ces.analysis.sanity import sanity_warnings

        res.warnings = sanity_warnings(res)
        if opts is not None and loaded.config.psa is not None and loaded.config.psa.curves is not None:
            from ces.survival.boot_run import curve_warnings

            res.warnings += curve_warnings(loaded)
    return res
