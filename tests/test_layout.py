"""The package layout: imports only point down the layers, no module over MAX_LINES, every package imports.

The layers (lowest first) are those of the architecture note (docs/architecture.md): a module may
import its own layer or a lower one, never a higher one.  Every ``import`` statement is checked,
module-level or inside a function (lazy), absolute or relative.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CES = ROOT / "ces"
MAX_LINES = 420

# Layer of each top-level part of ``ces`` (a sub-package or a module directly under ces/).
LAYERS = {
    "errors": 0, "atomic_file": 0, "user_cache": 0, "__init__": 0, "data": 0, "settings": 0,
    "modelfile": 1,
    "params": 2,
    "survival": 3,
    "engine": 4,
    "economics": 5,
    "analysis": 6,
    "report": 7,
    "pipeline": 8,
    "executors": 9, "bundle": 9, "remote": 9,
    "studies": 10,
    "cli": 11, "__main__": 11,
}


def module_name(path: Path) -> str:
    """Dotted module name of a file under ces/ (``ces/report/__init__.py`` → ``ces.report``)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(dotted: str) -> int | None:
    """Layer of a dotted ``ces`` module name; None outside ``ces``."""
    parts = dotted.split(".")
    if parts[0] != "ces":
        return None
    if len(parts) == 1:
        return LAYERS["__init__"]
    if parts[1] not in LAYERS:
        raise KeyError(f"ces.{parts[1]} has no layer in LAYERS: add it")
    return LAYERS[parts[1]]


def _module_level(tree: ast.Module):
    """The statements run when the module is imported: the body, and what is under its ``if``/``try``."""
    for node in tree.body:
        if isinstance(node, (ast.If, ast.Try)):
            yield from (n for n in ast.walk(node) if not isinstance(n, (ast.FunctionDef, ast.ClassDef)))
        else:
            yield node


def imported_modules(source: str, module: str, is_package: bool, lazy: bool = True) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in ``source``, at any depth (lazy imports included;
    with ``lazy=False`` only those run at import time).

    Relative imports are resolved against ``module`` (a package resolves ``.`` to itself); for
    ``from X import name`` both X and X.name are candidates, so a sub-module imported by name counts."""
    package = module if is_package else module.rpartition(".")[0]
    out = []
    tree = ast.parse(source)
    for node in (ast.walk(tree) if lazy else _module_level(tree)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            out.append((node.lineno, target))
            out += [(node.lineno, f"{target}.{a.name}") for a in node.names if a.name != "*"]
    return out


def upward_imports(path: Path, source: str | None = None) -> list[str]:
    """Every import in ``path`` that points to a higher layer than the module's own."""
    module = module_name(path) if source is None else path.as_posix()
    source = path.read_text(encoding="utf-8") if source is None else source
    is_package = path.name == "__init__.py"
    own = layer_of(module)
    bad = []
    for line, target in imported_modules(source, module, is_package):
        try:
            layer = layer_of(target)
        except KeyError:  # `from ces import name` with a non-module name: ces itself is layer 0
            layer = None
        if layer is not None and layer > own:
            bad.append(f"{module}:{line} imports {target} (layer {layer} > {own})")
    return sorted(set(bad))


def ces_files() -> list[Path]:
    return sorted(CES.rglob("*.py"))


def test_every_top_level_part_has_a_layer():
    parts = {p.stem if p.is_file() else p.name for p in CES.iterdir()
             if (p.suffix == ".py") or (p.is_dir() and (p / "__init__.py").exists())}
    assert sorted(parts - set(LAYERS)) == []


def test_no_import_points_up_a_layer():
    bad = [b for path in ces_files() for b in upward_imports(path)]
    assert bad == [], "imports that point up the layers:\n" + "\n".join(bad)


