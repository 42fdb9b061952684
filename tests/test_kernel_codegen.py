"""The generated Markov kernels (ces.engine.kernel_codegen) against the generic kernel: bit for bit.

A generated kernel is markov_totals unrolled for one structure; it must give the same totals and the same
check codes, to the last bit, on every kind of input: entries constant or varying over draws and cycles,
`rest` entries, state values and transition rewards constant or varying over cycles, per-draw initial
occupancy, both counting-weight branches (α ≠ 0 and α = 0), and draws that fail the checks.  Each
structure compiles once (a few seconds), so the cases are few and each covers many features.
"""

from __future__ import annotations

import numpy as np
import pytest

from ces.engine import kernel_codegen as kc
from ces.engine.checks import REST, ROW_TOL
from ces.engine.conventions import counting_weights
from ces.engine.kernels import markov_totals
from ces.engine.markov import pack_entries
from ces.errors import CesError


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CES_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ces-cache"))


def random_case(rng, D, n, S, kinds, Kv, Kt, Rt, per_draw_init, method, bad=0):
    """Markov inputs with entries of the given kinds (per from-state row: a list of (to, kind), the `rest`
    entry last, as the engine orders them), kind in 'const' (per draw, constant over cycles), 'bcast' (one
    value), 'var' (per draw and cycle), 'rest'."""
    entries = []
    for i, row in enumerate(kinds):
        share = 1.0 / (len(row) + 1)
        for j, kind in row:
            if kind == "rest":
                entries.append((i, j, REST, None))
                continue
            shape = {"const": (D, 1), "bcast": (1, 1), "var": (D, n)}[kind]
            entries.append((i, j, rng.uniform(0.0, share, shape), None))
    for b in range(bad):  # a probability outside [0, 1] in a few draws and cycles
        e = next(k for k, x in enumerate(entries) if x[2] is not REST and x[2].shape == (D, n))
        entries[e][2][rng.integers(D), rng.integers(n)] = 1.5 if b % 2 == 0 else -0.5
    frm, to, rest, buf, off, sd, sk = pack_entries(entries)
    init = rng.dirichlet(np.ones(S), D if per_draw_init else 1)
    R = 3  # transition rewards, when there are any, have a column per stream (Rt = R)
    V = rng.uniform(0, 10, (D, R, Kv, S))
    TR = rng.uniform(0, 5, (D, Rt, Kt, S, S))
    alpha, beta = counting_weights(method, n)
    disc = (1.03 ** -np.arange(n + 1.0))[None, :].repeat(R, 0)
    return (frm, to, rest, buf, off, sd, sk, S, init, TR), V, alpha, beta, disc


def both(args, V, alpha, beta, disc):
    D, R, n1 = V.shape[0], V.shape[1], alpha.shape[0]
    out = []
    for use_generated in (False, True):
        err = np.zeros((D, 4), dtype=np.int64)
        tot, tot_u = np.full((D, R), np.nan), np.full((D, R), np.nan)
        if use_generated:
            struct = kc.structure_of(args, V)
            key = kc.key_of(struct)
            kc.compiled(struct)
            kc.run_generated(key, args, ROW_TOL, V, alpha, beta, disc, err, tot, tot_u)
        else:
            markov_totals(*args, ROW_TOL, V, alpha, beta, disc, err, tot, tot_u, np.empty((0, n1, args[7])),
                          np.empty((0, R, n1)))
        out.append((tot, tot_u, err))
    return out


def assert_identical(a, b):
    for x, y in zip(a, b):
        assert x.tobytes() == y.tobytes()


def test_constant_entries_rest_constant_values_and_rewards():
    rng = np.random.default_rng(1)
    kinds = [[(1, "const"), (3, "bcast"), (0, "rest")], [(0, "const"), (2, "const"), (3, "const"), (1, "rest")],
             [(3, "bcast"), (2, "rest")], [(3, "rest")]]
    args, V, alpha, beta, disc = random_case(rng, 257, 40, 4, kinds, Kv=1, Kt=1, Rt=3, per_draw_init=False,
                                             method="life-table")
    generic, generated = both(args, V, alpha, beta, disc)
    assert not generic[2][:, 0].any()
    assert_identical(generic, generated)
    struct = kc.structure_of(args, V)
    assert struct[7] and struct[8]  # the case it is meant to cover: V and TR constant over cycles


def test_varying_entries_values_rewards_and_failed_checks():
    rng = np.random.default_rng(2)
    kinds = [[(1, "var"), (4, "const"), (0, "rest")], [(1, "var"), (2, "var"), (4, "rest")],
             [(3, "var"), (2, "rest")], [(4, "var"), (3, "rest")], [(4, "rest")]]
    args, V, alpha, beta, disc = random_case(rng, 301, 30, 5, kinds, Kv=31, Kt=30, Rt=3, per_draw_init=True,
                                             method="half-cycle", bad=6)
    generic, generated = both(args, V, alpha, beta, disc)
    assert generic[2][:, 0].any()  # some draws fail a check: their codes must agree too
    assert_identical(generic, generated)


