"""Payment models for a therapy with a large up-front price, applied alike in the CEA and the BIA.

A model turns the price P (a one-off cost at time 0) into payments at whole years j with an
expected per-patient amount a_j:

- ``upfront``: a_0 = P.
- ``instalments``: n equal annual payments at years 0..n−1 (in advance), A = P/n at zero interest,
  else the annuity-due A = P·i / ((1 − (1+i)^−n)·(1+i)), so that Σ_{j<n} A·(1+i)^−j = P: at an
  interest rate equal to the cost discount rate (and no stop at death) the payments are worth
  exactly the price.  (The end-of-period annuity P·i/(1 − (1+i)^−n) belongs to payments at years
  1..n; paid at 0..n−1 it is worth P·(1+i).)  With ``stop_at_death`` payment j is made only by
  patients alive at year j: a_j = A·S(j), S = share alive in the model's trace.
- ``outcome`` (rebate): a_0 = P, and a rebate of ``rebate``·P for non-responders, paid back at year
  ``rebate_year``: expected a = −rebate·P·P(non-response) (Garrison et al., on outcomes-based
  agreements; the rebate is certain given non-response).  P(non-response) = 1 − occupancy of the
  ``response_states`` at ``response_year`` in the model's trace (per PSA draw), or a fixed input.
- ``staged``: payments share_j·P at years j, each conditional on being alive (``alive``) or in the
  given states at year j: a_j = share_j·P·occupancy(j).

CEA: the price at time 0 is replaced by Σ_j a_j·d(j), d = the cost discount factor at j years.
BIA: the per-patient stream gets a_j in year j instead of P in year 0.
"""

from __future__ import annotations

import numpy as np

from ces.errors import CesError
from ces.modelfile import limits


def annuity_due(price: float, rate: float, n: int) -> float:
    """Equal payment at years 0..n−1 whose present value at ``rate`` is ``price``:
    A = P·i / ((1 − (1+i)^−n)·(1+i))."""
    return price * rate / ((1.0 - (1.0 + rate) ** -n) * (1.0 + rate))


def schedule(spec, price: float, alive_at, occupancy_at) -> list:
    """[(year, expected amount per patient treated)] for a payment spec."""
    m = spec.model
    if m == "upfront":
        return [(0, price)]
    if m == "instalments":
        n, i = spec.n, float(spec.interest)
        a = price / n if i == 0 else annuity_due(price, i, n)
        return [(j, a * (alive_at(j) if spec.stop_at_death else 1.0)) for j in range(n)]
    if m == "outcome":
        return [(0, price), (spec.rebate_year, -spec.rebate * price * non_response(spec, occupancy_at))]
    if m == "staged":
        out = []
        for st in spec.stages:
            cond = 1.0 if st.condition is None else (alive_at(st.year) if st.condition == ["alive"]
                                                     else occupancy_at(st.year, st.condition))
            out.append((st.year, st.share * price * cond))
        return out
    raise ValueError(m)


def non_response(spec, occupancy_at):
    """P(non-response): 1 − occupancy of ``response_states`` at ``response_year`` in the model's trace (each
    draw's own trace in the PSA), or the fixed ``non_response`` input when no response states are given."""
    if spec.response_states:
        return 1.0 - occupancy_at(spec.response_year, spec.response_states)
    return spec.non_response


def discounted_total(sched: list, rate: float):
    """Σ_j a_j·(1+r)^−j: a float, or an array of per-draw values when the amounts are arrays."""
    total = sum(a * (1.0 + rate) ** -y for y, a in sched)
    return float(total) if np.ndim(total) == 0 else np.asarray(total, dtype=float)


def cash_flow_table(schedules: dict, years: int):
    """Payer cash flow per patient by year under each payment model (rows: year)."""
    import pandas as pd

    rows = []
    for y in range(years):
        row = {"year": y + 1}
        for name, sched in schedules.items():
            row[name] = float(sum(a for j, a in sched if j == y))
        rows.append(row)
    return pd.DataFrame(rows)


def occupancy_reader(trace: np.ndarray, states: list, dead: list, cycle_years: float):
    """Functions alive_at(year) and occupancy_at(year, [states]) from a trace (n+1, S) (floats) or a
    stack of per-draw traces (D, n+1, S) (arrays of D); ``dead``: indices of the dead states.
    Year j reads the trace point nearest to j years."""

    def point(year):
        return min(int(round(year / cycle_years)), trace.shape[-2] - 1)

    def value(x):
        return float(x) if trace.ndim == 2 else x

    def alive_at(year):
        k = point(year)
        return value(1.0 - trace[..., k, dead].sum(axis=-1)) if dead else 1.0

    def occupancy_at(year, sts):
        k = point(year)
        return value(sum(trace[..., k, states.index(s)] for s in sts))
    return alive_at, occupancy_at


def payment_model(loaded, model, base) -> dict:
    """Schedules of the configured payment model (and upfront / instalments for comparison) and the CEA adjustment.

    ``loaded``: the loaded config and model (:func:`ces.modelfile.loader.load`); ``model`` its built
    :class:`ces.engine.model.CohortModel`; ``base`` the deterministic results (:func:`ces.engine.deterministic.run_base_case`).
    The schedule a_j comes from the paid strategy's base-case trace (:func:`occupancy_reader`, :func:`schedule`);
    CEA adjustment = Σ_j a_j·d(j) − P (:func:`discounted_total`), undiscounted Σ_j a_j − P."""
    spec = loaded.config.payment

    def err(msg, key=None):
        path = ("payment", key) if key else ("payment",)
        return loaded.config_loc.error(path, msg) if loaded.config_loc else CesError(msg)
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
