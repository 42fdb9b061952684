"""Figures of the PSA and of value of information: CE plane (draws, means, 95 % ellipses, WTP line),
CEAC with the CEAF on it, EVPI, expected loss curves, EVPPI bars and curves, convergence.

Formatting only: draws come from ``run.psa``; curves from the PSA tables (``wtp``: ceac.S, ceaf, evpi;
``expected_loss``; ``evppi``...); the ellipse is :func:`ces.analysis.voi.ce_ellipse`.  Each function
returns one matplotlib Figure in the ces style (:mod:`ces.report.style`).
"""

from __future__ import annotations

import numpy as np

from ces.report.style import money, pyplot, thousands, title

PAYER_LABEL = "healthcare payer"


def _tag(p) -> str:
    return f"{p.label if p is not None else PAYER_LABEL} perspective"


def perspective_figures(run, p, lab) -> list:
    """[(name, Figure)] of one perspective: ce_plane, ceac, evpi, expected_loss (if the tables hold it);
    the payer's figures keep the plain names, others get ``_KEY``."""
    psa = run.psa
    payer = p is None or p.key == "payer"
    suffix = "" if payer else f"_{p.key}"
    c = psa.matrix("cost") if payer else psa.costs(p.categories)
    e = psa.matrix(run.loaded.model.effect)
    out = [(f"ce_plane{suffix}", ce_plane_figure(c, e, psa.strategies, psa.strategies[0], lab, _tag(p),
                                                 psa.n_draws))]
    tabs = run.psa_tables if payer else run.psa_perspectives.get(p.key, {})
    w = tabs.get("wtp")
    if w is not None and len(w) > 1:
        out.append((f"ceac{suffix}", ceac_figure(w, psa.strategies, lab, _tag(p))))
        out.append((f"evpi{suffix}", evpi_figure(w, lab, _tag(p))))
    if tabs.get("expected_loss") is not None and len(tabs["expected_loss"]):
        out.append((f"expected_loss{suffix}", expected_loss_figure(tabs["expected_loss"], lab, _tag(p))))
    return out


def ce_plane_figure(c, e, strategies, ref_name, lab, tag: str, n_draws: int, wtp: float | None = None):
    """CE plane vs the reference strategy: the draws, each strategy's mean and 95 % ellipse (bivariate
    normal, :func:`ces.analysis.voi.ce_ellipse`), the quadrant axes and the WTP line ΔC = λ·ΔE."""
    from ces.analysis.voi import ce_ellipse

    plt = pyplot()
    wtp = lab.wtp if wtp is None else wtp
    strategies = list(strategies)
    ref = strategies.index(ref_name)
    fig, ax = plt.subplots(figsize=(7.2, 5.4 + 0.25 * ((len(strategies) - 1) * 3 + 1) / (2 if len(strategies) > 2 else 1)))
    for j, s in enumerate(strategies):
        if j == ref:
            continue
        dx, dy = e[:, j] - e[:, ref], c[:, j] - c[:, ref]
        col = lab.styles.color(s)
        name = f"{lab.label(s)} vs {lab.label(ref_name)}"
        ax.scatter(dx, dy, s=5, alpha=0.25, color=col, marker=lab.styles.marker(s), lw=0, label=f"{name}: draws")
        if len(dx) > 2:
            r = ce_ellipse(dx, dy)
            ax.plot(r["effect"], r["cost"], color=col, lw=2, ls=lab.styles.line(s), label=f"{name}: 95 % ellipse")
        ax.plot([dx.mean()], [dy.mean()], lab.styles.marker(s), color=col, ms=9, mec="black", mew=1.2, ls="none",
                label=f"{name}: mean")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    xs, ys = np.array(ax.get_xlim()), ax.get_ylim()
    if wtp is not None:
        ax.plot(xs, wtp * xs, "k--", lw=1.3, label=f"WTP {lab.currency} {wtp:,.0f} per {lab.eff_unit} (cost-effective below)".replace("  ", " "),
                scalex=False, scaley=False)
    ax.set_xlim(xs)
    ax.set_ylim(ys)
    ax.set_xlabel(f"Incremental {lab.eff_plural}")
    ax.set_ylabel(f"Incremental cost{money(lab.currency)}")
    title(ax, f"Cost-effectiveness plane vs {lab.label(ref_name)}", f"{tag}; {n_draws:,} PSA draws")
    thousands(ax)
    if ax.get_legend_handles_labels()[1]:  # a single-strategy model has nothing to compare
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2 if len(strategies) > 2 else 1, fontsize=8)
    return fig


