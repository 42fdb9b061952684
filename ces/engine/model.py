"""Build the arrays of a Markov cohort model and run it through the kernels.

Pipeline per strategy: parameters (base values or a chunk of PSA draws) →
transition tensor P (draws × cycles × states × states), initial occupancy, state
values V (draws × streams × periods × states), transition rewards → numba trace
and reward kernels → totals per reward stream.

Reward streams: one per cost category, then ``qaly`` (utility × Δ per cycle) and
``ly`` (Δ per cycle in every non-dead state).  State costs are per cycle.
Tunnel states (``max_residence``) are expanded into sub-states X#1..X#L before
the kernel runs, and folded back for reporting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pathlib import Path

import numpy as np

from ces.engine import conventions as cv
from ces.engine.evaluate import ParamEvaluator, as_array, uses_any
from ces.engine.kernels import accumulate_rewards, markov_trace
from ces.errors import CesError, ModelCheckError
from ces.params.parameters import parse_parameters
from ces.params.tables import load_table, resolve_table_file
from ces.modelfile.expr import compile_expr
from ces.modelfile.loader import Loaded
from ces.modelfile.units import parse_cycle, parse_horizon
from ces.modelfile.sizes import check_cycles, check_model_sizes

ROW_TOL = 1e-9


@dataclass
class CompiledStrategy:
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


@dataclass
class StrategyResult:
    """Totals per draw and reward stream; trace and periods only when requested."""

    totals: np.ndarray  # (D, R) discounted, incl. one-off costs at time 0
    totals_undisc: np.ndarray  # (D, R)
    trace: np.ndarray | None = None  # (D, n+1, S_reported)
    periods: np.ndarray | None = None  # (D, R, n+1) undiscounted per period (no one-offs)
    initial: np.ndarray | None = None  # (D, R) one-off costs at time 0
    crossing: Any = None  # PSM: CrossingInfo (curves capped by the crossing policy)
    disc: np.ndarray | None = None  # (R, n+1) discount factor d_k of each stream and period (keep only)
    weights: tuple | None = None  # (α, β) counting weights, each (n+1,) (keep only; see conventions.py)


@dataclass
class CohortModel:
    loaded: Loaded
    n_cycles: int = 0
    cycle_years: float = 1.0
    states: list = field(default_factory=list)  # reported states
    expanded: list = field(default_factory=list)  # (state, residence) per kernel state
    cost_streams: list = field(default_factory=list)
    streams: list = field(default_factory=list)
    strategies: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    known: frozenset = frozenset()
    model_defs: dict = field(default_factory=dict)  # the model's parameters, without strategy overrides
    data_files: list = field(default_factory=list)  # every data file read (for the run manifest)
    payer_streams: list = field(default_factory=list)  # cost categories of the healthcare payer
    indirect: dict = field(default_factory=dict)  # state -> {societal category: expression}
    friction: list = field(default_factory=list)  # (from, to, expression): friction-cost one-offs on moves
    spillover: dict = field(default_factory=dict)  # state -> caregiver QALY change per cycle (expression)
    _model_evaluator: Any = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_loaded(cls, loaded: Loaded) -> "CohortModel":
        m = cls(loaded)
        spec = loaded.model
        try:
            m.cycle_years = parse_cycle(spec.cycle)
        except ValueError as exc:
            raise loaded.error(("cycle",), str(exc)) from None
        check_model_sizes(loaded, m.cycle_years)
        try:
            m.n_cycles = parse_horizon(spec.horizon, m.cycle_years, spec.start_age, spec.max_age)
        except OverflowError:
            raise loaded.error(("horizon",), f"horizon `{spec.horizon}` is not a finite number of cycles") from None
        except ValueError as exc:
            raise loaded.error(("horizon",), str(exc)) from None
        check_cycles(loaded, m.n_cycles)
        m.states = list(spec.states)
        for name, tspec in spec.tables.items():
            m.functions[name] = load_table(name, tspec, loaded.base_dir, spec.sex,
                                           lambda key, msg, n=name: loaded.error(("tables", n, key), msg),
                                           loaded.data_dirs or None)
            m.data_files.append(str(resolve_table_file(tspec.file, loaded.base_dir)))
        m.functions["mortality"] = m._mortality
        known = {"cycle", "time", "cycle_length", "residence"}
        if spec.start_age is not None:
            known.add("age")
        m.known = frozenset(known)
        if spec.kind == "psm":
            m._check_psm_structure()
        elif spec.entry_rewards:
            raise loaded.error(("entry_rewards",), "`entry_rewards` belong to partitioned-survival models; a Markov "
                               "model puts one-off costs on moves with `transition_rewards`")
        elif spec.partition or spec.curve_costs:
            key = "partition" if spec.partition else "curve_costs"
            raise loaded.error((key,), f"`{key}` belongs to partitioned-survival models (set `kind: psm`)")
        m._expand_states()
        m._collect_streams()
        selected = loaded.config.strategies or list(spec.strategies)
        for s in selected:
            m.strategies[s] = m._compile_strategy(s)
        return m

    def _mortality(self, table, age):
        """Expression function mortality("us_2021", age): annual background hazard from a shipped life table
        (model `sex` weights); use rate_to_prob(mortality("us_2021", age)) for a per-cycle probability."""
        from ces.survival.lifetable import life_table, sex_weights

        if not isinstance(table, str):
            raise CesError("mortality(TABLE, age): TABLE must be a life-table name in quotes, e.g. \"us_2021\"")
        from ces.survival.lifetable import LIFE_TABLES, _path

        if table in LIFE_TABLES and str(_path(LIFE_TABLES[table][0])) not in self.data_files:
            self.data_files.append(str(_path(LIFE_TABLES[table][0])))  # for the run's provenance
        return life_table(table).hazard_at(age, sex_weights(self.loaded.model.sex))

    def _check_psm_structure(self) -> None:
        L, spec = self.loaded, self.loaded.model
        if spec.transitions:
            raise L.error(("transitions",), "a partitioned-survival model has no `transitions` (use `partition`)")
        if spec.transition_rewards:
            raise L.error(("transition_rewards",), "transition rewards need a Markov model")
        if not spec.partition:
            raise L.error(("partition",), "a partitioned-survival model needs `partition: [curve, ...]` "
                          f"(one curve per state except the last; states: {', '.join(spec.states)})")
        if len(spec.partition) != len(spec.states) - 1:
            raise L.error(("partition",), f"`partition` lists {len(spec.partition)} curves but there are "
                          f"{len(spec.states)} states; give one curve per state except the last (dead)")
        last = list(spec.states)[-1]
        if not spec.states[last].dead:
            raise L.error(("states", last), f"the last state `{last}` of a partitioned-survival model must be "
                          "`dead: true`")
        for i, c in enumerate(spec.partition):
            if c not in spec.curves:
                raise L.error(("partition", i), f"unknown curve `{c}` (curves: {', '.join(spec.curves) or 'none'})")
        for c in spec.curve_costs:
            if c not in spec.curves:
                raise L.error(("curve_costs", c), f"unknown curve `{c}` (curves: {', '.join(spec.curves)})")
        for s, st in spec.states.items():
            if st.max_residence:
                raise L.error(("states", s, "max_residence"), "tunnel states need a Markov model")

    def _expand_states(self) -> None:
        for s, st in self.loaded.model.states.items():
            L = st.max_residence or 0
            if L:
                self.expanded += [(s, r) for r in range(1, L + 1)]
            else:
                self.expanded.append((s, 0))

    def _collect_streams(self) -> None:
        spec = self.loaded.model
        cats: list = []

        def add(c):
            if c not in cats:
                cats.append(c)
        for st in spec.states.values():
            if st.cost is not None:
                add("cost")
            for c in st.costs:
                add(c)
        for tr in list(spec.transition_rewards) + list(spec.entry_rewards):
            if tr.cost is not None:
                add("cost")
        for c in spec.initial_costs:
            add(c)
        for costs in spec.curve_costs.values():
            for c in costs:
                add(c)
        for strat in spec.strategies.values():
            if strat is None:
                continue
            for p in strat.states.values():
                if p.cost is not None:
                    add("cost")
                for c in (p.costs or {}):
                    add(c)
            for c in (strat.initial_costs or {}):
                add(c)
        for c in cats:
            if c in ("qaly", "ly", "total_cost"):
                raise self.loaded.error(("states",), f"cost category name `{c}` is reserved")
        from ces.economics.indirect import check_no_clash, indirect_costs

        check_no_clash(cats, self.loaded.error)
        # transition rewards may also use the societal categories (per-event indirect costs, e.g. a
        # caregiver's leave at a relapse); those stay out of the payer perspective
        from ces.economics.indirect import INDIRECT

        for tr in list(spec.transition_rewards) + list(spec.entry_rewards):
            for c in tr.costs:
                add(c)
        for c, who in spec.cost_bearers.items():
            if c not in cats:
                raise self.loaded.error(("cost_bearers", c), f"unknown cost category `{c}` (categories: {', '.join(cats)})")
        self.payer_streams = [c for c in cats if c not in INDIRECT and spec.cost_bearers.get(c, "payer") == "payer"]
        self.indirect = indirect_costs(spec.indirect, spec.states, self.loaded.error)
        for terms in self.indirect.values():
            for c in terms:
                add(c)
        from ces.economics.indirect import PRODUCTIVITY, friction_rewards

        self.friction = friction_rewards(spec.indirect, spec.states, spec.kind, self.loaded.error)
        if self.friction:
            add(PRODUCTIVITY)
        self.cost_streams = cats
        from ces.economics.indirect import CAREGIVER_QALY, caregiver_qaly_changes

        self.spillover = caregiver_qaly_changes(spec.indirect, spec.states, self.loaded.error)
        self.streams = cats + ["qaly", "ly"] + ([CAREGIVER_QALY] if self.spillover else [])

    def _expr(self, value, path: tuple):
        file, p, line = self.loaded.locate(path)
        return compile_expr(value, file=file, path=p, line=line, extra_functions=frozenset(self.functions))

    def _one_off(self, spec, p: tuple) -> dict:
        """{stream: Expr} of a one-off reward (`cost`, `costs`, `qaly`) of a transition or a state entry."""
        r = {}
        if spec.cost is not None:
            r["cost"] = self._expr(spec.cost, p + ("cost",))
        for c, v in spec.costs.items():
            r[c] = self._expr(v, p + ("costs", c))
        if spec.qaly is not None:
            r["qaly"] = self._expr(spec.qaly, p + ("qaly",))
        return r

    def _compile_strategy(self, sname: str) -> CompiledStrategy:
        L = self.loaded
        spec = L.model
        strat = spec.strategies[sname]
        spath = ("strategies", sname)
        # parameters: model, then strategy overrides
        fns = frozenset(self.functions)
        defs = parse_parameters(spec.parameters, L.locate, fns, L.base_dir)
        if not self.model_defs:
            self.model_defs = dict(defs)
        for d in list(defs.values()):
            if d.dist is not None and d.dist.name in ("empirical", "bootstrap"):
                f = Path(d.dist.params["file"])
                self.data_files.append(str(f if f.is_absolute() else (L.base_dir / f).resolve()))
        if strat is not None:
            over = parse_parameters(strat.parameters, L.locate, fns, L.base_dir, prefix=spath)
            for name, d in over.items():
                if name not in defs:
                    raise CesError(f"strategy overrides unknown parameter `{name}` (declare it in the model's "
                                   "`parameters` first)", file=d.where[0], path=d.where[1], line=d.where[2])
                d.group = f"{sname}/{d.group or name}" if d.dist is not None else None
                defs[name] = d
        # transition rows
        rows, row_where = {}, {}
        for frm, row in spec.transitions.items():
            rows[frm] = {to: self._expr(v, ("transitions", frm, to)) for to, v in row.items()}
            row_where[frm] = L.locate(("transitions", frm))
        if strat is not None:
            for frm, row in strat.transitions.items():
                rows[frm] = {to: self._expr(v, spath + ("transitions", frm, to)) for to, v in row.items()}
                row_where[frm] = L.locate(spath + ("transitions", frm))
        for frm, row in rows.items():
            base = ("transitions", frm) if strat is None or frm not in strat.transitions else spath + ("transitions", frm)
            if frm not in spec.states:
                raise L.error(base, f"transition row from unknown state `{frm}` (states: {', '.join(spec.states)})")
            rest = [to for to, e in row.items() if _is_rest(e)]
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
                costs["cost"] = self._expr(st.cost, ("states", s, "cost"))
            for c, v in st.costs.items():
                costs[c] = self._expr(v, ("states", s, "costs", c))
            util = self._expr(st.utility, ("states", s, "utility")) if st.utility is not None else None
            if patch is not None:
                if patch.cost is not None:
                    costs["cost"] = self._expr(patch.cost, spath + ("states", s, "cost"))
                for c, v in (patch.costs or {}).items():
                    costs[c] = self._expr(v, spath + ("states", s, "costs", c))
                if patch.utility is not None:
                    util = self._expr(patch.utility, spath + ("states", s, "utility"))
            if strat is not None:
                for ps in strat.states:
                    if ps not in spec.states:
                        raise L.error(spath + ("states", ps), f"unknown state `{ps}` (states: {', '.join(spec.states)})")
            for cat, src in self.indirect.get(s, {}).items():
                costs[cat] = self._expr(src, ("indirect",))
            vals = dict(costs)
            if st.dead and util is not None and not (util.is_constant and float(util.evaluate({})) == 0.0):
                raise L.error(("states", s, "utility"), "a dead state cannot have a utility")
            vals["qaly"] = util
            if s in self.spillover:
                vals["caregiver_qaly"] = self._expr(self.spillover[s], ("indirect", "caregiver", "qaly_change", s))
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
            trs.append((tr.from_, tr.to, self._one_off(tr, p), L.locate(p)))
        for frm, to, src in self.friction:  # friction cost: a one-off at each new absence (economics.indirect)
            trs.append((frm, to, {"productivity": self._expr(src, ("indirect", "productivity"))},
                        L.locate(("indirect", "productivity"))))
        entries_r = []
        for i, er in enumerate(spec.entry_rewards):
            p = ("entry_rewards", i)
            if er.state not in spec.states:
                raise L.error(p + ("state",), f"unknown state `{er.state}` (states: {', '.join(spec.states)})")
            if er.state == self.states[0]:
                raise L.error(p + ("state",), f"nobody enters the first state `{er.state}` of a partitioned-survival "
                              "model (the cohort starts there)")
            entries_r.append((self.states.index(er.state), self._one_off(er, p)))
        # initial occupancy and one-off costs
        init_raw = (strat.initial if strat is not None and strat.initial is not None else spec.initial)
        ipath = (spath + ("initial",)) if strat is not None and strat.initial is not None else ("initial",)
        if init_raw is None:
            initial = {self.states[0]: self._expr(1, ("states",))}
        else:
            initial = {}
            for s, v in init_raw.items():
                if s not in spec.states:
                    raise L.error(ipath + (s,), f"unknown state `{s}` (states: {', '.join(spec.states)})")
                initial[s] = self._expr(v, ipath + (s,))
        ic_raw = dict(spec.initial_costs)
        if strat is not None and strat.initial_costs is not None:
            ic_raw.update(strat.initial_costs)
        initial_costs = {c: self._expr(v, (spath if strat is not None and c in (strat.initial_costs or {})
                                          else ()) + ("initial_costs", c)) for c, v in ic_raw.items()}
        cs = CompiledStrategy(sname, (strat.label if strat is not None and strat.label else sname), defs, rows,
                              row_where, values, trs, initial, initial_costs)
        cs.entry_rewards = entries_r
        if spec.curves:
            self._compile_curves(cs, strat, spath)
        cs.evaluator = ParamEvaluator(defs, self.functions, self.known)
        overridden = set(strat.parameters) if strat is not None else set()
        cs.affected = cs.evaluator.dependents(overridden)
        t_exprs = [e for row in rows.values() for e in row.values()] + [e for *_, r, _ in trs for e in r.values()]
        t_exprs += [e for _, r in entries_r for e in r.values()]
        v_exprs = [e for vals in values.values() for e in vals.values() if e is not None]
        v_exprs += [e for c in cs.curves.values() for e in _curve_exprs(c)]
        v_exprs += [e for costs in cs.curve_costs.values() for e in costs.values()]
        v_exprs += list(initial.values()) + list(initial_costs.values())
        cs.need_t = cs.evaluator.closure(set().union(*(e.names for e in t_exprs)) if t_exprs else set())
        cs.need_v = cs.evaluator.closure(set().union(*(e.names for e in v_exprs)) if v_exprs else set())
        # every expression outside the parameters must use known names only
        names_ok = set(defs) | self.known | set(self.functions)
        for frm, row in rows.items():
            for to, e in row.items():  # Markov: a curve name is its per-cycle probability 1 − S(t+Δ)/S(t)
                self._check_names(e, names_ok | {"rest"} | set(cs.curves), cs)
        for s, vals in values.items():
            for e in vals.values():
                if e is not None:
                    self._check_names(e, names_ok, cs)
        for r in [r for _, _, r, _ in trs] + [r for _, r in entries_r]:
            for e in r.values():
                self._check_names(e, names_ok, cs)
        for e in list(initial.values()) + list(initial_costs.values()):
            self._check_names(e, names_ok, cs)
        for c in cs.curves.values():
            for e in _curve_exprs(c):
                self._check_names(e, names_ok, cs)
        for costs in cs.curve_costs.values():
            for e in costs.values():
                self._check_names(e, names_ok, cs)
        for s, st in spec.states.items():
            if not st.max_residence:
                for e in list(rows.get(s, {}).values()) + [e for e in values[s].values() if e is not None]:
                    if uses_any(e, cs.evaluator, "residence"):
                        raise CesError(f"`residence` is used in state `{s}`, which has no `max_residence`",
                                       file=e.file, path=e.path, line=e.line)
        return cs

    def _compile_curves(self, cs, strat, spath) -> None:
        """Curves of a PSM (model curves with this strategy's patches) and the costs under curves."""
        from ces.engine.psm import CURVE_KEYS, CurveDef
        from ces.survival.registry import curve_inputs

        L, spec = self.loaded, self.loaded.model
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
                    parts.append((c["curve"], self._expr(c["weight"], path_of("components") + (i, "weight"))))
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
                    params[key] = self._expr(val, path_of(key))
                elif key in ("hr", "af", "or", "cure"):
                    mods[key] = self._expr(val, path_of(key))
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
            if ("cure" in mods or cdef.floor) and bg is None:
                what = "a cure fraction" if "cure" in mods else "`floor: true`"
                raise L.error(("curves", name), f"{what} needs `background: LIFE_TABLE` (e.g. us_2021) for "
                              "background mortality")
            cdef.background = bg
            if bg is not None:
                from ces.survival.lifetable import LIFE_TABLES, _path

                self.data_files.append(str(_path(LIFE_TABLES[bg][0])))
            cs.curves[name] = cdef
        for cname, costs in spec.curve_costs.items():
            cs.curve_costs[cname] = {c: self._expr(v, ("curve_costs", cname, c)) for c, v in costs.items()}

    def _check_names(self, e, ok: set, cs) -> None:
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

    # -------------------------------------------------------------------- run
    def env(self, cycles: np.ndarray, times: np.ndarray, strategy: str | None = None) -> dict:
        spec = self.loaded.model
        env = {"cycle": cycles.reshape(1, -1), "time": times.reshape(1, -1), "cycle_length": self.cycle_years}
        if strategy is not None:
            env["_strategy"] = strategy  # for error messages only (expression names cannot start with _)
        if spec.start_age is not None:
            env["age"] = spec.start_age + env["time"]
        return env

    def shared_values(self, dr: dict | None, method: str) -> dict:
        """Parameter values of the model (without strategy overrides) on both grids, to share across strategies."""
        n, dy = self.n_cycles, self.cycle_years
        if self._model_evaluator is None:
            self._model_evaluator = ParamEvaluator(self.model_defs, self.functions, self.known)
        ev = self._model_evaluator
        need_t = set().union(*(cs.need_t - cs.affected for cs in self.strategies.values()))
        need_v = set().union(*(cs.need_v - cs.affected for cs in self.strategies.values()))
        tcyc, ttime = cv.transition_cycles_and_times(n, dy)
        vcyc, vtime = cv.period_cycles_and_times(method, n, dy)
        return {"t": ev.evaluate(self.env(tcyc, ttime), dr, needed=ev.closure(need_t)),
                "v": ev.evaluate(self.env(vcyc, vtime), dr, needed=ev.closure(need_v))}

    def run_strategy(self, sname: str, draws: dict | None = None, n_draws: int = 1, keep: bool = False,
                     draw_offset: int = 0, shared: dict | None = None) -> StrategyResult:
        """Run one strategy for ``n_draws`` draws (``draws``: sampled parameter values, arrays (D,)).

        ``shared``: a dict reused across the strategies of one chunk; values of parameters that
        no strategy override touches are evaluated once into it.
        """
        cs = self.strategies[sname]
        spec = self.loaded.model
        n, dy = self.n_cycles, self.cycle_years
        D = n_draws
        dr = None if draws is None else {k: np.asarray(v, dtype=float).reshape(-1, 1) for k, v in draws.items()
                                          if k in cs.params}
        method = spec.correction
        tcyc, ttime = cv.transition_cycles_and_times(n, dy)
        vcyc, vtime = cv.period_cycles_and_times(method, n, dy)
        if shared is not None:
            if not shared:
                shared.update(self.shared_values(dr, method))
            tenv = cs.evaluator.evaluate(self.env(tcyc, ttime, sname), dr, needed=cs.need_t, reuse=shared["t"],
                                         recompute=cs.affected)
            venv = cs.evaluator.evaluate(self.env(vcyc, vtime, sname), dr, needed=cs.need_v, reuse=shared["v"],
                                         recompute=cs.affected)
        else:
            tenv = cs.evaluator.evaluate(self.env(tcyc, ttime, sname), dr, needed=cs.need_t)
            venv = cs.evaluator.evaluate(self.env(vcyc, vtime, sname), dr, needed=cs.need_v)
        S = len(self.expanded)
        R = len(self.streams)
        V = self._values(cs, venv, D, n, dr)
        alpha, beta = cv.counting_weights(method, n)
        tau = cv.discount_times(method, spec.discount.timing, n, dy)
        disc = np.empty((R, n + 1))
        dc = cv.discount_factors(float(spec.discount.costs), tau, spec.discount.method)
        de = cv.discount_factors(float(spec.discount.effects), tau, spec.discount.method)
        for r, s in enumerate(self.streams):
            disc[r] = dc if s in self.cost_streams else de
        crossing = None
        if spec.kind == "psm":
            trace, crossing = self._psm_trace(cs, venv, D, draw_offset, shared)
            extra = self._entry_rewards(cs, trace, tenv) if cs.entry_rewards else np.zeros((1, 0, 1))
        else:
            init = self._initial(cs, venv, D)
            if cs.curves:
                tenv = {**tenv, **self._curve_probabilities(cs, venv, D)}
            entries = self._transition_entries(cs, tenv, dr)
            TR = self._transition_rewards(cs, tenv, D, n, dr)
            trace = np.empty((D, n + 1, S))
            tr_vals = np.zeros((D, TR.shape[1], n + 1))
            frm, to, rest, buf, off, sd, sk = pack_entries(entries)
            err = np.zeros((D, 4), dtype=np.int64)
            markov_trace(frm, to, rest, buf, off, sd, sk, S, init, TR, ROW_TOL, trace, tr_vals, err)
            if err[:, 0].any():
                self._raise_check(cs, err, entries, trace, draw_offset, D)
            extra = tr_vals if TR.shape[1] > 0 else np.zeros((1, 0, 1))
        totals = np.empty((D, R))
        totals_u = np.empty((D, R))
        periods = np.empty((D if keep else 0, R, n + 1))
        accumulate_rewards(trace, V, alpha, beta, disc, extra, totals, totals_u, periods)
        ic = self._initial_costs(cs, venv, D)
        totals += ic
        totals_u += ic
        res = StrategyResult(totals, totals_u, initial=ic, crossing=crossing)
        if keep:
            res.trace = self.fold_trace(trace[:, :, :S])
            res.periods = periods
            res.disc, res.weights = disc, (alpha, beta)
        return res

    # --------------------------------------------------------------- arrays
    def _residence_envs(self, cs, base_env: dict, dr) -> dict:
        """Parameter values per residence r for tunnel states (only residence-dependent ones recomputed)."""
        out = {}
        Lmax = max((r for _, r in self.expanded), default=0)
        for r in range(1, Lmax + 1):
            env = dict(base_env)
            env["residence"] = float(r)
            out[r] = cs.evaluator.evaluate(env, dr, reuse=base_env,
                                           recompute={n for n, u in cs.evaluator.uses.items() if "residence" in u})
        return out

    def _eval(self, e, env):
        return as_array(e.evaluate(env, self.functions))

    def _transition_entries(self, cs, tenv, dr) -> list:
        """Transition entries (i, j, probabilities (Dp, Kp) or REST, label) over the expanded states.

        Within each row the `rest` entry comes last: the kernel computes it as 1 − the others.
        """
        renvs = self._residence_envs(cs, tenv, dr) if any(r for _, r in self.expanded) else {}
        idx: dict = {}
        for k, (s, r) in enumerate(self.expanded):
            idx.setdefault(s, []).append(k)
        entries = []
        for i, (s, r) in enumerate(self.expanded):
            if s not in cs.rows:  # dead state without a row: absorbing
                entries.append((i, i, np.ones((1, 1)), (s, r, s)))
                continue
            env = renvs[r] if r else tenv
            row = cs.rows[s]
            ordered = [to for to, e in row.items() if not _is_rest(e)] + [to for to, e in row.items() if _is_rest(e)]
            for to in ordered:
                e = row[to]
                if to == s and r:  # staying in a tunnel state: one more cycle of residence
                    j = idx[s][min(r, len(idx[s]) - 1)]
                else:
                    j = idx[to][0]
                v = REST if _is_rest(e) else np.ascontiguousarray(self._eval(e, env), dtype=np.float64)
                entries.append((i, j, v, (s, r, to)))
        return entries

    def _curve_probabilities(self, cs, venv, D) -> dict:
        """Markov use of curves: per-cycle probability p_k = 1 − S(kΔ)/S((k−1)Δ), cycle k = 1..n."""
        from ces.engine.psm import curve_survival

        t_years = np.arange(self.n_cycles + 1) * self.cycle_years
        out = {}
        for name, c in cs.curves.items():
            S = curve_survival(self, c, venv, D, t_years)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[name] = np.where(S[:, :-1] > 0, 1.0 - S[:, 1:] / S[:, :-1], 1.0)
        return out

    def _psm_trace(self, cs, venv, D, draw_offset, shared=None) -> tuple:
        """Occupancy from the partition curves, plus one column per curve with costs (share under the curve)."""
        from ces.engine.psm import curve_survival, mixture_survival, partition_occupancy

        spec = self.loaded.model
        n = self.n_cycles
        t_years = np.arange(n + 1) * self.cycle_years
        cache = shared.setdefault("curves", {}) if shared is not None else None
        surv = {name: curve_survival(self, c, venv, D, t_years, cache, cs.affected) for name, c in cs.curves.items()
                if c.family != "mixture"}
        for name, c in cs.curves.items():  # mixtures: S = Σ w_i S_i of other curves
            if c.family == "mixture":
                surv[name] = mixture_survival(self, c, surv, venv)

        def crossing_error(j, d, k, lower, upper):
            a, b = spec.partition[j - 1], spec.partition[j]
            f, p, line = self.loaded.locate(("crossing",))
            raise ModelCheckError(f"strategy `{cs.name}`, cycle {k}{f', draw {d + draw_offset + 1}' if D > 1 else ''}"
                                  f": curve `{a}` ({lower:.6g}) is above `{b}` ({upper:.6g}); set `crossing: cap` to "
                                  "cap it at the upper curve", file=f, path="crossing" if p else "partition", line=line)

        occ, info = partition_occupancy([surv[c] for c in spec.partition], spec.crossing, crossing_error,
                                        len(self.states))
        Dt = occ.shape[0]
        if cs.curve_costs:
            cols = [np.broadcast_to(surv[c], (Dt, n + 1)) for c in cs.curve_costs]
            occ = np.concatenate([occ] + [c[:, :, None] for c in cols], axis=2)
        if Dt != D:
            occ = np.broadcast_to(occ, (D,) + occ.shape[1:])
        return np.ascontiguousarray(occ), info

    def _raise_check(self, cs, err, entries, trace, draw_offset, D) -> None:
        """Turn the kernel's first failed check into a one-line error naming strategy, cycle, state, value."""
        bad = np.flatnonzero(err[:, 0])
        d = int(bad[0])
        kind, k, i, e = (int(x) for x in err[d])
        where = f"strategy `{cs.name}`, cycle {k}" + (f", draw {d + draw_offset + 1}" if D > 1 else "")
        def value(v):
            return v[d if v.shape[0] > 1 else 0, k - 1 if v.shape[1] > 1 else 0]

        if kind == 1:
            ii, _, v, (s, r, to) = entries[e]
            val = value(v) if v is not REST else 1.0 - sum(value(w) for i2, _, w, _ in entries[:e]
                                                              if i2 == ii and w is not REST)
            file, path, line = cs.row_where[s]
            tun = f" (residence {r})" if r else ""
            raise ModelCheckError(f"{where}: probability {s}{tun} → {to} = {val:.10g} is outside [0, 1]",
                                  file=file, path=f"{path}.{to}", line=line)
        if kind == 2:
            s, r = self.expanded[i]
            tot = 0.0
            for ii, _, v, _ in entries:
                if ii == i and v is not REST:
                    tot += value(v)
            file, path, line = cs.row_where[s]
            tun = f" (residence {r})" if r else ""
            raise ModelCheckError(f"{where}: row `{s}`{tun} sums to {tot:.12g}, must be 1 within {ROW_TOL:g} "
                                  "(write `rest` for the complement)", file=file, path=path, line=line)
        mass = trace[d, k].sum()
        raise ModelCheckError(f"{where}: trace mass is {mass:.12g}, expected 1",
                              file=self.loaded.model_loc.file, path="transitions")

    def _initial(self, cs, venv, D) -> np.ndarray:
        S = len(self.expanded)
        env0 = {k: (v[:, :1] if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[1] > 1 else v)
                for k, v in venv.items()}
        vals = {s: self._eval(e, env0)[:, 0] for s, e in cs.initial.items()}
        Di = max(v.shape[0] for v in vals.values())
        init = np.zeros((Di, S))
        for s, v in vals.items():
            k = next(i for i, (st, r) in enumerate(self.expanded) if st == s)
            init[:, k] = v
        tot = init.sum(axis=1)
        if (init < 0).any() or (tot <= 0).any() or not np.isfinite(init).all():
            f, p, line = self.loaded.locate(("initial",))
            raise ModelCheckError(f"strategy `{cs.name}`: initial occupancy must be ≥ 0 with a positive total",
                                  file=f, path=p, line=line)
        return init / tot[:, None]

    def _values(self, cs, venv, D, n, dr) -> np.ndarray:
        spec = self.loaded.model
        S = len(self.expanded)
        R = len(self.streams)
        renvs = self._residence_envs(cs, venv, dr) if any(r for _, r in self.expanded) else {}
        arrays = {}
        for si, (s, r) in enumerate(self.expanded):
            env = renvs[r] if r else venv
            vals = cs.values[s]
            dead = spec.states[s].dead
            for ri, stream in enumerate(self.streams):
                if stream == "ly":
                    arrays[(ri, si)] = np.full((1, 1), 0.0 if dead else self.cycle_years)
                elif stream == "qaly":
                    e = vals.get("qaly")
                    arrays[(ri, si)] = (self._eval(e, env) * self.cycle_years) if e is not None else np.zeros((1, 1))
                else:
                    e = vals.get(stream)
                    arrays[(ri, si)] = self._eval(e, env) if e is not None else np.zeros((1, 1))
        # PSM: one extra column per curve with costs (its occupancy is the curve itself)
        for ci, costs in enumerate(cs.curve_costs.values()):
            for cat, e in costs.items():
                arrays[(self.streams.index(cat), S + ci)] = self._eval(e, venv)
        S = S + len(cs.curve_costs)
        Dv = max(a.shape[0] for a in arrays.values())
        Kv = max(a.shape[1] for a in arrays.values())
        V = np.zeros((Dv, R, Kv, S))
        for (ri, si), a in arrays.items():
            V[:, ri, :, si] = np.broadcast_to(a, (Dv, Kv))
        if not np.isfinite(V).all():
            d, ri, k, si = np.argwhere(~np.isfinite(V))[0]
            what = f"state `{self.expanded[si][0]}`" if si < len(self.expanded) else "a curve cost"
            raise ModelCheckError(f"strategy `{cs.name}`: {self.streams[ri]} of {what} is "
                                  f"not finite at period {k}", file=self.loaded.model_loc.file, path="states")
        return V

    def _transition_rewards(self, cs, tenv, D, n, dr) -> np.ndarray:
        S = len(self.expanded)
        R = len(self.streams)
        if not cs.trans_rewards:
            return np.zeros((1, 0, 1, S, S))
        arrays = []
        for frm, to, rewards, where in cs.trans_rewards:
            for stream, e in rewards.items():
                a = self._eval(e, tenv)
                for i, (s, r) in enumerate(self.expanded):
                    if s != frm:
                        continue
                    for j, (s2, r2) in enumerate(self.expanded):
                        if s2 == to and r2 <= 1 and (s2 != s):
                            arrays.append((self.streams.index(stream), i, j, a))
        Dt = max(a.shape[0] for *_, a in arrays)
        Kt = max(a.shape[1] for *_, a in arrays)
        TR = np.zeros((Dt, R, Kt, S, S))
        for ri, i, j, a in arrays:
            TR[:, ri, :, i, j] += np.broadcast_to(a, (Dt, Kt))
        return TR

    def _entry_rewards(self, cs, trace, tenv) -> np.ndarray:
        """PSM one-off rewards per period: extra[d, r, k] = Σ_j I_j,k · R_j,r(cycle k), I = state inflows.

        Passed to the reward kernel as the transition-reward term of ces.engine.conventions (weight
        (α_k + β_k)·d_k), exactly as a Markov model's flows × transition rewards.
        """
        from ces.engine.psm import state_inflows

        inflow = state_inflows(trace[:, :, :len(self.states)])  # (D, n+1, S)
        D, n1 = inflow.shape[:2]
        extra = np.zeros((D, len(self.streams), n1))
        for j, rewards in cs.entry_rewards:
            for stream, e in rewards.items():
                a = np.broadcast_to(self._eval(e, tenv), (D, n1 - 1))  # cycle k = 1..n
                extra[:, self.streams.index(stream), 1:] += inflow[:, 1:, j] * a
        return extra

    def _initial_costs(self, cs, venv, D) -> np.ndarray:
        out = np.zeros((D, len(self.streams)))
        env0 = {k: (v[:, :1] if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[1] > 1 else v)
                for k, v in venv.items()}
        for c, e in cs.initial_costs.items():
            out[:, self.streams.index(c)] += np.broadcast_to(self._eval(e, env0)[:, 0], (D,))
        return out

    def fold_trace(self, trace: np.ndarray) -> np.ndarray:
        """Sum tunnel sub-states back into their states: (D, n+1, S_expanded) → (D, n+1, S)."""
        if len(self.expanded) == len(self.states):
            return trace
        out = np.zeros(trace.shape[:2] + (len(self.states),))
        for k, (s, r) in enumerate(self.expanded):
            out[:, :, self.states.index(s)] += trace[:, :, k]
        return out


def _curve_exprs(c) -> list:
    """Every expression of a curve: family parameters, modifiers, mixture weights."""
    return list(c.params.values()) + list(c.mods.values()) + [w for _, w in c.extra.get("components", [])]


def _is_rest(e) -> bool:
    """Is this transition entry the keyword `rest` (the complement of the row)?"""
    return isinstance(e.source, str) and e.source.strip() == "rest"


REST = np.zeros((1, 1))  # placeholder value of a `rest` entry (computed in the kernel)


def pack_entries(entries: list) -> tuple:
    """Flatten transition entries into one buffer with per-entry offsets and draw/cycle strides."""
    frm = np.array([e[0] for e in entries], dtype=np.int64)
    to = np.array([e[1] for e in entries], dtype=np.int64)
    rest = np.array([1 if e[2] is REST else 0 for e in entries], dtype=np.int64)
    arrays = [e[2] for e in entries]
    sizes = np.array([a.size for a in arrays], dtype=np.int64)
    off = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    sd = np.array([a.shape[1] if a.shape[0] > 1 else 0 for a in arrays], dtype=np.int64)
    sk = np.array([1 if a.shape[1] > 1 else 0 for a in arrays], dtype=np.int64)
    buf = np.concatenate([a.ravel() for a in arrays])
    return frm, to, rest, buf, off, sd, sk
