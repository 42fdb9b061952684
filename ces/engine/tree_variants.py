"""The model runs of a tree's terminal branches (ces.engine.tree): one strategy of the inner CohortModel per
distinct (strategy, entry state, overrides), with error messages pointing at the branch's keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from ces.modelfile.loader import Loaded


@dataclass
class TreeLoaded(Loaded):
    """The Loaded of the inner model: a branch's strategy reports its keys at their place in the tree."""

    origins: dict = field(default_factory=dict)  # variant -> (strategy, {key path in the variant: real path})

    def locate(self, path: tuple) -> tuple:
        path = tuple(path)
        if len(path) >= 2 and path[0] == "strategies" and path[1] in self.origins:
            real, keys = self.origins[path[1]]
            rest = path[2:]
            for n in range(len(rest), 0, -1):
                if rest[:n] in keys:
                    return super().locate(keys[rest[:n]] + rest[n:])
            return super().locate(("strategies", real) + rest)
        return super().locate(path)


def overridden(root, variant) -> set:
    """Parameters a terminal overrides for the model it enters (their PSA draws do not apply there)."""
    for node in root.walk():
        if node.variant == variant:
            return set(node.overrides.get("parameters", {}))
    return set()


def plain(v):
    """Overrides as plain data (pydantic patches dumped) for the key of a variant."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if hasattr(v, "model_dump"):
        return v.model_dump(exclude_none=True)
    return v


def variant_spec(base, node, kind: str) -> tuple:
    """The strategy run from a terminal: the strategy's own spec with the branch's overrides and entry state,
    and {key path in the variant: the key's real path} for error messages."""
    from ces.modelfile.schema import StatePatch

    over = node.overrides
    keys: dict = {}
    params = dict(base.parameters)
    for p in over.get("parameters", {}):
        keys[("parameters", p)] = node.path + ("parameters", p)
    params.update(over.get("parameters", {}))
    states = dict(base.states)
    for st, patch in over.get("states", {}).items():
        own = patch.model_dump(exclude_none=True)
        old = states[st].model_dump(exclude_none=True) if st in states else {}
        if "costs" in own and "costs" in old:
            own["costs"] = {**old["costs"], **own["costs"]}
            for c in patch.costs:
                keys[("states", st, "costs", c)] = node.path + ("states", st, "costs", c)
        else:
            for k in own:
                keys[("states", st, k)] = node.path + ("states", st, k)
        if st not in base.states:
            keys[("states", st)] = node.path + ("states", st)
        states[st] = StatePatch(**{**old, **own})
    curves = {c: dict(v) for c, v in base.curves.items()}
    for c, patch in over.get("curves", {}).items():
        curves[c] = {**curves.get(c, {}), **patch}
        for k in patch:
            keys[("curves", c, k)] = node.path + ("curves", c, k)
        if c not in base.curves:
            keys[("curves", c)] = node.path + ("curves", c)
    update = {"parameters": params, "states": states, "curves": curves, "tree": None}
    if kind == "markov":
        update["initial"] = {node.enter: 1}
        keys[("initial",)] = node.path + ("enter",)
    return base.model_copy(update=update), keys

