"""Budget impact of a run: the config's ``budget_impact:`` block applied to the model's own cost streams.

The formulas are :mod:`ces.analysis.budget` (ISPOR good practice, Sullivan et al., Value Health
2014;17:5-14): each strategy's yearly undiscounted per-patient costs c[s][a] are summed from the
base-case per-cycle costs (one-offs in year 0; a payment model's schedule replaces the price), then

    budget_w(t) = Σ_{y ≤ t} patients(y) · Σ_s share_w[s][y] · c[s][t − y],   impact = new − current.

Patients come from ``population`` (per year, or the funnel size·rate·diagnosed·treated·eligible with
growth), the new world's shares from ``new:`` or an ``uptake:`` ramp.  The setting's pricing rules
(Japan's market-expansion repricing, :mod:`ces.economics.repricing`; China's price ceilings,
:mod:`ces.analysis.pricing`) are flagged and, for a repricing, applied from the year after it.
Scenarios and the one-way DSA of the BIA re-evaluate only these formulas (no model re-run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ces.analysis.budget import annual_streams, budget_tables, funnel, shares_by_year, uptake_shares
from ces.analysis.pricing import ceiling_flag
from ces.engine import conventions as cv
from ces.errors import CesError
from ces.modelfile.presets import load_setting
from ces.modelfile.schema_config import BudgetImpactSpec


def _bia_inputs(b, names: list) -> tuple:
    """Patients per year and current/new market shares from a budget_impact spec."""
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
    data = b.model_dump(by_alias=True)
    if population:
        data["population"] = {**data["population"], **population}
    if uptake:
        if data.get("uptake") is None:
            raise ValueError("uptake overrides need an `uptake:` ramp")
        data["uptake"] = {**data["uptake"], **uptake}
    return BudgetImpactSpec.model_validate(data)


def budget_impact(res) -> dict:
    """Budget impact tables from the config's `budget_impact:` block and the model's own cost streams."""
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
