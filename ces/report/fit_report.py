"""``ces fit`` output: the model-choice tables printed to the terminal and the merged model file.

Formatting only: every number comes from the fit results of :func:`ces.survival.fit_output.run_fit`
(likelihood, AIC/BIC, S(t), RMST, estimates); the runner is :mod:`ces.studies.fit`.
"""

from __future__ import annotations

import math
from pathlib import Path

from ces.errors import CesError


def merged_model(model: Path, block_text: str, time_unit: str | None = None) -> str:
    """The model file with the fitted ``parameters`` and ``curves`` merged in (same names replaced).

    The model is re-serialised, so its comments are not kept: the file says where it came from."""
    import yaml

    from ces.modelfile.yamlio import load_yaml

    data = load_yaml(model).data
    unit = data.get("time_unit", "year")
    if time_unit is not None and unit != time_unit:
        raise CesError(f"the model's curves are in {unit}s (`time_unit: {unit}`) but the data are in "
                       f"{time_unit}s (--time-unit {time_unit}): convert one of them", file=str(model),
                       path="time_unit")
    from ces.engine.psm import CURVE_KEYS

    block = yaml.safe_load(block_text)
    for key in ("parameters", "curves", "fits"):
        if key not in block:
            continue
        sect = data.get(key) or {}
        if not isinstance(sect, dict):
            raise CesError(f"`{key}` must be a mapping", file=str(model), path=key)
        for name, entry in block[key].items():
            old = sect.get(name)
            if key == "curves" and isinstance(old, dict):  # keep the model's curve operations (hr, af, or, ...)
                kept = {k: v for k, v in old.items() if k in CURVE_KEYS and k not in ("dist",) and k not in entry}
                if "cure" in entry:
                    kept.pop("cure_type", None)
                entry = {**entry, **kept}
            sect[name] = entry
        data[key] = sect
    head = f"# {model.name} with curves fitted by `ces fit` merged in (the curves keep their hr/af/or/background/floor; comments of the original not kept)\n"
    return head + yaml.safe_dump(data, sort_keys=False, width=100, default_flow_style=None, allow_unicode=True)


def print_tables(console, res) -> None:
    from rich.table import Table

    from ces.survival.fit_output import estimates_text

    for title, rows, fits in res["tables"]:
        by_label = {f.model.label: f for f in fits}
        tab = Table(title=f"{title}: model choice (sorted by AIC)", title_justify="left")
        for col in ("model", "k", "loglik", "AIC", "BIC", "ΔAIC"):
            tab.add_column(col, justify="left" if col == "model" else "right")
        for r in rows:
            f = by_label.get(r["model"])
            if f is not None:
                tab.add_row(r["model"] + ("" if f.converged else " *"), str(r["k"]), f"{r['loglik']:.4f}",
                            f"{r['AIC']:.2f}", f"{r['BIC']:.2f}", f"{r['dAIC']:.2f}")
        console.print(tab)
        extra = [k for k in rows[0] if k.startswith("S(") or k.startswith("RMST(")]
        tab = Table(title=f"{title}: survival at the --at times and restricted mean", title_justify="left")
        for col in ["model"] + extra:
            tab.add_column(col, justify="left" if col == "model" else "right")
        for r in rows:
            tab.add_row(r["model"], *[f"{r[k]:.4g}" if isinstance(r.get(k), float) and math.isfinite(r[k])
                                      else "" for k in extra])
        console.print(tab)
        tab = Table(title=f"{title}: estimates (SE; 95% CI), flexsurv parameterisation", title_justify="left")
        tab.add_column("model")
        tab.add_column("estimates")
        for f in fits:
            tab.add_row(f.model.label, estimates_text(f))
        console.print(tab)
    console.print("S(t) at the --at years and RMST to --horizon are in the data's time unit "
                  f"({res['time_unit']}); * = Hessian not positive definite (SEs unreliable). Choose by AIC/BIC "
                  "AND by visual fit and plausible extrapolation (NICE DSU TSD 14, TSD 21).")

