"""Decision-tree front end (ces.engine.tree, docs/tree.md): the published example, the fold-back against
separate cohort runs, PSA reproducibility, and a located error for each kind of bad tree."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from ces.engine import conventions as cv
from ces.engine.psa import parameter_columns, run_psa
from ces.errors import CesError, ModelCheckError
from ces.pipeline import build, run
from tests.conftest import CONFIGS, MODELS

HOURS_48 = 48 / 24 / 365.25  # years (1 day = 1/365.25 year, ces.modelfile.units)


# ----------------------------------------------------------------------------------- published example
def test_sumatriptan_tree_reproduces_the_printed_results():
    """Evans et al. 1997 / DMHEE Box 2.3, as printed by rdecision's DT01 vignette (models/tree_sumatriptan.yaml):
    expected cost 22.06 and 4.71 (CAD), expected utility 0.41686 and 0.20128; ces's QALYs are the expected
    utility × 48 hours."""
    res = run(CONFIGS / "tree_sumatriptan.yaml")
    tot = res.base.totals()
    printed = {"sumatriptan": (22.06, 0.41686), "caffeine": (4.71, 0.20128)}
    for s, (cost, utility) in printed.items():
        assert round(tot[s]["total_cost"], 2) == cost, (s, tot[s])
        assert round(tot[s]["qaly"] / HOURS_48, 5) == utility, (s, tot[s])
        assert tot[s]["ly"] == pytest.approx(HOURS_48, rel=1e-12)  # every path lasts 48 hours
    assert len(res.icers) == 2  # the ICER table of the usual pipeline


def test_sumatriptan_path_probabilities_match_the_printed_table():
    _, model = build(MODELS / "tree_sumatriptan.yaml")
    printed = {"sumatriptan": [0.3315, 0.2265, 0.4066, 0.0353, 0.0001],
               "caffeine": [0.2664, 0.1126, 0.5713, 0.0496, 0.0001]}
    order = ["relief/no_recurrence", "relief/recurrence", "no_relief/endures", "no_relief/emergency/ed_relief",
             "no_relief/emergency/admitted"]  # leaves A-E (F-J)
    for s, probs in printed.items():
        paths = model.run_strategy(s).tree_paths
        assert [round(float(paths[p][0]), 4) for p in order] == probs
        assert sum(float(p[0]) for p in paths.values()) == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------- tree entering a Markov model
MARKOV = """\
ces: 1
title: tree front end test
kind: markov
cycle: 1 year
horizon: 10 cycles
correction: half-cycle
discount: {costs: 0.03, effects: 0.015}
parameters:
  p_sick: {value: 0.1, dist: beta, alpha: 10, beta: 90}
  p_die: {value: 0.05, dist: beta, alpha: 5, beta: 95}
  p_resp: {value: 0.7, dist: beta, alpha: 70, beta: 30}
  rr_sick: 1
  p_early_death: 0.05
  c_well: {value: 100, dist: gamma, shape: 100, scale: 1}
  c_sick: 1000
  c_drug: 5000
  c_wait: 200
  u_sick: 0.6
  u_wait: 0.5
states:
  Well: {cost: c_well, utility: 1}
  Sick: {cost: c_sick, utility: u_sick}
  Dead: {dead: true}
transitions:
  Well: {Well: rest, Sick: p_sick * rr_sick, Dead: p_die}
  Sick: {Sick: rest, Dead: 2 * p_die}
strategies:
"""

TREE_STRATEGIES = """\
  usual: {}
  new:
    parameters: {c_sick: 900}
    tree:
      costs: {apheresis: c_drug * 0.1}
      duration: 1 month
      utility: u_wait
      branches:
        treated: {p: p_resp, costs: {drug: c_drug}, enter: Well, parameters: {rr_sick: 0.5}}
        not_treated:
          p: rest
          branches:
            died: {p: p_early_death, cost: c_wait}
            alive: {p: rest, enter: Sick, states: {Sick: {utility: 0.55}}, duration: 2 weeks, utility: 0.4}
