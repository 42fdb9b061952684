"""The auditable workbook: inputs sheet, formula totals that recompute to ces's totals, formats, no empty sheet.

The recomputation uses the `formulas` package (a pure-Python Excel formula evaluator, test-only
dependency): it reads results.xlsx, evaluates every formula from the cell values, and the totals must
equal ces's base-case totals to 1e-9.  LibreOffice would also do, but it is a 300 MB OS package;
`formulas` installs with pip in the test extra.
"""

from __future__ import annotations

import math

import numpy as np
import openpyxl
import pytest

from ces.pipeline import run
from ces.report.outputs import tables
from ces.report.workbook import write_workbook
from ces.report.workbook_style import HEADER_ROW
from tests.conftest import CONFIGS, MODELS

formulas = pytest.importorskip("formulas", reason="the `formulas` package (test extra) recomputes the workbook")


def _write(res, tmp_path):
    path = tmp_path / "results.xlsx"
    write_workbook(res, tables(res), path)
    return path


def _recompute(path) -> dict:
    """(SHEET upper-case, cell) → value, every formula evaluated by `formulas`."""
    sol = formulas.ExcelModel().loads(str(path)).finish().calculate()
    out = {}
    for k, v in sol.items():
        ref = k.split("]", 1)[1]
        sheet, cell = ref.rsplit("!", 1)
        if ":" in cell:
            continue
        out[(sheet.strip("'").upper(), cell)] = np.asarray(v.value).ravel()[0]
    return out


@pytest.fixture(scope="module")
def payment_run():
    # gene therapy with an outcome-based payment: one-off cost at time 0 + the payment-model adjustment
    return run(CONFIGS / "genetherapy_tdt_outcome.yaml", psa=False)


@pytest.mark.parametrize("source", ["sick_sicker", "genetherapy_tdt_outcome", "cart_lbcl_societal"])
def test_totals_are_formulas_that_recompute_to_ces_totals(tmp_path, source):
    # the monthly PSM over 5 years (60 cycles) keeps the pure-Python recomputation short
    ov = {"settings": {"horizon": "5 years"}} if source == "cart_lbcl_societal" else None
    res = run(CONFIGS / f"{source}.yaml", psa=False, overrides=ov)
    assert "cost_societal" in res.totals or source != "cart_lbcl_societal"
    path = _write(res, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws = wb["base_case_totals"]
    cols = [c.value for c in ws[HEADER_ROW]]
    assert cols[0] == "strategy"
    vals = _recompute(path)
    checked = 0
    for i, s in enumerate(res.totals["strategy"]):
        row = HEADER_ROW + 1 + i
        assert ws.cell(row, 1).value == s
        for j, col in enumerate(res.totals.columns[1:], start=2):
            cell = ws.cell(row, j)
            assert isinstance(cell.value, str) and cell.value.startswith("="), (col, cell.value)
            assert "SUMPRODUCT" in cell.value or "SUM(" in cell.value
            want = float(res.totals.iloc[i][col])
            got = float(vals[("BASE_CASE_TOTALS", cell.coordinate)])
            assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-9), (s, col, got, want)
            checked += 1
    assert checked == len(res.totals) * (len(res.totals.columns) - 1)
    # the incremental analysis and the NMB follow the totals: formulas that recompute to ces's numbers
    nmb_sheets = [n for n in wb.sheetnames if n.startswith("base_case_nmb")]
    assert len(nmb_sheets) == 1 + len(res.perspective_nmb)  # the payer's and every other perspective's
    for name in [n for n in wb.sheetnames if n.startswith("base_case_icer")] + nmb_sheets:
        sh = wb[name]
        head = [str(c.value).split(" [")[0] for c in sh[HEADER_ROW]]
        if name.startswith("base_case_nmb"):
            key = name[len("base_case_nmb_"):]
            df, cols = (res.perspective_nmb[key] if key else res.nmb), ["nmb", "nhb"]
        else:
            df = res.icers if name == "base_case_icer" else res.perspectives[name[len("base_case_icer_"):]]
            cols = ["cost", "effect", "inc_cost", "inc_effect", "icer"]
        for i in range(len(df)):
            for col in cols:
                want = df[col].iloc[i]
                if want is None or (isinstance(want, float) and math.isnan(want)):
                    continue
                cell = sh.cell(HEADER_ROW + 1 + i, head.index(col) + 1)
                assert isinstance(cell.value, str) and cell.value.startswith("="), (name, col, cell.value)
                got = float(vals[(name.upper(), cell.coordinate)])
                assert math.isclose(got, float(want), rel_tol=1e-12, abs_tol=1e-9), (name, col, got, want)


