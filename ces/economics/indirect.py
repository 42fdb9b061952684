"""Societal-perspective cost terms, compiled into per-state costs of their own categories.

Per cycle of length Δ (years), for a person in state s at age a (INDIRECT.md §2):

- productivity (human capital): E(a)·W·(1 + τ(a))·f_s·Δ, with E the employment rate (0 at and
  after ``retirement_age``), W the annual wage, τ the employer payroll contributions and f_s the
  share of work lost; dead states lose all work (f = 1), so production lost to premature death
  is counted automatically until retirement;
- productivity (friction cost, Dutch costing manual): E(a)·hours per year·cost per hour·elasticity
  ·f_s·Δ·(share of the cycle inside the friction period from the start of the model); nothing
  after the friction period (a documented simplification: one absence spell starting at time 0);
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
SOCIETAL = (PRODUCTIVITY, INFORMAL_CARE, PATIENT_TIME)
INDIRECT = SOCIETAL + (CONSUMPTION,)


def _e(x) -> str:
    return f"({x})"


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
        emp = _e(p.employment)
        if p.retirement_age is not None:
            emp = f"if_else(age < {float(p.retirement_age)!r}, {emp}, 0)"
        if p.method == "human_capital":
            if p.wage is None:
                raise error(("indirect", "productivity"), "the human-capital method needs `wage` (annual wage)")
            base = f"{emp} * {_e(p.wage)} * (1 + {_e(p.payroll)}) * cycle_length"
        else:
            if p.cost_per_hour is None or p.friction_weeks is None:
                raise error(("indirect", "productivity"), "the friction-cost method needs `cost_per_hour` and "
                            "`friction_weeks`")
            fp = float(p.friction_weeks) * 7 / 365.25
            # share of cycle k = [t0, t0+Δ) inside the friction period [0, fp): min(max(fp − t0, 0), Δ)/Δ
            share = f"min(max({fp!r} - time, 0), cycle_length) / cycle_length"
            base = (f"{emp} * {_e(p.hours_per_year)} * {_e(p.cost_per_hour)} * {_e(p.elasticity)} * cycle_length"
                    f" * {share}")
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


def check_no_clash(cost_streams: list, error) -> None:
    for c in cost_streams:
        if c in INDIRECT:
            raise error(("states",), f"cost category `{c}` is reserved for the societal terms under `indirect:`")
