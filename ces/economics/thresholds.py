"""Country thresholds, severity (QALY shortfall) and verdicts.

Severity (NICE PMG36 / Zorginstituut): the general population's remaining quality-adjusted life
expectancy QALE_gen from age a0 (shipped life table, model sex mix and a constant utility norm u,
or age- and sex-specific EQ-5D norms chosen by name from ``QALE_NORMS``: the English norms of NICE's
QALY Shortfall Calculator, or a country's age-band norms with its life table, ``qale_norms``;
discounted like effects), and the patients' QALE under the comparator (its discounted QALYs):

    absolute shortfall AS = QALE_gen − QALE_comparator,  proportional shortfall PS = AS / QALE_gen.

Rules (parameters in ``ces/settings/*.yaml`` with their sources):
- ``range`` (US): the ICER is compared with the upper bound, reported with the range;
- ``proportional_shortfall`` (Netherlands): the reference value of the PS band;
- ``nice_severity_modifier`` (UK): £25–35k from April 2026 (dated option £20–30k) × QALY weight 1.2
  (PS ≥ 0.85 or AS ≥ 12) or 1.7 (PS ≥ 0.95 or AS ≥ 18);
- ``severity_graded`` (Sweden): the WTP of the severity grade (given, or from PS bands); only sourced
  grades unless the analyst turns on the preset's assumed grades;
- ``c2h_bands`` (Japan): the C2H price-adjustment band the ICER falls in (× 1.5 for anticancer); the
  adjusted price itself is :mod:`ces.economics.c2h`;
- ``gdp_multiple`` (China): 1–3 × GDP per capita.
"""

from __future__ import annotations

import numpy as np

from ces.errors import CesError


def threshold_rule(preset: dict, option: str | None = None) -> dict:
    """The preset's threshold rule, or a dated option of it (``threshold.options``) merged over it."""
    rule = dict(preset["threshold"])
    options = rule.pop("options", {})
    if option is None:
        return rule
    if option not in options:
        raise CesError(f"setting `{preset['name']}` has no threshold option `{option}` (available: "
                       f"{', '.join(options) or 'none'})")
    return {**rule, **options[option], "option": option}


def qale(life_table, age0: float, sex_weights: dict, utility_norm: float, rate: float, horizon: float = 120.0,
         step: float = 0.01) -> float:
    """∫ S_bg(t)·u·(1+r)^−t dt (trapezoid on a fine grid)."""
    t = np.arange(0.0, horizon + step / 2, step)
    f = life_table.survival(age0, t, sex_weights) * utility_norm * (1.0 + rate) ** -t
    return float(np.sum((f[1:] + f[:-1]) / 2) * step)


QALE_REFERENCE = "uk_qale_reference_england_2017_2019.csv"

#: the registry of age- and sex-specific EQ-5D population norms for the shortfall, by name:
#: (CSV in ``ces/data`` with its source header, norm column, life table it is combined with).
#: England (life table None): the calculator's own file, which carries the ONS 2017-19 l_x and d_x;
#: other countries: a CSV of age bands (age_lower, age_upper, sex, eq5d) and a shipped life table.
QALE_NORMS = {
    "uk_dsu_2014": (QALE_REFERENCE, "dsu_2014", None),  # Hernández Alava, Pudney & Wailoo 2022 (NICE DSU, HSE 2014, EQ-5D-3L): NICE's reference
    "uk_hse_2017_cw": (QALE_REFERENCE, "cw", None),  # HSE 2017-18 EQ-5D-5L, van Hout 2012 crosswalk (McNamara et al. 2022 norms)
    "uk_hse_2017_co": (QALE_REFERENCE, "co", None),  # HSE 2017-18, Hernández Alava et al. 2020 5L->3L mapping
    "uk_mvh_tto": (QALE_REFERENCE, "tto", None),  # MVH value set, HSE 2012+14
    # Fryback et al., Med Care 2007;45:1162, Table 3 (NHMS 2005-06, EQ-5D-3L, ages 35-89), with the NCHS 2021 table
    "us_nhms_2005": ("us_eq5d_norms_nhms_fryback_2007.csv", "eq5d", "us_2021"),
}

#: the country setting (``ces/settings/NAME.yaml``) whose population each registered norm describes. A
#: preset may name one of its own norms as its default (``utility_norm:``); none does yet, and Sweden, the
#: Netherlands, Japan and China have no shipped norm (docs/countries.md#severity-norms says which source is needed).
NORM_SETTING = {"uk_dsu_2014": "uk", "uk_hse_2017_cw": "uk", "uk_hse_2017_co": "uk", "uk_mvh_tto": "uk",
                "us_nhms_2005": "us"}

#: the general-population utility when neither the config nor the setting names one (an assumption, as before).
DEFAULT_UTILITY_NORM = 0.85


