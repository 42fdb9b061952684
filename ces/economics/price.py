"""Threshold price: the value of a cost parameter at which the ICER equals a WTP.

Total costs are linear in a price parameter p (it enters costs only additively or
multiplied by occupancies), so the incremental cost is ΔC(p) = ΔC(p0) + b·(p − p0) with
b = ΔC(p0 + 1) − ΔC(p0), and ICER = λ  ⇔  ΔC(p*) = λ·ΔE:

    p* = p0 + (λ·ΔE − ΔC(p0)) / b

Two model runs, no search.  (ΔE does not depend on p; this is checked.)
"""

from __future__ import annotations

from ces.errors import CesError


def threshold_price(path, parameter: str, wtp: float, strategy: str | None = None, comparator: str | None = None,
                    cost_column: str = "cost") -> dict:
    from ces.pipeline import run

    base = run(path, psa=False)
    names = list(base.model.strategies)
    s = strategy or names[-1]
    c = comparator or names[0]
    from ces.spec.names import unknown

    for flag, x in (("--strategy", s), ("--comparator", c)):
        if x not in names:
            raise CesError(f"{flag}: {unknown('strategy', x, names)}")
    if parameter not in base.model.model_defs:
        raise CesError(f"--parameter: {unknown('parameter', parameter, base.model.model_defs)}")
    import numpy as np

    effect = base.loaded.model.effect
    p0 = float(np.asarray(base.model.model_defs[parameter].expr.evaluate({"cycle_length": base.model.cycle_years},
                                                                          base.model.functions)).ravel()[0])

    def deltas(res):
        t = res.totals.set_index("strategy")
        if cost_column not in t:
            raise CesError(f"no `{cost_column}` totals (the model has no societal terms)")
        return t.loc[s, cost_column] - t.loc[c, cost_column], t.loc[s, effect] - t.loc[c, effect]
    dc0, de0 = deltas(base)
    dc1, de1 = deltas(run(path, psa=False, overrides={"parameters": {parameter: p0 + 1.0}}, checks=False))
    if abs(de1 - de0) > 1e-9 * max(1.0, abs(de0)):
        raise CesError(f"`{parameter}` changes the effects, so it is not a price")
    b = dc1 - dc0
    if b == 0:
        raise CesError(f"`{parameter}` does not change the incremental cost of {s} vs {c}")
    return {"parameter": parameter, "base_value": p0, "wtp": wtp, "strategy": s, "comparator": c,
            "threshold_price": p0 + (wtp * de0 - dc0) / b, "inc_cost": dc0, "inc_effect": de0, "slope": b}
