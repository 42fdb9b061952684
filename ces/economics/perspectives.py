"""Perspectives: named sums of cost categories (a view over one simulation, never a second one).

Every cost category a model produces is a column of the per-draw totals.  A perspective is
the set of categories it counts; its cost is their sum (per strategy, per draw):

- ``payer`` (healthcare payer): the model's direct categories borne by the payer, i.e. every
  category that is neither an indirect (societal) term nor named under ``cost_bearers`` with
  a bearer other than ``payer``;
- ``societal``: every resource cost, whoever bears it: the payer's categories, the indirect
  terms (productivity, informal care, patient time and travel) and the categories of other
  bearers (e.g. repeat apheresis borne by the hospital, out-of-specification product borne by
  the manufacturer: real resource use, Second Panel impact inventory; Sanders et al., JAMA
  2016;316:1093), without consumption in added life-years;
- ``societal_with_consumption``: ``societal`` plus consumption in added life-years, when that
  switch is on (historical TLV rule; INDIRECT.md §2.3);
- ``bearer_NAME``: the categories borne by one named bearer (hospital, manufacturer, patient),
  one perspective per bearer named under ``cost_bearers``.

Effects (QALYs, LYs) are the same in every perspective.  ``societal`` is only defined when it
differs from ``payer`` (some indirect or other-bearer category exists) or consumption is on
(so the societal result is shown with and without consumption side by side).
"""

from __future__ import annotations

from dataclasses import dataclass

from ces.economics.indirect import CONSUMPTION, INDIRECT
from ces.errors import CesError
from ces.modelfile.presets import load_setting

PAYER, SOCIETAL, SOCIETAL_CONSUMPTION = "payer", "societal", "societal_with_consumption"
#: the perspectives a verdict against a country threshold is given for (not single cost bearers)
APPRAISED = (PAYER, SOCIETAL, SOCIETAL_CONSUMPTION)
#: names the settings presets use for the payer perspective
PAYER_ALIASES = ("payer", "healthcare", "healthcare payer")


@dataclass(frozen=True)
class Perspective:
    key: str  # payer, societal, societal_with_consumption, bearer_hospital, ...
    label: str
    categories: tuple

    @property
    def cost_column(self) -> str:
        """Column of the totals and draws tables holding this perspective's cost (results schema v1 names)."""
        return {PAYER: "cost", SOCIETAL_CONSUMPTION: "cost_societal_consumption"}.get(self.key, f"cost_{self.key}")


def perspectives(cost_streams: list, payer_streams: list, bearers: dict | None = None) -> list:
    """All perspectives of a model, payer first (see the module docstring)."""
    bearers = bearers or {}
    out = [Perspective(PAYER, "healthcare payer", tuple(payer_streams))]
    soc = tuple(payer_streams) + tuple(c for c in cost_streams if c not in payer_streams and c != CONSUMPTION)
    if len(soc) > len(payer_streams) or CONSUMPTION in cost_streams:
        out.append(Perspective(SOCIETAL, "societal", soc))
    if CONSUMPTION in cost_streams:
        out.append(Perspective(SOCIETAL_CONSUMPTION, "societal with consumption in added life-years",
                               soc + (CONSUMPTION,)))
    for who in dict.fromkeys(w for c, w in bearers.items() if w != "payer" and c not in INDIRECT):
        out.append(Perspective(f"bearer_{who}", f"costs borne by the {who}",
                               tuple(c for c in cost_streams if bearers.get(c) == who)))
    return out


def by_key(persps: list) -> dict:
    return {p.key: p for p in persps}


def base_perspective(persps: list, setting_default: str | None = None, override: str | None = None) -> str:
    """The base-case perspective: the config's ``perspective:`` if given, else the setting's
    (societal for Sweden and the Netherlands; payer for the UK, Japan, the US and China), else payer.
    A societal default falls back to payer when the model has no societal terms."""
    keys = [p.key for p in persps]
    want = override or setting_default or PAYER
    if want in PAYER_ALIASES:
        want = PAYER
    if want not in keys:
        if override is not None:
            raise ValueError(f"unknown perspective `{override}` (this model has: {', '.join(keys)})")
        want = PAYER
    return want


def ordered(persps: list, base: str) -> list:
    """The base-case perspective first, then the others in their usual order."""
    return [p for p in persps if p.key == base] + [p for p in persps if p.key != base]


def model_perspectives(loaded, model) -> tuple:
    """(perspectives with the base-case one first, base-case key) for a loaded model and config
    (:func:`ces.modelfile.loader.load`) and its built model: the config's ``perspective:``, else the
    setting's ``base_perspective`` (its preset, :mod:`ces.modelfile.presets`), else the payer."""

    persps = perspectives(model.cost_streams, model.payer_streams, loaded.model.cost_bearers)
    default = load_setting(loaded.config.setting).get("base_perspective") if loaded.config.setting else None
    try:
        base = base_perspective(persps, default, loaded.config.perspective)
    except ValueError as exc:
        raise loaded.config_loc.error(("perspective",), str(exc)) if loaded.config_loc else CesError(str(exc)) from None
    return ordered(persps, base), base
