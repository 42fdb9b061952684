"""EVPPI (regression method) against closed forms, a two-level Monte Carlo, a published example; interfaces."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

from ces.analysis.evppi import evppi_partition, evppi_regression, incremental
from ces.cli import app
from tests.conftest import CONFIGS


def unit_normal_loss(z: float) -> float:
    """L(z) = E[max(Z − z, 0)] = φ(z) − z(1 − Φ(z)) for a standard normal Z."""
    return float(norm.pdf(z) - z * norm.sf(z))


def linear_gaussian_evppi(m: float, s: float) -> float:
    """EVPPI when the conditional INB is N(m, s²): E max(0, g) − max(0, E g) = s·L(|m|/s)."""
    return s * unit_normal_loss(abs(m) / s)


# ----------------------------------------------------------------- (1) analytic linear-Gaussian

A, B_, C_ = -50.0, 100.0, 80.0
MU1, MU2, SD1, SD2, SD_EPS = 0.2, 0.1, 1.0, 0.7, 100.0


@pytest.fixture(scope="module")
def linear_sample():
    rng = np.random.default_rng(20140301)
    n = 10_000
    t1, t2 = rng.normal(MU1, SD1, n), rng.normal(MU2, SD2, n)
    inb = A + B_ * t1 + C_ * t2 + rng.normal(0.0, SD_EPS, n)
    # two strategies; at WTP 1 the INB of strategy 2 is its effect minus its cost
    effects = np.column_stack([np.zeros(n), inb + 5.0])
    costs = np.column_stack([np.zeros(n), np.full(n, 5.0)])
    return t1, t2, costs, effects


def test_linear_gaussian_evppi_within_3_se_of_closed_form(linear_sample):
    t1, t2, costs, effects = linear_sample
    dE, dC = incremental(costs, effects)
    m = A + B_ * MU1 + C_ * MU2
    cases = {"theta1": (t1, B_ * SD1), "theta2": (t2, C_ * SD2),
             "both": (np.column_stack([t1, t2]), math.hypot(B_ * SD1, C_ * SD2))}
    for name, (theta, s) in cases.items():
        exact = linear_gaussian_evppi(m, s)
        est = evppi_regression(dE, dC, theta, [1.0], n_boot=100, seed=1)
        assert est.se[0] > 0
        assert abs(est.evppi[0] - exact) < 3 * est.se[0], (name, est.evppi[0], exact, est.se[0])
        assert est.se[0] < 0.1 * exact  # the SE is informative, not a blanket tolerance
        assert not est.warnings
        if theta.ndim == 1:
            part = evppi_partition(dE, dC, theta, [1.0])[0]
            assert abs(part - exact) < 3 * est.se[0], (name, part, exact)


def test_evppi_ordering_and_bounds(linear_sample):
    """0 ≤ EVPPI(θ1) ≤ EVPPI(θ1, θ2) ≤ EVPI; the reference strategy does not change the estimate."""
    from ces.analysis.psa import evpi

    t1, t2, costs, effects = linear_sample
    w = [0.5, 1.0, 2.0]
    e1 = evppi_regression(*incremental(costs, effects), t1, w, n_boot=0).evppi
    e12 = evppi_regression(*incremental(costs, effects), np.column_stack([t1, t2]), w, n_boot=0).evppi
    ev = evpi(costs, effects, w)
    assert np.all(e1 >= 0) and np.all(e1 <= e12) and np.all(e12 <= ev)
    swapped = evppi_regression(*incremental(costs, effects, reference=1), t1, w, n_boot=0).evppi
    np.testing.assert_allclose(swapped, e1, rtol=1e-9, atol=1e-9)


def test_bootstrap_se_matches_replication_spread():
    """The bootstrap SE agrees with the sd of the estimator over independent PSA samples."""
    rng = np.random.default_rng(5)
    n, reps = 2000, 16
    est, ses = [], []
    for _ in range(reps):
        t1, t2 = rng.normal(MU1, SD1, n), rng.normal(MU2, SD2, n)
        inb = A + B_ * t1 + C_ * t2 + rng.normal(0.0, SD_EPS, n)
        r = evppi_regression(inb[:, None], np.zeros((n, 1)), t1, [1.0], n_boot=60, seed=int(rng.integers(1 << 30)))
        est.append(r.evppi[0])
        ses.append(r.se[0])
    sd = float(np.std(est, ddof=1))
    assert 0.6 < float(np.mean(ses)) / sd < 1.6, (np.mean(ses), sd)


def test_bad_fit_is_flagged():
    """A response that depends on θ through a high-frequency wave the spline cannot follow → warning."""
    rng = np.random.default_rng(3)
    n = 10_000
    t = rng.uniform(0, 1, n)
    inb = 200 * np.sin(60 * t) + rng.normal(0, 20, n)
    est = evppi_regression(inb[:, None], np.zeros((n, 1)), t, [1.0], n_boot=0)
    assert est.fit_p < 1e-6 and any("fit badly" in w for w in est.warnings)


# ----------------------------------------------------------------- (2) nested Monte Carlo, non-linear Markov

CYCLES, DISC = 20, 0.035


def markov_nb(p_hs, rr, c_trt, u_s, lam):
    """Healthy/Sick/Dead cohort, 20 yearly cycles, end-of-cycle counting, 3.5 % discounting.

    Strategy 1: untreated; strategy 2: treatment (per-cycle cost c_trt while alive) scales the
    healthy→sick probability by rr.  Costs: 1,000 healthy, 8,000 sick per cycle; utilities 1, u_s.
    Background deaths 0.02 (healthy) and 0.15 (sick).  Returns NB (…, 2) broadcasting the inputs.
    """
    p_hs, rr, c_trt, u_s = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (p_hs, rr, c_trt, u_s)))
    out = []
    for treat in (False, True):
        p = np.minimum(p_hs * rr, 0.98) if treat else p_hs
        h, s = np.ones_like(p), np.zeros_like(p)
        cost = np.zeros_like(p)
        qaly = np.zeros_like(p)
        for k in range(1, CYCLES + 1):
            h, s = h * (1 - 0.02 - p), s * (1 - 0.15) + h * p
            d = 1.0 / (1 + DISC) ** k
            cost += d * (1000 * h + 8000 * s + (c_trt * (h + s) if treat else 0.0))
            qaly += d * (h + u_s * s)
        out.append(lam * qaly - cost)
    return np.stack(out, axis=-1)


def draw_markov(rng, n):
    return {"p_hs": rng.beta(20, 80, n), "rr": np.exp(rng.normal(math.log(0.6), 0.35, n)),
            "c_trt": rng.gamma(25, 2000 / 25, n), "u_s": rng.beta(60, 40, n)}


def test_nested_monte_carlo_agrees_on_nonlinear_markov():
    lam = 30_000.0
    rng = np.random.default_rng(99)
    one = draw_markov(rng, 10_000)
    nb = markov_nb(one["p_hs"], one["rr"], one["c_trt"], one["u_s"], lam)
    dE, dC = nb[:, 1:] - nb[:, :1], np.zeros((10_000, 1))  # INB at λ in the effect slot, WTP 1
    for params in (["rr"], ["rr", "p_hs"]):
        theta = np.column_stack([one[p] for p in params])
        reg = evppi_regression(dE, dC, theta, [1.0], n_boot=100, seed=2)
        # two-level Monte Carlo: outer draws of the parameters of interest, inner draws of the rest
        n_out, n_in = 600, 1500
        outer = draw_markov(rng, n_out)
        inner = draw_markov(rng, n_in)
        args = {k: (outer[k][:, None] if k in params else inner[k][None, :]) for k in outer}
        nb_c = markov_nb(args["p_hs"], args["rr"], args["c_trt"], args["u_s"], lam)  # (n_out, n_in, 2)
        inb_in = nb_c[..., 1] - nb_c[..., 0]
        inb_c = inb_in.mean(axis=1)
        big = draw_markov(rng, 200_000)
        nb_big = markov_nb(big["p_hs"], big["rr"], big["c_trt"], big["u_s"], lam)
        mean_inb = float((nb_big[:, 1] - nb_big[:, 0]).mean())
        nested = float(np.maximum(inb_c, 0).mean() - max(mean_inb, 0.0))
        se_nested = float(np.maximum(inb_c, 0).std(ddof=1) / math.sqrt(n_out))
        # upward bias of max(0, ·) of a noisy inner mean: at most sd(inner INB)/sqrt(2π n_in)
        bias = float(inb_in.std(axis=1, ddof=1).mean()) / math.sqrt(2 * math.pi * n_in)
        tol = 3 * math.hypot(reg.se[0], se_nested) + bias
        assert abs(reg.evppi[0] - nested) < tol, (params, reg.evppi[0], nested, tol)
        assert reg.evppi[0] > 5 * reg.se[0]  # a non-trivial value is being compared



# ----------------------------------------------------------------- (3) published example: voi vignette

def r_mersenne_twister(seed: int) -> np.random.MT19937:
    """R's ``set.seed(seed)`` for the default Mersenne-Twister generator (R's RNG.c, documented in ?RNGkind):
    50 rounds of the LCG seed = 69069·seed + 1 (mod 2^32), then 625 more giving mti (discarded; R sets
    it to 624) and the 624-word state."""
    s = seed & 0xFFFFFFFF
    for _ in range(50):
        s = (69069 * s + 1) & 0xFFFFFFFF
    key = []
    for _ in range(625):
        s = (69069 * s + 1) & 0xFFFFFFFF
        key.append(s)
    bg = np.random.MT19937()
    bg.state = {"bit_generator": "MT19937", "state": {"key": np.array(key[1:], dtype=np.uint32), "pos": 624}}
    return bg


def r_unif(bg, n: int) -> np.ndarray:
    """R's unif_rand(): a tempered 32-bit MT word × 2.3283064365386963e-10, kept inside (0, 1)."""
    u = bg.random_raw(n).astype(np.float64) * 2.3283064365386963e-10
    return np.clip(u, 0.5 * 2.328306437080797e-10, 1.0 - 0.5 * 2.328306437080797e-10)


