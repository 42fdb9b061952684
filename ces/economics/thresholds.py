"""Country thresholds, severity (QALY shortfall) and verdicts.

Severity (NICE PMG36 / Zorginstituut): the general population's remaining quality-adjusted life
expectancy QALE_gen from age a0 (shipped life table, model sex mix, utility norm u, discounted like
effects), and the patients' QALE under the comparator (its discounted QALYs):

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


def qale(life_table, age0: float, sex_weights: dict, utility_norm: float, rate: float, horizon: float = 120.0,
         step: float = 0.01) -> float:
    """∫ S_bg(t)·u·(1+r)^−t dt (trapezoid on a fine grid)."""
    t = np.arange(0.0, horizon + step / 2, step)
    f = life_table.survival(age0, t, sex_weights) * utility_norm * (1.0 + rate) ** -t
    return float(np.sum((f[1:] + f[:-1]) / 2) * step)


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
