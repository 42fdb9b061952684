"""Figures of ``ces fit`` (PNG + SVG): fitted curves over the KM with numbers at risk, log cumulative
hazard against log time (straight and parallel lines support Weibull / PH; NICE DSU TSD 14 §3.3),
smoothed empirical hazard against the fitted hazards, and the long-term extrapolation.

Formatting only: the curves are the fits' own S(t) and h(t) (registry functions) and the KM estimate.
The empirical hazard is the number of events over the person-time in each of ~12 equal-width bins.
"""

from __future__ import annotations

import numpy as np

from ces.report.style import pyplot as _plt
from ces.report.style import LINESTYLES, render
from ces.survival.km import kaplan_meier, number_at_risk

TOP = 6  # curves drawn: the best by AIC


def _bytes(fig) -> list:
    return [(ext, render(fig, ext)) for ext in ("png", "svg")]


def km_figure(label: str, fits: list, t, e, w, time_unit: str, n_ticks: int = 6):
    """Fitted S(t) over the Kaplan–Meier estimate, with the numbers-at-risk table under the axes
    (Σ weights of subjects with t_i ≥ tick, :func:`ces.survival.km.number_at_risk`, at ``n_ticks``
    equally spaced times); the table is its own axes, so its numbers never collide with the x label."""
    plt = _plt()
    km = kaplan_meier(t, e, w)
    tmax = float(np.max(t))
    fig, (ax, at) = plt.subplots(2, 1, figsize=(7.8, 5.8), sharex=True, height_ratios=(5, 0.5))
    ax.step(np.concatenate([[0], km.time]), np.concatenate([[1], km.surv]), where="post", color="k", lw=1.5,
            label="Kaplan–Meier")
    cens = (e == 0)
    if cens.any():  # censoring marks on the KM step
        s_at = np.concatenate([[1.0], km.surv])[np.searchsorted(km.time, t[cens], side="right")]
        ax.plot(t[cens], s_at, "|", color="k", ms=6, label="censored")
    g = np.linspace(0, tmax, 400)
    for k, f in enumerate(fits):
        ax.plot(g, f.survival(g), lw=1.4, ls=LINESTYLES[k % len(LINESTYLES)], label=f"{f.model.label} (AIC {f.aic:.1f})")
    ax.set(ylabel="Survival probability", ylim=(0, 1.02), xlim=(0, tmax), xlabel=f"Time ({time_unit})")
    ax.set_title(f"{label}: fitted curves over the Kaplan–Meier\n(reference arm; best {len(fits)} by AIC)",
                 loc="left")
    ax.legend(fontsize=8, loc="upper right")
    from matplotlib.ticker import MaxNLocator

    ticks = [x for x in MaxNLocator(n_ticks).tick_values(0, tmax) if 0 <= x <= tmax]
    ax.set_xticks(ticks)
    nr = number_at_risk(t, ticks, w)
    at.set_ylim(0, 1)
    at.set_yticks([0.5], ["Number at risk"])
    at.tick_params(axis="y", length=0, pad=16)
    at.tick_params(axis="x", bottom=False, labelbottom=False)
    at.grid(False)
    for side in at.spines.values():
        side.set_visible(False)
    for x, n in zip(ticks, nr):
        at.text(x, 0.5, f"{n:,.0f}", ha="center", va="center", fontsize=8.5)
    ax.tick_params(labelbottom=True)
    fig.tight_layout()
    return fig