def ceac_figure(w, strategies, lab, tag: str):
    """CEAC of each strategy and the CEAF (probability that the strategy with the highest expected NMB is
    cost-effective) over the WTP grid; the headline WTP marked."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    x = w["wtp"].to_numpy(dtype=float)
    every = max(1, len(x) // 12)
    for s in strategies:
        ax.plot(x, w[f"ceac.{s}"], lw=1.8, markevery=every, ms=5, label=lab.label(s), **lab.styles.kw(s))
    ax.plot(x, w["ceaf"], color="black", lw=5, alpha=0.3, solid_capstyle="butt",
            label="CEAF (frontier: optimal strategy)")
    if lab.wtp is not None and x[0] <= lab.wtp <= x[-1]:
        ax.axvline(lab.wtp, color="grey", lw=1, ls=":")
        ax.annotate(f"WTP {lab.wtp:,.0f}", (lab.wtp, 1.02), ha="center", va="bottom", fontsize=8, color="dimgrey",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
    ax.set_xlabel(f"Willingness to pay{lab.per_unit()}")
    ax.set_ylabel("Probability cost-effective")
    ax.set_ylim(-0.02, 1.08)
    ax.set_xlim(x[0], x[-1])
    title(ax, "Cost-effectiveness acceptability curves and frontier (CEAF)", tag)
    thousands(ax, "x")
    ax.legend(loc="best", fontsize=8)
    return fig


def evpi_figure(w, lab, tag: str):
    """Per-person EVPI over the WTP grid."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    x = w["wtp"].to_numpy(dtype=float)
    ax.plot(x, w["evpi"], color="black", lw=2, marker="o", ms=4, markevery=max(1, len(x) // 12), label="EVPI per person")
    if lab.wtp is not None and x[0] <= lab.wtp <= x[-1]:
        ax.axvline(lab.wtp, color="grey", lw=1, ls=":", label=f"WTP {lab.wtp:,.0f}")
    ax.set_xlabel(f"Willingness to pay{lab.per_unit()}")
    ax.set_ylabel(f"EVPI per person{money(lab.currency)}")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(bottom=0)
    title(ax, "Expected value of perfect information", tag)
    thousands(ax, "x")
    thousands(ax)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def expected_loss_figure(loss, lab, tag: str = f"{PAYER_LABEL} perspective"):
    """Expected loss curves per strategy; their lower envelope is the EVPI."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    for s, d in loss.groupby("strategy", sort=False):
        ax.plot(d["wtp"], d["expected_loss"], lw=1.8, ms=4, markevery=max(1, len(d) // 12), label=lab.label(s),
                **lab.styles.kw(s))
    env = loss.groupby("wtp", sort=True)["expected_loss"].min()
    ax.plot(env.index, env.to_numpy(), color="black", lw=5, alpha=0.3, label="lower envelope = EVPI")
    ax.set_xlabel(f"Willingness to pay{lab.per_unit()}")
    ax.set_ylabel(f"Expected loss per person{money(lab.currency)}")
    title(ax, "Expected loss curves", tag)
    thousands(ax, "x")
    thousands(ax)
    ax.legend(fontsize=8)
    return fig


def evppi_bars_figure(ranking, wtp: float, lab):
    """Horizontal bars of per-person EVPPI per parameter/group at one WTP, ±1.96 SE whiskers."""
    plt = pyplot()
    d = ranking.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.2, 0.45 * len(d) + 2.0))
    y = np.arange(len(d))
    se = np.nan_to_num(d["se"].to_numpy(dtype=float))
    ax.barh(y, d["evppi"], xerr=1.96 * se, color=["#0072B2" if k == "parameter" else "#E69F00" for k in d["kind"]],
            edgecolor="black", lw=0.4, capsize=3)
    ax.axvline(float(d["evpi"].iloc[0]) if len(d) else 0.0, color="black", ls="--", lw=1, label="EVPI (all parameters)")
    ax.set_yticks(y, [r["item"] if r["kind"] == "parameter" else f"{r['item']} (group)" for _, r in d.iterrows()])
    ax.set_xlabel(f"EVPPI per person{money(lab.currency)}")
    title(ax, f"EVPPI at WTP {lab.currency} {wtp:,.0f} per {lab.eff_unit}",
          f"{PAYER_LABEL} perspective; whiskers ±1.96 SE")
    thousands(ax, "x")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def evppi_wtp_figure(long, lab):
    """EVPPI of each parameter/group against WTP, with the EVPI curve."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    first = None
    for item, d in long.groupby("item", sort=False):
        first = d if first is None else first
        ax.plot(d["wtp"], d["evppi"], lw=1.6, marker="o" if len(d) < 6 else None, label=item)
    if first is not None:
        ax.plot(first["wtp"], first["evpi"], "k--", lw=2.2, label="EVPI")
    ax.set_xlabel(f"Willingness to pay{lab.per_unit()}")
    ax.set_ylabel(f"Per-person value{money(lab.currency)}")
    title(ax, "EVPPI and EVPI by willingness to pay", f"{PAYER_LABEL} perspective")
    thousands(ax, "x")
    thousands(ax)
    ax.legend(fontsize=8, ncol=2)
    return fig


def convergence_figure(conv, lab):
    """Running mean NMB and P(CE) against the number of draws, ±1.96 MCSE bands."""
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.6))
    for s, d in conv.groupby("strategy", sort=False):
        x = d["n_draws"].to_numpy()
        for ax, m, se in ((a1, "mean_nmb", "mcse_nmb"), (a2, "p_ce", "mcse_p_ce")):
            y, h = d[m].to_numpy(), 1.96 * np.nan_to_num(d[se].to_numpy())
            ax.plot(x, y, lw=1.6, label=lab.label(s), color=lab.styles.color(s), ls=lab.styles.line(s))
            ax.fill_between(x, y - h, y + h, alpha=0.2, color=lab.styles.color(s))
    wtp = float(conv["wtp"].iloc[0]) if len(conv) else 0.0
    for ax, ylab in ((a1, f"Mean NMB{money(lab.currency)}"), (a2, "P(cost-effective)")):
        ax.set_xscale("log")
        ax.set_xlabel("Number of PSA draws")
        ax.set_ylabel(ylab)
    thousands(a1)
    title(a1, f"Mean NMB at WTP {wtp:,.0f} (±1.96 MCSE)", f"{PAYER_LABEL} perspective")
    title(a2, "Probability cost-effective (±1.96 MCSE)", f"{PAYER_LABEL} perspective")
    a2.set_ylim(-0.02, 1.02)
    a1.legend(fontsize=8)
    fig.tight_layout()
    return fig
