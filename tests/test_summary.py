"""The compact `ces run` summary (ces/report/summary.py) and the flagship config that `make run` uses."""

from __future__ import annotations

import re

import pytest

from ces.cli import app
from ces.pipeline import run
from tests.conftest import CONFIGS, ROOT

FLAGSHIP = CONFIGS / "flagship.yaml"

# the sections of issue 22, in the order they must appear
HEADINGS = [
    "CAR-T vs salvage chemotherapy",  # the model line
    "Base case (discounted, USD)",
    "Incremental analysis",
    "Impact inventory",
    "Net monetary benefit",
    "PSA: 1,000 draws",
    "CEAC: probability cost-effective",
    "CEAC over the WTP grid",
    "Budget impact over 5 years",
    "Threshold price of c_cart",
    "Verdict",
    "Full results",
]


@pytest.fixture(scope="module")
def flagship_output():
    from typer.testing import CliRunner

    r = CliRunner().invoke(app, ["run", str(FLAGSHIP)], env={"COLUMNS": "100"})
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.fixture(scope="module")
def flagship_result():
    return run(FLAGSHIP, psa=False)


def test_make_run_uses_the_flagship():
    assert re.search(r"^FLAGSHIP \?= configs/flagship\.yaml$", (ROOT / "Makefile").read_text(), re.M)


def test_flagship_summary_has_every_section_in_order_within_80_lines_of_100_columns(flagship_output):
    lines = flagship_output.splitlines()
    at = [flagship_output.find(h) for h in HEADINGS]
    assert -1 not in at, [h for h, i in zip(HEADINGS, at) if i == -1]
    assert at == sorted(at)
    assert len(lines) <= 80
    assert max(len(x) for x in lines) <= 100
    assert "--out DIR --plots" in lines[-2] + lines[-1] and "--full" in lines[-1]
    for per in ("payer (base)", "societal"):  # both perspectives in the base case, PSA and CEAC
        assert flagship_output.count(per) >= 4


def test_summary_numbers_come_from_the_run(flagship_output, flagship_result):
    res = flagship_result
    for key, table in (("payer", res.icers), ("societal", res.perspectives["societal"])):
        icer = table.set_index("strategy").loc["cart", "icer"]
        assert f"{icer:,.0f}" in flagship_output, key
    inv = res.inventory.set_index(["component", "strategy"])
    assert f"{inv.loc[('productivity', 'chemo'), 'discounted']:,.0f}" in flagship_output
    b = res.budget["summary"]
    assert f"{b['cumulative_impact'].iloc[-1]:,.0f}" in flagship_output
    # the net-benefit table holds only the headline WTPs (the US range ends), not the 13-point grid
    assert res.wtp_report == [100000.0, 150000.0]
    rows = [re.match(r"^(payer \(base\)|societal) +(\d[\d,]*) +(-?[\d,]+) +(-?[\d,]+) +\S", ln)
            for ln in flagship_output.splitlines()]
    rows = [m.groups() for m in rows if m]
    assert [(p, w) for p, w, *_ in rows] == [("payer (base)", "100,000"), ("payer (base)", "150,000"),
                                             ("societal", "100,000"), ("societal", "150,000")]
    # one block per perspective, base case first; NMB = E·λ − C with the perspective's own total cost
    tot = res.totals.set_index("strategy")
    for (_, _, chemo, cart), (col, lam) in zip(rows, [("cost", 1e5), ("cost", 1.5e5), ("cost_societal", 1e5),
                                                      ("cost_societal", 1.5e5)]):
        assert [chemo, cart] == [f"{tot.loc[s, 'qaly'] * lam - tot.loc[s, col]:,.0f}" for s in ("chemo", "cart")]


def test_threshold_price_makes_the_icer_equal_the_threshold(flagship_result):
    """Re-run at the reported price: the ICER must equal the WTP (independent of the linear solve)."""
    p = flagship_result.price
    assert set(p["perspective"]) == {"payer", "societal"} and set(p["wtp"]) == {100000.0, 150000.0}
    for _, r in p.iterrows():
        again = run(FLAGSHIP, psa=False, overrides={"parameters": {"c_cart": float(r["threshold_price"])}},
                    checks=False)
        table = again.icers if r["perspective"] == "payer" else again.perspectives[r["perspective"]]
        assert table.set_index("strategy").loc["cart", "icer"] == pytest.approx(r["wtp"], rel=1e-9)


