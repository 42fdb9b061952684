"""Probabilistic sensitivity analysis: sample once, evaluate in chunks, run the same kernels.

The draw matrix is defined by (seed, parameter, draw index) only (see
:mod:`ces.params.sampling`), so any chunk size gives the same draws; each draw's
kernel arithmetic is sequential, so any thread count gives the same per-draw
results.  Memory is bounded by ``chunk`` (arrays are draws × cycles per chunk);
only the per-draw discounted totals (draws × streams per strategy) are kept, the undiscounted ones
on request (``undiscounted=True``; no output reads them).  The sampled parameter values (draws ×
sampled scalars, ``PsaResult.samples`` with ``sample_names``, and ``PsaResult.parameter_draws()`` by
parameter name; for --draws-out, regression metamodels and EVPPI) are not kept but generated again
when asked for (:class:`SampleSource`: the same values, since a draw depends on (seed, parameter,
draw index) only).  Every perspective's cost is a sum of stream columns (``PsaResult.costs``), so no
perspective needs a simulation of its own.
"""

from __future__ import annotations

import contextvars
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from typing import Callable, Iterable

import numpy as np

from ces.engine.model import CohortModel
from ces.engine.psm import CrossingInfo
from ces.modelfile import limits
from ces.params.sampling import sample_draws


#: Draws per step when :class:`SampleSource` generates the sampled-parameter matrix again.
RESAMPLE_STEP = 65_536


@dataclass
class SampleSource:
    """How to generate the sampled-parameter matrix of draws [first, first + n) again: the sampling keys'
    distributions (:func:`distribution_keys`) and the seed.  :func:`ces.params.sampling.sample_draws`
    makes draw i from (seed, key, i) only, so the values are those the PSA ran with, bit for bit."""

    dists: dict
    seed: int
    first: int = 0

    def matrix(self, n_draws: int, n_columns: int) -> np.ndarray:
        """(n_draws, n_columns): one column per scalar draw, in the order of the keys (``sample_names``)."""
        out = np.empty((n_draws, n_columns))
        if n_columns == 0:
            return out
        blocks: dict = {}
        for start in range(0, n_draws, RESAMPLE_STEP):
            stop = min(n_draws, start + RESAMPLE_STEP)
            drawn = sample_draws(self.dists, self.seed, self.first + start, self.first + stop, blocks)
            out[start:stop] = np.hstack([a[:, None] if a.ndim == 1 else a for a in drawn.values()])
        return out


@dataclass
class PsaResult:
    strategies: list
    streams: list
    cost_streams: list
    totals: dict  # strategy -> (n_draws, R) discounted
    totals_undisc: dict  # strategy -> (n_draws, R); empty unless run_psa(undiscounted=True)
    n_draws: int
    seed: int
    seconds: float = 0.0
    chunk: int = 0
    crossing: dict = field(default_factory=dict)  # PSM: strategy -> CrossingInfo summed over draws
    sample_names: list = field(default_factory=list)  # one name per sampled parameter column
    sample_source: SampleSource | None = None  # generates ``samples`` again (None: no sampled parameter)
    parameter_columns: dict = field(default_factory=dict)  # parameter name -> its column of ``samples``

    @property
    def samples(self) -> np.ndarray:
        """(n_draws, n_sampled): the sampled parameter values per draw, one column per ``sample_names``
        entry; generated again at each access (:class:`SampleSource`), not kept."""
        if self.sample_source is None:
            return np.empty((self.n_draws, 0))
        return self.sample_source.matrix(self.n_draws, len(self.sample_names))

    def matrix(self, stream: str) -> np.ndarray:
        """(n_draws, n_strategies) of one stream, or of the payer's total cost for ``cost``."""
        if stream == "cost":
            return self.costs(self.cost_streams)
        i = self.streams.index(stream)
        return np.column_stack([self.totals[s][:, i] for s in self.strategies])

    def costs(self, categories) -> np.ndarray:
        """(n_draws, n_strategies): the sum of the given cost categories per draw (a perspective's cost)."""
        idx = [self.streams.index(c) for c in categories]
        return np.column_stack([self.totals[s][:, idx].sum(axis=1) for s in self.strategies])

    def parameter_draws(self) -> dict:
        """Parameter name → its (n_draws,) PSA draws: the columns of ``samples`` that the run used.

        ``samples`` holds one column per sampling key (a joint entry ``KEY: {names: [a, b], ...}`` has
        columns ``KEY[0]``, ``KEY[1]``); ``parameter_columns`` says which column each parameter
        name reads (``a`` → ``KEY[0]``).  Nothing is sampled again.  Used by EVPPI."""
        if self.sample_source is None or not self.parameter_columns:
            return {}
        samples = self.samples
        return {name: np.ascontiguousarray(samples[:, j]) for name, j in self.parameter_columns.items()}


