"""Schema v1 of model files and analysis configs (pydantic).

The schema is the single definition of every key: its type, default and meaning
(the ``description`` of each field, exported by ``ces schema`` as JSON Schema and
listed in ``docs/schema.md``).  Expressions (parameters, probabilities, costs,
utilities) are written as numbers or strings in the safe expression language of
:mod:`ces.modelfile.expr`.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

Expression = Union[StrictInt, StrictFloat, StrictStr]
Number = Union[StrictInt, StrictFloat]

CORRECTIONS = ("start", "end", "life-table", "half-cycle", "simpson", "darth-simpson", "none")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class StatePatch(Strict):
    label: Optional[StrictStr] = Field(None, description="Display name of the state.")
    cost: Optional[Expression] = Field(None, description="Replaces the state's `cost` in this strategy.")
    costs: Optional[dict[StrictStr, Expression]] = Field(None, description="Replaces these cost categories of the "
                                                         "state in this strategy (others are kept).")
    utility: Optional[Expression] = Field(None, description="Replaces the state's utility in this strategy.")


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
    ces: Literal[1] = Field(description="Schema version; must be 1.")
    title: StrictStr = Field("untitled model", description="Title shown above the results.")
    description: Optional[StrictStr] = Field(None, description="Free text (sources, scope); not used in the run.")
    kind: Literal["markov", "psm"] = Field("markov", description="Model type: Markov cohort or partitioned "
                                           "survival.")
    cycle: Union[StrictStr, Number] = Field("1 year", description="Cycle length: `1 year`, `1 month`, `4 weeks`, "
                                            "`28 days` (1 year = 365.25 days, 1 month = 1/12 year).")
    horizon: Union[StrictInt, StrictStr] = Field(description="`N cycles`, `N years` or `lifetime` (to max_age).")
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
    states: dict[StrictStr, StateSpec] = Field(min_length=2, description="Health states, in order.")
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
        "hr_until, af, or, cure, cure_type, background, floor} (see docs/survival.md, Partitioned survival).")
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
    indirect: Optional[IndirectSpec] = Field(None, description="Societal-perspective cost terms (productivity, "
                                             "informal care, patient time and travel, consumption).")
    cost_bearers: dict[StrictStr, StrictStr] = Field(
        default_factory=dict, description="Who bears a cost category when it is not the healthcare payer (e.g. "
        "{apheresis_repeat: hospital, oos_product: manufacturer}); such categories are left out of the payer "
        "cost and listed in the impact inventory.")


SETTINGS_KEYS = ("title", "cycle", "horizon", "start_age", "max_age", "sex", "currency", "correction",
                 "discount", "effect", "curves", "crossing", "time_unit", "indirect")


class WtpGrid(Strict):
    from_: Number = Field(0, alias="from", ge=0, description="First WTP value.")
    to: Number = Field(ge=0, description="Last WTP value (included when on the grid).")
    by: Number = Field(gt=0, description="Step.")


class PsaSpec(Strict):
    draws: StrictInt = Field(1000, ge=1, description="Number of PSA draws.")
    seed: StrictInt = Field(12345, ge=0, description="Seed; same seed → bit-identical results.")
    chunk: StrictInt = Field(2000, ge=1, description="Draws evaluated per chunk (memory bound).")
    precision: Optional[Number] = Field(
        None, gt=0, description="Convergence check: largest acceptable Monte Carlo standard error of the mean NMB "
        "(currency units); default 1 % of |expected NMB| of the optimal strategy at each WTP.")
    population: Optional[Number] = Field(None, ge=0, description="Patients per year, for population EVPI.")
    population_years: Optional[StrictInt] = Field(None, ge=1, description="Years of decision relevance, for "
                                                  "population EVPI.")
    population_discount: Number = Field(0.0, ge=0, le=1, description="Annual discount rate for population EVPI.")


class OutputsSpec(Strict):
    dir: StrictStr = Field(description="Output directory, relative to the config file.")
    formats: list[Literal["json", "csv", "xlsx"]] = Field(["json", "csv", "xlsx"],
                                                          description="Files to write (manifest.json always).")


class TwoWaySpec(Strict):
    x: StrictStr = Field(description="First parameter (or setting path such as discount.costs).")
    y: StrictStr = Field(description="Second parameter.")
    x_values: list[Number] = Field(min_length=1, description="Values of `x`.")
    y_values: list[Number] = Field(min_length=1, description="Values of `y`.")


class ThresholdSpec(Strict):
    parameter: StrictStr = Field(description="Parameter searched.")
    low: Number = Field(description="Lower end of the search interval.")
    high: Number = Field(description="Upper end of the search interval.")
    wtp: Number = Field(ge=0, description="Willingness to pay at which the decision is evaluated.")


class PriceSpec(Strict):
    parameter: StrictStr = Field(description="Cost parameter holding the price of `strategy` (e.g. c_cart); "
                                 "`ces run` reports the price at which the ICER equals the setting's threshold(s).")
    strategy: Optional[StrictStr] = Field(None, description="Priced strategy (default: the last).")
    comparator: Optional[StrictStr] = Field(None, description="Comparator (default: the first strategy).")


class DsaSpec(Strict):
    parameters: Union[list[StrictStr], dict[StrictStr, list[Number]]] = Field(
        description="One-way ranges NAME: [low, high] (a parameter or a setting such as discount.costs), or a list "
        "of parameter names whose low/high are their distribution's 2.5th/97.5th percentiles.")
    strategy: Optional[StrictStr] = Field(None, description="Strategy evaluated (default: the last one).")
    comparator: Optional[StrictStr] = Field(None, description="Comparator (default: the first strategy).")
    outcome: Literal["icer", "nmb"] = Field("icer", description="Tornado outcome: ICER or incremental NMB.")
    wtp: Optional[Number] = Field(None, ge=0, description="WTP for the incremental NMB outcome.")
    two_way: Optional[TwoWaySpec] = Field(None, description="Two-way grid of the outcome.")
    threshold: Optional[ThresholdSpec] = Field(None, description="Value of one input at which the decision "
                                               "changes (incremental NMB = 0).")


class ScenarioSpec(Strict):
    label: Optional[StrictStr] = Field(None, description="Name shown in the scenario table (default: the key).")
    parameters: dict[StrictStr, Any] = Field(default_factory=dict, description="Parameter overrides (applied on "
                                             "top of the config's `parameters`).")
    settings: dict[StrictStr, Any] = Field(default_factory=dict, description="Setting overrides (as the config's "
                                           "`settings`).")


class PopulationSpec(Strict):
    size: Optional[Number] = Field(None, ge=0, description="Population in year 1 (persons).")
    rate: Optional[Number] = Field(None, ge=0, le=1, description="Annual incidence (or prevalence) per person.")
    diagnosed: Number = Field(1.0, ge=0, le=1, description="Share diagnosed.")
    treated: Number = Field(1.0, ge=0, le=1, description="Share of diagnosed who are treated.")
    eligible: Number = Field(1.0, ge=0, le=1, description="Share of treated who are eligible.")
    growth: Number = Field(0.0, ge=-1, description="Annual population growth (0.01 = 1 %).")
    patients: Optional[list[Number]] = Field(None, description="Explicit patients starting treatment per year "
                                             "(instead of the funnel).")


class UptakeSpec(Strict):
    strategy: StrictStr = Field(description="The new strategy taking up market share.")
    target: Number = Field(ge=0, le=1, description="Share reached at the end of the ramp.")
    years_to_target: StrictInt = Field(1, ge=1, description="Linear ramp: share = target·min(1, year/years).")


class PricingSpec(Strict):
    strategy: StrictStr = Field(description="The product whose price and sales are checked.")
    category: StrictStr = Field(description="Cost category holding its one-off price.")
    price: Optional[Number] = Field(None, gt=0, description="The product's price per course (default: the whole "
                                    "one-off cost of `category`); sales = patients × price.")
    forecast_sales: Optional[list[Number]] = Field(None, description="Japan repricing: forecast annual sales, "
                                                   "one per year (currency units).")
    pricing_method: Optional[Literal["cost_accounting", "comparator"]] = Field(
        None, description="Japan repricing: how the product was priced at listing (cost accounting or the "
        "comparator method); sets the tiers that apply and the floor of the repriced price.")
    alpha: Number = Field(0.0, ge=0, le=0.15, description="Japan repricing: correction premium rate α for "
                          "verified usefulness (0 when none; rule range 2.5-15 %).")


class BudgetScenarioSpec(Strict):
    label: Optional[StrictStr] = Field(None, description="Name shown in the scenario table (default: the key).")
    population: dict[StrictStr, Any] = Field(default_factory=dict, description="Population overrides.")
    uptake: Optional[dict[StrictStr, Any]] = Field(None, description="Uptake overrides.")


class BudgetImpactSpec(Strict):
    years: StrictInt = Field(5, ge=1, le=50, description="Horizon (years); ISPOR default 5 (Sullivan et al. 2014).")
    population: PopulationSpec = Field(description="Eligible patients per year: explicit, or an epidemiological "
                                       "funnel.")
    current: dict[StrictStr, Union[Number, list[Number]]] = Field(
        description="Current-world market shares by strategy (a share, or one per year).")
    new: Optional[dict[StrictStr, Union[Number, list[Number]]]] = Field(
        None, description="New-world shares by strategy (explicit), or use `uptake`.")
    uptake: Optional[UptakeSpec] = Field(None, description="Linear uptake ramp of the new strategy (instead of "
                                         "`new`).")
    cost_categories: Optional[list[StrictStr]] = Field(None, description="Cost categories counted (default all).")
    discount: Number = Field(0.0, ge=0, le=1, description="Annual discount rate (BIA default: undiscounted).")
    pricing: Optional[PricingSpec] = Field(None, description="Pricing-rule checks (rules from the `setting`).")
    scenarios: dict[StrictStr, BudgetScenarioSpec] = Field(
        default_factory=dict, description="Named scenarios (e.g. conservative, optimistic): population and uptake "
        "overrides; patients are re-derived.")
    psa: StrictBool = Field(False, description="Probabilistic budget impact: the budget per PSA draw (each draw's "
                            "own costs), with the mean and 95 % interval per year (needs a PSA run).")
    dsa: dict[StrictStr, list[Number]] = Field(
        default_factory=dict, description="One-way sensitivity on budget inputs: population.rate, "
        "population.eligible, uptake.target, ... : [low, high]; reports the cumulative impact.")


class StageSpec(Strict):
    year: StrictInt = Field(ge=0, description="Payment year (0 = at treatment).")
    share: Number = Field(ge=0, le=1, description="Share of the price paid.")
    condition: Optional[list[StrictStr]] = Field(None, description="[alive] or state names the patient must "
                                                 "occupy at that year for the payment to be made.")


class PaymentSpec(Strict):
    strategy: StrictStr = Field(description="Strategy whose price is paid under the model.")
    category: StrictStr = Field(description="Cost category of the one-off price at time 0.")
    price: Number = Field(gt=0, description="The price (part of that category's one-off cost).")
    model: Literal["upfront", "instalments", "outcome", "staged"] = Field(
        "upfront", description="upfront (all at treatment), instalments, outcome-based rebate or staged payments.")
    n: StrictInt = Field(5, ge=1, description="Instalments: number of annual payments.")
    interest: Number = Field(0.0, ge=0, description="Instalments: annual interest rate.")
    stop_at_death: StrictBool = Field(False, description="Instalments: no payment after death.")
    rebate: Number = Field(0.0, ge=0, le=1, description="Outcome: share of the price refunded for non-response.")
    non_response: Number = Field(0.0, ge=0, le=1, description="Outcome: probability of non-response.")
    rebate_year: StrictInt = Field(1, ge=0, description="Outcome: year the rebate is paid.")
    response_states: list[StrictStr] = Field(default_factory=list, description="Outcome: states that count as "
                                             "response; P(non-response) = 1 - their occupancy at `response_year` "
                                             "in the model's trace (each PSA draw's own), instead of `non_response`.")
    response_year: StrictInt = Field(2, ge=0, description="Outcome: year at which response is assessed.")
    stages: list[StageSpec] = Field(default_factory=list, description="Staged: payments by year and condition.")


class SeveritySpec(Strict):
    utility_norm: Union[Number, StrictStr] = Field(0.85, description="General-population utility for the QALY "
                                                   "shortfall: a constant in (0, 1], or age- and sex-specific "
                                                   "English norms uk_dsu_2014 (NICE calculator reference), "
                                                   "uk_hse_2017_cw, uk_hse_2017_co, uk_mvh_tto, or US norms "
                                                   "us_nhms_2005 (Fryback 2007, ages 35-89, NCHS 2021 life "
                                                   "table).")
    comparator: Optional[StrictStr] = Field(None, description="Strategy whose QALYs define the patients' QALE "
                                            "(default: the first).")
    anticancer: StrictBool = Field(False, description="Japan: 1.5x C2H boundaries for anticancer products.")
    grade: Optional[Literal["low", "moderate", "high", "very_high", "rare_very_high"]] = Field(
        None, description="Sweden: severity grade (default: from the proportional shortfall); rare_very_high = "
        "rare disease of very high severity (SEK 2M).")
    assumed_grades: StrictBool = Field(False, description="Sweden: also use the unsourced low/high levels "
                                       "(assumptions, off by default).")


class C2HPopulationSpec(Strict):
    share: Number = Field(ge=0, le=1, description="Share of patients in this analysis population.")
    icer: Optional[Number] = Field(None, description="The population's appraised ICER (default: the model's).")


class C2HSpec(Strict):
    strategy: StrictStr = Field(description="The evaluated product's strategy.")
    price: Number = Field(gt=0, description="Price before adjustment (a one-off cost per patient in the model).")
    premium: Number = Field(ge=0, description="Usefulness-premium portion of the price (有用性系加算部分), currency.")
    premium_rate: Number = Field(0.0, ge=0, description="Premium rate before the disclosure coefficient (0.35 = "
                                 "35 %): sets the cap on the cut.")
    operating_profit: Number = Field(0.0, ge=0, description="Operating-profit portion, for cost-accounting products "
                                     "with cost disclosure under 50 % (else 0).")
    considered: Optional[StrictBool] = Field(None, description="Boundaries x1.5 (anticancer, no adequate treatment, "
                                             "paediatric); default: severity.anticancer.")
    populations: list[C2HPopulationSpec] = Field(default_factory=list, description="Analysis populations with their "
                                                 "shares (price weighted by share); default: one, the model's ICER.")


class PayersSpec(Strict):
    strategy: StrictStr = Field(description="Strategy whose incremental cost is split (vs `comparator`).")
    comparator: Optional[StrictStr] = Field(None, description="Comparator (default: the first strategy).")
    shares: dict[StrictStr, dict[StrictStr, Number]] = Field(
        description="Cost category (or `default`) -> {payer: share}; each row sums to 1.")


class CostSharingSpec(Strict):
    bracket: Literal["a", "i", "u", "e", "o"] = Field("u", description="Japan income bracket (under 70): a (highest) "
                                                    "... u (middle, ~JPY 3.7-7.7M) ... o (resident-tax exempt).")
    rules: StrictStr = Field("aug2026", description="Limits in force: current (2015-01 to 2026-07) or aug2026.")


class AppraisalSpec(Strict):
    threshold: Optional[StrictStr] = Field(None, description="A dated alternative threshold of the setting (its "
                                           "`threshold.options`), e.g. uk: nice_2022 (GBP 20-30k).")
    scenario: Optional[StrictStr] = Field(None, description="A non-reference-case scenario of the setting (its "
                                          "`scenarios`), e.g. uk: discount_1_5.")
    conditions_met: StrictBool = Field(False, description="The analyst confirms the scenario's conditions (listed "
                                       "in the preset) hold; required for a scenario.")


class EvppiSpec(Strict):
    parameters: list[StrictStr] = Field(default_factory=list, description="Single parameters (with a `dist`) "
                                        "whose EVPPI is estimated; default: every sampled parameter.")
    groups: dict[StrictStr, list[StrictStr]] = Field(default_factory=dict, description="Named groups of "
                                                     "parameters, EVPPI of learning them together: NAME: [p1, p2].")
    wtp: Optional[Number] = Field(None, ge=0, description="WTP at which the table is sorted (default: the middle "
                                  "value of the config's `wtp:`).")
    bootstrap: StrictInt = Field(100, ge=0, le=2000, description="Bootstrap resamples of the draws for the standard "
                                 "errors (0: none).")
    reference: Optional[StrictStr] = Field(None, description="Reference strategy of the incremental net benefit "
                                           "(default: the first; the EVPPI does not depend on it).")


class ConfigSpec(Strict):
    ces: Literal[1] = Field(description="Schema version; must be 1.")
    model: StrictStr = Field(description="Path of the model YAML, relative to this config.")
    setting: Optional[StrictStr] = Field(None, description="Country preset (ces/settings/NAME.yaml): sweden, japan, "
                                         "uk, netherlands, china, us: currency, discount rates, thresholds, pricing rules.")
    severity: Optional[SeveritySpec] = Field(None, description="Severity (QALY shortfall) inputs for the thresholds.")
    perspective: Optional[StrictStr] = Field(None, description="Base-case perspective: payer, societal, "
                                             "societal_with_consumption or bearer_NAME (default: the setting's; "
                                             "payer without a setting).")
    appraisal: Optional[AppraisalSpec] = Field(None, description="Dated threshold options and non-reference-case "
                                               "scenarios of the setting.")
    payers: Optional[PayersSpec] = Field(None, description="Cost shares per payer: CEA and BIA per payer "
                                         "(e.g. China's payer tiers).")
    cost_sharing: Optional[CostSharingSpec] = Field(None, description="Japan: the patient's capped cost-sharing "
                                                    "(high-cost medical expense benefit); insurer cost net of it.")
    c2h: Optional[C2HSpec] = Field(None, description="Japan: C2H price adjustment of a product from its appraised "
                                   "ICER (setting japan).")
    title: Optional[StrictStr] = Field(None, description="Replaces the model's title.")
    settings: dict[StrictStr, Any] = Field(default_factory=dict, description="Overrides of model settings: "
                                           + ", ".join(SETTINGS_KEYS) + ".")
    parameters: dict[StrictStr, Any] = Field(default_factory=dict, description="Parameter overrides.")
    strategies: Optional[list[StrictStr]] = Field(None, description="Strategies to run, in this order.")
    wtp: Optional[Union[Number, list[Number], WtpGrid]] = Field(
        None, description="Willingness to pay per unit of effect: a number, a list, or {from, to, by}.")
    wtp_report: Optional[list[Number]] = Field(
        None, min_length=1, description="Headline WTP values shown by `ces run` (net benefit, CEAC); each must be "
        "on the `wtp:` grid, which still goes in full to the output files. Default: the setting's threshold(s) "
        "on the grid, else the first, middle and last grid values.")
    price: Optional[PriceSpec] = Field(None, description="Threshold price shown by `ces run`: the value of a price "
                                       "parameter at which the ICER equals the setting's threshold(s) (as `ces price`).")
    psa: Optional[PsaSpec] = Field(None, description="Probabilistic sensitivity analysis (run by `ces run`).")
    evppi: Optional[EvppiSpec] = Field(None, description="Value of information (`ces evppi`): EVPPI of single "
                                       "parameters and groups from the PSA draws.")
    outputs: Optional[OutputsSpec] = Field(None, description="Output directory written by `ces run` (as --out).")
    dsa: Optional[DsaSpec] = Field(None, description="Deterministic sensitivity analysis (`ces dsa`).")
    budget_impact: Optional[BudgetImpactSpec] = Field(None, description="Budget impact analysis (`ces bia`).")
    payment: Optional[PaymentSpec] = Field(None, description="Payment model for a large up-front price, applied "
                                           "in both the CEA and the BIA.")
    scenarios: dict[StrictStr, ScenarioSpec] = Field(default_factory=dict, description="Named scenarios: sets of "
                                                     "parameter and setting overrides (`ces dsa`).")
    limits: Optional[dict[StrictStr, Number]] = Field(
        None, description="Raise (or lower) the size limits checked before a run allocates memory: max_cycles, "
        "max_cells, max_wtp_points, max_residence, max_states, max_parameters, max_file_mb, max_yaml_nodes, "
        "max_yaml_depth, max_expr_depth, max_draws (see docs/limits.md).")
    allow_paths: list[StrictStr] = Field(
        default_factory=list, description="Extra folders (relative to this config) from which tables and draws "
        "files may be read; by default only the model's and the config's folders and the shipped data.")
