"""The CLI package: one module per command, shared options declared alike everywhere, a light import."""

from __future__ import annotations

import subprocess
import sys

import typer.main

from ces.cli import app
from tests.conftest import ROOT

# option -> (its names, is a flag): every command that has the option declares it the same way
SHARED = {
    "--json": (["--json"], False), "--quiet": (["--quiet", "-q"], True), "--strict": (["--strict"], True),
    "--draws": (["--draws"], False), "--seed": (["--seed"], False), "--threads": (["--threads"], False),
    "--out": (["--out"], False), "--plots": (["--plots"], True), "--perspective": (["--perspective"], False),
    "--executor": (["--executor"], False), "--scheduler": (["--scheduler"], False),
    "--max-cycles": (["--max-cycles"], False), "--limit": (["--limit"], False),
}


def _options():
    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():
        for p in cmd.params:
            for opt in p.opts:
                if opt in SHARED:
                    yield name, opt, p


def test_shared_options_are_declared_alike():
    seen = {}
    for command, opt, p in _options():
        names, is_flag = SHARED[opt]
        assert sorted(p.opts) == sorted(names), (command, opt, p.opts)
        assert bool(p.is_flag) == is_flag, (command, opt)
        assert p.help, (command, opt)
        seen.setdefault(opt, set()).add(command)
    # the options the CLI shares are on the commands the docs promise
    assert {"run", "sweep", "dsa", "bia", "price", "evppi"} <= seen["--json"] & seen["--quiet"]
    assert {"run", "sweep", "evppi"} <= seen["--draws"] & seen["--seed"] & seen["--threads"]
    assert {"run", "dsa", "bia"} <= seen["--strict"]
    assert {"run", "sweep"} <= seen["--executor"] & seen["--scheduler"]


def test_one_module_per_command_and_none_too_long():
    pkg = ROOT / "ces" / "cli"
    group = typer.main.get_command(app)
    for name in group.commands:
        assert (pkg / f"{name}.py").is_file(), name
    for f in pkg.glob("*.py"):
        assert len(f.read_text().splitlines()) <= 400, f.name


def test_import_is_light_and_python_m_works():
    """`import ces.cli` (every `ces` start) loads no numerical library and no lower ces layer."""
    code = ("import sys, ces.cli; heavy = ('numpy', 'pandas', 'numba', 'scipy', 'pydantic', 'yaml', 'ces.pipeline', "
            "'ces.report', 'ces.engine', 'ces.modelfile'); print(sorted(m for m in sys.modules if m in heavy))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
    r = subprocess.run([sys.executable, "-m", "ces.cli", "--version"], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("ces "), r.stderr