def distribution_keys(model: CohortModel) -> dict:
    """Sampling key → distribution over all strategies (a joint entry is sampled once)."""
    out = {}
    for cs in model.strategies.values():
        for d in cs.params.values():
            if d.dist is not None:
                out[d.group or d.name] = d.dist
    return out


def strategy_draws(cs, samples: dict) -> dict:
    """Parameter name → draws (n,) for one strategy, from the chunk's samples."""
    draws = {}
    for d in cs.params.values():
        if d.dist is None:
            continue
        arr = samples[d.group or d.name]
        draws[d.name] = arr[:, d.column] if d.column is not None else arr
    return draws


def parameter_columns(model: CohortModel, sample_names: list) -> dict:
    """Parameter name → index into ``sample_names`` (the columns of ``PsaResult.samples``): a scalar
    parameter reads its own key's column, a member of a joint entry its column ``KEY[i]`` (as
    :func:`strategy_draws`); the first strategy that samples a name decides (all strategies share
    the sampling key of a name, :func:`distribution_keys`)."""
    index = {n: j for j, n in enumerate(sample_names)}
    out: dict = {}
    for cs in model.strategies.values():
        for d in cs.params.values():
            if d.dist is None or d.name in out:
                continue
            key = d.group or d.name
            out[d.name] = index[key if d.column is None else f"{key}[{d.column}]"]
    return out


#: numba threading layers that may be entered by several threads at once (numba's documentation, "The
#: Threading Layers": tbb and omp are thread-safe, workqueue is not).
THREADSAFE_LAYERS = ("tbb", "omp")

#: Fewest draws per chunk when a PSA is split finer than ``chunk`` to keep N threads busy (below a few
#: hundred draws the per-chunk Python work of expression evaluation starts to show).
MIN_THREAD_CHUNK = 500


