"""Each figure's labels, titles and legend entries (read from the matplotlib Figure, not from pixels), the
budget-impact PSA whiskers, the KM at-risk table of `ces fit`, one style across figures, and figures
drawn once per `--out` (the report embeds the very SVG written to plots/)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ces.pipeline import run
from ces.report import plots_dsa, plots_psa
from ces.report.figures import headline_wtp, labels_of, run_figures
from tests.conftest import CONFIGS


@pytest.fixture(scope="module")
def flagship():
    res = run(CONFIGS / "flagship.yaml", draws=200)
    fs = run_figures(res)
    yield res, fs
    fs.close()


def _legend(ax) -> list:
    leg = ax.get_legend() or ax.figure.legends[0]
    return [t.get_text() for t in leg.get_texts()]


def _title(ax) -> str:
    return ax.get_title(loc="left")


def test_flagship_has_every_figure_per_perspective(flagship):
    _, fs = flagship
    assert fs.names() == ["trace", "survival", "budget_impact", "ce_plane", "ceac", "evpi", "ce_plane_societal",
                          "ceac_societal", "evpi_societal"]


def test_ce_plane_has_draws_means_ellipses_and_the_wtp_line(flagship):
    from ces.analysis.voi import ce_ellipse

    res, fs = flagship
    assert headline_wtp(res) == 150000.0  # the US setting's threshold
    for name, per, cost in (("ce_plane", "healthcare payer", res.psa.matrix("cost")),
                            ("ce_plane_societal", "societal", res.psa.costs(res.perspective_list[1].categories))):
        ax = fs.figures[name].axes[0]
        assert _title(ax).startswith("Cost-effectiveness plane vs Salvage chemotherapy")
        assert f"{per} perspective" in _title(ax) and "200 PSA draws" in _title(ax)
        assert ax.get_xlabel() == "Incremental QALYs" and ax.get_ylabel() == "Incremental cost (USD)"
        legend = _legend(ax)
        assert legend[:3] == ["CAR-T vs Salvage chemotherapy: draws", "CAR-T vs Salvage chemotherapy: 95 % ellipse",
                              "CAR-T vs Salvage chemotherapy: mean"]
        assert legend[3].startswith("WTP USD 150,000 per QALY")
        e = res.psa.matrix("qaly")
        dx, dy = e[:, 1] - e[:, 0], cost[:, 1] - cost[:, 0]
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        ell = ce_ellipse(dx, dy)
        np.testing.assert_allclose(lines[legend[1]].get_xdata(), ell["effect"])
        np.testing.assert_allclose(lines[legend[1]].get_ydata(), ell["cost"])
        assert lines[legend[2]].get_xdata()[0] == pytest.approx(dx.mean())
        assert lines[legend[2]].get_ydata()[0] == pytest.approx(dy.mean())
        wl = lines[legend[3]]
        np.testing.assert_allclose(wl.get_ydata(), 150000.0 * np.asarray(wl.get_xdata()))


def test_ceac_carries_the_ceaf_and_the_perspective(flagship):
    res, fs = flagship
    for name, per, w in (("ceac", "healthcare payer", res.psa_tables["wtp"]),
                         ("ceac_societal", "societal", res.psa_perspectives["societal"]["wtp"])):
        ax = fs.figures[name].axes[0]
        assert _title(ax).startswith("Cost-effectiveness acceptability curves and frontier (CEAF)")
        assert f"{per} perspective" in _title(ax)
        assert ax.get_xlabel() == "Willingness to pay (USD per QALY)"
        assert ax.get_ylabel() == "Probability cost-effective"
        assert _legend(ax) == ["Salvage chemotherapy", "CAR-T", "CEAF (frontier: optimal strategy)"]
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        np.testing.assert_allclose(lines["CEAF (frontier: optimal strategy)"].get_ydata(), w["ceaf"])
        np.testing.assert_allclose(lines["CAR-T"].get_ydata(), w["ceac.cart"])
        assert any(t.get_text() == "WTP 150,000" for t in ax.texts)


def test_evpi_names_currency_and_perspective(flagship):
    res, fs = flagship
    ax = fs.figures["evpi_societal"].axes[0]
    assert _title(ax) == "Expected value of perfect information\nsocietal perspective"
    assert ax.get_ylabel() == "EVPI per person (USD)"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), res.psa_perspectives["societal"]["wtp"]["evpi"])


def test_one_style_a_strategy_has_one_colour_in_every_figure(flagship):
    _, fs = flagship
    import matplotlib.colors as mc

    ceac = {ln.get_label(): mc.to_hex(ln.get_color()) for ln in fs.figures["ceac"].axes[0].get_lines()}
    plane = {ln.get_label(): mc.to_hex(ln.get_color()) for ln in fs.figures["ce_plane"].axes[0].get_lines()}
    surv = {ln.get_label(): mc.to_hex(ln.get_color()) for ln in fs.figures["survival"].axes[0].get_lines()}
    assert ceac["CAR-T"] == plane["CAR-T vs Salvage chemotherapy: mean"] == surv["CAR-T: os (cure fraction 0.43)"]
    assert ceac["Salvage chemotherapy"] != ceac["CAR-T"]
    bars = fs.figures["budget_impact"].axes[0]
    handles, labels = bars.get_legend_handles_labels()
    assert labels == ["Salvage chemotherapy", "CAR-T"]
    assert mc.to_hex(handles[1].patches[0].get_facecolor()) == ceac["CAR-T"]


def test_survival_and_trace_are_labelled(flagship):
    _, fs = flagship
    ax = fs.figures["survival"].axes[0]
    assert _title(ax).startswith("Survival per strategy")
    assert ax.get_xlabel() == "Time since start (years)" and ax.get_ylabel() == "Survival probability"
    legend = _legend(ax)
    assert {"Salvage chemotherapy: pfs (cure fraction 0.09)", "CAR-T: os (cure fraction 0.43)"} <= set(legend)
    assert any(t.startswith("background survival") for t in legend)
    tr = fs.figures["trace"]
    assert [a.get_title(loc="left") for a in tr.axes] == ["Salvage chemotherapy", "CAR-T"]
    assert _legend(tr.axes[0]) == ["PF", "PD", "Dead"]


def test_budget_impact_without_psa_has_no_whiskers(flagship):
    res, fs = flagship
    fig = fs.figures["budget_impact"]
    assert "Budget impact, healthcare payer budget (USD), undiscounted" in fig._suptitle.get_text()
    net = fig.axes[1]
    assert not net.containers[1:]  # the bars only: no error bars without per-draw results
    heights = [p.get_height() for p in net.containers[0].patches]
    np.testing.assert_allclose(heights, res.budget["summary"]["net_impact"] / 1e6)
    assert net.get_ylabel() == "Net budget impact (USD million)"


def test_budget_impact_whiskers_are_the_psa_interval():
    from matplotlib.container import ErrorbarContainer

    res = run(CONFIGS / "genetherapy_tdt_refund.yaml", draws=50)
    fs = run_figures(res)
    try:
        net = fs.figures["budget_impact"].axes[1]
        eb = next(c for c in net.containers if isinstance(c, ErrorbarContainer))
        psa = res.budget["psa"]
        line, _, (bars,) = eb.lines
        np.testing.assert_allclose(line.get_ydata(), psa["net_impact_mean"] / 1e6)
        segs = bars.get_segments()  # one vertical whisker per year: (x, lower) → (x, upper)
        np.testing.assert_allclose([s[0][1] for s in segs], psa["net_impact_lower"] / 1e6)
        np.testing.assert_allclose([s[1][1] for s in segs], psa["net_impact_upper"] / 1e6)
        np.testing.assert_allclose([s[0][0] for s in segs], psa["year"])
        assert eb.get_label() == "PSA mean and 95 % interval (50 draws)"
    finally:
        fs.close()


def test_tornado_names_strategies_perspective_and_base():
    res = run(CONFIGS / "hiv_dsa.yaml")
    from ces.studies.dsa import run_dsa

    dsa = run_dsa(CONFIGS / "hiv_dsa.yaml")
    fs = run_figures(res, dsa)
    try:
        ax = fs.figures["tornado"].axes[0]
        assert _title(ax).splitlines() == ["One-way sensitivity: comb vs mono",
                                           "healthcare payer perspective; bars: outcome at the low / high input value"]
        assert ax.get_xlabel() == f"ICER ({res.loaded.model.currency} per life-year)"
        assert _legend(ax) == ["low input value", "high input value"]
        base = [ln for ln in ax.get_lines() if list(ln.get_xdata()) == [dsa["base"]] * 2]
        assert base and any(t.get_text() == f"base case {dsa['base']:,.0f}" for t in ax.texts)
        assert [t.get_text().split(" [")[0] for t in ax.get_yticklabels()][::-1] == list(dsa["one_way"]["parameter"])
    finally:
        fs.close()


def test_expected_loss_figure_labels():
    res = run(CONFIGS / "flagship.yaml", psa=False)
    lab = labels_of(res)
    loss = pd.DataFrame({"wtp": [0.0, 1.0, 0.0, 1.0], "strategy": ["chemo", "chemo", "cart", "cart"],
                         "expected_loss": [1.0, 3.0, 2.0, 0.5]})
    fig = plots_psa.expected_loss_figure(loss, lab, "societal perspective")
    ax = fig.axes[0]
    assert _title(ax) == "Expected loss curves\nsocietal perspective"
    assert _legend(ax) == ["Salvage chemotherapy", "CAR-T", "lower envelope = EVPI"]
    assert list(ax.get_lines()[-1].get_ydata()) == [1.0, 0.5]  # the lower envelope
    assert ax.get_ylabel() == "Expected loss per person (USD)"


def test_fit_km_figure_has_the_numbers_at_risk_table():
    from ces.report.fit_plots import km_figure
    from ces.survival.km import number_at_risk

    t = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    e = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0])
    w = np.ones_like(t)
    fig = km_figure("os", [], t, e, w, "month")
    ax, table = fig.axes
    assert _title(ax).startswith("os: fitted curves over the Kaplan–Meier")
    assert ax.get_xlabel() == "Time (month)" and ax.get_ylabel() == "Survival probability"
    assert [x.get_text() for x in table.get_yticklabels()] == ["Number at risk"]
    ticks = list(ax.get_xticks())
    cells = [(txt.get_position()[0], txt.get_text()) for txt in table.texts]
    assert [x for x, _ in cells] == ticks
    assert [s for _, s in cells] == [f"{n:,.0f}" for n in number_at_risk(t, ticks, w)]
    assert [s for _, s in cells][0] == "10" and all(0 <= x <= 10 for x in ticks)
    assert "censored" in _legend(ax)


def test_figures_are_drawn_once_and_the_report_embeds_the_written_svg(tmp_path, monkeypatch):
    import json

    import ces.report.figures as figures
    from ces.report.outputs import write_output_dir

    res = run(CONFIGS / "sick_sicker.yaml", draws=50)
    calls = []
    real = figures.run_figures
    monkeypatch.setattr(figures, "run_figures", lambda *a, **k: calls.append(1) or real(*a, **k))
    renders = []
    real_render = figures.render
    monkeypatch.setattr(figures, "render", lambda fig, fmt, *a: renders.append(fmt) or real_render(fig, fmt, *a))
    out = tmp_path / "out"
    names = write_output_dir(res, out, 0.0, plots=True)
    assert calls == [1]
    data = json.loads((out / "report_data.json").read_text())
    assert set(data["figures"]) == {n[len("plots/"):-4] for n in names if n.endswith(".svg")}
    for n, svg in data["figures"].items():
        assert (out / "plots" / f"{n}.svg").read_text(encoding="utf-8") == svg
    assert renders.count("svg") == renders.count("png") == len(data["figures"])  # each rendered once per format
    renders.clear()
    write_output_dir(res, tmp_path / "no_plots", 0.0)
    assert renders.count("png") == 0 and renders.count("svg") == len(data["figures"])


def test_tornado_heading_helpers():
    lab = labels_of(run(CONFIGS / "flagship.yaml", psa=False))
    d = {"strategy": "cart", "comparator": "chemo", "outcome": "nmb", "wtp": 100000.0, "perspective_label": "societal"}
    assert plots_dsa.dsa_title(d, lab)[0] == "One-way sensitivity: CAR-T vs Salvage chemotherapy"
    assert plots_dsa.dsa_title(d, lab)[1].startswith("societal perspective")
    assert plots_dsa.dsa_axis_label(d, lab) == "Incremental NMB (USD) at WTP 100,000"


def test_ces_dsa_tornado_names_strategies_and_perspective(tmp_path):
    from ces.report.plots_dsa import dsa_heading, tornado_figure
    from ces.studies.dsa import run_dsa

    r = run_dsa(CONFIGS / "hiv_dsa.yaml")
    head = dsa_heading(r)
    assert head[0] == f"One-way sensitivity: {r['strategy']} vs {r['comparator']}"
    assert head[1].startswith(f"{r['perspective_label']} perspective")
    fig = tornado_figure(r["one_way"], r["base"], "ICER", None, head)
    assert _title(fig.axes[0]) == "\n".join(head)


def test_report_captions_name_the_perspective():
    from ces.report.html import caption

    assert caption("ce_plane").endswith("healthcare payer perspective")
    assert caption("ceac_societal").endswith("— societal perspective")
    assert caption("ce_plane_societal").startswith("Cost-effectiveness plane")
    assert caption("budget_impact") == "Budget impact by year"
