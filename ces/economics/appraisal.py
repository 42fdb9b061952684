"""Appraisal against a country setting: severity, the setting's threshold, a verdict per frontier ICER,
and the setting's price rules that read the model's results (Japan's C2H adjustment and high-cost
medical expense benefit).

Input: a run result (:class:`ces.analysis.results.RunResult`: the loaded config and model, the base-case
results and the ICER tables of every perspective) and the preset of the config's ``setting:``
(:mod:`ces.modelfile.presets`, each value with its source in ``ces/settings/*.yaml``).  The formulas are
those of :mod:`ces.economics.thresholds` (QALE, shortfall, threshold rules), :mod:`ces.economics.c2h`
and :mod:`ces.economics.japan_hcb`; this module picks their inputs from the run and locates errors in the
config.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ces.economics.c2h import adjusted_price, band_table, weighted_price
from ces.economics.japan_hcb import cost_sharing
from ces.economics.perspectives import APPRAISED
from ces.economics.thresholds import (c2h_band, qale, qale_norms, setting_utility_norm, severity, shortfall_rate,
                                      threshold, threshold_rule)
from ces.engine import conventions as cv
from ces.errors import CesError
from ces.modelfile.presets import load_setting
from ces.survival.lifetable import life_table, sex_weights


def appraisal(res) -> dict:
    """Severity, the setting's threshold and a verdict for every frontier ICER under each perspective."""
    loaded = res.loaded
    preset = load_setting(loaded.config.setting)
    ap = loaded.config.appraisal
    try:
        rule = threshold_rule(preset, ap.threshold if ap else None)
    except CesError as exc:
        cl = loaded.config_loc
        raise (cl.error(("appraisal", "threshold"), exc.message) if cl else exc) from None
    sv = loaded.config.severity
    spec = loaded.model
    sev = None
    needs = rule["rule"] in ("proportional_shortfall", "nice_severity_modifier") or (
        rule["rule"] == "severity_graded" and not (sv and sv.grade))
    if needs or sv is not None:
        if spec.start_age is None or spec.sex is None:
            raise CesError(f"the {preset['name']} threshold needs the severity, which needs the model's `start_age` "
                           "and `sex`", file=loaded.model_loc.file)
        comp = (sv.comparator if sv and sv.comparator else list(res.model.strategies)[0])
        rate = shortfall_rate(rule["rule"], float(spec.discount.effects))
        # the config's norm, else the setting's default (its preset's `utility_norm`, else the constant 0.85)
        own = sv is not None and sv.utility_norm is not None
        norm = sv.utility_norm if own else setting_utility_norm(preset)
        if isinstance(norm, str):  # age- and sex-specific norms (registry QALE_NORMS)
            try:
                qg = qale_norms(float(spec.start_age), sex_weights(spec.sex).get("female", 0.0), rate, norm)
            except ValueError as exc:
                where = ("severity", "utility_norm") if own else ("setting",)
                why = str(exc) if own else f"the {preset['name']} default norm: {exc}"
                raise loaded.config_loc.error(where, why) from None
        else:
            if not 0 < norm <= 1:
                raise loaded.config_loc.error(("severity", "utility_norm"), f"a constant utility norm must lie in "
                                              f"(0, 1], got {norm}")
            qg = qale(life_table(preset["life_table"]), float(spec.start_age), sex_weights(spec.sex), norm, rate)
        sev = severity(qg, comparator_qale(res, comp, rate))
        sev["comparator"] = comp
    try:
        thr = threshold(rule, sev, bool(sv and sv.anticancer), sv.grade if sv else None,
                        bool(sv and sv.assumed_grades))
    except ValueError as exc:
        cl = loaded.config_loc
        raise (cl.error(("severity", "grade"), str(exc)) if cl else CesError(str(exc))) from None
    verdicts = []
    appraised = [(k.replace("_", " "), t) for k, t in res.perspectives.items() if k in APPRAISED]
    for name, table in [("healthcare payer", res.icers)] + appraised:
        for _, r in table.iterrows():
            if r["status"] != "ND" or r["ref"] is None or r["icer"] != r["icer"]:
                continue
            v = {"perspective": name, "strategy": r["strategy"], "vs": r["ref"], "icer": float(r["icer"]),
                 "threshold": float(thr["threshold"]), "below_threshold": bool(r["icer"] <= thr["threshold"])}
            if rule["rule"] == "c2h_bands":
                v["c2h_band"] = c2h_band(float(r["icer"]), thr["boundaries"])
            verdicts.append(v)
    c2h = c2h_adjustment(res, rule, bool(sv and sv.anticancer)) if loaded.config.c2h is not None else None
    unverified = [v["key"] for v in preset.get("values", []) if v.get("verification") == "U"]
    if rule.get("verification") == "U":
        unverified.append("threshold")
    if ap and ap.scenario and preset["scenarios"][ap.scenario].get("verification") == "U":
        unverified.append(f"scenario {ap.scenario}")
    out = {"setting": preset["name"], "base_perspective": preset.get("base_perspective"), "rule": rule["rule"],
           "threshold": thr, "severity": sev, "verdicts": pd.DataFrame(verdicts), "unverified": unverified,
           "source": rule.get("source"), "reference_data": preset.get("reference_data", [])}
    extra = {"threshold_option": rule.get("option"), "in_force_from": rule.get("in_force_from"),
             "in_force_until": rule.get("in_force_until"), "scenario": ap.scenario if ap else None,
             "scenario_source": preset["scenarios"][ap.scenario]["source"] if ap and ap.scenario else None}
    out.update({k: v for k, v in extra.items() if v is not None})
    if c2h is not None:
        out["c2h"] = c2h
    if loaded.config.cost_sharing is not None:
        out["cost_sharing"] = japan_cost_sharing(res, preset)
    return out


