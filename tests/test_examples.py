"""Every example config runs, and its results are pinned against a stored results file through `ces diff`.

Regenerate a baseline after an intended change with
`ces run configs/NAME.yaml --no-psa -q --json tests/baselines/NAME.json` and explain the change in the commit.
"""

from __future__ import annotations

import pytest

from ces.cli import app
from tests.conftest import CONFIGS, ROOT

EXAMPLES = sorted(p.stem for p in (ROOT / "tests" / "baselines").glob("*.json"))


def test_every_config_has_a_baseline_or_is_covered_elsewhere():
    configs = {p.stem for p in CONFIGS.glob("*.yaml")}
    # flagship: its sections and numbers are checked in tests/test_summary.py
    covered_elsewhere = {"sick_sicker", "hiv_dsa", "cart_lbcl_bia", "flagship"} | set(EXAMPLES)
    assert configs <= covered_elsewhere, configs - covered_elsewhere


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_matches_its_stored_results(runner, name):
    r = runner.invoke(app, ["run", str(CONFIGS / f"{name}.yaml"), "--no-psa", "-q", "--baseline",
                            str(ROOT / "tests" / "baselines" / f"{name}.json")])
    assert r.exit_code == 0, r.output
    assert " 0 changed" in r.output
