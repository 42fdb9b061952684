"""Threshold price: the value of a cost parameter at which the ICER equals a WTP.

Total costs are linear in a price parameter p (it enters costs only additively or
multiplied by occupancies), so the incremental cost is ΔC(p) = ΔC(p0) + b·(p − p0) with
b = ΔC(p0 + 1) − ΔC(p0), and ICER = λ  ⇔  ΔC(p*) = λ·ΔE:

    p* = p0 + (λ·ΔE − ΔC(p0)) / b

Two model runs, no search (the caller runs the model: this module only asks for the run at
p0 + 1).  (ΔE does not depend on p; this is checked.)
"""

from __future__ import annotations

from ces.errors import CesError


def price_line(base, rerun, parameter: str, cost_columns: list, strategy: str | None = None,
               comparator: str | None = None, overrides: dict | None = None, error=None) -> dict:
    """ΔC(p0), ΔE and the slope b = ΔC(p0 + 1) − ΔC(p0) for each cost column, from ``base`` (a run
    result with ``overrides``) and one more run, ``rerun(overrides with the parameter at p0 + 1)``
    (the caller's deterministic run of the same config: :func:`ces.pipeline.run` for the headline
    prices of a run, :func:`ces.studies.price.threshold_price` for ``ces price``).

    ``error(key, message)`` builds the exception for a bad strategy, comparator or parameter name
    (default: a CesError naming the command-line flag --key)."""
    from ces.modelfile.names import unknown

    names = list(base.model.strategies)
    s = strategy or names[-1]
    c = comparator or names[0]
    error = error or (lambda key, msg: CesError(f"--{key}: {msg}"))
    for key, x in (("strategy", s), ("comparator", c)):
        if x not in names:
            raise error(key, unknown("strategy", x, names))
    if parameter not in base.model.model_defs:
        raise error("parameter", unknown("parameter", parameter, base.model.model_defs))
    import numpy as np

    effect = base.loaded.model.effect
    p0 = float(np.asarray(base.model.model_defs[parameter].expr.evaluate({"cycle_length": base.model.cycle_years},
                                                                          base.model.functions)).ravel()[0])
    over = dict(overrides or {})
    over["parameters"] = {**over.get("parameters", {}), parameter: p0 + 1.0}
    shifted = rerun(over)

    def deltas(res, col):
        t = res.totals.set_index("strategy")
        if col not in t:
            raise CesError(f"no `{col}` totals (the model has no societal terms)")
        return t.loc[s, col] - t.loc[c, col], t.loc[s, effect] - t.loc[c, effect]
    out = {"parameter": parameter, "base_value": p0, "strategy": s, "comparator": c, "columns": {}}
    for col in cost_columns:
        dc0, de0 = deltas(base, col)
        dc1, de1 = deltas(shifted, col)
        if abs(de1 - de0) > 1e-9 * max(1.0, abs(de0)):
            raise CesError(f"`{parameter}` changes the effects, so it is not a price")
        if dc1 - dc0 == 0:
            raise CesError(f"`{parameter}` does not change the incremental cost of {s} vs {c}")
        out["columns"][col] = {"inc_cost": dc0, "inc_effect": de0, "slope": dc1 - dc0}
    return out


def at_wtp(line: dict, cost_column: str, wtp: float) -> dict:
    """p* = p0 + (λ·ΔE − ΔC(p0)) / b for one cost column of a :func:`price_line`."""
    d = line["columns"][cost_column]
    return {"parameter": line["parameter"], "base_value": line["base_value"], "wtp": wtp,
            "strategy": line["strategy"], "comparator": line["comparator"],
            "threshold_price": line["base_value"] + (wtp * d["inc_effect"] - d["inc_cost"]) / d["slope"],
            "inc_cost": d["inc_cost"], "inc_effect": d["inc_effect"], "slope": d["slope"]}
