"""The output directory (``--out DIR``): results.json, one CSV per table, an XLSX workbook, manifest.json.

Atomic as a whole: the directory is built in a temporary folder next to DIR, synced to disk
and swapped with DIR in one step (see :mod:`ces.report.atomic`).  An error or a crash leaves
DIR entirely as it was, or entirely this run's: never a mix, and no files of an earlier run.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ces import __version__
from ces.report.atomic import DirTransaction, pause
from ces.report.results_json import dumps, results_document


def tables(run) -> dict:
    """Name → DataFrame of every table of a run (the CSV files and XLSX sheets)."""
    out = {"base_case_totals": run.totals, "base_case_icer": run.icers}
    if len(run.nmb):
        out["base_case_nmb"] = run.nmb
    for key, table in getattr(run, "perspectives", {}).items():
        out[f"base_case_icer_{key}"] = table
    for key, table in getattr(run, "perspective_nmb", {}).items():
        out[f"base_case_nmb_{key}"] = table
    if getattr(run, "spillover_icers", None) is not None:
        out["base_case_icer_caregiver_spillover"] = run.spillover_icers
    if getattr(run, "inventory", None) is not None:
        out["base_case_inventory"] = run.inventory
    if getattr(run, "price", None) is not None:
        out["base_case_threshold_price"] = run.price
    for name, df in run.psa_tables.items():
        out[f"psa_{name}"] = df
    for key, tabs in getattr(run, "psa_perspectives", {}).items():  # e.g. psa_societal_wtp
        for name, df in tabs.items():
            out[f"psa_{key}_{name}"] = df
    for name, df in (run.budget or {}).items():
        out[f"budget_impact_{name}"] = df
    a = getattr(run, "appraisal", None) or {}
    if "c2h" in a:
        out["c2h_bands"], out["c2h_populations"] = a["c2h"]["bands"], a["c2h"]["populations"]
    if "cost_sharing" in a:
        out["cost_sharing"] = a["cost_sharing"]["table"]
    for name, df in (getattr(run, "payers", None) or {}).items():
        if df is not None:
            out[f"payers_{name}"] = df
    trace_rows = []
    for s, r in run.base.results.items():
        for k, occ in enumerate(r.trace[0]):
            trace_rows.append({"strategy": s, "cycle": k, **{st: float(v) for st, v in zip(run.model.states, occ)}})
    out["base_case_trace"] = pd.DataFrame(trace_rows)
    return {name: with_labels(run, df) for name, df in out.items()}


def with_labels(run, df: pd.DataFrame) -> pd.DataFrame:
    """A `label` column (the strategy's `label:`) right after `strategy`, for CSV files and xlsx sheets."""
    from ces.report.console_format import strategy_label

    if "strategy" not in df.columns or "label" in df.columns:
        return df
    df = df.copy()
    df.insert(df.columns.get_loc("strategy") + 1, "label", [strategy_label(run, s) for s in df["strategy"]])
    return df


def manifest(run, seconds: float) -> dict:
    import numba
    import numpy

    from ces.report.provenance import inputs

    read = inputs(run)
    files = {i["role"]: {"path": i["path"], "sha256": i["sha256"]} for i in read if i["role"] in ("config", "model")}
    data = {i["path"]: i["sha256"] for i in read if i["role"] not in ("config", "model")}
    return {
        "ces_version": __version__,
        "numpy_version": numpy.__version__,
        "numba_version": numba.__version__,
        "python_version": platform.python_version(),
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "run_seconds": round(seconds, 3),
        "seed": run.psa.seed if run.psa is not None else None,
        "n_draws": run.psa.n_draws if run.psa is not None else None,
        "files": files,
        "data_files": data,
        "inputs": read,
    }


def write_output_dir(run, out_dir: str | Path, seconds: float, formats=("json", "csv", "xlsx"),
                     plots: bool = False) -> list:
    """Write every requested format into ``out_dir`` as one transaction; returns the file names written.

    The whole directory is built beside ``out_dir`` and swapped in at the end
    (:class:`ces.report.atomic.DirTransaction`): ``out_dir`` holds exactly this run's files.
    """
    names = []
    with DirTransaction(out_dir) as tmp:
        if "json" in formats:
            (tmp / "results.json").write_text(dumps(results_document(run)), encoding="utf-8")
            names.append("results.json")
        tabs = tables(run)
        if "csv" in formats:
            for name, df in tabs.items():
                df.to_csv(tmp / f"{name}.csv", index=False)
                names.append(f"{name}.csv")
        pause("files")
        if "xlsx" in formats:
            from ces.report.workbook import write_workbook

            write_workbook(run, tabs, tmp / "results.xlsx", getattr(run, "dsa", None))
            names.append("results.xlsx")
        from ces.report.figures import run_figures  # each figure drawn once: plots/ files and the report

        figs = run_figures(run, getattr(run, "dsa", None))
        try:
            if plots:
                names += [f"plots/{n}" for n in figs.write(tmp / "plots")]
            (tmp / "manifest.json").write_text(json.dumps(manifest(run, seconds), indent=2) + "\n", encoding="utf-8")
            names.append("manifest.json")
            from ces.report.html import write_report_files  # the one-file HTML report, the same SVGs embedded

            names += write_report_files(run, tmp, results_document(run),
                                        json.loads((tmp / "manifest.json").read_text()), getattr(run, "dsa", None),
                                        figures=figs.svgs())
        finally:
            figs.close()
    return names
