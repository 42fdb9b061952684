"""Load a model file (or an analysis config pointing at one) into validated specs.

``load(path)`` accepts either a model (``kind:``/``states:``) or a config
(``model:``).  A config's ``settings`` and ``parameters`` override the model's; the
merge happens before validation and errors in overridden keys point at the config.
"""

from __future__ import annotations

import copy
import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ces.errors import CesError
from ces.modelfile import limits
from ces.modelfile.paths import set_data_dirs
from ces.modelfile.schema import ModelSpec
from ces.modelfile.schema_config import SETTINGS_KEYS, ConfigSpec
from ces.modelfile.yamlio import Located, format_path, load_yaml


@dataclass
class Loaded:
    """Everything the pipeline needs from the YAML files."""

    model: ModelSpec
    model_loc: Located
    config: ConfigSpec
    config_loc: Located | None
    base_dir: Path
    # parameter name -> (file, yaml path, line) for error messages
    where: dict = field(default_factory=dict)
    # folders data files (tables, empirical draws) may be read from
    data_dirs: list = field(default_factory=list)
    # the ``overrides`` of :func:`load` (a remote worker rebuilds the same model with them, ces.remote)
    overrides: dict | None = None

    def locate(self, path: tuple) -> tuple:
        """(file, path-string, line) of a model key path, honouring config overrides."""
        if self.config_loc is not None and path:
            if path[0] == "parameters" and len(path) > 1 and path[1] in self.config.parameters:
                cpath = path
                return self.config_loc.file, format_path(cpath), self.config_loc.line(cpath)
            if path[0] in self.config.settings:
                cpath = ("settings",) + tuple(path)
                return self.config_loc.file, format_path(cpath), self.config_loc.line(cpath)
        return self.model_loc.file, format_path(path), self.model_loc.line(path)

    def error(self, path: tuple, message: str) -> CesError:
        file, p, line = self.locate(path)
        return CesError(message, file=file, path=p, line=line)


class _DictOf:
    def __init__(self, inner):
        self.inner = inner


def _unwrap(ann):
    args = typing.get_args(ann)
    if typing.get_origin(ann) is typing.Union:
        for a in args:
            if a is not type(None):
                if (isinstance(a, type) and issubclass(a, BaseModel)) or typing.get_origin(a) in (dict, list):
                    return a
        return ann
    return ann


def _allowed_keys(root: type, path: list) -> list[str] | None:
    cls: Any = root
    i = 0
    while i < len(path):
        if isinstance(cls, _DictOf):
            cls = cls.inner
            i += 1  # user key or list index
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return None
        key = path[i]
        fld = next((f for n, f in cls.model_fields.items() if key in (n, f.alias)), None)
        if fld is None:
            return None
        ann = _unwrap(fld.annotation)
        if typing.get_origin(ann) in (dict, list):
            cls = _DictOf(_unwrap(typing.get_args(ann)[-1]))
        else:
            cls = ann
        i += 1
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return [f.alias or n for n, f in cls.model_fields.items()]
    return None


def _data_path(data: Any, loc: tuple) -> list:
    """Keep the loc elements that index into the input data (drop pydantic's union-branch tags)."""
    out: list = []
    cur = data
    for el in loc:
        if isinstance(cur, dict) and el in cur:
            out.append(el)
            cur = cur[el]
        elif isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
            out.append(el)
            cur = cur[el]
        elif isinstance(cur, dict) and isinstance(el, str) and el not in cur and not _is_branch_tag(el):
            out.append(el)  # a missing or unknown key
            cur = None
    return out