def test_quiet_prints_nothing_and_full_prints_every_table(runner):
    r = runner.invoke(app, ["run", str(FLAGSHIP), "--no-psa", "-q"])
    assert r.exit_code == 0 and r.stdout == ""
    r = runner.invoke(app, ["run", str(FLAGSHIP), "--no-psa", "--full"])
    assert r.exit_code == 0, r.output
    assert "Net benefit at willingness to pay" in r.stdout and "Patients and costs by strategy" in r.stdout
    assert r.stdout.count("│       0 │") == 2  # the full NMB table starts at WTP 0, one row per strategy


def _config(tmp_path, extra: str) -> str:
    p = tmp_path / "c.yaml"
    p.write_text(f"ces: 1\nmodel: {ROOT / 'models' / 'cart_lbcl.yaml'}\nwtp: {{from: 0, to: 300000, by: 25000}}\n"
                 + extra)
    return str(p)


def test_wtp_report_default_and_choice(tmp_path):
    assert run(_config(tmp_path, ""), psa=False).wtp_report == [0.0, 150000.0, 300000.0]  # first, middle, last
    assert run(_config(tmp_path, "wtp_report: [50000]\n"), psa=False).wtp_report == [50000.0]
    # a --wtp override drops headline values that are not on its grid, then falls back to the default
    assert run(_config(tmp_path, "wtp_report: [50000]\n"), wtp=[1.0, 2.0], psa=False).wtp_report == [1.0, 2.0]


def test_wtp_report_off_the_grid_is_an_error_naming_the_key(runner, tmp_path):
    r = runner.invoke(app, ["run", _config(tmp_path, "wtp_report: [60000]\n"), "--no-psa"])
    assert r.exit_code == 2 and "wtp_report" in r.output and "60000" in r.output and "Traceback" not in r.output


def test_price_block_with_an_unknown_parameter_is_an_error(runner, tmp_path):
    r = runner.invoke(app, ["run", _config(tmp_path, "price: {parameter: c_carr}\n"), "--no-psa"])
    assert r.exit_code == 2 and "price.parameter" in r.output and "c_carr" in r.output


def test_nmb_is_printed_per_perspective_base_case_first(runner):
    """Sweden's base case is societal: its NMB rows come first, each row labelled with its perspective."""
    cfg = CONFIGS / "cart_lbcl_sweden.yaml"
    r = runner.invoke(app, ["run", str(cfg), "--no-psa"], env={"COLUMNS": "100"})
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("Net monetary benefit"))
    rows = lines[head + 3:head + 5]
    assert rows[0].startswith("societal (base)") and rows[1].startswith("payer")
    res = run(cfg, psa=False)
    tot = res.totals.set_index("strategy")
    lam = res.wtp_report[0]
    for row, col in zip(rows, ("cost_societal", "cost")):
        for s in ("chemo", "cart"):
            assert f"{tot.loc[s, 'qaly'] * lam - tot.loc[s, col]:,.0f}" in row, (row, s, col)


@pytest.mark.parametrize("name", ["cart_lbcl_sweden", "cart_lbcl_japan", "genetherapy_tdt_instalments", "hiv_dsa",
                                  "sick_sicker"])
def test_other_configs_summary_fits_100_columns(runner, name):
    r = runner.invoke(app, ["run", str(CONFIGS / f"{name}.yaml"), "--no-psa"], env={"COLUMNS": "100"})
    assert r.exit_code == 0, r.output
    assert max(len(x) for x in r.stdout.splitlines()) <= 100
    assert "--full" in r.stdout.splitlines()[-1]


@pytest.mark.parametrize("doc, min_lines", [("docs/outputs.md", 40), ("README.md", 15)])
def test_docs_first_screen_is_the_flagship_output(flagship_output, doc, min_lines):
    """The first text block of docs/outputs.md (the whole screen) and of the README (an excerpt) is the `make run`
    output, trimmed (`…` marks cut rows), in order."""
    text = (ROOT / doc).read_text()
    block = text.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    out = [ln.rstrip() for ln in flagship_output.splitlines()]
    shown = [ln.rstrip() for ln in block if ln.strip() != "…"]
    assert len(shown) >= min_lines
    pos = 0
    for ln in shown:  # each shown line appears in the output, after the previous one
        pos = out.index(ln, pos) + 1


def test_probabilistic_budget_impact_line_comes_from_the_bia_psa(runner):
    cfg = CONFIGS / "genetherapy_tdt_refund.yaml"
    r = runner.invoke(app, ["run", str(cfg), "--draws", "50"], env={"COLUMNS": "100"})
    assert r.exit_code == 0, r.output
    last = run(cfg, draws=50).budget["psa"].iloc[-1]
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("PSA cumulative impact"))
    assert f"{last['cumulative_mean']:,.0f}" in line and f"{last['cumulative_upper']:,.0f}" in line
    assert "payment model" in r.stdout.splitlines()[-2]  # its cash-flow table is left to --full
