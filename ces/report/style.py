"""The one figure style of ces (every figure of ``--plots``, the HTML report, ``ces dsa`` and ``ces fit``).

* Fonts and sizes: DejaVu Sans (shipped with matplotlib, so the same on every machine), 10 pt text,
  11 pt titles, 8.5 pt legends; 150 dpi PNG; SVG with fixed element ids and no time stamp (same run →
  same bytes).
* One colour, line style and marker per strategy, by the strategy's position in the model (so a
  strategy looks the same in every figure); colours are the Okabe–Ito colour-blind-safe palette
  (Okabe & Ito 2008, "Color Universal Design", https://jfly.uni-koeln.de/color/), and line styles and
  markers differ too, so the figures stay readable printed in greyscale.
* Light grid, no top/right spines, legends on a white box.

Formatting only; no number is computed here.
"""

from __future__ import annotations

import io

#: Okabe–Ito palette (black last: it is kept for reference lines such as the CEAF and the WTP line)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: other series (states of a trace, categories of a budget) cycle through these, after the strategy colours
SERIES = PALETTE

RC = {
    "font.family": "DejaVu Sans", "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 8.5, "legend.framealpha": 0.92,
    "legend.edgecolor": "#bbbbbb", "axes.grid": True, "grid.alpha": 0.35, "grid.linewidth": 0.6,
    "axes.spines.top": False, "axes.spines.right": False, "axes.titlelocation": "left",
    "lines.linewidth": 1.8, "figure.dpi": 100, "savefig.dpi": 150, "savefig.bbox": "tight",
    "savefig.pad_inches": 0.08, "svg.hashsalt": "ces", "axes.prop_cycle": None,  # set in pyplot()
}


def pyplot():
    """matplotlib.pyplot on the Agg backend with the ces style applied."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams.update({**RC, "axes.prop_cycle": cycler(color=list(PALETTE))})
    return plt


class StrategyStyle:
    """Colour, line style and marker of each strategy, fixed by its position in ``strategies``."""

    def __init__(self, strategies):
        self.order = list(strategies)

    def _i(self, s) -> int:
        return self.order.index(s) if s in self.order else len(self.order)

    def color(self, s) -> str:
        return PALETTE[self._i(s) % (len(PALETTE) - 1)]

    def line(self, s):
        return LINESTYLES[self._i(s) % len(LINESTYLES)]

    def marker(self, s) -> str:
        return MARKERS[self._i(s) % len(MARKERS)]

    def kw(self, s) -> dict:
        """plot() keywords of a strategy's line."""
        return {"color": self.color(s), "ls": self.line(s), "marker": self.marker(s)}


def title(ax, main: str, sub: str | None = None) -> None:
    """A bold title line and, under it, a line with the perspective / currency / WTP details."""
    ax.set_title(main if not sub else f"{main}\n{sub}", fontsize=11, loc="left")


def money(cur: str) -> str:
    """`` (USD)`` for axis labels; empty when the model sets no currency."""
    return f" ({cur})" if cur else ""


def scaled(values, cur: str = "") -> tuple:
    """(divisor, unit word) so that money axes read in thousands or millions rather than 8-digit ticks."""
    import numpy as np

    m = float(np.nanmax(np.abs(np.asarray(values, dtype=float)))) if np.size(values) else 0.0
    if m >= 5e6:
        return 1e6, "million"
    return 1.0, ""


def thousands(ax, axis: str = "y") -> None:
    """Tick labels with thousands separators (1,000,000), small values with 2 significant digits."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1000 or v == int(v) else f"{v:,.2g}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def tight_bbox(fig):
    """The figure's tight bounding box (inches, padded as ``savefig.pad_inches``), computed once so that
    the PNG and the SVG of a figure share it (``bbox_inches="tight"`` would lay the figure out again for
    each format)."""
    fig.draw_without_rendering()
    return fig.get_tightbbox(fig.canvas.get_renderer()).padded(RC["savefig.pad_inches"])


def render(fig, fmt: str, bbox=None) -> bytes:
    """The figure as PNG or SVG bytes (SVG without a time stamp: reproducible); ``bbox``: a box from
    :func:`tight_bbox` (default: tight, computed by matplotlib)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None,
                bbox_inches="tight" if bbox is None else bbox)
    return buf.getvalue()
