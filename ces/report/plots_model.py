"""Figures of the base case: the cohort trace, the survival curves (PSM) and the budget impact.

Formatting only: every plotted number comes from the run (trace arrays, the model's own survival
functions, the budget-impact tables); each function returns one matplotlib Figure (ces style).
"""

from __future__ import annotations

import numpy as np

from ces.report.style import LINESTYLES, SERIES, money, pyplot, scaled, thousands, title


def trace_figure(run, lab):
    """State occupancy over time, one panel per strategy, one legend of states for the figure."""
    plt = pyplot()
    k = len(run.base.results)
    ncol = min(k, 2)
    nrow = (k + 1) // 2
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.4 * ncol, 3.4 * nrow + 0.6), squeeze=False, sharey=True,
                             layout="constrained")
    for ax in axes.ravel()[k:]:
        ax.set_visible(False)
    handles = None
    for ax, (s, r) in zip(axes.ravel(), run.base.results.items()):
        t = np.arange(r.trace.shape[1]) * run.model.cycle_years
        for j, st in enumerate(run.model.states):
            ax.plot(t, r.trace[0, :, j], label=st, color=SERIES[j % len(SERIES)], ls=LINESTYLES[j % len(LINESTYLES)])
        ax.set_title(lab.label(s), loc="left")
        ax.set_xlabel("Time (years)")
        ax.set_ylim(0, 1.01)
        handles = ax.get_legend_handles_labels()
    for ax in axes[:, 0]:
        ax.set_ylabel("Proportion of cohort")
    fig.suptitle("State occupancy (base-case cohort trace)", x=0.01, ha="left", fontsize=11)
    fig.legend(*handles, loc="outside lower center", ncol=min(len(run.model.states), 6), title="Health state")
    return fig


def _curves(model, cs, t_years):
    from ces.engine.psm import curve_survival, mixture_survival

    n = len(t_years) - 1
    venv = cs.evaluator.evaluate(model.env(np.arange(n + 1.0), t_years), None, needed=cs.need_v)
    curves = {cn: curve_survival(model, c, venv, 1, t_years) for cn, c in cs.curves.items() if c.family != "mixture"}
    for cn, c in cs.curves.items():
        if c.family == "mixture":
            curves[cn] = mixture_survival(model, c, curves, venv)
    return curves, venv


def survival_figure(run, lab):
    """PSM curves per strategy as the model evaluates them (time in years), KM points where a curve is a
    KM table, the cure fraction and the background survival marked.  Colour: strategy; line style: curve."""
    from ces.engine.psm import background_survival
    from ces.modelfile.units import YEARS_PER_UNIT

    plt = pyplot()
    model = run.model
    t_years = np.arange(model.n_cycles + 1) * model.cycle_years
    fig, ax = plt.subplots(figsize=(7.6, 5.0))
    curve_names = list(dict.fromkeys(cn for cs in model.strategies.values() for cn in cs.curves))
    unit = YEARS_PER_UNIT[model.loaded.model.time_unit]
    for s, cs in model.strategies.items():
        curves, venv = _curves(model, cs, t_years)
        col = lab.styles.color(s)
        for name, c in cs.curves.items():
            ls = LINESTYLES[curve_names.index(name) % len(LINESTYLES)]
            extra = ""
            if "cure" in c.mods:
                pi = float(np.asarray(c.mods["cure"].evaluate(venv, model.functions)).ravel()[0])
                ax.axhline(pi, color=col, lw=0.8, ls=":", alpha=0.8)
                extra = f" (cure fraction {pi:.2f})"
            ax.plot(t_years, curves[name][0], color=col, ls=ls, label=f"{lab.label(s)}: {name}{extra}")
            km = c.extra.get("times") if c.family == "km" else None
            if km is not None:
                ax.plot(np.asarray(km) * unit, c.extra["surv"], lab.styles.marker(s), ms=3.5, color=col, ls="none",
                        mfc="white", label=f"{lab.label(s)}: {name}, Kaplan–Meier")
    bgs = {c.background for cs in model.strategies.values() for c in cs.curves.values() if c.background}
    for bg in sorted(bgs):
        ax.plot(t_years, background_survival(model, t_years, bg), color="grey", lw=1.2, ls=(0, (1, 1)),
                label=f"background survival ({bg})")
    ax.set_xlabel("Time since start (years)")
    ax.set_ylabel("Survival probability")
    ax.set_ylim(0, 1.01)
    ax.set_xlim(0, t_years[-1])
    title(ax, "Survival per strategy (fitted curves, extrapolated)",
          f"curves {', '.join(curve_names)}; horizon {t_years[-1]:g} years; thin dotted lines: cure fractions")
    ax.legend(loc="upper right", ncol=1 if len(ax.get_legend_handles_labels()[1]) <= 6 else 2)
    return fig


