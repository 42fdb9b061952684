"""Country presets shipped with ces (``ces/settings/*.yaml``), each value with its source: reading them.

A preset is input data, like a config: ``setting: NAME`` in a config expands to the preset's
default settings (discounting, currency, …) under the config's own ``settings:`` (see
:func:`ces.modelfile.loader.load`), so the input language owns reading the files and the
scenario overlay below.  What the presets' rules *mean* (thresholds, severity, price rules) is
economics: :mod:`ces.economics.thresholds` and :mod:`ces.economics.appraisal`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from ces.errors import CesError


def available() -> list:
    return sorted(p.stem for p in Path(str(resources.files("ces") / "settings")).glob("*.yaml"))


def load_setting(name: str) -> dict:
    if name not in available():
        raise CesError(f"unknown setting `{name}` (available: {', '.join(available())})")
    with open(Path(str(resources.files("ces") / "settings")) / f"{name}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def preset_values(preset: dict, scenario: str | None = None, conditions_met: bool = False) -> list:
    """The preset's {key, value} defaults, with a named non-reference-case scenario's values on top.

    A scenario (``scenarios:`` in the preset) applies only when the analyst confirms its conditions."""
    values = list(preset.get("values", []))
    if scenario is None:
        return values
    scen = preset.get("scenarios", {})
    if scenario not in scen:
        raise CesError(f"setting `{preset['name']}` has no scenario `{scenario}` (available: "
                       f"{', '.join(scen) or 'none'})")
    if not conditions_met:
        raise CesError(f"scenario `{scenario}` applies only under its conditions ({scen[scenario]['source']}): "
                       + "; ".join(scen[scenario].get("conditions", [])) + ". Confirm with `conditions_met: true`")
    over = {v["key"]: v for v in scen[scenario]["values"]}
    return [over.pop(v["key"], v) for v in values] + list(over.values())
