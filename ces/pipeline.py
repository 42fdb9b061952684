"""The pipeline: load → build → run → analyse.  Returns plain tables; prints nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ces.analysis.basecase import icer_table, inventory_table, nmb_table, totals_table
from ces.analysis.psa_tables import convergence_table, probabilistic_icers, summary_table, wtp_table
from ces.engine.deterministic import BaseCase, run_base_case
from ces.engine.model import CohortModel
from ces.engine.psa import PsaResult, run_psa
from ces.errors import CesError
from ces.modelfile import limits, sizes
from ces.modelfile.loader import Loaded, load


@dataclass
class RunResult:
    loaded: Loaded
    model: CohortModel
    base: BaseCase
    totals: pd.DataFrame
    icers: pd.DataFrame
    nmb: pd.DataFrame
    wtps: list = field(default_factory=list)
    psa: PsaResult | None = None
    psa_tables: dict = field(default_factory=dict)
    budget: dict | None = None
    payment: dict | None = None
    perspectives: dict = field(default_factory=dict)  # ICER table of every non-payer perspective (payer is `icers`)
    perspective_list: list = field(default_factory=list)  # Perspective objects, base-case perspective first
    base_perspective: str = "payer"
    psa_perspectives: dict = field(default_factory=dict)  # non-payer perspective key -> PSA tables (payer: psa_tables)
    spillover_icers: pd.DataFrame | None = None  # base-case perspective, QALYs with caregiver spillover (if on)
    appraisal: dict | None = None
    wtp_report: list = field(default_factory=list)  # headline WTPs of the console summary (on the `wtps` grid)
    price: pd.DataFrame | None = None  # threshold price per perspective and WTP (config `price:`)
    inventory: pd.DataFrame | None = None
    warnings: list = field(default_factory=list)  # sanity warnings (ces.analysis.sanity)
    payers: dict | None = None  # cost shares per payer: {"cea": table, "bia": table or None}
    bia_inputs: dict | None = None  # patients, shares, categories, price adjustment (for the per-draw BIA)
    payment_draws: np.ndarray | None = None  # per-draw CEA payment adjustment (PSA)
    bia_draws: np.ndarray | None = None  # per-draw net budget impact (draws × years)

    @property
    def strategy_names(self) -> list:
        return list(self.model.strategies)

    @property
    def model_info(self) -> dict:
        spec = self.loaded.model
        return {
            "title": spec.title,
            "file": self.loaded.model_loc.file,
            "config": self.loaded.config_loc.file if self.loaded.config_loc else None,
            "kind": spec.kind,
            "cycle_years": self.model.cycle_years,
            "n_cycles": self.model.n_cycles,
            "states": self.model.states,
            "correction": spec.correction,
            "discount": spec.discount.model_dump(),
            "currency": spec.currency,
            "effect": spec.effect,
            "cost_categories": self.model.cost_streams,
        }


def wtp_values(spec_wtp, loc=None) -> list:
    """The WTP values of a config's `wtp:` (a number, a list or {from, to, by}); the grid size is
    checked against ``max_wtp_points`` before the list is built."""
    if spec_wtp is None:
        return []
    if isinstance(spec_wtp, (int, float)):
        out = [float(spec_wtp)]
    elif isinstance(spec_wtp, list):
        out = [float(w) for w in spec_wtp]
    else:
        span = (spec_wtp.to - spec_wtp.from_) / spec_wtp.by
        if not np.isfinite(span):
            out = [float(spec_wtp.to)]  # refused as not finite below
        else:
            n = int(np.floor(span + 1e-9)) + 1
            file, line = (loc.file, loc.line(("wtp",))) if loc is not None else (None, None)
            limits.check("max_wtp_points", n, "the number of WTP points", file=file, path="wtp", line=line)
            out = [float(spec_wtp.from_ + i * spec_wtp.by) for i in range(max(n, 0))]
    sizes.check_wtp_values(out, loc)
    return out


def build(path: str | Path, overrides: dict | None = None) -> tuple[Loaded, CohortModel]:
    loaded = load(path, overrides)
    return loaded, CohortModel.from_loaded(loaded)


@dataclass
class PsaOptions:
    """PSA settings after merging the config's `psa:` block with command-line flags."""

    draws: int
    seed: int
    chunk: int
    precision: float | None = None
    population: float | None = None
    population_years: int | None = None
    population_discount: float = 0.0