def chunk_plan(model: CohortModel, n_draws: int, chunk: int) -> tuple[list, int]:
    """The chunks ``[(start, stop), ...]`` of draws [0, n_draws) and how many are evaluated at once.

    With N numba threads (``--threads``; numba's thread count in the calling thread) and a thread-safe
    threading layer, the chunk is at most ``chunk`` and at most n_draws / (4·N) draws (not below
    :data:`MIN_THREAD_CHUNK`), so that each of the N threads gets several chunks and none waits long for
    the last; N chunks are in flight and up to 2·N held (sampled ahead, or done and waiting to be yielded in
    order), so fewer workers are used if 2·N chunks would exceed ``max_cells`` (cycles × states × draws, the
    bound of one chunk, :func:`ces.modelfile.sizes.check_cells`).  Otherwise (N = 1, a single
    chunk, a layer that is not thread-safe) chunks of ``chunk`` draws run one after the other, each spread
    over the N threads by the kernels' ``prange``.  Results do not depend on the plan (module docstring)."""
    import numba

    n = numba.get_num_threads()
    if n > 1 and numba.threading_layer() in THREADSAFE_LAYERS:
        step = min(chunk, max(MIN_THREAD_CHUNK, -(-n_draws // (4 * n))))
        spans = [(a, min(n_draws, a + step)) for a in range(0, n_draws, step)]
        cells = (model.n_cycles + 1) * max(1, len(model.expanded)) * step
        workers = min(n, len(spans), limits.current().max_cells // (2 * cells))  # 2·workers chunks held
        if workers > 1:
            return spans, workers
    return [(a, min(n_draws, a + chunk)) for a in range(0, n_draws, chunk)], 1


def _one_thread() -> None:
    import numba

    numba.set_num_threads(1)  # thread-local: this worker's kernels run on this worker's thread only


def chunk_results(model: CohortModel, n_draws: int, seed: int, chunk: int = 2000, first: int = 0,
                  keep: bool = False):
    """Yield ``(start, stop, samples, {strategy: StrategyResult})`` for each chunk of draws
    [first + start, first + stop), in order: the one loop over PSA chunks (sampling, then every strategy
    with the parameter values common to all strategies evaluated once per chunk).  ``keep``: also keep
    each draw's trace and per-period values (for payments and the per-draw budget impact).

    With several chunks in flight (:func:`chunk_plan`: N numba threads), each chunk is evaluated on one
    thread of a pool of N, its kernels on that thread only (numpy's array loops and the ``nogil`` kernels
    release the GIL, so the N run at once; each in a copy of this thread's context variables: limits, numpy
    error state); this thread samples the chunks in order (each sampling block
    generated once, by one thread) at most 2·N chunks ahead of the one yielded.  A draw's arithmetic is
    the same on any thread and chunks are yielded in order, so every result is bit-identical to one chunk
    after the other (and the first failing chunk raises, as there)."""
    dists = distribution_keys(model)
    blocks: dict = {}  # sampling blocks shared by consecutive chunks, generated once
    spans, workers = chunk_plan(model, n_draws, chunk)

    def evaluate(start: int, stop: int, samples: dict) -> dict:
        shared: dict = {}  # parameter values common to all strategies, evaluated once per chunk
        return {s: model.run_strategy(s, strategy_draws(cs, samples), n_draws=stop - start, keep=keep,
                                      draw_offset=first + start, shared=shared)
                for s, cs in model.strategies.items()}

    if workers == 1:
        for start, stop in spans:
            samples = sample_draws(dists, seed, first + start, first + stop, blocks)
            yield start, stop, samples, evaluate(start, stop, samples)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="ces-chunk", initializer=_one_thread)
    pending: deque = deque()
    try:
        for start, stop in spans:
            samples = sample_draws(dists, seed, first + start, first + stop, blocks)
            task = contextvars.copy_context().run  # this thread's context (limits, numpy errstate) in the worker
            pending.append((start, stop, samples, pool.submit(task, evaluate, start, stop, samples)))
            if len(pending) >= 2 * workers:
                a, b, smp, fut = pending.popleft()
                yield a, b, smp, fut.result()
        while pending:
            a, b, smp, fut = pending.popleft()
            yield a, b, smp, fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_psa(model: CohortModel, n_draws: int, seed: int, chunk: int = 2000,
            on_chunk: Callable[[int, int], None] | None = None, first: int = 0,
            undiscounted: bool = False) -> PsaResult:
    """Run ``n_draws`` PSA draws of every strategy; ``on_chunk(done, total)`` reports progress.

    ``first``: index of the first draw, so that draws [first, first + n_draws) of the full PSA are
    run (one task of a PSA split over workers; :func:`merge_psa` joins the parts).
    ``undiscounted``: also keep the per-draw undiscounted totals (``totals_undisc``).
    """
    t0 = time.perf_counter()
    R = len(model.streams)
    totals = {s: np.empty((n_draws, R)) for s in model.strategies}
    totals_u = {s: np.empty((n_draws, R)) for s in model.strategies} if undiscounted else {}
    crossing = {}
    cols: list | None = None
    for start, stop, samples, results in chunk_results(model, n_draws, seed, chunk, first):
        if cols is None:  # the sampled-parameter columns, one per scalar draw (for EVPPI, regression)
            cols = []
            for name, a in samples.items():
                cols += [name] if a.ndim == 1 else [f"{name}[{j}]" for j in range(a.shape[1])]
        for s, res in results.items():
            totals[s][start:stop] = res.totals
            if undiscounted:
                totals_u[s][start:stop] = res.totals_undisc
            if res.crossing is not None:
                acc = crossing.setdefault(s, CrossingInfo())
                acc.points += res.crossing.points
                acc.draws += res.crossing.draws
        if on_chunk is not None:
            on_chunk(stop, n_draws)
    cols = cols or []
    source = SampleSource(distribution_keys(model), seed, first) if cols else None
    return PsaResult(list(model.strategies), list(model.streams), list(model.payer_streams), totals, totals_u,
                     n_draws, seed, time.perf_counter() - t0, chunk, crossing=crossing, sample_names=cols,
                     sample_source=source, parameter_columns=parameter_columns(model, cols))


def merge_psa(parts: Iterable, n_draws: int) -> PsaResult:
    """Join the PSA results of draw ranges into one result of ``n_draws`` draws.

    ``parts``: (first, result) pairs, in any order (e.g. as tasks finish), each result holding
    draws [first, first + result.n_draws).  Per-draw arrays (every dict of arrays with one row
    per draw) are copied into arrays allocated once, so the memory is that of one local run;
    crossing counts are summed.  Since draw i depends only on (seed, parameter, i), the merge
    equals one run over [0, n_draws) bit for bit.
    """
    out, merged, crossing, covered = None, {}, {}, 0
    for first, p in parts:
        if out is None:
            out = p
            for f in fields(PsaResult):
                v = getattr(p, f.name)
                if isinstance(v, dict) and v and all(isinstance(a, np.ndarray) and a.shape[:1] == (p.n_draws,)
                                                     for a in v.values()):
                    merged[f.name] = {k: np.empty((n_draws,) + a.shape[1:], a.dtype) for k, a in v.items()}
                elif isinstance(v, np.ndarray) and v.shape[:1] == (p.n_draws,):  # a per-draw array field
                    merged[f.name] = np.empty((n_draws,) + v.shape[1:], v.dtype)
        for name, arrays in merged.items():
            if isinstance(arrays, np.ndarray):
                arrays[first:first + p.n_draws] = getattr(p, name)
                continue
            for k, a in getattr(p, name).items():
                arrays[k][first:first + p.n_draws] = a
        for s, c in p.crossing.items():
            acc = crossing.setdefault(s, CrossingInfo())
            acc.points += c.points
            acc.draws += c.draws
        covered += p.n_draws
    if out is None or covered != n_draws:
        raise ValueError(f"PSA parts cover {covered} draws, expected {n_draws}")
    source = replace(out.sample_source, first=0) if out.sample_source is not None else None  # parts cover [0, n)
    return replace(out, **merged, n_draws=n_draws, crossing=crossing, sample_source=source)