def test_psa_of_a_model_same_with_either_kernel(monkeypatch):
    """Sick-Sicker's PSA: generic and generated kernels, two chunk sizes, the same totals bit for bit."""
    from ces.engine.psa import run_psa
    from ces.pipeline import build

    _, model = build("models/sick_sicker.yaml")
    monkeypatch.setenv("CES_KERNEL", "generic")
    ref = run_psa(model, 700, 5, chunk=300)
    monkeypatch.setenv("CES_KERNEL", "generated")
    for chunk in (300, 256):
        got = run_psa(model, 700, 5, chunk=chunk)
        for s in ref.totals:
            assert got.totals[s].tobytes() == ref.totals[s].tobytes()
    assert any(p.suffix == ".compiled" for p in (kc._folder()).iterdir())  # it did run the generated kernel


def test_auto_compiles_only_after_enough_generic_work(monkeypatch):
    rng = np.random.default_rng(1)
    kinds = [[(1, "const"), (3, "bcast"), (0, "rest")], [(0, "const"), (2, "const"), (3, "const"), (1, "rest")],
             [(3, "bcast"), (2, "rest")], [(3, "rest")]]
    args, V, *_ = random_case(rng, 257, 40, 4, kinds, Kv=1, Kt=1, Rt=3, per_draw_init=False, method="life-table")
    struct = kc.structure_of(args, V)
    key = kc.key_of(struct)
    monkeypatch.setenv("CES_KERNEL", "auto")
    monkeypatch.setattr(kc, "_loaded", {})
    monkeypatch.setattr(kc, "_work", {})
    monkeypatch.setattr(kc, "COMPILE_WORK", 100.0)
    monkeypatch.setattr(kc, "_marker", lambda k: kc._folder() / f"absent_{k}.compiled")
    assert kc.choose(struct, 60.0) is None  # 60 entry-cycles of generic work: not yet worth compiling
    assert kc.choose(struct, 60.0) == key  # 120 ≥ 100: compile and use from now on
    assert kc.choose(struct, 1.0) == key  # loaded in this process: used at once
    monkeypatch.setattr(kc, "_loaded", {})
    monkeypatch.setattr(kc, "_work", {})
    monkeypatch.setattr(kc, "LOAD_WORK", 10.0)
    monkeypatch.setattr(kc, "_marker", lambda k: kc._folder() / "present.compiled")
    (kc._folder() / "present.compiled").write_text("compiled\n")
    assert kc.choose(struct, 6.0) is None  # marked compiled on this machine: worth loading after 10
    assert kc.choose(struct, 6.0) == key
    monkeypatch.setenv("CES_KERNEL", "generic")
    assert kc.choose(struct, 1e12) is None


def test_mode_and_limits(monkeypatch):
    monkeypatch.setenv("CES_KERNEL", "fast")
    with pytest.raises(CesError, match="CES_KERNEL='fast' is not allowed: use auto, generated or generic"):
        kc.mode()
    big = kc.structure(range(300), range(300), [0] * 300, [0] * 300, 300, 3, 0, True, True)
    assert not kc.eligible(big)
    monkeypatch.setenv("CES_KERNEL", "generated")
    assert kc.choose(big, 1e12) is None


def test_source_holds_only_the_structure():
    """The generated source is a function of the integers of the structure: two structures that differ only
    in an entry's target state differ in the source, and nothing but indices and counts enters it."""
    a = kc.structure([0, 0, 1], [0, 1, 1], [1, 0, 1], [0, 0, 0], 2, 1, 0, True, True)
    b = kc.structure([0, 0, 1], [1, 0, 1], [0, 1, 1], [0, 0, 0], 2, 1, 0, True, True)
    sa, sb = kc.source(a), kc.source(b)
    assert sa != sb and "x1 += flow" in sa
    compile(sa, "generated", "exec")  # valid Python


def test_unwritable_cache_falls_back_to_the_generic_kernel(monkeypatch, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("CES_CACHE_DIR", str(blocked))  # kernels/ cannot be created under a file
    monkeypatch.setenv("CES_KERNEL", "generated")
    monkeypatch.setattr(kc, "_loaded", {})
    struct = kc.structure([0, 0, 1], [0, 1, 1], [0, 1, 1], [0, 0, 0], 2, 1, 0, True, True)
    assert kc.choose(struct, 1e12) is None
    monkeypatch.setenv("CES_CACHE_DIR", str(tmp_path / "ok"))

    def refuse(path, text):  # the atomic writer reports a failed write as a CesError
        raise CesError("cannot write the file", file=str(path))

    monkeypatch.setattr(kc, "write_text_atomic", refuse)
    assert kc.choose(struct, 1e12) is None


def test_misspelt_ces_kernel_fails_any_command_with_one_line(tmp_path):
    """A misspelt CES_KERNEL is refused by every command, also one that runs no Markov PSA (the flagship is a
    partitioned-survival model): one line, exit 2, no output folder."""
    import os
    import subprocess
    import sys

    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "ces.cli", "run", "configs/flagship.yaml", "--no-psa", "--out", str(out),
                        "-q"], capture_output=True, text=True, env={**os.environ, "CES_KERNEL": "generatd"})
    assert r.returncode == 2
    assert r.stderr.strip() == "error: CES_KERNEL='generatd' is not allowed: use auto, generated or generic"
    assert not out.exists()
