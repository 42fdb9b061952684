"""Executors: where independent tasks (sweep grid points, PSA chunks) run.

One interface: ``run(fn, items, on_done=None)`` yields ``(index, result)`` pairs as tasks
finish (``on_done(done, total)`` after each, which drives the progress bars) and ``map(fn,
items)`` returns the results in item order.  ``retried`` counts the tasks that had to run
again because their worker was lost; ``ships_files`` says whether tasks must carry their input
files (:mod:`ces.bundle`) because the workers may not see the client's file system.

- :class:`SerialExecutor`: in this process, in order.
- :class:`LocalExecutor`: a local process pool (the default of ``ces sweep --jobs N``).
- :class:`DaskExecutor`: a dask.distributed cluster (``pip install 'ces[dask]'``), either an
  existing scheduler (``--scheduler tcp://HOST:8786`` or ``CES_DASK_SCHEDULER``) or a
  ``LocalCluster`` of N worker processes (``--executor dask-local:N``).

Results do not depend on the executor: every task is a pure function of its inputs.
"""

from __future__ import annotations

import os
import threading
from functools import cache, partial
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import as_completed as cf_as_completed
from typing import Callable, Iterable, Iterator, Protocol

from ces.errors import CesError


class Executor(Protocol):
    ships_files: bool
    retried: int

    def run(self, fn: Callable, items: Iterable, on_done: Callable | None = None) -> Iterator: ...

    def map(self, fn: Callable, items: Iterable) -> list: ...


class _Base:
    ships_files = False
    retried = 0

    def map(self, fn, items):
        out = dict(self.run(fn, items))
        return [out[i] for i in range(len(out))]

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SerialExecutor(_Base):
    def run(self, fn, items, on_done=None):
        items = list(items)
        for i, item in enumerate(items):
            yield i, fn(item)
            if on_done is not None:
                on_done(i + 1, len(items))


class LocalExecutor(_Base):
    """Process pool on local cores (numba threads per worker are set to 1 to avoid oversubscription)."""

    def __init__(self, jobs: int):
        self.jobs = jobs

    def run(self, fn, items, on_done=None):
        items = list(items)
        import multiprocessing

        # spawn, not fork: a forked child of a process whose numba thread pool is running can deadlock
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.jobs, initializer=_single_thread, mp_context=ctx) as pool:
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            try:
                for done, f in enumerate(cf_as_completed(futures), 1):
                    yield futures[f], f.result()
                    if on_done is not None:
                        on_done(done, len(items))
            finally:
                for f in futures:
                    f.cancel()


def _single_thread():
    import numba

    numba.set_num_threads(1)


# ----------------------------------------------------------------------------------------- Dask
_KERNEL_LOCK = threading.Lock()


def on_worker(fn, item):
    """Run one task on a Dask worker.

    numba's parallel kernels must not be entered by two threads of one process at once (the
    default threading layer is not thread-safe), so a worker runs one ces task at a time under a
    process-wide lock and gives that task all its threads: N one-thread workers per machine
    (``dask-local:N``) or one N-thread worker per machine both use N cores.
    """
    import numba
    from distributed import get_worker

    with _KERNEL_LOCK:
        numba.set_num_threads(max(1, min(get_worker().state.nthreads, numba.config.NUMBA_NUM_THREADS)))
        return fn(item)


@cache
def _warm_numba_class():
    """The Dask worker plugin class, built on first use so that importing this module does not import
    ``distributed`` (~0.3–0.6 s of every ``ces`` start-up; only the Dask executor needs it)."""
    try:  # optional: pip install 'ces[dask]'
        from distributed import WorkerPlugin
    except ImportError:  # pragma: no cover - the core install has no Dask
        WorkerPlugin = object

    class WarmNumba(WorkerPlugin):
        """Worker plugin: compile (or load from the on-disk cache) the numba kernels once per worker.

        Runs a tiny Markov and a tiny partitioned-survival model at worker start (the trace, reward and
        survival-curve kernels; a curve kernel serves every family), so that the first real task does not
        pay the compile or cache-load time.
        """

        name = "ces-warm-numba"

        def setup(self, worker=None):
            warm_numba()

    WarmNumba.__qualname__ = "WarmNumba"  # pickled by reference as ces.executors.WarmNumba
    return WarmNumba


def __getattr__(name):
    if name == "WarmNumba":  # one class (cached), so that pickling it by reference finds the same object
        return _warm_numba_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def warm_numba() -> None:
    import tempfile
    from pathlib import Path

    from ces.engine.model import CohortModel
    from ces.modelfile.loader import load

    with tempfile.TemporaryDirectory() as d:
        for i, text in enumerate(_WARM_MODELS):
            p = Path(d) / f"warm{i}.yaml"
            p.write_text(text, encoding="utf-8")
            model = CohortModel.from_loaded(load(p))
            for s in model.strategies:
                model.run_strategy(s)
                model.run_strategy(s, {}, n_draws=2)  # several draws: the PSA's fused 3-state PSM kernel


