"""Country presets shipped with ces (``ces/settings/*.yaml``), each value with its source."""

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
