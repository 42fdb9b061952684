"""Compile one strategy of a model into a :class:`CompiledStrategy`: expressions, not yet numbers.

One job: merge the model with a strategy's patches (parameters, transition rows, state costs and
utilities, initial occupancy, one-off costs, curve modifiers) and compile every entry into a located
expression; record which parameters the transition grid (cycles 1..n) and the value grid (periods
0..n) need, which parameters the strategy's overrides affect (evaluated per strategy, the rest shared
across strategies), and check that every expression uses known names only.  Evaluation is in
:mod:`ces.engine.markov`, :mod:`ces.engine.partitioned` and :mod:`ces.engine.rewards`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ces.engine.evaluate import ParamEvaluator, uses_any
from ces.errors import CesError
from ces.modelfile.expr import compile_expr
from ces.params.parameters import parse_parameters


@dataclass
class CompiledStrategy:
    """One strategy, compiled: located expressions per model entry, and the parameters each grid needs."""

    name: str
    label: str
    params: dict  # name -> ParamDef (model parameters with this strategy's overrides)
    rows: dict  # from-state -> {to-state: Expr}, with locations
    row_where: dict  # from-state -> location tuple
    values: dict  # state -> {stream: Expr}
    trans_rewards: list  # (from, to, {stream: Expr}, where)
    initial: dict  # state -> Expr
    initial_costs: dict  # category -> Expr
    evaluator: Any = None
    affected: set = field(default_factory=set)  # parameters whose value differs from the model's
    need_t: set = field(default_factory=set)  # parameters needed on the transition grid
    need_v: set = field(default_factory=set)  # parameters needed on the value grid
    curves: dict = field(default_factory=dict)  # PSM: curve name -> CurveDef
    curve_costs: dict = field(default_factory=dict)  # PSM: curve name -> {category: Expr}
    entry_rewards: list = field(default_factory=list)  # PSM: (state index, {stream: Expr}) per entry reward


def expr(m, value, path: tuple):
    """Compile one expression of the model file, located at its YAML key ``path``."""
    file, p, line = m.loaded.locate(path)
    return compile_expr(value, file=file, path=p, line=line, extra_functions=frozenset(m.functions))


def one_off(m, spec, p: tuple) -> dict:
    """{stream: Expr} of a one-off reward (`cost`, `costs`, `qaly`) of a transition or a state entry."""
    r = {}
    if spec.cost is not None:
        r["cost"] = expr(m, spec.cost, p + ("cost",))
    for c, v in spec.costs.items():
        r[c] = expr(m, v, p + ("costs", c))
    if spec.qaly is not None:
        r["qaly"] = expr(m, spec.qaly, p + ("qaly",))
    return r


def strategy_parameters(m, sname: str) -> dict:
    """The model's parameters with strategy ``sname``'s overrides (an override with a distribution is sampled
    under the key ``STRATEGY/NAME``); records the model's own in ``m.model_defs`` and empirical draw files."""
    L = m.loaded
    spec = L.model
    strat = spec.strategies[sname]
    spath = ("strategies", sname)
    fns = frozenset(m.functions)
    defs = parse_parameters(spec.parameters, L.locate, fns, L.base_dir)
    if not m.model_defs:
        m.model_defs = dict(defs)
    for d in list(defs.values()):
        if d.dist is not None and d.dist.name in ("empirical", "bootstrap"):
            f = Path(d.dist.params["file"])
            m.data_files.append(str(f if f.is_absolute() else (L.base_dir / f).resolve()))
    if strat is not None:
        over = parse_parameters(strat.parameters, L.locate, fns, L.base_dir, prefix=spath)
        for name, d in over.items():
            if name not in defs:
                raise CesError(f"strategy overrides unknown parameter `{name}` (declare it in the model's "
                               "`parameters` first)", file=d.where[0], path=d.where[1], line=d.where[2])
            d.group = f"{sname}/{d.group or name}" if d.dist is not None else None
            defs[name] = d
    return defs


