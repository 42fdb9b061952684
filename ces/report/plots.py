"""Figure files (PNG and SVG) for ``--plots``, ``ces dsa --out`` and ``ces evppi --plots``.

The figures themselves are drawn by :mod:`ces.report.plots_model` (trace, survival, budget impact),
:mod:`ces.report.plots_psa` (CE plane, CEAC/CEAF, EVPI, expected loss, EVPPI, convergence) and
:mod:`ces.report.plots_dsa` (tornado), all in the one style of :mod:`ces.report.style`;
:mod:`ces.report.figures` collects a run's figures so that each is drawn once.
"""

from __future__ import annotations

from pathlib import Path

from ces.report.figures import FigureSet, labels_of, run_figures
from ces.report.plots_dsa import tornado_bars, tornado_figure  # noqa: F401  (public: tests, cli)
from ces.report.style import pyplot as _plt  # noqa: F401  (kept for callers of the old name)


def plot_run(run, folder: Path, dsa: dict | None = None) -> list:
    """All figures that the run's results support, as PNG + SVG in ``folder``; returns the file names."""
    fs = run_figures(run, dsa)
    try:
        return fs.write(Path(folder))
    finally:
        fs.close()


def _write_one(name: str, fig, folder: Path) -> list:
    fs = FigureSet()
    fs.add(name, fig)
    try:
        return fs.write(Path(folder))
    finally:
        fs.close()


def plot_tornado(one_way, base: float, label: str, folder: Path, labels: dict | None = None,
                 title=None) -> list:
    """tornado.png / tornado.svg (see :func:`ces.report.plots_dsa.tornado_figure`)."""
    return _write_one("tornado", tornado_figure(one_way, base, label, labels, title), folder)


def plot_voi(run, folder: Path, wtp: float) -> list:
    """Value-of-information figures from ``run.psa_tables`` (filled by ``ces evppi``); file names written."""
    from ces.report import plots_psa as pp

    lab = labels_of(run)
    tabs = run.psa_tables
    spec = run.loaded.model
    fs = FigureSet()
    fs.add("evppi_bars", pp.evppi_bars_figure(tabs["evppi_ranking"], wtp, lab))
    fs.add("evppi_wtp", pp.evppi_wtp_figure(tabs["evppi"], lab))
    fs.add("expected_loss", pp.expected_loss_figure(tabs["expected_loss"], lab))
    c, e = run.psa.matrix("cost"), run.psa.matrix(spec.effect)  # payer perspective (perspective_costs)
    fs.add("ce_plane_ellipses", pp.ce_plane_figure(c, e, run.psa.strategies, tabs["ce_ellipse"]["vs"].iloc[0], lab,
                                                   f"{pp.PAYER_LABEL} perspective", run.psa.n_draws, wtp))
    fs.add("convergence", pp.convergence_figure(tabs["convergence_curve"], lab))
    try:
        return fs.write(Path(folder))
    finally:
        fs.close()
