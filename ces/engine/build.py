"""Compile a model file into the model-level structure the strategies are built on.

One job: from a loaded model file, fix the time grid (cycle length Δ in years and the number of
cycles n), the expression functions (data tables, ``mortality``), the kernel states (tunnel states
expanded into X#1..X#L) and the reward streams (one per cost category, then ``qaly`` = utility × Δ and
``ly`` = Δ in every non-dead state, and the societal terms of :mod:`ces.engine.indirect`).  The
strategies are compiled by :mod:`ces.engine.strategy`; the result is a
:class:`ces.engine.model.CohortModel`.
"""

from __future__ import annotations

from ces.engine.strategy import compile_strategy
from ces.engine.indirect import (CAREGIVER_QALY, INDIRECT, PRODUCTIVITY, caregiver_qaly_changes, check_no_clash,
                                 friction_rewards, indirect_costs)
from ces.errors import CesError
from ces.modelfile.sizes import check_cycles, check_model_sizes
from ces.modelfile.units import parse_cycle, parse_horizon
from ces.params.tables import load_table, resolve_table_file


def build_model(m) -> None:
    """Fill a fresh CohortModel ``m`` (holding ``m.loaded``): time grid, functions, states, streams, strategies."""
    loaded = m.loaded
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
        check_psm_structure(m)
    elif spec.entry_rewards:
        raise loaded.error(("entry_rewards",), "`entry_rewards` belong to partitioned-survival models; a Markov "
                           "model puts one-off costs on moves with `transition_rewards`")
    elif spec.partition or spec.curve_costs:
        key = "partition" if spec.partition else "curve_costs"
        raise loaded.error((key,), f"`{key}` belongs to partitioned-survival models (set `kind: psm`)")
    expand_states(m)
    collect_streams(m)
    selected = loaded.config.strategies or list(spec.strategies)
    for s in selected:
        m.strategies[s] = compile_strategy(m, s)


def mortality(m, table, age):
    """Expression function mortality("us_2021", age): annual background hazard from a shipped life table
    (model `sex` weights); use rate_to_prob(mortality("us_2021", age)) for a per-cycle probability."""
    from ces.survival.lifetable import life_table, sex_weights

    if not isinstance(table, str):
        raise CesError("mortality(TABLE, age): TABLE must be a life-table name in quotes, e.g. \"us_2021\"")
    from ces.survival.lifetable import LIFE_TABLES, _path

    if table in LIFE_TABLES and str(_path(LIFE_TABLES[table][0])) not in m.data_files:
        m.data_files.append(str(_path(LIFE_TABLES[table][0])))  # for the run's provenance
    return life_table(table).hazard_at(age, sex_weights(m.loaded.model.sex))


def check_psm_structure(m) -> None:
    """A partitioned-survival model: a `partition` of known curves, one per state but the last (dead)."""
    L, spec = m.loaded, m.loaded.model
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


def expand_states(m) -> None:
    """Kernel states: a tunnel state (``max_residence: L``) becomes sub-states X#1..X#L, (state, residence)."""
    for s, st in m.loaded.model.states.items():
        L = st.max_residence or 0
        if L:
            m.expanded += [(s, r) for r in range(1, L + 1)]
        else:
            m.expanded.append((s, 0))


def collect_streams(m) -> None:
    """Reward streams: every cost category (state, transition, entry, initial and curve costs, then the
    societal categories of ``indirect:``), then ``qaly`` and ``ly`` (and ``caregiver_qaly``); the payer's
    categories (not societal, borne by the payer) in ``m.payer_streams``."""
    spec = m.loaded.model
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
            raise m.loaded.error(("states",), f"cost category name `{c}` is reserved")
    check_no_clash(cats, m.loaded.error)
    # transition rewards may also use the societal categories (per-event indirect costs, e.g. a
    # caregiver's leave at a relapse); those stay out of the payer perspective
    for tr in list(spec.transition_rewards) + list(spec.entry_rewards):
        for c in tr.costs:
            add(c)
    for c, who in spec.cost_bearers.items():
        if c not in cats:
            raise m.loaded.error(("cost_bearers", c), f"unknown cost category `{c}` (categories: {', '.join(cats)})")
    m.payer_streams = [c for c in cats if c not in INDIRECT and spec.cost_bearers.get(c, "payer") == "payer"]
    m.indirect = indirect_costs(spec.indirect, spec.states, m.loaded.error)
    for terms in m.indirect.values():
        for c in terms:
            add(c)
    m.friction = friction_rewards(spec.indirect, spec.states, spec.kind, m.loaded.error)
    if m.friction:
        add(PRODUCTIVITY)
    m.cost_streams = cats
    m.spillover = caregiver_qaly_changes(spec.indirect, spec.states, m.loaded.error)
    m.streams = cats + ["qaly", "ly"] + ([CAREGIVER_QALY] if m.spillover else [])
