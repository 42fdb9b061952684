"""Deterministic sensitivity analysis: one-way (tornado), two-way grid, threshold, named scenarios.

Every point is a full deterministic run of the model with the overrides applied (the same
loader and engine as `ces run`), so each tornado row equals a run with that override.
Outcome of strategy s against comparator c: ICER = (C_s − C_c)/(E_s − E_c), or the
incremental NMB = λ·(E_s − E_c) − (C_s − C_c).  Ranges given as NAME: [low, high];
a bare parameter name takes its distribution's 2.5th and 97.5th percentiles.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from ces.errors import CesError
from ces.pipeline import run
from ces.studies.overrides import merge, override


class Dsa:
    """DSA of one config under one perspective (default: the base-case perspective of the setting/config);
    the outcome uses that perspective's cost (payer ``cost``, ``cost_societal`` …) from every run."""

    def __init__(self, path: str | Path, perspective: str | None = None):
        self.path = path
        self.base = run(path, psa=False)
        persps = {p.key: p for p in self.base.perspective_list}
        key = perspective or self.base.base_perspective
        if key in ("healthcare", "healthcare_payer"):
            key = "payer"
        if key not in persps:
            raise CesError(f"--perspective must be one of {', '.join(persps)} for this model, got `{key}`",
                           file=str(path))
        self.perspective = persps[key]
        self.cost = self.perspective.cost_column
        self.spec = self.base.loaded.config.dsa
        names = list(self.base.model.strategies)
        d = self.spec
        self.strategy = (d.strategy if d and d.strategy else names[-1])
        self.comparator = (d.comparator if d and d.comparator else names[0])
        for s in (self.strategy, self.comparator):
            if s not in names:
                raise self.base.loaded.config_loc.error(("dsa",), f"unknown strategy `{s}` (strategies: {', '.join(names)})")
        self.effect = self.base.loaded.model.effect
        self.outcome = d.outcome if d else "icer"
        self.wtp = d.wtp if d else None
        if self.outcome == "nmb" and self.wtp is None:
            raise self.base.loaded.config_loc.error(("dsa", "wtp"), "outcome `nmb` needs `wtp`")

    def value(self, res, outcome: str | None = None, wtp: float | None = None) -> float:
        t = res.totals.set_index("strategy")
        dc = t.loc[self.strategy, self.cost] - t.loc[self.comparator, self.cost]
        de = t.loc[self.strategy, self.effect] - t.loc[self.comparator, self.effect]
        if (outcome or self.outcome) == "icer":
            return float(dc / de) if de != 0 else math.nan
        return float((wtp if wtp is not None else self.wtp) * de - dc)

    def run_with(self, ov: dict):
        return run(self.path, psa=False, overrides=ov, checks=False)

    def ranges(self) -> dict:
        spec = self.spec.parameters
        if isinstance(spec, dict):
            out = {}
            for k, v in spec.items():
                if len(v) != 2:
                    raise self.base.loaded.config_loc.error(("dsa", "parameters", k), "give [low, high]")
                out[k] = (float(v[0]), float(v[1]))
            return out
        out = {}
        defs = self.base.model.model_defs
        for k in spec:
            if k not in defs or defs[k].dist is None or defs[k].column is not None:
                raise self.base.loaded.config_loc.error(("dsa", "parameters"), f"`{k}` has no univariate `dist`; "
                                                        "give explicit bounds NAME: [low, high]")
            lo, hi = defs[k].dist.ppf([0.025, 0.975])
            out[k] = (float(lo), float(hi))
        return out

    def one_way(self) -> pd.DataFrame:
        base = self.value(self.base)
        rows = []
        for name, (lo, hi) in self.ranges().items():
            vlo = self.value(self.run_with(override(name, lo)))
            vhi = self.value(self.run_with(override(name, hi)))
            rows.append({"perspective": self.perspective.key, "parameter": name, "low": lo, "high": hi, "outcome_low": vlo, "outcome_high": vhi,
                         "base": base, "range": abs(vhi - vlo)})
        df = pd.DataFrame(rows)
        return df.sort_values("range", ascending=False, kind="stable").reset_index(drop=True)

    def two_way(self) -> pd.DataFrame | None:
        tw = self.spec.two_way
        if tw is None:
            return None
        rows = []
        for x in tw.x_values:
            for y in tw.y_values:
                res = self.run_with(merge(override(tw.x, x), override(tw.y, y)))
                rows.append({tw.x: x, tw.y: y, self.outcome: self.value(res)})
        return pd.DataFrame(rows)

    def threshold(self) -> dict | None:
        th = self.spec.threshold
        if th is None:
            return None

        def f(v):
            return self.value(self.run_with(override(th.parameter, v)), "nmb", th.wtp)
        flo, fhi = f(th.low), f(th.high)
        out = {"perspective": self.perspective.key, "parameter": th.parameter, "wtp": th.wtp, "low": th.low, "high": th.high,
               "inc_nmb_low": flo, "inc_nmb_high": fhi, "threshold": None}
        if np.sign(flo) != np.sign(fhi):
            out["threshold"] = float(brentq(f, th.low, th.high, xtol=1e-10 * max(1.0, abs(th.high)), rtol=1e-12))
        return out

    def scenarios(self) -> pd.DataFrame:
        cfg = self.base.loaded.config
        rows = [self._scenario_row("base case", self.base)]
        for name, sc in cfg.scenarios.items():
            res = self.run_with({"parameters": sc.parameters, "settings": sc.settings})
            rows.append(self._scenario_row(sc.label or name, res))
        return pd.DataFrame(rows)

    def _scenario_row(self, name, res) -> dict:
        t = res.totals.set_index("strategy")
        return {"scenario": name, "perspective": self.perspective.key,
                f"cost.{self.strategy}": t.loc[self.strategy, self.cost],
                f"cost.{self.comparator}": t.loc[self.comparator, self.cost],
                f"{self.effect}.{self.strategy}": t.loc[self.strategy, self.effect],
                f"{self.effect}.{self.comparator}": t.loc[self.comparator, self.effect],
                "icer": self.value(res, "icer")}


def run_dsa(path: str | Path, perspective: str | None = None) -> dict:
    d = Dsa(path, perspective)
    if d.spec is None and not d.base.loaded.config.scenarios:
        raise CesError("the config has neither `dsa:` nor `scenarios:`", file=str(path))
    out = {"perspective": d.perspective.key, "perspective_label": d.perspective.label,
           "strategy": d.strategy, "comparator": d.comparator, "outcome": d.outcome, "wtp": d.wtp,
           "base": d.value(d.base), "loaded": d.base.loaded, "warnings": d.base.warnings}
    if d.spec is not None:
        out["one_way"] = d.one_way()
        out["two_way"] = d.two_way()
        out["threshold"] = d.threshold()
    out["scenarios"] = d.scenarios()
    return out