"""

SEPARATE_STRATEGIES = """\
  usual: {}
  treated: {parameters: {c_sick: 900, rr_sick: 0.5}, initial: {Well: 1}}
  alive: {parameters: {c_sick: 900}, initial: {Sick: 1}, states: {Sick: {utility: 0.55}}}
"""


@pytest.fixture
def tree_and_separate(tmp_path):
    t = tmp_path / "tree.yaml"
    t.write_text(MARKOV + TREE_STRATEGIES)
    s = tmp_path / "separate.yaml"
    s.write_text(MARKOV + SEPARATE_STRATEGIES)
    return build(t)[1], build(s)[1]


def _hand_fold(tree, sep, M_t, M_a, v) -> np.ndarray:
    """The fold-back written out for this tree: root payoff at t = 0, everything after it at T = 1 month
    (d_r(T) = (1 + r)^-T per stream), the `alive` branch's model entered 2 weeks later, at T + W."""
    T, W = 1 / 12, 14 / 365.25
    streams = tree.streams

    def factors(t):
        return np.array([cv.discount_factors(0.03 if s in tree.cost_streams else 0.015, np.array([t]))[0]
                         for s in streams])
    d, d_w = factors(T), factors(T + W)
    assert sep.streams != streams  # the tree adds the categories `apheresis` and `drug`
    D = M_t.shape[0]

    def on_tree_streams(M):
        out = np.zeros((D, len(streams)))
        for j, s in enumerate(sep.streams):
            out[:, streams.index(s)] = M[:, j]
        return out

    root = np.zeros((D, len(streams)))
    root[:, streams.index("apheresis")] = 0.1 * 5000
    root[:, streams.index("qaly")] = 0.5 * T
    root[:, streams.index("ly")] = T
    treated = np.zeros((D, len(streams)))
    treated[:, streams.index("drug")] = 5000
    died = np.zeros((D, len(streams)))
    died[:, streams.index("cost")] = 200
    alive = np.zeros((D, len(streams)))
    alive[:, streams.index("qaly")] = 0.4 * W
    alive[:, streams.index("ly")] = W
    p = v["p_resp"].reshape(-1, 1)
    return root + p * d * (treated + on_tree_streams(M_t)) + (1 - p) * (
        0.05 * d * died + 0.95 * (d * alive + d_w * on_tree_streams(M_a)))


def test_tree_into_markov_equals_weighted_separate_cohort_runs(tree_and_separate):
    tree, sep = tree_and_separate
    got = tree.run_strategy("new").totals
    want = _hand_fold(tree, sep, sep.run_strategy("treated").totals, sep.run_strategy("alive").totals,
                      {"p_resp": np.array([0.7])})
    assert np.allclose(got, want, rtol=1e-13, atol=0)
    # a strategy without a tree is the model itself, bit for bit
    assert np.array_equal(tree.run_strategy("usual").totals, _on(tree, sep, sep.run_strategy("usual").totals))


def _on(tree, sep, M):
    out = np.zeros((M.shape[0], len(tree.streams)))
    for j, s in enumerate(sep.streams):
        out[:, tree.streams.index(s)] = M[:, j]
    return out


def test_tree_into_markov_psa_equals_weighted_separate_psa_runs(tree_and_separate):
    tree, sep = tree_and_separate
    n, seed = 64, 99
    pt, ps = run_psa(tree, n, seed, chunk=25), run_psa(sep, n, seed, chunk=64)
    v = {"p_resp": pt.samples[:, parameter_columns(tree, pt.sample_names)["p_resp"]]}
    assert np.std(v["p_resp"]) > 0  # the tree's probability is drawn
    want = _hand_fold(tree, sep, ps.totals["treated"], ps.totals["alive"], v)
    assert np.allclose(pt.totals["new"], want, rtol=1e-12, atol=0)
    assert np.array_equal(pt.totals["usual"], _on(tree, sep, ps.totals["usual"]))


