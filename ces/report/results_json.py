"""The machine-readable results document (``--json``): schema ``ces.results`` version 1.

Stable for CI diffs: keys are never renamed within a schema version; new keys may be
added.  Numbers are full precision (repr of float64); NaN/inf are written as null.
See docs/results-json.md for every key.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from ces import __version__

SCHEMA = "ces.results"
SCHEMA_VERSION = 1


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, pd.DataFrame):
        return [_clean(r) for r in x.to_dict(orient="records")]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else None
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return x


def results_document(run) -> dict:
    """Build the results dict from a :class:`ces.pipeline.RunResult`."""
    doc = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "ces_version": __version__,
        "model": run.model_info,
        "strategies": run.strategy_names,
        "strategy_labels": {s: cs.label for s, cs in run.model.strategies.items()},
        "base_case": {
            "totals": run.totals,
            "icer": run.icers,
            "nmb": run.nmb,
        },
    }
    for key, table in getattr(run, "perspectives", {}).items():
        doc["base_case"][f"icer_{key}"] = table
    for key, table in getattr(run, "perspective_nmb", {}).items():
        doc["base_case"][f"nmb_{key}"] = table
    if getattr(run, "spillover_icers", None) is not None:
        doc["base_case"]["icer_caregiver_spillover"] = run.spillover_icers

    from ces.report.provenance import provenance

    doc["provenance"] = provenance(run)
    doc["warnings"] = list(getattr(run, "warnings", []))
    if getattr(run, "inventory", None) is not None:
        doc["base_case"]["inventory"] = run.inventory
    if getattr(run, "appraisal", None) is not None:
        doc["appraisal"] = run.appraisal
    if getattr(run, "price", None) is not None:
        doc["base_case"]["threshold_price"] = run.price
    if getattr(run, "payment", None) is not None:
        doc["payment"] = {k: v for k, v in run.payment.items() if k != "schedule"}
    if getattr(run, "budget", None) is not None:
        doc["budget_impact"] = {k: v for k, v in run.budget.items()}
    if getattr(run, "payers", None) is not None:
        doc["payers"] = {k: v for k, v in run.payers.items() if v is not None}
    crossing = {s: {"points": r.crossing.points, "cycles": r.crossing.cycles}
                for s, r in run.base.results.items() if r.crossing is not None}
    if crossing:
        doc["base_case"]["crossing"] = _clean(crossing)
    if run.psa is not None:
        doc["psa"] = {"n_draws": run.psa.n_draws, "seed": run.psa.seed, "chunk": run.psa.chunk,
                      **{k: v for k, v in run.psa_tables.items()}}
        # payer tables stay at the top of `psa` (schema v1); every other perspective under psa.perspectives
        doc["psa"]["base_perspective"] = getattr(run, "base_perspective", "payer")
        if getattr(run, "psa_perspectives", None):
            doc["psa"]["perspectives"] = {k: dict(v) for k, v in run.psa_perspectives.items()}
        if run.psa.crossing:
            doc["psa"]["crossing"] = {s: {"points": c.points, "draws": c.draws} for s, c in run.psa.crossing.items()}
    return _clean(doc)


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"
