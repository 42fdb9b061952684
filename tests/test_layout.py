"""The package layout: imports only point down the layers, no module over MAX_LINES, every package imports.

The layers (lowest first) are those of the architecture note (docs/architecture.md): a module may
import its own layer or a lower one, never a higher one.  Every ``import`` statement is checked,
module-level or inside a function (lazy), absolute or relative.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CES = ROOT / "ces"
MAX_LINES = 420

# Layer of each top-level part of ``ces`` (a sub-package or a module directly under ces/).
LAYERS = {
    "errors": 0, "__init__": 0, "data": 0, "settings": 0,
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


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in ``source``, at any depth (lazy imports included).

    Relative imports are resolved against ``module`` (a package resolves ``.`` to itself); for
    ``from X import name`` both X and X.name are candidates, so a sub-module imported by name counts."""
    package = module if is_package else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
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


def test_every_module_has_a_docstring():
    missing = [str(p.relative_to(ROOT)) for p in ces_files()
               if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))
               and p.read_text(encoding="utf-8").strip()]
    assert missing == [], "modules without a docstring:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", sorted({module_name(p) for p in ces_files() if p.name == "__init__.py"}))
def test_every_package_imports(name):
    assert importlib.import_module(name).__name__ == name