def test_editing_a_cycle_value_changes_the_total(tmp_path):
    """The totals are live formulas: add 1000 to one period's cost and the total moves by 1000 × d_k."""
    res = run(MODELS / "hiv_dmhee.yaml")
    path = _write(res, tmp_path)
    wb = openpyxl.load_workbook(path)
    s = res.strategy_names[0]
    calc = wb[f"calc {s}"]
    head = [c.value for c in calc[HEADER_ROW]]
    cat = res.model.cost_streams[0]
    jv = next(j for j, h in enumerate(head, 1) if h.startswith(f"{cat} in period, undiscounted"))
    jd = head.index("d_k costs") + 1
    k = 3
    cell = calc.cell(HEADER_ROW + 1 + k, jv)
    cell.value = cell.value + 1000.0
    dk = calc.cell(HEADER_ROW + 1 + k, jd).value
    path2 = tmp_path / "edited.xlsx"
    wb.save(path2)
    tot = wb["base_case_totals"]
    j = [c.value for c in tot[HEADER_ROW]].index(next(h for h in (c.value for c in tot[HEADER_ROW])
                                                     if h.startswith(f"cost.{cat} "))) + 1
    got = float(_recompute(path2)[("BASE_CASE_TOTALS", tot.cell(HEADER_ROW + 1, j).coordinate)])
    want = float(res.totals.iloc[0][f"cost.{cat}"]) + 1000.0 * dk
    assert dk < 1 and math.isclose(got, want, rel_tol=1e-12)


def test_calculation_sheet_matches_the_engine_per_cycle(payment_run, tmp_path):
    """Occupancy columns are the trace, the discount factors follow (1+r)^-τ, weights are the method's."""
    res = payment_run
    wb = openpyxl.load_workbook(_write(res, tmp_path))
    s = res.payment["strategy"]
    ws = wb[f"calc {s}"]
    head = [c.value for c in ws[HEADER_ROW]]
    n = res.model.n_cycles
    trace = res.base.results[s].trace[0]
    for j, st in enumerate(res.model.states):
        col = head.index(f"occupancy {st}") + 1
        got = [ws.cell(HEADER_ROW + 1 + k, col).value for k in range(n + 1)]
        # openpyxl stores 16 significant digits (up to 1 ulp off the float64)
        assert got == pytest.approx([float(x) for x in trace[:, j]], rel=1e-15, abs=1e-300)
    # discount factors by hand: annual cycles, timing from the model, rate 3.5 % or as given
    spec = res.loaded.model
    tau = [ws.cell(HEADER_ROW + 1 + k, head.index("time (years)") + 1).value for k in range(n + 1)]
    dcol = head.index("d_k costs") + 1
    off = {"start": 0.0, "middle": 0.5, "end": 1.0}[spec.discount.timing] if spec.correction in (
        "start", "end", "life-table") else None
    for k in range(1, n + 1):
        t = tau[k] + off if off is not None else tau[k]
        assert math.isclose(ws.cell(HEADER_ROW + 1 + k, dcol).value, (1 + spec.discount.costs) ** -t, rel_tol=1e-14)
    # the payment adjustment is on the calc sheet of the paying strategy
    labels = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    r_adj = labels.index(next(x for x in labels if isinstance(x, str) and x.startswith("payment-model"))) + 1
    cat = res.payment["category"]
    jd = head.index(next(h for h in head if h.startswith(f"{cat} in period, discounted"))) + 1
    assert ws.cell(r_adj, jd).value == pytest.approx(res.payment["cea_adjustment"], rel=1e-15)
    assert "payment_schedule" in wb.sheetnames and "payment_cash_flow" in wb.sheetnames