def compile_strategy(m, sname: str) -> CompiledStrategy:
    """Compile strategy ``sname`` of model ``m``: the model's parameters with the strategy's overrides,
    transition rows, state values per stream, transition and entry rewards, initial occupancy and one-off
    costs, curves; then which parameters each grid needs and a check that every name is known."""
    L = m.loaded
    spec = L.model
    strat = spec.strategies[sname]
    spath = ("strategies", sname)
    defs = strategy_parameters(m, sname)
    # transition rows
    rows, row_where = {}, {}
    for frm, row in spec.transitions.items():
        rows[frm] = {to: expr(m, v, ("transitions", frm, to)) for to, v in row.items()}
        row_where[frm] = L.locate(("transitions", frm))
    if strat is not None:
        for frm, row in strat.transitions.items():
            rows[frm] = {to: expr(m, v, spath + ("transitions", frm, to)) for to, v in row.items()}
            row_where[frm] = L.locate(spath + ("transitions", frm))
    for frm, row in rows.items():
        base = ("transitions", frm) if strat is None or frm not in strat.transitions else spath + ("transitions", frm)
        if frm not in spec.states:
            raise L.error(base, f"transition row from unknown state `{frm}` (states: {', '.join(spec.states)})")
        rest = [to for to, e in row.items() if is_rest(e)]
        if len(rest) > 1:
            raise L.error(base, f"row `{frm}` has more than one `rest` entry ({', '.join(rest)})")
        for to, e in row.items():
            if to not in spec.states:
                raise L.error(base + (to,), f"transition to unknown state `{to}` (states: {', '.join(spec.states)})")
    for s, st in spec.states.items():
        if spec.kind == "markov" and s not in rows and not st.dead:
            raise L.error(("transitions",), f"state `{s}` has no transition row (add `{s}: {{...}}` under "
                          "transitions, or mark it `dead: true` if it is absorbing)")
    # state values per stream
    values: dict = {}
    for s, st in spec.states.items():
        patch = strat.states.get(s) if strat is not None else None
        costs = {}
        if st.cost is not None:
            costs["cost"] = expr(m, st.cost, ("states", s, "cost"))
        for c, v in st.costs.items():
            costs[c] = expr(m, v, ("states", s, "costs", c))
        util = expr(m, st.utility, ("states", s, "utility")) if st.utility is not None else None
        if patch is not None:
            if patch.cost is not None:
                costs["cost"] = expr(m, patch.cost, spath + ("states", s, "cost"))
            for c, v in (patch.costs or {}).items():
                costs[c] = expr(m, v, spath + ("states", s, "costs", c))
            if patch.utility is not None:
                util = expr(m, patch.utility, spath + ("states", s, "utility"))
        if strat is not None:
            for ps in strat.states:
                if ps not in spec.states:
                    raise L.error(spath + ("states", ps), f"unknown state `{ps}` (states: {', '.join(spec.states)})")
        for cat, src in m.indirect.get(s, {}).items():
            costs[cat] = expr(m, src, ("indirect",))
        vals = dict(costs)
        if st.dead and util is not None and not (util.is_constant and float(util.evaluate({})) == 0.0):
            raise L.error(("states", s, "utility"), "a dead state cannot have a utility")
        vals["qaly"] = util
        if s in m.spillover:
            vals["caregiver_qaly"] = expr(m, m.spillover[s], ("indirect", "caregiver", "qaly_change", s))
        values[s] = vals
    # transition rewards
    trs = []
    for i, tr in enumerate(spec.transition_rewards):
        p = ("transition_rewards", i)
        for key, st_ in (("from", tr.from_), ("to", tr.to)):
            if st_ not in spec.states:
                raise L.error(p + (key,), f"unknown state `{st_}` (states: {', '.join(spec.states)})")
        if tr.from_ == tr.to:
            raise L.error(p + ("to",), "a transition reward needs two different states (staying is not a move)")
        trs.append((tr.from_, tr.to, one_off(m, tr, p), L.locate(p)))
    for frm, to, src in m.friction:  # friction cost: a one-off at each new absence (economics.indirect)
        trs.append((frm, to, {"productivity": expr(m, src, ("indirect", "productivity"))},
                    L.locate(("indirect", "productivity"))))
    entries_r = []
    for i, er in enumerate(spec.entry_rewards):
        p = ("entry_rewards", i)
        if er.state not in spec.states:
            raise L.error(p + ("state",), f"unknown state `{er.state}` (states: {', '.join(spec.states)})")
        if er.state == m.states[0]:
            raise L.error(p + ("state",), f"nobody enters the first state `{er.state}` of a partitioned-survival "
                          "model (the cohort starts there)")
        entries_r.append((m.states.index(er.state), one_off(m, er, p)))
    # initial occupancy and one-off costs
    init_raw = (strat.initial if strat is not None and strat.initial is not None else spec.initial)
    ipath = (spath + ("initial",)) if strat is not None and strat.initial is not None else ("initial",)
    if init_raw is None:
        initial = {m.states[0]: expr(m, 1, ("states",))}
    else:
        initial = {}
        for s, v in init_raw.items():
            if s not in spec.states:
                raise L.error(ipath + (s,), f"unknown state `{s}` (states: {', '.join(spec.states)})")
            initial[s] = expr(m, v, ipath + (s,))
    ic_raw = dict(spec.initial_costs)
    if strat is not None and strat.initial_costs is not None:
        ic_raw.update(strat.initial_costs)
    initial_costs = {c: expr(m, v, (spath if strat is not None and c in (strat.initial_costs or {})
                                      else ()) + ("initial_costs", c)) for c, v in ic_raw.items()}
    cs = CompiledStrategy(sname, (strat.label if strat is not None and strat.label else sname), defs, rows,
                          row_where, values, trs, initial, initial_costs)
    cs.entry_rewards = entries_r
    if spec.curves:
        compile_curves(m, cs, strat, spath)
    cs.evaluator = ParamEvaluator(defs, m.functions, m.known)
    overridden = set(strat.parameters) if strat is not None else set()
    cs.affected = cs.evaluator.dependents(overridden)
    t_exprs = [e for row in rows.values() for e in row.values()] + [e for *_, r, _ in trs for e in r.values()]
    t_exprs += [e for _, r in entries_r for e in r.values()]
    v_exprs = [e for vals in values.values() for e in vals.values() if e is not None]
    v_exprs += [e for c in cs.curves.values() for e in curve_exprs(c)]
    v_exprs += [e for costs in cs.curve_costs.values() for e in costs.values()]
    v_exprs += list(initial.values()) + list(initial_costs.values())
    cs.need_t = cs.evaluator.closure(set().union(*(e.names for e in t_exprs)) if t_exprs else set())
    cs.need_v = cs.evaluator.closure(set().union(*(e.names for e in v_exprs)) if v_exprs else set())
    # every expression outside the parameters must use known names only
    names_ok = set(defs) | m.known | set(m.functions)
    for frm, row in rows.items():
        for to, e in row.items():  # Markov: a curve name is its per-cycle probability 1 − S(t+Δ)/S(t)
            check_names(m, e, names_ok | {"rest"} | set(cs.curves), cs)
    for s, vals in values.items():
        for e in vals.values():
            if e is not None:
                check_names(m, e, names_ok, cs)
    for r in [r for _, _, r, _ in trs] + [r for _, r in entries_r]:
        for e in r.values():
            check_names(m, e, names_ok, cs)
    for e in list(initial.values()) + list(initial_costs.values()):
        check_names(m, e, names_ok, cs)
    for c in cs.curves.values():
        for e in curve_exprs(c):
            check_names(m, e, names_ok, cs)
    for costs in cs.curve_costs.values():
        for e in costs.values():
            check_names(m, e, names_ok, cs)
    for s, st in spec.states.items():
        if not st.max_residence:
            for e in list(rows.get(s, {}).values()) + [e for e in values[s].values() if e is not None]:
                if uses_any(e, cs.evaluator, "residence"):
                    raise CesError(f"`residence` is used in state `{s}`, which has no `max_residence`",
                                   file=e.file, path=e.path, line=e.line)
    return cs


