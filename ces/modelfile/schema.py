"""Schema v1 of model files (pydantic): states, transitions, strategies, curves, tables, indirect costs.

The schema is the single definition of every key: its type, default and meaning
(the ``description`` of each field, exported by ``ces schema`` as JSON Schema and
listed in ``docs/schema.md``).  Expressions (parameters, probabilities, costs,
utilities) are written as numbers or strings in the safe expression language of
:mod:`ces.modelfile.expr`.  The shared bases are in :mod:`ces.modelfile.schema_base`; the
analysis-config blocks are in :mod:`ces.modelfile.schema_config` and re-exported here.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ces.modelfile.schema_base import CORRECTIONS, Expression, Number, StatePatch, Strict
# The analysis-config blocks live in schema_config (which imports only schema_base); re-exported here.
from ces.modelfile.schema_config import (  # noqa: F401
    SETTINGS_KEYS, AppraisalSpec, BudgetImpactSpec, BudgetScenarioSpec, C2HPopulationSpec, C2HSpec, ConfigSpec,
    CostSharingSpec, DsaSpec, EvppiSpec, OutputsSpec, PayersSpec, PaymentSpec, PopulationSpec, PriceSpec,
    PricingSpec, PsaSpec, ScenarioSpec, SeveritySpec, StageSpec, ThresholdSpec, TwoWaySpec, UptakeSpec, WtpGrid)
from ces.modelfile.tree_schema import TreeSpec
from ces.modelfile.schema_fit import FitRecipe


class Discount(Strict):
    costs: Number = Field(0.03, ge=0, le=1, description="Annual discount rate for costs (0.03 = 3 %).")
    effects: Number = Field(0.03, ge=0, le=1, description="Annual discount rate for QALYs and life-years.")
    timing: Literal["start", "middle", "end"] = Field(
        "start", description="Time at which cycle k is discounted under start/end/life-table counting: its start "
        "(k-1)Δ (heemod first=FALSE, Excel), middle (k-1/2)Δ or end kΔ (heemod first=TRUE). Point-based "
        "corrections (half-cycle, simpson, darth-simpson, none) discount each point at its own time kΔ.")
    method: Literal["discrete", "annual", "continuous"] = Field(
        "discrete", description="discrete: (1+r)^-τ; annual: (1+r)^-floor(τ) (whole years, NICE/Excel step); "
        "continuous: exp(-r τ). τ = discount time in years.")


class TableSpec(Strict):
    file: StrictStr = Field(description="CSV file, relative to the model file, or `builtin:NAME` for a table "
                            "shipped with ces (`builtin:us_2015_mx`, the US 2015 life table of the DARTH tutorials). Lines "
                            "starting with # are comments.")
    key: StrictStr = Field("age", description="Numeric key column looked up (e.g. age).")
    value: Optional[StrictStr] = Field(None, description="Value column (use this or `columns`).")
    columns: Optional[dict[StrictStr, StrictStr]] = Field(
        None, description="Value column per sex, e.g. {male: mx_male, female: mx_female}; the model's `sex` "
        "(or the call's second argument) picks one, a mixed cohort averages them with its weights.")
    method: Literal["step", "linear"] = Field(
        "step", description="step: value of the last row whose key ≤ x (bins by lower bound); linear: linear "
        "interpolation. Beyond the table the first/last value is used.")
    scale: Number = Field(1.0, description="Multiplier applied to the values (e.g. 0.001 for rates per 1000).")


class StateSpec(Strict):
    label: Optional[StrictStr] = Field(None, description="Display name of the state (default: its key).")
    cost: Optional[Expression] = Field(None, description="Cost per cycle in this state (category `cost`); "
                                       "shorthand for costs: {cost: ...}.")
    costs: dict[StrictStr, Expression] = Field(default_factory=dict, description="Costs per cycle by category (use `cycle_length` to convert annual costs).")
    utility: Optional[Expression] = Field(None, description="Utility (QALY weight per year); default 0 if dead, "
                                          "else must be given or defaults to 0.")
    dead: StrictBool = Field(False, description="Absorbing death state: no costs, utility or life-years; needs no "
                             "transition row (implicit self-loop).")
    max_residence: Optional[StrictInt] = Field(
        None, ge=1, description="Track time in state (tunnel states): expressions in this state's row and values "
        "may use `residence` (cycles already spent in the state, 1 in the first cycle after entry) up to this "
        "number; later cycles keep residence = max_residence.")


class TransitionReward(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: StrictStr = Field(alias="from", description="Origin state.")
    to: StrictStr = Field(description="Destination state.")
    cost: Optional[Expression] = Field(None, description="One-off cost per person moving (category `cost`).")
    costs: dict[StrictStr, Expression] = Field(default_factory=dict, description="One-off costs by category.")
    qaly: Optional[Expression] = Field(None, description="One-off QALY change per person moving (e.g. -0.01).")


class EntryReward(Strict):
    state: StrictStr = Field(description="State entered (partitioned survival; not the first state), e.g. the "
                             "dead state for terminal care or the progressed state for a cost at progression.")
    cost: Optional[Expression] = Field(None, description="One-off cost per person entering (category `cost`).")
    costs: dict[StrictStr, Expression] = Field(default_factory=dict, description="One-off costs by category.")
    qaly: Optional[Expression] = Field(None, description="One-off QALY change per person entering (e.g. -0.01).")

class StrategySpec(Strict):
    label: Optional[StrictStr] = Field(None, description="Display name used in tables, legends, CSV and xlsx "
                                       "(default: the strategy's key).")
    curves: dict[StrictStr, dict[StrictStr, Any]] = Field(
        default_factory=dict, description="Partitioned survival: per-curve overrides merged into the model's "
        "curve (e.g. {pfs: {hr: 0.6}}).")
    parameters: dict[StrictStr, Any] = Field(default_factory=dict, description="Parameter overrides.")
    states: dict[StrictStr, StatePatch] = Field(default_factory=dict, description="State value overrides.")
    transitions: dict[StrictStr, dict[StrictStr, Expression]] = Field(
        default_factory=dict, description="Replacement transition rows (a row given here replaces the whole row).")
    initial_costs: Optional[dict[StrictStr, Expression]] = Field(None, description="One-off costs at time 0.")
    initial: Optional[dict[StrictStr, Expression]] = Field(None, description="Occupancy at time 0 in this "
                                                           "strategy (replaces the model's `initial`).")
    tree: Optional[TreeSpec] = Field(None, description="This strategy's decision tree (replaces the model's "
                                     "`tree`); see docs/tree.md.")


class ProductivitySpec(Strict):
    method: Literal["human_capital", "friction_cost"] = Field(
        "human_capital", description="human_capital (Swedish default) or friction_cost (Dutch).")
    wage: Optional[Expression] = Field(None, description="Human capital: annual wage per employed person.")
    cost_per_hour: Optional[Expression] = Field(None, description="Friction cost: productivity cost per hour "
                                                "(e.g. EUR 39.88, Dutch costing manual 2022).")
    hours_per_year: Expression = Field(1800, description="Friction cost: working hours per year of a full-time worker.")
    elasticity: Expression = Field(1.0, description="Friction cost: elasticity of production to working time "
                                   "(default 1.0, Dutch costing manual 2024; 0.8 in earlier manuals).")
    friction_weeks: Optional[Number] = Field(None, gt=0, description="Friction cost: friction period (weeks) "
                                             "after each new absence (default 17.24, the Dutch 5-year average "
                                             "2019-2023 from CBS vacancies, ces/data/nl_friction_period_cbs.csv).")
    payroll: Expression = Field(0, description="Employer payroll contributions as a share of the wage (may use age).")
    employment: Expression = Field(1, description="Employment rate (0-1); may use age, e.g. a table emp(age).")
    retirement_age: Optional[Number] = Field(None, description="Hard retirement: no production at or after this age.")
    work_lost: dict[StrictStr, Expression] = Field(
        default_factory=dict, description="Share of work lost per alive state (0-1); dead states lose all work.")


class CaregiverSpec(Strict):
    hours_per_week: dict[StrictStr, Expression] = Field(description="Informal care hours per week by state.")
    value_per_hour: Expression = Field(description="Value of an hour of informal care (opportunity cost, "
                                       "replacement cost or a fixed value).")
    qaly_change: dict[StrictStr, Expression] = Field(
        default_factory=dict, description="Caregiver health spillover: change in the caregivers' utility per year "
        "by alive state (usually negative), reported as its own line (caregiver_qaly).")
    include_qaly_change: StrictBool = Field(False, description="Count the caregiver QALYs in the effect (an extra "
                                            "ICER table with spillover); off by default.")


class PatientTimeSpec(Strict):
    visits_per_cycle: dict[StrictStr, Expression] = Field(default_factory=dict, description="Visits per cycle by state.")
    travel_cost: Expression = Field(0, description="Travel cost per visit.")
    hours_per_visit: Expression = Field(0, description="Patient hours per visit (travel + waiting + care).")
    value_of_time: Expression = Field(0, description="Value of an hour of patient time.")
    out_of_pocket: dict[StrictStr, Expression] = Field(default_factory=dict, description="Out-of-pocket costs per "
                                                       "cycle by state.")


class ConsumptionSpec(Strict):
    include: StrictBool = Field(False, description="Count consumption in added life-years (historical TLV rule).")
    per_year: Optional[Expression] = Field(None, description="Annual consumption per person (may use age); "
                                           "required when include is true.")


class IndirectSpec(Strict):
    productivity: Optional[ProductivitySpec] = Field(None, description="Production lost by the patient.")
    caregiver: Optional[CaregiverSpec] = Field(None, description="Informal care time.")
    patient_time: Optional[PatientTimeSpec] = Field(None, description="Patient time, travel and out-of-pocket costs.")
    consumption: Optional[ConsumptionSpec] = Field(None, description="Consumption in added life-years.")


class ModelSpec(Strict):
    # `horizon` and `states` are required except in a pure decision tree (`kind: tree`)
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "if": {"properties": {"kind": {"const": "tree"}}, "required": ["kind"]},
        "else": {"required": ["horizon", "states"]}})
    ces: Literal[1] = Field(description="Schema version; must be 1.")
    title: StrictStr = Field("untitled model", description="Title shown above the results.")
    description: Optional[StrictStr] = Field(None, description="Free text (sources, scope); not used in the run.")
    kind: Literal["markov", "psm", "tree"] = Field("markov", description="Model type: Markov cohort, "
                                                   "partitioned survival, or a pure decision tree (no states; "
                                                   "docs/tree.md).")
    cycle: Union[StrictStr, Number] = Field("1 year", description="Cycle length: `1 year`, `1 month`, `4 weeks`, "
                                            "`28 days` (1 year = 365.25 days, 1 month = 1/12 year).")
    horizon: Optional[Union[StrictInt, StrictStr]] = Field(
        None, description="`N cycles`, `N years` or `lifetime` (to max_age); required except for `kind: tree`.")
    start_age: Optional[Number] = Field(None, ge=0, description="Cohort age (years) at time 0; enables `age`.")
    max_age: Number = Field(100, gt=0, description="Age at which a `lifetime` horizon ends.")
    sex: Optional[Union[Literal["male", "female"], dict[Literal["male", "female"], Number]]] = Field(
        None, description="Cohort sex for table look-ups: male, female, or a mix such as {male: 0.6, female: 0.4}.")
    currency: StrictStr = Field("", description="ISO currency code shown in tables (e.g. GBP, JPY, CNY).")
    correction: Literal[CORRECTIONS] = Field(
        "life-table", description="Within-cycle correction (counting method), see docs/conventions.md.")
    discount: Discount = Field(default_factory=Discount, description="Discount rates, timing and method.")
    effect: Literal["qaly", "ly"] = Field("qaly", description="Effect measure of the ICER table.")
    tables: dict[StrictStr, TableSpec] = Field(default_factory=dict, description="Look-up tables callable in "
                                               "expressions as NAME(x) or NAME(x, \"male\").")
    parameters: dict[StrictStr, Any] = Field(
        default_factory=dict, description="NAME: number | expression | {value, dist, ..., label, unit, source}.")
    states: dict[StrictStr, StateSpec] = Field(default_factory=dict, description="Health states, in order (at "
                                               "least 2; none for `kind: tree`).")
    initial: Optional[dict[StrictStr, Expression]] = Field(
        None, description="Occupancy at time 0 (normalised to 1); default: everyone in the first state.")
    transitions: dict[StrictStr, dict[StrictStr, Expression]] = Field(
        default_factory=dict,
        description="Markov: per-cycle transition probabilities FROM: {TO: expression}; one entry per row may be "
        "`rest` (1 minus the others). Missing entries are 0.")
    time_unit: Literal["year", "month", "week", "day"] = Field(
        "year", description="Partitioned survival: time unit of the curves' parameters (as fitted, e.g. month).")
    curves: dict[StrictStr, dict[StrictStr, Any]] = Field(
        default_factory=dict, description="Partitioned survival: NAME: {dist: FAMILY, <family parameters>, hr, "
        "hr_until, af, or, cure, cure_type, background, floor, smr} (see docs/survival.md, Partitioned survival).")
    partition: list[StrictStr] = Field(
        default_factory=list, description="Partitioned survival: curve names, one per state except the last "
        "(dead): occupancy of state 1 = S_1, state j = S_j − S_(j−1), dead = 1 − S_last (e.g. [pfs, os]).")
    crossing: Literal["error", "cap"] = Field(
        "error", description="Partitioned survival: when a curve falls below the one before it: stop with an "
        "error, or cap the lower curve at the upper one (mass conserved; cycles and draws affected reported).")
    curve_costs: dict[StrictStr, dict[StrictStr, Expression]] = Field(
        default_factory=dict, description="Partitioned survival: costs per cycle for the share of the cohort "
        "under a curve, e.g. time on treatment {ttd: {drug: c_drug}}; counted like a state.")
    transition_rewards: list[TransitionReward] = Field(
        default_factory=list, description="Markov: one-off costs / QALY changes per person moving FROM → TO in a "
        "cycle (e.g. a cost at relapse).")
    entry_rewards: list[EntryReward] = Field(
        default_factory=list, description="Partitioned survival: one-off costs / QALY changes per person entering a "
        "state (terminal care at death, a cost at progression), from the PSM's state inflows; discounted and "
        "counted like Markov transition rewards.")
    initial_costs: dict[StrictStr, Expression] = Field(
        default_factory=dict, description="One-off costs at time 0 by category (undiscounted), e.g. acquisition.")
    strategies: dict[StrictStr, Optional[StrategySpec]] = Field(min_length=1, description="Strategies compared.")
    tree: Optional[TreeSpec] = Field(None, description="Decision tree in front of the model, for every strategy "
                                     "without its own `tree` (docs/tree.md).")
    indirect: Optional[IndirectSpec] = Field(None, description="Societal-perspective cost terms (productivity, "
                                             "informal care, patient time and travel, consumption).")
    fits: dict[StrictStr, FitRecipe] = Field(
        default_factory=dict, description="Recipes of the `ces fit` runs behind the curves (written by `ces fit "
        "--yaml`), for the config's `psa: {curves: bootstrap}` (docs/survival.md).")
    cost_bearers: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, description="Who bears a cost category when it is not the healthcare payer (e.g. "
        "{apheresis_repeat: hospital, oos_product: manufacturer}); such categories are left out of the payer "
        "cost and listed in the impact inventory.")
