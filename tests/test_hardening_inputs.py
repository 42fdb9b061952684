"""Bad input, as an analyst or an attacker would write it: every case is exit 2, one stderr line that
names the file and the key path (or the flag), no traceback, and nothing written.

Cases cover the classes of issue 13: YAML (nesting, aliases, tags, YAML 1.1 booleans), expression
arithmetic, size limits, tables and data paths, output paths, command-line flags.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ces.cli import app
from tests.conftest import SMALL_MODEL

CFG = "ces: 1\nmodel: small.yaml\n"
TUNNEL = SMALL_MODEL.replace("Well: {cost: c_well, utility: 1}", "Well: {cost: c_well, utility: 1, max_residence: 3}")
TABLE_MODEL = SMALL_MODEL.replace("parameters:", "tables:\n  lt: {file: TABLE, value: qx}\nparameters:") \
    .replace("Dead: p_die}", "Dead: lt(cycle)}")
AGE_TABLE = SMALL_MODEL.replace("parameters:", "start_age: 50\nsex: SEX\ntables:\n  lt: {file: lt.csv, columns: "
                                "{male: m, female: f}}\nparameters:").replace("Dead: p_die}", "Dead: lt(age)}")
PSM = (Path(__file__).resolve().parent.parent / "models" / "trastuzumab_psm.yaml").read_text()
MIXTURE = (Path(__file__).resolve().parent.parent / "models" / "ciltacel_mm.yaml").read_text()
EMPIRICAL = SMALL_MODEL.replace("p_die: 0.1", "p_die: {value: 0.1, dist: empirical, file: DRAWS, column: p}")


def _mut(old: str, new: str, base: str = SMALL_MODEL) -> str:
    assert old in base, old
    return base.replace(old, new)


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["ces: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


# id, files {name: text} (the run target is the first), extra CLI args, fragments expected in the message
CASES = [
    # --- YAML --------------------------------------------------------------------------------------------------
    ("yaml-deep-nesting", {"small.yaml": "ces: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n"}, [], ["nested deeper"]),
    ("yaml-deep-mapping", {"small.yaml": "ces: 1\nx: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"}, [],
     ["nested deeper"]),
    ("yaml-recursive-alias", {"small.yaml": "ces: 1\na: &a [1, *a]\n"}, [], ["recursive alias", "a[1]"]),
    ("yaml-alias-bomb", {"small.yaml": _bomb()}, [], ["max_yaml_nodes", "aliases"]),
    ("yaml-bad-float-tag", {"small.yaml": _mut("p_die: 0.1", "p_die: !!float abc")}, [], ["!!float", "small.yaml:9"]),
    ("yaml-bad-int-tag", {"small.yaml": _mut("c_well: 100", "c_well: !!int 1.5x")}, [], ["!!int", "small.yaml:10"]),
    ("yaml-python-tag", {"small.yaml": _mut("c_well: 100", "c_well: !!python/object/apply:os.system [ls]")}, [],
     ["invalid YAML", "small.yaml:10"]),
    ("yaml-bad-timestamp", {"small.yaml": _mut("c_well: 100", "c_well: !!timestamp nope")}, [], ["!!timestamp"]),
    ("yaml-bad-binary", {"small.yaml": _mut("c_well: 100", "c_well: !!binary '%%%'")}, [], ["small.yaml:10"]),
    ("yaml-bool-key-on", {"small.yaml": _mut("c_well: 100", "c_well: 100\n  on: 2")}, [],
     ["`on`", "boolean", "quote the name", "parameters.on"]),
    ("yaml-bool-key-yes-state", {"small.yaml": _mut("  Dead: {dead: true}", "  yes: {cost: 1}\n  Dead: {dead: true}")},
     [], ["`yes`", "quote the name", "states.yes"]),
    ("yaml-bool-key-off-strategy", {"small.yaml": _mut("base: {}", "base: {}\n  off: {}")}, [],
     ["`off`", "quote", "strategies.off"]),
    ("yaml-not-utf8", {"small.yaml": b"ces: 1\ntitle: \xff\xfe\n"}, [], ["not UTF-8"]),
    ("yaml-too-large", {"small.yaml": SMALL_MODEL}, ["--limit", "max_file_mb=0.0001"], ["max_file_mb"]),
    ("yaml-nan-number", {"small.yaml": _mut("p_die: 0.1", "p_die: .nan")}, [], ["NaN", "parameters.p_die"]),
    # --- expressions -----------------------------------------------------------------------------------------
    ("expr-div-zero", {"small.yaml": _mut("c_well: 100", "c_well: 100 / 0")}, [],
     ["division or modulo by zero", "100 / 0", "parameters.c_well"]),
    ("expr-mod-zero", {"small.yaml": _mut("c_well: 100", "c_well: 100 % 0")}, [], ["by zero", "parameters.c_well"]),
    ("expr-floordiv-zero", {"small.yaml": _mut("c_well: 100", "c_well: 100 // (p_die - 0.1)")}, [],
     ["by zero", "parameters.c_well"]),
    ("expr-huge-power", {"small.yaml": _mut("c_well: 100", "c_well: 10 ** 10 ** 10")}, [],
     ["overflow", "parameters.c_well"]),
    ("expr-int-literal-beyond-float", {"small.yaml": _mut("c_well: 100", "c_well: " + "9" * 400)}, [],
     ["beyond the float range", "parameters.c_well"]),
    ("expr-int-literal-in-string", {"small.yaml": _mut("c_well: 100", "c_well: '2 * " + "9" * 400 + "'")}, [],
     ["beyond the float range", "parameters.c_well"]),
    ("expr-strategy-div-zero", {"small.yaml": _mut("c_well: 100", "c_well: 100 / d\n  d: 1")
                                .replace("base: {}", "base: {}\n  other: {parameters: {d: 0}}")}, [],
     ["by zero", "strategy `other`"]),
    ("expr-nan-log", {"small.yaml": _mut("c_well: 100", "c_well: log(-1)")}, [], ["NaN", "parameters.c_well"]),
    ("expr-nan-sqrt-time", {"small.yaml": _mut("Well: {cost: c_well,", "Well: {cost: sqrt(1 - cycle),")}, [],
     ["NaN", "cycle 2", "strategy `base`", "states.Well.cost"]),
    ("expr-inf-by-cycle", {"small.yaml": _mut("Well: {cost: c_well,", "Well: {cost: c_well / (cycle - 1),")}, [],
     ["inf", "cycle 1", "states.Well.cost"]),
    ("expr-complex-power", {"small.yaml": _mut("c_well: 100", "c_well: (-8) ** 0.5")}, [],
     ["no real value", "parameters.c_well"]),
    ("expr-exp-overflow", {"small.yaml": _mut("c_well: 100", "c_well: exp(1000)")}, [],
     ["inf", "parameters.c_well"]),
    ("expr-deep-unary", {"small.yaml": _mut("c_well: 100", "c_well: " + "-" * 300 + "1")}, [],
     ["nested deeper", "max_expr_depth", "parameters.c_well"]),
    ("expr-deep-parens", {"small.yaml": _mut("c_well: 100", "c_well: '" + "(" * 250 + "1" + ")" * 250 + "'")}, [],
     ["parameters.c_well"]),
    ("expr-depth-limit-lowered", {"small.yaml": _mut("c_well: 100", "c_well: 1 + 2 + 3 + 4")},
     ["--limit", "max_expr_depth=2"], ["max_expr_depth", "parameters.c_well"]),
    # --- limits -------------------------------------------------------------------------------------------------
    ("limit-horizon-billion", {"small.yaml": _mut("horizon: 3 cycles", "horizon: 1000000000 cycles")}, [],
     ["max_cycles", "--max-cycles", "horizon"]),
    ("limit-horizon-flag", {"small.yaml": SMALL_MODEL}, ["--max-cycles", "2"], ["max_cycles", "horizon"]),
    ("limit-horizon-config", {"cfg.yaml": CFG + "limits: {max_cycles: 2}\n", "small.yaml": SMALL_MODEL}, [],
     ["max_cycles", "small.yaml", "horizon"]),
    ("limit-horizon-infinite-years", {"small.yaml": _mut("horizon: 3 cycles", "horizon: 1e999 years")}, [],
     ["horizon"]),
    ("limit-max-age-infinite", {"small.yaml": _mut("horizon: 3 cycles", "horizon: lifetime\nstart_age: 40\n"
                                                   "max_age: .inf")}, [], ["max_age", "finite"]),
    ("limit-start-age-infinite", {"small.yaml": _mut("horizon: 3 cycles", "horizon: 3 cycles\nstart_age: .inf")}, [],
     ["start_age", "finite"]),
    ("limit-tiny-cycle-lifetime", {"small.yaml": _mut("horizon: 3 cycles", "horizon: lifetime\nstart_age: 40")
                                   .replace("cycle: 1 year", "cycle: 1 day")}, ["--max-cycles", "1000"],
     ["max_cycles", "horizon"]),
    ("limit-wtp-grid", {"cfg.yaml": CFG + "wtp: {from: 0, to: 300000000000, by: 25000}\n",
                        "small.yaml": SMALL_MODEL}, [], ["max_wtp_points", "cfg.yaml", "wtp"]),
    ("limit-wtp-grid-infinite", {"cfg.yaml": CFG + "wtp: {from: 0, to: .inf, by: 1}\n", "small.yaml": SMALL_MODEL},
     [], ["finite", "cfg.yaml", "wtp"]),
    ("limit-wtp-negative", {"cfg.yaml": CFG + "wtp: -20000\n", "small.yaml": SMALL_MODEL}, [],
     ["≥ 0", "cfg.yaml", "wtp"]),
    ("limit-wtp-nan-list", {"cfg.yaml": CFG + "wtp: [20000, .nan]\n", "small.yaml": SMALL_MODEL}, [],
     ["finite", "cfg.yaml", "wtp"]),
    ("limit-wtp-flag-nan", {"small.yaml": SMALL_MODEL}, ["--wtp", "nan"], ["--wtp", "finite"]),
    ("limit-wtp-flag-inf", {"small.yaml": SMALL_MODEL}, ["--wtp", "inf"], ["--wtp", "finite"]),
    ("limit-tunnel", {"small.yaml": _mut("max_residence: 3", "max_residence: 1000000", TUNNEL)}, [],
     ["max_residence", "states.Well.max_residence"]),
    ("limit-states", {"small.yaml": _mut("max_residence: 3", "max_residence: 3000", TUNNEL)},
     ["--limit", "max_states=100"], ["max_states", "states"]),
    ("limit-draws-flag", {"small.yaml": SMALL_MODEL}, ["--draws", "10000000000000"], ["max_draws", "--draws"]),
    ("limit-draws-config", {"cfg.yaml": CFG + "psa: {draws: 10000000000000}\n", "small.yaml": SMALL_MODEL}, [],
     ["max_draws", "cfg.yaml", "psa.draws"]),
    ("limit-cells", {"small.yaml": _mut("horizon: 3 cycles", "horizon: 50000 cycles")},
     ["--draws", "100000", "--chunk", "100000"], ["max_cells", "chunk"]),
    ("limit-parameters", {"small.yaml": SMALL_MODEL}, ["--limit", "max_parameters=1"],
     ["max_parameters", "parameters"]),
    ("limit-bad-flag-name", {"small.yaml": SMALL_MODEL}, ["--limit", "max_bogus=1"], ["--limit", "max_cycles"]),
    ("limit-bad-flag-value", {"small.yaml": SMALL_MODEL}, ["--max-cycles", "0"], ["--max-cycles", "positive"]),
    ("limit-config-unknown", {"cfg.yaml": CFG + "limits: {max_cycels: 10}\n", "small.yaml": SMALL_MODEL}, [],
     ["unknown limit", "cfg.yaml", "limits.max_cycels"]),
    ("limit-config-negative", {"cfg.yaml": CFG + "limits: {max_cycles: -1}\n", "small.yaml": SMALL_MODEL}, [],
     ["positive", "cfg.yaml", "limits.max_cycles"]),
    ("seed-negative", {"small.yaml": SMALL_MODEL}, ["--draws", "10", "--seed", "-1"], ["--seed"]),
    # --- tables and data paths ------------------------------------------------------------------------------------
    ("table-dev-zero", {"small.yaml": TABLE_MODEL.replace("TABLE", "/dev/zero")}, [],
     ["outside", "allow_paths", "tables.lt.file"]),
    ("table-dev-zero-allowed", {"cfg.yaml": CFG + "allow_paths: [/dev]\n",
                                "small.yaml": TABLE_MODEL.replace("TABLE", "/dev/zero")}, [],
     ["not a regular file", "tables.lt.file"]),
    ("table-system-file", {"small.yaml": TABLE_MODEL.replace("TABLE", "/etc/passwd")}, [],
     ["outside", "tables.lt.file"]),
    ("table-system-file-allowed", {"cfg.yaml": CFG + "allow_paths: [/etc]\n",
                                   "small.yaml": TABLE_MODEL.replace("TABLE", "/etc/passwd")}, [],
     ["cannot read CSV table file", "tables.lt.file"]),
    ("table-parent-escape", {"small.yaml": TABLE_MODEL.replace("TABLE", "../../../../../../etc/hostname")}, [],
     ["outside", "tables.lt.file"]),
    ("table-folder", {"small.yaml": TABLE_MODEL.replace("TABLE", "."), "sub/x": ""}, [],
     ["is a directory", "tables.lt.file"]),
    ("table-header-only", {"small.yaml": TABLE_MODEL.replace("TABLE", "t.csv"), "t.csv": "age,qx\n"}, [],
     ["no data rows", "tables.lt.file"]),
    ("table-empty", {"small.yaml": TABLE_MODEL.replace("TABLE", "t.csv"), "t.csv": ""}, [],
     ["empty", "tables.lt.file"]),
    ("table-not-utf8", {"small.yaml": TABLE_MODEL.replace("TABLE", "t.csv"), "t.csv": b"age,qx\n\xff\xfe,1\n"}, [],
     ["tables.lt.file"]),
    ("table-missing-column", {"small.yaml": TABLE_MODEL.replace("TABLE", "t.csv"), "t.csv": "age,secret\n0,0.1\n"},
     [], ["column `qx` not in table file", "tables.lt.value"]),
    ("table-too-large", {"small.yaml": TABLE_MODEL.replace("TABLE", "t.csv"), "t.csv": "age,qx\n" + "0,0.1\n" * 1000},
     ["--limit", "max_file_mb=0.001"], ["max_file_mb", "tables.lt.file"]),
    ("table-sex-weights-zero", {"small.yaml": AGE_TABLE.replace("SEX", "{male: 0, female: 0}"),
                                "lt.csv": "age,m,f\n0,0.1,0.1\n"}, [], ["sex", "not all 0"]),
    ("table-sex-weights-negative", {"small.yaml": AGE_TABLE.replace("SEX", "{male: -1, female: 2}"),
                                    "lt.csv": "age,m,f\n0,0.1,0.1\n"}, [], ["sex", "≥ 0"]),
    ("empirical-outside", {"small.yaml": EMPIRICAL.replace("DRAWS", "/etc/passwd")}, [],
     ["outside", "parameters.p_die"]),
    ("empirical-header-only", {"small.yaml": EMPIRICAL.replace("DRAWS", "d.csv"), "d.csv": "p\n"}, [],
     ["no data rows", "parameters.p_die"]),
    ("empirical-folder", {"small.yaml": EMPIRICAL.replace("DRAWS", "d"), "d/x.csv": "p\n0.1\n"}, [],
     ["is a directory", "parameters.p_die"]),
    ("config-model-dot", {"cfg.yaml": "ces: 1\nmodel: .\n"}, [], ["folder", "cfg.yaml", "model"]),
    ("config-model-too-long", {"cfg.yaml": "ces: 1\nmodel: " + "a/" * 3000 + "m.yaml\n"}, [],
     ["too long", "cfg.yaml", "model"]),
    ("config-model-dev-zero", {"cfg.yaml": "ces: 1\nmodel: /dev/zero\n"}, [], ["not a regular file"]),
    # --- output paths --------------------------------------------------------------------------------------------
    ("out-existing-file", {"small.yaml": SMALL_MODEL, "taken": "keep"}, ["--out", "{tmp}/taken"],
     ["--out", "existing file"]),
    ("out-under-file", {"small.yaml": SMALL_MODEL, "taken": "keep"}, ["--out", "{tmp}/taken/sub"],
     ["--out", "is a file"]),
    ("out-not-ces-folder", {"small.yaml": SMALL_MODEL, "mine/notes.txt": "mine"}, ["--out", "{tmp}/mine"],
     ["--out", "not a ces output folder"]),
    ("out-unwritable", {"small.yaml": SMALL_MODEL}, ["--out", "/proc/ces-out"], ["--out", "cannot write"]),
    ("out-too-long", {"small.yaml": SMALL_MODEL}, ["--out", "{tmp}/" + "x" * 300], ["--out", "too long"]),
    ("json-folder", {"small.yaml": SMALL_MODEL, "dir/x": ""}, ["--json", "{tmp}/dir"], ["--json", "folder"]),
    ("json-under-file", {"small.yaml": SMALL_MODEL, "taken": "keep"}, ["--json", "{tmp}/taken/r.json"],
     ["--json", "is a file"]),
    ("json-and-out-file", {"small.yaml": SMALL_MODEL, "taken": "keep"},
     ["--json", "{tmp}/r.json", "--out", "{tmp}/taken"], ["--out", "existing file"]),
    ("draws-out-folder", {"small.yaml": SMALL_MODEL, "d.csv/x": ""}, ["--draws", "5", "--draws-out", "{tmp}/d.csv"],
     ["--draws-out", "folder"]),
    ("outputs-dir-is-file", {"cfg.yaml": CFG + "outputs: {dir: taken}\n", "small.yaml": SMALL_MODEL, "taken": "x"},
     [], ["cfg.yaml", "outputs.dir", "existing file"]),
    # --- other known classes ----------------------------------------------------------------------------------------
    ("mortality-unknown-table", {"small.yaml": _mut("horizon: 3 cycles", "horizon: 3 cycles\nstart_age: 50\nsex: male")
                                 .replace("p_die: 0.1", "p_die: rate_to_prob(mortality(\"x\", age))")}, [],
     ["unknown life table `x`", "parameters.p_die"]),
    ("payment-instalments-huge", {"cfg.yaml": CFG + "payment: {strategy: base, category: cost, price: 1, "
                                  "model: instalments, n: 10000000000000}\n", "small.yaml": SMALL_MODEL}, [],
     ["max_payment_years", "cfg.yaml", "payment.n"]),
    ("psm-background-list", {"small.yaml": PSM.replace("hr: hr_pfs}", "hr: hr_pfs, background: [us_2021]}")}, [],
     ["curves.pfs.background", "unknown life table"]),
    ("psm-hr-list", {"small.yaml": PSM.replace("hr: hr_pfs}", "hr: [1, 2]}")}, [], ["curves.pfs.hr", "list"]),
    ("psm-cure-type", {"small.yaml": PSM.replace("hr: hr_pfs}", "hr: hr_pfs, cure_type: 5}")}, [],
     ["curves.pfs.cure_type"]),
    ("psm-crossing-list", {"small.yaml": PSM.replace("crossing: cap", "crossing: [1]")}, [], ["crossing"]),
    # found by `make fuzz` on models/cart_lbcl_oos.yaml (then a mixture of curves; now models/ciltacel_mm.yaml):
    # a mixture component's curve given as a list or a map
    ("mixture-curve-list", {"small.yaml": MIXTURE.replace("{curve: pfs_soc,", "{curve: [pfs_soc],")}, [],
     ["curves.pfs.components[1]", "must be a (non-mixture) curve"]),
    ("mixture-curve-map", {"small.yaml": MIXTURE.replace("{curve: pfs_soc,", "{curve: {a: 1},")}, [],
     ["curves.pfs.components[1]", "must be a (non-mixture) curve"]),
    ("dist-moments-overflow", {"small.yaml": _mut("c_well: 100", "c_well: {value: 100, dist: gamma, mean: 1.0e+300, "
                                                  "sd: 1.0e-300}")}, ["--draws", "10"], ["parameters.c_well"]),
    ("dist-inf-moment", {"small.yaml": _mut("c_well: 100", "c_well: {value: 100, dist: normal, mean: .inf, sd: 1}")},
     ["--draws", "10"], ["parameters.c_well", "finite"]),
]


def _write(tmp: Path, files: dict) -> Path:
    first = None
    for name, text in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text)
        first = first or p
    return first


def _tree(tmp: Path) -> dict:
    return {str(p.relative_to(tmp)): (p.stat().st_size if p.is_file() else -1) for p in sorted(tmp.rglob("*"))}


def assert_clean_error(result, expect_file: str | None, fragments: list, before: dict, tmp: Path) -> str:
    msg = result.stderr.strip()
    assert result.exit_code == 2, (result.exit_code, msg, result.stdout[-500:], result.exception)
    assert "Traceback" not in result.output and "Traceback" not in msg
    assert len(msg.splitlines()) == 1, msg
    assert msg.startswith("error: "), msg
    if expect_file:
        assert expect_file in msg, (expect_file, msg)
    for frag in fragments:
        assert frag in msg, (frag, msg)
    assert _tree(tmp) == before, "output left behind"
    return msg


@pytest.mark.parametrize("case,files,args,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_located_line(runner, tmp_path: Path, case, files, args, fragments):
    target = _write(tmp_path, files)
    before = _tree(tmp_path)
    argv = ["run", str(target)] + [a.replace("{tmp}", str(tmp_path)) for a in args]
    if not any(a in ("--out", "--json", "--draws-out") for a in args):
        argv += ["--json", str(tmp_path / "never.json")]
    result = runner.invoke(app, argv)
    flag_error = any(f.startswith("--") for f in fragments)
    # a message names the file (and key path) unless the problem is a command-line flag
    expect = None if flag_error else target.name if not target.name == "cfg.yaml" or "cfg.yaml" in fragments else None
    if case in ("config-model-dev-zero",):
        expect = "/dev/zero"
    msg = assert_clean_error(result, expect, fragments, before, tmp_path)
    if case.startswith("table-system-file") or case.startswith("empirical-outside"):
        assert "root:x" not in msg and "/bin/" not in msg  # never echo file contents
    if case == "table-missing-column":
        assert "secret" not in msg


SWEEP_CASES = [
    ("sweep-wtp-huge", ["--wtp", "0:1e12:1"], ["max_wtp_points", "--wtp"]),
    ("sweep-wtp-nan", ["--wtp", "nan:1:1"], ["--wtp", "finite"]),
    ("sweep-wtp-inf", ["--wtp", "0:inf:1"], ["--wtp", "finite"]),
    ("sweep-json-folder", ["--wtp", "0:10:5", "--json", "{tmp}/dir.csv"], ["--json", "folder"]),
    ("sweep-out-file", ["--wtp", "0:10:5", "--out", "{tmp}/taken"], ["--out", "existing file"]),
]


@pytest.mark.parametrize("case,args,fragments", SWEEP_CASES, ids=[c[0] for c in SWEEP_CASES])
def test_sweep_bad_flags(runner, tmp_path, small_model, case, args, fragments):
    (tmp_path / "dir.csv").mkdir()
    (tmp_path / "taken").write_text("x")
    before = _tree(tmp_path)
    result = runner.invoke(app, ["sweep", str(small_model), "--draws", "10", "-q"]
                           + [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_clean_error(result, None, fragments, before, tmp_path)


def test_unknown_flag_is_one_line(runner, tmp_path, small_model):
    before = _tree(tmp_path)
    result = runner.invoke(app, ["run", str(small_model), "--no-such-flag"])
    msg = assert_clean_error(result, None, ["--no-such-flag", "`ces run --help`"], before, tmp_path)
    assert "╭" not in msg


def test_bad_flag_value_is_one_line(runner, tmp_path, small_model):
    before = _tree(tmp_path)
    result = runner.invoke(app, ["run", str(small_model), "--draws", "many"])
    assert_clean_error(result, None, ["--draws", "integer"], before, tmp_path)


def test_diff_given_a_folder(runner, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b.json").write_text("{}")
    before = _tree(tmp_path)
    result = runner.invoke(app, ["diff", str(tmp_path / "a"), str(tmp_path / "b.json")])
    assert_clean_error(result, str(tmp_path / "a"), ["is a directory"], before, tmp_path)


def test_dsa_out_existing_file(runner, tmp_path):
    (tmp_path / "taken").write_text("x")
    cfg = Path(__file__).resolve().parent.parent / "configs" / "hiv_dsa.yaml"
    before = _tree(tmp_path)
    result = runner.invoke(app, ["dsa", str(cfg), "--out", str(tmp_path / "taken")])
    assert_clean_error(result, None, ["--out", "existing file"], before, tmp_path)


def test_wtp_1e308_prints_no_warnings(runner, small_model):
    result = runner.invoke(app, ["run", str(small_model), "--wtp", "1e308", "--draws", "20", "-q"])
    assert "RuntimeWarning" not in result.output and "RuntimeWarning" not in result.stderr
    assert result.exit_code in (0, 2) and len(result.stderr.strip().splitlines()) <= 1, result.stderr
    result = runner.invoke(app, ["run", str(small_model), "--wtp", "1e308", "-q"])
    assert result.exit_code == 0 and result.stderr == "", result.stderr


def test_internal_error_is_one_line_exit_3(runner, small_model, monkeypatch):
    import ces.pipeline

    def boom(*a, **k):
        raise ZeroDivisionError("simulated bug")
    monkeypatch.setattr(ces.pipeline, "run", boom)
    result = runner.invoke(app, ["run", str(small_model)])
    msg = result.stderr.strip()
    assert result.exit_code == 3 and len(msg.splitlines()) == 1
    assert "internal error" in msg and "please report" in msg and "simulated bug" in msg
    monkeypatch.setenv("CES_DEBUG", "1")
    result = runner.invoke(app, ["run", str(small_model)])
    assert isinstance(result.exception, ZeroDivisionError)  # the traceback is shown, not hidden


def test_quoted_bool_names_work(runner, tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(_mut("c_well: 100", "c_well: 100\n  'on': 2").replace("Well: {cost: c_well,", "Well: {cost: c_well * on / 2,"))
    result = runner.invoke(app, ["run", str(p), "-q"])
    assert result.exit_code == 0, result.stderr


def test_fixed_distribution_accepts_value(tmp_path):
    """`{value: 1000, dist: fixed}` (documented) is a point mass at the value, also in the PSA."""
    from ces.pipeline import run

    p = tmp_path / "m.yaml"
    p.write_text(_mut("c_well: 100", "c_well: {value: 100, dist: fixed}"))
    fixed = run(p, draws=50, seed=1)
    p.write_text(SMALL_MODEL)
    plain = run(p, draws=50, seed=1)
    assert fixed.totals["cost"].iloc[0] == plain.totals["cost"].iloc[0]
    assert (fixed.psa.totals["base"] == plain.psa.totals["base"]).all()


def test_output_files_are_0644(runner, tmp_path, small_model):
    old = os.umask(0o022)
    try:
        out = tmp_path / "out"
        r = runner.invoke(app, ["run", str(small_model), "--out", str(out), "--json", str(tmp_path / "r.json"), "-q"])
        assert r.exit_code == 0, r.stderr
        modes = {p.name: p.stat().st_mode & 0o777 for p in [*out.iterdir(), tmp_path / "r.json"]}
        assert set(modes.values()) == {0o644}, modes
        assert out.stat().st_mode & 0o777 == 0o755
    finally:
        os.umask(old)


def test_linear_dependency_order_long_chain():
    """A chain of 20,000 parameters sorts without recursion limits (the old sort was quadratic and recursive)."""
    from ces.modelfile.expr import compile_expr, dependency_order

    n = 20_000
    exprs = {f"p{i}": compile_expr(f"p{i + 1} + 1" if i < n - 1 else "1") for i in range(n)}
    order = dependency_order(exprs, frozenset(), {})
    assert order[0] == f"p{n - 1}" and order[-1] == "p0" and len(order) == n


def test_dependency_order_keeps_yaml_order_and_finds_cycles():
    from ces.errors import ExprError
    from ces.modelfile.expr import compile_expr, dependency_order

    exprs = {"a": compile_expr("c + b"), "b": compile_expr("1"), "c": compile_expr("b"), "d": compile_expr("2")}
    assert dependency_order(exprs, frozenset(), {}) == ["b", "c", "a", "d"]
    exprs["b"] = compile_expr("a")
    with pytest.raises(ExprError, match="dependency cycle: a -> b -> a"):
        dependency_order(exprs, frozenset(), {})


def test_dsa_with_equal_effects_prints_undefined(runner, tmp_path):
    """ΔE = 0 makes the ICER undefined: printed as such, not a crash."""
    (tmp_path / "m.yaml").write_text(_mut("base: {}", "base: {}\n  other: {parameters: {c_well: 200}}"))
    (tmp_path / "cfg.yaml").write_text("ces: 1\nmodel: m.yaml\ndsa:\n  parameters:\n    c_well: [50, 150]\n")
    r = runner.invoke(app, ["dsa", str(tmp_path / "cfg.yaml")])
    assert r.exit_code == 0, r.stderr
    assert "undefined (ΔE = 0" in r.stdout
