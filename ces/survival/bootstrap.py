"""Non-parametric bootstrap of patient-level data: joint refits of several endpoints (PFS and OS).

PFS and OS are measured on the same patients, so their coefficient estimates are correlated; fitting
them one at a time gives each its own inverse-Hessian covariance but says nothing of the PFS–OS
cross-covariance.  The patient bootstrap (Efron & Tibshirani, *An Introduction to the Bootstrap*,
1993, ch. 6; for survival data Efron 1981, "Censored data and the bootstrap", JASA 76:312) resamples
whole patients — each row keeps its PFS and its OS — and refits every endpoint's chosen model on the
same resample.  From the B replicate coefficient vectors θ*_1..θ*_B:

- ``rows`` (``dist: bootstrap``): each PSA draw takes one whole replicate, so PFS and OS come from the
  same resample and the joint (non-normal) distribution is kept;
- ``mvn``: one multivariate normal over ALL coefficients, mean = the full-data MLE θ̂, covariance
  = the bootstrap covariance  Σ* = (1/(B−1)) Σ_b (θ*_b − θ̄*)(θ*_b − θ̄*)ᵀ.

For one correctly specified endpoint Σ* estimates the same matrix as the inverse Hessian (both are
the asymptotic covariance of the MLE); under misspecification the bootstrap estimates the robust
(sandwich) covariance instead.

Replicate b draws its n row indices from ``np.random.default_rng([seed, b, c])``, c the CRC-32 of the fit's
name, its endpoint names joined by ``_`` (:func:`curve_stream`): it depends only on (seed, b, names), so the replicates
are the same however they are split into blocks or mapped onto worker processes, the first B replicates of a
larger run are those of a run with B, and two separate fits (two arms, or two trials, with as many rows)
never resample the same row indices.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial

import numpy as np

from ces.errors import CesError
from ces.survival.fit_yaml import fit_key

#: Bounds on the number of replicates (checked before any data is read or any array allocated).
MIN_B, MAX_B = 2, 100_000
#: Bound on the refit work (replicates × patients resampled), about an hour of Weibull refits.
MAX_B_X_N = 2_000_000_000
HEADER = "# ces fit bootstrap"


def check_replicates(B: int, n: int | None = None) -> None:
    """Error unless MIN_B ≤ B ≤ MAX_B (and B × n ≤ MAX_B_X_N once the number of patients is known)."""
    if isinstance(B, bool) or not isinstance(B, int) or not MIN_B <= B <= MAX_B:
        raise CesError(f"--bootstrap must be an integer between {MIN_B} and {MAX_B:,}, got {B}")
    if n is not None and B * n > MAX_B_X_N:
        raise CesError(f"--bootstrap {B:,} × {n:,} patients exceeds {MAX_B_X_N:,} resampled rows: use fewer "
                       "replicates")


@dataclass
class Replicates:
    """The converged replicates of a joint bootstrap."""
    columns: list  # coefficient names, endpoint by endpoint (e.g. pfs_log_shape, ..., os_log_scale)
    index: np.ndarray  # (m,) replicate number b of each row (those that converged; m ≤ B)
    draws: np.ndarray  # (m, k) refitted coefficients
    B: int  # replicates attempted

    def covariance(self) -> np.ndarray:
        """Σ* = sample covariance of the replicate rows (divisor m − 1)."""
        if len(self.draws) < 2:
            raise CesError(f"only {len(self.draws)} of {self.B} bootstrap replicates converged: no covariance")
        return np.atleast_2d(np.cov(self.draws, rowvar=False, ddof=1))


def bootstrap_replicates(df, endpoints: list, B: int, seed: int, weight: str | None = None,
                         arm: str | None = None, map_fn=map, blocks: int = 1, stream: tuple = ()) -> Replicates:
    """Refit every endpoint's chosen model on B resamples of the patients (rows), the same rows for all.

    endpoints: [(name, time col, event col, Fit, levels)]; each refit starts from the full-data MLE.
    ``map_fn``: the builtin map, or an executor's map (e.g. :class:`ces.executors.LocalExecutor`);
    the B replicates are cut into ``blocks`` contiguous ranges; ``stream`` (:func:`curve_stream`) extends the
    seed of every replicate: ``default_rng([seed, b, *stream])``.  A replicate that cannot be fitted
    (a resample without events) is dropped; ``index`` records which replicates are kept.
    """
    from ces.survival.fit_yaml import _py

    check_replicates(B, len(df))
    cols = [f"{n}_{_py(c)}" for n, _, _, f, _ in endpoints for c in f.coef_names]
    blocks = max(1, min(int(blocks), B))
    reps = [range(B * j // blocks, B * (j + 1) // blocks) for j in range(blocks)]
    fn = partial(_boot_block, df=df, endpoints=endpoints, seed=seed, weight=weight, arm=arm, stream=tuple(stream))
    out = np.vstack(list(map_fn(fn, reps)))
    ok = np.all(np.isfinite(out), axis=1)
    return Replicates(cols, np.flatnonzero(ok), out[ok], B)


def _boot_block(reps, *, df, endpoints, seed, weight, arm, stream=()) -> np.ndarray:
    """Replicates ``reps`` (one row each; NaN where a resample cannot be fitted)."""
    import numba

    from ces.survival.fit import fit_model
    from ces.survival.fit_data import make_data

    out = np.full((len(reps), sum(f.k for _, _, _, f, _ in endpoints)), np.nan)
    n = len(df)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for i, b in enumerate(reps):
            rng = np.random.default_rng([seed, b, *stream])
            boot = df.iloc[rng.integers(0, n, n)]
            row = []
            try:
                for _, t, e, f, lv in endpoints:
                    d = make_data(boot, t, e, weight, arm, lv, f.background)
                    row.extend(fit_model(f.model, d, starts=[f.coef], covariance=False).coef)
            except CesError:  # a resample without events
                continue
            out[i] = row
    finally:
        numba.set_num_threads(threads)
    return out


def curve_stream(names) -> tuple:
    """The replicate-seed suffix of one fit: (CRC-32 of :func:`fit_key` of its endpoint ``names``,).
    Separate fits (PFS and OS digitised separately, two arms, two trials) often have as many rows, and
    pseudo-patients or exported files sorted by time; with the plain ``[seed, b]`` every fit would draw the
    same row indices, coupling their replicates rank by rank.  The suffix makes each fit's resamples
    independent of the others' (fit keys are unique in a model), and the same in ``ces fit`` and ``ces run``;
    the endpoints of one fit (PFS and OS of the same patients) share one resample."""
    import zlib

    return (zlib.crc32(fit_key(names).encode("utf-8")),)


def file_sha256(paths) -> str:
    """SHA-256 over the bytes of the input files, in order (the data the replicates come from)."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def rows_csv(rep: Replicates, *, source: str, data_sha256: str, seed: int, models: list) -> str:
    """The replicates file: a ``#`` header (source, data hash, seed, B, models), then one row per replicate.

    ``models``: [(curve name, model label, time column, event column)].  Columns: ``replicate`` (b), then
    the coefficients.  Read back by ``dist: bootstrap`` (:mod:`ces.params.bootstrap_rows`).
    """
    head = [f"{HEADER}: {len(rep.draws)} of {rep.B} replicates converged (patients resampled with replacement)",
            f"# source: {source}",
            f"# data_sha256: {data_sha256}",
            f"# seed: {seed}",
            f"# replicates: {rep.B}",
            "# models: " + "; ".join(f"{n}={m} ({t}, {e})" for n, m, t, e in models)]
    lines = ["replicate," + ",".join(rep.columns)]
    for b, row in zip(rep.index, rep.draws):
        lines.append(f"{int(b)}," + ",".join(repr(float(v)) for v in row))
    return "\n".join(head + lines) + "\n"


