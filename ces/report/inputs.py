"""The inputs table: every parameter of a run with its base value, distribution, source and use.

One row per model parameter (after expanding joint entries).  ``base value`` is the parameter
evaluated with the model's own values (no strategy override) at the first cycle; a parameter that
depends on cycle/time/age is marked time-dependent (its value at cycle 1 is shown).  ``source`` is the
parameter's ``source:`` field, else the comment on its YAML line (the model files cite sources there).
``used in`` lists the YAML keys of the model whose expressions name the parameter directly.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ces.engine.evaluate import ParamEvaluator

TIME = {"cycle", "time", "age"}


def _fmt(v) -> str:
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_fmt(x) for x in v[:6])
        return f"[{inner}{', …' if len(v) > 6 else ''}]"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    if isinstance(v, np.ndarray):
        return _fmt(v.tolist())
    return str(v)


def yaml_comment(file: str | None, line: int | None) -> str:
    """The ``# comment`` at the end of a YAML line (empty when none or unreadable)."""
    if not file or not line:
        return ""
    try:
        text = Path(file).read_text(encoding="utf-8").splitlines()[line - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return ""
    quote = None
    for i, ch in enumerate(text):
        if ch in "'\"" and quote in (None, ch):
            quote = None if quote == ch else ch
        elif ch == "#" and quote is None and (i == 0 or text[i - 1] in " \t"):
            return text[i + 1:].strip()
    return ""


def _uses(model) -> dict:
    """parameter → sorted YAML keys (over all strategies) of expressions that name it directly."""
    from ces.engine.model import _curve_exprs

    out: dict = {}

    def add(e):
        if e is None:
            return
        for n in e.names:
            out.setdefault(n, set()).add(str(e.path) if e.path else "?")
    for cs in model.strategies.values():
        for row in cs.rows.values():
            for e in row.values():
                add(e)
        for vals in cs.values.values():
            for e in vals.values():
                add(e)
        for *_, r, _ in cs.trans_rewards:
            for e in r.values():
                add(e)
        for e in list(cs.initial.values()) + list(cs.initial_costs.values()):
            add(e)
        for c in cs.curves.values():
            for e in _curve_exprs(c):
                add(e)
        for costs in cs.curve_costs.values():
            for e in costs.values():
                add(e)
        for d in cs.params.values():
            for n in d.expr.names:
                out.setdefault(n, set()).add(f"parameters.{d.name}")
    for root in (getattr(model, "trees", None) or {}).values():  # decision-tree payoffs and probabilities
        for node in root.walk():
            for e in node.exprs():
                add(e)
    return {k: sorted(v) for k, v in out.items()}


def base_values(model) -> dict:
    """Every model parameter at its base value (model values, cycle 1); arrays for time-dependent ones."""
    ev = ParamEvaluator(model.model_defs, model.functions, model.known)
    return ev, ev.evaluate(model.env(np.array([1.0]), np.array([0.0])))


def inputs_table(run) -> pd.DataFrame:
    model = run.model
    ev, vals = base_values(model)
    uses = _uses(model)
    overrides: dict = {}
    for s, cs in model.strategies.items():
        strat = run.loaded.model.strategies.get(s)
        for name in (strat.parameters if strat is not None else {}):
            d = cs.params[name]
            overrides.setdefault(name, []).append(f"{s}: {d.expr.source if d.expr is not None else ''}"
                                                  + (f" ({d.dist.name})" if d.dist is not None else ""))
    rows = []
    for name, d in model.model_defs.items():
        v = vals.get(name)
        dep = ev.uses.get(name, frozenset())
        if v is None:
            base = None
            note = "depends on residence (tunnel state)"
        else:
            a = np.asarray(v, dtype=float).ravel()
            base = float(a[0]) if a.size and math.isfinite(a[0]) else None
            note = "time-dependent (value at cycle 1)" if dep & TIME else ""
        dist = d.dist
        file, path, line = d.where
        src = d.meta.get("source") or yaml_comment(file, line)
        rows.append({
            "parameter": name,
            "label": d.meta.get("label", ""),
            "base value": base,
            "expression": str(d.expr.source) if d.expr is not None else "",
            "note": note,
            "unit": d.meta.get("unit", ""),
            "distribution": (dist.name + (f" (joint `{d.group}`, column {d.column + 1})" if d.column is not None
                                          else "")) if dist is not None else "",
            "distribution parameters": ", ".join(f"{k}={_fmt(x)}" for k, x in dist.params.items()
                                                 if k not in ("dist",)) if dist is not None else "",
            "source": src,
            "overridden by": "; ".join(overrides.get(name, [])),
            "used in": ", ".join(uses.get(name, [])),
            "yaml": f"{Path(file).name}:{line}" if file else "",
        })
    return pd.DataFrame(rows)