def fit_plots(label: str, fits: list, data, time_unit: str, horizon_factor: float = 5.0, floor=None) -> list:
    """[(file name, bytes)] of the four figures for one endpoint (reference arm for joint fits).

    ``floor`` = (life table, age, sex weights, smr): the extrapolation then runs to age 100 and adds each curve
    as the model evaluates it: cure curves × S_bg, the others with the hazard floored at the life table's
    (:func:`ces.survival.effects.mortality_floor`)."""
    plt = _plt()
    ref = data.X.sum(axis=1) == 0 if data.X.shape[1] else np.ones(data.n, dtype=bool)
    t, e, w = data.time[ref], data.event[ref], data.weight[ref]
    km = kaplan_meier(t, e, w)
    tmax = float(t.max())
    fits = [f for f in fits if np.isfinite(f.loglik)][:TOP]
    files = []

    fig = km_figure(label, fits, t, e, w, time_unit)
    files += [(f"fit_{label}_km.{ext}", b) for ext, b in _bytes(fig)]
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4.5))
    ok = (km.surv > 0) & (km.surv < 1)
    ax.plot(np.log(km.time[ok]), np.log(-np.log(km.surv[ok])), "k.", label="KM")
    gl = np.linspace(max(km.time.min(), tmax / 200), tmax, 200)
    for f in fits:
        ax.plot(np.log(gl), np.log(-np.log(f.survival(gl))), lw=1, label=f.model.label)
    ax.set(xlabel=f"ln time ({time_unit})", ylabel="ln cumulative hazard", title=f"{label}: log cumulative hazard")
    ax.legend(fontsize=7)
    files += [(f"fit_{label}_logcumhaz.{ext}", b) for ext, b in _bytes(fig)]
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4.5))
    edges = np.linspace(0, tmax, 13)
    pt = np.array([np.sum(w * np.clip(np.minimum(t, b) - a, 0, None)) for a, b in zip(edges[:-1], edges[1:])])
    ev = np.array([np.sum(w * e * ((t > a) & (t <= b))) for a, b in zip(edges[:-1], edges[1:])])
    mid = (edges[:-1] + edges[1:]) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ax.plot(mid, np.where(pt > 0, ev / pt, np.nan), "ko", label="events / person-time")
    for f in fits:
        ax.plot(gl, f.hazard(gl), lw=1, label=f.model.label)
    ax.set(xlabel=f"Time ({time_unit})", ylabel=f"Hazard (per {time_unit})", title=f"{label}: hazard")
    ax.legend(fontsize=7)
    files += [(f"fit_{label}_hazard.{ext}", b) for ext, b in _bytes(fig)]
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7.5, 5))
    upy = {"day": 365.25, "week": 365.25 / 7, "month": 12.0, "year": 1.0}[time_unit]
    end = tmax * horizon_factor if floor is None else max((100.0 - floor[1]) * upy, tmax)
    gx = np.linspace(0, end, 600)
    ax.step(np.concatenate([[0], km.time]), np.concatenate([[1], km.surv]), where="post", color="k", lw=1.5,
            label="Kaplan-Meier")
    s_bg = None
    if floor is not None:
        from ces.survival import effects

        table, age0, weights, smr = floor
        s_bg = table.survival(age0, gx / upy, weights, None if smr == 1.0 else smr)
        ax.plot(gx, s_bg, color="grey", lw=1, ls="--", label=f"background ({table.name}, age {age0:g})")
    for f in fits:
        s_fit = f.survival(gx)
        line, = ax.plot(gx, s_fit, lw=1, label=f.model.label)
        if s_bg is not None:
            if f.model.cure:  # fitted with the background hazard: S(t) is already S_bg·S_cure
                s_model = s_fit if f.background is not None else s_bg * s_fit
            else:
                s_model = effects.mortality_floor(s_fit[None, :], s_bg)[0]
            ax.plot(gx, s_model, lw=1, ls=":", color=line.get_color())
    ax.axvline(tmax, color="grey", ls=":", lw=1)
    what = ("dotted: as the model evaluates it (cure × background, others floored)" if s_bg is not None
            else "before the background-mortality floor the model applies")
    ax.set(xlabel=f"Time ({time_unit})", ylabel="Survival probability", ylim=(0, 1.02),
           title=f"{label}: extrapolation ({what})")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)
    files += [(f"fit_{label}_extrapolation.{ext}", b) for ext, b in _bytes(fig)]
    plt.close(fig)
    return files
