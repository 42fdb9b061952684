"""Figures (matplotlib, Agg backend): PNG and SVG, axis labels with units and currency.

Formatting only: every plotted number comes from the run's tables and arrays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ces.report.console import strategy_label

PLOT_TYPES = ("ce_plane", "ceac", "evpi", "trace", "survival", "tornado")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 11, "axes.titlesize": 12, "axes.grid": True, "grid.alpha": 0.3,
                         "figure.dpi": 150, "savefig.bbox": "tight"})
    return plt


def _thousands(ax, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1000 or v == int(v) else f"{v:,.2g}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)
    if axis == "x":
        ax.tick_params(axis="x", labelrotation=30)


def _save(fig, folder: Path, name: str) -> list:
    out = []
    for ext in ("png", "svg"):
        p = folder / f"{name}.{ext}"
        fig.savefig(p)
        out.append(p.name)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return out


def _money(cur: str) -> str:
    return f" ({cur})" if cur else ""


def plot_run(run, folder: Path) -> list:
    """All figures that the run's results support; returns the file names written."""
    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    spec = run.loaded.model
    cur = _money(spec.currency)
    eff = "QALYs" if spec.effect == "qaly" else "life-years"
    names = []
    # Markov trace / PSM state occupancy (base case)
    k = len(run.base.results)
    ncol = min(k, 2)
    nrow = (k + 1) // 2
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.5 * ncol, 3.8 * nrow), squeeze=False)
    for ax in axes.ravel()[k:]:
        ax.set_visible(False)
    for ax, (s, r) in zip(axes.ravel(), run.base.results.items()):
        t = np.arange(r.trace.shape[1]) * run.model.cycle_years
        for j, st in enumerate(run.model.states):
            ax.plot(t, r.trace[0, :, j], label=st, lw=2)
        ax.set_title(f"{strategy_label(run, s)}: state occupancy")
        ax.set_xlabel("Time (years)")
        ax.set_ylabel("Proportion of cohort")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=9)
    names += _save(fig, folder, "trace")
    if spec.kind == "psm":
        names += plot_survival(run, folder, plt)
    if getattr(run, "budget", None) is not None:
        names += plot_budget(run, folder, plt)
    psa = run.psa
    if psa is not None:
        c, e = psa.matrix("cost"), psa.matrix(spec.effect)
        fig, ax = plt.subplots(figsize=(6.5, 5))
        ref = 0
        for j, s in enumerate(psa.strategies):
            if j == ref:
                continue
            ax.scatter(e[:, j] - e[:, ref], c[:, j] - c[:, ref], s=6, alpha=0.35, label=f"{strategy_label(run, s)} vs {strategy_label(run, psa.strategies[ref])}")
        if run.wtps:
            lam = run.wtps[len(run.wtps) // 2]
            xs = np.array(ax.get_xlim())
            ax.plot(xs, lam * xs, "k--", lw=1.2, label=f"WTP {spec.currency} {lam:,.0f} per {eff[:-1]}")
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel(f"Incremental {eff}")
        ax.set_ylabel(f"Incremental cost{cur}")
        ax.set_title(f"Cost-effectiveness plane ({psa.n_draws:,} PSA draws)")
        _thousands(ax)
        ax.legend(fontsize=9)
        names += _save(fig, folder, "ce_plane")
        w = run.psa_tables.get("wtp")
        if w is not None and len(w) > 1:
            fig, ax = plt.subplots(figsize=(6.5, 4.5))
            for s in psa.strategies:
                ax.plot(w["wtp"], w[f"ceac.{s}"], lw=2, label=strategy_label(run, s))
            ax.plot(w["wtp"], w["ceaf"], "k:", lw=2.5, label="CEAF (optimal strategy)")
            ax.set_xlabel(f"Willingness to pay{cur} per {eff[:-1]}")
            ax.set_ylabel("Probability cost-effective")
            ax.set_ylim(-0.02, 1.02)
            ax.set_title("Cost-effectiveness acceptability curves")
            _thousands(ax, "x")
            ax.legend(fontsize=9)
            names += _save(fig, folder, "ceac")
            fig, ax = plt.subplots(figsize=(6.5, 4.5))
            ax.plot(w["wtp"], w["evpi"], lw=2)
            ax.set_xlabel(f"Willingness to pay{cur} per {eff[:-1]}")
            ax.set_ylabel(f"EVPI per person{cur}")
            ax.set_title("Expected value of perfect information")
            _thousands(ax, "x")
            _thousands(ax)
            names += _save(fig, folder, "evpi")
    return names


def plot_survival(run, folder: Path, plt=None) -> list:
    """PSM curves per strategy (time in years), the cure fraction and the background survival marked."""
    from ces.engine.psm import background_survival, curve_survival

    plt = plt or _plt()
    model = run.model
    n = model.n_cycles
    t_years = np.arange(n + 1) * model.cycle_years
    fig, ax = plt.subplots(figsize=(7, 4.8))
    styles = ["-", "--", ":", "-."]
    for k, (s, cs) in enumerate(model.strategies.items()):
        from ces.engine.model import CohortModel  # noqa: F401

        venv = cs.evaluator.evaluate(model.env(np.arange(n + 1.0), t_years), None, needed=cs.need_v)
        from ces.engine.psm import mixture_survival

        curves = {cn: curve_survival(model, c, venv, 1, t_years) for cn, c in cs.curves.items()
                  if c.family != "mixture"}
        for cn, c in cs.curves.items():
            if c.family == "mixture":
                curves[cn] = mixture_survival(model, c, curves, venv)
        for name, c in cs.curves.items():
            S = curves[name][0]
            ax.plot(t_years, S, styles[k % 4], lw=2, label=f"{strategy_label(run, s)}: {name}")
            if "cure" in c.mods:
                pi = float(np.asarray(c.mods["cure"].evaluate(venv, model.functions)).ravel()[0])
                ax.axhline(pi, color="grey", lw=0.8, ls=styles[k % 4])
                ax.annotate(f"cure fraction {s}/{name} = {pi:.2f}", (t_years[-1], pi), fontsize=8,
                            ha="right", va="bottom", color="grey")
            km = c.extra.get("times") if c.family == "km" else None
            if km is not None:
                ax.plot(np.asarray(km) * _unit_years(model), c.extra["surv"], "o", ms=3, color="black")
    bgs = {c.background for cs in model.strategies.values() for c in cs.curves.values() if c.background}
    for bg in bgs:
        ax.plot(t_years, background_survival(model, t_years, bg), color="black", lw=1, alpha=0.6,
                label=f"background survival ({bg})")
    ax.set_xlabel("Time since start (years)")
    ax.set_ylabel("Survival probability")
    ax.set_ylim(0, 1.01)
    ax.set_title("Survival curves (extrapolated)")
    ax.legend(fontsize=8)
    return _save(fig, folder, "survival")


def _unit_years(model) -> float:
    from ces.spec.units import YEARS_PER_UNIT

    return YEARS_PER_UNIT[model.loaded.model.time_unit]


def plot_tornado(one_way, base: float, label: str, folder: Path) -> list:
    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    d = one_way.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(d) + 1.5))
    y = np.arange(len(d))
    lo, hi = d["outcome_low"].to_numpy(), d["outcome_high"].to_numpy()
    ax.barh(y, lo - base, left=base, color="#4C72B0", label="low value")
    ax.barh(y, hi - base, left=base, color="#DD8452", label="high value")
    ax.axvline(base, color="black", lw=1)
    ax.set_yticks(y, [f"{p} [{a:g}, {b:g}]" for p, a, b in zip(d["parameter"], d["low"], d["high"])])
    ax.set_xlabel(label)
    _thousands(ax, "x")
    ax.set_title("One-way sensitivity analysis (tornado)")
    ax.legend(fontsize=9)
    return _save(fig, folder, "tornado")


def plot_budget(run, folder: Path, plt=None) -> list:
    """Budget impact by year: current vs new world totals, with the net impact."""
    plt = plt or _plt()
    sm = run.budget["summary"]
    cur = _money(run.loaded.model.currency)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = sm["year"].to_numpy()
    ax.bar(x - 0.2, sm["current_total"], width=0.4, label="current world")
    ax.bar(x + 0.2, sm["new_total"], width=0.4, label="new world")
    ax.plot(x, sm["net_impact"], "k-o", label="net impact")
    ax.set_xlabel("Year")
    ax.set_ylabel(f"Budget{cur}")
    ax.set_xticks(x)
    ax.set_title("Budget impact by year")
    _thousands(ax)
    ax.legend(fontsize=9)
    return _save(fig, folder, "budget_impact")
