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
                         "figure.dpi": 150, "savefig.bbox": "tight",
                         "svg.hashsalt": "ces"})  # deterministic SVG element ids: same run, same bytes
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
        fig.savefig(p, metadata={"Date": None} if ext == "svg" else None)  # no time stamp: reproducible files
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
        ax.legend(fontsize=9) if run.model.states else None  # a pure decision tree has no states
    names += _save(fig, folder, "trace") if run.model.states else (plt.close(fig) or [])
    if spec.kind == "psm":
        names += plot_survival(run, folder, plt)
    if getattr(run, "budget", None) is not None:
        names += plot_budget(run, folder, plt)
    if run.psa is not None:
        persps = getattr(run, "perspective_list", []) or [None]
        for p in persps:  # one CE plane, CEAC and EVPI figure per perspective (payer keeps the plain names)
            names += _plot_psa_perspective(run, p, folder, plt, cur, eff, len(persps) > 1)
    return names


def _plot_psa_perspective(run, p, folder: Path, plt, cur: str, eff: str, labelled: bool) -> list:
    """CE plane, CEAC/CEAF and EVPI of one perspective (``p`` None or payer: the payer's files)."""
    psa, spec = run.psa, run.loaded.model
    payer = p is None or p.key == "payer"
    suffix = "" if payer else f"_{p.key}"
    tag = f" — {p.label}" if (p is not None and labelled) else ""
    names = []
    c = psa.matrix("cost") if payer else psa.costs(p.categories)
    e = psa.matrix(spec.effect)
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
    ax.set_title(f"Cost-effectiveness plane ({psa.n_draws:,} PSA draws){tag}")
    _thousands(ax)
    ax.legend(fontsize=9)
    names += _save(fig, folder, f"ce_plane{suffix}")
    w = (run.psa_tables if payer else run.psa_perspectives[p.key]).get("wtp")
    if w is not None and len(w) > 1:
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        for s in psa.strategies:
            ax.plot(w["wtp"], w[f"ceac.{s}"], lw=2, label=strategy_label(run, s))
        ax.plot(w["wtp"], w["ceaf"], "k:", lw=2.5, label="CEAF (optimal strategy)")
        ax.set_xlabel(f"Willingness to pay{cur} per {eff[:-1]}")
        ax.set_ylabel("Probability cost-effective")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"Cost-effectiveness acceptability curves{tag}")
        _thousands(ax, "x")
        ax.legend(fontsize=9)
        names += _save(fig, folder, f"ceac{suffix}")
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        ax.plot(w["wtp"], w["evpi"], lw=2)
        ax.set_xlabel(f"Willingness to pay{cur} per {eff[:-1]}")
        ax.set_ylabel(f"EVPI per person{cur}")
        ax.set_title(f"Expected value of perfect information{tag}")
        _thousands(ax, "x")
        _thousands(ax)
        names += _save(fig, folder, f"evpi{suffix}")
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
    from ces.modelfile.units import YEARS_PER_UNIT

    return YEARS_PER_UNIT[model.loaded.model.time_unit]


def tornado_bars(lo: np.ndarray, hi: np.ndarray, base: float) -> tuple:
    """(left, width) of the low-value and the high-value bar of each row, both anchored at the base value.

    When a range does not bracket the base (both outcomes on one side), the two bars overlap; the
    caller draws the longer one first and the shorter one narrower on top, so neither is hidden.
    """
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    return (np.full_like(lo, base), lo - base), (np.full_like(hi, base), hi - base)


