"""Name checks for every place that refers to a model's parameters, settings or strategies.

A name that the model does not define is an error wherever it appears (a config's
``parameters:``, ``scenarios:``, ``dsa:``, ``budget_impact.dsa``, ``ces sweep --grid``,
``ces price``, setting keys): the run would otherwise add an unused parameter and exit 0
with the wrong answer.  Every error names the file, the key path (and line) and the
closest defined name ("did you mean ...", :func:`difflib.get_close_matches`).
"""

from __future__ import annotations

import difflib
import typing
from typing import Any, Callable, Iterable

from pydantic import BaseModel

from ces.errors import CesError
from ces.modelfile.schema import ModelSpec
from ces.modelfile.schema_config import SETTINGS_KEYS

ErrorAt = Callable[[tuple, str], CesError]  # (key path, message) -> located error


def suggestion(name: str, known: Iterable[str]) -> str:
    """``"; did you mean `x`?"`` for the closest known name, or ``""``."""
    close = difflib.get_close_matches(str(name), sorted(str(k) for k in known), n=1)
    return f"; did you mean `{close[0]}`?" if close else ""


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    """The message for an undefined name: `unknown parameter `x`; did you mean `y`?`."""
    known = list(known)
    listing = ", ".join(sorted(known)) if len(known) <= 12 else f"{len(known)} defined"
    return f"unknown {kind} `{name}`{suggestion(name, known)} ({kind}s: {listing or 'none'})"


def model_parameter_names(model_data: dict) -> set:
    """Names a model's ``parameters:`` block defines (joint entries contribute their ``names``)."""
    out = set()
    for key, raw in (model_data.get("parameters") or {}).items():
        if isinstance(raw, dict) and isinstance(raw.get("names"), list):
            out |= {n for n in raw["names"] if isinstance(n, str)}
        else:
            out.add(key)
    return out


def check_parameters(names: Iterable[str], known: set, error_at: ErrorAt, path: tuple) -> None:
    """Every name of a parameter override must be defined by the model."""
    for name in names:
        if name not in known:
            raise error_at(path + (name,), unknown("parameter", name, known))


def _submodel(ann: Any):
    """The pydantic model inside Optional[...] (or None)."""
    for a in (ann, *typing.get_args(ann)):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def check_setting_path(dotted: str, model_data: dict, error_at: ErrorAt, path: tuple) -> None:
    """A setting path such as ``discount.costs`` or ``curves.pfs.hr``: each part must exist."""
    parts = dotted.split(".")
    head = parts[0]
    if head not in SETTINGS_KEYS:
        raise error_at(path, unknown("setting", head, SETTINGS_KEYS))
    if head == "curves" and len(parts) > 1:
        curves = model_data.get("curves") or {}
        if parts[1] not in curves:
            raise error_at(path, unknown("curve", parts[1], curves))
        return
    cls: Any = ModelSpec
    for i, part in enumerate(parts):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return
        fields = {f.alias or n: f for n, f in cls.model_fields.items()}
        if part not in fields:
            raise error_at(path, unknown("setting", ".".join(parts[:i] + [part]),
                                         [".".join(parts[:i] + [k]) for k in fields]))
        cls = _submodel(fields[part].annotation)


def check_settings(settings: dict, model_data: dict, error_at: ErrorAt, path: tuple) -> None:
    """Setting overrides (a nested mapping): every key path must exist in the model schema."""
    def walk(node: dict, prefix: list) -> None:
        for k, v in node.items():
            parts = prefix + [str(k)]
            check_setting_path(".".join(parts), model_data, error_at, path + tuple(parts))
            if isinstance(v, dict) and not (parts[0] == "curves" and len(parts) >= 2):
                walk(v, parts)
    walk(settings, [])


def is_setting(name: str) -> bool:
    """Dotted names and setting keys address settings; other names address parameters."""
    return "." in name or name.split(".")[0] in SETTINGS_KEYS


def check_input(name: str, known: set, model_data: dict, error_at: ErrorAt, path: tuple) -> None:
    """A DSA / sweep input: a parameter or a setting path."""
    if is_setting(name):
        check_setting_path(name, model_data, error_at, path)
    elif name not in known:
        raise error_at(path, unknown("parameter", name, known))