def setting_utility_norm(preset: dict) -> float | str:
    """The setting's default norm for the shortfall: its preset's ``utility_norm`` (a registered norm of that
    same setting, or a constant), else :data:`DEFAULT_UTILITY_NORM`. A config's ``severity.utility_norm`` wins."""
    norm = preset.get("utility_norm", DEFAULT_UTILITY_NORM)
    if isinstance(norm, str) and NORM_SETTING.get(norm) != preset["name"]:
        own = [k for k, v in NORM_SETTING.items() if v == preset["name"]]
        raise CesError(f"setting `{preset['name']}`: utility_norm `{norm}` is not a norm of this setting "
                       f"(its norms: {', '.join(own) or 'none shipped'}; or give a constant)")
    return norm


#: discount rate of effects a severity rule computes the shortfall at, when it fixes one: NICE's severity
#: modifier uses the reference-case 3.5 % (PMG36 §4.5 and §6.2; NICE DSU TSD23), whatever the model uses.
SHORTFALL_DISCOUNT = {"nice_severity_modifier": 0.035}


def shortfall_rate(rule: str, model_rate: float) -> float:
    """The effects discount rate of the QALY shortfall: the rule's own (NICE 3.5 %) or the model's."""
    return SHORTFALL_DISCOUNT.get(rule, float(model_rate))


def qale_norms(age0: float, female_share: float, rate: float, norm: str = "uk_dsu_2014") -> float:
    """Quality-adjusted life expectancy of the general population of England (Sullivan method), as in
    the QALY Shortfall Calculator (Schneider et al. 2021; McNamara et al., Value Health 2022;25:
    doi:10.1016/j.jval.2022.07.005), from the ONS 2017-19 life table and age/sex EQ-5D norms shipped in
    ``ces/data/uk_qale_reference_england_2017_2019.csv``:

        l_x, d_x, u_x = the female-share-weighted mix of the two sexes (ages x = a0 … 100, a0 = ⌊age0⌋),
        L_x = l_{x+1} + d_x/2 (person-years in year x; at 100: l − d/2),
        QALE(a0) = Σ_x u_x · L_x · (1 + r)^−(x − a0) / l_{a0}.

    Other countries' norms in the registry (age bands and a shipped life table) go to
    :func:`_qale_banded_norms`.
    """
    from importlib import resources
    from pathlib import Path

    import pandas as pd

    if norm not in QALE_NORMS:
        raise ValueError(f"unknown utility norm `{norm}` (shipped: {', '.join(QALE_NORMS)}; or give a number)")
    file, col, table = QALE_NORMS[norm]
    if table is not None:
        return _qale_banded_norms(norm, age0, female_share, rate)
    t = pd.read_csv(Path(str(resources.files("ces") / "data" / file)), comment="#")
    a0 = int(np.floor(age0))
    f = t[(t["sex"] == "female") & (t["age"] >= a0)].sort_values("age")
    m = t[(t["sex"] == "male") & (t["age"] >= a0)].sort_values("age")
    w = float(female_share)
    lx = w * f["lx"].to_numpy() + (1 - w) * m["lx"].to_numpy()
    dx = w * f["dx"].to_numpy() + (1 - w) * m["dx"].to_numpy()
    u = w * f[col].to_numpy() + (1 - w) * m[col].to_numpy()
    person_years = np.empty_like(lx)
    person_years[:-1] = lx[1:] + 0.5 * dx[:-1]
    person_years[-1] = lx[-1] - 0.5 * dx[-1]
    v = (1.0 + float(rate)) ** -np.arange(lx.size, dtype=float)
    return float(np.sum(u * person_years * v) / lx[0])


def norm_bands(norm: str) -> "pd.DataFrame":
    """The age bands of a banded norm (``age_lower``, ``age_upper`` inclusive, ``sex``, ``eq5d``) as shipped."""
    from importlib import resources
    from pathlib import Path

    import pandas as pd

    file, _, _ = QALE_NORMS[norm]
    return pd.read_csv(Path(str(resources.files("ces") / "data" / file)), comment="#")


def _qale_banded_norms(norm: str, age0: float, female_share: float, rate: float, horizon: float = 120.0) -> float:
    """QALE of the general population from age-band norms and a shipped life table (Sullivan method):

        QALE(a0) = Σ_s w_s Σ_b u_{s,b} ∫_{t ∈ band b} S_s(t) (1 + r)^−t dt,

    with band b = [age_lower, age_upper + 1) in years since a0, S_s the life-table survival of sex s
    (w_female = ``female_share``) and each integral a difference of :func:`qale` (u = 1) at the band edges.
    Conventions (documented, no value is invented): the start age must lie in or above the youngest
    published band (else ValueError: use a constant norm); ages past the oldest band keep its value."""
    from ces.survival.lifetable import life_table

    _, col, table = QALE_NORMS[norm]
    bands = norm_bands(norm)
    youngest = float(bands["age_lower"].min())
    if age0 < youngest:
        raise ValueError(f"utility norm `{norm}` is published from age {youngest:g} only (start age {age0:g}); "
                         "give a constant utility norm instead")
    lt = life_table(table)
    total = 0.0
    for sex, w in (("female", float(female_share)), ("male", 1.0 - float(female_share))):
        if w == 0:
            continue
        b = bands[bands["sex"] == sex].sort_values("age_lower")
        last = len(b) - 1
        for k, (lo, hi, u) in enumerate(zip(b["age_lower"], b["age_upper"], b[col])):
            t0 = max(float(lo) - age0, 0.0)
            t1 = horizon if k == last else float(hi) + 1.0 - age0
            if t1 <= t0:
                continue
            part = qale(lt, age0, {sex: 1.0}, 1.0, rate, t1) - (qale(lt, age0, {sex: 1.0}, 1.0, rate, t0) if t0 else 0.0)
            total += w * float(u) * part
    return total


