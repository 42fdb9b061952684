"""CLI conventions: --version, flags as flags, --json/-q everywhere, strategy labels, money headers."""

from __future__ import annotations

import json

import pandas as pd

from ces import __version__
from ces.cli import app
from tests.conftest import CONFIGS, MODELS

HIV = MODELS / "hiv_dmhee.yaml"


def test_version(runner):
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == f"ces {__version__}"


def test_boolean_flags_have_no_value_placeholder(runner):
    r = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    line = next(ln for ln in r.stdout.splitlines() if "--no-psa" in ln)
    assert "<bool>" not in line and "Skip the PSA" in line


def test_json_and_quiet_on_dsa_bia_price_sweep(runner, tmp_path):
    cases = {
        "dsa": ["dsa", str(CONFIGS / "hiv_dsa.yaml")],
        "bia": ["bia", str(CONFIGS / "cart_lbcl_bia.yaml")],
        "price": ["price", str(MODELS / "sick_sicker.yaml"), "-p", "c_trtB", "--wtp", "100000"],
        "sweep": ["sweep", str(HIV), "--grid", "cost_C=9000,9500", "--wtp", "0:20000:20000"],
    }
    for name, args in cases.items():
        out = tmp_path / f"{name}.json"
        r = runner.invoke(app, args + ["-q", "--json", str(out)])
        assert r.exit_code == 0, (name, r.output)
        assert r.stdout.strip() == "", (name, r.stdout)
        doc = json.loads(out.read_text())
        assert doc, name
    assert json.loads((tmp_path / "price.json").read_text())["parameter"] == "c_trtB"
    assert "one_way" in json.loads((tmp_path / "dsa.json").read_text())


def test_sweep_out_is_a_directory(runner, tmp_path):
    r = runner.invoke(app, ["sweep", str(HIV), "--grid", "cost_C=9000", "--wtp", "0:1:1", "-q", "--out",
                            str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "--out is an output directory" in r.stderr
    r = runner.invoke(app, ["sweep", str(HIV), "--grid", "cost_C=9000", "--wtp", "20000:20000:1", "-q", "--out",
                            str(tmp_path / "d")])
    t = pd.read_csv(tmp_path / "d" / "sweep.csv")
    comb = t[t["strategy"] == "comb"].iloc[0]
    assert comb["icer"] > 0 and comb["status"] == "ND"  # the grid sweep carries the frontier ICER


def test_labels_icer_digits_and_currency_in_console_and_csv(runner, tmp_path):
    r = runner.invoke(app, ["run", str(HIV), "--out", str(tmp_path / "o")], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "Zidovudine + lamivudine" in r.stdout and "Inc. cost (GBP)" in r.stdout and "ICER (GBP)/LY" in r.stdout
    icer_line = next(ln for ln in r.stdout.splitlines() if "Zidovudine + lamivudine" in ln and "ND" in ln)
    icer_cell = [c.strip() for c in icer_line.split("│") if c.strip()][5]
    assert "." not in icer_cell and icer_cell.replace(",", "").isdigit()
    t = pd.read_csv(tmp_path / "o" / "base_case_icer.csv")
    assert list(t.columns[:2]) == ["strategy", "label"] and "Zidovudine monotherapy" in set(t["label"])
    sheets = pd.read_excel(tmp_path / "o" / "results.xlsx", sheet_name=None, header=1)  # row 1: the sheet's title
    assert "label" in sheets["base_case_totals"].columns and "Zidovudine monotherapy" in set(
        sheets["base_case_totals"]["label"])


def test_out_always_names_a_directory(runner):
    """One name per meaning: no command has an `--out` option that takes a file."""
    import typer.main

    group = typer.main.get_command(app)
    with_out = set()
    for name, cmd in group.commands.items():
        for p in cmd.params:
            if "--out" in getattr(p, "opts", []):
                with_out.add(name)
                assert "directory" in (p.help or "").lower(), (name, p.help)
    assert {"run", "sweep", "dsa", "bia"} <= with_out
