"""Inputs and outputs of ``ces fit``: reading patient-level CSVs, the model-choice table, the YAML block.

The YAML block pastes into a model file.  Each fitted curve becomes a joint PSA entry over its
transformed coefficients (flexsurv's scale: ln of positive parameters, logit of the cure fraction,
covariate effects on the location) and one derived parameter per natural-scale parameter::

    parameters:
      os_coef: {names: [os_log_shape, os_log_scale], dist: mvnormal, mean: [...], cov: [[...], [...]]}
      os_shape: exp(os_log_shape)
      os_scale: exp(os_log_scale)
    curves:
      os: {dist: weibull, shape: os_shape, scale: os_scale}

The mean is the MLE and the covariance the inverse Hessian (asymptotic normality of the MLE), so the
coefficients of one curve are drawn jointly.  With ``--bootstrap B`` the coefficients of ALL endpoints
(e.g. PFS and OS fitted on the same patients) are refitted on B resamples of the patients and written
as a replicates file (:mod:`ces.survival.bootstrap`); the block then uses ``dist: bootstrap`` (each PSA
draw takes one whole replicate) or, with ``--psa mvn``, one mvnormal over all coefficients with the
bootstrap covariance.  Both keep the PFS–OS correlation.
Model choice follows NICE DSU TSD 14 (Latimer 2011, updated 2013): AIC/BIC for statistical fit, with
visual fit and the plausibility of the extrapolation judged beside it (TSD 21, Rutherford et al. 2020,
for the flexible models: splines and cure).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ces.errors import CesError
from ces.survival.fit import Fit
from ces.survival.fit_likelihood import Data, coef_names


def _py(name: str) -> str:
    """A parameter-name-safe version of a coefficient name: log(shape) -> log_shape."""
    return name.replace("(", "_").replace(")", "").replace(".", "_").replace("-", "_")


def read_ipd(path: Path, time: str, event: str, arm: str | None = None, weight: str | None = None):
    """Read patient-level data; returns (DataFrame of clean columns). Errors name the file, column and row."""
    import pandas as pd

    try:
        df = pd.read_csv(path, comment="#")
    except FileNotFoundError:
        raise CesError(f"data file `{path}` not found") from None
    except Exception as exc:  # pandas raises many types on malformed CSV
        raise CesError(f"cannot read CSV: {exc}".splitlines()[0], file=str(path)) from None
    for col in (time, event, arm, weight):
        if col is not None and col not in df.columns:
            raise CesError(f"column `{col}` not found (columns: {', '.join(map(str, df.columns))})", file=str(path))
    if len(df) > 10_000_000:
        raise CesError(f"{len(df)} rows: at most 10,000,000 patients", file=str(path))
    for col, rule in ((time, "a time > 0"), (event, "0 (censored) or 1 (event)"), (weight, "a weight ≥ 0")):
        if col is None:
            continue
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v)
        if col == time:
            bad |= v <= 0
        elif col == event:
            bad |= ~np.isin(v, (0.0, 1.0))
        else:
            bad |= v < 0
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise CesError(f"row {k + 2}, column `{col}`: {df[col].iloc[k]!r} is not {rule}", file=str(path))
        df[col] = v
    return df


def make_data(df, time: str, event: str, weight: str | None = None, arm: str | None = None,
              levels: list | None = None, background=None) -> Data:
    """A :class:`Data`; with ``arm``, dummy columns for every level but the first (R's factor coding)."""
    t = df[time].to_numpy(dtype=float)
    e = df[event].to_numpy(dtype=float)
    w = df[weight].to_numpy(dtype=float) if weight else np.ones_like(t)
    if e[w > 0].sum() < 1:
        raise CesError(f"no events in `{event}`: nothing to fit")
    if arm is None:
        return Data(t, e, w, np.zeros((t.size, 0)), background=background)
    a = df[arm].astype(str).to_numpy()
    levels = levels or sorted(set(a))
    X = np.column_stack([(a == lv).astype(float) for lv in levels[1:]]) if len(levels) > 1 else np.zeros((t.size, 0))
    return Data(t, e, w, X, tuple(f"{arm}{lv}" for lv in levels[1:]), background)


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


def _curve_entry(fit: Fit, name: str, level: int | None, background: str | None) -> tuple:
    """(derived parameter lines, curve mapping) for one curve (reference arm, or dummy ``level``)."""
    model = fit.model
    cn = [f"{name}_{_py(c)}" for c in coef_names(model, ())]
    beta = [f"{name}_{_py(c)}" for c in fit.covariates]
    lines, curve = {}, {"dist": model.dist}
    for j, (p, tr) in enumerate(zip(model.params, model.transforms)):
        z = cn[j]
        if level is not None and j == model.location:
            z = f"({z} + {beta[level]})"
        expr = {"log": f"exp({z})", "logit": f"expit({z})"}.get(tr, z)
        pname = f"{name}_{p}" if level is None else f"{name}_{p}_{_py(fit.covariates[level])}"
        if expr == pname:  # an identity-scale coefficient is the parameter itself
            pname = z
        else:
            lines[pname] = expr
        if p == "cure":
            curve["cure"] = pname
            curve["cure_type"] = model.cure.replace("_", "-")
        else:
            curve[p] = pname
    if model.dist == "spline":
        curve["knots"] = [round(k, 10) for k in model.knots]
        curve["scale"] = model.scale
    if model.cure:
        curve["background"] = background or "LIFE_TABLE"
    return lines, curve


def curves_yaml(entries: list, *, bootstrap_file: str | None = None, bootstrap_columns: list | None = None,
                time_unit: str = "", source: str = "", background: str | None = None, psa: str | None = None,
                replicates: int | None = None, joint_cov=None) -> str:
    """YAML text of ``parameters:`` and ``curves:`` for fitted curves ``entries`` = [(name, Fit, levels)].

    ``psa``: ``hessian`` (one mvnormal per curve, cov = inverse Hessian; the default without a
    bootstrap), ``bootstrap`` (one ``dist: bootstrap`` entry over all coefficients reading the
    replicate rows of ``bootstrap_file``, ``B: replicates``; the default with one) or ``mvn`` (one
    mvnormal over all coefficients, mean = MLE, cov = ``joint_cov``, the bootstrap covariance).
    """
    import yaml

    psa = psa or ("bootstrap" if bootstrap_file else "hessian")
    params: dict = {}
    curves: dict = {}
    all_names = [f"{n}_{_py(c)}" for n, f, _ in entries for c in f.coef_names]
    mle = [float(v) for _, f, _ in entries for v in f.coef]
    if psa == "bootstrap":
        params["fit_coef"] = {"names": all_names, "dist": "bootstrap", "file": bootstrap_file}
        if bootstrap_columns is not None and list(bootstrap_columns) != all_names:
            params["fit_coef"]["columns"] = list(bootstrap_columns)
        if replicates is not None:
            params["fit_coef"]["B"] = int(replicates)
        params["fit_coef"]["value"] = mle
    elif psa == "mvn":
        params["fit_coef"] = {"names": all_names, "dist": "mvnormal", "mean": mle,
                              "cov": [[float(v) for v in row] for row in np.atleast_2d(joint_cov)]}
    for name, fit, levels in entries:
        names = [f"{name}_{_py(c)}" for c in fit.coef_names]
        if psa == "hessian":
            params[f"{name}_coef"] = {"names": names, "dist": "mvnormal",
                                      "mean": [float(v) for v in fit.coef],
                                      "cov": [[float(v) for v in row] for row in fit.cov]}
        lines, curve = _curve_entry(fit, name, None, background)
        params.update(lines)
        curves[name] = curve
        for i, lv in enumerate(levels or []):
            lines, curve = _curve_entry(fit, name, i, background)
            params.update(lines)
            curves[f"{name}_{_py(lv)}"] = curve
    cov_text = {"hessian": "PSA: one mvnormal per curve, covariance = inverse Hessian",
                "bootstrap": f"PSA: each draw takes one whole bootstrap replicate of {bootstrap_file} (all curves "
                             "refitted on the same resampled patients)",
                "mvn": "PSA: one mvnormal over all curves' coefficients, covariance = bootstrap covariance "
                       "of the joint refits"}[psa]
    head = ["# Fitted by `ces fit` (maximum likelihood, flexsurv parameterisation).", f"# {cov_text}.",
            f"# Data: {source}" if source else "",
            f"# Time unit of the data: {time_unit} (set the model's `time_unit` to match)." if time_unit else
            "# Time unit: that of the data's time column (set the model's `time_unit` to match).",
            "# Cure curves: the engine multiplies by the background survival of `background`." if any(
                f.model.cure for _, f, _ in entries) else ""]
    body = yaml.safe_dump({"parameters": params, "curves": curves}, sort_keys=False, width=100,
                          default_flow_style=None)
    return "\n".join(h for h in head if h) + "\n" + body


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
            blocks=1):
    """The whole ``ces fit`` workflow over endpoints [(name, time col, event col)].

    ``mortality`` = (life table, age, sex weights): cure models are then fitted with the background
    hazard, as the engine evaluates them (see :class:`ces.survival.fit.Data`).
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
    bg = Background(mortality[0], mortality[1], mortality[2], upy) if mortality is not None else None
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
                                    weight, arm if joint else None, map_fn, blocks)
    endpoints_used = [(n, f.model.label, t, e) for n, t, e, f, _, _ in boot_eps]
    return {"tables": tables, "chosen": chosen, "boot": boot, "time_unit": time_unit, "endpoints": endpoints_used}
