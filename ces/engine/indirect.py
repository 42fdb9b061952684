"""Societal-perspective cost terms, compiled into per-state costs of their own categories.

One job: turn the model file's ``indirect:`` block into expressions (per-state costs, friction-cost
one-offs on moves, the caregiver QALY stream) and name the societal categories.  It sits in the
engine because the model compiler (:mod:`ces.engine.build`) makes reward streams of them;
:mod:`ces.economics.indirect` re-exports it for the perspectives (imports point down only).

Per cycle of length Δ (years), for a person in state s at age a (INDIRECT.md §2):

- productivity (human capital): E(a)·W·(1 + τ(a))·f_s·Δ, with E the employment rate (0 at and
  after ``retirement_age``), W the annual wage, τ the employer payroll contributions and f_s the
  share of work lost; dead states lose all work (f = 1), so production lost to premature death
  is counted automatically until retirement;
- productivity (friction cost, Koopmanschap et al., J Health Econ 1995;14:171; Dutch costing manual
  2024): the friction period FP starts at each *new* absence: a move into a state with more work
  lost, or death.  In the cohort this is the inflow, so the loss is a one-off on every transition
  s → s' of the trace (a transition reward, Markov models):
      E(a)·hours per year·cost per hour·elasticity·max(f_s' − f_s, 0)·FP (years),
  valued (and discounted) in the cycle of the move, at the age then; dead states have f = 1.
  Conventions: the new absence lasts at least FP (exact for death; an upper bound when people return
  to work sooner); the whole FP is counted even when it runs past the horizon; absences present at
  the model start are taken to have begun before it and are not counted (add an initial cost if
  they should be).  Elasticity default 1.0, the value attributed to the 2024 Dutch costing
  manual (INDIRECT.md lists the earlier 0.8 as unverified; the manual text is not re-checked here); FP default 17.24 weeks, the CBS 5-year average 2019–2023
  (``ces/data/nl_friction_period_cbs.csv``).  A partitioned-survival model has no transition flows,
  so the friction method needs a Markov model;
- informal care: hours per week_s · (52·Δ) · value per hour;
- patient time and travel: visits_s per cycle · (travel cost + hours per visit · value of time)
  + out-of-pocket_s per cycle;
- consumption in added life-years (switch, off by default): C(a)·Δ in every alive state.

These categories are discounted and counted exactly like direct costs (same kernel).  The
payer perspective excludes them; the societal one adds productivity, informal care and patient
time; consumption is reported as a third, separate total.
"""

from __future__ import annotations

from ces.errors import CesError

PRODUCTIVITY, INFORMAL_CARE, PATIENT_TIME, CONSUMPTION = "productivity", "informal_care", "patient_time", "consumption"
#: caregiver health spillover: an effect stream of its own (never a cost), discounted like effects
CAREGIVER_QALY = "caregiver_qaly"
SOCIETAL = (PRODUCTIVITY, INFORMAL_CARE, PATIENT_TIME)
INDIRECT = SOCIETAL + (CONSUMPTION,)


def _e(x) -> str:
    return f"({x})"


def _employment(p) -> str:
    """Employment rate E(a) as an expression, 0 from ``retirement_age`` on."""
    emp = _e(p.employment)
    return f"if_else(age < {float(p.retirement_age)!r}, {emp}, 0)" if p.retirement_age is not None else emp


def indirect_costs(spec, states: dict, error) -> dict:
    """state -> {category: expression string} for the configured indirect terms."""
    out: dict = {s: {} for s in states}
    if spec is None:
        return out
    for block, table in (("productivity", "work_lost"), ("caregiver", "hours_per_week"),
                         ("patient_time", "visits_per_cycle"), ("patient_time", "out_of_pocket")):
        b = getattr(spec, block)
        for s in (getattr(b, table) if b is not None else {}):
            if s not in states:
                raise error(("indirect", block, table, s), f"unknown state `{s}` (states: {', '.join(states)})")
    p = spec.productivity
    if p is not None:
        if isinstance(p.employment, (int, float)) and not 0 <= p.employment <= 1:
            raise error(("indirect", "productivity", "employment"),
                        f"employment rate must lie in [0, 1], got {p.employment}")
    if p is not None and p.method == "human_capital":  # friction cost: one-offs on moves (friction_rewards)
        if p.wage is None:
            raise error(("indirect", "productivity"), "the human-capital method needs `wage` (annual wage)")
        base = f"{_employment(p)} * {_e(p.wage)} * (1 + {_e(p.payroll)}) * cycle_length"
        for s, st in states.items():
            f = "1" if st.dead else _e(p.work_lost.get(s, 0))
            out[s][PRODUCTIVITY] = f"{base} * {f}"
    c = spec.caregiver
    if c is not None:
        for s, h in c.hours_per_week.items():
            out[s][INFORMAL_CARE] = f"{_e(h)} * 52 * cycle_length * {_e(c.value_per_hour)}"
    t = spec.patient_time
    if t is not None:
        for s in states:
            parts = []
            if s in t.visits_per_cycle:
                parts.append(f"{_e(t.visits_per_cycle[s])} * ({_e(t.travel_cost)} + {_e(t.hours_per_visit)} * "
                             f"{_e(t.value_of_time)})")
            if s in t.out_of_pocket:
                parts.append(_e(t.out_of_pocket[s]))
            if parts:
                out[s][PATIENT_TIME] = " + ".join(parts)
    k = spec.consumption
    if k is not None and k.include:
        if k.per_year is None:
            raise error(("indirect", "consumption", "per_year"), "consumption is switched on (include: true) but "
                        "no consumption-by-age value or table is given (per_year)")
        for s, st in states.items():
            if not st.dead:
                out[s][CONSUMPTION] = f"{_e(k.per_year)} * cycle_length"
    return out