def test_tree_psa_bit_identical_across_threads_and_chunks(tree_and_separate):
    tree, _ = tree_and_separate
    ref = None
    try:
        for chunk, threads in ((300, 1), (37, 2), (1, 1), (128, 2)):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            res = run_psa(tree, 300, 2026, chunk, undiscounted=True)
            got = np.hstack([res.totals[s] for s in res.strategies] + [res.totals_undisc[s] for s in res.strategies])
            if ref is None:
                ref = got
            assert np.array_equal(ref, got), (chunk, threads)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def test_tree_categories_are_payer_streams_and_keep_reconciles(tree_and_separate):
    tree, _ = tree_and_separate
    assert {"apheresis", "drug"} <= set(tree.payer_streams)
    r = tree.run_strategy("new", keep=True)
    assert r.trace.shape == (1, tree.n_cycles + 1, 3)
    # the trace of the cohort that entered the model: mass = P(entering) = 1 − P(died in the tree)
    assert r.trace[0, 0].sum() == pytest.approx(1 - 0.3 * 0.05, abs=1e-12)


# ------------------------------------------------------------------------- partitioned survival entry
def test_tree_into_psm_is_the_model_when_trivial_and_takes_curve_overrides(tmp_path):
    text = (MODELS / "trastuzumab_psm.yaml").read_text()
    plain = build(MODELS / "trastuzumab_psm.yaml")[1]
    trivial = tmp_path / "t.yaml"
    trivial.write_text(text + "tree:\n  branches:\n    all: {p: 1, enter: PF}\n")
    m = build(trivial)[1]
    for s in plain.strategies:
        assert np.array_equal(m.run_strategy(s).totals, plain.run_strategy(s).totals)
    over = tmp_path / "o.yaml"
    over.write_text(text + "tree:\n  branches:\n    a: {p: 0.25, enter: PF, curves: {pfs: {hr: 0.8}}}\n"
                    "    b: {p: rest, qaly: 1, cost: 10}\n")
    sep = tmp_path / "s.yaml"
    sep.write_text(text.replace("  chemo: {label: Chemotherapy}", "  chemo: {label: Chemotherapy, curves: {pfs: {hr: 0.8}}}"))
    got = build(over)[1].run_strategy("chemo").totals
    M = build(sep)[1].run_strategy("chemo").totals
    pay = np.zeros_like(M)
    pay[:, plain.streams.index("cost")] = 10
    pay[:, plain.streams.index("qaly")] = 1
    assert np.allclose(got, 0.25 * M + 0.75 * pay, rtol=1e-13, atol=0)


# --------------------------------------------------------------------------------------- bad trees
BAD = MARKOV.replace("strategies:\n", "") + "strategies:\n  s: {}\ntree:\n"