def psa_options(loaded: Loaded, draws: int | None = None, seed: int | None = None,
                chunk: int | None = None) -> PsaOptions | None:
    spec = loaded.config.psa
    if spec is None and draws is None:
        return None
    from ces.modelfile.schema import PsaSpec

    spec = spec or PsaSpec()
    if seed is not None and seed < 0:
        raise CesError(f"--seed must be a whole number ≥ 0, got {seed}")
    sizes.check_draws(loaded, draws if draws is not None else spec.draws, draws is not None)
    return PsaOptions(draws if draws is not None else spec.draws, seed if seed is not None else spec.seed,
                      chunk if chunk is not None else spec.chunk, spec.precision, spec.population,
                      spec.population_years, float(spec.population_discount))


def report_wtps(res: "RunResult", from_config: bool) -> list:
    """Headline WTPs: the config's `wtp_report:` (each on the grid), else the setting's threshold(s) on the
    grid, else the first, middle and last grid values.  Under a --wtp override, off-grid values are dropped."""
    grid = res.wtps
    asked = res.loaded.config.wtp_report
    if asked is not None:
        off = [w for w in asked if float(w) not in grid]
        if off and from_config:
            raise res.loaded.config_loc.error(("wtp_report",), f"{off[0]:g} is not on the `wtp:` grid; "
                                              "headline WTPs must be among the `wtp:` values")
        chosen = [float(w) for w in asked if float(w) in grid]
        if chosen:
            return chosen
    if res.appraisal is not None:
        t = res.appraisal["threshold"]
        chosen = [float(t[k]) for k in ("lower", "threshold") if k in t and float(t[k]) in grid]
        if chosen:
            return chosen
    if len(grid) <= 3:
        return list(grid)
    return [grid[0], grid[len(grid) // 2], grid[-1]]


def headline_prices(res: "RunResult", path, overrides: dict | None) -> pd.DataFrame:
    """Threshold price (:mod:`ces.economics.price`) of the config's `price:` parameter under every perspective,
    at the setting's threshold(s) (lower and upper end of a range), else at the headline WTPs."""
    from ces.economics.price import at_wtp, price_line

    spec = res.loaded.config.price
    if res.appraisal is not None:
        t = res.appraisal["threshold"]
        wtps = [float(t[k]) for k in ("lower", "threshold") if k in t]
    else:
        wtps = res.wtp_report
    persps = [p for p in res.perspective_list if p.cost_column in res.totals]
    cl = res.loaded.config_loc  # not None: `price:` is a config key
    try:
        line = price_line(res, path, spec.parameter, [p.cost_column for p in persps], spec.strategy,
                          spec.comparator, overrides, error=lambda key, msg: cl.error(("price", key), msg))
    except CesError as exc:
        raise (exc if exc.path else cl.error(("price",), exc.message)) from None
    rows = [{"perspective": p.key, "wtp": w, **at_wtp(line, p.cost_column, w)} for p in persps for w in wtps]
    return pd.DataFrame(rows)


def appraisal(res: "RunResult") -> dict:
    """Severity, the setting's threshold and a verdict for every frontier ICER under each perspective."""
    from ces.economics.thresholds import threshold_rule
    from ces.modelfile.presets import load_setting
    from ces.economics.thresholds import c2h_band, qale, severity, shortfall_rate, threshold
    from ces.errors import CesError
    from ces.survival.lifetable import life_table, sex_weights

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
        norm = sv.utility_norm if sv else 0.85
        if isinstance(norm, str):  # age- and sex-specific norms (England, NICE shortfall calculator)
            from ces.economics.thresholds import qale_norms

            try:
                qg = qale_norms(float(spec.start_age), sex_weights(spec.sex).get("female", 0.0), rate, norm)
            except ValueError as exc:
                raise loaded.config_loc.error(("severity", "utility_norm"), str(exc)) from None
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
    from ces.economics.perspectives import APPRAISED

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


def japan_cost_sharing(res: "RunResult", preset: dict) -> dict:
    """Patient OOP under the high-cost medical expense benefit, and the insurer's cost net of it, per strategy."""
    from ces.economics.japan_hcb import cost_sharing
    from ces.engine import conventions as cv
    from ces.errors import CesError

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


def c2h_adjustment(res: "RunResult", rule: dict, anticancer: bool) -> dict:
    """Japan C2H: the adjusted price from the model's payer ICER of ``c2h.strategy`` (ces.economics.c2h)."""
    from ces.economics.c2h import adjusted_price, band_table, weighted_price
    from ces.errors import CesError

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


def comparator_qale(res: "RunResult", strategy: str, rate: float) -> float:
    """The comparator's discounted QALYs at the shortfall's rate: the base-case QALYs when the rate is the
    model's, else its undiscounted per-period QALYs re-discounted at ``rate`` (same timing convention)."""
    from ces.engine import conventions as cv

    spec = res.loaded.model
    if rate == float(spec.discount.effects):
        return float(res.totals.set_index("strategy").loc[strategy, "qaly"])
    m = res.model
    tau = cv.discount_times(spec.correction, spec.discount.timing, m.n_cycles, m.cycle_years)
    per = res.base.results[strategy].periods[0][m.streams.index("qaly")]
    return float(np.sum(per * cv.discount_factors(rate, tau, spec.discount.method)))


def payment_model(loaded: Loaded, model: CohortModel, base: BaseCase) -> dict:
    """Schedules of the configured payment model (and upfront / instalments for comparison) and the CEA adjustment."""
    from ces.analysis.payment import cash_flow_table, discounted_total, occupancy_reader, schedule

    spec = loaded.config.payment

    def err(msg, key=None):
        path = ("payment", key) if key else ("payment",)
        return loaded.config_loc.error(path, msg) if loaded.config_loc else CesError(msg)
    from ces.errors import CesError

    cl = loaded.config_loc
    for key, years in (("n", spec.n), ("rebate_year", spec.rebate_year),
                       ("stages", max([st.year for st in spec.stages], default=0))):
        limits.check("max_payment_years", years, f"payment.{key}", file=cl.file if cl else None,
                     path=f"payment.{key}", line=cl.line(("payment", key)) if cl else None)
    if spec.strategy not in model.strategies:
        raise err(f"unknown strategy `{spec.strategy}` (strategies: {', '.join(model.strategies)})", "strategy")
    if spec.category not in model.cost_streams:
        raise err(f"unknown cost category `{spec.category}` (model has: {', '.join(model.cost_streams)})", "category")
    r = base.results[spec.strategy]
    c = model.streams.index(spec.category)
    if r.initial[0, c] + 1e-9 < spec.price:
        raise err(f"price {spec.price:g} exceeds the strategy's one-off `{spec.category}` cost at time 0 "
                  f"({r.initial[0, c]:g})", "price")
    for st in spec.stages:
        for name in st.condition or []:
            if name != "alive" and name not in model.states:
                raise err(f"unknown state `{name}` in a stage condition (states: {', '.join(model.states)}, or alive)",
                          "stages")
    for name in spec.response_states:
        if name not in model.states:
            raise err(f"unknown state `{name}` in response_states (states: {', '.join(model.states)})",
                      "response_states")
    dead = [i for i, s in enumerate(model.states) if loaded.model.states[s].dead]
    alive_at, occ_at = occupancy_reader(r.trace[0], model.states, dead, model.cycle_years)
    sched = schedule(spec, spec.price, alive_at, occ_at)
    rate = float(loaded.model.discount.costs)
    years = max([y for y, _ in sched] + [spec.n - 1, 4]) + 1
    compare = {"upfront": [(0, spec.price)], spec.model: sched}
    return {"strategy": spec.strategy, "category": spec.category, "price": spec.price, "model": spec.model,
            "schedule": sched, "cea_adjustment": discounted_total(sched, rate) - spec.price,
            "cea_adjustment_undiscounted": float(sum(a for _, a in sched)) - spec.price,
            "cash_flow": cash_flow_table(compare, years)}


def _bia_inputs(b, names: list) -> tuple:
    """Patients per year and current/new market shares from a budget_impact spec."""
    from ces.analysis.budget import funnel, shares_by_year, uptake_shares
    from ces.errors import CesError

    T = b.years
    p = b.population
    if p.patients is not None:
        patients = np.asarray(p.patients, dtype=float)
        if patients.shape != (T,) or np.any(patients < 0):
            raise CesError(f"budget_impact.population.patients: give {T} non-negative numbers (one per year)")
    else:
        if p.size is None or p.rate is None:
            raise CesError("budget_impact.population: give `patients` per year, or `size` and `rate` (funnel)")
        patients = funnel(p.size, p.rate, p.diagnosed, p.treated, p.eligible, p.growth, T)
    current = shares_by_year(b.current, names, T, "current")
    if b.new is not None:
        new = shares_by_year(b.new, names, T, "new")
    elif b.uptake is not None:
        new = uptake_shares(current, names, b.uptake.strategy, b.uptake.target, b.uptake.years_to_target, T)
    else:
        raise CesError("budget_impact: give the new world as `new:` shares or an `uptake:` ramp")
    return patients, current, new


def _bia_variant(b, population: dict | None = None, uptake: dict | None = None):
    """A copy of the budget spec with population / uptake fields replaced (validated again)."""
    from ces.modelfile.schema import BudgetImpactSpec

    data = b.model_dump(by_alias=True)
    if population:
        data["population"] = {**data["population"], **population}
    if uptake:
        if data.get("uptake") is None:
            raise ValueError("uptake overrides need an `uptake:` ramp")
        data["uptake"] = {**data["uptake"], **uptake}
    return BudgetImpactSpec.model_validate(data)


def budget_impact(res: "RunResult") -> dict:
    """Budget impact tables from the config's `budget_impact:` block and the model's own cost streams."""
    from ces.analysis.budget import annual_streams, budget_tables
    from ces.analysis.pricing import ceiling_flag
    from ces.modelfile.presets import load_setting
    from ces.engine import conventions as cv
    from ces.errors import CesError

    loaded = res.loaded
    b = loaded.config.budget_impact
    model = res.model
    names = list(model.strategies)
    T = b.years
    cats = b.cost_categories or list(model.payer_streams)

    def located(exc: Exception) -> CesError:
        msg = exc.message if isinstance(exc, CesError) else str(exc)
        cl = loaded.config_loc
        return CesError(msg, file=cl.file if cl else None, path="budget_impact",
                        line=cl.line(("budget_impact",)) if cl else None)
    for c in cats:
        if c not in model.cost_streams:
            raise located(CesError(f"unknown cost category `{c}` (model has: {', '.join(model.cost_streams)})"))
    try:
        patients, current, new = _bia_inputs(b, names)
    except CesError as exc:
        raise located(exc) from None
    _, times = cv.period_cycles_and_times(loaded.model.correction, model.n_cycles, model.cycle_years)
    period_years = np.floor(times + 1e-9)
    idx = [model.streams.index(c) for c in cats]
    streams = {s: annual_streams(res.base.results[s].periods[0][idx], res.base.results[s].initial[0][idx],
                                 period_years, T) for s in names}
    if res.payment is not None and res.payment["category"] in cats:
        k = cats.index(res.payment["category"])
        st = streams[res.payment["strategy"]]
        st[k, 0] -= res.payment["price"]
        for y, a in res.payment["schedule"]:
            if y < T:
                st[k, y] += a
    flags = []
    price_adjust = None
    repricing_table = None
    pr = b.pricing
    if pr is not None:
        if pr.strategy not in names or pr.category not in cats:
            raise located(CesError(f"pricing: unknown strategy `{pr.strategy}` or category `{pr.category}`"))
        rules = (load_setting(loaded.config.setting).get("pricing_rules", {}) if loaded.config.setting else {})
        j, k = names.index(pr.strategy), cats.index(pr.category)
        price = float(pr.price) if pr.price is not None else float(streams[pr.strategy][k, 0])
        if "market_expansion_repricing" in rules:
            from ces.economics.repricing import repricing

            if pr.forecast_sales is None or len(pr.forecast_sales) != T:
                raise located(CesError(f"pricing.forecast_sales: give {T} forecast values (one per year)"))
            if pr.pricing_method is None:
                raise located(CesError("pricing.pricing_method: give cost_accounting or comparator (the Japanese "
                                       "repricing tiers and floors depend on it)"))
            mer = rules["market_expansion_repricing"]
            sales = patients * new[j] * price
            rp = repricing(price, sales, np.asarray(pr.forecast_sales, dtype=float), mer["tiers"], pr.pricing_method,
                           float(pr.alpha))
            t = rp["year"]
            in_force = np.full(T, price)
            if t is not None:
                in_force[t + 1:] = rp["price"]
                price_adjust = (pr.strategy, pr.category, price - in_force)
                flags.append({"rule": "market expansion repricing (Japan)", "year": t + 1,
                              "detail": f"{rp['tier']['name']}: sales {sales[t]:,.0f} = {rp['ratio']:.2f}x forecast "
                                        f"{pr.forecast_sales[t]:,.0f}; repriced {price:,.0f} -> {rp['price']:,.0f} "
                                        f"({-rp['cut']:.1%}) from year {t + 2}",
                              "source": mer["source"]})
            # sales in the new world at the price in force (after a repricing the cohort pays the new price)
            repricing_table = pd.DataFrame({"year": np.arange(1, T + 1), "forecast_sales": np.asarray(
                pr.forecast_sales, dtype=float), "sales_at_listed_price": sales, "price_in_force": in_force,
                "sales_at_price_in_force": patients * new[j] * in_force})
        if "price_ceilings" in rules:
            flag = ceiling_flag(price, rules["price_ceilings"]["ceilings"])
            if flag:
                flags.append({"rule": "price ceiling (China)", "year": 1, "detail": f"price {price:,.0f}: {flag}",
                              "source": rules["price_ceilings"]["source"]})
    res.bia_inputs = {"patients": patients, "current": current, "new": new, "categories": cats, "idx": idx,
                      "period_years": period_years, "price_adjust": price_adjust}
    tables = budget_tables(patients, names, streams, current, new, cats, float(b.discount), price_adjust)
    tables["per_patient"] = pd.DataFrame([{"strategy": s, "year_since_start": a + 1,
                                           **{c: streams[s][k, a] for k, c in enumerate(cats)}}
                                          for s in names for a in range(T)])
    tables["flags"] = pd.DataFrame(flags, columns=["rule", "year", "detail", "source"])
    if repricing_table is not None:
        tables["repricing"] = repricing_table

    def cumulative(spec) -> float:
        pts, cur, nw = _bia_inputs(spec, names)
        return float(budget_tables(pts, names, streams, cur, nw, cats, float(spec.discount),
                                   price_adjust)["summary"]["cumulative_impact"].iloc[-1])
    rows = [{"scenario": "base", "cumulative_impact": float(tables["summary"]["cumulative_impact"].iloc[-1]),
             "patients_total": float(patients.sum())}]
    try:
        for name, sc in b.scenarios.items():
            spec = _bia_variant(b, sc.population, sc.uptake)
            rows.append({"scenario": sc.label or name, "cumulative_impact": cumulative(spec),
                         "patients_total": float(_bia_inputs(spec, names)[0].sum())})
        dsa_rows = []
        for key, (lo, hi) in ((k, v) for k, v in b.dsa.items()):
            group, _, field_ = key.partition(".")
            if group not in ("population", "uptake") or not field_:
                raise CesError(f"budget_impact.dsa: `{key}` must be population.FIELD or uptake.FIELD")
            vals = []
            for v in (lo, hi):
                spec = _bia_variant(b, {field_: v} if group == "population" else None,
                                    {field_: v} if group == "uptake" else None)
                vals.append(cumulative(spec))
            dsa_rows.append({"input": key, "low": lo, "high": hi, "cumulative_low": vals[0],
                             "cumulative_high": vals[1], "range": abs(vals[1] - vals[0])})
    except (CesError, ValueError) as exc:
        raise located(exc) from None
    tables["scenarios"] = pd.DataFrame(rows)
    if b.dsa:
        tables["dsa"] = pd.DataFrame(dsa_rows).sort_values("range", ascending=False, kind="stable").reset_index(drop=True)
    return tables


def payer_analysis(res: "RunResult") -> dict:
    """The CEA and, with a budget impact, the BIA per payer (ces.economics.payers)."""
    from ces.economics.payers import payer_budget, payer_cea, share_matrix
    from ces.errors import CesError

    loaded = res.loaded
    spec = loaded.config.payers
    cl = loaded.config_loc
    names = list(res.model.strategies)
    comp = spec.comparator or names[0]
    for key, x in (("strategy", spec.strategy), ("comparator", comp)):
        if x not in names:
            raise (cl.error(("payers", key), f"unknown strategy `{x}` (strategies: {', '.join(names)})") if cl
                   else CesError(f"unknown strategy `{x}`"))
    cats = list(res.model.payer_streams)  # healthcare cost categories (indirect costs have no payer)
    try:
        payers, W = share_matrix(spec.shares, cats)
    except CesError as exc:
        raise (cl.error(("payers", "shares"), exc.message) if cl else exc) from None
    out = {"shares": pd.DataFrame(W, index=payers, columns=cats).reset_index(names="payer"),
           "cea": payer_cea(res.totals, cats, loaded.model.effect, payers, W, spec.strategy, comp), "bia": None}
    if res.budget is not None:
        bcats = [c for c in cats if f"cost.{c}" in res.budget["detail"].columns]
        out["bia"] = payer_budget(res.budget["detail"], bcats, payers, W[:, [cats.index(c) for c in bcats]])
    return out


def psa_draw_pass(res: "RunResult", opts: PsaOptions) -> None:
    """Per-draw payment adjustments and the probabilistic budget impact, from each draw's own trace and costs.

    Payment: the CEA adjustment Σ_j a_j·d(j) − P of each draw replaces the price in that draw's totals
    (a_j from the draw's trace: survival, response states).  BIA (``budget_impact.psa``): each draw's
    yearly per-patient costs, with the payment stream of that draw, give budgets of both worlds; the
    table holds the mean and 95 % interval of the net impact per year (ces.analysis.budget)."""
    from ces.analysis.budget import budget_draws, interval_table
    from ces.analysis.draws import annual_streams_draws, for_each_chunk
    from ces.analysis.payment import discounted_total, occupancy_reader, schedule

    loaded, model, pay = res.loaded, res.model, res.payment
    b = loaded.config.budget_impact
    want_bia = b is not None and b.psa and res.bia_inputs is not None
    names = list(model.strategies)
    D = res.psa.n_draws
    dead = [i for i, s in enumerate(model.states) if loaded.model.states[s].dead]
    adj = np.zeros(D)
    rate = float(loaded.model.discount.costs)
    bi = res.bia_inputs
    if want_bia:
        T = b.years
        worlds = {"current": np.zeros((D, T)), "new": np.zeros((D, T))}

    def reduce(start, stop, rs):
        sched = None
        if pay is not None:
            spec = loaded.config.payment
            alive_at, occ_at = occupancy_reader(rs[pay["strategy"]].trace, model.states, dead, model.cycle_years)
            sched = schedule(spec, spec.price, alive_at, occ_at)
            adj[start:stop] = discounted_total(sched, rate) - spec.price
        if want_bia:
            streams = {}
            for s in names:
                st = annual_streams_draws(rs[s].periods[:, bi["idx"]], rs[s].initial[:, bi["idx"]],
                                          bi["period_years"], T)
                if pay is not None and s == pay["strategy"] and pay["category"] in bi["categories"]:
                    k = bi["categories"].index(pay["category"])
                    st[:, k, 0] -= pay["price"]
                    for y, a in sched:
                        if y < T:
                            st[:, k, y] += a
                streams[s] = st.sum(axis=1)
            pa = bi["price_adjust"]
            cur, new = budget_draws(bi["patients"], names, streams, bi["current"], bi["new"], float(b.discount),
                                    (pa[0], pa[2]) if pa is not None else None)
            worlds["current"][start:stop], worlds["new"][start:stop] = cur, new
    for_each_chunk(model, D, opts.seed, opts.chunk, reduce)
    if pay is not None:
        c = model.streams.index(pay["category"])
        res.psa.totals[pay["strategy"]][:, c] += adj
        res.payment["psa_adjustment"] = {"mean": float(adj.mean()), "sd": float(adj.std(ddof=1)) if D > 1 else 0.0}
        res.payment_draws = adj
    if want_bia:
        res.bia_draws = worlds["new"] - worlds["current"]
        res.budget["psa"] = interval_table(res.bia_draws)


def analyse_psa(psa: PsaResult, effect: str, wtps: list, opts: PsaOptions, perspective=None) -> dict:
    """PSA summary, probabilistic ICERs, CEAC/CEAF/EVPI and convergence for one perspective (None: payer)."""
    tables = {"summary": summary_table(psa, perspective), "icer": probabilistic_icers(psa, effect, perspective)}
    if wtps:
        tables["wtp"] = wtp_table(psa, effect, wtps, opts.population, opts.population_years, opts.population_discount,
                                  perspective)
        tables["convergence"] = convergence_table(psa, effect, wtps, opts.precision, perspective)
    return tables


def model_perspectives(loaded: Loaded, model: CohortModel) -> tuple:
    """(perspectives with the base-case one first, base-case key) for a loaded model and config."""
    from ces.economics.perspectives import base_perspective, ordered, perspectives
    from ces.modelfile.presets import load_setting

    persps = perspectives(model.cost_streams, model.payer_streams, loaded.model.cost_bearers)
    default = load_setting(loaded.config.setting).get("base_perspective") if loaded.config.setting else None
    try:
        base = base_perspective(persps, default, loaded.config.perspective)
    except ValueError as exc:
        raise loaded.config_loc.error(("perspective",), str(exc)) if loaded.config_loc else CesError(str(exc)) from None
    return ordered(persps, base), base


def run(path: str | Path, wtp: list | None = None, psa: bool = True, draws: int | None = None,
        seed: int | None = None, chunk: int | None = None, on_chunk=None, overrides: dict | None = None,
        checks: bool = True, psa_runner=None) -> RunResult:
    """Base case, and PSA when the config has `psa:` (or ``draws`` is given) and ``psa`` is True.

    ``overrides``: {"parameters": {...}, "settings": {...}} applied on top of the config.
    ``checks``: compute the sanity warnings (off for the repeated runs of a DSA, sweep or price search).
    ``psa_runner``: called as :func:`run_psa` (default); :class:`ces.remote.ChunkedPsa` runs the
    chunks on a cluster with the same result.
    """
    loaded, model = build(path, overrides)
    wtps = wtp if wtp is not None else wtp_values(loaded.config.wtp, loaded.config_loc)
    opts = psa_options(loaded, draws, seed, chunk) if psa else None
    if opts is not None:
        sizes.check_cells(loaded, model.n_cycles, len(model.expanded), min(opts.chunk, opts.draws),
                          "--chunk or psa.chunk")
    base = run_base_case(model)
    names = list(model.strategies)
    tot = np.vstack([base.results[s].totals[0] for s in names])
    totu = np.vstack([base.results[s].totals_undisc[0] for s in names])
    payment = None
    if loaded.config.payment is not None:
        payment = payment_model(loaded, model, base)
        i = names.index(payment["strategy"])
        c = model.streams.index(payment["category"])
        tot[i, c] += payment["cea_adjustment"]
        totu[i, c] += payment["cea_adjustment_undiscounted"]
    totals = totals_table(names, model.streams, model.cost_streams, tot, totu, model.payer_streams,
                          loaded.model.cost_bearers)
    effect = loaded.model.effect
    icers = icer_table(totals, effect)
    persps, base_key = model_perspectives(loaded, model)
    perspectives = {p.key: icer_table(totals, effect, p.cost_column) for p in persps if p.key != "payer"}
    nmb = nmb_table(totals, effect, wtps)
    res = RunResult(loaded, model, base, totals, icers, nmb, wtps)
    res.payment = payment
    res.perspectives = perspectives
    res.perspective_list, res.base_perspective = persps, base_key
    cg = loaded.model.indirect.caregiver if loaded.model.indirect is not None else None
    if cg is not None and cg.include_qaly_change and "qaly_with_caregiver" in totals and effect == "qaly":
        res.spillover_icers = icer_table(totals, "qaly_with_caregiver", persps[0].cost_column)
    if perspectives or loaded.model.cost_bearers:
        res.inventory = inventory_table(totals, model.cost_streams, loaded.model.cost_bearers)
    if loaded.config.setting is not None:
        res.appraisal = appraisal(res)
    res.wtp_report = report_wtps(res, wtp is None)
    if checks and loaded.config.price is not None:
        res.price = headline_prices(res, path, overrides)
    if loaded.config.budget_impact is not None:
        res.budget = budget_impact(res)
    if loaded.config.payers is not None:
        res.payers = payer_analysis(res)
    if opts is not None:
        res.psa = (psa_runner or run_psa)(model, opts.draws, opts.seed, opts.chunk, on_chunk)
        sizes.check_psa_totals(loaded, res.psa)
        if payment is not None or (loaded.config.budget_impact is not None and loaded.config.budget_impact.psa):
            psa_draw_pass(res, opts)
        res.psa_tables = analyse_psa(res.psa, effect, wtps, opts)
        res.psa_perspectives = {p.key: analyse_psa(res.psa, effect, wtps, opts, p) for p in persps if p.key != "payer"}
    if checks:
        from ces.analysis.sanity import sanity_warnings

        res.warnings = sanity_warnings(res)
    return res
