"""The state-transition diagram of a model as a standalone SVG (rendered with Jinja2, no graphics library).

Layout: the living states in a row (model order), the dead (absorbing) states centred on a second
row.  Markov models: one arrow per transition entry present in any strategy (the union; a self-loop for
staying), labelled with the expression of the first strategy that has it.  Partitioned-survival
models: the states are areas between the partition curves, so arrows show the order PF → PD → dead
implied by the partition (S_1 ≥ S_2 ≥ …), labelled with the curves.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

W, H, GAP, ROW = 130, 46, 70, 150


def _env() -> Environment:
    return Environment(loader=PackageLoader("ces.report", "templates"), autoescape=select_autoescape(["j2", "html"]),
                       trim_blocks=True, lstrip_blocks=True)


def structure(model) -> dict:
    """Nodes and edges of the model: {"nodes": [{name, dead, tunnel}], "edges": [{from, to, label}]}.

    Self-loops (staying) are drawn without a label: their probability is the row's complement.
    """
    spec = model.loaded.model
    nodes = [{"name": s, "dead": bool(st.dead), "tunnel": int(st.max_residence or 0)} for s, st in spec.states.items()]
    edges: dict = {}
    if spec.kind == "psm":
        states = list(spec.states)
        for i, curve in enumerate(spec.partition):
            for j in range(i + 1, len(states)):
                key = (states[i], states[j])
                if j == i + 1 or spec.states[states[j]].dead:
                    edges.setdefault(key, f"below {curve}" if j == i + 1 else "")
    else:
        for cs in model.strategies.values():
            for frm, row in cs.rows.items():
                for to, e in row.items():
                    edges.setdefault((frm, to), str(e.source))
    return {"nodes": nodes, "edges": [{"from": a, "to": b, "label": lab} for (a, b), lab in edges.items()],
            "kind": spec.kind}


def _short(text: str, n: int = 22) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def diagram_svg(struct: dict) -> str:
    """The SVG text of the diagram of :func:`structure`."""
    alive = [n for n in struct["nodes"] if not n["dead"]]
    dead = [n for n in struct["nodes"] if n["dead"]]
    width = max(len(alive), len(dead), 1) * (W + GAP) + GAP
    pos = {}
    for row, group in enumerate((alive, dead)):
        span = len(group) * (W + GAP) - GAP
        x0 = (width - span) / 2
        for i, n in enumerate(group):
            pos[n["name"]] = (x0 + i * (W + GAP), 60 + row * ROW)
    height = 60 + (ROW if dead else 0) + H + 60
    boxes = [{"x": pos[n["name"]][0], "y": pos[n["name"]][1], "name": n["name"], "dead": n["dead"],
              "sub": (f"tunnel ≤ {n['tunnel']} cycles" if n["tunnel"] else ("absorbing" if n["dead"] else ""))}
             for n in struct["nodes"]]
    paths = []
    down = [e for e in struct["edges"] if pos[e["from"]][1] < pos[e["to"]][1]]
    for e in struct["edges"]:
        (x1, y1), (x2, y2) = pos[e["from"]], pos[e["to"]]
        lab = _short(e["label"])
        if e["from"] == e["to"]:
            cx = x1 + W / 2
            d = f"M{cx - 18},{y1} C{cx - 30},{y1 - 45} {cx + 30},{y1 - 45} {cx + 18},{y1}"
            paths.append({"d": d, "label": "", "lx": cx, "ly": y1 - 40})  # staying: the row's complement
        elif y1 == y2:  # same row: arc above when going right, below when going left
            a, b = (x1 + W, x2) if x2 > x1 else (x1, x2 + W)
            sy = y1 + (10 if x2 > x1 else H - 10)
            bend = -45 if x2 > x1 else 45
            mx = (a + b) / 2
            d = f"M{a},{sy} Q{mx},{sy + bend * (1 + abs(x2 - x1) / (W + GAP) / 2)} {b},{sy}"
            paths.append({"d": d, "label": lab, "lx": mx, "ly": sy + bend * 0.75 + (4 if bend > 0 else 0)})
        else:
            into = [x for x in down if x["to"] == e["to"]]
            sx, sy = x1 + W / 2, y1 + H
            tx, ty = x2 + W * (into.index(e) + 1) / (len(into) + 1), y2  # spread the arrowheads
            d = f"M{sx},{sy} L{tx},{ty}"
            paths.append({"d": d, "label": lab, "lx": (sx + tx) / 2 + 6, "ly": (sy + ty) / 2})
    return _env().get_template("diagram.svg.j2").render(width=width, height=height, w=W, h=H, boxes=boxes,
                                                         paths=paths, kind=struct["kind"])
