"""Reconstruct pseudo patient-level data from a digitised Kaplan–Meier curve (Guyot et al. 2012).

Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol 2012;12:9.

Inputs: the KM coordinates (t_k, S_k) read off the curve, the numbers at risk n_i at the published
times a_i, and optionally the total number of events D.  For each at-risk interval [a_i, a_(i+1)):

1. guess the number censored, c_i = round(n_i · S(a_(i+1)) / S(a_i) − n_(i+1));
2. spread the c_i censoring times evenly over the interval;
3. walk the KM steps k of the interval: events d_k = round(n̂_k · (1 − S_k / Ŝ_last)) with Ŝ_last the
   reconstructed KM at the last step with an event; n̂_(k+1) = n̂_k − d_k − (censored in [t_k, t_(k+1)));
4. correct c_i by n̂(a_(i+1)) − n_(i+1) and repeat 2–4 until the reconstructed number at risk at
   a_(i+1) equals the published one.

In the last interval the number censored is fixed so that the events add up to D when D is given;
otherwise it is the average censoring rate of the earlier intervals times the interval's length
(capped at the number at risk), as in Guyot et al.  The result has one row per pseudo-patient.

:func:`clean_km` (``ces fit --km ... --clean``) repairs the usual faults of digitised points first; see its
docstring.  :func:`pseudo_ipd` reads the two CSVs, cleans them when asked and reconstructs: the one path of
``ces fit --km`` and of the run-time refit of its recipe (:mod:`ces.survival.fit_recipe`).
"""

from __future__ import annotations

import numpy as np

from ces.errors import CesError


