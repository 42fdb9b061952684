"""The Markov path: transition entries over the kernel states, transition rewards, the trace kernel.

One job: evaluate a compiled strategy's transition rows into entries (i, j, p) over the expanded states
(tunnel state X#r moves to X#(r+1) while staying, to the first residence of another state), the
transition rewards, and the initial occupancy; pack them for
:func:`ces.engine.kernels.markov_totals`, which computes the trace m_(k) = m_(k−1)·P_k (a `rest`
entry is 1 − the others of its row), the flows × transition rewards and the reward totals in one pass
(the same reward sum as a PSM, :mod:`ces.engine.rewards`), and checks rows and mass
(:mod:`ces.engine.checks`).
"""

from __future__ import annotations

import numpy as np

from ces.engine import kernel_codegen
from ces.engine.checks import REST, ROW_TOL, check_initial, raise_check
from ces.engine.evaluate import expr_array
from ces.engine.kernels import markov_totals
from ces.engine.strategy import is_rest


def residence_envs(m, cs, base_env: dict, dr) -> dict:
    """Parameter values per residence r for tunnel states (only residence-dependent ones recomputed)."""
    out = {}
    Lmax = max((r for _, r in m.expanded), default=0)
    for r in range(1, Lmax + 1):
        env = dict(base_env)
        env["residence"] = float(r)
        out[r] = cs.evaluator.evaluate(env, dr, reuse=base_env,
                                       recompute={n for n, u in cs.evaluator.uses.items() if "residence" in u})
    return out


def transition_entries(m, cs, tenv, dr) -> list:
    """Transition entries (i, j, probabilities (Dp, Kp) or REST, label) over the expanded states.

    Within each row the `rest` entry comes last: the kernel computes it as 1 − the others.
    """
    renvs = residence_envs(m, cs, tenv, dr) if any(r for _, r in m.expanded) else {}
    idx: dict = {}
    for k, (s, r) in enumerate(m.expanded):
        idx.setdefault(s, []).append(k)
    entries = []
    for i, (s, r) in enumerate(m.expanded):
        if s not in cs.rows:  # dead state without a row: absorbing
            entries.append((i, i, np.ones((1, 1)), (s, r, s)))
            continue
        env = renvs[r] if r else tenv
        row = cs.rows[s]
        ordered = [to for to, e in row.items() if not is_rest(e)] + [to for to, e in row.items() if is_rest(e)]
        for to in ordered:
            e = row[to]
            if to == s and r:  # staying in a tunnel state: one more cycle of residence
                j = idx[s][min(r, len(idx[s]) - 1)]
            else:
                j = idx[to][0]
            v = REST if is_rest(e) else np.ascontiguousarray(expr_array(m, e, env), dtype=np.float64)
            entries.append((i, j, v, (s, r, to)))
    return entries


def transition_rewards(m, cs, tenv, D, n, dr) -> np.ndarray:
    """Transition rewards TR (Dt, R, Kt, S, S): a one-off per person moving i → j (into the first
    residence of a tunnel), per stream; none → shape (1, 0, 1, S, S)."""
    S = len(m.expanded)
    R = len(m.streams)
    if not cs.trans_rewards:
        return np.zeros((1, 0, 1, S, S))
    arrays = []
    for frm, to, rewards, where in cs.trans_rewards:
        for stream, e in rewards.items():
            a = expr_array(m, e, tenv)
            for i, (s, r) in enumerate(m.expanded):
                if s != frm:
                    continue
                for j, (s2, r2) in enumerate(m.expanded):
                    if s2 == to and r2 <= 1 and (s2 != s):
                        arrays.append((m.streams.index(stream), i, j, a))
    Dt = max(a.shape[0] for *_, a in arrays)
    Kt = max(a.shape[1] for *_, a in arrays)
    TR = np.zeros((Dt, R, Kt, S, S))
    for ri, i, j, a in arrays:
        TR[:, ri, :, i, j] += np.broadcast_to(a, (Dt, Kt))
    return TR