def check_strategy(name: str, strategies: Iterable[str], error_at: ErrorAt, path: tuple) -> None:
    strategies = list(strategies)
    if name not in strategies:
        raise error_at(path, unknown("strategy", name, strategies))


def check_unique(items: list, what: str, error_at: ErrorAt, path: tuple) -> None:
    """A list that names things (strategies to run) must not repeat a name."""
    seen: set = set()
    for i, x in enumerate(items):
        if x in seen:
            raise error_at(path + (i,), f"duplicate {what} `{x}`")
        seen.add(x)


BIA_DSA_GROUPS = ("population", "uptake")


def check_bia_input(key: str, error_at: ErrorAt, path: tuple) -> None:
    """A ``budget_impact.dsa`` key: ``population.FIELD`` or ``uptake.FIELD`` of the budget schema."""
    from ces.modelfile.schema_config import PopulationSpec, UptakeSpec

    group, _, field_ = key.partition(".")
    fields = {"population": list(PopulationSpec.model_fields), "uptake": list(UptakeSpec.model_fields)}
    allowed = [f"{g}.{f}" for g in BIA_DSA_GROUPS for f in fields[g]]
    if group not in fields or field_ not in fields[group]:
        raise error_at(path, f"unknown budget input `{key}`{suggestion(key, allowed)} (allowed: "
                       f"{', '.join(allowed)})")


def check_config(cfg, model_data: dict, error_at: ErrorAt) -> None:
    """Every name a config uses must be defined by its model (see the module docstring)."""
    known = model_parameter_names(model_data)
    strategies = list(model_data.get("strategies") or {})
    check_parameters(cfg.parameters, known, error_at, ("parameters",))
    if cfg.strategies is not None:
        check_unique(cfg.strategies, "strategy", error_at, ("strategies",))
    for sname, sc in cfg.scenarios.items():
        check_parameters(sc.parameters, known, error_at, ("scenarios", sname, "parameters"))
        check_settings(sc.settings, model_data, error_at, ("scenarios", sname, "settings"))
    d = cfg.dsa
    if d is not None:
        names = d.parameters if isinstance(d.parameters, list) else list(d.parameters)
        for i, name in enumerate(names):
            check_input(name, known, model_data, error_at,
                        ("dsa", "parameters", i if isinstance(d.parameters, list) else name))
        if d.two_way is not None:
            for ax in ("x", "y"):
                check_input(getattr(d.two_way, ax), known, model_data, error_at, ("dsa", "two_way", ax))
        if d.threshold is not None:
            check_input(d.threshold.parameter, known, model_data, error_at, ("dsa", "threshold", "parameter"))
        for key in ("strategy", "comparator"):
            if getattr(d, key) is not None:
                check_strategy(getattr(d, key), strategies, error_at, ("dsa", key))
    b = cfg.budget_impact
    if b is not None:
        for key in b.dsa:
            check_bia_input(key, error_at, ("budget_impact", "dsa", key))
        for sname, sc in b.scenarios.items():
            for f in sc.population:
                check_bia_input(f"population.{f}", error_at, ("budget_impact", "scenarios", sname, "population", f))
            for f in (sc.uptake or {}):
                check_bia_input(f"uptake.{f}", error_at, ("budget_impact", "scenarios", sname, "uptake", f))


def check_model(model_data: dict, error_at: ErrorAt) -> None:
    """A parameter name is defined once: joint entries' ``names`` must not repeat each other or a plain key."""
    params = model_data.get("parameters") or {}
    if not isinstance(params, dict):
        return
    owner: dict = {k: k for k, raw in params.items() if not (isinstance(raw, dict) and "names" in raw)}
    for key, raw in params.items():
        if isinstance(raw, dict) and isinstance(raw.get("names"), list):
            for i, n in enumerate(raw["names"]):
                if n in owner:
                    first = owner[n]
                    where = "the same entry" if first == key else f"`parameters.{first}`"
                    raise error_at(("parameters", key, "names", i),
                                   f"duplicate parameter name `{n}` (already defined by {where})")
                owner[n] = key
