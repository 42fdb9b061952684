"""The README's *Survival fitting* walk runs as written: from a digitised KM curve to a running model.

Each `ces ...` command of the section's bash block (continuation lines joined) is run in order, in a
temporary directory holding copies of `tests/data` and `models`; each must exit 0, and the last must
print the model's incremental analysis.
"""

from __future__ import annotations

import re
import shlex
import shutil

from ces.cli import app
from tests.conftest import ROOT


def _walk_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Survival fitting"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    lines = block.replace("\\\n", " ").splitlines()
    return [shlex.split(ln)[1:] for ln in lines if ln.startswith("ces ")]


def test_readme_survival_fitting_walk_runs(runner, tmp_path, monkeypatch):
    commands = _walk_commands()
    assert len(commands) == 4 and commands[0][:2] == ["fit", "--km"] and commands[-1][0] == "run"
    shutil.copytree(ROOT / "tests" / "data", tmp_path / "tests" / "data")
    shutil.copytree(ROOT / "models", tmp_path / "models")
    monkeypatch.chdir(tmp_path)
    for args in commands:
        r = runner.invoke(app, args)
        assert r.exit_code == 0, (args, r.output)
    assert (tmp_path / "fit" / "os_model.yaml").is_file()
    assert "Incremental analysis" in r.output and "ICER" in r.output
