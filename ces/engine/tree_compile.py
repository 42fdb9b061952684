"""Compile a `tree:` block (ces.modelfile.tree_schema) into nodes with compiled expressions.

Build-time checks, each a one-line located error (file:line key.path): the root has no `p`; every
branch has one; at most one `rest` per node; constant probabilities in [0, 1] and summing to 1
(within ``ROW_TOL``); a node has `branches` or a `subtree`, not both; known subtrees, no cycle of
subtrees; `enter` only on terminal branches, naming a state (the first state of a partitioned-survival
model); branch overrides (`parameters`, `states`, `curves`) only where the model is entered, without
distributions (those are declared in the model's `parameters`).  Duplicate branch names are refused
by the YAML reader (duplicate key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ces.engine.checks import ROW_TOL  # the tolerance of the Markov rows, for the tree's nodes too
from ces.errors import CesError
from ces.modelfile import limits
from ces.modelfile.expr import compile_expr
from ces.modelfile.units import YEARS_PER_UNIT

HOURS_PER_DAY = 24.0
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]+)\s*$")


@dataclass
class Node:
    """One compiled node: probability (None at the root; ``rest`` flag), payoff expressions, children."""

    key: str  # the branch's key ("root" for the root)
    name: str  # the branch path a/b/c shown in reports and errors
    path: tuple  # YAML key path of the node
    label: str
    p: object = None  # Expr or None
    rest: bool = False
    costs: dict = field(default_factory=dict)  # category -> Expr
    utility: object = None
    qaly: object = None
    duration: object = None  # Expr in years (a unit such as `48 hours` is converted) or None
    duration_text: str = ""  # the duration as written
    children: list = field(default_factory=list)
    enter: str | None = None
    overrides: dict = field(default_factory=dict)  # parameters / states / curves of a terminal that enters
    variant: str | None = None  # inner strategy run from this terminal (set by the front end)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def exprs(self) -> list:
        return [e for e in [self.p, self.utility, self.qaly, self.duration, *self.costs.values()] if e is not None]


def duration_years(value) -> float | None:
    """`48 hours`, `2 weeks`, `1 month`, `1 year` → years (1 day = 1/365.25 year, ces.modelfile.units;
    1 hour = 1/24 day); None when the value is not a number with a unit (then it is an expression in years)."""
    if not isinstance(value, str):
        return None
    m = _DURATION.match(value)
    if not m:
        return None
    unit = m.group(2).lower()
    if unit in ("hour", "hours", "h"):
        return float(m.group(1)) * YEARS_PER_UNIT["day"] / HOURS_PER_DAY
    if unit in YEARS_PER_UNIT:
        return float(m.group(1)) * YEARS_PER_UNIT[unit]
    return None


class TreeCompiler:
    """Compile one strategy's tree; ``locate(path)`` → (file, path, line); ``functions``: expression functions."""

    def __init__(self, loaded, functions: frozenset, tree_path: tuple, model_subtrees: dict, model_path: tuple):
        self.L = loaded
        self.functions = functions
        self.tree_path = tree_path
        self.model_subtrees = model_subtrees  # the model tree's subtrees, visible from strategy trees
        self.model_path = model_path
        self.count = 0  # nodes expanded so far
        self._compiled: dict = {}
        self.max_nodes = limits.current().max_tree_nodes

    def _expr(self, value, path: tuple):
        key = (path, repr(value))  # a subtree used many times is compiled once
        if key not in self._compiled:
            file, p, line = self.L.locate(path)
            self._compiled[key] = compile_expr(value, file=file, path=p, line=line, extra_functions=self.functions)
        return self._compiled[key]

    def compile(self, spec) -> Node:
        if spec.p is not None:
            raise self.L.error(self.tree_path + ("p",), "the root of a tree has no probability `p` (it is reached "
                               "with probability 1)")
        return self._node(spec, "root", "", self.tree_path, own_subtrees=spec.subtrees, stack=())

    def _subtree(self, name: str, own: dict, path: tuple, stack: tuple):
        if name in stack:
            chain = " → ".join(stack[stack.index(name):] + (name,))
            raise self.L.error(path, f"subtree `{name}` refers back to itself (cycle {chain}); a tree cannot loop")
        if name in own:
            return own[name], self.tree_path + ("subtrees", name)
        if name in self.model_subtrees:
            return self.model_subtrees[name], self.model_path + ("subtrees", name)
        known = sorted(set(own) | set(self.model_subtrees))
        raise self.L.error(path, f"unknown subtree `{name}` (subtrees: {', '.join(known) or 'none'})")

    def _node(self, spec, key: str, name: str, path: tuple, own_subtrees: dict, stack: tuple) -> Node:
        L = self.L
        self.count += 1
        if self.count > self.max_nodes:
            file, p, line = L.locate(path)
            limits.check("max_tree_nodes", self.count, "the number of branches of the tree (subtrees expanded)",
                         file=file, path=p, line=line)
        node = Node(key, name or "root", path, spec.label or key)
        if spec.cost is not None:
            node.costs["cost"] = self._expr(spec.cost, path + ("cost",))
        for c, v in spec.costs.items():
            if c in ("qaly", "ly", "total_cost"):
                raise L.error(path + ("costs", c), f"cost category name `{c}` is reserved")
            node.costs[c] = self._expr(v, path + ("costs", c))
        if spec.utility is not None:
            node.utility = self._expr(spec.utility, path + ("utility",))
        if spec.qaly is not None:
            node.qaly = self._expr(spec.qaly, path + ("qaly",))
        if spec.duration is not None:
            years = duration_years(spec.duration)
            node.duration = self._expr(years if years is not None else spec.duration, path + ("duration",))
            node.duration_text = str(spec.duration) if years is not None else f"{spec.duration} y"
        if spec.utility is not None and spec.duration is None:
            raise L.error(path + ("utility",), "a utility needs a `duration` (QALYs = utility × duration); for a "
                          "one-off QALY payoff write `qaly:`")
        if spec.branches and spec.subtree is not None:
            raise L.error(path + ("subtree",), "a node has either `branches` or a `subtree`, not both")
        terminal = not spec.branches and spec.subtree is None
        over = {k: getattr(spec, k) for k in ("parameters", "states", "curves") if getattr(spec, k)}
        if not terminal and spec.enter is not None:
            raise L.error(path + ("enter",), "only a terminal branch (no `branches`, no `subtree`) enters the model")
        if over and spec.enter is None:
            k = next(iter(over))
            raise L.error(path + (k,), f"`{k}` overrides belong to a terminal branch that enters the model "
                          "(`enter: STATE`)")
        for pname, raw in spec.parameters.items():
            if isinstance(raw, dict) and "dist" in raw:
                raise L.error(path + ("parameters", pname), "a branch override cannot carry a distribution; "
                              "declare it (e.g. `p_x_branch: {value: ..., dist: ...}`) in the model's "
                              f"`parameters` and write `{pname}: p_x_branch` here")
        if spec.enter is not None:
            self._check_enter(spec.enter, path + ("enter",))
            node.enter, node.overrides = spec.enter, over
        if spec.subtree is not None:
            sub, spath = self._subtree(spec.subtree, own_subtrees, path + ("subtree",), stack)
            if sub.p is not None:
                raise L.error(spath + ("p",), f"subtree `{spec.subtree}` is reached from `subtree:` with "
                              "probability 1; its root has no `p`")
            child = self._node(sub, spec.subtree, f"{name}/{spec.subtree}".strip("/"), spath, own_subtrees,
                               stack + (spec.subtree,))
            child.p = self._expr(1, spath)
            node.children = [child]
            return node
        for bkey, b in spec.branches.items():
            bpath = path + ("branches", bkey)
            if b.p is None:
                raise L.error(bpath, f"branch `{bkey}` needs a probability `p` (an expression, or `rest` for the "
                              "complement of its siblings)")
            child = self._node(b, bkey, f"{name}/{bkey}".strip("/"), bpath, own_subtrees, stack)
            child.rest = isinstance(b.p, str) and b.p.strip() == "rest"
            child.p = None if child.rest else self._expr(b.p, bpath + ("p",))
            node.children.append(child)
        self._check_constant_probabilities(node)
        return node

    def _check_enter(self, state: str, path: tuple) -> None:
        spec = self.L.model
        if spec.kind == "tree":
            raise self.L.error(path, "a pure decision tree (`kind: tree`) has no model to enter; remove `enter` "
                               "or give the model states")
        if state not in spec.states:
            raise self.L.error(path, f"unknown state `{state}` (states: {', '.join(spec.states)})")
        first = next(iter(spec.states))
        if spec.kind == "psm" and state != first:
            raise self.L.error(path, f"a partitioned-survival model is entered in its first state `{first}` (the "
                               "curves start at 1); end the branch with its own payoff instead, or enter `" + first + "`")

    def _check_constant_probabilities(self, node: Node) -> None:
        rest = [c for c in node.children if c.rest]
        if not node.children:
            return
        if len(rest) > 1:
            raise self.L.error(node.path + ("branches",), f"more than one `rest` branch ({', '.join(c.key for c in rest)})")
        if not all(c.rest or c.p.is_constant for c in node.children):
            return  # checked per draw at run time (ces.engine.tree)
        total = 0.0
        for c in node.children:
            if c.rest:
                continue
            v = float(c.p.evaluate({}))
            if not 0.0 <= v <= 1.0:
                raise self.L.error(c.path + ("p",), f"probability {v:.10g} is outside [0, 1]")
            total += v
        if rest:
            if total > 1.0 + ROW_TOL:
                raise self.L.error(rest[0].path + ("p",), f"`rest` = 1 − {total:.12g} is negative: the other "
                                   "branches sum to more than 1")
        elif abs(total - 1.0) > ROW_TOL:
            raise self.L.error(node.path + ("branches",), f"branch probabilities sum to {total:.12g}, must be 1 "
                               f"within {ROW_TOL:g} (write `rest` for the complement)")


def check_names(e, ok: set) -> None:
    """Every name of a tree expression must be a parameter or a known variable (located error)."""
    import difflib

    for n in sorted(e.names):
        if n not in ok:
            close = difflib.get_close_matches(n, sorted(ok), n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise CesError(f"unknown name `{n}` in expression `{e.source}`{hint}", file=e.file, path=e.path,
                           line=e.line)