def r_rnorm(bg, n: int, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    """R's rnorm() with the default "Inversion" kind: u = (⌊2^27·U1⌋ + U2)/2^27, qnorm(u)."""
    u = r_unif(bg, 2 * n).reshape(n, 2)
    return mean + sd * norm.ppf((np.floor(134217728 * u[:, 0]) + u[:, 1]) / 134217728)


def test_r_rng_replica_matches_known_r_output():
    """set.seed(1); runif(3) and set.seed(1); rnorm(3) as printed by R."""
    np.testing.assert_allclose(r_unif(r_mersenne_twister(1), 3), [0.2655087, 0.3721239, 0.5728534], atol=5e-8)
    np.testing.assert_allclose(r_rnorm(r_mersenne_twister(1), 3), [-0.6264538, 0.1836433, -0.8356286], atol=5e-8)


def test_reproduces_voi_vignette_evppi():
    """voi package vignette "voi for Value of Information calculation: package overview" (C. Jackson,
    2023-08-26, chjackson/voi vignettes/voi.Rmd): set.seed(1); p1 ~ N(1, 1), p2 ~ N(0, 2) (sd), 10,000
    draws each; net benefit t1 = 0, t2 = p1 − p2.  Printed: mean NB 1.0018431, EVPI 0.4759885,
    EVPPI (mgcv GAM) p1 0.08210074 (SE 0.007093807), p2 0.39029827, (p1, p2) 0.4759885; sorted partition
    (20 blocks) p1 0.07997543; cost-effectiveness form at k = 1, 2, 3: p1 0.0821, 0.1705, 0.2590 and
    (p1, p2) 0.4760, 0.4028, 0.4174.  With R's generator replicated
    we analyse the very same draws, so the sample-based EVPI must agree to the printed digits and the
    EVPPI may differ only by the smoother (B-spline least squares vs mgcv's penalised thin-plate
    spline): required within one bootstrap SE (no SE is published)."""
    bg = r_mersenne_twister(1)
    p1 = r_rnorm(bg, 10_000, 1.0, 1.0)
    p2 = r_rnorm(bg, 10_000, 0.0, 2.0)
    nb = np.column_stack([np.zeros(10_000), p1 - p2])
    assert abs(nb[:, 1].mean() - 1.0018431) < 5e-8
    from ces.analysis.psa import evpi

    assert abs(evpi(np.zeros_like(nb), nb, [1.0])[0] - 0.4759885) < 5e-8
    dE, dC = incremental(np.zeros_like(nb), nb)
    for theta, published in ((p1, 0.08210074), (p2, 0.39029827), (np.column_stack([p1, p2]), 0.4759885)):
        est = evppi_regression(dE, dC, theta, [1.0], n_boot=200, seed=1)
        assert abs(est.evppi[0] - published) < est.se[0], (published, est.evppi[0], est.se[0])
        assert not est.warnings
        if theta is p1:  # voi's GAM SE (se=TRUE, B=100) is 0.007093807: ours is of the same size
            assert 0.7 < est.se[0] / 0.007093807 < 1.5, est.se[0]
    # Strong & Oakley's sorted partition, 20 blocks (voi method="so", n.blocks=20): same algorithm, same draws
    assert abs(evppi_partition(dE, dC, p1, [1.0], n_groups=20)[0] - 0.07997543) < 5e-9
    # cost-effectiveness form: e = (0, p1), c = (0, p2), k = 1, 2, 3
    dE, dC = incremental(np.column_stack([np.zeros(10_000), p2]), np.column_stack([np.zeros(10_000), p1]))
    for theta, published in ((p1, [0.08210074, 0.17052564, 0.25895085]),
                             (np.column_stack([p1, p2]), [0.47598851, 0.40280031, 0.41742073])):
        est = evppi_regression(dE, dC, theta, [1.0, 2.0, 3.0], n_boot=200, seed=1)
        assert np.all(np.abs(est.evppi - published) < est.se), (published, est.evppi, est.se)


# ----------------------------------------------------------------- interfaces

TINY = """\
ces: 1
title: tiny
kind: markov
cycle: 1 year
horizon: 1 cycles
correction: end
discount: {costs: 0, effects: 0}
parameters:
  c_well: {value: 100, dist: gamma, shape: 16, scale: 6.25}
  c_trt: {value: 50, dist: normal, mean: 50, sd: 10}
  u_well: {value: 0.8, dist: beta, alpha: 80, beta: 20}
  on_trt: 0
states:
  Well: {cost: c_well + on_trt * c_trt, utility: u_well + on_trt * 0.001}
  Dead: {dead: true}
transitions:
  Well: {Well: rest, Dead: 0}
strategies:
  base: {}
  trt: {parameters: {on_trt: 1}}
"""


def test_sampled_parameters_are_the_draws_the_psa_used(tmp_path):
    from ces.engine.psa import run_psa
    from ces.pipeline import build

    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    _, model = build(p)
    psa = run_psa(model, 5000, 11, chunk=777)
    s = psa.parameter_draws()
    assert set(s) == {"c_well", "c_trt", "u_well"}
    c = psa.matrix("cost")
    np.testing.assert_allclose(c[:, 0], s["c_well"], rtol=1e-12)
    np.testing.assert_allclose(c[:, 1] - c[:, 0], s["c_trt"], rtol=1e-9)


def test_parameter_draws_read_joint_entries_and_survive_a_merge(tmp_path):
    """Each parameter name reads its own column of the kept sample matrix: a joint entry's members their
    columns KEY[i], a scalar its key; equal to the draws regenerated from (seed, key, draw), for any chunk
    size, and after a merge of draw ranges (remote chunks)."""
    from ces.engine.psa import distribution_keys, merge_psa, run_psa
    from ces.params.sampling import sample_draws
    from ces.pipeline import build

    p = tmp_path / "joint.yaml"
    p.write_text(TINY.replace("  on_trt: 0\n", "  on_trt: 0\n  mix: {names: [p_a, p_b, p_c], dist: dirichlet, "
                              "counts: [50, 30, 20]}\n")
                 .replace("u_well + on_trt * 0.001", "u_well + on_trt * 0.001 + 0.01 * p_b - 0.02 * p_c"))
    _, model = build(p)
    psa = run_psa(model, 1500, 4, chunk=400)
    got = psa.parameter_draws()
    assert set(got) == {"c_well", "c_trt", "u_well", "p_a", "p_b", "p_c"}
    ref = sample_draws(distribution_keys(model), 4, 0, 1500)
    for i, name in enumerate(("p_a", "p_b", "p_c")):
        assert np.array_equal(got[name], ref["mix"][:, i])
    for name in ("c_well", "c_trt", "u_well"):
        assert np.array_equal(got[name], ref[name])
    assert not np.array_equal(got["p_a"], got["p_b"])
    parts = [(a, run_psa(model, min(1500, a + 600) - a, 4, chunk=250, first=a)) for a in (600, 0, 1200)]
    merged = merge_psa(parts, 1500).parameter_draws()
    assert all(np.array_equal(merged[k], got[k]) for k in got)


def test_cli_evppi_tables_outputs_and_errors(runner, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["evppi", str(CONFIGS / "sick_sicker.yaml"), "--draws", "1000", "--param", "u_S1",
                            "--param", "c_trtA", "--group", "utilities=u_S1,u_trtA", "--bootstrap", "20",
                            "--out", str(out), "--plots"])
    assert r.exit_code == 0, r.output
    assert "EVPPI at WTP 100,000" in r.output
    doc = json.loads((out / "results.json").read_text())
    rank = doc["psa"]["evppi_ranking"]
    assert [x["evppi"] for x in rank] == sorted((x["evppi"] for x in rank), reverse=True)
    assert {x["item"] for x in rank} == {"u_S1", "c_trtA", "utilities"}
    long = doc["psa"]["evppi"]
    assert {x["wtp"] for x in long} == {50000.0, 100000.0, 150000.0}
    g = {x["item"]: x for x in rank}
    assert g["utilities"]["evppi"] >= g["u_S1"]["evppi"] - 3 * g["u_S1"]["se"]
    assert all(x["evppi"] <= x["evpi"] + 1e-9 for x in long)
    loss = doc["psa"]["expected_loss"]
    wtp_rows = {x["wtp"]: x["evpi"] for x in doc["psa"]["wtp"]}
    for lam, evpi_v in wtp_rows.items():
        assert min(x["expected_loss"] for x in loss if x["wtp"] == lam) == pytest.approx(evpi_v, rel=1e-12)
    for name in ("psa_evppi.csv", "psa_evppi_ranking.csv", "psa_expected_loss.csv", "psa_ce_ellipse.csv",
                 "psa_convergence_curve.csv", "plots/evppi_bars.png", "plots/evppi_wtp.svg",
                 "plots/expected_loss.png", "plots/ce_plane_ellipses.png", "plots/convergence.png"):
        assert (out / name).exists(), name
    for args, msg in ((["--param", "nope"], "not a parameter with a PSA distribution"),
                      (["--group", "g="], "--group must be NAME=P1,P2"),
                      (["--group", "g=u_S1,nope"], "group `g`"),
                      (["--plots"], "--plots needs an output directory"),
                      (["--draws", "300000"], "at most 200,000 PSA draws"),
                      (["--bootstrap", "-1"], "--bootstrap must be at least 0")):
        r = runner.invoke(app, ["evppi", str(CONFIGS / "sick_sicker.yaml"), "--draws", "200", *args])
        assert r.exit_code == 2 and msg in r.output, (args, r.output)
        assert "Traceback" not in r.output


def test_config_evppi_block(runner, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"ces: 1\nmodel: {CONFIGS.parent / 'models' / 'sick_sicker.yaml'}\nwtp: [50000, 100000]\n"
                   "psa: {draws: 600, seed: 3, population: 1000, population_years: 5}\n"
                   "evppi: {parameters: [u_S1], groups: {costs: [c_trtA, c_trtB]}, wtp: 50000, bootstrap: 0}\n")
    r = runner.invoke(app, ["evppi", str(cfg), "--json", str(tmp_path / "r.json"), "-q"])
    assert r.exit_code == 0, r.output
    rank = json.loads((tmp_path / "r.json").read_text())["psa"]["evppi_ranking"]
    assert {x["item"] for x in rank} == {"u_S1", "costs"} and all(x["wtp"] == 50000.0 for x in rank)
    assert all(x["se"] is None for x in rank)  # bootstrap: 0 → no SE (null in JSON)
    for x in rank:  # population EVPPI = per person × 1000 × 5 (undiscounted)
        assert x["evppi_population"] == pytest.approx(x["evppi"] * 5000, rel=1e-12)
    text = cfg.read_text()
    cfg.write_text(text.replace("bootstrap: 0", "bootstrap: -1"))
    r = runner.invoke(app, ["evppi", str(cfg), "-q"])
    assert r.exit_code == 2 and "bootstrap" in r.output
    cfg.write_text(text.replace("parameters: [u_S1]", "parameters: [u_S9]"))
    r = runner.invoke(app, ["evppi", str(cfg), "-q"])
    assert r.exit_code == 2 and "c.yaml:5 evppi" in r.output and "`u_S9` is not a parameter" in r.output


def test_evppi_bit_identical_across_thread_counts(linear_sample):
    import numba

    t1, t2, costs, effects = linear_sample
    dE, dC = incremental(costs, effects)
    out = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            r = evppi_regression(dE[:3000], dC[:3000], np.column_stack([t1, t2])[:3000], [0.5, 1.0], n_boot=20, seed=4)
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        out.append(np.concatenate([r.evppi, r.se]))
    assert np.array_equal(out[0], out[1])


def test_sorted_partition_limits(linear_sample):
    """One group: no information (EVPPI 0); one draw per group: every draw known (EVPI)."""
    from ces.analysis.psa import evpi

    t1, _, costs, effects = linear_sample
    dE, dC = incremental(costs[:2000], effects[:2000])
    w = [0.5, 1.0, 3.0]
    np.testing.assert_allclose(evppi_partition(dE, dC, t1[:2000], w, n_groups=1), 0.0, atol=1e-9)
    np.testing.assert_allclose(evppi_partition(dE, dC, t1[:2000], w, n_groups=2000),
                               evpi(costs[:2000], effects[:2000], w), rtol=1e-9)


def test_evppi_per_perspective_uses_each_perspectives_costs():
    """Every perspective's EVPPI is the regression on that perspective's own per-draw costs
    (a sum of its categories), base-case perspective first; effects are shared."""
    from ces.analysis.evppi import evppi_regression, incremental
    from ces.analysis.voi_tables import evppi_tables, perspective_costs
    from ces.pipeline import run

    res = run(CONFIGS / "cart_lbcl_sweden.yaml", draws=400, seed=11)
    keys = [p.key for p in res.perspective_list]
    assert keys[0] == "societal" and "payer" in keys  # Sweden: societal base case (TLV)
    costs = perspective_costs(res.psa, res.perspective_list)
    assert list(costs) == keys
    np.testing.assert_array_equal(costs["payer"], res.psa.matrix("cost"))
    assert not np.array_equal(costs["societal"], costs["payer"])
    samples = res.psa.parameter_draws()
    p = sorted(samples)[0]
    w = [float(res.wtps[-1])]
    tabs = evppi_tables(res.psa, samples, "qaly", w, {p: ("parameter", [p])}, w[0], 0,
                        perspectives=res.perspective_list)
    rank = tabs["evppi_ranking"]
    assert list(dict.fromkeys(rank["perspective"])) == keys
    e = res.psa.matrix("qaly")
    for k in keys:
        dE, dC = incremental(costs[k], e, 0)
        direct = evppi_regression(dE, dC, samples[p][:, None], np.asarray(w), n_boot=0, seed=res.psa.seed)
        got = rank.loc[rank["perspective"] == k, "evppi"].iloc[0]
        assert got == pytest.approx(float(direct.evppi[0]), rel=1e-12, abs=1e-9)
