"""Shared fixtures: paths, a CLI runner, and a small valid model to mutate."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
CONFIGS = ROOT / "configs"

SMALL_MODEL = """\
ces: 1
title: small test model
kind: markov
cycle: 1 year
horizon: 3 cycles
correction: end
discount: {costs: 0, effects: 0}
parameters:
  p_die: 0.1
  c_well: 100
states:
  Well: {cost: c_well, utility: 1}
  Dead: {dead: true}
transitions:
  Well: {Well: rest, Dead: p_die}
strategies:
  base: {}
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def small_model(tmp_path: Path) -> Path:
    p = tmp_path / "small.yaml"
    p.write_text(SMALL_MODEL)
    return p