def test_no_module_over_max_lines():
    big = [f"{p.relative_to(ROOT)}: {n} lines" for p in ces_files()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert big == [], f"modules over {MAX_LINES} lines:\n" + "\n".join(big)


def import_cycles() -> list[list[str]]:
    """Loops of imports run at import time (module level) between ces modules (Tarjan's strongly
    connected components).  Such a loop makes a fresh import fail or depend on which module comes first."""
    files = {module_name(p): p for p in ces_files()}
    graph = {m: sorted({t for _, t in imported_modules(p.read_text(encoding="utf-8"), m, p.name == "__init__.py",
                                                         lazy=False) if t in files and t != m})
             for m, p in files.items()}
    index, low, stack, on, loops = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while not comp or comp[-1] != v:
                comp.append(stack.pop())
                on.discard(comp[-1])
            if len(comp) > 1:
                loops.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return loops


def test_no_import_cycle_at_module_level():
    assert import_cycles() == []


@pytest.mark.parametrize("name", ["ces.modelfile.schema_config", "ces.modelfile.tree_schema",
                                  "ces.modelfile.schema", "ces.survival.fit_yaml", "ces.report.workbook_calc"])
def test_split_modules_import_first_in_a_fresh_process(name):
    """A part of a split module imports on its own, before its siblings (no hidden import-order loop)."""
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_checker_sees_lazy_and_relative_imports():
    """The checker finds an upward import hidden in a function, written relatively, in a low layer."""
    src = ("import math\n"
           "def f():\n"
           "    from ..pipeline import run\n"
           "    from . import mc\n"
           "    return run\n")
    bad = upward_imports(Path("ces.engine.model"), src)
    assert bad == ["ces.engine.model:3 imports ces.pipeline (layer 8 > 4)",
                   "ces.engine.model:3 imports ces.pipeline.run (layer 8 > 4)"]
    assert upward_imports(Path("ces.cli.run"), src) == []  # the same imports from the top layer are fine
    assert imported_modules("from . import x\n", "ces.report", True) == [(1, "ces.report"), (1, "ces.report.x")]
    src = "def f():\n    import ces.a\ntry:\n    import ces.b\nexcept ImportError:\n    pass\n"
    assert imported_modules(src, "ces.x", False, lazy=False) == [(4, "ces.b")]  # the lazy one is not run at import


def test_every_module_has_a_docstring():
    missing = [str(p.relative_to(ROOT)) for p in ces_files()
               if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))
               and p.read_text(encoding="utf-8").strip()]
    assert missing == [], "modules without a docstring:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", sorted({module_name(p) for p in ces_files() if p.name == "__init__.py"}))
def test_every_package_imports(name):
    assert importlib.import_module(name).__name__ == name


# ----------------------------------------------------------------------------- the folder tree of docs/architecture.md
ARCHITECTURE = ROOT / "docs" / "architecture.md"
TREE_BEGIN = "<!-- tree: generated by `python tests/test_layout.py --write` from the module docstrings -->"
TREE_END = "<!-- end of tree -->"

# One line per package (the modules' lines come from their docstrings).
PACKAGES = {
    "data": "reference tables shipped with ces (CSV: life tables, wages, unit costs, norms), each with its source in its header",
    "settings": "country presets (YAML, read by `ces.modelfile.presets`): currency, discount rates, thresholds, rules, with sources",
    "modelfile": "the input language: YAML read safely with line maps, the schema (pydantic), the safe expression "
                 "language, units, name checks, data paths and size limits",
    "params": "parameter definitions, the one registry of PSA distributions, seeded chunk-invariant sampling, "
              "look-up tables",
    "survival": "the one registry of parametric survival families (flexsurv parameterisations), curve operations, "
                "life tables, Kaplan–Meier, Guyot reconstruction, maximum-likelihood fits",
    "engine": "the cohort model: compiled arrays, the numba kernels (Markov trace, rewards), the partitioned-survival "
              "trace, decision trees, conventions, checks, the deterministic and PSA runs",
    "economics": "indirect (societal) cost terms, perspectives, thresholds, severity and verdicts, appraisal, Japan's "
                 "C2H and cost sharing, payer shares, threshold price",
    "analysis": "pure functions over results: ICER with dominance, NMB, PSA tables, EVPPI and other VOI, budget "
                "impact, payment models, pricing rules, sanity warnings, result diffs",
    "report": "rendering only: console tables, results JSON, CSV/XLSX outputs, the HTML report, figures, provenance",
    "studies": "analyses that run the pipeline many times: DSA, sweeps, threshold price, EVPPI, survival fits",
    "cli": "the typer app: one module per command; parse flags, call the pipeline or a study, print, exit codes",
}

_NO_STOP = ("e.g", "i.e", "al", "cf", "vs", "approx")


def first_sentence(doc: str) -> str:
    """The first sentence of a docstring's first paragraph (ends at `.` or `;` outside brackets and code)."""
    text = " ".join((doc or "").strip().split("\n\n")[0].split())
    depth, code = 0, False
    for i, ch in enumerate(text):
        if ch == "`":
            code = not code
        elif not code and ch in "([{":
            depth += 1
        elif not code and ch in ")]}":
            depth = max(0, depth - 1)
        elif not code and depth == 0 and ch in ".;" and (i + 1 == len(text) or text[i + 1] == " "):
            if not text[:i].lower().endswith(_NO_STOP):
                text = text[: i + 1]
                break
    text = re.sub(r":\w+:`~?([^`]+)`", lambda m: "`" + m.group(1) + "`", text)  # :mod:`x` → `x`
    return text.replace("``", "`").removesuffix(";").rstrip(" ,:") + ("." if text.endswith(";") else "")


