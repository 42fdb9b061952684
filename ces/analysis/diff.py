"""Compare two results documents (``ces diff``) or two model files (``ces diff --models``).

Results: every number in both documents is a *metric* named by its path
(``base_case.totals[SoC].cost``, ``psa.wtp[50000].ceac.B`` …).  A deterministic metric
passes when |new − old| ≤ abs_tol + rel_tol·|old|.  A PSA metric (under ``psa``) passes
when |new − old| ≤ abs_tol + rel_tol·|old| + z·SE, the Monte Carlo allowance, with
SE = √(mcse_old² + mcse_new²) from the standard errors stored in the results:
the MCSE of each summary mean; 2.671·MCSE for its 2.5th/97.5th percentiles (normal
approximation to the SE of a sample quantile); √(p(1−p)/n) for a CEAC probability; the largest MCSE of the
mean NMB at that WTP (``psa.convergence.mcse_max``) for expected NMB and EVPI.
Every perspective's PSA tables (``psa.perspectives.KEY.summary`` …) get the same allowances, so the
societal metrics are compared like the payer ones.  Default z = 4 (a false alarm about once in 16,000 metrics for independent runs).
Categorical values (dominance status, optimal strategy) are compared exactly outside PSA.
Not compared: the probabilistic ICER table, population EVPI and sd (derived from the
compared means, EVPI and draws), the convergence table, seed and chunk size.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

ROW_KEYS = {"totals": "strategy", "icer": "strategy", "icer_societal": "strategy",
            "icer_societal_with_consumption": "strategy", "inventory": ("component", "strategy"), "summary": ("strategy", "outcome"), "wtp": "wtp",
            "convergence": "wtp", "nmb": ("wtp", "strategy")}
SKIP = {"ces_version", "schema", "schema_version"}
METADATA = {"model.file", "model.config"}
QUANTILE_SE_FACTOR = math.sqrt(0.025 * 0.975) / (math.exp(-0.5 * 1.959963984540054 ** 2) / math.sqrt(2 * math.pi))  # where the files were, not what they computed


@dataclass
class MetricDiff:
    path: str
    old: Any
    new: Any
    tol: float | None
    ok: bool


def _row_id(table: str, row: dict, i: int) -> str:
    for key in (ROW_KEYS.get(table, "strategy" if table.startswith("icer_") else None), ("world", "year"), ("strategy", "year_since_start"), "year"):
        keys = key if isinstance(key, tuple) else (key,)
        if key is not None and all(k in row for k in keys):
            return ",".join(_fmt(row[k]) for k in keys)
    return str(i)


def _fmt(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def flatten(doc: Any, prefix: str = "") -> dict:
    """Path → leaf value; lists of table rows are keyed by their row id (strategy, wtp …)."""
    out: dict = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            if not prefix and k in SKIP:
                continue
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
    elif isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc):
        table = prefix.rsplit(".", 1)[-1]
        for i, row in enumerate(doc):
            out.update(flatten(row, f"{prefix}[{_row_id(table, row, i)}]"))
    else:
        out[prefix] = doc
    return out


def _psa_root(path: str) -> str:
    """``psa.`` or, for another perspective's PSA tables, ``psa.perspectives.KEY.`` (empty if not PSA)."""
    m = re.match(r"psa\.perspectives\.[^.\[]+\.", path)
    return m.group(0) if m else ("psa." if path.startswith("psa.") else "")


def _mc_se(path: str, flat: dict) -> float:
    """Monte Carlo standard error of a PSA metric from the document's own statistics (0 if unknown);
    the same rules for the payer tables (``psa.``) and every other perspective's (``psa.perspectives.KEY.``)."""
    root = _psa_root(path)
    if not root:
        return 0.0
    head, _, leaf = path.rpartition(".")
    if path.startswith(root + "summary[") and leaf == "mean":
        return float(flat.get(f"{head}.mcse") or 0.0)
    if path.startswith(root + "summary[") and leaf in ("lower", "upper"):
        # SE of a sample quantile ≈ √(p(1−p)/n)/f(q); with a normal density f(q) = φ(z_p)/sd this is
        # √(p(1−p))/φ(z_p) · sd/√n = 2.671 · MCSE for p = 0.025 or 0.975
        return QUANTILE_SE_FACTOR * float(flat.get(f"{head}.mcse") or 0.0)
    if path.startswith(root + "wtp["):
        n = flat.get("psa.n_draws") or 0
        wtp = path[len(root + "wtp["):path.index("]", len(root))]
        if leaf.startswith("ceac.") or path.endswith(".ceaf") or ".ceac." in path:
            p = flat.get(path)
            return math.sqrt(max(p * (1 - p), 0.0) / n) if isinstance(p, (int, float)) and n else 0.0
        return float(flat.get(f"{root}convergence[{wtp}].mcse_max") or 0.0)
    return 0.0


def diff_results(old: dict, new: dict, abs_tol: float = 1e-9, rel_tol: float = 1e-9, z: float = 4.0) -> list:
    """All metrics of both documents with their verdicts (see the module docstring)."""
    fo, fn = flatten(old), flatten(new)
    rows = []
    for path in sorted(set(fo) | set(fn)):
        rest = path[len(_psa_root(path)):] if _psa_root(path) else ""
        if (rest.startswith(("convergence", "icer", "crossing")) or path in ("psa.seed", "psa.chunk")
                or path.endswith((".mcse", ".evpi_population", ".sd"))):
            continue  # run statistics, or values derived from the metrics compared (summary means, EVPI)
        if path in METADATA:
            continue
        a, b = fo.get(path), fn.get(path)
        if path not in fo or path not in fn:
            rows.append(MetricDiff(path, a, b, None, False))
            continue
        if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            if path.startswith("psa.") and path.rsplit(".", 1)[-1] in ("optimal", "status", "ref", "best", "second"):
                continue  # categorical PSA outputs follow from the numbers checked above
            rows.append(MetricDiff(path, a, b, None, a == b))
            continue
        mc = math.sqrt(_mc_se(path, fo) ** 2 + _mc_se(path, fn) ** 2)
        tol = abs_tol + rel_tol * abs(a) + z * mc
        rows.append(MetricDiff(path, a, b, tol, abs(b - a) <= tol))
    return rows


def diff_models(old: Any, new: Any, prefix: str = "") -> list:
    """(path, change, old, new) for every added, removed or changed key of two model files."""
    out = []
    if isinstance(old, dict) and isinstance(new, dict):
        for k in list(old) + [k for k in new if k not in old]:
            p = f"{prefix}.{k}" if prefix else str(k)
            if k not in new:
                out.append((p, "removed", old[k], None))
            elif k not in old:
                out.append((p, "added", None, new[k]))
            else:
                out += diff_models(old[k], new[k], p)
    elif old != new:
        out.append((prefix, "changed", old, new))
    return out
