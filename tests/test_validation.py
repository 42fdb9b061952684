"""Published models reproduced exactly (../shared/validation/README.md, cases A1, B1, C1).

Published values are compared at relative tolerance 1e-6 (full precision) or after rounding to
the printed precision, as the validation README asks.
"""

from __future__ import annotations

import numpy as np
import pytest

from ces.pipeline import run
from tests.conftest import MODELS

REL = 1e-6


def _row(res, strategy):
    return res.totals.set_index("strategy").loc[strategy]


def _icer(res, strategy):
    return float(res.icers.set_index("strategy").loc[strategy, "icer"])


# ---------------------------------------------------------------- A1: HIV (DMHEE exact)
@pytest.fixture(scope="module")
def hiv():
    return run(MODELS / "hiv_dmhee.yaml")


def test_hiv_totals_match_dmhee(hiv):
    mono, comb = _row(hiv, "mono"), _row(hiv, "comb")
    assert mono["cost"] == pytest.approx(44663.4535637, rel=REL)
    assert mono["ly"] == pytest.approx(7.9912066, rel=REL)
    assert comb["cost"] == pytest.approx(50601.6513312, rel=REL)
    assert comb["ly"] == pytest.approx(8.9373889, rel=REL)
    assert _icer(hiv, "comb") == pytest.approx(6275.95560, rel=REL)


def test_hiv_undiscounted_categories_match_heemod_print(hiv):
    # heemod i_reproduction print: cost_health 45541.24 / 48082.83, cost_drugs 18203.97 / 24492.28 (undiscounted)
    mono, comb = _row(hiv, "mono"), _row(hiv, "comb")
    assert round(mono["cost.health_undiscounted"], 2) == 45541.24
    assert round(comb["cost.health_undiscounted"], 2) == 48082.83
    assert round(mono["cost.drugs_undiscounted"], 2) == 18203.97
    assert round(comb["cost.drugs_undiscounted"], 2) == 24492.28


# ---------------------------------------------------------------- B1: THR (DMHEE exact, 61 cycles)
@pytest.fixture(scope="module")
def thr():
    return run(MODELS / "thr_dmhee.yaml")


def test_thr_totals_match_dmhee_61_cycles(thr):
    std, np1 = _row(thr, "standard"), _row(thr, "NP1")
    assert std["cost"] == pytest.approx(512.434658, rel=REL)
    assert std["qaly"] == pytest.approx(14.6531896, rel=REL)
    assert np1["cost"] == pytest.approx(610.311818, rel=REL)
    assert np1["qaly"] == pytest.approx(14.69770986, rel=REL)
    assert _icer(thr, "NP1") == pytest.approx(2198.486665, rel=REL)


def test_thr_trace_matches_heemod_test(thr):
    # rows = after cycles 1..8; columns SuccessP, RevisionTHR, SuccessR, Death (test_dmhee.R)
    expected_std = np.array([
        [0.98000000, 0.00000000, 0.00000000, 0.02000000],
        [0.97265720, 0.00077680, 0.00000000, 0.02656600],
        [0.96516548, 0.00097491, 0.00075606, 0.03310354],
        [0.95757109, 0.00115802, 0.00166964, 0.03960125],
        [0.93783561, 0.00132115, 0.00268314, 0.05816010],
        [0.91838963, 0.00145307, 0.00379326, 0.07636404],
        [0.89924305, 0.00157339, 0.00496429, 0.09421927],
        [0.88040225, 0.00168398, 0.00618146, 0.11173231]])
    expected_np1_row8 = np.array([0.88631355, 0.00044144, 0.00161577, 0.11162924])
    tr = thr.base.results["standard"].trace[0]
    assert np.array_equal(np.round(tr[1:9, 1:], 8), expected_std)
    assert np.array_equal(np.round(thr.base.results["NP1"].trace[0][8, 1:], 8), expected_np1_row8)


def test_thr_60_cycles_matches_vignette_print(tmp_path):
    cfg = tmp_path / "thr60.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'thr_dmhee.yaml'}\nsettings: {{horizon: 60 cycles}}\n")
    res = run(cfg)
    std, np1 = _row(res, "standard"), _row(res, "NP1")
    assert round(std["cost"], 4) == 512.4327
    assert round(std["qaly"], 5) == 14.65283
    assert round(np1["cost"], 4) == 610.3112
    assert round(np1["qaly"], 5) == 14.69734
    assert round(_icer(res, "NP1"), 3) == 2198.977


# ---------------------------------------------------------------- C1: DARTH Sick-Sicker
@pytest.fixture(scope="module")
def sick_sicker():
    return run(MODELS / "sick_sicker.yaml")


def test_sick_sicker_matches_published_table(sick_sicker):
    exp = {"SoC": (151579.86596, 20.7113315), "A": (284804.51337, 21.4986628),
           "B": (259100.41062, 22.1844651), "AB": (378875.19839, 23.1368441)}
    for s, (c, q) in exp.items():
        r = _row(sick_sicker, s)
        assert r["cost"] == pytest.approx(c, rel=REL), s
        assert r["qaly"] == pytest.approx(q, rel=REL), s
    icers = sick_sicker.icers.set_index("strategy")
    assert icers.loc["B", "icer"] == pytest.approx(72987.63607, rel=REL)
    assert icers.loc["AB", "icer"] == pytest.approx(125763.78575, rel=REL)
    assert icers.loc["B", "ref"] == "SoC" and icers.loc["AB", "ref"] == "B"
    assert icers.loc["A", "status"] == "D"
    # published table: costs to the dollar, QALYs to 3 dp
    assert [round(_row(sick_sicker, s)["cost"]) for s in ("SoC", "B", "AB", "A")] == [151580, 259100, 378875, 284805]
    assert [round(_row(sick_sicker, s)["qaly"], 3) for s in ("SoC", "B", "AB", "A")] == [20.711, 22.184, 23.137, 21.499]


def test_sick_sicker_trace_matches_published(sick_sicker):
    tr = sick_sicker.base.results["SoC"].trace[0]
    expected = [[1, 0, 0, 0], [.859, .139, .000, .002], [.792, .189, .014, .005], [.755, .206, .032, .008],
                [.729, .208, .052, .011], [.707, .206, .072, .015]]
    assert np.array_equal(np.round(tr[:6], 3), np.array(expected, dtype=float))


@pytest.mark.parametrize("correction,timing,soc,ab,icer_b,icer_ab", [
    ("simpson", "start", (152092, 21.021), (379889, 23.449), 73348, 125209),
    ("half-cycle", "start", (152262, 21.038), (379955, 23.467), 73134, 125532),
    ("none", "start", (153541, 21.554), (381676, 23.989), 73032, 125669),
    ("start", "start", (152983, 21.522), (380235, 23.945), 73236, 125394),
    ("end", "end", (151541, 20.554), (379676, 22.989), 73032, 125669),
])
def test_counting_convention_changes_result_as_documented(tmp_path, correction, timing, soc, ab, icer_b, icer_ab):
    """The validation README's WCC sensitivity table: another counting method moves every result."""
    cfg = tmp_path / "ss.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'sick_sicker.yaml'}\n"
                   f"settings: {{correction: {correction}, discount: {{timing: {timing}}}}}\n")
    res = run(cfg)
    s, a = _row(res, "SoC"), _row(res, "AB")
    assert (round(s["cost"]), round(s["qaly"], 3)) == soc
    assert (round(a["cost"]), round(a["qaly"], 3)) == ab
    assert round(_icer(res, "B")) == icer_b
    assert round(_icer(res, "AB")) == icer_ab
