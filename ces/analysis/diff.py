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

from pathlib import Path
from dataclasses import dataclass
from typing import Any

ROW_KEYS = {"totals": "strategy", "icer": "strategy", "icer_societal": "strategy",
            "icer_societal_with_consumption": "strategy", "inventory": ("component", "strategy"), "summary": ("strategy", "outcome"), "wtp": "wtp",
            "convergence": "wtp", "nmb": ("wtp", "strategy")}
SKIP = {"ces_version", "schema", "schema_version", "provenance", "warnings", "strategy_labels"}  # metadata
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


def changed_inputs(old: dict, new: dict) -> list:
    """(role, old path, new path, what) for every input whose hash differs, or that one run read and the other not.

    Inputs are matched by role and file name (paths differ between machines and checkouts).
    """
    def index(doc):
        return {(i["role"], Path(i["path"]).name): i for i in (doc.get("provenance") or {}).get("inputs", [])}
    a, b = index(old), index(new)
    out = []
    for k in list(a) + [k for k in b if k not in a]:
        if k not in b:
            out.append((k[0], a[k]["path"], None, "read by the old run only"))
        elif k not in a:
            out.append((k[0], None, b[k]["path"], "read by the new run only"))
        elif a[k]["sha256"] != b[k]["sha256"]:
            out.append((k[0], a[k]["path"], b[k]["path"], "content differs"))
    return out


# ---------------------------------------------------------------- reviewer view
HEADLINE_WTPS = 3  # headline NMB / P(CE) / EVPI at the first three WTP values of the run


def perspectives(doc: dict) -> dict:
    """perspective → its base-case ICER table: `icer` is the healthcare payer, `icer_NAME` perspective NAME."""
    bc = doc.get("base_case") or {}
    out = {}
    for key, table in bc.items():
        if key == "icer" or key.startswith("icer_"):
            out["payer" if key == "icer" else key[len("icer_"):]] = table or []
    return out


def _psa_wtp(doc: dict, perspective: str) -> list:
    """The PSA's WTP table of a perspective: `psa.wtp` (payer), else `psa.wtp_NAME` or `psa.NAME.wtp`."""
    psa = doc.get("psa") or {}
    if perspective == "payer":
        return psa.get("wtp") or []
    if isinstance(psa.get(f"wtp_{perspective}"), list):
        return psa[f"wtp_{perspective}"]
    sub = psa.get(perspective)
    return sub.get("wtp") or [] if isinstance(sub, dict) else []


def headline(doc: dict) -> dict:
    """perspective → ordered {metric label: value}: frontier ICERs with incremental cost and effect, then NMB
    (λ·E − C of the perspective's costs), P(cost-effective) and EVPI at the run's first WTP values."""
    wtps = []
    for r in (doc.get("base_case") or {}).get("nmb") or []:
        if r.get("wtp") not in wtps:
            wtps.append(r.get("wtp"))
    wtps = wtps[:HEADLINE_WTPS]
    labels = doc.get("strategy_labels") or {}

    def lab(s):
        return labels.get(s, s)
    out = {}
    for p, table in perspectives(doc).items():
        h: dict = {}
        for r in table:
            if r.get("status") == "ND" and r.get("ref") is not None:
                pair = f"{lab(r['strategy'])} vs {lab(r['ref'])}"
                h[f"ICER {pair}"] = r.get("icer")
                h[f"incremental cost {pair}"] = r.get("inc_cost")
                h[f"incremental effect {pair}"] = r.get("inc_effect")
            elif r.get("status") not in (None, "ND"):
                h[f"status {lab(r['strategy'])}"] = r.get("status")
        psa_rows = {r.get("wtp"): r for r in _psa_wtp(doc, p)}
        for w in wtps:
            tag = f"at WTP {_fmt(w)}"
            for r in table:
                if isinstance(r.get("cost"), (int, float)) and isinstance(r.get("effect"), (int, float)):
                    h[f"NMB {lab(r['strategy'])} {tag}"] = w * r["effect"] - r["cost"]
            pr = psa_rows.get(w)
            if pr is not None:
                for k, v in pr.items():
                    if k.startswith("ceac."):
                        h[f"P(CE) {lab(k[5:])} {tag}"] = v
                h[f"EVPI {tag}"] = pr.get("evpi")
        out[p] = h
    return out


def _table_of(path: str) -> str:
    """The table a metric belongs to: `base_case.totals[SoC].cost` → `base_case.totals`."""
    head = path.split("[", 1)[0]
    parts = head.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def relative_change(r: MetricDiff) -> float:
    """|new − old| / |old| (inf when old is 0, or for a non-numeric or missing value)."""
    num = (isinstance(r.old, (int, float)) and isinstance(r.new, (int, float))
           and not isinstance(r.old, bool) and not isinstance(r.new, bool))
    if not num:
        return math.inf
    if r.old == 0:
        return 0.0 if r.new == 0 else math.inf
    return abs(r.new - r.old) / abs(r.old)


def review(old: dict, new: dict, abs_tol: float = 1e-9, rel_tol: float = 1e-9, z: float = 4.0) -> dict:
    """Everything `ces diff` reports: changed inputs, headline per perspective, tables added or removed,
    and the changed metrics sorted by relative change (largest first)."""
    rows = diff_results(old, new, abs_tol, rel_tol, z)
    fo, fn = {_table_of(p) for p in flatten(old)}, {_table_of(p) for p in flatten(new)}
    added = sorted(fn - fo)
    removed = sorted(fo - fn)
    gone = set(added) | set(removed)
    changed = [r for r in rows if not r.ok and _table_of(r.path) not in gone]
    changed.sort(key=lambda r: (-relative_change(r), r.path))
    ho, hn = headline(old), headline(new)
    head = {}
    for p in list(ho) + [p for p in hn if p not in ho]:
        a, b = ho.get(p, {}), hn.get(p, {})
        head[p] = [(k, a.get(k), b.get(k)) for k in list(a) + [k for k in b if k not in a]]
    has_inputs = bool(old.get("provenance")) and bool(new.get("provenance"))
    return {"inputs": changed_inputs(old, new) if has_inputs else [], "headline": head, "tables_added": added, "tables_removed": removed,
            "changed": changed, "n_metrics": len(rows) - sum(_table_of(r.path) in gone for r in rows) + len(gone),
            "n_changed": len(changed) + len(gone),
            "has_inputs": has_inputs}