def plot_tornado(one_way, base: float, label: str, folder: Path, labels: dict | None = None,
                 title: str | None = None) -> list:
    """Tornado: one row per parameter (widest range on top), bars from the base value to the outcome at
    the low and at the high input value, a labelled base-value line; ``labels``: parameter → label."""
    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    d = one_way.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(d) + 1.8))
    y = np.arange(len(d))
    lo, hi = d["outcome_low"].to_numpy(dtype=float), d["outcome_high"].to_numpy(dtype=float)
    (l_lo, w_lo), (l_hi, w_hi) = tornado_bars(lo, hi, base)
    same_side = np.sign(w_lo) == np.sign(w_hi)
    lo_first = np.abs(w_lo) >= np.abs(w_hi)
    for first in (True, False):  # the longer bar full height, the shorter one narrower on top
        m_lo = lo_first == first
        m_hi = ~m_lo
        h_lo = np.where(same_side & ~first, 0.4, 0.7)
        ax.barh(y[m_lo], w_lo[m_lo], left=l_lo[m_lo], height=h_lo[m_lo], color="#4C72B0", edgecolor="black",
                lw=0.5, label="low input value" if first else None)
        ax.barh(y[m_hi], w_hi[m_hi], left=l_hi[m_hi], height=h_lo[m_hi], color="#DD8452", edgecolor="black",
                lw=0.5, hatch="//", label="high input value" if first else None)
    ax.axvline(base, color="black", lw=1.2, ls="--")
    ax.annotate(f"base case {base:,.0f}", (base, len(d) - 0.4), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(-0.6, len(d) + 0.2)
    names = [(labels or {}).get(p) or p for p in d["parameter"]]
    ax.set_yticks(y, [f"{n} [{a:g}, {b:g}]" for n, a, b in zip(names, d["low"], d["high"])])
    ax.set_xlabel(label)
    _thousands(ax, "x")
    ax.set_title(title or "One-way sensitivity analysis (tornado)")
    ax.legend(fontsize=9, loc="lower right")
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


# ------------------------------------------------------------------ value of information

def plot_voi(run, folder: Path, wtp: float) -> list:
    """Value-of-information figures from ``run.psa_tables`` (filled by ``ces evppi``); file names written."""
    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    spec = run.loaded.model
    cur = _money(spec.currency)
    eff = "QALY" if spec.effect == "qaly" else "life-year"
    tabs = run.psa_tables
    names = []
    names += plot_evppi_bars(tabs["evppi_ranking"], wtp, cur, folder, plt)
    names += plot_evppi_wtp(tabs["evppi"], cur, eff, folder, plt)
    names += plot_expected_loss(tabs["expected_loss"], cur, eff, folder, plt)
    c, e = run.psa.matrix("cost"), run.psa.matrix(spec.effect)  # payer perspective (perspective_costs)
    names += plot_ce_ellipses(c, e, run.psa.strategies, tabs["ce_ellipse"]["vs"].iloc[0], wtp, cur, eff, folder, plt)
    names += plot_convergence(tabs["convergence_curve"], cur, folder, plt)
    return names


def plot_evppi_bars(ranking, wtp: float, cur: str, folder: Path, plt=None) -> list:
    """Horizontal bars of per-person EVPPI per parameter/group at one WTP, ±1.96 SE whiskers."""
    plt = plt or _plt()
    d = ranking.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(d) + 1.8))
    y = np.arange(len(d))
    se = np.nan_to_num(d["se"].to_numpy(dtype=float))
    ax.barh(y, d["evppi"], xerr=1.96 * se, color=["#4C72B0" if k == "parameter" else "#DD8452" for k in d["kind"]],
            capsize=3)
    ax.axvline(float(d["evpi"].iloc[0]) if len(d) else 0.0, color="black", ls="--", lw=1, label="EVPI")
    ax.set_yticks(y, [r["item"] if r["kind"] == "parameter" else f"{r['item']} (group)" for _, r in d.iterrows()])
    ax.set_xlabel(f"EVPPI per person{cur}")
    ax.set_title(f"EVPPI at WTP {wtp:,.0f} (bars: ±1.96 SE)")
    _thousands(ax, "x")
    ax.legend(fontsize=9)
    return _save(fig, folder, "evppi_bars")


def plot_evppi_wtp(long, cur: str, eff: str, folder: Path, plt=None) -> list:
    """EVPPI of each parameter/group against WTP, with the EVPI curve."""
    plt = plt or _plt()
    fig, ax = plt.subplots(figsize=(7, 4.8))
    first = None
    for item, d in long.groupby("item", sort=False):
        first = d if first is None else first
        ax.plot(d["wtp"], d["evppi"], lw=1.8, marker="o" if len(d) < 6 else None, label=item)
    if first is not None:
        ax.plot(first["wtp"], first["evpi"], "k--", lw=2.2, label="EVPI")
    ax.set_xlabel(f"Willingness to pay{cur} per {eff}")
    ax.set_ylabel(f"Per-person value{cur}")
    ax.set_title("EVPPI and EVPI by willingness to pay")
    _thousands(ax, "x")
    _thousands(ax)
    ax.legend(fontsize=8, ncol=2)
    return _save(fig, folder, "evppi_wtp")


