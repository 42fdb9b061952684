"""Docs match the tool: every schema block and key documented, no commands that do not exist, the README's
examples run as written."""

from __future__ import annotations

import re

import yaml

from ces.cli import app
from ces.pipeline import run
from ces.modelfile import schema as S
from ces.modelfile.schema_doc import blocks, schema_markdown, undocumented
from tests.conftest import MODELS, ROOT

README = (ROOT / "README.md").read_text()


def test_every_schema_key_has_a_description():
    assert undocumented() == []


def test_every_block_and_key_is_in_docs_schema_md():
    doc = (ROOT / "docs" / "schema.md").read_text()
    assert doc == schema_markdown(), "regenerate: ces schema --markdown > docs/schema.md"
    for root in (S.ModelSpec, S.ConfigSpec):
        for cls in blocks(root):
            sec = doc.split(f"### {cls.__name__}", 1)
            assert len(sec) == 2, f"block {cls.__name__} missing from docs/schema.md"
            body = sec[1].split("\n### ", 1)[0]
            for n, f in cls.model_fields.items():
                assert f"| `{f.alias or n}` |" in body, f"{cls.__name__}.{f.alias or n} undocumented"
    # the blocks the issue found missing
    for name in ("DsaSpec", "BudgetImpactSpec", "IndirectSpec", "PaymentSpec", "SeveritySpec", "EntryReward"):
        assert f"### {name}" in doc


def test_docs_name_only_existing_commands():
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    texts = [README] + [p.read_text() for p in (ROOT / "docs").glob("*.md")] + [
        p.read_text() for p in (ROOT / "ces").rglob("*.py")]
    used = set()
    for t in texts:
        used |= set(re.findall(r"`ces ([a-z]+)\b", t))
    assert used - commands == set(), used - commands


def test_readme_has_no_project_internal_leftovers():
    assert not re.search(r"\bissues? #?\d+", README, re.I)
    assert "seed line" not in README
    # seed references (`NNN:LL`) are explained where the example models are listed
    assert "A seed reference `NNN:LL` points at line LL of evidence note NNN" in README


def _block_after(heading: str, start: str) -> str:
    part = README.split(heading, 1)[1]
    blocks_ = re.findall(r"```yaml\n(.*?)```", part, re.S)
    return next(b for b in blocks_ if b.lstrip().startswith(start))


def test_readme_societal_example_runs_in_a_psm(tmp_path):
    """The README's `indirect:` block and its PSM per-event line, pasted into the LBCL PSM, run as written."""
    indirect = yaml.safe_load(_block_after("## Societal perspective", "indirect:"))
    events = yaml.safe_load(_block_after("## Societal perspective", "entry_rewards:"))
    model = yaml.safe_load((MODELS / "cart_lbcl.yaml").read_text())
    assert model["kind"] == "psm"
    model.update(indirect)
    model.update(events)
    p = tmp_path / "societal.yaml"
    p.write_text(yaml.safe_dump(model, sort_keys=False))
    res = run(p, psa=False)
    t = res.totals.set_index("strategy")
    assert (t["cost.informal_care"] > 0).all() and "societal" in res.perspectives
