"""Overrides of a study run: the {"parameters": {...}, "settings": {...}} that ``ces.pipeline.run`` applies
on top of a config (a DSA point, a sweep grid point, a scenario)."""

from __future__ import annotations

from ces.modelfile.schema_config import SETTINGS_KEYS


def override(name: str, value: float) -> dict:
    """A parameter override, or a setting override for dotted names / setting keys (e.g. discount.costs)."""
    head = name.split(".")[0]
    if "." in name or head in SETTINGS_KEYS:
        node: dict = {}
        cur = node
        parts = name.split(".")
        for p in parts[:-1]:
            cur[p] = {}
            cur = cur[p]
        cur[parts[-1]] = value
        return {"settings": node}
    return {"parameters": {name: value}}


def merge(a: dict, b: dict) -> dict:
    """``b`` over ``a``: parameters replaced by name, settings merged one level deep (e.g. discount.costs)."""
    out = {"parameters": {**a.get("parameters", {}), **b.get("parameters", {})}, "settings": dict(a.get("settings", {}))}
    for k, v in b.get("settings", {}).items():
        out["settings"][k] = {**out["settings"].get(k, {}), **v} if isinstance(v, dict) else v
    return out