def _is_branch_tag(el: str) -> bool:
    return el in ("int", "float", "str", "bool", "dict", "list", "none") or "[" in el or el[:1].isupper() \
        or el.startswith("literal") or el.startswith("function")


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _type_name(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a mapping", type(None): "empty (null)"}.get(type(v), type(v).__name__)


def validation_error(exc: ValidationError, root: type, loc_file: Located, data: Any,
                     prefix: tuple = ()) -> CesError:
    """Turn the first pydantic error into a one-line CesError with file:line and key path."""
    errors = exc.errors()
    # prefer the most specific (deepest) error on the first offending path
    first = errors[0]
    path = _data_path(data, first["loc"])
    same = [e for e in errors if _data_path(data, e["loc"]) == path]
    etype = first["type"]
    value = _get(data, path)
    if etype == "extra_forbidden":
        allowed = _allowed_keys(root, path[:-1]) or []
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        msg = f"unknown key `{path[-1]}`{hint} (allowed: {', '.join(allowed)})"
    elif etype == "missing":
        msg = f"missing required key `{path[-1]}`"
    elif etype.startswith("literal_error") or etype == "literal_error":
        msg = f"invalid value {value!r}: {first['msg'].replace('Input should be', 'expected')}"
    elif len(same) > 1 and all(e["type"].endswith("_type") for e in same):
        kinds = sorted({e["type"].replace("_type", "").replace("_parsing", "") for e in same})
        msg = f"expected {' or '.join(kinds)}, got {_type_name(value)}"
        if value is None:
            msg += " (inside `{...}` a comma ends a value: quote expressions that contain commas)"
        else:
            msg += f" ({value!r})"
            if isinstance(value, str) and _looks_numeric(value):
                msg += "; YAML reads numbers like 1e6 as text: write 1.0e+6 or 1000000"
    else:
        msg = first["msg"].replace("Input should be", "expected")
        if value is not None and etype != "missing":
            msg += f", got {value!r}"
    full = tuple(prefix) + tuple(path)
    return CesError(msg, file=loc_file.file, path=format_path(full), line=loc_file.line(full))


def _get(data: Any, path: list) -> Any:
    cur = data
    for p in path:
        try:
            cur = cur[p]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load(path: str | Path, overrides: dict | None = None) -> Loaded:
    """Load a config or a model file; returns validated specs with their locations.

    ``overrides`` = {"parameters": {...}, "settings": {...}} is applied on top of the config
    (sensitivity analyses and scenarios use it); ``replace_parameters`` / ``remove_parameters`` replace or drop
    whole model entries (joint ones too) and ``data_dirs`` allows more data folders (both for the refitted curves of ``psa.curves``, :mod:`ces.survival.boot_run`).
    """
    limits.set_config_limits(None, None, reset=True)
    set_data_dirs(None)
    loc = load_yaml(path)
    data = loc.data
    if "model" in data and "states" not in data:
        return _load_config(loc, overrides)
    if overrides:
        p = Path(path)
        cfg = Located(data={"ces": 1, "model": p.name}, file=str(p))
        return _load_config(cfg, overrides, model_path=p)
    from ces.modelfile.names import check_model

    check_model(loc.data, loc.error)
    model = _validate_model(loc, loc.data)
    cfg = ConfigSpec(ces=1, model=str(path))
    return _finish(model, loc, cfg, None, Path(path).resolve().parent)


def _validate_model(loc: Located, data: dict, settings_loc: Located | None = None,
                    settings: dict | None = None) -> ModelSpec:
    if "ces" not in data:
        raise CesError("missing `ces: 1` (schema version) at the top of the model file", file=loc.file, line=1)
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as exc:
        err_path = _data_path(data, exc.errors()[0]["loc"])
        if settings_loc is not None and settings and err_path and err_path[0] in settings:
            return_err = validation_error(exc, ModelSpec, settings_loc, data, prefix=("settings",))
            raise return_err from None
        raise validation_error(exc, ModelSpec, loc, data) from None


def _load_config(cloc: Located, overrides: dict | None = None, model_path: Path | None = None) -> Loaded:
    limits.set_config_limits(cloc.data.get("limits"),
                             lambda k, msg: cloc.error(("limits", k) if k else ("limits",), msg))
    try:
        cfg = ConfigSpec.model_validate(cloc.data)
    except ValidationError as exc:
        raise validation_error(exc, ConfigSpec, cloc, cloc.data) from None
    own = cfg.model_copy(deep=True)  # the config as written, before presets and overrides
    if cfg.setting is not None:
        from ces.modelfile.presets import available, load_setting

        if cfg.setting not in available():
            raise cloc.error(("setting",), f"unknown setting `{cfg.setting}` (available: {', '.join(available())})")
        preset = load_setting(cfg.setting)
        defaults: dict = {}
        if "currency" in preset:
            defaults["currency"] = preset["currency"]
        from ces.modelfile.presets import preset_values

        ap = cfg.appraisal
        try:
            values = preset_values(preset, ap.scenario if ap else None, bool(ap and ap.conditions_met))
        except CesError as exc:
            raise cloc.error(("appraisal", "scenario"), exc.message) from None
        for v in values:
            node = defaults
            parts = v["key"].split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = v["value"]
        cfg.settings = _deep_merge(defaults, cfg.settings)
    if overrides:
        cfg.settings = _deep_merge(cfg.settings, overrides.get("settings") or {})
        cfg.parameters = {**cfg.parameters, **copy.deepcopy(overrides.get("parameters") or {})}
    for key in cfg.settings:
        if key not in SETTINGS_KEYS:
            close = difflib.get_close_matches(key, SETTINGS_KEYS, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise cloc.error(("settings", key), f"unknown setting `{key}`{hint} (allowed: {', '.join(SETTINGS_KEYS)})")
    base = Path(cloc.file).resolve().parent
    mpath = model_path.resolve() if model_path is not None else (base / cfg.model)
    if len(str(mpath)) > 4096 or any(len(part) > 255 for part in mpath.parts):
        raise cloc.error(("model",), "model path is too long (more than 4096 characters, or a name over 255)")
    if not mpath.exists():
        raise cloc.error(("model",), f"model file `{cfg.model}` not found (resolved to {mpath})")
    if mpath.is_dir():
        raise cloc.error(("model",), f"`{cfg.model}` is a folder; give the model's YAML file")
    mloc = load_yaml(mpath)
    mloc.file = str(Path(cloc.file).parent / cfg.model) if not Path(cfg.model).is_absolute() else cfg.model
    _check_names(own, overrides, mloc, cloc)
    merged = _deep_merge(mloc.data, cfg.settings)
    if cfg.parameters:
        merged["parameters"] = {**merged.get("parameters", {}), **copy.deepcopy(cfg.parameters)}
    if overrides and (overrides.get("replace_parameters") or overrides.get("remove_parameters")):
        sect = merged.setdefault("parameters", {})  # model entries replaced by ces itself (psa.curves)
        sect.update(copy.deepcopy(overrides.get("replace_parameters") or {}))
        for key in overrides.get("remove_parameters") or ():
            sect.pop(key, None)
    model = _validate_model(mloc, merged, cloc, cfg.settings)
    if cfg.strategies is not None:
        for i, s in enumerate(cfg.strategies):
            if s not in model.strategies:
                raise cloc.error(("strategies", i), f"unknown strategy `{s}` (model has: {', '.join(model.strategies)})")
    if cfg.title:
        model.title = cfg.title
    loaded = _finish(model, mloc, cfg, cloc, mpath.resolve().parent)
    if overrides and overrides.get("data_dirs"):  # e.g. the bootstrap cache of psa.curves
        loaded.data_dirs += [Path(d) for d in overrides["data_dirs"]]
        set_data_dirs(loaded.data_dirs)
    loaded.overrides = overrides or None
    return loaded


def _check_names(own: ConfigSpec, overrides: dict | None, mloc: Located, cloc: Located) -> None:
    """No silent ignores: every name the config (and any override) uses must be defined by the model."""
    from ces.modelfile import names

    model_data = mloc.data
    names.check_model(model_data, mloc.error)
    names.check_config(own, model_data, cloc.error)
    names.check_settings(own.settings, model_data, cloc.error, ("settings",))
    if overrides:
        def at(path, msg):
            return CesError(f"override: {msg}", file=cloc.file)
        names.check_parameters(overrides.get("parameters") or {}, names.model_parameter_names(model_data), at, ())
        names.check_settings(overrides.get("settings") or {}, model_data, at, ())


def _finish(model: ModelSpec, mloc: Located, cfg: ConfigSpec, cloc: Located | None, base_dir: Path) -> Loaded:
    loaded = Loaded(model=model, model_loc=mloc, config=cfg, config_loc=cloc, base_dir=base_dir)
    loaded.data_dirs = [base_dir]
    if cloc is not None:
        cdir = Path(cloc.file).resolve().parent
        loaded.data_dirs.append(cdir)
        loaded.data_dirs += [(cdir / p).resolve() for p in cfg.allow_paths]
    set_data_dirs(loaded.data_dirs)
    limits.check("max_parameters", len(model.parameters), "the number of parameters", file=mloc.file,
                 path="parameters", line=mloc.line(("parameters",)))
    for name in model.parameters:
        loaded.where[name] = loaded.locate(("parameters", name))
    return loaded
