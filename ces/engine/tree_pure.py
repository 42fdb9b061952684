"""A pure decision-tree model (`kind: tree`): strategies, parameters and streams without a cohort model.

The streams are the tree's cost categories (in order of appearance), then ``qaly`` and ``ly``; a
category is the healthcare payer's unless it is societal (ces.engine.indirect.INDIRECT) or
`cost_bearers` names another bearer, as in a model with states.  Parameters and the strategies'
overrides: ces.engine.strategy.strategy_parameters, as for a model with states.
"""

from __future__ import annotations

from ces.engine.evaluate import ParamEvaluator
from ces.engine.strategy import CompiledStrategy, strategy_parameters
from ces.modelfile.units import parse_cycle
from ces.params.tables import load_table, resolve_table_file

MODEL_KEYS = ("transitions", "curves", "partition", "transition_rewards", "entry_rewards", "curve_costs",
              "initial", "initial_costs", "indirect")
STRATEGY_KEYS = ("transitions", "states", "curves", "initial", "initial_costs")


def build_pure(m, selected) -> None:
    """Fill the TreeModel ``m`` for a model without states (``kind: tree``)."""
    from ces.engine.indirect import INDIRECT

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
        sdefs = strategy_parameters(m, s)
        cs = CompiledStrategy(s, (strat.label if strat is not None and strat.label else s), sdefs, {}, {}, {}, [],
                              {}, {})
        cs.evaluator = ParamEvaluator(sdefs, m.functions, m.known)
        cs.affected = cs.evaluator.dependents(set(strat.parameters) if strat is not None else set())
        m._tree_names(s, cs, m.known)
        m.strategies[s] = cs