def severity(qale_gen: float, qale_comparator: float) -> dict:
    a = qale_gen - qale_comparator
    return {"qale_general_population": qale_gen, "qale_comparator": qale_comparator, "absolute_shortfall": a,
            "proportional_shortfall": a / qale_gen if qale_gen > 0 else float("nan")}


def threshold(rule: dict, sev: dict | None, anticancer: bool = False, grade: str | None = None,
              assumed_grades: bool = False) -> dict:
    """{'threshold': upper WTP used for the verdict, 'range' or 'bands', 'basis': text}.

    Sweden: only sourced grades unless ``assumed_grades`` (then the preset's ``assumed_grades`` levels and
    the finer PS mapping are added)."""
    kind = rule["rule"]
    if kind == "severity_graded":
        levels = dict(rule["by_grade"])
        mapping = rule["grade_by_proportional_shortfall"]
        if assumed_grades:
            levels.update(rule.get("assumed_grades", {}))
            mapping = rule.get("grade_by_proportional_shortfall_assumed", mapping)
        if grade is not None and grade not in levels:
            raise ValueError(f"severity grade `{grade}` has no sourced level (sourced: {', '.join(rule['by_grade'])}; "
                             "low/high only with `assumed_grades: true`)")
        rule = {**rule, "by_grade": levels, "grade_by_proportional_shortfall": mapping}
    if kind == "range":
        lo, hi = rule["range"]
        return {"threshold": hi, "lower": lo, "basis": f"range {lo:,.0f}–{hi:,.0f}"}
    if kind == "gdp_multiple":
        g = rule["gdp_per_capita"]
        lo, hi = (m * g for m in rule["multiples"])
        return {"threshold": hi, "lower": lo, "basis": f"{rule['multiples'][0]}–{rule['multiples'][1]} × GDP per "
                f"capita {g:,.0f}"}
    if kind == "c2h_bands":
        f = rule.get("special_factor", 1.5) if anticancer else 1.0
        b = [x * f for x in rule["boundaries"]]
        return {"threshold": b[0], "boundaries": b, "basis": "C2H price-adjustment boundaries " +
                " / ".join(f"{x:,.0f}" for x in b) + (" (×1.5, anticancer)" if anticancer else "")}
    if kind == "severity_graded" and grade is not None:
        return {"threshold": rule["by_grade"][grade], "grade": grade, "basis": f"severity {grade}",
                "assumption": grade in rule.get("assumed_grades", {})}
    if sev is None:
        raise ValueError(f"the {kind} rule needs the severity (QALY shortfall)")
    ps, as_ = sev["proportional_shortfall"], sev["absolute_shortfall"]
    if kind == "proportional_shortfall":
        val = 0
        for upper, value in rule["bands"]:
            if ps < upper:
                val = value
                break
        return {"threshold": val, "basis": f"proportional shortfall {ps:.2f}"}
    if kind == "nice_severity_modifier":
        lo, hi = rule["range"]
        w = 1.0
        for ps_min, as_min, weight in rule["modifiers"]:
            if ps >= ps_min or as_ >= as_min:
                w = weight
                break
        return {"threshold": hi * w, "lower": lo * w, "weight": w,
                "basis": f"£{lo:,.0f}–{hi:,.0f} × severity weight {w:g} (PS {ps:.2f}, AS {as_:.2f})"}
    if kind == "severity_graded":
        g = grade
        if g is None:
            for upper, name in rule["grade_by_proportional_shortfall"]:
                if ps < upper:
                    g = name
                    break
        return {"threshold": rule["by_grade"][g], "grade": g, "assumption": g in rule.get("assumed_grades", {}),
                "basis": f"severity {g}" + ("" if grade else f" (from proportional shortfall {ps:.2f}; grade mapping "
                                                            "is an assumption)")}
    raise ValueError(f"unknown threshold rule {kind!r}")


def c2h_band(icer: float, boundaries: list) -> str:
    """Which C2H band an ICER falls in (the price adjustment applies above the first boundary)."""
    if icer != icer:
        return "n/a"
    if icer < boundaries[0]:
        return f"below {boundaries[0]:,.0f}: no price adjustment"
    for lo, hi in zip(boundaries, boundaries[1:]):
        if icer < hi:
            return f"{lo:,.0f}–{hi:,.0f}: price adjusted downward (step band)"
    return f"≥ {boundaries[-1]:,.0f}: largest price adjustment"
