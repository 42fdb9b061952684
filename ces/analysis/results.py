"""The results object of one run (:func:`ces.pipeline.run`): every table the report layer prints or writes.

Plain data: the loaded inputs, the built model, the base-case results and the tables computed from
them (each documented where it is computed: ``ces.analysis``, ``ces.economics``).  Nothing here
computes a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ces.engine.deterministic import BaseCase
from ces.engine.model import CohortModel
from ces.engine.psa import PsaResult
from ces.modelfile.loader import Loaded


@dataclass
class RunResult:
    loaded: Loaded
    model: CohortModel
    base: BaseCase
    totals: pd.DataFrame
    icers: pd.DataFrame
    nmb: pd.DataFrame
    wtps: list = field(default_factory=list)
    psa: PsaResult | None = None
    psa_tables: dict = field(default_factory=dict)
    budget: dict | None = None
    payment: dict | None = None
    perspectives: dict = field(default_factory=dict)  # ICER table of every non-payer perspective (payer is `icers`)
    perspective_nmb: dict = field(default_factory=dict)  # NMB table of every non-payer perspective (payer is `nmb`)
    perspective_list: list = field(default_factory=list)  # Perspective objects, base-case perspective first
    base_perspective: str = "payer"
    psa_perspectives: dict = field(default_factory=dict)  # non-payer perspective key -> PSA tables (payer: psa_tables)
    spillover_icers: pd.DataFrame | None = None  # base-case perspective, QALYs with caregiver spillover (if on)
    appraisal: dict | None = None
    wtp_report: list = field(default_factory=list)  # headline WTPs of the console summary (on the `wtps` grid)
    price: pd.DataFrame | None = None  # threshold price per perspective and WTP (config `price:`)
    inventory: pd.DataFrame | None = None
    warnings: list = field(default_factory=list)  # sanity warnings (ces.analysis.sanity)
    payers: dict | None = None  # cost shares per payer: {"cea": table, "bia": table or None}
    bia_inputs: dict | None = None  # patients, shares, categories, price adjustment (for the per-draw BIA)
    payment_draws: np.ndarray | None = None  # per-draw CEA payment adjustment (PSA)
    bia_draws: np.ndarray | None = None  # per-draw net budget impact (draws × years)

    @property
    def strategy_names(self) -> list:
        return list(self.model.strategies)

    @property
    def model_info(self) -> dict:
        spec = self.loaded.model
        return {
            "title": spec.title,
            "file": self.loaded.model_loc.file,
            "config": self.loaded.config_loc.file if self.loaded.config_loc else None,
            "kind": spec.kind,
            "cycle_years": self.model.cycle_years,
            "n_cycles": self.model.n_cycles,
            "states": self.model.states,
            "correction": spec.correction,
            "discount": spec.discount.model_dump(),
            "currency": spec.currency,
            "effect": spec.effect,
            "cost_categories": self.model.cost_streams,
        }