def check_inputs(t, s, at_time, at_n, km_file=None, risk_file=None):
    """Validate the digitised curve and the at-risk table; returns cleaned float arrays."""
    t, s = np.asarray(t, dtype=float), np.asarray(s, dtype=float)
    at_time, at_n = np.asarray(at_time, dtype=float), np.asarray(at_n, dtype=float)
    for arr, what, f in ((t, "time", km_file), (s, "survival", km_file), (at_time, "time", risk_file),
                         (at_n, "n_risk", risk_file)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise CesError(f"row {bad[0] + 1}: `{what}` is missing or not a number", file=f)
    if t.size < 2:
        raise CesError("the KM curve needs at least 2 coordinates", file=km_file)
    if np.any(t < 0):
        k = int(np.flatnonzero(t < 0)[0])
        raise CesError(f"row {k + 1}: negative time {t[k]:g} (times must be ≥ 0; --clean drops such clicks)",
                       file=km_file)
    if np.any(np.diff(t) < 0):
        k = int(np.flatnonzero(np.diff(t) < 0)[0])
        raise CesError(f"row {k + 2}: time {t[k + 1]:g} is before the previous {t[k]:g} "
                       "(KM coordinates must be sorted by time; --clean sorts them)", file=km_file)
    if np.any((s < 0) | (s > 1)):
        k = int(np.flatnonzero((s < 0) | (s > 1))[0])
        raise CesError(f"row {k + 1}: survival {s[k]:g} is outside [0, 1] (give proportions, not %)",
                       file=km_file)
    if np.any(np.diff(s) > 0):
        k = int(np.flatnonzero(np.diff(s) > 0)[0])
        raise CesError(f"row {k + 2}: survival goes up from {s[k]:g} to {s[k + 1]:g} (a KM curve is "
                       "non-increasing; clean the digitised points, e.g. with --clean)", file=km_file)
    if at_time.size < 1:
        raise CesError("the at-risk table is empty", file=risk_file)
    if np.any(at_time < 0):
        k = int(np.flatnonzero(at_time < 0)[0])
        raise CesError(f"row {k + 1}: negative time {at_time[k]:g}", file=risk_file)
    if np.any(np.diff(at_time) <= 0):
        k = int(np.flatnonzero(np.diff(at_time) <= 0)[0])
        raise CesError(f"row {k + 2}: at-risk times must be strictly increasing", file=risk_file)
    if np.any(at_n < 0) or np.any(at_n != np.round(at_n)):
        raise CesError("numbers at risk must be whole numbers ≥ 0", file=risk_file)
    if np.any(np.diff(at_n) > 0):
        k = int(np.flatnonzero(np.diff(at_n) > 0)[0])
        raise CesError(f"row {k + 2}: number at risk goes up from {at_n[k]:g} to {at_n[k + 1]:g} "
                       "(it can only fall over time)", file=risk_file)
    if at_time[0] > t[0] + 1e-12 and at_time[0] > 0:
        raise CesError(f"the at-risk table must start at or before the first KM time ({t[0]:g})", file=risk_file)
    if at_n[0] < 1:
        raise CesError("the number at risk at the start must be ≥ 1", file=risk_file)
    if t[0] > 0 or s[0] < 1:  # the curve starts at (0, 1)
        t, s = np.concatenate([[0.0], t]), np.concatenate([[1.0], s])
    return t, s, at_time, at_n.astype(int)


def clean_km(t, s, km_file=None):
    """The digitised points made fit for :func:`reconstruct` (``ces fit --km --clean``): ``(t, s, notes)``.

    A digitiser's clicks have three usual faults (IPDfromKM's ``preprocess`` repairs the same ones: Liu N,
    Zhou Y, Lee JJ. IPDfromKM. BMC Med Res Methodol 2021;21:111), repaired in this order, each one counted
    in ``notes`` so the user sees what changed:

    1. survival read in percent: when any value exceeds 1, every value is divided by 100 (a value above 100
       is an error);
    2. clicks left of the time axis (t < 0) are dropped;
    3. points are sorted by time, and by decreasing survival within a time (a vertical step read bottom up);
    4. upticks (S_k > S_(k-1), reading error: a KM curve never rises) are flattened by the running minimum,
       S_k := min(S_1, …, S_k).

    Nothing else is changed: the points are not smoothed, thinned or rescaled to start at 1."""
    t, s = np.asarray(t, dtype=float), np.asarray(s, dtype=float)
    ok = np.isfinite(t) & np.isfinite(s)
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        raise CesError(f"row {k + 1}: `{'time' if not np.isfinite(t[k]) else 'survival'}` is missing or not a "
                       "number", file=km_file)
    notes = []
    if s.size and s.max() > 1.0:
        if s.max() > 100.0 or s.min() < 0:
            raise CesError(f"survival must be proportions (0-1) or percentages (0-100), got values from "
                           f"{s.min():g} to {s.max():g}", file=km_file)
        s = s / 100.0
        notes.append("survival read as percentages (divided by 100)")
    if np.any(t < 0):
        notes.append(f"{int(np.sum(t < 0))} point(s) at negative times dropped")
        t, s = t[t >= 0], s[t >= 0]
    order = np.lexsort((-s, t))
    if np.any(order != np.arange(t.size)):
        notes.append("points sorted by time")
        t, s = t[order], s[order]
    floor = np.minimum.accumulate(s) if s.size else s
    if np.any(floor < s):
        notes.append(f"{int(np.sum(floor < s))} uptick(s) flattened (largest {np.max(s - floor):.3g})")
        s = floor
    return t, s, notes


def _walk(s, lo, hi, n_start, cens_at, s_last):
    """Events and at-risk over KM steps lo..hi given censoring times; returns (d, n̂ after hi, Ŝ_last)."""
    d = np.zeros(hi - lo + 1, dtype=int)
    n = n_start
    for j, k in enumerate(range(lo, hi + 1)):
        dk = int(round(n * (1.0 - s[k] / s_last))) if s_last > 0 and n > 0 else 0
        dk = min(max(dk, 0), n)
        d[j] = dk
        if dk > 0:
            s_last = s_last * (1.0 - dk / n)
        n = n - dk - int(cens_at[j])
    return d, n, s_last


def reconstruct(t, s, at_time, at_n, total_events: int | None = None, km_file=None, risk_file=None):
    """Pseudo-IPD (time, event) arrays from a digitised KM curve and its at-risk table (module docstring)."""
    t, s, at_time, at_n = check_inputs(t, s, at_time, at_n, km_file, risk_file)
    keep = at_time <= t[-1]
    at_time, at_n = at_time[keep], at_n[keep]
    m = at_time.size
    # KM step indices per interval: lower[i] = first k with t_k ≥ a_i, upper[i] = last k with t_k < a_(i+1)
    lower = np.searchsorted(t, at_time, side="left")
    upper = np.append(lower[1:] - 1, t.size - 1)
    events, cens = [], []
    n_hat, s_last = int(at_n[0]), 1.0
    cens_total = 0
    for i in range(m):
        lo, hi = int(lower[i]), int(upper[i])
        if hi < lo:
            continue
        a0 = at_time[i]
        a1 = at_time[i + 1] if i + 1 < m else t[-1]
        n_start = n_hat
        if i + 1 < m:
            ratio = s[lower[i + 1]] / s[lo] if s[lo] > 0 else 0.0
            c = max(int(round(at_n[i] * ratio - at_n[i + 1])), 0)
        elif total_events is not None:
            c = max(n_start - (total_events - sum(len(e) for e in events)), 0)
        else:
            rate = cens_total / (at_time[-1] - at_time[0]) if m > 1 and at_time[-1] > at_time[0] else 0.0
            c = min(int(round(rate * (a1 - a0))), n_start)
        for _ in range(1000):
            c = min(max(c, 0), n_start)
            ct = a0 + (a1 - a0) * np.arange(1, c + 1) / (c + 1)
            edges = np.append(t[lo + 1:hi + 1], np.inf)
            cens_at = np.bincount(np.searchsorted(edges, ct, side="right"), minlength=hi - lo + 1)[:hi - lo + 1]
            d, n_end, s_new = _walk(s, lo, hi, n_start, cens_at, s_last)
            if i + 1 < m:
                diff = n_end - int(at_n[i + 1])
            elif total_events is not None:
                diff = -(total_events - sum(len(e) for e in events) - int(d.sum()))
            else:
                diff = 0
            if diff == 0 or (c == 0 and diff < 0) or (c == n_start and diff > 0):
                break
            c += diff
        ev_t = np.repeat(t[lo:hi + 1], d)
        events.append(ev_t)
        cens.append(ct)
        cens_total += c
        n_hat, s_last = n_end, s_new
    ev = np.concatenate(events) if events else np.zeros(0)
    ce = np.concatenate(cens) if cens else np.zeros(0)
    n_left = int(at_n[0]) - ev.size - ce.size
    ce = np.concatenate([ce, np.full(max(n_left, 0), t[-1])])  # still at risk at the end: censored there
    time = np.concatenate([ev, ce])
    event = np.concatenate([np.ones(ev.size, dtype=int), np.zeros(ce.size, dtype=int)])
    order = np.lexsort((1 - event, time))
    return time[order], event[order]


def read_km(km, at_risk):
    """Two-column CSVs: (time, survival) and (time, n_risk); the first two columns are used."""
    import pandas as pd

    out = []
    for path, cols in ((km, ("time", "survival")), (at_risk, ("time", "n_risk"))):
        try:
            df = pd.read_csv(path, comment="#")
        except FileNotFoundError:
            raise CesError(f"file `{path}` not found") from None
        except Exception as exc:  # malformed CSV
            raise CesError(f"cannot read CSV: {exc}".splitlines()[0], file=str(path)) from None
        if df.shape[1] < 2 or len(df) > 100_000:
            raise CesError(f"expected 2 columns ({', '.join(cols)}) and at most 100000 rows", file=str(path))
        out.append([pd.to_numeric(df.iloc[:, j], errors="coerce").to_numpy(dtype=float) for j in (0, 1)])
    return out


def source_label(km, at_risk) -> str:
    """The ``source`` of a fit to a digitised curve (block comment and replicates-file header)."""
    from pathlib import Path

    return f"{Path(km).name} + {Path(at_risk).name} (Guyot reconstruction)"


def pseudo_ipd(km, at_risk, total_events: int | None = None, clean: bool = False, notes: list | None = None):
    """(DataFrame of pseudo-patients ``time, event`` with time > 0, at-risk times, at-risk numbers, all
    reconstructed times): :func:`reconstruct` on the files ``km`` and ``at_risk``, after :func:`clean_km` when
    ``clean`` (its notes appended to ``notes``).  Deterministic: the same files give the same rows (``ces fit
    --km`` and ``ces run``'s ``psa.curves`` refit, fit_recipe.py)."""
    import pandas as pd

    (t, s), (rt, rn) = read_km(km, at_risk)
    if clean:
        t, s, done = clean_km(t, s, km_file=str(km))
        if notes is not None:
            notes.extend(done)
    if s.size and np.nanmax(s) > 1.0 + 1e-9 and np.nanmax(s) <= 100:
        raise CesError("survival values above 1: give proportions (0–1), not percentages (or add --clean)",
                       file=str(km))
    time, event = reconstruct(t, s, rt, rn, total_events, km_file=str(km), risk_file=str(at_risk))
    df = pd.DataFrame({"time": time, "event": event})
    df = df[df.time > 0].reset_index(drop=True)  # events at t = 0 carry no likelihood information here
    return df, rt, rn, time
