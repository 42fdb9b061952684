"""Docs match the tool: every schema block and key documented, no commands that do not exist, the documented
examples run as written, every relative link resolves, and the README stays a quick start that links the reference
in docs/."""

from __future__ import annotations

import re
import shutil

import yaml

from ces.cli import app
from ces.pipeline import run
from ces.modelfile import schema as S
from ces.modelfile.schema_doc import blocks, schema_markdown, undocumented
from tests.conftest import MODELS, ROOT

README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
DOC_PAGES = sorted(DOCS.glob("*.md"))


def _doc(name: str) -> str:
    return (DOCS / name).read_text()


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


def test_docs_have_no_project_internal_leftovers():
    for path in [ROOT / "README.md", *DOC_PAGES]:
        text = path.read_text()
        assert not re.search(r"\bissues? #?\d+", text, re.I), path.name
        assert "seed line" not in text, path.name
    # seed references (`NNN:LL`) are explained where the example models are listed
    assert "A seed reference `NNN:LL` points at line LL of evidence note NNN" in _doc("models.md")
    # ... and the README, which lists the examples without them, does not use them
    assert not re.search(r"\(\d{3}:\d+", README)


def _block_after(text: str, heading: str, start: str) -> str:
    part = text.split(heading, 1)[1]
    blocks_ = re.findall(r"```yaml\n(.*?)```", part, re.S)
    return next(b for b in blocks_ if b.lstrip().startswith(start))


def test_societal_example_runs_in_a_psm(tmp_path):
    """The `indirect:` block and its PSM per-event line of docs/perspectives.md, pasted into the LBCL PSM, run as
    written."""
    doc = _doc("perspectives.md")
    indirect = yaml.safe_load(_block_after(doc, "## Societal perspective", "indirect:"))
    events = yaml.safe_load(_block_after(doc, "## Societal perspective", "entry_rewards:"))
    model = yaml.safe_load((MODELS / "cart_lbcl.yaml").read_text())
    assert model["kind"] == "psm"
    model.update(indirect)
    model.update(events)
    p = tmp_path / "societal.yaml"
    shutil.copytree(MODELS / "tables", tmp_path / "tables")  # the model's look-up tables (EQ-5D norms)
    shutil.copytree(MODELS / "data", tmp_path / "data")  # its fitted curves' bootstrap replicates
    p.write_text(yaml.safe_dump(model, sort_keys=False))
    res = run(p, psa=False)
    t = res.totals.set_index("strategy")
    assert (t["cost.informal_care"] > 0).all() and "societal" in res.perspectives


def _anchor(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces to `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    found, seen, code = set(), {}, False
    for line in text.splitlines():
        if line.startswith("```"):
            code = not code
        m = None if code else re.match(r"#{1,6} (.*)", line)
        if m:
            a = _anchor(m.group(1))
            n = seen.get(a, 0)
            seen[a] = n + 1
            found.add(a if n == 0 else f"{a}-{n}")
    return found


def _links(text: str) -> list[str]:
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # links inside code blocks are not links
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_every_relative_link_resolves():
    """Every relative link (and its #anchor) in README.md and docs/*.md points at a file (and heading) that exists."""
    bad = []
    for path in [ROOT / "README.md", *DOC_PAGES]:
        links = _links(path.read_text())
        for link in links:
            if re.match(r"[a-z]+:", link):  # http(s), mailto, data: URIs
                continue
            target, _, anchor = link.partition("#")
            dest = (path.parent / target).resolve() if target else path
            if not dest.exists():
                bad.append(f"{path.name}: {link} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest.read_text()):
                bad.append(f"{path.name}: {link} (no such heading)")
    assert bad == []


def test_link_checker_catches_a_broken_link(tmp_path):
    """The link check above can fail: a missing file and a missing heading are both found."""
    page = tmp_path / "p.md"
    page.write_text("# Title\n\n## A `b` (c)\n[ok](#a-b-c) [gone](missing.md) [bad](#nope) `[code](x.md)`\n")
    links = _links(page.read_text())
    assert links == ["#a-b-c", "missing.md", "#nope"]
    assert "a-b-c" in _anchors(page.read_text()) and "nope" not in _anchors(page.read_text())
    assert not (tmp_path / "missing.md").exists()


def test_readme_is_a_quick_start():
    """The README opens with the two fresh-machine commands, then the tour, the commands, the model library and
    links to the reference; the reference itself lives in docs/."""
    first_block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    assert README.index("```bash") < README.index("\n## ")
    assert [ln.split()[:2] for ln in first_block.splitlines()] == [["make", "run"], ["make", "test"]]
    assert all("#" in ln for ln in first_block.splitlines())  # each says what it does
    sections = re.findall(r"^## (.*)$", README, re.M)
    for name in ("What `make run` prints", "Commands", "Model library", "Reference"):
        assert name in sections
    assert sections.index("What `make run` prints") < sections.index("Commands") < sections.index("Model library")
    assert len(README.splitlines()) <= 200
    # every command has a row in the README's table, and its link
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    table = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    for cmd in commands:
        row = next((ln for ln in table.splitlines() if ln.startswith(f"| `ces {cmd}")), None)
        assert row is not None and "](docs/" in row, cmd
    # every docs page is linked from the index
    index = _doc("index.md")
    for page in DOC_PAGES:
        if page.name != "index.md":
            assert f"]({page.name})" in index, page.name


# Where the reference moved from the README: each page keeps its sections (a page that loses one fails).
MOVED = {
    "tour.md": ["1. Write a model", "2. Run it", "3. Read the output", "4. Put analysis settings in a config",
                "5. Add uncertainty (PSA)"],
    "outputs.md": ["The first screen (`ces run` summary)", "Results JSON", "Dossier outputs (`results.xlsx`, `report.html`)"],
    "modelfile.md": ["Expressions", "Conventions"],
    "models.md": ["Validation", "Model library (cell and gene therapies)"],
    "survival.md": ["Partitioned survival", "Other curve and event keys", "Survival fitting (`ces fit`)"],
    "perspectives.md": ["Societal perspective (`indirect:`)", "Perspectives"],
    "countries.md": ["Country settings, severity and verdicts", "Severity norms", "Country rules"],
    "checks.md": ["Every name is checked", "Sanity warnings", "Provenance"],
    "diff.md": ["`ces diff` for reviewers"],
    "sweep.md": ["One PSA, every WTP", "Batch: configs × grid points"],
}
# a phrase from the body of each page that has no sub-sections
PHRASES = {
    "commands.md": "`ces --version` prints the version",
    "psa.md": "Method-of-moments forms (`mean, sd`) follow Briggs, Claxton & Sculpher",
    "voi.md": "regression method of Strong, Oakley & Brennan",
    "performance.md": "`make bench`",
    "limits.md": "The output directory is one transaction.",
    "cluster.md": "What travels to the workers",
    "dsa.md": "ICER = ΔC/ΔE of `strategy` vs `comparator`",
    "budget_impact.md": "Uptake ramp",
    "payments.md": "annuity-due",
    "architecture.md": "`ces/modelfile/`",
    "conventions.md": "Key facts",
    "diff.md": "GitLab CI",
}


def test_reference_pages_keep_their_sections():
    for page, headings in MOVED.items():
        found = re.findall(r"^#{2,6} (.*)$", _doc(page), re.M)
        for h in headings:
            assert h in found, f"docs/{page}: section {h!r} missing"
    for page, phrase in PHRASES.items():
        assert phrase in _doc(page), f"docs/{page}: {phrase!r} missing"