BAD_CASES = [
    ("not-summing", "  branches:\n    a: {p: 0.5, enter: Well}\n    b: {p: 0.4, enter: Sick}\n",
     ["branch probabilities sum to 0.9", "tree.branches", "bad.yaml:"]),
    ("outside-0-1", "  branches:\n    a: {p: 1.2, enter: Well}\n    b: {p: rest, enter: Sick}\n",
     ["outside [0, 1]", "tree.branches.a.p"]),
    ("rest-negative", "  branches:\n    a: {p: 0.7, enter: Well}\n    b: {p: 0.6, enter: Well}\n    c: {p: rest}\n",
     ["`rest`", "negative", "tree.branches.c.p"]),
    ("two-rest", "  branches:\n    a: {p: rest, enter: Well}\n    b: {p: rest, enter: Sick}\n",
     ["more than one `rest`", "tree.branches"]),
    ("unknown-state", "  branches:\n    a: {p: 1, enter: Sicker}\n", ["unknown state `Sicker`", "tree.branches.a.enter"]),
    ("unknown-parameter", "  branches:\n    a: {p: p_respp, enter: Well}\n    b: {p: rest, enter: Sick}\n",
     ["unknown name `p_respp`", "did you mean `p_resp`", "tree.branches.a.p"]),
    ("unknown-override", "  branches:\n    a: {p: 1, enter: Well, parameters: {c_sickk: 1}}\n",
     ["unknown parameter `c_sickk`", "tree.branches.a.parameters.c_sickk"]),
    ("unknown-state-override", "  branches:\n    a: {p: 1, enter: Well, states: {Sik: {utility: 0.5}}}\n",
     ["unknown state `Sik`", "tree.branches.a.states.Sik"]),
    ("missing-p", "  branches:\n    a: {enter: Well}\n", ["needs a probability `p`", "tree.branches.a"]),
    ("root-p", "  p: 1\n  branches:\n    a: {p: 1, enter: Well}\n", ["root of a tree has no probability", "tree.p"]),
    ("cycle", "  subtree: x\n  subtrees:\n    x: {branches: {a: {p: 0.5, subtree: y}, b: {p: rest, enter: Well}}}\n"
     "    y: {branches: {c: {p: 1, subtree: x}}}\n", ["cycle x → y → x", "subtrees.y.branches.c.subtree"]),
    ("unknown-subtree", "  subtree: z\n", ["unknown subtree `z`", "tree.subtree"]),
    ("duplicate-node", "  branches:\n    a: {p: 0.5, enter: Well}\n    a: {p: 0.5, enter: Sick}\n",
     ["duplicate key `a`"]),
    ("enter-not-terminal", "  branches:\n    a: {p: 1, enter: Well, branches: {b: {p: 1}}}\n",
     ["only a terminal branch", "tree.branches.a.enter"]),
    ("override-without-enter", "  branches:\n    a: {p: 1, parameters: {c_sick: 1}}\n",
     ["belong to a terminal branch that enters", "tree.branches.a.parameters"]),
    ("override-with-dist", "  branches:\n    a: {p: 1, enter: Well, parameters: {c_sick: {value: 1, dist: gamma, "
     "shape: 1, scale: 1}}}\n", ["cannot carry a distribution", "tree.branches.a.parameters.c_sick"]),
    ("utility-without-duration", "  utility: 0.5\n  branches:\n    a: {p: 1, enter: Well}\n",
     ["needs a `duration`", "tree.utility"]),
    ("unknown-key", "  branches:\n    a: {p: 1, enter: Well, probability: 1}\n", ["unknown key `probability`"]),
]


