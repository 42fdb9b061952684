"""Schema v1 of analysis configs (pydantic): the config file's keys (model, setting, WTP, PSA, DSA, budget
impact, payments, appraisal, EVPPI, outputs, limits).

Like :mod:`ces.modelfile.schema` (the model-file blocks) it is the single definition of each key,
exported by ``ces schema config`` and listed in ``docs/schema.md``.  ``SETTINGS_KEYS`` are the model
settings a config may override.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import Field, model_validator, StrictBool, StrictInt, StrictStr

from ces.modelfile.schema_base import Number, Strict

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
    curves: Optional[Literal["bootstrap", "mvn", "hessian"]] = Field(
        None, description="PSA of the fitted curves (needs the model's `fits:` recipe): bootstrap (resample the "
        "patients, refit every endpoint, each draw takes one whole replicate), mvn (one mvnormal, bootstrap "
        "covariance) or hessian (inverse-Hessian covariance per curve); default: the model's blocks as written.")
    B: Optional[StrictInt] = Field(None, ge=2, le=100_000, description="Bootstrap replicates for `curves: "
                                   "bootstrap | mvn` (default 1000).")

    @model_validator(mode="after")
    def _b_needs_bootstrap(self):
        if self.B is not None and self.curves not in ("bootstrap", "mvn"):
            raise ValueError("`B` needs `curves: bootstrap` or `curves: mvn` (the replicates it counts)")
        return self


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
    utility_norm: Optional[Union[Number, StrictStr]] = Field(None, description="General-population utility for "
                                                   "the QALY shortfall: a constant in (0, 1], or age- and sex-specific "
                                                   "English norms uk_dsu_2014 (NICE calculator reference), "
                                                   "uk_hse_2017_cw, uk_hse_2017_co, uk_mvh_tto, or US norms "
                                                   "us_nhms_2005 (Fryback 2007, ages 35-89, NCHS 2021 life "
                                                   "table). Default: the setting's `utility_norm` (no preset sets "
                                                   "one yet), else 0.85.")
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
