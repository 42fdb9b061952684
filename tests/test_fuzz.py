"""Fuzzing: generated models and configs, and mutations of them and of every file in models/ and configs/.

Property: every run ends with exit 0, or exit 2 with one stderr line and no traceback, within a time
bound.  Anything else (exit 3 = an internal error, a traceback, several lines, a hang) is a defect.

- In `make test` the hypothesis tests below run a bounded number of examples (about a minute).
- `make fuzz` sets FUZZ_SECONDS (default 600) and runs :func:`test_fuzz_long`, which keeps
  generating and mutating until the time is up, and reports the number of runs and defects.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ces.cli import app

ROOT = Path(__file__).resolve().parent.parent
CASE_SECONDS = 60  # a run slower than this is a hang
RUN_ARGS = ["-q", "--limit", "max_draws=2000", "--limit", "max_cycles=5000", "--limit", "max_cells=20000000"]

# ------------------------------------------------------------------ the property


class Hang(BaseException):
    pass


@contextmanager
def _time_bound(seconds: int):
    def on_alarm(signum, frame):
        raise Hang()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def check_run(argv: list) -> str | None:
    """Run the CLI in-process; None if the outcome is acceptable, else a one-line defect description."""
    t0 = time.monotonic()
    try:
        with _time_bound(CASE_SECONDS):
            r = CliRunner().invoke(app, argv)
    except Hang:
        return f"hang (> {CASE_SECONDS} s)"
    err = r.stderr.strip()
    if r.exit_code == 0:
        return None if "Traceback" not in r.output + err else "exit 0 with a traceback"
    if isinstance(r.exception, Hang):
        return f"hang (> {CASE_SECONDS} s)"
    if r.exit_code != 2:
        return f"exit {r.exit_code}: {err.splitlines()[0][:200] if err else repr(r.exception)[:200]}"
    if "Traceback" in r.output + err:
        return "traceback"
    if len(err.splitlines()) != 1 or not err.startswith("error: "):
        return f"exit 2 but not one error line: {err[:200]!r}"
    if time.monotonic() - t0 > CASE_SECONDS:
        return "too slow"
    return None


def signature(defect: str) -> str:
    """The defect without file paths and numbers, to count distinct ones."""
    import re

    return re.sub(r"[0-9.]+", "N", re.sub(r"/\S+", "PATH", defect))[:120]


# ------------------------------------------------------------------ generated models

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in {"rest", "cycle", "time", "age", "cycle_length", "residence", "sex_male", "if", "in", "is",
                        "or", "and", "not", "for", "def", "del", "as", "try", "with", "yes", "no", "on", "off",
                        "y", "n", "true", "false", "null"})
NUMBER = st.one_of(st.integers(-5, 10 ** 6), st.floats(-1e3, 1e6, allow_nan=False, allow_infinity=False))
PROB = st.floats(0, 0.5, allow_nan=False)


@st.composite
def parameters(draw):
    out = {}
    for name in draw(st.lists(NAMES, min_size=1, max_size=5, unique=True)):
        kind = draw(st.sampled_from(["number", "beta", "gamma", "normal", "fixed", "expr"]))
        if kind == "number":
            out[name] = draw(PROB)
        elif kind == "beta":
            out[name] = {"value": 0.1, "dist": "beta", "mean": draw(st.floats(0.01, 0.5)), "sd": draw(st.floats(0.001, 0.1))}
        elif kind == "gamma":
            out[name] = {"value": 100, "dist": "gamma", "mean": draw(st.floats(1, 1e4)), "sd": draw(st.floats(0.1, 1e3))}
        elif kind == "normal":
            out[name] = {"value": 0.05, "dist": "normal", "mean": 0.05, "sd": draw(st.floats(0, 0.01))}
        elif kind == "fixed":
            out[name] = {"value": draw(PROB), "dist": "fixed"}
        else:
            out[name] = f"{draw(PROB)} * {draw(st.sampled_from(['1', 'cycle_length', 'exp(-0.01 * cycle)']))}"
    return out


@st.composite
def models(draw):
    params = draw(parameters())
    pnames = list(params)
    n_alive = draw(st.integers(1, 3))
    alive = [f"S{i}" for i in range(n_alive)]
    states = {s: {"cost": draw(st.sampled_from([0, 100, pnames[0] + " * 1000", "50 * cycle_length"])),
                  "utility": draw(st.floats(0, 1))} for s in alive}
    if draw(st.booleans()):
        states[alive[0]]["max_residence"] = draw(st.integers(1, 4))
    states["Dead"] = {"dead": True}
    transitions = {}
    for s in alive:
        row = {s: "rest", "Dead": draw(st.sampled_from(pnames))}
        nxt = [t for t in alive if t != s]
        if nxt and draw(st.booleans()):
            row[nxt[0]] = draw(st.sampled_from(["0.05", pnames[-1]]))
        transitions[s] = row
    strategies = {"soc": None}
    if draw(st.booleans()):
        strategies["new"] = {"parameters": {pnames[0]: draw(PROB)}}
    model = {
        "ces": 1, "title": "fuzz", "kind": "markov",
        "cycle": draw(st.sampled_from(["1 year", "1 month", "6 months", "4 weeks"])),
        "horizon": draw(st.sampled_from(["5 cycles", "20 cycles", "2 years", 12])),
        "correction": draw(st.sampled_from(["start", "end", "life-table", "half-cycle", "simpson", "none"])),
        "discount": {"costs": draw(st.sampled_from([0, 0.03, 0.035])), "effects": draw(st.sampled_from([0, 0.03]))},
        "parameters": params, "states": states, "transitions": transitions, "strategies": strategies,
    }
    if draw(st.booleans()):
        model["start_age"] = draw(st.integers(0, 90))
    return model


@st.composite
def configs(draw):
    cfg = {"ces": 1, "model": "m.yaml"}
    if draw(st.booleans()):
        cfg["wtp"] = draw(st.one_of(NUMBER.map(abs), st.lists(NUMBER.map(abs), min_size=1, max_size=4),
                                    st.fixed_dictionaries({"from": st.just(0), "to": st.integers(0, 200000),
                                                           "by": st.integers(1000, 50000)})))
    if draw(st.booleans()):
        cfg["psa"] = {"draws": draw(st.integers(1, 60)), "seed": draw(st.integers(0, 10 ** 6)),
                      "chunk": draw(st.integers(1, 64))}
    return cfg


# ------------------------------------------------------------------ mutations

POISON = ["-1", "0", "1e309", "1.0e+309", ".nan", ".inf", "-.inf", "on", "yes", "~", "[]", "{}", "'1/0'",
          "'10 ** 10 ** 10'", "9" * 400, "lifetime", "1000000000 cycles", "!!float x", "!!int 1.5", "*nope",
          "'log(-1)'", "'__import__(\"os\")'", "/dev/zero", "/etc/passwd", "'(' ", "\"\"", "true", "[1, [2, [3]]]",
          "{value: 1000, dist: fixed}", "'x' * 5", "'a' if 1 else 'b'", "'" + "-" * 300 + "1'", "100000000",
          "-20000", "0.0", "1e-300", "'rest'", "'cycle / 0'", "'exp(1000)'", "'sqrt(-1)'", "&a [*a]"]
VALUES = [-1, 0, 1, 0.5, 1e309, float("nan"), float("-inf"), 10 ** 400, "1/0", "rest", "on", True, None, [], {},
          [1, 2], {"dist": "beta"}, {"value": 1, "dist": "fixed"}, "10 ** 10 ** 10", "lifetime", "/dev/zero",
          "1000000000 cycles", 10 ** 13, -20000, "log(-1)", "x" * 3000, {"from": 0, "to": 1e12, "by": 1}]


def mutate_text(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    if not lines:
        return rng.choice(POISON)
    op = rng.randrange(7)
    i = rng.randrange(len(lines))
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif op == 2 and ":" in lines[i]:
        head = lines[i].split(":", 1)[0]
        lines[i] = f"{head}: {rng.choice(POISON)}"
    elif op == 3:
        tokens = lines[i].split(" ")
        j = rng.randrange(len(tokens))
        tokens[j] = rng.choice(POISON + tokens)
        lines[i] = " ".join(tokens)
    elif op == 4:
        lines[i] = " " * rng.randrange(1, 5) + lines[i]
    elif op == 5:
        s = lines[i]
        if s:
            k = rng.randrange(len(s))
            lines[i] = s[:k] + rng.choice("{}[],:&*!#'\"-?|>0 9") + s[k + 1:]
    else:
        lines = lines[: rng.randrange(len(lines) + 1)]
    return "\n".join(lines) + "\n"


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def mutate_data(data, rng: random.Random):
    """Replace, delete or add one key anywhere in a YAML document (structure-aware mutation)."""
    import copy

    data = copy.deepcopy(data)
    paths = [p for p in _paths(data) if p]
    if not paths:
        return data
    path = rng.choice(paths)
    node = data
    for p in path[:-1]:
        node = node[p]
    op = rng.randrange(3)
    if op == 0:
        node[path[-1]] = copy.deepcopy(rng.choice(VALUES))
    elif op == 1:
        del node[path[-1]]
    elif isinstance(node, dict):
        node[rng.choice(["on", "extra", "max_residence", "dist", "limits", "allow_paths", "value"])] = \
            copy.deepcopy(rng.choice(VALUES))
    return data


def dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def check_files(tmp: Path, files: dict, target: str, extra: list) -> str | None:
    for name, text in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return check_run(["run", str(tmp / target)] + RUN_ARGS + extra)


def _args(rng: random.Random) -> list:
    return rng.choice([[], ["--draws", "20"], ["--no-psa"], ["--draws", "10", "--wtp", "30000"]])


# ------------------------------------------------------------------ short run (make test)

SHORT = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")), deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))


@SHORT
@given(model=models(), cfg=configs())
def test_generated_models_run_or_fail_cleanly(tmp_path_factory, model, cfg):
    tmp = tmp_path_factory.mktemp("gen")
    defect = check_files(tmp, {"m.yaml": dump(model), "c.yaml": dump(cfg)}, "c.yaml", ["--draws", "20"])
    assert defect is None, defect


@SHORT
@given(model=models(), seed=st.integers(0, 2 ** 32 - 1), structural=st.booleans())
def test_mutated_models_fail_cleanly(tmp_path_factory, model, seed, structural):
    rng = random.Random(seed)
    text = dump(mutate_data(model, rng)) if structural else mutate_text(dump(model), rng)
    tmp = tmp_path_factory.mktemp("mut")
    defect = check_files(tmp, {"m.yaml": text}, "m.yaml", _args(rng))
    assert defect is None, (defect, text)


SHIPPED = sorted(p.relative_to(ROOT).as_posix() for d in ("models", "configs") for p in (ROOT / d).glob("*.yaml"))


def mutate_shipped(tmp: Path, rel: str, rng: random.Random) -> str | None:
    """Copy models/ and configs/, mutate one shipped file, run it (a model directly, a config as is)."""
    for d in ("models", "configs"):
        if not (tmp / d).exists():
            shutil.copytree(ROOT / d, tmp / d)
    src = (ROOT / rel).read_text()
    if rng.random() < 0.5:
        text = mutate_text(src, rng)
    else:
        text = dump(mutate_data(yaml.safe_load(src), rng))
    (tmp / rel).write_text(text)
    try:
        return check_run(["run", str(tmp / rel)] + RUN_ARGS + rng.choice([["--draws", "10"], ["--no-psa"]]))
    finally:
        (tmp / rel).write_text(src)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")) // 2, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(rel=st.sampled_from(SHIPPED), seed=st.integers(0, 2 ** 32 - 1))
def test_mutated_shipped_files_fail_cleanly(tmp_path_factory, rel, seed):
    defect = mutate_shipped(tmp_path_factory.mktemp("ship"), rel, random.Random(seed))
    assert defect is None, (defect, rel, seed)


# ------------------------------------------------------------------ long run (make fuzz)

@pytest.mark.skipif("FUZZ_SECONDS" not in os.environ, reason="long fuzz: `make fuzz`")
def test_fuzz_long(tmp_path):
    """Mutate every shipped model and config, and generated models, until FUZZ_SECONDS have passed."""
    budget = float(os.environ["FUZZ_SECONDS"])
    seed = int(os.environ.get("FUZZ_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    gen = models()
    t_end = time.monotonic() + budget
    runs, defects = 0, {}
    ship_tmp = tmp_path / "ship"
    ship_tmp.mkdir()
    i = 0
    while time.monotonic() < t_end:
        i += 1
        case_seed = rng.getrandbits(64)
        case_rng = random.Random(case_seed)
        if i % 3:
            rel = SHIPPED[i % len(SHIPPED)]  # round robin: every shipped file is mutated
            what = f"{rel} case seed {case_seed} (replay: mutate_shipped(tmp, {rel!r}, random.Random({case_seed})))"
            defect = mutate_shipped(ship_tmp, rel, case_rng)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # .example() outside @given: fine for a time-boxed fuzz loop
                model = gen.example()
            text = mutate_text(dump(model), case_rng) if case_rng.random() < 0.5 else dump(mutate_data(model, case_rng))
            d = tmp_path / f"g{i}"
            d.mkdir()
            what = f"generated:\n{text}"
            defect = check_files(d, {"m.yaml": text}, "m.yaml", _args(case_rng))
            shutil.rmtree(d, ignore_errors=True)
        runs += 1
        if defect is not None:
            defects.setdefault(signature(defect), []).append((defect, what[:2000]))
    report = [f"fuzz: {runs} runs in {budget:.0f} s (seed {seed}); {sum(len(v) for v in defects.values())} defects, "
              f"{len(defects)} distinct"]
    for sig, items in defects.items():
        report.append(f"  {len(items)} x {items[0][0]}\n    e.g. {items[0][1][:600]}")
    text = "\n".join(report)
    print(text)
    Path(os.environ.get("FUZZ_REPORT", ROOT / "fuzz-report.txt")).write_text(text + "\n")
    assert not defects, text