def budget_figure(run, lab):
    """Budget impact per year.  Left: each world's total, stacked by strategy.  Right: the net impact
    (new − current world), with the PSA mean and 95 % interval whiskers per year when the budget impact
    was run per draw (``budget_impact.psa``; :func:`ces.analysis.budget.interval_table`)."""
    plt = pyplot()
    b = run.budget
    sm, det = b["summary"], b.get("detail")
    cfg = run.loaded.config.budget_impact
    disc = float(getattr(cfg, "discount", 0.0) or 0.0)
    psa = b.get("psa")
    vals = [sm["new_total"], sm["current_total"], sm["net_impact"]] + ([psa["net_impact_upper"]] if psa is not None
                                                                        else [])
    div, word = scaled(np.concatenate([np.asarray(v, dtype=float) for v in vals]))
    unit = f"{lab.currency} {word}".strip() if lab.currency else word
    ylabel = f"Budget{f' ({unit})' if unit else ''}"
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
    x = sm["year"].to_numpy()
    strategies = [s for s in lab.strategy_labels if det is not None and f"cost.{s}" in det]
    hatches = ("", "//", "..", "xx", "\\\\", "++")  # one per strategy: the stack reads in greyscale too
    for off, world, alpha in ((-0.2, "current", 0.65), (0.2, "new", 1.0)):
        if strategies:
            d = det[det["world"] == world].set_index("year").loc[x]
            bottom = np.zeros(len(x))
            for s in strategies:
                v = d[f"cost.{s}"].to_numpy(dtype=float) / div
                a1.bar(x + off, v, width=0.38, bottom=bottom, color=lab.styles.color(s), alpha=alpha,
                       hatch=hatches[strategies.index(s) % len(hatches)], edgecolor="black", lw=0.4,
                       label=lab.label(s) if world == "new" else None)
                bottom += v
        else:
            a1.bar(x + off, sm[f"{world}_total"] / div, width=0.38, alpha=alpha, label=f"{world} world")
    a1.set_xticks(x)
    a1.set_xlabel("Year (left bar, lighter: current world; right bar: new world)")
    a1.set_ylabel(ylabel)
    title(a1, "Budget by year and strategy", "current world vs new world (with the new strategy's uptake)")
    a1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(len(strategies) or 2, 4), fontsize=8,
               title="Strategy")
    net = sm["net_impact"].to_numpy(dtype=float) / div
    a2.bar(x, net, width=0.6, color="#999999", edgecolor="black", lw=0.5, label="net impact (base case)")
    if psa is not None:
        m = psa["net_impact_mean"].to_numpy(dtype=float) / div
        lo, hi = psa["net_impact_lower"].to_numpy(dtype=float) / div, psa["net_impact_upper"].to_numpy(dtype=float) / div
        a2.errorbar(x, m, yerr=np.vstack([m - lo, hi - m]), fmt="o", color="black", ms=5, capsize=5, lw=1.4,
                    label=f"PSA mean and 95 % interval ({int(psa['n_draws'].iloc[0]):,} draws)")
    a2.axhline(0, color="black", lw=0.8)
    a2.set_xticks(x)
    a2.set_xlabel("Year")
    a2.set_ylabel(f"Net budget impact{f' ({unit})' if unit else ''}")
    title(a2, "Net budget impact (new − current world)",
          f"cumulative over {len(x)} years: {sm['cumulative_impact'].iloc[-1] / div:,.{1 if div > 1 else 0}f}"
          f"{' ' + unit if unit else ''}")
    a2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8)
    for ax in (a1, a2):
        if div == 1:
            thousands(ax)
    cats = getattr(cfg, "cost_categories", None)
    whose = "healthcare payer budget" if not cats else f"budget of {', '.join(cats)}"
    fig.suptitle(f"Budget impact, {whose}{money(lab.currency)}, "
                 f"{'discounted at ' + format(disc, 'g') + ' per year' if disc else 'undiscounted'}",
                 x=0.01, ha="left", fontsize=11)
    return fig
