"""Every figure of a run, drawn once: the same Figure gives ``plots/NAME.png``, ``plots/NAME.svg`` and the
SVG embedded in ``report.html`` (each SVG is rendered once and reused, byte for byte).

Which figures a run has: the trace; the survival curves (PSM); the budget impact (when configured);
per perspective (payer keeps the plain names, others get ``_KEY``) the CE plane, CEAC with the CEAF,
EVPI and — when the PSA tables hold them (``ces evppi``) — the expected loss curves; the tornado when
the run carries a one-way DSA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ces.report.style import StrategyStyle, pyplot, render, tight_bbox


@dataclass
class Labels:
    """What every figure's titles and axes name: currency, effect unit, strategy labels and styles."""

    currency: str
    effect: str  # qaly or ly
    strategy_labels: dict
    styles: StrategyStyle
    wtp: float | None = None  # the WTP line / headline WTP (None: no WTP grid)

    @property
    def eff_plural(self) -> str:
        return "QALYs" if self.effect == "qaly" else "life-years"

    @property
    def eff_unit(self) -> str:
        return "QALY" if self.effect == "qaly" else "life-year"

    def label(self, s) -> str:
        return self.strategy_labels.get(s) or str(s)

    def per_unit(self) -> str:
        """`` (USD per QALY)``"""
        return f" ({self.currency} per {self.eff_unit})" if self.currency else f" (per {self.eff_unit})"


def headline_wtp(run) -> float | None:
    """The WTP drawn as the CE-plane line: the setting's threshold when there is one, else the middle
    headline WTP (``wtp_report``), else the middle of the grid."""
    a = getattr(run, "appraisal", None)
    thr = (a or {}).get("threshold", {}).get("threshold") if a else None
    if thr:
        return float(thr)
    rep = list(getattr(run, "wtp_report", []) or [])
    if rep:
        return float(rep[len(rep) // 2])
    return float(run.wtps[len(run.wtps) // 2]) if run.wtps else None


def labels_of(run) -> Labels:
    spec = run.loaded.model
    names = list(run.model.strategies)
    return Labels(spec.currency or "", spec.effect, {s: cs.label or s for s, cs in run.model.strategies.items()},
                  StrategyStyle(names), headline_wtp(run))


@dataclass
class FigureSet:
    """name → matplotlib Figure, with each Figure rendered at most once per format."""

    figures: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)

    def add(self, name: str, fig) -> None:
        self.figures[name] = fig

    def names(self) -> list:
        return list(self.figures)

    def bytes(self, name: str, fmt: str) -> bytes:
        key = (name, fmt)
        if key not in self._cache:
            if (name, "bbox") not in self._cache:
                self._cache[(name, "bbox")] = tight_bbox(self.figures[name])
            self._cache[key] = render(self.figures[name], fmt, self._cache[(name, "bbox")])
        return self._cache[key]

    def svgs(self) -> dict:
        """name → SVG text (what the HTML report embeds)."""
        return {n: self.bytes(n, "svg").decode("utf-8") for n in self.figures}

    def write(self, folder: Path) -> list:
        """NAME.png and NAME.svg of every figure into ``folder``; returns the file names."""
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for n in self.figures:
            for fmt in ("png", "svg"):
                (folder / f"{n}.{fmt}").write_bytes(self.bytes(n, fmt))
                out.append(f"{n}.{fmt}")
        return out

    def close(self) -> None:
        plt = pyplot()
        for f in self.figures.values():
            plt.close(f)


def run_figures(run, dsa: dict | None = None) -> FigureSet:
    """Every figure the run's results support (see the module docstring), each drawn once."""
    from ces.report import plots_dsa, plots_model, plots_psa

    lab = labels_of(run)
    fs = FigureSet()
    if run.model.states:  # a pure decision tree has no states, so no trace
        fs.add("trace", plots_model.trace_figure(run, lab))
    if run.loaded.model.kind == "psm":
        fs.add("survival", plots_model.survival_figure(run, lab))
    if getattr(run, "budget", None) is not None:
        fs.add("budget_impact", plots_model.budget_figure(run, lab))
    if run.psa is not None:
        persps = getattr(run, "perspective_list", []) or [None]
        for p in persps:
            for name, fig in plots_psa.perspective_figures(run, p, lab):
                fs.add(name, fig)
    if dsa is not None and dsa.get("one_way") is not None and len(dsa["one_way"]):
        fs.add("tornado", plots_dsa.tornado_figure(dsa["one_way"], dsa["base"], plots_dsa.dsa_axis_label(dsa, lab),
                                                   plots_dsa.parameter_labels(run), plots_dsa.dsa_title(dsa, lab)))
    return fs
