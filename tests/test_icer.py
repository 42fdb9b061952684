"""Tests for ces.analysis.icer (expected values derived by hand in each test)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ces.analysis.icer import ICER_COLUMNS, calculate_icers, nhb, nmb
from ces.errors import CesError

SS_NAMES = ["SoC", "A", "B", "AB"]
SS_COSTS = [151579.86596, 284804.51337, 259100.41062, 378875.19839]
SS_QALYS = [20.7113315, 21.4986628, 22.1844651, 23.1368441]


def _row(df: pd.DataFrame, name: str) -> pd.Series:
    rows = df[df["strategy"] == name]
    assert len(rows) == 1
    return rows.iloc[0]


def _status(df: pd.DataFrame) -> dict[str, str]:
    return dict(zip(df["strategy"], df["status"]))


def test_columns_and_types():
    df = calculate_icers(SS_NAMES, SS_COSTS, SS_QALYS)
    assert list(df.columns) == ICER_COLUMNS
    assert list(df.index) == [0, 1, 2, 3]


def test_sick_sicker_textbook_case():
    df = calculate_icers(SS_NAMES, SS_COSTS, SS_QALYS)
    assert _status(df) == {"SoC": "ND", "B": "ND", "AB": "ND", "A": "D"}
    # frontier by increasing cost, then the dominated strategy
    assert list(df["strategy"]) == ["SoC", "B", "AB", "A"]
    soc, b, ab, a = (_row(df, s) for s in ["SoC", "B", "AB", "A"])
    assert math.isnan(soc["icer"]) and math.isnan(soc["inc_cost"]) and soc["ref"] is None
    assert b["ref"] == "SoC"
    assert b["inc_cost"] == pytest.approx(259100.41062 - 151579.86596)
    assert b["inc_effect"] == pytest.approx(22.1844651 - 20.7113315)
    assert b["icer"] == pytest.approx(72987.636, abs=0.01)
    assert ab["ref"] == "B"
    assert ab["icer"] == pytest.approx(125763.786, abs=0.01)
    assert ab["icer"] == pytest.approx((378875.19839 - 259100.41062) / (23.1368441 - 22.1844651))
    assert a["ref"] is None and math.isnan(a["icer"]) and math.isnan(a["inc_effect"])


def test_unsorted_input_gives_same_table():
    order = [3, 1, 0, 2]
    df = calculate_icers([SS_NAMES[i] for i in order], [SS_COSTS[i] for i in order],
                         [SS_QALYS[i] for i in order])
    ref = calculate_icers(SS_NAMES, SS_COSTS, SS_QALYS)
    pd.testing.assert_frame_equal(df, ref)


def test_simple_extended_dominance():
    # B: ICER vs A = 10/0.5 = 20; C vs B = 20/2.5 = 8 < 20 -> B lies above the A-C line.
    df = calculate_icers(["A", "B", "C"], [0.0, 10.0, 30.0], [0.0, 0.5, 3.0])
    assert _status(df) == {"A": "ND", "B": "ED", "C": "ND"}
    assert list(df["strategy"]) == ["A", "C", "B"]
    c = _row(df, "C")
    assert c["ref"] == "A"
    assert c["icer"] == pytest.approx(30.0 / 3.0)
    b = _row(df, "B")
    assert b["ref"] is None and math.isnan(b["icer"])


def test_cascading_extended_dominance():
    # effects 0,1,2,3; costs 0,5,12,13. ICERs 5, 7, 1 -> S2 ED (7 > 1).
    # Then S0,S1,S3: ICERs 5, (13-5)/2 = 4 -> S1 ED. Frontier S0 -> S3, ICER 13/3.
    df = calculate_icers(["S0", "S1", "S2", "S3"], [0, 5, 12, 13], [0, 1, 2, 3])
    assert _status(df) == {"S0": "ND", "S1": "ED", "S2": "ED", "S3": "ND"}
    assert list(df["strategy"]) == ["S0", "S3", "S1", "S2"]
    assert _row(df, "S3")["icer"] == pytest.approx(13 / 3)
    assert _row(df, "S3")["ref"] == "S0"


def test_icers_strictly_increasing_on_frontier_random():
    rng = np.random.default_rng(1)
    for _ in range(50):
        n = 8
        costs = rng.uniform(0, 100, n)
        effects = rng.uniform(0, 10, n)
        df = calculate_icers([f"s{i}" for i in range(n)], costs, effects)
        nd = df[df["status"] == "ND"]
        icers = nd["icer"].to_numpy()[1:]
        assert np.all(np.diff(icers) > 0)
        assert np.all(np.diff(nd["cost"].to_numpy()) > 0)
        assert np.all(np.diff(nd["effect"].to_numpy()) > 0)
        # every non-frontier strategy is beaten, at the WTP where it would be chosen,
        # by some frontier strategy: at all WTP the max NMB is attained on the frontier
        for lam in np.linspace(0, 200, 41):
            assert (effects * lam - costs).max() == pytest.approx(
                (nd["effect"] * lam - nd["cost"]).max())


def test_strong_dominance():
    # B costs more and gives less than A
    df = calculate_icers(["A", "B"], [100.0, 200.0], [1.0, 0.5])
    assert _status(df) == {"A": "ND", "B": "D"}
    assert list(df["strategy"]) == ["A", "B"]
    assert df["icer"].isna().all()


def test_tie_in_cost_less_effective_is_dominated():
    df = calculate_icers(["A", "B", "C"], [100.0, 100.0, 0.0], [1.0, 2.0, 0.0])
    assert _status(df) == {"A": "D", "B": "ND", "C": "ND"}
    assert _row(df, "B")["icer"] == pytest.approx(100.0 / 2.0)
    assert _row(df, "B")["ref"] == "C"


def test_tie_in_effect_costlier_is_dominated():
    df = calculate_icers(["A", "B"], [100.0, 150.0], [1.0, 1.0])
    assert _status(df) == {"A": "ND", "B": "D"}


def test_identical_strategies_first_listed_kept():
    df = calculate_icers(["A", "B", "C"], [100.0, 100.0, 200.0], [1.0, 1.0, 2.0])
    assert _status(df) == {"A": "ND", "B": "D", "C": "ND"}
    assert _row(df, "C")["ref"] == "A"
    df2 = calculate_icers(["B", "A", "C"], [100.0, 100.0, 200.0], [1.0, 1.0, 2.0])
    assert _status(df2) == {"B": "ND", "A": "D", "C": "ND"}
    assert _row(df2, "C")["ref"] == "B"


def test_identical_strategies_both_dominated_by_third():
    df = calculate_icers(["A", "B", "C"], [100.0, 100.0, 50.0], [1.0, 1.0, 2.0])
    assert _status(df) == {"A": "D", "B": "D", "C": "ND"}


def test_collinear_middle_strategy_stays_on_frontier():
    # ICER B vs A = 10/1 = 10, C vs B = 20/2 = 10: equal -> B is not ED.
    df = calculate_icers(["A", "B", "C"], [0.0, 10.0, 30.0], [0.0, 1.0, 3.0])
    assert _status(df) == {"A": "ND", "B": "ND", "C": "ND"}
    assert _row(df, "B")["icer"] == pytest.approx(10.0)
    assert _row(df, "C")["icer"] == pytest.approx(10.0)
    assert _row(df, "C")["ref"] == "B"


def test_collinear_up_to_rounding_is_collinear():
    # (3 - 1) / (0.3 - 0.1) is not exactly 10 in binary floating point
    df = calculate_icers(["A", "B", "C"], [0.0, 1.0, 3.0], [0.0, 0.1, 0.3])
    assert set(df["status"]) == {"ND"}


def test_single_strategy():
    df = calculate_icers(["only"], [123.0], [4.5])
    assert len(df) == 1
    row = df.iloc[0]
    assert row["status"] == "ND" and row["ref"] is None
    assert math.isnan(row["inc_cost"]) and math.isnan(row["inc_effect"]) and math.isnan(row["icer"])
    assert row["cost"] == 123.0 and row["effect"] == 4.5


def test_all_dominated_but_one():
    # A is cheapest and most effective
    df = calculate_icers(["C", "A", "B"], [300.0, 100.0, 200.0], [1.0, 5.0, 4.0])
    assert list(df["strategy"]) == ["A", "B", "C"]
    assert list(df["status"]) == ["ND", "D", "D"]
    assert df["icer"].isna().all()
    assert df["ref"].isna().all()


def test_row_order_frontier_then_ed_then_d():
    # F0 (0,0) F1 (30,3) frontier; E (10,0.5) ED; D1 (40,2) and D2 (5,-1) dominated
    df = calculate_icers(["D1", "E", "F1", "D2", "F0"], [40.0, 10.0, 30.0, 5.0, 0.0],
                         [2.0, 0.5, 3.0, -1.0, 0.0])
    assert list(df["strategy"]) == ["F0", "F1", "E", "D2", "D1"]
    assert list(df["status"]) == ["ND", "ND", "ED", "D", "D"]


@pytest.mark.parametrize("names, costs, effects", [
    ([], [], []),
    (["A", "B"], [1.0], [1.0, 2.0]),
    (["A", "B"], [1.0, 2.0], [1.0]),
    (["A", "A"], [1.0, 2.0], [1.0, 2.0]),
    (["A", "B"], [1.0, float("nan")], [1.0, 2.0]),
    (["A", "B"], [1.0, 2.0], [float("inf"), 2.0]),
    (["A", ""], [1.0, 2.0], [1.0, 2.0]),
    (["A", "B"], ["x", 2.0], [1.0, 2.0]),
    (["A", "B"], [[1.0, 2.0]], [1.0, 2.0]),
    ("AB", [1.0, 2.0], [1.0, 2.0]),
])
def test_invalid_input(names, costs, effects):
    with pytest.raises(CesError):
        calculate_icers(names, costs, effects)


def test_nmb_and_nhb():
    costs = np.array([100.0, 300.0])
    effects = np.array([1.0, 2.0])
    np.testing.assert_allclose(nmb(costs, effects, 1000.0), [900.0, 1700.0])
    np.testing.assert_allclose(nhb(costs, effects, 100.0), [0.0, -1.0])
    wtp = np.array([0.0, 100.0, 1000.0])
    np.testing.assert_allclose(nmb(costs, effects, wtp[:, None]),
                               [[-100.0, -300.0], [0.0, -100.0], [900.0, 1700.0]])


def test_nmb_nhb_invalid():
    with pytest.raises(CesError):
        nhb([1.0], [1.0], 0.0)
    with pytest.raises(CesError):
        nmb([1.0], [1.0], -1.0)
    with pytest.raises(CesError):
        nmb([1.0, 2.0], [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(CesError):
        nmb([float("nan")], [1.0], 1.0)


def test_dominated_rows_equal_cost_ordered_by_decreasing_effect():
    # F dominates both; D1 and D2 cost the same, D2 is more effective -> listed first
    df = calculate_icers(["D1", "D2", "F"], [10.0, 10.0, 0.0], [1.0, 3.0, 5.0])
    assert list(df["strategy"]) == ["F", "D2", "D1"]
    assert list(df["status"]) == ["ND", "D", "D"]