@pytest.mark.parametrize("case,tree,fragments", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_tree_gives_one_line_located_error(runner, tmp_path, case, tree, fragments):
    from ces.cli import app

    p = tmp_path / "bad.yaml"
    p.write_text(BAD + tree)
    result = runner.invoke(app, ["run", str(p)])
    msg = result.stderr.strip()
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in msg and len(msg.splitlines()) == 1, msg
    assert msg.startswith("error: ") and "bad.yaml:" in msg, msg
    for frag in fragments:
        assert frag in msg, (frag, msg)


def test_probabilities_checked_per_psa_draw(tmp_path):
    """Base case sums to 1; the PSA draws of `p_resp` do not: a check error naming the draw and the node."""
    p = tmp_path / "bad.yaml"
    p.write_text(BAD + "  branches:\n    a: {p: p_resp, enter: Well}\n    b: {p: 0.3, enter: Sick}\n")
    _, model = build(p)
    model.run_strategy("s")  # base case: 0.7 + 0.3 = 1
    with pytest.raises(ModelCheckError) as e:
        run_psa(model, 50, 1, chunk=20)
    msg = str(e.value)
    assert "draw 1" in msg and "tree.branches" in msg and "must be 1 within 1e-09" in msg, msg
    p.write_text(BAD + "  branches:\n    a: {p: 2 * p_resp, enter: Well}\n    b: {p: rest, enter: Sick}\n")
    with pytest.raises(ModelCheckError, match=r"outside \[0, 1\]"):
        build(p)[1].run_strategy("s")


def test_psm_is_entered_in_its_first_state(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text((MODELS / "trastuzumab_psm.yaml").read_text() + "tree:\n  branches:\n    a: {p: 1, enter: PD}\n")
    with pytest.raises(CesError, match="entered in its first state `PF`"):
        build(p)


def test_pure_tree_refuses_states_and_enter(tmp_path):
    text = (MODELS / "tree_sumatriptan.yaml").read_text()
    p = tmp_path / "t.yaml"
    p.write_text(text.replace("admitted: {label", "admitted: {enter: Well, label"))
    with pytest.raises(CesError, match="no model to enter"):
        build(p)
    p.write_text(text.replace("kind: tree", "kind: markov"))
    with pytest.raises(CesError, match="at least 2 `states`"):
        build(p)


def test_validate_prints_each_tree_and_run_names_the_structure(runner, tree_and_separate, tmp_path):
    from ces.cli import app

    r = runner.invoke(app, ["validate", str(CONFIGS / "tree_sumatriptan.yaml")])
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())  # rich may wrap long lines
    assert "Decision tree `tree` (strategies: sumatriptan, caffeine)" in out
    assert "emergency (Emergency department) · p = p_ed · cost: c_ed" in out
    assert "utility u_admitted × 48 hours · ends" in out and "States" not in out
    t = tmp_path / "tree.yaml"
    t.write_text(MARKOV + TREE_STRATEGIES)
    out = " ".join(runner.invoke(app, ["validate", str(t)]).stdout.split())
    assert "treated · p = p_resp · drug: c_drug · → enter Well (parameters: rr_sick)" in out
    assert "markov + decision tree · 3 states" in runner.invoke(app, ["run", str(t)]).stdout
    assert "decision tree · discount" in runner.invoke(app, ["run", str(CONFIGS / "tree_sumatriptan.yaml")]).stdout


def test_subtree_bomb_stops_at_the_node_limit(tmp_path):
    """20 nested subtrees, each used twice by the one before: 2^20 branches; refused at max_tree_nodes."""
    subs = "".join(f"    s{i}: {{branches: {{a: {{p: 0.5, subtree: s{i + 1}}}, b: {{p: rest, subtree: s{i + 1}}}}}}}\n"
                   for i in range(20))
    p = tmp_path / "bomb.yaml"
    p.write_text(BAD + "  subtree: s0\n  subtrees:\n" + subs + "    s20: {branches: {x: {p: 1, enter: Well}}}\n")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("ces: 1\nmodel: bomb.yaml\nlimits: {max_tree_nodes: 2000}\n")  # the default is 100,000
    with pytest.raises(CesError) as e:
        build(cfg)
    msg = str(e.value)
    assert "above the limit max_tree_nodes = 2,000" in msg and "bomb.yaml" in msg and "subtrees.s" in msg, msg


def test_pure_tree_psa_draws_probabilities_per_draw(tmp_path):
    """`kind: tree` under PSA: the expected cost of each draw is the fold-back with that draw's p_ed; any chunk
    size gives the same draws."""
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"ces: 1\nmodel: {MODELS / 'tree_sumatriptan.yaml'}\n"
                   "parameters: {p_ed: {value: 0.08, dist: beta, alpha: 8, beta: 92}}\n")
    _, model = build(cfg)
    a, b = run_psa(model, 40, 3, chunk=40), run_psa(model, 40, 3, chunk=7)
    assert all(np.array_equal(a.totals[s], b.totals[s]) for s in a.strategies)
    p_ed = a.samples[:, parameter_columns(model, a.sample_names)["p_ed"]]
    assert np.std(p_ed) > 0
    for s, (c_drug, p_relief, p_rec) in {"sumatriptan": (16.10, 0.558, 0.406), "caffeine": (1.32, 0.379, 0.297)}.items():
        want = c_drug * (1 + p_relief * p_rec) + (1 - p_relief) * p_ed * (63.16 + 0.002 * 1093)
        got = a.totals[s][:, model.streams.index("cost")]
        assert np.allclose(got, want, rtol=1e-12, atol=0), s
