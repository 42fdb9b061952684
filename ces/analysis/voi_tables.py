"""Value-of-information tables of a PSA run: EVPPI per parameter/group, expected loss, ellipses, convergence.

Adapter from a :class:`ces.engine.psa.PsaResult` and its sampled parameter values to the pure
estimators of :mod:`ces.analysis.evppi` and :mod:`ces.analysis.voi`.  Every table carries a
``perspective`` column; :func:`perspective_costs` is the single place that says which cost
matrices are analysed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ces.analysis.evppi import bootstrap_weights, evppi_partition, evppi_regression, incremental
from ces.analysis.psa import evpi, population_evpi
from ces.analysis.voi import ce_ellipse, convergence_curves, expected_loss
from ces.errors import CesError

#: Memory bounds checked before allocating: draws used by the EVPPI regressions (a tensor basis of up to
#: 300 columns per draw) and draws × bootstrap resamples (the resampling-count matrix).
MAX_EVPPI_DRAWS = 200_000
MAX_DRAWS_X_BOOTSTRAP = 50_000_000


def perspective_costs(psa, perspectives: list | None = None) -> dict:
    """Perspective key → per-draw cost matrix (n_draws, K) analysed by every VOI table.

    ``perspectives``: :class:`ces.economics.perspectives.Perspective` objects (the run's
    ``perspective_list``, base-case perspective first); each perspective's cost is the sum of its
    categories per draw (:meth:`PsaResult.costs`), so no draw is simulated twice.  Without it,
    the payer perspective only.
    """
    if not perspectives:
        return {"payer": psa.matrix("cost")}
    return {p.key: psa.costs(p.categories) for p in perspectives}


def check_sizes(n_draws: int, n_boot: int) -> None:
    """Refuse EVPPI runs whose arrays would exceed the memory bounds above."""
    if n_draws > MAX_EVPPI_DRAWS:
        raise CesError(f"EVPPI uses at most {MAX_EVPPI_DRAWS:,} PSA draws (memory), got {n_draws:,}: pass fewer --draws")
    if n_boot and n_draws * n_boot > MAX_DRAWS_X_BOOTSTRAP:
        raise CesError(f"EVPPI: draws × bootstrap resamples must be at most {MAX_DRAWS_X_BOOTSTRAP:,} (memory), got "
                       f"{n_draws:,} × {n_boot:,}: lower `evppi.bootstrap` / --bootstrap")


def evppi_items(available: dict, parameters: list, groups: dict) -> dict:
    """Item name → (kind, [parameter names]); checks every name against the sampled parameters."""
    if not available:
        raise CesError("EVPPI needs parameters with a PSA distribution (`dist:`); the model has none")
    known = ", ".join(sorted(available))
    items = {}
    for p in parameters or sorted(available):
        if p not in available:
            raise CesError(f"EVPPI: `{p}` is not a parameter with a PSA distribution (sampled: {known})")
        items[p] = ("parameter", [p])
    for g, names in groups.items():
        if not names:
            raise CesError(f"EVPPI group `{g}` names no parameters")
        for p in names:
            if p not in available:
                raise CesError(f"EVPPI group `{g}`: `{p}` is not a parameter with a PSA distribution "
                               f"(sampled: {known})")
        if len(set(names)) != len(names):
            raise CesError(f"EVPPI group `{g}` repeats a parameter")
        if g in items:
            raise CesError(f"EVPPI group name `{g}` is also a parameter name; rename the group")
        items[g] = ("group", list(names))
    for name, (_, params) in items.items():
        for p in params:
            if np.ptp(available[p]) == 0:
                raise CesError(f"EVPPI: `{p}` does not vary over the PSA draws (a `fixed` distribution?); "
                               f"drop it from `{name}`")
    return items


def evppi_tables(psa, samples: dict, effect: str, wtps: list, items: dict, sort_wtp: float, n_boot: int = 100,
                 reference: int = 0, population: float | None = None, years: int | None = None,
                 discount_rate: float = 0.0, perspectives: list | None = None) -> dict:
    """EVPPI (long table at every WTP, and the ranking at ``sort_wtp``), per perspective
    (``perspectives`` as in :func:`perspective_costs`; the ranking keeps their order).

    Standard errors: bootstrap over the PSA draws with ``n_boot`` resamples seeded by the PSA seed,
    the same resamples for every item.  Population EVPPI uses :func:`ces.analysis.psa.population_evpi`.
    """
    w = np.asarray(sorted(set(float(x) for x in wtps) | {float(sort_wtp)}), dtype=float)
    e = psa.matrix(effect)
    n = psa.n_draws
    check_sizes(n, n_boot)
    weights = bootstrap_weights(n, n_boot, psa.seed) if n_boot and n_boot > 1 else None
    rows, ranking = [], []
    costs = perspective_costs(psa, perspectives)
    for perspective, c in costs.items():
        dE, dC = incremental(c, e, reference)
        ev = evpi(c, e, w)
        for name, (kind, params) in items.items():
            theta = np.column_stack([samples[p] for p in params])
            est = evppi_regression(dE, dC, theta, w, n_boot=n_boot, seed=psa.seed, weights=weights)
            part = evppi_partition(dE, dC, theta, w) if kind == "parameter" else np.full(w.size, np.nan)
            for i, lam in enumerate(w):
                row = {"perspective": perspective, "item": name, "kind": kind, "parameters": ",".join(params),
                       "wtp": float(lam), "evppi": float(est.evppi[i]), "se": float(est.se[i]),
                       "evppi_partition": float(part[i]), "evpi": float(ev[i]),
                       "basis_columns": est.columns, "r2_min": est.r2, "fit_p": est.fit_p,
                       "warning": "; ".join(est.warnings)}
                if population is not None and years is not None:
                    row["evppi_population"] = float(population_evpi(max(est.evppi[i], 0.0), population, years,
                                                                    discount_rate))
                rows.append(row)
    long = pd.DataFrame(rows)
    at = long[np.isclose(long["wtp"], float(sort_wtp))]
    order = at["perspective"].map({k: i for i, k in enumerate(costs)})
    ranking = at.assign(_order=order).sort_values(["_order", "evppi"], ascending=[True, False], kind="stable") \
        .drop(columns="_order").reset_index(drop=True)
    ranking["share_of_evpi"] = np.where(ranking["evpi"] > 0, ranking["evppi"] / ranking["evpi"].where(
        ranking["evpi"] > 0, 1.0), np.nan)
    long = long[np.isin(long["wtp"], np.asarray(wtps, dtype=float))].reset_index(drop=True)
    return {"evppi": long, "evppi_ranking": ranking}


def decision_tables(psa, effect: str, wtps: list, ref_wtp: float, reference: int = 0,
                    perspectives: list | None = None) -> dict:
    """Expected loss per strategy and WTP; CE-plane means and 95 % ellipses vs ``reference``;
    convergence of mean NMB and P(CE) at ``ref_wtp``.  One set per perspective."""
    names = psa.strategies
    e = psa.matrix(effect)
    loss, ell, conv = [], [], []
    for perspective, c in perspective_costs(psa, perspectives).items():
        el = expected_loss(c, e, wtps)
        for i, lam in enumerate(wtps):
            for j, s in enumerate(names):
                loss.append({"perspective": perspective, "wtp": float(lam), "strategy": s,
                             "expected_loss": float(el[i, j])})
        for j, s in enumerate(names):
            r = ce_ellipse(e[:, j] - e[:, reference], c[:, j] - c[:, reference])
            ell.append({"perspective": perspective, "strategy": s, "vs": names[reference],
                        "mean_effect": float(e[:, j].mean()), "mean_cost": float(c[:, j].mean()),
                        "mean_incremental_effect": r["mean_effect"], "mean_incremental_cost": r["mean_cost"],
                        "var_incremental_effect": float(r["cov"][0, 0]), "var_incremental_cost": float(r["cov"][1, 1]),
                        "cov_incremental": float(r["cov"][0, 1])})
        cv = convergence_curves(c, e, ref_wtp)
        cv.insert(0, "perspective", perspective)
        cv["strategy"] = [names[k] for k in cv["strategy"]]
        cv.insert(2, "wtp", float(ref_wtp))
        conv.append(cv)
    return {"expected_loss": pd.DataFrame(loss), "ce_ellipse": pd.DataFrame(ell),
            "convergence_curve": pd.concat(conv, ignore_index=True)}


def sort_wtp(spec_wtp: float | None, wtps: list) -> float:
    """The WTP at which EVPPI is ranked: ``evppi.wtp``, else the middle of the config's WTP values."""
    if spec_wtp is not None:
        return float(spec_wtp)
    if not wtps:
        raise CesError("EVPPI needs a willingness to pay: add `wtp:` to the config or pass --wtp")
    return float(wtps[len(wtps) // 2])
