"""Sanity warnings: inputs and results that are legal but usually a mistake.

Each warning is a dict {code, message, where} listed once in results.json (``warnings``),
printed once by ``ces run``, and made an error (exit 2) by ``ces run --strict``.

==================  ==========================================================================
code                fires when
==================  ==========================================================================
utility_range       a state utility (base case, any strategy, any cycle) is above 1 or below
                    −0.6 (below the worst EQ-5D-5L value sets, e.g. UK −0.59, van Hout 2012)
base_vs_dist        a parameter's base value lies outside the central 99 % of its own
                    distribution, or more than 20 % away from the distribution's mean
dsa_bracket         a one-way DSA range [low, high] does not contain the parameter's base value
negative_cost       a parameter used in a cost expression has a negative base value
unused_parameter    a model parameter is used by no expression (after strategy overrides)
psm_capped          PSM curves were capped (``crossing: cap``) in more than 1 % of PSA draws
psa_precision       the PSA's Monte Carlo SE of the mean NMB exceeds the config's precision
==================  ==========================================================================
"""

from __future__ import annotations

import numpy as np

from ces.engine import conventions as cv
from ces.engine.evaluate import ParamEvaluator, as_array

UTILITY_MAX = 1.0
UTILITY_MIN = -0.6
DIST_CENTRAL = (0.005, 0.995)
MEAN_TOLERANCE = 0.20
CAPPED_SHARE = 0.01


def _w(code: str, message: str, where: str | None = None) -> dict:
    return {"code": code, "message": message, "where": where}


def _loc(where: tuple) -> str | None:
    file, path, line = where
    if not file:
        return None
    return f"{file}:{line} {path}" if line is not None else f"{file} {path}"


def parameter_values(model, defs: dict) -> dict:
    """name → (base value or None, time_varying): a parameter that depends on cycle, time, age or residence, or
    is not a scalar, has no single base value."""
    ev = ParamEvaluator(defs, model.functions, model.known)
    vals = ev.evaluate(model.env(np.array([1.0]), np.array([0.0])))
    out = {}
    for n in defs:
        varying = bool(ev.uses.get(n, frozenset()) & {"cycle", "time", "age", "residence"})
        a = None if varying or n not in vals else np.asarray(vals[n], dtype=float)
        out[n] = (float(a.ravel()[0]) if a is not None and a.size == 1 else None, varying)
    return out


def base_values(model, defs: dict) -> dict:
    """name → base value (float) of every time-invariant scalar parameter."""
    return {n: v for n, (v, _) in parameter_values(model, defs).items() if v is not None}


def _utilities(run) -> list:
    model = run.model
    out = []
    vcyc, vtime = cv.period_cycles_and_times(run.loaded.model.correction, model.n_cycles, model.cycle_years)
    for s, cs in model.strategies.items():
        env = cs.evaluator.evaluate(model.env(vcyc, vtime))
        if any(r for _, r in model.expanded):
            continue  # tunnel states: utilities depend on residence; not checked here
        for state, vals in cs.values.items():
            e = vals.get("qaly")
            if e is None:
                continue
            u = as_array(e.evaluate(env, model.functions))
            lo, hi = float(np.min(u)), float(np.max(u))
            if hi > UTILITY_MAX or lo < UTILITY_MIN:
                bad = hi if hi > UTILITY_MAX else lo
                out.append(_w("utility_range", f"utility of state `{state}` in strategy `{s}` is {bad:.4g} (expected "
                              f"between {UTILITY_MIN:g} and {UTILITY_MAX:g})", f"{e.file}:{e.line} {e.path}"
                              if e.file else None))
    return out


