"""Life tables shipped with ces: background mortality by age and sex.

Each table is read from ``ces/data`` (the source is in each CSV's comment header) and
turned into an annual hazard μ(age, sex), constant within each age interval:

- single-year tables with ``qx`` (US NCHS 2021): μ = −ln(1 − qx) (constant force of
  mortality within the year of age); the open interval 100+ (qx = 1) uses μ = 1/e_100
  (= l_100/T_100, the stationary-population rate);
- tables with ``mx`` (UK ONS 2018–20; UN WPP 2024 abridged 5-year groups): μ = mx (the
  central death rate is the constant hazard when the force of mortality is constant
  within the interval); converted to a probability as q = 1 − exp(−mx·n).

Documented assumption: the hazard is piecewise constant by age interval, so the
cumulative hazard is exact piecewise-linear and q = 1 − exp(−μ·n).

A cohort of mixed sex starts with weights w_s; its survival is Σ_s w_s·S_s(t) (the sex
mix then shifts with differential survival, as it does in a real cohort).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ces.errors import CesError

WPP_FILE = "lifetable_wpp2024_abridged_mx_chn_jpn_swe_nld.csv"
LIFE_TABLES = {
    "us_2021": ("lifetable_us_nchs_2021.csv", None),
    "uk_2018_2020": ("lifetable_uk_ons_2018_2020.csv", None),
}
for iso, name in (("JPN", "japan"), ("SWE", "sweden"), ("CHN", "china"), ("NLD", "netherlands")):
    for period in ("2010-2015", "2015-2020", "2020-2025"):
        LIFE_TABLES[f"{name}_wpp_{period.replace('-', '_')}"] = (WPP_FILE, (iso, period))
    LIFE_TABLES[f"{name}_wpp"] = (WPP_FILE, (iso, "2020-2025"))


def _path(file: str) -> Path:
    return Path(str(resources.files("ces") / "data" / file))


@dataclass(frozen=True)
class LifeTable:
    name: str
    ages: np.ndarray  # lower bounds of the age intervals, ascending; the last is open
    hazard: dict  # sex -> annual hazard per interval

    def cumhaz(self, age0: float, t: np.ndarray, sex: str) -> np.ndarray:
        """H(t) = ∫_0^t μ(age0 + u) du for years t ≥ 0 (piecewise-constant μ)."""
        mu = self.hazard[sex]
        # cumulative hazard at each interval boundary from age 0
        widths = np.diff(self.ages)
        Hb = np.concatenate(([0.0], np.cumsum(mu[:-1] * widths)))

        def H_at(a):
            a = np.asarray(a, dtype=float)
            i = np.clip(np.searchsorted(self.ages, a, side="right") - 1, 0, len(self.ages) - 1)
            return Hb[i] + mu[i] * (a - self.ages[i])
        t = np.asarray(t, dtype=float)
        return H_at(age0 + t) - H_at(age0)

    def survival(self, age0: float, t: np.ndarray, sex_weights: dict, smr=None) -> np.ndarray:
        """S_bg(t) = Σ_s w_s · exp(−H_s(t)) for a cohort aged ``age0`` at t = 0 (t in years); with an excess
        mortality ratio ``smr`` (a number, or an array broadcasting against t, e.g. one per PSA draw)
        S_bg(t) = Σ_s w_s · exp(−smr · H_s(t)): each sex's hazard times smr (the engine's ``smr:`` curve key,
        and ``ces fit --smr``)."""
        out = 0.0
        for s, w in sex_weights.items():
            H = self.cumhaz(age0, t, s)
            out = out + w * np.exp(-H if smr is None else -smr * H)
        return np.asarray(out, dtype=float)

    def hazard_at(self, age, sex_weights: dict) -> np.ndarray:
        """Annual hazard μ(age) of a cohort, mixing sexes with fixed weights: Σ_s w_s μ_s(age)."""
        age = np.asarray(age, dtype=float)
        i = np.clip(np.searchsorted(self.ages, age + 1e-9, side="right") - 1, 0, len(self.ages) - 1)
        return sum(w * self.hazard[s][i] for s, w in sex_weights.items())

    def life_expectancy(self, age0: float, sex_weights: dict, horizon: float = 150.0, step: float = 0.01) -> float:
        """∫_0^horizon S_bg(t) dt by the trapezoid rule (for checks and severity shortfall)."""
        t = np.arange(0.0, horizon + step / 2, step)
        s = self.survival(age0, t, sex_weights)
        return float(np.sum((s[1:] + s[:-1]) / 2) * step)


def sex_weights(sex) -> dict:
    """Normalise a model's `sex` (male | female | {male: w, female: w}) to weights summing to 1."""
    if sex is None:
        raise CesError("background mortality needs the model's `sex` (male, female or {male: w, female: w})")
    if isinstance(sex, str):
        return {sex: 1.0}
    tot = float(sum(sex.values()))
    if tot <= 0 or any(v < 0 for v in sex.values()):
        raise CesError("`sex` weights must be ≥ 0 with a positive total")
    return {k: float(v) / tot for k, v in sex.items()}


@lru_cache(maxsize=None)
def life_table(name: str) -> LifeTable:
    if name not in LIFE_TABLES:
        raise CesError(f"unknown life table `{name}` (available: {', '.join(sorted(LIFE_TABLES))})")
    file, sel = LIFE_TABLES[name]
    df = pd.read_csv(_path(file), comment="#")
    hazard = {}
    if sel is not None:
        iso, period = sel
        d = df[(df["iso3"] == iso) & (df["period"] == period)].sort_values("age_start")
        ages = d["age_start"].to_numpy(dtype=float)
        hazard = {"male": d["mx_male"].to_numpy(dtype=float), "female": d["mx_female"].to_numpy(dtype=float)}
    elif "mx" in df.columns:
        ages = None
        for s in ("male", "female"):
            d = df[df["sex"] == s].sort_values("age")
            ages = d["age"].to_numpy(dtype=float)
            hazard[s] = d["mx"].to_numpy(dtype=float)
    else:
        ages = None
        for s in ("male", "female"):
            d = df[df["sex"] == s].sort_values("age")
            ages = d["age"].to_numpy(dtype=float)
            q = d["qx"].to_numpy(dtype=float)
            mu = -np.log1p(-np.minimum(q, 1 - 1e-12))
            mu[-1] = 1.0 / float(d["ex"].to_numpy(dtype=float)[-1])  # open interval 100+
            hazard[s] = mu
    return LifeTable(name, ages, hazard)