def caregiver_qaly_changes(spec, states: dict, error) -> dict:
    """state -> expression of the caregivers' QALY change per cycle (``qaly_change`` per year × cycle length).

    Caregiver health spillover (off by default): the change in the health-related quality of life of the
    patient's informal caregivers (summed over caregivers, per patient, usually negative while caring),
    reported as its own line and counted in the effect only when ``include_qaly_change`` is true.
    NICE's reference case counts health effects for patients and, when relevant, carers (PMG36 §4.2;
    INDIRECT.md §4 [V]); the Second Panel on Cost-Effectiveness (Sanders et al., JAMA 2016;316:1093)
    puts effects on caregivers' health in the impact inventory of the societal reference case [U: exact
    wording not re-verified].  Because the practice is not settled, ces reports the line separately and
    gives the ICER with spillover as an extra table, never in place of the reference result."""
    c = spec.caregiver if spec is not None else None
    if c is None or not c.qaly_change:
        return {}
    for s in c.qaly_change:
        if s not in states:
            raise error(("indirect", "caregiver", "qaly_change", s), f"unknown state `{s}` (states: {', '.join(states)})")
        if states[s].dead:
            raise error(("indirect", "caregiver", "qaly_change", s), "a caregiver QALY change belongs to alive "
                        "states (bereavement effects are not modelled)")
    return {s: f"{_e(v)} * cycle_length" for s, v in c.qaly_change.items()}


def dutch_friction_weeks() -> float:
    """Latest 5-year average Dutch friction period in weeks (CBS vacancies; ces/data/nl_friction_period_cbs.csv)."""
    from importlib import resources
    from pathlib import Path

    import pandas as pd

    t = pd.read_csv(Path(str(resources.files("ces") / "data" / "nl_friction_period_cbs.csv")), comment="#")
    return float(t.dropna(subset=["fp_weeks_5yr_avg"]).iloc[-1]["fp_weeks_5yr_avg"])


def friction_rewards(spec, states: dict, kind: str, error) -> list:
    """(from, to, expression) one-off productivity losses of the friction-cost method (module docstring)."""
    p = spec.productivity if spec is not None else None
    if p is None or p.method != "friction_cost":
        return []
    if p.cost_per_hour is None:
        raise error(("indirect", "productivity"), "the friction-cost method needs `cost_per_hour`")
    if kind == "psm":
        raise error(("indirect", "productivity", "method"), "the friction-cost method counts new absences from "
                    "the transitions between states, which a partitioned-survival model does not have; use a "
                    "Markov model or the human_capital method")
    fp_weeks = float(p.friction_weeks) if p.friction_weeks is not None else dutch_friction_weeks()
    base = f"{_employment(p)} * {_e(p.hours_per_year)} * {_e(p.cost_per_hour)} * {_e(p.elasticity)} * {fp_weeks * 7 / 365.25!r}"

    def share(s):  # the work lost in state s: a number when constant, else None (an expression)
        v = 1 if states[s].dead else p.work_lost.get(s, 0)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    out = []
    for a, sa in states.items():
        if sa.dead:
            continue
        for b in states:
            fa, fb = share(a), share(b)
            if b == a or (fa is not None and fb is not None and fb <= fa):
                continue  # staying, or a move that cannot start an absence
            ea = _e(p.work_lost.get(a, 0))
            eb = "1" if states[b].dead else _e(p.work_lost.get(b, 0))
            out.append((a, b, f"{base} * max({eb} - {ea}, 0)"))
    return out


def check_no_clash(cost_streams: list, error) -> None:
    for c in cost_streams:
        if c in INDIRECT:
            raise error(("states",), f"cost category `{c}` is reserved for the societal terms under `indirect:`")