def _distributions(run, base: dict) -> list:
    out = []
    for n, d in run.model.model_defs.items():
        if d.dist is None or d.column is not None or n not in base or d.dist.dim != 1:
            continue
        try:
            lo, hi = (float(x) for x in d.dist.ppf(list(DIST_CENTRAL)))
        except Exception:  # noqa: BLE001 - a distribution without quantiles is not checked
            continue
        v, mean = base[n], float(d.dist.mean)
        if not lo <= v <= hi:
            out.append(_w("base_vs_dist", f"parameter `{n}`: base value {v:.6g} is outside the central 99 % of its "
                          f"{d.dist.name} distribution [{lo:.6g}, {hi:.6g}]", _loc(d.where)))
        elif abs(v - mean) > MEAN_TOLERANCE * abs(mean):
            out.append(_w("base_vs_dist", f"parameter `{n}`: base value {v:.6g} is more than "
                          f"{MEAN_TOLERANCE:.0%} away from its distribution's mean {mean:.6g}", _loc(d.where)))
    return out


def _dsa(run, base: dict) -> list:
    d = run.loaded.config.dsa
    if d is None or not isinstance(d.parameters, dict):
        return []
    cl = run.loaded.config_loc
    out = []
    for n, rng in d.parameters.items():
        if n in base and len(rng) == 2 and not min(rng) <= base[n] <= max(rng):
            where = f"{cl.file}:{cl.line(('dsa', 'parameters', n))} dsa.parameters.{n}" if cl else None
            out.append(_w("dsa_bracket", f"DSA range [{rng[0]:g}, {rng[1]:g}] of `{n}` does not contain its base "
                          f"value {base[n]:.6g}", where))
    return out


def _costs(run, base: dict) -> list:
    model = run.model
    names: set = set()
    for cs in model.strategies.values():
        for vals in cs.values.values():
            for stream, e in vals.items():
                if stream in model.cost_streams and e is not None:
                    names |= e.names
        for _, _, r, _ in cs.trans_rewards:
            names |= set().union(*(e.names for k, e in r.items() if k != "qaly"))
        for _, r in cs.entry_rewards:
            names |= set().union(*(e.names for k, e in r.items() if k != "qaly"))
        for e in cs.initial_costs.values():
            names |= e.names
        for costs in cs.curve_costs.values():
            for e in costs.values():
                names |= e.names
    return [_w("negative_cost", f"cost parameter `{n}` is negative ({base[n]:.6g})", _loc(model.model_defs[n].where))
            for n in sorted(names) if n in base and n in model.model_defs and base[n] < 0]


def _unused(run) -> list:
    model = run.model
    used: set = set()
    for cs in model.strategies.values():
        used |= cs.need_t | cs.need_v
    return [_w("unused_parameter", f"parameter `{n}` is not used by any expression", _loc(d.where))
            for n, d in model.model_defs.items() if n not in used]


def _psa(run) -> list:
    out = []
    psa = run.psa
    if psa is None:
        return out
    for s, c in (psa.crossing or {}).items():
        if c.draws > CAPPED_SHARE * psa.n_draws:
            out.append(_w("psm_capped", f"`{s}`: PSM curves capped in {c.draws:,} of {psa.n_draws:,} PSA draws "
                          f"({c.draws / psa.n_draws:.1%}, {c.points:,} points)", None))
    conv = run.psa_tables.get("convergence")
    if conv is not None and run.loaded.config.psa is not None and run.loaded.config.psa.precision is not None:
        bad = conv[~conv["converged"].astype(bool)]
        for _, r in bad.iterrows():
            out.append(_w("psa_precision", f"PSA at WTP {r['wtp']:,.0f}: Monte Carlo SE of the mean NMB "
                          f"{r['mcse_max']:,.4g} exceeds the precision {r['precision']:,.4g} "
                          f"({int(r['n_draws']):,} draws; about {int(r['n_needed']):,} needed)", "psa.precision"))
    return out


def sanity_warnings(run) -> list:
    """Every sanity warning of a run (see the module docstring), each once."""
    base = base_values(run.model, run.model.model_defs)
    out = (_utilities(run) + _distributions(run, base) + _dsa(run, base) + _costs(run, base) + _unused(run)
           + _psa(run))
    seen, unique = set(), []
    for w in out:
        if w["message"] not in seen:
            seen.add(w["message"])
            unique.append(w)
    return unique
