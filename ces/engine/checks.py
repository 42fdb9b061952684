"""Checks of a model's numbers, each turned into a one-line error naming strategy, cycle, state and value.

One job: the kernel's row and mass checks (every transition probability in [0, 1], rows summing to 1
within ``ROW_TOL``, trace mass 1), the initial occupancy, finite state values, the PSM crossing error,
and folding tunnel sub-states back into their states for reporting.
"""

from __future__ import annotations

import numpy as np

from ces.errors import ModelCheckError

REST = np.zeros((1, 1))  # placeholder value of a `rest` entry (computed in the kernel; compared by identity)
ROW_TOL = 1e-9  # |Σ_j p_ij − 1| allowed in a transition row (rows with `rest` are exact by construction)


def raise_check(m, cs, err, entries, trace, draw_offset, D) -> None:
    """Turn the kernel's first failed check into a one-line error naming strategy, cycle, state, value.

    ``err[d] = (kind, cycle, state, entry)``: kind 1 an entry outside [0, 1], 2 a row not summing to 1
    within ROW_TOL, 3 the trace mass leaving 1 (:func:`ces.engine.kernels.markov_totals`).
    """
    bad = np.flatnonzero(err[:, 0])
    d = int(bad[0])
    kind, k, i, e = (int(x) for x in err[d])
    where = f"strategy `{cs.name}`, cycle {k}" + (f", draw {d + draw_offset + 1}" if D > 1 else "")

    def value(v):
        return v[d if v.shape[0] > 1 else 0, k - 1 if v.shape[1] > 1 else 0]

    if kind == 1:
        ii, _, v, (s, r, to) = entries[e]
        val = value(v) if v is not REST else 1.0 - sum(value(w) for i2, _, w, _ in entries[:e]
                                                          if i2 == ii and w is not REST)
        file, path, line = cs.row_where[s]
        tun = f" (residence {r})" if r else ""
        raise ModelCheckError(f"{where}: probability {s}{tun} → {to} = {val:.10g} is outside [0, 1]",
                              file=file, path=f"{path}.{to}", line=line)
    if kind == 2:
        s, r = m.expanded[i]
        tot = 0.0
        for ii, _, v, _ in entries:
            if ii == i and v is not REST:
                tot += value(v)
        file, path, line = cs.row_where[s]
        tun = f" (residence {r})" if r else ""
        raise ModelCheckError(f"{where}: row `{s}`{tun} sums to {tot:.12g}, must be 1 within {ROW_TOL:g} "
                              "(write `rest` for the complement)", file=file, path=path, line=line)
    mass = trace[d, k].sum()
    raise ModelCheckError(f"{where}: trace mass is {mass:.12g}, expected 1",
                          file=m.loaded.model_loc.file, path="transitions")


def check_initial(m, cs, init) -> None:
    """Initial occupancy: every share ≥ 0 and finite, with a positive total (it is then normalised)."""
    tot = init.sum(axis=1)
    if (init < 0).any() or (tot <= 0).any() or not np.isfinite(init).all():
        f, p, line = m.loaded.locate(("initial",))
        raise ModelCheckError(f"strategy `{cs.name}`: initial occupancy must be ≥ 0 with a positive total",
                              file=f, path=p, line=line)


def check_values(m, cs, V) -> None:
    """State values V (draws × streams × periods × states) must be finite: else name stream, state, period."""
    if not np.isfinite(V).all():
        d, ri, k, si = np.argwhere(~np.isfinite(V))[0]
        what = f"state `{m.expanded[si][0]}`" if si < len(m.expanded) else "a curve cost"
        raise ModelCheckError(f"strategy `{cs.name}`: {m.streams[ri]} of {what} is "
                              f"not finite at period {k}", file=m.loaded.model_loc.file, path="states")


def crossing_error(m, cs, D, draw_offset):
    """The PSM crossing error (policy ``crossing: error``) as a callback for
    :func:`ces.engine.psm.partition_occupancy`: ``(j, d, k, lower, upper)`` → a located one-line error."""
    spec = m.loaded.model

    def error(j, d, k, lower, upper):
        a, b = spec.partition[j - 1], spec.partition[j]
        f, p, line = m.loaded.locate(("crossing",))
        raise ModelCheckError(f"strategy `{cs.name}`, cycle {k}{f', draw {d + draw_offset + 1}' if D > 1 else ''}"
                              f": curve `{a}` ({lower:.6g}) is above `{b}` ({upper:.6g}); set `crossing: cap` to "
                              "cap it at the upper curve", file=f, path="crossing" if p else "partition", line=line)
    return error


def fold_trace(m, trace: np.ndarray) -> np.ndarray:
    """Sum tunnel sub-states back into their states: (D, n+1, S_expanded) → (D, n+1, S)."""
    if len(m.expanded) == len(m.states):
        return trace
    out = np.zeros(trace.shape[:2] + (len(m.states),))
    for k, (s, r) in enumerate(m.expanded):
        out[:, :, m.states.index(s)] += trace[:, :, k]
    return out