def japan_cost_sharing(res, preset: dict) -> dict:
    """Patient OOP under the high-cost medical expense benefit, and the insurer's cost net of it, per strategy."""
    loaded, model = res.loaded, res.model
    spec = loaded.config.cost_sharing
    cl = loaded.config_loc

    def err(msg, key=None):
        return cl.error(("cost_sharing",) + ((key,) if key else ()), msg) if cl else CesError(msg)
    hcb = preset.get("high_cost_medical_expense")
    if hcb is None:
        raise err(f"setting `{preset['name']}` has no high-cost medical expense rule (setting japan)")
    if spec.rules not in hcb["rules"]:
        raise err(f"unknown rules `{spec.rules}` (available: {', '.join(hcb['rules'])})", "rules")
    if abs(model.cycle_years - 1 / 12) > 1e-9:
        raise err("the monthly cost-sharing limits need a model with a 1-month cycle")
    rules = hcb["rules"][spec.rules]
    br = rules["brackets"][spec.bracket]
    md = loaded.model
    n = model.n_cycles
    disc = cv.discount_factors(float(md.discount.costs), cv.discount_times(md.correction, md.discount.timing, n,
                                                                        model.cycle_years), md.discount.method)
    dead = [i for i, s in enumerate(model.states) if md.states[s].dead]
    idx = [model.streams.index(c) for c in model.payer_streams]
    rows = []
    for s in model.strategies:
        r = res.base.results[s]
        m = r.periods[0][idx].sum(axis=0).copy()
        m[1 if not cv.is_point_method(md.correction) else 0] += r.initial[0][idx].sum()  # one-offs: first month
        alive = 1.0 - r.trace[0][:, dead].sum(axis=1) if dead else np.ones(n + 1)
        alive = np.concatenate([[1.0], alive[:-1]]) if not cv.is_point_method(md.correction) else alive
        cs = cost_sharing(m, alive, disc, br, float(hcb["coinsurance"]), br.get("annual"))
        no_annual = cost_sharing(m, alive, disc, br, float(hcb["coinsurance"]), None)
        rows.append({"strategy": s, "total": cs["total"], "patient": cs["patient"], "insurer": cs["insurer"],
                     "patient_without_annual_max": no_annual["patient"],
                     "patient_without_cap": float(hcb["coinsurance"]) * cs["total"]})
    return {"bracket": spec.bracket, "rules": spec.rules, "in_force": rules["in_force"], "source": rules["source"],
            "monthly_limit": br, "table": pd.DataFrame(rows)}


def c2h_adjustment(res, rule: dict, anticancer: bool) -> dict:
    """Japan C2H: the adjusted price from the model's payer ICER of ``c2h.strategy`` (ces.economics.c2h)."""
    loaded = res.loaded
    spec = loaded.config.c2h
    cl = loaded.config_loc

    def err(msg, key=None):
        return cl.error(("c2h",) + ((key,) if key else ()), msg) if cl else CesError(msg)
    if rule["rule"] != "c2h_bands":
        raise err(f"`c2h:` needs setting japan (this setting's rule is {rule['rule']})")
    if spec.strategy not in res.model.strategies:
        raise err(f"unknown strategy `{spec.strategy}` (strategies: {', '.join(res.model.strategies)})", "strategy")
    if spec.premium + spec.operating_profit > spec.price:
        raise err("premium + operating_profit exceed the price", "premium")
    row = res.icers.set_index("strategy").loc[spec.strategy]
    if row["ref"] is None or row["icer"] != row["icer"]:
        raise err(f"`{spec.strategy}` has no ICER on the frontier (status {row['status']})", "strategy")
    considered = anticancer if spec.considered is None else spec.considered
    pops = spec.populations or []
    if pops and abs(sum(p.share for p in pops) - 1.0) > 1e-9:
        raise err(f"population shares sum to {sum(p.share for p in pops):g}, must sum to 1", "populations")
    per = []
    for p in pops or [None]:
        icer = float(row["icer"]) if p is None or p.icer is None else float(p.icer)
        model_icer = p is None or p.icer is None
        r = adjusted_price(spec.price, spec.premium, icer, rule, considered, spec.premium_rate, spec.operating_profit,
                           float(row["inc_cost"]) if model_icer else None,
                           float(row["inc_effect"]) if model_icer else None)
        per.append({"share": 1.0 if p is None else p.share, **r})
    price = weighted_price([(x["share"], x["adjusted_price"]) for x in per])
    return {"strategy": spec.strategy, "vs": row["ref"], "price": spec.price, "premium": spec.premium,
            "operating_profit": spec.operating_profit, "considered": considered, "adjusted_price": price,
            "cut": 1.0 - price / spec.price, "populations": pd.DataFrame(per).drop(columns=["boundaries"]),
            "bands": pd.DataFrame(band_table(spec.price, spec.premium, rule, considered, spec.premium_rate,
                                             spec.operating_profit)), "source": rule.get("source")}


def comparator_qale(res, strategy: str, rate: float) -> float:
    """The comparator's discounted QALYs at the shortfall's rate: the base-case QALYs when the rate is the
    model's, else its undiscounted per-period QALYs re-discounted at ``rate`` (same timing convention)."""
    spec = res.loaded.model
    if rate == float(spec.discount.effects):
        return float(res.totals.set_index("strategy").loc[strategy, "qaly"])
    m = res.model
    tau = cv.discount_times(spec.correction, spec.discount.timing, m.n_cycles, m.cycle_years)
    per = res.base.results[strategy].periods[0][m.streams.index("qaly")]
    return float(np.sum(per * cv.discount_factors(rate, tau, spec.discount.method)))
