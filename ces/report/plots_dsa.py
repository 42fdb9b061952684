"""The one-way sensitivity tornado (``ces dsa``, ``ces run`` with ``dsa:``): formatting only, the bars are
the one-way table's outcomes at the low and the high input value."""

from __future__ import annotations

import numpy as np

from ces.report.style import pyplot, thousands, title

LOW, HIGH = "#0072B2", "#E69F00"  # Okabe–Ito blue / orange (the high bar also hatched: greyscale)


def tornado_bars(lo: np.ndarray, hi: np.ndarray, base: float) -> tuple:
    """(left, width) of the low-value and the high-value bar of each row, both anchored at the base value.

    When a range does not bracket the base (both outcomes on one side), the two bars overlap; the
    caller draws the longer one first and the shorter one narrower on top, so neither is hidden.
    """
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    return (np.full_like(lo, base), lo - base), (np.full_like(hi, base), hi - base)


def parameter_labels(run) -> dict:
    """parameter → its `label:` (parameters without one are shown by name)."""
    return {n: d.meta.get("label") for n, d in run.model.model_defs.items() if d.meta.get("label")}


def dsa_axis_label(dsa: dict, lab) -> str:
    """The outcome axis: ICER (currency per unit) or incremental NMB (currency) at the DSA's WTP."""
    cur = lab.currency
    if dsa["outcome"] == "icer":
        return f"ICER{lab.per_unit()}"
    return f"Incremental NMB{f' ({cur})' if cur else ''} at WTP {dsa['wtp']:,.0f}"


def dsa_title(dsa: dict, lab) -> tuple:
    """(title, subtitle): strategy vs comparator; perspective."""
    per = dsa.get("perspective_label") or "healthcare payer"
    return (f"One-way sensitivity: {lab.label(dsa['strategy'])} vs {lab.label(dsa['comparator'])}",
            f"{per} perspective; bars: outcome at the low / high input value")


def dsa_heading(r: dict) -> tuple:
    """(title, subtitle) of the tornado of a ``run_dsa`` result (strategy labels from its model file)."""
    from types import SimpleNamespace

    labels = {s: st.label for s, st in r["loaded"].model.strategies.items() if st.label}
    return dsa_title(r, SimpleNamespace(label=lambda s: labels.get(s) or str(s)))


def tornado_figure(one_way, base: float, label: str, labels: dict | None = None, heading=None):
    """Tornado: one row per parameter (widest range on top), bars from the base value to the outcome at
    the low and at the high input value, a labelled base-value line; ``labels``: parameter → label;
    ``heading``: a title or (title, subtitle)."""
    plt = pyplot()
    d = one_way.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.8, 0.55 * len(d) + 2.2))
    y = np.arange(len(d))
    lo, hi = d["outcome_low"].to_numpy(dtype=float), d["outcome_high"].to_numpy(dtype=float)
    (l_lo, w_lo), (l_hi, w_hi) = tornado_bars(lo, hi, base)
    same_side = np.sign(w_lo) == np.sign(w_hi)
    lo_first = np.abs(w_lo) >= np.abs(w_hi)
    for first in (True, False):  # the longer bar full height, the shorter one narrower on top
        m_lo = lo_first == first
        m_hi = ~m_lo
        h = np.where(same_side & ~first, 0.4, 0.7)
        ax.barh(y[m_lo], w_lo[m_lo], left=l_lo[m_lo], height=h[m_lo], color=LOW, edgecolor="black",
                lw=0.5, label="low input value" if first else None)
        ax.barh(y[m_hi], w_hi[m_hi], left=l_hi[m_hi], height=h[m_hi], color=HIGH, edgecolor="black",
                lw=0.5, hatch="//", label="high input value" if first else None)
    ax.axvline(base, color="black", lw=1.2, ls="--")
    ax.annotate(f"base case {base:,.0f}", (base, len(d) - 0.45), ha="center", va="bottom", fontsize=8.5,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"})
    ax.set_ylim(-0.6, len(d) + 0.2)
    names = [(labels or {}).get(p) or p for p in d["parameter"]]
    ax.set_yticks(y, [f"{n} [{a:g}, {b:g}]" for n, a, b in zip(names, d["low"], d["high"])])
    ax.set_xlabel(label)
    thousands(ax, "x")
    ax.tick_params(axis="x", labelrotation=0)
    ax.grid(axis="y", visible=False)
    if isinstance(heading, tuple):
        title(ax, *heading)
    else:
        title(ax, heading or "One-way sensitivity analysis (tornado)")
    ax.legend(fontsize=8, loc="lower right")
    return fig
