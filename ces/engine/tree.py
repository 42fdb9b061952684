"""Decision-tree front end to the cohort engine (docs/tree.md): the same interface as CohortModel.

A strategy's tree is folded back per draw.  With π_path the product of the branch probabilities on a
path, t_n the start time of node n (the sum of the durations of its ancestors) and d_r(t) the model's
discount factor of stream r at time t (ces.engine.conventions.discount_factors, the model's rates and
method), the strategy's total of stream r is

    E_r = Σ_nodes π_n · d_r(t_n) · payoff_n,r  +  Σ_terminals entering π_n · d_r(T_n) · M_n,r

with payoff_n = (costs_n, QALYs = utility_n × duration_n + qaly_n, life-years = duration_n), T_n = t_n +
duration_n the time the model is entered, and M_n the discounted totals of the Markov / partitioned-
survival model run from that terminal (initial occupancy 1 in its `enter` state, its own overrides).
Undiscounted totals drop the d_r factors.  Model time (cycle, time, age) starts at 0 at entry: the
tree only delays the discounting.  d_r(T) · M is exact for discrete and continuous discounting; for the
annual step method it is the whole model shifted by d(T).  A tree without durations is instantaneous,
so its payoffs are undiscounted, as in TreeAge, dampack and rdecision.

Each distinct (strategy, entry state, overrides) is one extra strategy of an inner CohortModel,
compiled with the model's own code; the kernels are unchanged.  PSA: the tree's probabilities and
payoffs take each draw's parameter values, and every branch-probability check is made per draw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace

import numpy as np

from ces.engine import conventions as cv
from ces.engine.evaluate import as_array
from ces.engine.model import CohortModel, StrategyResult
from ces.engine.tree_compile import ROW_TOL, TreeCompiler, check_names
from ces.engine.tree_variants import TreeLoaded, overridden, plain, variant_spec
from ces.errors import ModelCheckError
from ces.modelfile.loader import Loaded


def front_end_model(loaded: Loaded):
    """The model-kind checks and, when the model has a tree, the TreeModel (else None: a plain CohortModel)."""
    spec = loaded.model
    if spec.kind != "tree":
        if len(spec.states) < 2:
            raise loaded.error(("states",), "a Markov or partitioned-survival model needs at least 2 `states` "
                               "(for a decision tree without states, set `kind: tree`)")
        if spec.horizon is None:
            raise loaded.error(("horizon",), "missing required key `horizon` (`N cycles`, `N years` or `lifetime`)")
    trees = spec.tree is not None or any(s is not None and s.tree is not None for s in spec.strategies.values())
    if spec.kind == "tree" or trees:
        return TreeModel.from_loaded(loaded)
    return None


@dataclass
class TreeModel:
    """A decision tree per strategy in front of an inner CohortModel (None for a pure tree, `kind: tree`)."""

    loaded: Loaded
    inner: CohortModel | None = None
    strategies: dict = field(default_factory=dict)  # strategy -> CompiledStrategy (its parameters for PSA)
    trees: dict = field(default_factory=dict)  # strategy -> root Node (strategies without a tree: absent)
    variants: dict = field(default_factory=dict)  # strategy -> [inner strategy names run from its terminals]
    needed: dict = field(default_factory=dict)  # strategy -> parameters the tree's expressions need
    # a pure tree has no inner model: these stand in for its attributes
    n_cycles: int = 0
    cycle_years: float = 1.0
    states: list = field(default_factory=list)
    expanded: list = field(default_factory=list)
    streams: list = field(default_factory=list)
    cost_streams: list = field(default_factory=list)
    payer_streams: list = field(default_factory=list)
    functions: dict = field(default_factory=dict)
    known: frozenset = frozenset()
    model_defs: dict = field(default_factory=dict)
    data_files: list = field(default_factory=list)
    indirect: dict = field(default_factory=dict)
    friction: list = field(default_factory=list)
    spillover: dict = field(default_factory=dict)

    def __getattr__(self, name):  # anything else of a model with states: the inner CohortModel's
        inner = self.__dict__.get("inner")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_loaded(cls, loaded: Loaded) -> "TreeModel":
        from ces.engine.tree_pure import build_pure

        m = cls(loaded)
        spec = loaded.model
        selected = loaded.config.strategies or list(spec.strategies)
        if spec.kind == "tree":
            build_pure(m, selected)
        else:
            m._build_front(selected)
        return m

    def _trees(self, selected, functions) -> dict:
        """strategy -> compiled root (its own `tree`, else the model's)."""
        L, spec = self.loaded, self.loaded.model
        model_subtrees = spec.tree.subtrees if spec.tree is not None else {}
        out = {}
        for s in selected:
            strat = spec.strategies[s]
            if strat is not None and strat.tree is not None:
                tree, path = strat.tree, ("strategies", s, "tree")
            elif spec.tree is not None:
                tree, path = spec.tree, ("tree",)
            else:
                if spec.kind == "tree":
                    raise L.error(("strategies", s), f"strategy `{s}` has no tree (give the model a `tree:` or "
                                  "the strategy its own)")
                continue
            out[s] = TreeCompiler(L, frozenset(functions), path, model_subtrees, ("tree",)).compile(tree)
        return out

    def _build_front(self, selected) -> None:
        from ces.modelfile.schema import StrategySpec

        L, spec = self.loaded, self.loaded.model
        self.trees = self._trees(selected, set(spec.tables) | {"mortality"})
        strategies = dict(spec.strategies)
        origins: dict = {}
        inner_selected = list(selected)
        tree_cats: list = []
        for s, root in self.trees.items():
            seen: dict = {}
            self.variants[s] = []
            for node in root.walk():
                for c in node.costs:
                    if c not in tree_cats:
                        tree_cats.append(c)
                if node.enter is None:
                    continue
                key = (node.enter, json.dumps({k: plain(v) for k, v in node.overrides.items()}, sort_keys=True))
                if key in seen:
                    node.variant = seen[key]
                    continue
                vname = f"{s} [tree: {node.name}]"
                base = spec.strategies[s] or StrategySpec()
                strategies[vname], keys = variant_spec(base, node, spec.kind)
                origins[vname] = (s, keys)
                seen[key] = node.variant = vname
                inner_selected.append(vname)
                self.variants[s].append(vname)
        # tree cost categories the model does not have become (zero) one-off categories of the inner model,
        # so that streams, perspectives and cost bearers treat them like any other category
        extra = {c: 0 for c in tree_cats if c not in spec.initial_costs}
        inner_spec = spec.model_copy(update={"strategies": strategies,
                                             "initial_costs": {**spec.initial_costs, **extra}})
        base_fields = {f.name: getattr(L, f.name) for f in fields(Loaded)}
        base_fields.update(model=inner_spec, config=L.config.model_copy(update={"strategies": inner_selected}))
        self.inner = CohortModel.from_loaded(TreeLoaded(**base_fields, origins=origins), front_end=False)
        inner = self.inner
        for name in ("n_cycles", "cycle_years", "states", "expanded", "streams", "cost_streams", "payer_streams",
                     "functions", "known", "model_defs", "data_files", "indirect", "friction", "spillover"):
            setattr(self, name, getattr(inner, name))
        for s in selected:
            cs = replace(inner.strategies[s])
            if s in self.trees:
                self._tree_names(s, cs, inner.known)
                for v in self.variants[s]:
                    cs.need_t = cs.need_t | inner.strategies[v].need_t
                    cs.need_v = cs.need_v | inner.strategies[v].need_v
            self.strategies[s] = cs

    def _tree_names(self, s, cs, known) -> None:
        """Check the names of the tree's expressions; record the parameters they need."""
        ok = set(cs.params) | (set(known) - {"residence"}) | set(self.functions)
        names: set = set()
        for node in self.trees[s].walk():
            for e in node.exprs():
                check_names(e, ok)
                names |= e.names
        self.needed[s] = cs.evaluator.closure(names)
        cs.need_v = cs.need_v | self.needed[s]

    # -------------------------------------------------------------------- run
    def env(self, cycles, times, strategy=None) -> dict:
        if self.inner is not None:
            return self.inner.env(cycles, times, strategy)
        env = {"cycle": np.reshape(cycles, (1, -1)), "time": np.reshape(times, (1, -1)),
               "cycle_length": self.cycle_years}
        if self.loaded.model.start_age is not None:
            env["age"] = self.loaded.model.start_age + env["time"]
        return env

    def shared_values(self, dr, method):
        return self.inner.shared_values(dr, method)

    def fold_trace(self, trace):
        return self.inner.fold_trace(trace) if self.inner is not None else trace

    def run_strategy(self, sname: str, draws: dict | None = None, n_draws: int = 1, keep: bool = False,
                     draw_offset: int = 0, shared: dict | None = None) -> StrategyResult:
        """Run one strategy: its tree folded back over the model runs of its terminals (module docstring)."""
        root = self.trees.get(sname)
        if root is None:
            return self.inner.run_strategy(sname, draws, n_draws, keep, draw_offset, shared)
        cs = self.strategies[sname]
        D = n_draws
        dr = None if draws is None else {k: np.asarray(v, dtype=float).reshape(-1, 1) for k, v in draws.items()
                                         if k in cs.params}
        vals = cs.evaluator.evaluate(self.env(np.zeros(1), np.zeros(1), sname), dr, needed=self.needed[sname])
        runs = {}
        for v in self.variants.get(sname, []):
            over = overridden(root, v)
            vd = None if draws is None else {k: a for k, a in draws.items() if k not in over}
            runs[v] = self.inner.run_strategy(v, vd, n_draws, keep, draw_offset, shared)
        return _fold(self, sname, root, vals, runs, D, keep, draw_offset)


def _fold(m, sname, root, vals, runs, D, keep, draw_offset) -> StrategyResult:
    """Fold the tree back (module docstring): totals per draw and stream, plus the per-path probabilities."""
    spec = m.loaded.model
    R = len(m.streams)
    is_cost = np.array([s in m.cost_streams for s in m.streams])
    qi, li = m.streams.index("qaly"), m.streams.index("ly")

    def ev(e):
        return np.broadcast_to(as_array(e.evaluate(vals, m.functions))[:, 0], (D,)).astype(float)

    def disc(t):
        dc = cv.discount_factors(float(spec.discount.costs), t, spec.discount.method)
        de = cv.discount_factors(float(spec.discount.effects), t, spec.discount.method)
        return np.where(is_cost[None, :], dc[:, None], de[:, None])

    tot, tot_u, one_off = np.zeros((D, R)), np.zeros((D, R)), np.zeros((D, R))
    weight = {v: np.zeros(D) for v in runs}
    paths = {}
    stack = [(root, np.ones(D), np.zeros(D))]
    while stack:
        node, prob, t0 = stack.pop()
        pay = np.zeros((D, R))
        for c, e in node.costs.items():
            pay[:, m.streams.index(c)] += ev(e)
        dur = ev(node.duration) if node.duration is not None else np.zeros(D)
        if node.duration is not None and (not np.isfinite(dur).all() or (dur < 0).any()):
            _fail(node.duration, sname, D, draw_offset, int(np.flatnonzero(~(dur >= 0))[0]),
                  "duration {v:.6g} must be a finite time ≥ 0 (years)", dur)
        pay[:, li] += dur
        if node.utility is not None:
            pay[:, qi] += ev(node.utility) * dur
        if node.qaly is not None:
            pay[:, qi] += ev(node.qaly)
        if not np.isfinite(pay).all():
            d = int(np.flatnonzero(~np.isfinite(pay).all(axis=1))[0])
            e = next(iter(node.exprs()))
            _fail(e, sname, D, draw_offset, d, "a payoff of branch `" + node.name + "` is not finite", pay[:, 0])
        tot += prob[:, None] * disc(t0) * pay
        tot_u += prob[:, None] * pay
        one_off += prob[:, None] * pay
        t1 = t0 + dur
        if not node.children:
            paths[node.name] = prob
            if node.variant is not None:
                r = runs[node.variant]
                tot += prob[:, None] * disc(t1) * r.totals
                tot_u += prob[:, None] * r.totals_undisc
                weight[node.variant] += prob
            continue
        for child, p in reversed(list(zip(node.children, _probabilities(m, sname, node, ev, D, draw_offset)))):
            stack.append((child, prob * p, t1))
    res = StrategyResult(tot, tot_u, initial=one_off)
    crossing = [r.crossing for r in runs.values() if r.crossing is not None]
    if crossing:
        from ces.engine.psm import CrossingInfo

        res.crossing = CrossingInfo(sum(c.points for c in crossing), max(c.draws for c in crossing),
                                    crossing[0].cycles)
    res.tree_paths = dict(sorted(paths.items()))
    if keep:
        _keep(m, res, runs, weight, D, R)
    return res


def _keep(m, res, runs, weight, D, R) -> None:
    """Trace and per-period values: the model runs weighted by the probability of entering them (model time)."""
    n = m.n_cycles
    res.trace = np.zeros((D, n + 1, len(m.states)))
    res.periods = np.zeros((D, R, n + 1))
    res.disc = np.ones((R, n + 1))
    res.weights = (np.ones(n + 1), np.zeros(n + 1))
    for v, r in runs.items():
        w = weight[v]
        res.trace = res.trace + w[:, None, None] * r.trace
        res.periods = res.periods + w[:, None, None] * r.periods
        res.initial = res.initial + w[:, None] * r.initial
        res.disc, res.weights = r.disc, r.weights


def _probabilities(m, sname, node, ev, D, draw_offset) -> list:
    """The children's probabilities (D,) each, `rest` = 1 − the others; checked per draw."""
    ps = [None if c.rest else ev(c.p) for c in node.children]
    known = [p for p in ps if p is not None]
    total = np.sum(known, axis=0) if known else np.zeros(D)
    for c, p in zip(node.children, ps):
        if p is not None:
            bad = np.flatnonzero(~((p >= 0.0) & (p <= 1.0)))
            if bad.size:
                _fail(c.p, sname, D, draw_offset, int(bad[0]), f"probability of branch `{c.name}` = {{v:.10g}} is "
                      "outside [0, 1]", p)
    if any(p is None for p in ps):
        rest = 1.0 - total
        bad = np.flatnonzero(rest < -ROW_TOL)
        if bad.size:
            c = next(c for c in node.children if c.rest)
            _fail_at(m, c.path + ("p",), sname, D, draw_offset, int(bad[0]), f"`rest` of branch `{c.name}` = "
                     f"{rest[bad[0]]:.10g} is negative: its siblings sum to more than 1")
        ps = [np.maximum(rest, 0.0) if p is None else p for p in ps]
    else:
        bad = np.flatnonzero(~(np.abs(total - 1.0) <= ROW_TOL))
        if bad.size:
            _fail_at(m, node.path + ("branches",), sname, D, draw_offset, int(bad[0]), f"branch probabilities of "
                     f"`{node.name}` sum to {total[bad[0]]:.12g}, must be 1 within {ROW_TOL:g} (write `rest` for "
                     "the complement)")
    return ps


def _where(sname, D, draw_offset, d) -> str:
    return f"strategy `{sname}`" + (f", draw {d + draw_offset + 1}" if D > 1 else "")


def _fail(e, sname, D, draw_offset, d, msg, values) -> None:
    raise ModelCheckError(f"{_where(sname, D, draw_offset, d)}: " + msg.format(v=float(values[d])), file=e.file,
                          path=e.path, line=e.line)


def _fail_at(m, path, sname, D, draw_offset, d, msg) -> None:
    file, p, line = m.loaded.locate(path)
    raise ModelCheckError(f"{_where(sname, D, draw_offset, d)}: {msg}", file=file, path=p, line=line)