_WARM_MODELS = (
    "ces: 1\nkind: markov\ncycle: 1 year\nhorizon: 2 cycles\nparameters: {p: 0.1}\n"
    "states: {A: {cost: 1, utility: 1}, D: {dead: true}}\ntransitions: {A: {A: rest, D: p}}\nstrategies: {s: {}}\n",
    "ces: 1\nkind: psm\ncycle: 1 year\nhorizon: 2 cycles\ntime_unit: year\n"
    "curves: {a: {dist: weibull_ph, shape: 1.0, scale: 0.2}, b: {dist: weibull_ph, shape: 1.0, scale: 0.1}}\n"
    "partition: [a, b]\nstates: {P: {cost: 1, utility: 1}, Q: {cost: 1, utility: 1}, D: {dead: true}}\n"
    "strategies: {s: {}}\n")


def _suspicious(keys, dask_scheduler=None) -> int:
    """On the scheduler: how many of ``keys`` were on a worker that died while running them."""
    return sum(1 for k in keys if k in dask_scheduler.tasks and dask_scheduler.tasks[k].suspicious > 0)


class DaskExecutor(_Base):
    """Tasks on a dask.distributed cluster; a task lost with its worker is rescheduled by Dask
    (up to ``distributed.scheduler.allowed-failures`` times) and counted in ``retried``."""

    ships_files = True

    def __init__(self, client, cluster=None):
        self.client = client
        self.cluster = cluster  # a LocalCluster we started (closed with the executor)
        self.retried = 0
        warm = _warm_numba_class()
        client.register_plugin(warm(), name=warm.name)

    @classmethod
    def connect(cls, scheduler: str | None = None, local_workers: int | None = None) -> "DaskExecutor":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise CesError("the Dask executor needs dask.distributed: pip install 'ces[dask]'") from None
        if local_workers is not None:
            import logging

            cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            return cls(Client(cluster), cluster)
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise CesError(f"cannot reach the Dask scheduler at {scheduler} ({exc.__class__.__name__}: {exc})") from None
        return cls(client)

    def run(self, fn, items, on_done=None):
        """Submit every task, yield results as they finish.

        A finished task's result is released on the worker once read, in batches of ``RELEASE``
        after asking the scheduler which of them had been on a worker that died (``retried``).
        """
        from distributed import KilledWorker, as_completed

        items = list(items)
        futures = self.client.map(partial(on_worker, fn), items, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        live = {f.key: f for f in futures}
        read: list = []
        del futures
        try:
            for done, f in enumerate(as_completed(list(live.values())), 1):
                try:
                    result = f.result()
                except KilledWorker as exc:
                    raise CesError(f"a task was lost with its worker more often than Dask allows "
                                   f"(distributed.scheduler.allowed-failures): {exc}") from None
                read.append(f.key)
                if len(read) >= self.RELEASE or done == len(items):
                    self._release(read, live)
                yield index[f.key], result
                if on_done is not None:
                    on_done(done, len(items))
        finally:
            self.client.cancel(list(live.values()))

    RELEASE = 32

    def _release(self, keys: list, live: dict) -> None:
        self.retried += self.client.run_on_scheduler(_suspicious, list(keys))
        for k in keys:
            live.pop(k).release()
        keys.clear()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(name: str | None = None, scheduler: str | None = None, jobs: int = 1):
    """The executor named on the command line: ``local`` (default), ``dask`` or ``dask-local:N``."""
    name = name or "local"
    if name == "local":
        if scheduler is not None:
            raise CesError("--scheduler needs --executor dask")
        if jobs < 1:
            raise CesError(f"--jobs must be at least 1, got {jobs}")
        return LocalExecutor(jobs) if jobs > 1 else SerialExecutor()
    if name == "dask":
        scheduler = scheduler or os.environ.get("CES_DASK_SCHEDULER")
        if not scheduler:
            raise CesError("--executor dask needs --scheduler tcp://HOST:8786 or the CES_DASK_SCHEDULER variable "
                           "(or use --executor dask-local:N for a local cluster)")
        return DaskExecutor.connect(scheduler)
    if name.startswith("dask-local"):
        n = name.partition(":")[2] or str(os.cpu_count() or 1)
        if not n.isdigit() or int(n) < 1:
            raise CesError(f"--executor dask-local:N needs a worker count N ≥ 1, got `{name}`")
        return DaskExecutor.connect(local_workers=int(n))
    raise CesError(f"unknown --executor `{name}` (allowed: local, dask, dask-local:N)")