def initial_occupancy(m, cs, venv, D) -> np.ndarray:
    """Initial occupancy (Di, S_expanded) at period 0, normalised to total 1 (checked first)."""
    S = len(m.expanded)
    env0 = {k: (v[:, :1] if isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[1] > 1 else v)
            for k, v in venv.items()}
    vals = {s: expr_array(m, e, env0)[:, 0] for s, e in cs.initial.items()}
    Di = max(v.shape[0] for v in vals.values())
    init = np.zeros((Di, S))
    for s, v in vals.items():
        k = next(i for i, (st, r) in enumerate(m.expanded) if st == s)
        init[:, k] = v
    check_initial(m, cs, init)
    tot = init.sum(axis=1)
    return init / tot[:, None]


def markov_inputs(m, cs, tenv, venv, D, dr) -> tuple:
    """(entries, kernel arguments (frm, to, rest, buf, off, sd, sk, S, init, TR)) of a strategy's trace.

    A curve named in a transition row is its per-cycle probability
    (:func:`ces.engine.partitioned.curve_probabilities`).
    """
    S = len(m.expanded)
    init = initial_occupancy(m, cs, venv, D)
    if cs.curves:
        from ces.engine.partitioned import curve_probabilities

        tenv = {**tenv, **curve_probabilities(m, cs, venv, D)}
    entries = transition_entries(m, cs, tenv, dr)
    TR = transition_rewards(m, cs, tenv, D, m.n_cycles, dr)
    return entries, pack_entries(entries) + (S, init, TR)


def markov_path_totals(m, cs, tenv, venv, D, dr, draw_offset, V, alpha, beta, disc, keep=False) -> tuple:
    """(totals, totals_undisc) (D, R) of the Markov path, and with ``keep`` the trace (D, n+1, S) and the
    undiscounted value of each period (D, R, n+1) (else None, None), checked: one pass of
    :func:`ces.engine.kernels.markov_totals`, or in a PSA chunk its generated form for this structure
    (:mod:`ces.engine.kernel_codegen`, bit-identical).  On a failed check it runs again keeping the trace, for the
    located error message (:func:`ces.engine.checks.raise_check`)."""
    entries, args = markov_inputs(m, cs, tenv, venv, D, dr)
    R, n1 = V.shape[1], m.n_cycles + 1
    totals = np.empty((D, R))
    totals_u = np.empty((D, R))
    trace = np.empty((D if keep else 0, n1, len(m.expanded)))
    periods = np.empty((D if keep else 0, R, n1))
    err = np.zeros((D, 4), dtype=np.int64)
    gen = None if keep or D == 1 else kernel_codegen.choose(kernel_codegen.structure_of(args, V),
                                                            float(D) * (n1 - 1) * len(entries))
    if gen is not None:  # the same kernel unrolled for this structure: bit-identical totals and checks
        kernel_codegen.run_generated(gen, args, ROW_TOL, V, alpha, beta, disc, err, totals, totals_u)
    else:
        markov_totals(*args, ROW_TOL, V, alpha, beta, disc, err, totals, totals_u, trace, periods)
    if err[:, 0].any():
        if not keep:
            trace, periods = np.empty((D, n1, len(m.expanded))), np.empty((D, R, n1))
            markov_totals(*args, ROW_TOL, V, alpha, beta, disc, err, totals, totals_u, trace, periods)
        raise_check(m, cs, err, entries, trace, draw_offset, D)
    return totals, totals_u, (trace if keep else None), (periods if keep else None)


def pack_entries(entries: list) -> tuple:
    """Flatten transition entries into one buffer with per-entry offsets and draw/cycle strides."""
    frm = np.array([e[0] for e in entries], dtype=np.int64)
    to = np.array([e[1] for e in entries], dtype=np.int64)
    rest = np.array([1 if e[2] is REST else 0 for e in entries], dtype=np.int64)
    arrays = [e[2] for e in entries]
    sizes = np.array([a.size for a in arrays], dtype=np.int64)
    off = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    sd = np.array([a.shape[1] if a.shape[0] > 1 else 0 for a in arrays], dtype=np.int64)
    sk = np.array([1 if a.shape[1] > 1 else 0 for a in arrays], dtype=np.int64)
    buf = np.concatenate([a.ravel() for a in arrays])
    return frm, to, rest, buf, off, sd, sk
