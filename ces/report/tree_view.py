"""`ces validate`: each strategy's decision tree (docs/tree.md) as an indented tree of branches.

One line per node: its key and label, its probability expression (or `rest`), its one-off payoff
(costs, utility × duration, qaly) and, for a terminal, the state it enters with its overrides, or
`ends`.  Strategies that share the model's tree are listed together.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree


def _src(e) -> str:
    return str(e.source) if e is not None else ""


def node_line(node) -> str:
    """The text of one node (without children)."""
    parts = [f"[bold]{escape(node.key)}[/bold]" + (f" ({escape(node.label)})" if node.label != node.key else "")]
    if node.rest:
        parts.append("p = rest")
    elif node.p is not None and node.name != "root":
        parts.append(f"p = {escape(_src(node.p))}")
    pay = [f"{c}: {escape(_src(e))}" for c, e in node.costs.items()]
    if node.duration is not None:
        u = f"utility {escape(_src(node.utility))} × " if node.utility is not None else ""
        pay.append(f"{u}{escape(node.duration_text)}")
    if node.qaly is not None:
        pay.append(f"qaly: {escape(_src(node.qaly))}")
    if pay:
        parts.append("; ".join(pay))
    if not node.children:
        if node.enter is not None:
            over = ", ".join(f"{k}: {', '.join(v)}" for k, v in node.overrides.items())
            parts.append(f"→ enter {escape(node.enter)}" + (f" ({escape(over)})" if over else ""))
        else:
            parts.append("ends")
    return " · ".join(parts)


def model_shape(spec, m, cycle: str) -> str:
    """The model line's structure: `markov · 3 states · 10 cycles of 1 y`, with ` + decision tree` when a tree
    is in front of the model, or `decision tree` for a pure tree (`kind: tree`)."""
    if spec.kind == "tree":
        return "decision tree"
    tree = " + decision tree" if getattr(m, "trees", None) else ""
    return f"{spec.kind}{tree} · {len(m.states)} states · {m.n_cycles} cycles of {cycle} y"


def print_trees(model, console: Console) -> None:
    """Print every strategy's tree (nothing for a model without trees)."""
    trees = getattr(model, "trees", None) or {}
    groups: dict = {}
    for s, root in trees.items():
        groups.setdefault(root.path, (root, []))[1].append(s)
    for path, (root, strategies) in groups.items():
        title = f"Decision tree `{'.'.join(str(p) for p in path)}` (strategies: {', '.join(strategies)})"
        top = Tree(f"[bold]{escape(title)}[/bold]")

        def add(parent, node):
            for c in node.children:
                add(parent.add(node_line(c)), c)
        add(top.add(node_line(root)), root)
        console.print(top)
