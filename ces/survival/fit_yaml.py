"""The YAML block of ``ces fit``: the fitted curves as model-file ``parameters`` and ``curves``.

The block pastes into a model file.  Each fitted curve becomes a joint PSA entry over its
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
"""

from __future__ import annotations

import numpy as np

from ces.survival.fit import Fit
from ces.survival.fit_likelihood import coef_names


def fit_key(names) -> str:
    """The name of one fit: its endpoint names joined by ``_`` (``pfs_os``; ``os`` for one curve), the key
    of its recipe in a model's ``fits:`` block (:mod:`ces.survival.fit_recipe`)."""
    return "_".join(names)


def entry_key(names) -> str:
    """The joint PSA entry of one fit over all its endpoints' coefficients (``--bootstrap`` / ``--psa mvn``):
    :func:`fit_key` + ``_coef`` (``pfs_os_coef``; ``os_coef`` for one curve, the name of its per-curve entry).
    Named after the fit, so two blocks (two arms, two trials, PFS and OS digitised separately) combine in one
    model without renaming; a model written with the older name ``fit_coef`` loads unchanged (the name is
    the model's own, listed in its recipe's ``parameters``)."""
    return fit_key(names) + "_coef"


def _py(name: str) -> str:
    """A parameter-name-safe version of a coefficient name: log(shape) -> log_shape."""
    return name.replace("(", "_").replace(")", "").replace(".", "_").replace("-", "_")


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
    bootstrap), ``bootstrap`` (one ``dist: bootstrap`` entry over all coefficients, named after the fit
    (:func:`entry_key`, e.g. ``pfs_os_coef``), reading the
    replicate rows of ``bootstrap_file``, ``B: replicates``; the default with one) or ``mvn`` (one
    mvnormal over all coefficients, mean = MLE, cov = ``joint_cov``, the bootstrap covariance).
    """
    import yaml

    psa = psa or ("bootstrap" if bootstrap_file else "hessian")
    params: dict = {}
    curves: dict = {}
    all_names = [f"{n}_{_py(c)}" for n, f, _ in entries for c in f.coef_names]
    mle = [float(v) for _, f, _ in entries for v in f.coef]
    joint = entry_key([n for n, _, _ in entries])
    if psa == "bootstrap":
        params[joint] = {"names": all_names, "dist": "bootstrap", "file": bootstrap_file}
        if bootstrap_columns is not None and list(bootstrap_columns) != all_names:
            params[joint]["columns"] = list(bootstrap_columns)
        if replicates is not None:
            params[joint]["B"] = int(replicates)
        params[joint]["value"] = mle
    elif psa == "mvn":
        params[joint] = {"names": all_names, "dist": "mvnormal", "mean": mle,
                         "cov": [[float(v) for v in row] for row in np.atleast_2d(joint_cov)]}
    for name, fit, levels in entries:
        names = [f"{name}_{_py(c)}" for c in fit.coef_names]
        if psa == "hessian":
            params[entry_key([name])] = {"names": names, "dist": "mvnormal",
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
