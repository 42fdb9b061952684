"""One-off rewards on entry into a PSM state (`entry_rewards`), against hand computations."""

from __future__ import annotations

import math

import pytest

from ces.errors import CesError
from ces.pipeline import run

PSM = """\
ces: 1
kind: psm
cycle: 1 year
horizon: 10 cycles
correction: {correction}
discount: {{costs: {r}, effects: {r}, timing: start}}
parameters:
  l_pfs: 0.4
  l_os: 0.15
  c_eol: 5000
curves:
  pfs: {{dist: exponential, rate: l_pfs}}
  os:  {{dist: exponential, rate: l_os}}
partition: [pfs, os]
states:
  PF: {{cost: 0, utility: 1}}
  PD: {{cost: 0, utility: 0.5}}
  Dead: {{dead: true}}
entry_rewards:
  - {{state: Dead, costs: {{terminal_care: c_eol}}}}
  - {{state: PD, cost: 1000, qaly: -0.02}}
strategies:
  s: {{}}
"""


def _run(tmp_path, text):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    return run(p, psa=False)


@pytest.mark.parametrize("correction", ["life-table", "start", "end"])
@pytest.mark.parametrize("r", [0.0, 0.035])
def test_terminal_care_cost_equals_hand_computation(tmp_path, correction, r):
    """Σ_k c·(S_os((k−1)) − S_os(k))·(1+r)^−(k−1): deaths in cycle k, discounted at the cycle's start (timing start)."""
    res = _run(tmp_path, PSM.format(correction=correction, r=r))
    t = res.totals.iloc[0]
    deaths = [math.exp(-0.15 * (k - 1)) - math.exp(-0.15 * k) for k in range(1, 11)]
    hand = sum(5000 * d * (1 + r) ** -(k - 1) for k, d in zip(range(1, 11), deaths))
    assert t["cost.terminal_care"] == pytest.approx(hand, rel=1e-12)
    assert t["cost.terminal_care_undiscounted"] == pytest.approx(5000 * (1 - math.exp(-1.5)), rel=1e-12)
    # progression: everyone leaving PF (PFS events), 1000 each and −0.02 QALY
    pfs_events = [math.exp(-0.4 * (k - 1)) - math.exp(-0.4 * k) for k in range(1, 11)]
    assert t["cost.cost"] == pytest.approx(sum(1000 * e * (1 + r) ** -(k - 1) for k, e in zip(range(1, 11), pfs_events)),
                                      rel=1e-12)


def test_entry_qaly_change_is_added_to_state_qalys(tmp_path):
    a = _run(tmp_path, PSM.format(correction="life-table", r=0))
    b = _run(tmp_path, PSM.format(correction="life-table", r=0).replace(", qaly: -0.02", ""))
    loss = -0.02 * (1 - math.exp(-4.0))
    assert a.totals.iloc[0]["qaly"] - b.totals.iloc[0]["qaly"] == pytest.approx(loss, rel=1e-10)


def test_entry_rewards_errors(tmp_path):
    with pytest.raises(CesError, match="nobody enters the first state"):
        _run(tmp_path, PSM.format(correction="end", r=0).replace("state: PD,", "state: PF,"))
    with pytest.raises(CesError, match="unknown state `Deed`"):
        _run(tmp_path, PSM.format(correction="end", r=0).replace("state: Dead,", "state: Deed,"))