def plot_expected_loss(loss, cur: str, eff: str, folder: Path, plt=None) -> list:
    """Expected loss curves per strategy; their lower envelope is the EVPI."""
    plt = plt or _plt()
    fig, ax = plt.subplots(figsize=(7, 4.8))
    for s, d in loss.groupby("strategy", sort=False):
        ax.plot(d["wtp"], d["expected_loss"], lw=2, marker="o" if len(d) < 6 else None, label=s)
    env = loss.groupby("wtp", sort=True)["expected_loss"].min()
    ax.plot(env.index, env.to_numpy(), "k:", lw=2.5, label="lower envelope = EVPI")
    ax.set_xlabel(f"Willingness to pay{cur} per {eff}")
    ax.set_ylabel(f"Expected loss per person{cur}")
    ax.set_title("Expected loss curves")
    _thousands(ax, "x")
    _thousands(ax)
    ax.legend(fontsize=9)
    return _save(fig, folder, "expected_loss")


def plot_ce_ellipses(c, e, strategies, ref_name: str, wtp: float, cur: str, eff: str, folder: Path, plt=None) -> list:
    """CE plane vs the reference: draws, each strategy's mean and 95 % ellipse, and the WTP line."""
    from ces.analysis.voi import ce_ellipse

    plt = plt or _plt()
    ref = list(strategies).index(ref_name)
    fig, ax = plt.subplots(figsize=(6.8, 5.2))
    for j, s in enumerate(strategies):
        if j == ref:
            continue
        dx, dy = e[:, j] - e[:, ref], c[:, j] - c[:, ref]
        pts = ax.scatter(dx, dy, s=4, alpha=0.2)
        col = pts.get_facecolor()[0][:3]
        r = ce_ellipse(dx, dy)
        ax.plot(r["effect"], r["cost"], color=col, lw=2, label=f"{s} vs {ref_name}: 95 % ellipse")
        ax.plot(r["mean_effect"], r["mean_cost"], "o", color=col, ms=8, mec="black")
    xs = np.array(ax.get_xlim())
    ax.plot(xs, wtp * xs, "k--", lw=1.2, label=f"WTP {wtp:,.0f} per {eff}")
    ax.set_xlim(xs)
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel(f"Incremental {eff}s")
    ax.set_ylabel(f"Incremental cost{cur}")
    ax.set_title("CE plane: means and 95 % ellipses (bivariate normal)")
    _thousands(ax)
    ax.legend(fontsize=8)
    return _save(fig, folder, "ce_plane_ellipses")


def plot_convergence(conv, cur: str, folder: Path, plt=None) -> list:
    """Running mean NMB and P(CE) against the number of draws, ±1.96 MCSE bands."""
    plt = plt or _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for s, d in conv.groupby("strategy", sort=False):
        x = d["n_draws"].to_numpy()
        for ax, m, se in ((a1, "mean_nmb", "mcse_nmb"), (a2, "p_ce", "mcse_p_ce")):
            y, h = d[m].to_numpy(), 1.96 * np.nan_to_num(d[se].to_numpy())
            ax.plot(x, y, lw=1.8, label=s)
            ax.fill_between(x, y - h, y + h, alpha=0.2)
    wtp = float(conv["wtp"].iloc[0]) if len(conv) else 0.0
    for ax, lab in ((a1, f"Mean NMB{cur}"), (a2, "P(cost-effective)")):
        ax.set_xscale("log")
        ax.set_xlabel("Number of PSA draws")
        ax.set_ylabel(lab)
    _thousands(a1)
    a1.set_title(f"Mean NMB at WTP {wtp:,.0f} (±1.96 MCSE)")
    a2.set_title("Probability cost-effective (±1.96 MCSE)")
    a2.set_ylim(-0.02, 1.02)
    a1.legend(fontsize=8)
    return _save(fig, folder, "convergence")
