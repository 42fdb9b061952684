"""Batch sweeps: a grid of parameter/setting values × several configs × WTP values, run in parallel.

Each grid point is an independent task (config path, overrides), executed through an
executor of :mod:`ces.executors` (in process, a local process pool, or a Dask cluster).  For
executors whose workers may not see this file system the task carries its input files as a
:class:`~ces.bundle.Bundle`.  A task whose config is bad returns its one-line error
(:class:`TaskError`); the other tasks still run unless ``fail_fast``.

Output: one long table, a row per (config, grid point, perspective, WTP, strategy) with the
strategy's cost under that perspective, effect, NMB = λ·E − C, whether it is optimal at λ
(highest NMB), its frontier ICER and status under that perspective (ND / D / ED, as in the
base-case incremental analysis), and, when a PSA is
run, its CEAC probability and the EVPI at λ.
"""

from __future__ import annotations

import itertools
from contextlib import closing
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ces.bundle import Bundle, make_bundle
from ces.errors import CesError
from ces.executors import Executor, SerialExecutor
from ces.studies.overrides import merge, override


@dataclass(frozen=True)
class Task:
    config: str
    point: tuple  # ((name, value), ...)
    wtps: tuple
    draws: int | None
    seed: int | None
    bundle: Bundle | None = None  # the input files, when the workers may not see this file system


@dataclass(frozen=True)
class TaskError:
    config: str
    point: tuple
    message: str  # the one-line error, as `ces run` would print it


def run_task(task: Task) -> list | TaskError:
    """One grid point: deterministic results (and PSA summaries if draws) at every WTP."""
    from ces.pipeline import run

    ov: dict = {}
    for name, value in task.point:
        ov = merge(ov, override(name, value))
    path = task.config
    if task.bundle is not None:
        from ces.bundle import localise, materialise

        path = materialise(task.bundle)
    try:
        res = run(path, wtp=list(task.wtps), psa=task.draws is not None, draws=task.draws, seed=task.seed,
                  overrides=ov or None, checks=False)
    except CesError as exc:
        if task.bundle is not None:
            exc = localise(exc, task.bundle, path)
        return TaskError(task.config, task.point, str(exc))
    effect = res.loaded.model.effect
    t = res.totals
    rows = []
    for p in res.perspective_list:  # base-case perspective first; one row per perspective
        w = None
        if res.psa is not None:
            w = (res.psa_tables if p.key == "payer" else res.psa_perspectives[p.key]).get("wtp")
        icer = (res.icers if p.key == "payer" else res.perspectives[p.key]).set_index("strategy")
        cost = t[p.cost_column].to_numpy()
        for lam in task.wtps:
            nmb = t[effect].to_numpy() * lam - cost
            best = int(np.argmax(nmb))
            for i, s in enumerate(t["strategy"]):
                row = {"config": task.config, **dict(task.point), "perspective": p.key, "wtp": lam, "strategy": s,
                       "label": res.model.strategies[s].label,
                       "cost": float(cost[i]), "effect": float(t[effect].iloc[i]), "nmb": float(nmb[i]),
                       "optimal": i == best, "icer": _icer(icer.loc[s, "icer"]), "status": icer.loc[s, "status"]}
                if w is not None:
                    wr = w[w["wtp"] == lam].iloc[0]
                    row["ceac"] = float(wr[f"ceac.{s}"])
                    row["evpi"] = float(wr["evpi"])
                rows.append(row)
    return rows


def _icer(v) -> float | None:
    """A frontier ICER, or None (reference or dominated strategy): None compares equal across runs, NaN does not."""
    return None if v is None or v != v else float(v)


def grid_points(grid: dict) -> list:
    """Cartesian product of {name: [values]} as tuples of (name, value)."""
    if not grid:
        return [()]
    names = list(grid)
    return [tuple(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def sweep(configs: list, grid: dict, wtps: list, executor: Executor | None = None, draws: int | None = None,
          seed: int | None = None, on_done: Callable | None = None, fail_fast: bool = False) -> pd.DataFrame:
    """The long table, rows in task order (configs × grid points).

    ``table.attrs["errors"]``: the :class:`TaskError` of every failed task (their rows are absent);
    ``table.attrs["retried"]``: tasks run again after their worker was lost.  With ``fail_fast``
    the first failure raises its error and the remaining tasks are cancelled.
    """
    executor = executor or SerialExecutor()
    bundles: dict = {}
    if executor.ships_files:
        for c in map(str, configs):
            try:
                bundles[c] = make_bundle(c)
            except CesError as exc:  # e.g. a missing file: that config's error, the others still run
                bundles[c] = str(exc)
    tasks = [Task(str(c), p, tuple(float(x) for x in wtps), draws, seed, bundles.get(str(c)))
             for c in configs for p in grid_points(grid)]
    results = {i: TaskError(t.config, t.point, t.bundle) for i, t in enumerate(tasks) if isinstance(t.bundle, str)}
    if results and fail_fast:
        raise CesError(next(iter(results.values())).message)
    todo = [i for i in range(len(tasks)) if i not in results]
    with closing(executor.run(run_task, [tasks[i] for i in todo], on_done)) as done:  # closing cancels the rest
        for j, r in done:
            if isinstance(r, TaskError) and fail_fast:
                raise CesError(r.message)
            results[todo[j]] = r
    ordered = [results[i] for i in range(len(tasks))]
    table = pd.DataFrame([row for r in ordered if not isinstance(r, TaskError) for row in r])
    table.attrs["errors"] = [r for r in ordered if isinstance(r, TaskError)]
    table.attrs["retried"] = executor.retried
    table.attrs["tasks"] = len(tasks)
    return table
