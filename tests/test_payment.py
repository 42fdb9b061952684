"""Payment models, checked by hand, and applied alike in the CEA and the BIA."""

from __future__ import annotations

import pytest

from ces.pipeline import run

MODEL = """\
ces: 1
cycle: 1 year
horizon: 10 cycles
correction: start
discount: {costs: 0.05, effects: 0}
parameters:
  p_die: 0
states:
  Alive: {cost: 0, utility: 1}
  Dead: {dead: true}
transitions:
  Alive: {Dead: p_die, Alive: rest}
strategies:
  soc: {}
  gene: {initial_costs: {therapy: 1000000}}
"""


def _run(tmp_path, payment: str, p_die: float = 0.0, bia: str = ""):
    (tmp_path / "m.yaml").write_text(MODEL.replace("p_die: 0", f"p_die: {p_die}"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: m.yaml\npayment: {payment}\n{bia}")
    return run(cfg, psa=False)


def test_instalments_zero_interest_sum_to_price_for_survivors(tmp_path):
    res = _run(tmp_path, "{strategy: gene, category: therapy, price: 1000000, model: instalments, n: 5, stop_at_death: true}")
    sched = res.payment["schedule"]
    assert [y for y, _ in sched] == [0, 1, 2, 3, 4]
    assert sum(a for _, a in sched) == pytest.approx(1_000_000, rel=1e-12)  # nobody dies
    t = res.totals.set_index("strategy")
    expected = sum(200_000 / 1.05 ** j for j in range(5))
    assert t.loc["gene", "cost"] == pytest.approx(expected, rel=1e-12)
    assert t.loc["gene", "cost_undiscounted"] == pytest.approx(1_000_000, rel=1e-12)


def test_instalments_stop_at_death_and_interest(tmp_path):
    res = _run(tmp_path, "{strategy: gene, category: therapy, price: 1000000, model: instalments, n: 3, "
                         "interest: 0.04, stop_at_death: true}", p_die=0.1)
    # annuity-due: payments at years 0, 1, 2 whose value at 4 % is the price
    a = 1_000_000 / (1 + 1 / 1.04 + 1 / 1.04 ** 2)
    assert [x for _, x in res.payment["schedule"]] == pytest.approx([a, a * 0.9, a * 0.81], rel=1e-12)


@pytest.mark.parametrize("n", [1, 5, 12])
def test_instalments_at_the_discount_rate_are_worth_the_price(tmp_path, n):
    """Interest = cost discount rate (5 %), no stop at death: the discounted payments equal the upfront price."""
    res = _run(tmp_path, f"{{strategy: gene, category: therapy, price: 1000000, model: instalments, n: {n}, "
                         "interest: 0.05}", p_die=0.1)
    t = res.totals.set_index("strategy")
    assert abs(t.loc["gene", "cost"] - 1_000_000) < 1e-9 * 1_000_000
    assert abs(res.payment["cea_adjustment"]) < 1e-9 * 1_000_000
    # the end-of-period annuity paid at 0..n-1 would have been worth P(1+i): the bug this guards against
    a_end = 1_000_000 * 0.05 / (1 - 1.05 ** -n)
    assert sum(a_end / 1.05 ** j for j in range(n)) == pytest.approx(1_050_000, rel=1e-12)


def test_outcome_rebate_reduces_expected_cost(tmp_path):
    res = _run(tmp_path, "{strategy: gene, category: therapy, price: 1000000, model: outcome, rebate: 0.6, "
                         "non_response: 0.25, rebate_year: 0}")
    t = res.totals.set_index("strategy")
    assert t.loc["gene", "cost"] == pytest.approx(1_000_000 - 0.6 * 0.25 * 1_000_000, rel=1e-12)


def test_staged_payments_conditional_on_survival(tmp_path):
    res = _run(tmp_path, "{strategy: gene, category: therapy, price: 1000000, model: staged, stages: "
                         "[{year: 0, share: 0.5}, {year: 2, share: 0.5, condition: [alive]}]}", p_die=0.1)
    assert [x for _, x in res.payment["schedule"]] == pytest.approx([500_000, 500_000 * 0.81], rel=1e-12)


def test_payment_applies_to_budget_impact(tmp_path):
    bia = ("budget_impact: {years: 5, population: {patients: [10, 0, 0, 0, 0]}, current: {soc: 1, gene: 0}, "
           "new: {soc: 0, gene: 1}}\n")
    res = _run(tmp_path, "{strategy: gene, category: therapy, price: 1000000, model: instalments, n: 5}", bia=bia)
    sm = res.budget["summary"]
    assert list(sm["new_total"]) == pytest.approx([2_000_000] * 5, rel=1e-12)
    cf = res.payment["cash_flow"]
    assert list(cf["upfront"]) == [1_000_000, 0, 0, 0, 0]
    assert list(cf["instalments"]) == pytest.approx([200_000] * 5)
