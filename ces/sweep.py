"""Batch sweeps: a grid of parameter/setting values × several configs × WTP values, run in parallel.

Each grid point is an independent task (config path, overrides), executed through an
*executor*: anything with ``map(fn, items)`` returning results in order.  The default is a
local process pool (``concurrent.futures``); a distributed engine (e.g. a Dask client's
``map``/``gather`` wrapped in the same interface) can be passed instead.

Output: one long table, a row per (config, grid point, WTP, strategy) with the strategy's
cost, effect, NMB = λ·E − C, whether it is optimal at λ (highest NMB), its frontier ICER and
status (ND / D / ED, as in the base-case incremental analysis), and, when a PSA is
run, its CEAC probability and the EVPI at λ.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Protocol

import numpy as np
import pandas as pd

from ces.sensitivity import _merge, override


class Executor(Protocol):
    def map(self, fn: Callable, items: Iterable) -> Iterable: ...


class SerialExecutor:
    def map(self, fn, items):
        return map(fn, items)


class LocalExecutor:
    """Process pool on local cores (numba threads per worker are set to 1 to avoid oversubscription)."""

    def __init__(self, jobs: int):
        self.jobs = jobs

    def map(self, fn, items):
        items = list(items)
        import multiprocessing

        # spawn, not fork: a forked child of a process whose numba thread pool is running can deadlock
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.jobs, initializer=_single_thread, mp_context=ctx) as pool:
            yield from pool.map(fn, items)


def _single_thread():
    import numba

    numba.set_num_threads(1)


@dataclass(frozen=True)
class Task:
    config: str
    point: tuple  # ((name, value), ...)
    wtps: tuple
    draws: int | None
    seed: int | None


def run_task(task: Task) -> list:
    """One grid point: deterministic results (and PSA summaries if draws) at every WTP."""
    from ces.pipeline import run

    ov: dict = {}
    for name, value in task.point:
        ov = _merge(ov, override(name, value))
    res = run(task.config, wtp=list(task.wtps), psa=task.draws is not None, draws=task.draws, seed=task.seed,
              overrides=ov or None, checks=False)
    effect = res.loaded.model.effect
    t = res.totals
    rows = []
    w = res.psa_tables.get("wtp") if res.psa is not None else None
    icer = res.icers.set_index("strategy")
    for lam in task.wtps:
        nmb = t[effect].to_numpy() * lam - t["cost"].to_numpy()
        best = int(np.argmax(nmb))
        for i, s in enumerate(t["strategy"]):
            row = {"config": task.config, **dict(task.point), "wtp": lam, "strategy": s,
                   "label": res.model.strategies[s].label,
                   "cost": float(t["cost"].iloc[i]), "effect": float(t[effect].iloc[i]), "nmb": float(nmb[i]),
                   "optimal": i == best, "icer": float(icer.loc[s, "icer"]) if icer.loc[s, "icer"] is not None else
                   float("nan"), "status": icer.loc[s, "status"]}
            if w is not None:
                wr = w[w["wtp"] == lam].iloc[0]
                row["ceac"] = float(wr[f"ceac.{s}"])
                row["evpi"] = float(wr["evpi"])
            rows.append(row)
    return rows


def grid_points(grid: dict) -> list:
    """Cartesian product of {name: [values]} as tuples of (name, value)."""
    if not grid:
        return [()]
    names = list(grid)
    return [tuple(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def sweep(configs: list, grid: dict, wtps: list, executor: Executor | None = None, draws: int | None = None,
          seed: int | None = None, on_done: Callable | None = None) -> pd.DataFrame:
    tasks = [Task(str(c), p, tuple(float(x) for x in wtps), draws, seed) for c in configs for p in grid_points(grid)]
    executor = executor or SerialExecutor()
    rows = []
    for i, r in enumerate(executor.map(run_task, tasks)):
        rows.extend(r)
        if on_done is not None:
            on_done(i + 1, len(tasks))
    return pd.DataFrame(rows)
