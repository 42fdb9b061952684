"""Figures of ``ces fit`` (PNG + SVG): fitted curves over the KM with numbers at risk, log cumulative
hazard against log time (straight and parallel lines support Weibull / PH; NICE DSU TSD 14 §3.3),
smoothed empirical hazard against the fitted hazards, and the long-term extrapolation.

Formatting only: the curves are the fits' own S(t) and h(t) (registry functions) and the KM estimate.
The empirical hazard is the number of events over the person-time in each of ~12 equal-width bins.
"""

from __future__ import annotations

import io

import numpy as np

from ces.report.plots import _plt
from ces.survival.km import kaplan_meier, number_at_risk

TOP = 6  # curves drawn: the best by AIC


def _bytes(fig) -> list:
    out = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext)
        out.append((ext, buf.getvalue()))
    return out


def fit_plots(label: str, fits: list, data, time_unit: str, horizon_factor: float = 5.0, floor=None) -> list:
    """[(file name, bytes)] of the four figures for one endpoint (reference arm for joint fits).

    ``floor`` = (life table, age, sex weights): the extrapolation then runs to age 100 and adds each curve
    as the model evaluates it: cure curves × S_bg, the others with the hazard floored at the life table's
    (:func:`ces.survival.effects.mortality_floor`)."""
    plt = _plt()
    ref = data.X.sum(axis=1) == 0 if data.X.shape[1] else np.ones(data.n, dtype=bool)
    t, e, w = data.time[ref], data.event[ref], data.weight[ref]
    km = kaplan_meier(t, e, w)
    tmax = float(t.max())
    fits = [f for f in fits if np.isfinite(f.loglik)][:TOP]
    files = []

    fig, ax = plt.subplots(figsize=(7.5, 5))
    ax.step(np.concatenate([[0], km.time]), np.concatenate([[1], km.surv]), where="post", color="k", lw=1.5,
            label="Kaplan-Meier")
    g = np.linspace(0, tmax, 400)
    for f in fits:
        ax.plot(g, f.survival(g), lw=1, label=f"{f.model.label} (AIC {f.aic:.1f})")
    ticks = np.linspace(0, tmax, 6)
    nr = number_at_risk(t, ticks, w)
    for x, n in zip(ticks, nr):
        ax.annotate(f"{n:.0f}", (x, 0), xytext=(0, -48), textcoords="offset points", ha="center", fontsize=8)
    ax.annotate("at risk", (0, 0), xytext=(-40, -48), textcoords="offset points", fontsize=8)
    ax.set(xlabel=f"time ({time_unit})", ylabel="survival", ylim=(0, 1.02), title=f"{label}: fits over the KM")
    ax.legend(fontsize=7)
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
    ax.set(xlabel=f"time ({time_unit})", ylabel=f"hazard (per {time_unit})", title=f"{label}: hazard")
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

        table, age0, weights = floor
        s_bg = table.survival(age0, gx / upy, weights)
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
    ax.set(xlabel=f"time ({time_unit})", ylabel="survival", ylim=(0, 1.02),
           title=f"{label}: extrapolation ({what})")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)
    files += [(f"fit_{label}_extrapolation.{ext}", b) for ext, b in _bytes(fig)]
    plt.close(fig)
    return files