def _docstring_only(path: Path) -> bool:
    """A package ``__init__.py`` with nothing but its docstring (the package's line describes it)."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return path.name == "__init__.py" and len(body) <= 1 and all(isinstance(n, ast.Expr) for n in body)


def _tree_entries() -> list[tuple[tuple, str]]:
    """(path parts under ces/, description) of every package and module, top level ordered by layer.

    Data folders (``data/``, ``settings/``) are listed without their files; an ``__init__.py`` that
    holds only a docstring is left out (its package's line says the job)."""
    out = []

    def key(p: Path):
        name = p.stem if p.is_file() else p.name
        return (LAYERS.get(name, 99), p.is_dir(), name)

    def walk(folder: Path, parts: tuple):
        items = [p for p in folder.iterdir() if (p.suffix == ".py" and not _docstring_only(p))
                 or (p.is_dir() and ((p / "__init__.py").exists() or (not parts and p.name in LAYERS)))]
        for p in sorted(items, key=key if not parts else (lambda p: (p.is_dir(), p.name))):
            if p.is_dir():
                out.append((parts + (p.name + "/",), PACKAGES.get(p.name, "")))
                if (p / "__init__.py").exists():
                    walk(p, parts + (p.name + "/",))
            else:
                out.append((parts + (p.name,), first_sentence(ast.get_docstring(ast.parse(p.read_text("utf-8"))))))
    walk(CES, ())
    return out


def architecture_tree() -> str:
    """The Markdown folder tree of ces/ (a nested list), one line per package and module."""
    lines = ["- `ces/`"]
    for parts, desc in _tree_entries():
        layer = f" (layer {LAYERS[parts[0].rstrip('/').removesuffix('.py')]})" if len(parts) == 1 else ""
        lines.append("  " * len(parts) + f"- `{parts[-1]}`{layer}: {desc}")
    return "\n".join(lines)


def tree_in_doc(text: str) -> list[str]:
    """Paths (``ces/a/b.py``) listed in the tree block of docs/architecture.md."""
    block = text.split(TREE_BEGIN, 1)[1].split(TREE_END, 1)[0]
    paths, stack = [], []
    for line in block.splitlines():
        m = re.match(r"^( *)- `([^`]+)`", line)
        if not m:
            continue
        depth = len(m.group(1)) // 2
        stack = stack[:depth] + [m.group(2)]
        paths.append("".join(stack))
    return paths


def test_architecture_tree_lists_every_module():
    """docs/architecture.md lists every package and module under ces/, and nothing that is gone."""
    listed = set(tree_in_doc(ARCHITECTURE.read_text(encoding="utf-8")))
    on_disk = {"ces/"} | {"ces/" + "".join(parts) for parts, _ in _tree_entries()}
    hint = " (regenerate: python tests/test_layout.py --write)"
    assert sorted(on_disk - listed) == [], "modules missing from docs/architecture.md" + hint
    assert sorted(listed - on_disk) == [], "docs/architecture.md lists modules that do not exist" + hint


def test_every_module_says_its_job():
    empty = [parts for parts, desc in _tree_entries() if len(desc.strip()) < 12]
    assert empty == []


def test_tree_parser_and_first_sentence():
    doc = f"x\n{TREE_BEGIN}\n- `ces/`\n  - `a/`: A\n    - `b.py`: B\n  - `c.py`: C\n{TREE_END}\n"
    assert tree_in_doc(doc) == ["ces/", "ces/a/", "ces/a/b.py", "ces/c.py"]
    assert first_sentence("Cost shares (e.g. China's tiers; see :mod:`ces.x`). More.\n\nNext.") == \
        "Cost shares (e.g. China's tiers; see `ces.x`)."
    assert first_sentence("Guyot et al. reconstruction; then more") == "Guyot et al. reconstruction."


if __name__ == "__main__":  # python tests/test_layout.py [--write]: print or regenerate the tree of docs/architecture.md
    if "--write" not in sys.argv:
        print(architecture_tree())
    else:
        text = ARCHITECTURE.read_text(encoding="utf-8")
        head, rest = text.split(TREE_BEGIN, 1)
        tail = rest.split(TREE_END, 1)[1]
        ARCHITECTURE.write_text(head + TREE_BEGIN + "\n\n" + architecture_tree() + "\n\n" + TREE_END + tail,
                                encoding="utf-8")
