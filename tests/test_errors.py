"""Bad input: a one-line error naming the file, the YAML path (and line), exit code 2, no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ces.cli import app
from tests.conftest import SMALL_MODEL


def _mutate(old: str, new: str) -> str:
    assert old in SMALL_MODEL, old
    return SMALL_MODEL.replace(old, new)


# (case id, model text, expected fragments of the message)
CASES = [
    ("broken-yaml", "ces: 1\nstates: [a, b\n", ["invalid YAML", "small.yaml:"]),
    ("not-a-mapping", "- 1\n- 2\n", ["top level"]),
    ("missing-version", SMALL_MODEL.replace("ces: 1\n", ""), ["missing `ces: 1`"]),
    ("wrong-version", SMALL_MODEL.replace("ces: 1", "ces: 2"), ["ces", "expected 1"]),
    ("unknown-top-key", _mutate("horizon: 3 cycles", "horizon: 3 cycles\nhorizn: 4"),
     ["unknown key `horizn`", "did you mean `horizon`", "small.yaml:6"]),
    ("unknown-state-key", _mutate("Well: {cost: c_well, utility: 1}", "Well: {cost: c_well, utilty: 1}"),
     ["unknown key `utilty`", "states.Well.utilty", "did you mean `utility`"]),
    ("wrong-type", _mutate("discount: {costs: 0, effects: 0}", "discount: {costs: abc, effects: 0}"),
     ["discount.costs", "abc"]),
    ("bool-expression", _mutate("utility: 1}", "utility: true}"), ["states.Well.utility"]),
    ("unknown-distribution", _mutate("p_die: 0.1", "p_die: {value: 0.1, dist: betta, alpha: 1, beta: 9}"),
     ["betta", "parameters.p_die"]),
    ("unknown-name", _mutate("Dead: p_die}", "Dead: p_dei}"), ["unknown name `p_dei`", "did you mean `p_die`",
                                                              "transitions.Well.Dead"]),
    ("dependency-cycle", _mutate("p_die: 0.1\n  c_well: 100", "p_die: c_well / 1000\n  c_well: p_die * 1000"),
     ["dependency cycle", "p_die", "c_well"]),
    ("probability-out-of-range", _mutate("p_die: 0.1", "p_die: 1.2"),
     ["outside [0, 1]", "strategy `base`", "Well"]),
    ("row-not-summing", _mutate("Well: {Well: rest, Dead: p_die}", "Well: {Well: 0.5, Dead: p_die}"),
     ["sums to 0.6", "row `Well`", "transitions.Well"]),
    ("negative-cycle", _mutate("cycle: 1 year", "cycle: -1 year"), ["cycle", "positive"]),
    ("state-missing-from-transitions", _mutate("  Dead: {dead: true}", "  Sick: {cost: 1, utility: 0.5}\n  Dead: {dead: true}"),
     ["state `Sick` has no transition row"]),
    ("attribute-access", _mutate("Dead: p_die}", "Dead: p_die.__class__}"), ["attribute", "transitions.Well.Dead"]),
    ("import", _mutate("p_die: 0.1", "p_die: __import__('os')"), ["parameters.p_die"]),
    ("unknown-target-state", _mutate("Dead: p_die}", "Daed: p_die}"), ["unknown state `Daed`"]),
    ("two-rest", _mutate("Dead: p_die}", "Dead: rest}"), ["more than one `rest`"]),
    ("duplicate-key", _mutate("c_well: 100", "c_well: 100\n  c_well: 200"), ["duplicate key `c_well`"]),
    ("bad-horizon-unit", _mutate("horizon: 3 cycles", "horizon: 3 parsecs"), ["horizon", "parsecs"]),
    ("strategy-unknown-param", _mutate("base: {}", "base: {parameters: {p_dye: 0.2}}"),
     ["unknown parameter `p_dye`", "strategies.base.parameters.p_dye"]),
    ("missing-table", _mutate("parameters:", "tables:\n  lt: {file: nowhere.csv, value: qx}\nparameters:"),
     ["nowhere.csv", "not found", "tables.lt.file"]),
    ("invalid-beta", _mutate("p_die: 0.1", "p_die: {value: 0.1, dist: beta, mean: 1.5, sd: 0.1}"),
     ["parameters.p_die"]),
    ("dead-utility", _mutate("Dead: {dead: true}", "Dead: {dead: true, utility: 0.3}"), ["dead state"]),
    ("age-without-start-age", _mutate("c_well: 100", "c_well: 100 * age"), ["start_age"]),
    ("negative-discount", _mutate("discount: {costs: 0, effects: 0}", "discount: {costs: -0.03, effects: 0}"),
     ["discount.costs"]),
    ("unknown-function", _mutate("p_die: 0.1", "p_die: open('x')"), ["open", "parameters.p_die"]),
    ("subscript", _mutate("p_die: 0.1", "p_die: c_well[0]"), ["parameters.p_die"]),
    ("unknown-correction", _mutate("correction: end", "correction: halfcycle"), ["correction", "halfcycle"]),
    ("self-transition-reward", _mutate("strategies:", "transition_rewards:\n  - {from: Well, to: Well, cost: 5}\nstrategies:"),
     ["two different states"]),
    ("flow-mapping-comma", _mutate("Dead: p_die}", "Dead: if_else(1 > 0, p_die, 0)}"), ["quote expressions"]),
]


@pytest.mark.parametrize("case,text,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_model_gives_one_line_error(runner, tmp_path: Path, case, text, fragments):
    p = tmp_path / "small.yaml"
    p.write_text(text)
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["run", str(p), "--json", str(out)])
    msg = result.stderr.strip()
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output and "Traceback" not in msg
    assert len(msg.splitlines()) == 1, msg
    assert msg.startswith("error: ") and "small.yaml" in msg
    for frag in fragments:
        assert frag in msg, (frag, msg)
    assert not out.exists()  # no partial output


def test_missing_file(runner, tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml: file not found" in result.stderr


def test_error_line_numbers_point_at_the_key(runner, tmp_path):
    p = tmp_path / "small.yaml"
    p.write_text(_mutate("Dead: p_die}", "Dead: p_dei}"))
    msg = runner.invoke(app, ["run", str(p)]).stderr
    line = int(re.search(r"small\.yaml:(\d+)", msg).group(1))
    assert "p_dei" in p.read_text().splitlines()[line - 1]


def test_config_errors_point_at_the_config(runner, tmp_path, small_model):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"ces: 1\nmodel: {small_model.name}\nsettings:\n  horizon: 3 parsecs\n")
    msg = runner.invoke(app, ["run", str(cfg)]).stderr
    assert "cfg.yaml:4 settings.horizon" in msg
    cfg.write_text("ces: 1\nmodel: missing.yaml\n")
    r = runner.invoke(app, ["run", str(cfg)])
    assert r.exit_code == 2 and "model file `missing.yaml` not found" in r.stderr
    cfg.write_text(f"ces: 1\nmodel: {small_model.name}\nsettings: {{horizont: 3}}\n")
    r = runner.invoke(app, ["run", str(cfg)])
    assert r.exit_code == 2 and "unknown setting `horizont`" in r.stderr
    cfg.write_text(f"ces: 1\nmodel: {small_model.name}\nstrategies: [base, other]\n")
    r = runner.invoke(app, ["run", str(cfg)])
    assert r.exit_code == 2 and "unknown strategy `other`" in r.stderr


def test_expression_never_reaches_eval(tmp_path, monkeypatch):
    """Model expressions are compiled from the ast whitelist; eval/exec are never called by the pipeline."""
    import builtins

    from ces.pipeline import run

    p = tmp_path / "small.yaml"
    p.write_text(_mutate("p_die: 0.1", "p_die: exp(log(0.1)) * if_else(1 > 0, 1, 0)"))
    expected = run(p).totals  # warm-up: imports and numba kernels loaded outside the patch

    def boom(*a, **k):
        raise AssertionError("eval/exec called")
    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    got = run(p).totals
    assert got["ly"].iloc[0] == expected["ly"].iloc[0]
    assert got["ly"].iloc[0] == pytest.approx(0.9 + 0.81 + 0.729, rel=1e-12)
