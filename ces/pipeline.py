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
from ces.spec import limits, sizes
from ces.spec.loader import Loaded, load


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
    perspectives: dict = field(default_factory=dict)  # societal ICER tables (payer is `icers`)
    appraisal: dict | None = None
    inventory: pd.DataFrame | None = None

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
    from ces.spec.schema import PsaSpec

    spec = spec or PsaSpec()
    if seed is not None and seed < 0:
        raise CesError(f"--seed must be a whole number ≥ 0, got {seed}")
    sizes.check_draws(loaded, draws if draws is not None else spec.draws, draws is not None)
    return PsaOptions(draws if draws is not None else spec.draws, seed if seed is not None else spec.seed,
                      chunk if chunk is not None else spec.chunk, spec.precision, spec.population,
                      spec.population_years, float(spec.population_discount))


def appraisal(res: "RunResult") -> dict:
    """Severity, the setting's threshold and a verdict for every frontier ICER under each perspective."""
    from ces.economics.settings import load_setting
    from ces.economics.thresholds import c2h_band, qale, severity, threshold
    from ces.errors import CesError
    from ces.survival.lifetable import life_table, sex_weights

    loaded = res.loaded
    preset = load_setting(loaded.config.setting)
    rule = preset["threshold"]
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
        qg = qale(life_table(preset["life_table"]), float(spec.start_age), sex_weights(spec.sex),
                  sv.utility_norm if sv else 0.85, float(spec.discount.effects))
        sev = severity(qg, float(res.totals.set_index("strategy").loc[comp, "qaly"]))
        sev["comparator"] = comp
    thr = threshold(rule, sev, bool(sv and sv.anticancer), sv.grade if sv else None)
    verdicts = []
    for name, table in [("healthcare payer", res.icers)] + [(k.replace("_", " "), t) for k, t in res.perspectives.items()]:
        for _, r in table.iterrows():
            if r["status"] != "ND" or r["ref"] is None or r["icer"] != r["icer"]:
                continue
            v = {"perspective": name, "strategy": r["strategy"], "vs": r["ref"], "icer": float(r["icer"]),
                 "threshold": float(thr["threshold"]), "below_threshold": bool(r["icer"] <= thr["threshold"])}
            if rule["rule"] == "c2h_bands":
                v["c2h_band"] = c2h_band(float(r["icer"]), thr["boundaries"])
            verdicts.append(v)
    unverified = [v["key"] for v in preset.get("values", []) if v.get("verification") == "U"]
    if rule.get("verification") == "U":
        unverified.append("threshold")
    return {"setting": preset["name"], "base_perspective": preset.get("base_perspective"), "rule": rule["rule"],
            "threshold": thr, "severity": sev, "verdicts": pd.DataFrame(verdicts), "unverified": unverified,
            "source": rule.get("source"), "reference_data": preset.get("reference_data", [])}


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
    from ces.spec.schema import BudgetImpactSpec

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
    from ces.analysis.pricing import ceiling_flag, repricing_year
    from ces.economics.settings import load_setting
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
    pr = b.pricing
    if pr is not None:
        if pr.strategy not in names or pr.category not in cats:
            raise located(CesError(f"pricing: unknown strategy `{pr.strategy}` or category `{pr.category}`"))
        rules = (load_setting(loaded.config.setting).get("pricing_rules", {}) if loaded.config.setting else {})
        j, k = names.index(pr.strategy), cats.index(pr.category)
        price = float(pr.price) if pr.price is not None else float(streams[pr.strategy][k, 0])
        if "market_expansion_repricing" in rules:
            if pr.forecast_sales is None or len(pr.forecast_sales) != T:
                raise located(CesError(f"pricing.forecast_sales: give {T} forecast values (one per year)"))
            sales = patients * new[j] * price
            t, tier = repricing_year(sales, np.asarray(pr.forecast_sales, dtype=float),
                                     rules["market_expansion_repricing"]["tiers"])
            if t is not None:
                reduction = np.zeros(T)
                reduction[t + 1:] = price * pr.price_cut
                price_adjust = (pr.strategy, pr.category, reduction)
                flags.append({"rule": "market expansion repricing (Japan)", "year": t + 1,
                              "detail": f"sales {sales[t]:,.0f} > {tier['ratio']:g}x forecast "
                                        f"{pr.forecast_sales[t]:,.0f} and > {tier['sales']:,.0f}; price cut "
                                        f"{pr.price_cut:.0%} from year {t + 2}",
                              "source": rules["market_expansion_repricing"]["source"]})
        if "price_ceilings" in rules:
            flag = ceiling_flag(price, rules["price_ceilings"]["ceilings"])
            if flag:
                flags.append({"rule": "price ceiling (China)", "year": 1, "detail": f"price {price:,.0f}: {flag}",
                              "source": rules["price_ceilings"]["source"]})
    tables = budget_tables(patients, names, streams, current, new, cats, float(b.discount), price_adjust)
    tables["per_patient"] = pd.DataFrame([{"strategy": s, "year_since_start": a + 1,
                                           **{c: streams[s][k, a] for k, c in enumerate(cats)}}
                                          for s in names for a in range(T)])
    tables["flags"] = pd.DataFrame(flags, columns=["rule", "year", "detail", "source"])

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


def analyse_psa(psa: PsaResult, effect: str, wtps: list, opts: PsaOptions) -> dict:
    tables = {"summary": summary_table(psa), "icer": probabilistic_icers(psa, effect)}
    if wtps:
        tables["wtp"] = wtp_table(psa, effect, wtps, opts.population, opts.population_years, opts.population_discount)
        tables["convergence"] = convergence_table(psa, effect, wtps, opts.precision)
    return tables


def run(path: str | Path, wtp: list | None = None, psa: bool = True, draws: int | None = None,
        seed: int | None = None, chunk: int | None = None, on_chunk=None, overrides: dict | None = None) -> RunResult:
    """Base case, and PSA when the config has `psa:` (or ``draws`` is given) and ``psa`` is True.

    ``overrides``: {"parameters": {...}, "settings": {...}} applied on top of the config.
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
    totals = totals_table(names, model.streams, model.cost_streams, tot, totu, model.payer_streams)
    effect = loaded.model.effect
    icers = icer_table(totals, effect)
    perspectives = {}
    if "cost_societal" in totals:
        perspectives["societal"] = icer_table(totals, effect, "cost_societal")
    if "cost_societal_consumption" in totals:
        perspectives["societal_with_consumption"] = icer_table(totals, effect, "cost_societal_consumption")
    nmb = nmb_table(totals, effect, wtps)
    res = RunResult(loaded, model, base, totals, icers, nmb, wtps)
    res.payment = payment
    res.perspectives = perspectives
    if perspectives or loaded.model.cost_bearers:
        res.inventory = inventory_table(totals, model.cost_streams, loaded.model.cost_bearers)
    if loaded.config.setting is not None:
        res.appraisal = appraisal(res)
    if loaded.config.budget_impact is not None:
        res.budget = budget_impact(res)
    if opts is not None:
        res.psa = run_psa(model, opts.draws, opts.seed, opts.chunk, on_chunk)
        sizes.check_psa_totals(loaded, res.psa)
        if payment is not None:  # documented approximation: the base-case payment adjustment for every draw
            res.psa.totals[payment["strategy"]][:, model.streams.index(payment["category"])] += payment["cea_adjustment"]
        res.psa_tables = analyse_psa(res.psa, effect, wtps, opts)
    return res
