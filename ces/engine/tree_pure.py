"""A pure decision-tree model (`kind: tree`): strategies, parameters and streams without a cohort model.

The streams are the tree's cost categories (in order of appearance), then ``qaly`` and ``ly``; a
category is the healthcare payer's unless it is societal (ces.economics.indirect.INDIRECT) or
`cost_bearers` names another bearer, as in a model with states.  Parameters and the strategies'
parameter overrides are read as in ces.engine.model (same sampling keys: a strategy override with a
distribution is sampled as ``STRATEGY/NAME``).
"""

from __future__ import annotations

from pathlib import Path

from ces.engine.evaluate import ParamEvaluator
from ces.engine.model import CompiledStrategy
from ces.errors import CesError
from ces.modelfile.units import parse_cycle
from ces.params.parameters import parse_parameters
from ces.params.tables import load_table, resolve_table_file

MODEL_KEYS = ("transitions", "curves", "partition", "transition_rewards", "entry_rewards", "curve_costs",
              "initial", "initial_costs", "indirect")
STRATEGY_KEYS = ("transitions", "states", "curves", "initial", "initial_costs")


def build_pure(m, selected) -> None:
    """Fill the TreeModel ``m`` for a model without states (``kind: tree``)."""
    from ces.economics.indirect import INDIRECT

    L, spec = m.loaded, m.loaded.model
    if spec.states:
        raise L.error(("states",), "a pure decision tree (`kind: tree`) has no states; use `kind: markov` or "
                      "`kind: psm` to enter a model from the tree")
    for key in MODEL_KEYS:
        if getattr(spec, key):
            raise L.error((key,), f"`{key}` needs a model with states; a pure decision tree (`kind: tree`) puts "
                          "its costs and QALYs on the tree's branches")
    for s in selected:
        strat = spec.strategies[s]
        for key in STRATEGY_KEYS:
            if strat is not None and getattr(strat, key):
                raise L.error(("strategies", s, key), f"`{key}` needs a model with states (`kind: tree` has none)")
    try:
        m.cycle_years = parse_cycle(spec.cycle)
    except ValueError as exc:
        raise L.error(("cycle",), str(exc)) from None
    for name, tspec in spec.tables.items():
        m.functions[name] = load_table(name, tspec, L.base_dir, spec.sex,
                                       lambda key, msg, n=name: L.error(("tables", n, key), msg),
                                       L.data_dirs or None)
        m.data_files.append(str(resolve_table_file(tspec.file, L.base_dir)))
    known = {"cycle", "time", "cycle_length"} | ({"age"} if spec.start_age is not None else set())
    m.known = frozenset(known)
    m.trees = m._trees(selected, set(m.functions))
    fns = frozenset(m.functions)
    defs = parse_parameters(spec.parameters, L.locate, fns, L.base_dir)
    m.model_defs = dict(defs)
    for d in defs.values():
        if d.dist is not None and d.dist.name == "empirical":
            f = Path(d.dist.params["file"])
            m.data_files.append(str(f if f.is_absolute() else (L.base_dir / f).resolve()))
    cats: list = []
    for root in m.trees.values():
        for node in root.walk():
            if node.enter is not None:
                raise L.error(node.path + ("enter",), "a pure decision tree has no model to enter")
            cats += [c for c in node.costs if c not in cats]
    for c, who in spec.cost_bearers.items():
        if c not in cats:
            raise L.error(("cost_bearers", c), f"unknown cost category `{c}` (categories: {', '.join(cats)})")
    m.cost_streams = cats
    m.payer_streams = [c for c in cats if c not in INDIRECT and spec.cost_bearers.get(c, "payer") == "payer"]
    m.streams = cats + ["qaly", "ly"]
    for s in selected:
        strat = spec.strategies[s]
        sdefs = dict(defs)
        spath = ("strategies", s)
        if strat is not None:
            for name, d in parse_parameters(strat.parameters, L.locate, fns, L.base_dir, prefix=spath).items():
                if name not in sdefs:
                    raise CesError(f"strategy overrides unknown parameter `{name}` (declare it in the model's "
                                   "`parameters` first)", file=d.where[0], path=d.where[1], line=d.where[2])
                d.group = f"{s}/{d.group or name}" if d.dist is not None else None
                sdefs[name] = d
        cs = CompiledStrategy(s, (strat.label if strat is not None and strat.label else s), sdefs, {}, {}, {}, [],
                              {}, {})
        cs.evaluator = ParamEvaluator(sdefs, m.functions, m.known)
        cs.affected = cs.evaluator.dependents(set(strat.parameters) if strat is not None else set())
        m._tree_names(s, cs, m.known)
        m.strategies[s] = cs