def compile_curves(m, cs, strat, spath) -> None:
    """Curves of a PSM (model curves with this strategy's patches) and the costs under curves."""
    from ces.engine.psm import CURVE_KEYS, CurveDef
    from ces.survival.registry import curve_inputs

    L, spec = m.loaded, m.loaded.model
    patches = strat.curves if strat is not None else {}
    for c in patches:
        if c not in spec.curves:
            raise L.error(spath + ("curves", c), f"unknown curve `{c}` (curves: {', '.join(spec.curves)})")
    for name, raw in spec.curves.items():
        merged = {**raw, **patches.get(name, {})}

        def path_of(key, name=name):
            base = spath + ("curves", name) if key in patches.get(name, {}) else ("curves", name)
            return base + (key,)
        where = L.locate(("curves", name))
        fam = merged.get("dist")
        if fam == "mixture":
            comps = merged.get("components")
            unknown_keys = [k for k in merged if k not in ("dist", "components")]
            if unknown_keys:
                raise L.error(path_of(unknown_keys[0]), f"unknown key `{unknown_keys[0]}` for a mixture curve "
                              "(allowed: dist, components)")
            if not isinstance(comps, list) or not comps:
                raise L.error(path_of("components"), "a mixture curve needs `components: [{curve: NAME, "
                              "weight: EXPR}, ...]`")
            parts = []
            for i, c in enumerate(comps):
                if not isinstance(c, dict) or set(c) != {"curve", "weight"}:
                    raise L.error(path_of("components") + (i,), "each component is {curve: NAME, weight: EXPR}")
                other = spec.curves.get(c["curve"]) if isinstance(c["curve"], str) else None
                if not isinstance(other, dict) or other.get("dist") == "mixture":
                    raise L.error(path_of("components") + (i,), f"`{c['curve']}` must be a (non-mixture) curve "
                                  f"of this model (curves: {', '.join(spec.curves)})")
                parts.append((c["curve"], expr(m, c["weight"], path_of("components") + (i, "weight"))))
            cs.curves[name] = CurveDef(name, "mixture", {}, {}, where=where, extra={"components": parts})
            continue
        if not isinstance(fam, str):
            raise L.error(("curves", name), "a curve needs `dist: FAMILY` (e.g. weibull, lognormal, gompertz)")
        try:
            pnames, extra_keys = curve_inputs(fam, merged)
        except CesError as exc:
            raise L.error(path_of("dist"), exc.message) from None
        params, mods, extra = {}, {}, {}
        for key, val in merged.items():
            if key == "dist":
                continue
            if key in pnames:
                params[key] = expr(m, val, path_of(key))
            elif key in ("hr", "af", "or", "cure", "smr"):
                mods[key] = expr(m, val, path_of(key))
            elif key in extra_keys:
                extra[key] = val
            elif key not in CURVE_KEYS:
                allowed = list(pnames) + list(extra_keys) + [k for k in CURVE_KEYS if k != "dist"]
                raise L.error(path_of(key), f"unknown key `{key}` for a {fam} curve (allowed: "
                              f"{', '.join(allowed)})")
        missing = [p for p in pnames if p not in params]
        if missing:
            raise L.error(("curves", name), f"{fam} curve needs {', '.join(pnames)} (missing {', '.join(missing)})")
        cdef = CurveDef(name, fam, params, mods, where=where, extra=extra)
        if "hr_until" in merged:
            v = merged["hr_until"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                raise L.error(path_of("hr_until"), f"`hr_until` must be a positive time in {spec.time_unit}s")
            if "hr" not in mods:
                raise L.error(path_of("hr_until"), "`hr_until` needs `hr`")
            cdef.hr_until = float(v)
        ct = merged.get("cure_type", "mixture")
        if ct not in ("mixture", "non-mixture"):
            raise L.error(path_of("cure_type"), f"`cure_type` must be mixture or non-mixture, got {ct!r}")
        cdef.cure_type = ct
        cdef.floor = bool(merged.get("floor", False))
        bg = merged.get("background")
        if bg is not None:
            from ces.survival.lifetable import LIFE_TABLES

            if not isinstance(bg, str) or bg not in LIFE_TABLES:
                raise L.error(path_of("background"), f"unknown life table `{bg}` (available: "
                              f"{', '.join(sorted(LIFE_TABLES))})")
            if spec.start_age is None:
                raise L.error(path_of("background"), "`background` needs the model's `start_age`")
            if spec.sex is None:
                raise L.error(path_of("background"), "`background` needs the model's `sex`")
        if "smr" in mods and not ("cure" in mods or cdef.floor):
            raise L.error(path_of("smr"), "`smr` (excess mortality ratio on the background hazard) needs a cure "
                          "fraction `cure` or `floor: true`, the operations that use the background")
        if ("cure" in mods or cdef.floor) and bg is None:
            what = "a cure fraction" if "cure" in mods else "`floor: true`"
            raise L.error(("curves", name), f"{what} needs `background: LIFE_TABLE` (e.g. us_2021) for "
                          "background mortality")
        cdef.background = bg
        if bg is not None:
            from ces.survival.lifetable import LIFE_TABLES, _path

            m.data_files.append(str(_path(LIFE_TABLES[bg][0])))
        cs.curves[name] = cdef
    for cname, costs in spec.curve_costs.items():
        cs.curve_costs[cname] = {c: expr(m, v, ("curve_costs", cname, c)) for c, v in costs.items()}


def check_names(m, e, ok: set, cs) -> None:
    """Every name of expression ``e`` is in ``ok``; else a located error with the closest known name."""
    import difflib

    for n in sorted(e.names):
        if n not in ok:
            if n == "age":
                msg = f"`age` is used in `{e.source}` but the model has no `start_age`"
            else:
                close = difflib.get_close_matches(n, sorted(ok - {"rest"}), n=1)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                msg = f"unknown name `{n}` in expression `{e.source}`{hint}"
            raise CesError(msg, file=e.file, path=e.path, line=e.line)


def curve_exprs(c) -> list:
    """Every expression of a curve: family parameters, modifiers, mixture weights."""
    return list(c.params.values()) + list(c.mods.values()) + [w for _, w in c.extra.get("components", [])]


def is_rest(e) -> bool:
    """Is this transition entry the keyword `rest` (the complement of the row)?"""
    return isinstance(e.source, str) and e.source.strip() == "rest"
