"""The Markov engine on small models whose results are computed by hand in each test."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ces.pipeline import run


def _run(tmp_path: Path, body: str, name: str = "m.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body))
    return run(p)


TWO_STATE = """\
ces: 1
cycle: 1 year
horizon: 3 cycles
correction: {corr}
discount: {{costs: {rc}, effects: {re}, timing: {timing}}}
parameters:
  p: {p}
states:
  Well: {{cost: 100, utility: 0.5}}
  Dead: {{dead: true}}
transitions:
  Well: {{Well: rest, Dead: p}}
strategies:
  s: {{}}
"""


def _two(tmp_path, corr="end", rc=0, re=0, timing="start", p=0.1, extra=""):
    return _run(tmp_path, TWO_STATE.format(corr=corr, rc=rc, re=re, timing=timing, p=p) + extra)


def test_counting_methods_on_two_state_model(tmp_path):
    m = [1.0, 0.9, 0.81, 0.729]
    end = _two(tmp_path, "end").totals.iloc[0]
    assert end["cost"] == pytest.approx(100 * sum(m[1:]), rel=1e-12)
    assert end["ly"] == pytest.approx(sum(m[1:]), rel=1e-12)
    assert end["qaly"] == pytest.approx(0.5 * sum(m[1:]), rel=1e-12)
    start = _two(tmp_path, "start").totals.iloc[0]
    assert start["cost"] == pytest.approx(100 * sum(m[:3]), rel=1e-12)
    lt = _two(tmp_path, "life-table").totals.iloc[0]
    assert lt["cost"] == pytest.approx(100 * sum((m[k - 1] + m[k]) / 2 for k in (1, 2, 3)), rel=1e-12)
    hc = _two(tmp_path, "half-cycle").totals.iloc[0]
    assert hc["cost"] == pytest.approx(100 * (0.5 * m[0] + m[1] + m[2] + 0.5 * m[3]), rel=1e-12)


def test_discounting_end_and_start_timing(tmp_path):
    m = [1.0, 0.9, 0.81, 0.729]
    end = _two(tmp_path, "end", rc=0.1, re=0.05, timing="end").totals.iloc[0]
    assert end["cost"] == pytest.approx(sum(100 * m[k] / 1.1 ** k for k in (1, 2, 3)), rel=1e-12)
    assert end["qaly"] == pytest.approx(sum(0.5 * m[k] / 1.05 ** k for k in (1, 2, 3)), rel=1e-12)
    assert end["cost_undiscounted"] == pytest.approx(100 * sum(m[1:]), rel=1e-12)
    st = _two(tmp_path, "end", rc=0.1, re=0.05, timing="start").totals.iloc[0]
    assert st["cost"] == pytest.approx(sum(100 * m[k] / 1.1 ** (k - 1) for k in (1, 2, 3)), rel=1e-12)


def test_transition_reward_and_initial_cost(tmp_path):
    extra = textwrap.dedent("""\
    transition_rewards:
      - {from: Well, to: Dead, costs: {death: 1000}, qaly: -0.1}
    initial_costs: {acquisition: 5000}
    """)
    res = _two(tmp_path, "end", rc=0.1, timing="end", extra=extra).totals.iloc[0]
    deaths = [0.1, 0.09, 0.081]
    assert res["cost.death"] == pytest.approx(sum(1000 * d / 1.1 ** (k + 1) for k, d in enumerate(deaths)), rel=1e-12)
    assert res["cost.acquisition"] == 5000.0
    assert res["qaly"] == pytest.approx(0.5 * (0.9 + 0.81 + 0.729) - 0.1 * sum(deaths), rel=1e-12)
    m = [0.9, 0.81, 0.729]
    assert res["cost"] == pytest.approx(5000 + sum((100 * m[k] + 1000 * deaths[k]) / 1.1 ** (k + 1)
                                                   for k in range(3)), rel=1e-12)


def test_time_dependent_transition_by_cycle(tmp_path):
    res = _two(tmp_path, "end", p="0.1 * cycle").totals.iloc[0]
    m1, m2, m3 = 0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7
    assert res["ly"] == pytest.approx(m1 + m2 + m3, rel=1e-12)


def test_age_dependent_table_lookup(tmp_path):
    (tmp_path / "mort.csv").write_text("# test table\nage,male,female\n50,0.01,0.005\n51,0.02,0.01\n52,0.03,0.015\n")
    body = """\
    ces: 1
    horizon: 3 cycles
    start_age: 50
    sex: {male: 0.5, female: 0.5}
    correction: end
    discount: {costs: 0, effects: 0}
    tables:
      mort: {file: mort.csv, columns: {male: male, female: female}}
    parameters:
      q: mort(age)
      qm: mort(age, "male")
    states:
      A: {cost: 1, utility: 1}
      B: {cost: 0, utility: 1}
      D: {dead: true}
    transitions:
      A: {A: rest, D: q}
      B: {B: rest, D: qm}
    strategies:
      a: {}
      b: {initial: {B: 1}}
    """
    res = _run(tmp_path, body)
    # age at the start of cycle k = 50 + (k-1); mixed sex = mean of the two columns
    qa = [0.0075, 0.015, 0.0225]
    qb = [0.01, 0.02, 0.03]
    la = np.cumprod([1 - q for q in qa])
    lb = np.cumprod([1 - q for q in qb])
    t = res.totals.set_index("strategy")
    assert t.loc["a", "ly"] == pytest.approx(la.sum(), rel=1e-12)
    assert t.loc["b", "ly"] == pytest.approx(lb.sum(), rel=1e-12)


def test_tunnel_states_residence(tmp_path):
    body = """\
    ces: 1
    horizon: 4 cycles
    correction: end
    discount: {costs: 0, effects: 0}
    parameters:
      p_rec: if_else(residence == 1, 0.5, 0.2)
    states:
      Sick: {cost: 10 * residence, utility: 0.5, max_residence: 2}
      Well: {cost: 0, utility: 1}
    transitions:
      Sick: {Sick: rest, Well: p_rec}
      Well: {Well: 1}
    strategies:
      s: {}
    """
    res = _run(tmp_path, body)
    # sub-states S1 (residence 1), S2 (residence 2+); start in S1
    s1, s2, w = 1.0, 0.0, 0.0
    cost = 0.0
    occ = []
    for _ in range(4):
        s1, s2, w = 0.0, s1 * 0.5 + s2 * 0.8, w + s1 * 0.5 + s2 * 0.2
        occ.append((s1, s2, w))
        cost += 10 * s1 + 20 * s2
    assert res.totals.iloc[0]["cost"] == pytest.approx(cost, rel=1e-12)
    trace = res.base.results["s"].trace[0]
    assert trace[4, 0] == pytest.approx(occ[-1][0] + occ[-1][1], rel=1e-12)
    assert trace[4, 1] == pytest.approx(occ[-1][2], rel=1e-12)


def test_monthly_cycles_rates_and_lifetime_horizon(tmp_path):
    body = """\
    ces: 1
    cycle: 1 month
    horizon: lifetime
    start_age: 98
    max_age: 100
    correction: end
    discount: {costs: 0, effects: 0}
    parameters:
      p: rate_to_prob(0.5)
    states:
      A: {cost: 1, utility: 1}
      D: {dead: true}
    transitions:
      A: {A: rest, D: p}
    strategies:
      s: {}
    """
    res = _run(tmp_path, body)
    assert res.model.n_cycles == 24
    p = 1 - math.exp(-0.5 / 12)
    surv = [(1 - p) ** k for k in range(1, 25)]
    assert res.totals.iloc[0]["ly"] == pytest.approx(sum(surv) / 12, rel=1e-12)
    assert res.totals.iloc[0]["cost"] == pytest.approx(sum(surv), rel=1e-12)


def test_strategy_overrides_states_and_transitions(tmp_path):
    extra = ("  t:\n"
             "    states: {Well: {cost: 50}}\n"
             "    transitions: {Well: {Well: rest, Dead: 0.2}}\n")
    body = TWO_STATE.format(corr="end", rc=0, re=0, timing="start", p=0.1) + extra
    res = _run(tmp_path, body).totals.set_index("strategy")
    m = [0.8, 0.64, 0.512]
    assert res.loc["t", "cost"] == pytest.approx(50 * sum(m), rel=1e-12)
    assert res.loc["s", "cost"] == pytest.approx(100 * (0.9 + 0.81 + 0.729), rel=1e-12)


def test_trace_mass_is_conserved_and_kernel_is_deterministic(tmp_path):
    a = _two(tmp_path, "half-cycle", p="0.05 * cycle")
    b = _two(tmp_path, "half-cycle", p="0.05 * cycle")
    tr = a.base.results["s"].trace[0]
    assert np.allclose(tr.sum(axis=1), 1.0, atol=1e-12)
    assert np.array_equal(a.base.results["s"].totals, b.base.results["s"].totals)
