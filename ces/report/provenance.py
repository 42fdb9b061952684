"""Provenance of a run: which inputs were read (with SHA-256) and where every parameter value came from.

Written into results.json (``provenance``) and manifest.json, so that a regression check
(`ces diff`, `ces run --baseline`) can say first that the inputs differ, and name the files,
before any metric is compared.

- ``inputs``: every file read, by role: ``config``, ``model``, ``table`` (CSV look-ups,
  empirical draws), ``patient_data`` and ``digitised_curve`` (the patient-level data, or the KM and at-risk
  files, refitted by ``psa: {curves: ...}``), ``life_table`` (background mortality, ``mortality()``, the preset's
  severity life table), ``setting`` (the country preset ``ces/settings/NAME.yaml``).
- ``parameters``: the effective value of every model parameter after the config's (and a
  sensitivity analysis') overrides, the expression, and the file / key / line that set it;
  ``strategy_parameters``: the strategy overrides, likewise.  A parameter that varies with
  time or age has ``value: null`` and ``time_varying: true`` (its expression is recorded).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from ces import __version__
from ces.analysis.sanity import parameter_values


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_files(run) -> list:
    """(role, path) of every input file read by the run, without repeats, in a stable order."""
    loaded = run.loaded
    out = []
    if loaded.config_loc is not None:
        out.append(("config", loaded.config_loc.file))
    out.append(("model", loaded.model_loc.file))
    data_dir = Path(str(resources.files("ces") / "data")).resolve()
    from ces.survival.fit_recipe import input_files

    fit_data = {str((loaded.base_dir / rel).resolve()): "patient_data" if key == "data" else "digitised_curve"
                for r in (getattr(loaded.model, "fits", None) or {}).values() for key, _, rel in input_files(r)}
    for f in run.model.data_files:
        role = "life_table" if Path(f).resolve().parent == data_dir and Path(f).name.startswith("lifetable") else "table"
        role = fit_data.get(str(Path(f).resolve()), role)  # refitted by psa.curves (ces.survival.boot_run)
        out.append((role, f))
    setting = loaded.config.setting
    if setting is not None:
        out.append(("setting", str(Path(str(resources.files("ces") / "settings")) / f"{setting}.yaml")))
        from ces.modelfile.presets import load_setting
        from ces.survival.lifetable import LIFE_TABLES

        lt = load_setting(setting).get("life_table")
        if lt in LIFE_TABLES and run.appraisal is not None and run.appraisal.get("severity") is not None:
            out.append(("life_table", str(data_dir / LIFE_TABLES[lt][0])))
    seen, unique = set(), []
    for role, f in out:
        key = str(Path(f).resolve())
        if key not in seen:
            seen.add(key)
            unique.append((role, f))
    return unique


def inputs(run) -> list:
    return [{"role": role, "path": str(f), "sha256": sha256(f)} for role, f in input_files(run)]


def parameters(run) -> dict:
    """name → {value, expression, time_varying, file, key, line}: the base-case value of every parameter."""
    model = run.model
    out = {}
    for name, (value, varying) in parameter_values(model, model.model_defs).items():
        d = model.model_defs[name]
        file, key, line = d.where
        out[name] = {"value": value, "expression": str(d.expr.source), "time_varying": varying,
                     "file": file, "key": key, "line": line}
    return out


def strategy_parameters(run) -> dict:
    """strategy → {name: {value, expression, ...}} for the parameters a strategy overrides."""
    out = {}
    spec = run.loaded.model
    for s, cs in run.model.strategies.items():
        strat = spec.strategies.get(s)
        if strat is None or not strat.parameters:
            continue
        vals = parameter_values(run.model, cs.params)
        out[s] = {}
        for name in strat.parameters:
            d = cs.params[name]
            file, key, line = d.where
            value, varying = vals[name]
            out[s][name] = {"value": value, "expression": str(d.expr.source), "time_varying": varying,
                            "file": file, "key": key, "line": line}
    return out


def provenance(run) -> dict:
    return {"ces_version": __version__, "inputs": inputs(run), "parameters": parameters(run),
            "strategy_parameters": strategy_parameters(run)}

