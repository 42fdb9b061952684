"""The one-file HTML report: contents, self-containment, `ces report DIR`, and a real-browser load.

The browser test runs headless Chromium from the OS packages (`make test-browser` installs it); it is
skipped, with the reason, when no Chromium binary is on the PATH.  It fails on any console message
of level error or warning (a broken data URI, a blocked request, a script error).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ces.cli import app
from ces.pipeline import run
from ces.report.diagram import diagram_svg, structure
from ces.report.outputs import write_output_dir
from tests.conftest import CONFIGS, ROOT

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.ids = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        self.ids += [v for k, v in attrs if k == "id"]


@pytest.fixture(scope="module")
def flagship_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("flagship") / "out"
    write_output_dir(run(CONFIGS / "cart_lbcl.yaml", draws=200), out, 1.0)
    return out


def test_report_is_self_contained_and_has_every_section(flagship_dir):
    html = (flagship_dir / "report.html").read_text(encoding="utf-8")
    p = _Tags()
    p.feed(html)
    assert "script" not in p.tags and "link" not in p.tags and "iframe" not in p.tags
    for tag, k, v in p.attrs:  # nothing fetched from outside: only data URIs and in-page anchors
        if k in ("src", "href"):
            assert v.startswith(("data:image/svg+xml;base64,", "#")), (tag, k, v[:60])
    assert not re.search(r"url\((?!#)", html)
    for sec in ("model", "settings", "inputs", "base", "psa", "warnings", "provenance"):
        assert sec in p.ids, sec
    imgs = [v for tag, k, v in p.attrs if tag == "img" and k == "src"]
    assert len(imgs) >= 5  # diagram, trace, survival, CE plane, CEAC, EVPI
    # every parameter is listed, and the provenance names the model file's hash
    man = json.loads((flagship_dir / "manifest.json").read_text())
    assert man["files"]["model"]["sha256"] in html
    res = json.loads((flagship_dir / "results.json").read_text())
    for s in res["strategies"]:
        assert f"<td>{s}</td>" in html
    for name in json.loads((flagship_dir / "report_data.json").read_text())["inputs"]:
        assert f"<td>{name['parameter']}</td>" in html
    assert "CAR-T" in html and "USD" in html


def test_ces_report_rebuilds_the_same_page(flagship_dir, runner, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(flagship_dir, copy)
    before = (copy / "report.html").read_text(encoding="utf-8")
    (copy / "report.html").unlink()
    r = runner.invoke(app, ["report", str(copy)])
    assert r.exit_code == 0, r.output
    assert (copy / "report.html").read_text(encoding="utf-8") == before
    (copy / "manifest.json").unlink()
    r = runner.invoke(app, ["report", str(copy)])
    assert r.exit_code == 2 and "manifest.json is missing" in r.output


def test_diagram_has_every_state_and_transition():
    from ces.pipeline import build

    _, model = build(ROOT / "models" / "sick_sicker.yaml")
    st = structure(model)
    assert [n["name"] for n in st["nodes"]] == ["H", "S1", "S2", "D"]
    pairs = {(e["from"], e["to"]) for e in st["edges"]}
    assert pairs == {("H", "H"), ("H", "S1"), ("H", "D"), ("S1", "H"), ("S1", "S1"), ("S1", "S2"), ("S1", "D"),
                     ("S2", "S2"), ("S2", "D")}
    svg = diagram_svg(st)
    assert svg.count("<rect") == 4 and svg.count('class="edge"') == len(pairs)
    _, psm = build(ROOT / "models" / "cart_lbcl.yaml")
    assert {(e["from"], e["to"]) for e in structure(psm)["edges"]} == {("PF", "PD"), ("PD", "Dead"), ("PF", "Dead")}


@pytest.mark.parametrize("name", sorted(p.stem for p in CONFIGS.glob("*.yaml")))
def test_every_example_config_writes_a_report(name, tmp_path, monkeypatch):
    import ces.report.figures as figures

    monkeypatch.setattr(figures, "run_figures", lambda *a, **k: figures.FigureSet())  # figures: test_figures.py
    out = tmp_path / "out"
    res = run(CONFIGS / f"{name}.yaml", draws=30 if name != "hiv_dsa" else None)
    write_output_dir(res, out, 0.0)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Base case</h2>" in html and res.loaded.model.title.split(",")[0] in html


def console_problems(html_path: Path, screenshot: Path | None = None) -> list:
    """Console messages of level warning/error when headless Chromium loads the page (network disabled)."""
    args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1280,2200", "--hide-scrollbars",
            "--virtual-time-budget=3000"]
    args += [f"--screenshot={screenshot}"] if screenshot is not None else ["--dump-dom"]
    p = subprocess.run(args + [html_path.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    lines = p.stderr.splitlines()
    return [ln for ln in lines if "CONSOLE" in ln or "Failed to load resource" in ln or "Uncaught" in ln]


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (run `make test-browser`, which "
                    "installs the OS package `chromium`)")
def test_browser_loads_the_report_without_console_errors(flagship_dir, tmp_path):
    # the check can fail: a page with a script error and a remote image is caught
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>console.error('broken'); undefined_fn();</script>"
                   "<img src='https://example.invalid/x.png'></body></html>")
    assert console_problems(bad), "the console check did not see the injected errors"
    assert console_problems(flagship_dir / "report.html") == []
    shot = tmp_path / "report_screenshot.png"
    console_problems(flagship_dir / "report.html", shot)
    assert shot.exists() and shot.stat().st_size > 10_000
    if os.environ.get("CES_SCREENSHOT_DIR"):  # `make test-browser` refreshes docs/report_screenshot.png
        shutil.copy(shot, Path(os.environ["CES_SCREENSHOT_DIR"]) / shot.name)


def test_tornado_shows_both_bars_when_a_range_does_not_bracket_the_base(tmp_path):
    """Row b: both outcomes above the base (120 and 150); both bars start at the base and both are drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from ces.report.plots import plot_tornado, tornado_bars

    (l_lo, w_lo), (l_hi, w_hi) = tornado_bars([120.0, 90.0], [150.0, 130.0], 100.0)
    assert list(l_lo) == list(l_hi) == [100.0, 100.0]
    assert list(w_lo) == [20.0, -10.0] and list(w_hi) == [50.0, 30.0]
    ow = pd.DataFrame({"parameter": ["a", "b"], "low": [1, 2], "high": [2, 3], "outcome_low": [90.0, 120.0],
                       "outcome_high": [130.0, 150.0], "range": [40.0, 30.0]})
    names = plot_tornado(ow, 100.0, "ICER (USD per QALY)", tmp_path, {"b": "Cost of drug B"}, "t")
    svg = (tmp_path / "tornado.svg").read_text()
    assert "tornado.svg" in names and "Cost of drug B" in svg and "base case 100" in svg


def test_run_with_dsa_puts_the_tornado_in_the_report_and_the_workbook(runner, tmp_path):
    import openpyxl

    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(CONFIGS / "hiv_dsa.yaml"), "-q", "--out", str(out), "--plots"])
    assert r.exit_code == 0, r.output
    data = json.loads((out / "report_data.json").read_text())
    assert {"tornado", "trace"} <= set(data["figures"]) and data["dsa"]["strategy"] == "comb"
    assert 'id="dsa"' in (out / "report.html").read_text()
    wb = openpyxl.load_workbook(out / "results.xlsx")
    ow = wb["dsa_one_way"]
    header = [c.value for c in ow[2]]
    assert header[:2] == ["perspective", "parameter"] and ow.max_row == 2 + 4  # rr, cost_zido, cost_lami, dr
    assert {ow.cell(row=i, column=1).value for i in range(3, 7)} == {"payer"}  # the base-case perspective
