"""PSA chunks evaluated at once on a thread pool (ces.engine.psa.chunk_plan / chunk_results): the results
are those of one chunk after the other, bit for bit, whatever order the chunks finish in."""

from __future__ import annotations

import threading
import time

import numba
import numpy as np
import pytest

import ces.engine.psa as psa
from ces.engine.psa import chunk_plan, chunk_results, run_psa
from ces.modelfile import limits
from ces.pipeline import build
from tests.conftest import ROOT

A_THR = ROOT / "bench" / "models" / "a_thr.yaml"  # Markov, 5 states, 60 cycles
B_PSM = ROOT / "bench" / "models" / "b_psm.yaml"  # partitioned survival, Weibull curves, 480 cycles


def _two_threads_or_skip() -> None:
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba was started with one thread")
    numba.get_num_threads()  # starts numba's threading layer
    if numba.threading_layer() not in psa.THREADSAFE_LAYERS:
        pytest.skip(f"threading layer {numba.threading_layer()} is not thread-safe: chunks run one after the other")


class Threads:
    """``with Threads(n):`` numba's thread count in this thread, restored on exit."""

    def __init__(self, n: int):
        self.n = n

    def __enter__(self):
        self.old = numba.get_num_threads()
        numba.set_num_threads(self.n)

    def __exit__(self, *exc):
        numba.set_num_threads(self.old)


def _shuffle_finishing_order(model, seen: list):
    """Wrap ``model.run_strategy`` so that every other chunk is slow (chunks then finish out of order) and
    record, per call, (draw offset, thread name, numba's thread count in that thread, a limit)."""
    inner = model.run_strategy

    def run_strategy(s, draws=None, n_draws=1, keep=False, draw_offset=0, shared=None):
        seen.append((draw_offset, threading.current_thread().name, numba.get_num_threads(),
                     limits.current().max_tree_nodes))
        if (draw_offset // max(n_draws, 1)) % 2 == 0:
            time.sleep(0.02)
        return inner(s, draws, n_draws, keep, draw_offset, shared)

    model.run_strategy = run_strategy


def _stacked(res) -> np.ndarray:
    return np.concatenate([res.totals[s] for s in res.strategies], axis=1)


@pytest.mark.parametrize("path", [A_THR, B_PSM], ids=["markov", "psm"])
def test_pool_totals_equal_one_chunk_on_one_thread_whatever_the_finishing_order(path):
    _two_threads_or_skip()
    n = 1800
    _, model = build(path)
    with Threads(1):
        ref = _stacked(run_psa(model, n, 2026, chunk=n))  # one chunk, one thread
    for chunk in (137, 450):
        _, model = build(path)
        seen: list = []
        _shuffle_finishing_order(model, seen)
        progress: list = []
        with Threads(2), limits.flags({"max_tree_nodes": 12_345}):
            spans, workers = chunk_plan(model, n, chunk)
            res = run_psa(model, n, 2026, chunk=chunk, on_chunk=lambda done, total: progress.append(done))
        assert workers == 2 and [b - a for a, b in spans[:-1]] == [chunk] * (len(spans) - 1)
        assert np.array_equal(ref, _stacked(res)), chunk
        pool = {name for _, name, _, _ in seen}
        assert len(pool) == 2 and all(name.startswith("ces-chunk") for name in pool)  # evaluated on the pool
        assert {k for _, _, k, _ in seen} == {1}  # each worker's kernels on its own thread only
        assert {m for _, _, _, m in seen} == {12_345}  # the caller's limits hold in the workers
        finished = [off for off, _, _, _ in seen]
        assert finished != sorted(finished)  # the chunks did run out of order ...
        assert progress == [b for _, b in spans]  # ... and were reported and stored in order
    with Threads(2):
        other = _stacked(run_psa(model, n, 2027, chunk=300))
    assert not np.array_equal(ref, other)


def test_kept_traces_come_in_order_and_equal_one_thread():
    """``keep=True`` (payments, per-draw budget impact): chunks come in draw order with the same traces."""
    _two_threads_or_skip()
    n = 1300
    _, model = build(A_THR)
    with Threads(1):
        ref = {s: r.trace for _, _, _, res in chunk_results(model, n, 5, chunk=n, keep=True) for s, r in res.items()}
    _shuffle_finishing_order(model, [])
    with Threads(2):
        got = [(a, b, res) for a, b, _, res in chunk_results(model, n, 5, chunk=250, keep=True)]
    assert [(a, b) for a, b, _ in got] == [(a, min(n, a + 250)) for a in range(0, n, 250)]
    for s in ref:
        assert np.array_equal(ref[s], np.concatenate([res[s].trace for _, _, res in got]))


def test_the_first_failing_chunk_raises_as_in_order():
    """A later chunk failing first must not hide an earlier chunk's error (the message names the draws)."""
    _two_threads_or_skip()
    _, model = build(A_THR)
    inner = model.run_strategy

    def run_strategy(s, draws=None, n_draws=1, keep=False, draw_offset=0, shared=None):
        if draw_offset in (200, 400):
            time.sleep(0.05 if draw_offset == 200 else 0.0)
            raise ValueError(f"chunk at {draw_offset}")
        return inner(s, draws, n_draws, keep, draw_offset, shared)

    model.run_strategy = run_strategy
    with Threads(2), pytest.raises(ValueError, match="chunk at 200"):
        run_psa(model, 1000, 1, chunk=200)


def test_plan_one_chunk_after_the_other_when_threads_cannot_help(monkeypatch):
    _two_threads_or_skip()
    _, model = build(A_THR)
    serial = [(a, min(10_000, a + 2000)) for a in range(0, 10_000, 2000)]
    with Threads(1):
        assert chunk_plan(model, 10_000, 2000) == (serial, 1)
    with Threads(2):
        assert chunk_plan(model, 1500, 2000) == ([(0, 500), (500, 1000), (1000, 1500)], 2)  # 2 threads busy
        assert chunk_plan(model, 400, 2000) == ([(0, 400)], 1)  # one chunk: the kernels' prange
        spans, workers = chunk_plan(model, 10_000, 2000)
        assert workers == 2 and max(b - a for a, b in spans) == 1250  # n / (4 threads·chunks), ≥ 500
        cells = (model.n_cycles + 1) * len(model.expanded) * 2000
        with limits.flags({"max_cells": cells}):  # two chunks in flight would exceed max_cells
            assert chunk_plan(model, 100_000, 2000)[1] == 1
        monkeypatch.setattr(numba, "threading_layer", lambda: "workqueue")
        assert chunk_plan(model, 10_000, 2000) == (serial, 1)
