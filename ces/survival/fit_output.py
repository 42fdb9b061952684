"""The ``ces fit`` workflow over endpoints: the fits, the model-choice table (AIC, BIC, S(t), RMST), the
joint bootstrap and the chosen curves.

The data are read by :mod:`ces.survival.fit_data` and the YAML block is written by
:mod:`ces.survival.fit_yaml` (their names are re-exported here).

Model choice follows NICE DSU TSD 14 (Latimer 2011, updated 2013): AIC/BIC for statistical fit, with
visual fit and the plausibility of the extrapolation judged beside it (TSD 21, Rutherford et al. 2020,
for the flexible models: splines and cure).
"""

from __future__ import annotations

import math

import numpy as np

from ces.errors import CesError
from ces.survival.fit import Fit
from ces.survival.fit_data import make_data, read_ipd  # noqa: F401  (re-exported)
from ces.survival.fit_yaml import _curve_entry, _py, curves_yaml  # noqa: F401  (re-exported)


def results_table(fits: list, times=(), horizon: float | None = None, km=None) -> list:
    """Rows of the model-choice table (sorted by AIC, ΔAIC from the best)."""
    finite = [f.aic for f in fits if math.isfinite(f.aic)]
    best = min(finite) if finite else math.nan
    rows = []
    for f in fits:
        row = {"model": f.model.label, "k": f.k, "loglik": f.loglik, "AIC": f.aic, "BIC": f.bic,
               "dAIC": f.aic - best, "converged": f.converged}
        for p, (est, se, lo, hi) in f.natural.items():
            row[p] = est
            row[f"{p}_se"] = se
            row[f"{p}_lcl"] = lo
            row[f"{p}_ucl"] = hi
        if math.isfinite(f.loglik):
            for t in times:
                row[f"S({t:g})"] = float(f.survival(np.array([t]))[0])
            if horizon:
                row[f"RMST({horizon:g})"] = f.rmst(horizon)
        rows.append(row)
    if km is not None:
        row = {"model": "Kaplan-Meier"}
        for t in times:
            row[f"S({t:g})"] = float(km.at([t])[0]) if t <= km.time[-1] else math.nan
        rows.append(row)
    return rows


def bootstrap(df, endpoints: list, B: int, seed: int, weight: str | None = None, arm: str | None = None,
              map_fn=map, blocks: int = 1):
    """(column names, converged replicate rows) of :func:`ces.survival.bootstrap.bootstrap_replicates`."""
    from ces.survival.bootstrap import bootstrap_replicates

    rep = bootstrap_replicates(df, endpoints, B, seed, weight, arm, map_fn, blocks)
    return rep.columns, rep.draws


UNITS_PER_YEAR = {"day": 365.25, "week": 365.25 / 7, "month": 12.0, "year": 1.0}


def estimates_text(fit: Fit) -> str:
    """'shape 1.11 (SE 0.17; 0.82, 1.50); ...': estimate (SE; 95% CI) per parameter."""
    return "; ".join(f"{p} {est:.4g} (SE {se:.3g}; {lo:.4g}, {hi:.4g})" for p, (est, se, lo, hi) in fit.natural.items())


def run_fit(df, source: str, endpoints: list, *, arm=None, weight=None, joint=False, families=None,
            knots=(1, 2, 3), cure=True, time_unit="month", at_years=(1, 2, 5, 10), horizon_years=40.0,
            choose=None, bootstrap_b=0, seed=2026, background=None, mortality=None, map_fn=map,
            blocks=1, bootstrap_stream=()):
    """The whole ``ces fit`` workflow over endpoints [(name, time col, event col)].

    ``mortality`` = (life table, age, sex weights): cure models are then fitted with the background
    hazard, as the engine evaluates them (see :class:`ces.survival.fit.Data`).  ``bootstrap_stream``: the
    replicates' seed suffix (:func:`ces.survival.bootstrap.curve_stream`: each fit its own).
    Returns {"tables": [(title, rows, fits)], "boot": :class:`ces.survival.bootstrap.Replicates` or None,
    "chosen": [(name, Fit, levels, data)], "time_unit": unit, "endpoints": [(name, model, time, event)]}.
    """
    from ces.survival.fit_likelihood import Background

    from ces.survival.fit import candidates, fit_all
    from ces.survival.km import kaplan_meier

    if bootstrap_b:
        from ces.survival.bootstrap import check_replicates

        check_replicates(bootstrap_b, len(df))  # before any fit
        if arm is not None and not joint:
            raise CesError("--bootstrap with --arm needs --joint (one resample of the trial for all arms)")
    if time_unit not in UNITS_PER_YEAR:
        raise CesError(f"--time-unit must be one of {', '.join(UNITS_PER_YEAR)}, got `{time_unit}`")
    upy = UNITS_PER_YEAR[time_unit]
    times = tuple(a * upy for a in at_years)
    horizon = horizon_years * upy
    bg = Background(mortality[0], mortality[1], mortality[2], upy, mortality[3]) if mortality is not None else None
    if arm is not None:
        levels = sorted(set(df[arm].astype(str)))
        if len(levels) > 20:
            raise CesError(f"column `{arm}` has {len(levels)} levels (at most 20 arms)", file=source)
    else:
        levels = []
    tables, chosen, boot_eps = [], [], []
    for name, tcol, ecol in endpoints:
        groups = [(None, df)] if arm is None or joint else [(lv, df[df[arm].astype(str) == lv]) for lv in levels]
        for lv, sub in groups:
            data = make_data(sub, tcol, ecol, weight, arm if joint else None, levels if joint else None, bg)
            fits = fit_all(data, candidates(data, families, knots, cure))
            km = kaplan_meier(data.time, data.event, data.weight)
            rows = results_table(fits, times, horizon, km)
            label = name if lv is None else f"{name}_{_py(lv)}"
            title = f"{label}: {ecol} at {tcol}" + (f" ({arm} = {lv})" if lv is not None else "") + \
                (f", joint over {arm} ({', '.join(levels)}; reference {levels[0]})" if joint else "")
            tables.append((title, rows, fits))
            pick = fits[0]
            if choose:
                match = [f for f in fits if f.model.label == choose]
                if not match:
                    raise CesError(f"--choose `{choose}` is not among the fitted models "
                                   f"({', '.join(f.model.label for f in fits)})")
                pick = match[0]
            if not math.isfinite(pick.loglik):
                raise CesError(f"{label}: the chosen model `{pick.model.label}` did not converge")
            chosen.append((label, pick, levels[1:] if joint else [], data))
            boot_eps.append((label, tcol, ecol, pick, levels if joint else None, lv))
    boot = None
    if bootstrap_b:
        from ces.survival.bootstrap import bootstrap_replicates

        boot = bootstrap_replicates(df, [(n, t, e, f, lv) for n, t, e, f, lv, _ in boot_eps], bootstrap_b, seed,
                                    weight, arm if joint else None, map_fn, blocks, bootstrap_stream)
    endpoints_used = [(n, f.model.label, t, e) for n, t, e, f, _, _ in boot_eps]
    return {"tables": tables, "chosen": chosen, "boot": boot, "time_unit": time_unit, "endpoints": endpoints_used}