PSA_CHOICES = ("hessian", "bootstrap", "mvn")


def check_psa_option(psa: str | None, B: int, yaml_out) -> None:
    """``ces fit --psa``: hessian | bootstrap | mvn; the last two need ``--bootstrap B`` (bounded here)."""
    if B:
        check_replicates(B)
        if yaml_out is None:
            raise CesError("--bootstrap needs --yaml (the replicates file is written beside the curves block)")
    if psa is None:
        return
    if psa not in PSA_CHOICES:
        raise CesError(f"--psa must be one of {', '.join(PSA_CHOICES)}, got `{psa}`")
    if psa != "hessian" and not B:
        raise CesError(f"--psa {psa} needs --bootstrap B (the joint refits it is built from)")
    if yaml_out is None:
        raise CesError("--psa needs --yaml (it chooses the PSA distribution of the curves block)")


def yaml_block(res: dict, yaml_out: Path, *, psa: str | None, source: str, inputs: list, seed: int,
               time_unit: str, background: str | None) -> tuple:
    """(curves-block text, [(path, text)] of extra files) for ``ces fit --yaml``.

    With a bootstrap, the replicates go to ``<yaml stem>_bootstrap.csv`` beside the block (see
    :func:`rows_csv`); ``--psa`` picks how the block uses them (default ``bootstrap``).
    """
    from ces.survival.fit_yaml import curves_yaml

    entries = [(n, f, lv) for n, f, lv, _ in res["chosen"]]
    rep: Replicates | None = res["boot"]
    if rep is None:
        return curves_yaml(entries, time_unit=time_unit, source=source, background=background), []
    if len(rep.draws) < 2:
        raise CesError(f"only {len(rep.draws)} of {rep.B} bootstrap replicates could be fitted (resamples without "
                       "events?): too few for a PSA")
    path = yaml_out.with_name(yaml_out.stem + "_bootstrap.csv")
    csv = rows_csv(rep, source=source, data_sha256=file_sha256([p for p in inputs if p is not None]), seed=seed,
                   models=res["endpoints"])
    psa = psa or "bootstrap"
    text = curves_yaml(entries, bootstrap_file=path.name if psa == "bootstrap" else None,
                       bootstrap_columns=rep.columns, time_unit=time_unit, source=source, background=background,
                       psa=psa, replicates=rep.B, joint_cov=rep.covariance() if psa == "mvn" else None)
    if psa == "mvn":
        text = text.replace("# PSA: one mvnormal over all", f"# PSA ({len(rep.draws)} replicates in {path.name}): "
                            "one mvnormal over all", 1)
    return text, [(path, csv)]