def test_inputs_sheet_lists_every_parameter(tmp_path):
    res = run(CONFIGS / "cart_lbcl.yaml", psa=False)
    wb = openpyxl.load_workbook(_write(res, tmp_path))
    ws = wb["inputs"]
    head = [c.value for c in ws[HEADER_ROW]]
    for h in ("parameter", "base value", "distribution", "distribution parameters", "source", "overridden by",
              "used in"):
        assert h in head
    rows = {r[0]: dict(zip(head, r)) for r in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True)}
    assert set(rows) == set(res.model.model_defs)
    c = rows["c_cart"]
    assert c["base value"] == 373000 and "Kite/Gilead" in c["source"]  # the YAML comment is the source
    assert "strategies.cart.tree.branches.infused.costs.treatment" in c["used in"]  # paid on the infused branch
    u = rows["u_pf"]
    assert u["distribution"] == "beta" and "mean=0.83" in u["distribution parameters"]
    assert "cart: 1" in rows["cart"]["overridden by"]
    assert "parameters.cure_os" in rows["cure_os_cart"]["used in"]


def test_formats_frozen_headers_and_no_empty_sheet(tmp_path):
    res = run(CONFIGS / "cart_lbcl.yaml", draws=50)
    wb = openpyxl.load_workbook(_write(res, tmp_path))
    for ws in wb.worksheets:
        assert ws.max_row > HEADER_ROW, f"sheet {ws.title} has no data rows"
        assert ws.freeze_panes == f"A{HEADER_ROW + 1}", ws.title
        assert all(ws.column_dimensions[c].width and ws.column_dimensions[c].width >= 8
                   for c in [x.column_letter for x in ws[HEADER_ROW]])
    tot = wb["base_case_totals"]
    assert tot.cell(HEADER_ROW, 2).value == "cost [USD] (healthcare payer)"
    assert "USD" in tot.cell(HEADER_ROW + 1, 2).number_format
    assert {"psa_wtp", "psa_summary", "base_case_icer", "inputs", "model"} <= set(wb.sheetnames)
    assert all(f"calc {s}" in wb.sheetnames for s in res.strategy_names)
    icer = wb["base_case_icer"]
    head = [c.value for c in icer[HEADER_ROW]]
    assert icer.cell(HEADER_ROW + 2, head.index("icer [USD]") + 1).value.startswith("=")


def _tree_timing_row(path, strategy):
    ws = openpyxl.load_workbook(path)[f"calc {strategy}"]
    head = [c.value for c in ws[HEADER_ROW]]
    col = head.index("qaly in period, discounted [QALY]") + 1
    row = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith("decision-tree timing"))
    return float(ws.cell(row, col).value)


def test_tree_timing_row_is_the_discounting_of_the_model_run_after_the_wait(tmp_path):
    """docs/tree.md: E = u w + d(w) M for the LBCL CAR-T arm (root wait w, model runs M entered at w), while the
    per-period rows sum to M + u w (model time, the tree's QALYs as a one-off): the row is (d(w) - 1) M; without
    the wait it is 0, and it is 0 for a strategy without a tree."""
    ov = {"settings": {"horizon": "5 years"}}
    res = run(CONFIGS / "cart_lbcl.yaml", psa=False, overrides=ov)
    path = _write(res, tmp_path)
    w, u = 22 / 365.25, 0.71
    d = 1.03 ** -w
    total = float(res.totals.set_index("strategy").loc["cart", "qaly"])
    m = (total - u * w) / d
    assert _tree_timing_row(path, "cart") == pytest.approx((d - 1) * m, rel=1e-9)
    assert _tree_timing_row(path, "chemo") == 0.0
    ov0 = {"settings": {"horizon": "5 years"}, "parameters": {"d_wait": 0.0}}
    (tmp_path / "w0").mkdir()
    path0 = _write(run(CONFIGS / "cart_lbcl.yaml", psa=False, overrides=ov0), tmp_path / "w0")
    assert _tree_timing_row(path0, "cart") == pytest.approx(0.0, abs=1e-12)
