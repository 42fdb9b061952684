"""Runs whose inputs travel as a :class:`~ces.bundle.Bundle`: a PSA split into chunk tasks.

The task unit is the PSA's own chunk (``psa.chunk`` draws, :func:`ces.engine.psa.run_psa`):
task k runs draws [k·chunk, min(n, (k+1)·chunk)) of the full PSA.  Draw i depends only on
(seed, parameter, i), so :func:`ces.engine.psa.merge_psa` of the tasks' per-draw totals (copied into
arrays allocated once, as the tasks finish) equals a local run bit for bit.  A worker returns per-draw totals only (draws × streams per
strategy, discounted and undiscounted), never traces; the analysis (CEAC, EVPI, convergence)
runs on the client on the merged totals, as locally.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass

from ces.bundle import Bundle, localise, make_bundle, materialise, relocate
from ces.engine.psa import PsaResult, merge_psa, run_psa
from ces.errors import CesError

_MODELS: OrderedDict = OrderedDict()  # per worker process: (digest, overrides) -> built model
_KEEP = 4


def built_model(bundle: Bundle, overrides: dict | None):
    """The model of a bundle, built once per worker process (and checked against the client's version)."""
    key = (bundle.digest, json.dumps(overrides, sort_keys=True))
    if key in _MODELS:
        _MODELS.move_to_end(key)
        return _MODELS[key]
    from ces.engine.model import CohortModel
    from ces.modelfile.loader import load

    entry = materialise(bundle)
    try:
        model = CohortModel.from_loaded(load(entry, relocate(overrides, bundle, entry)))
    except CesError as exc:
        raise localise(exc, bundle, entry) from None
    _MODELS[key] = model
    while len(_MODELS) > _KEEP:
        _MODELS.popitem(last=False)
    return model


@dataclass(frozen=True)
class PsaChunk:
    bundle: Bundle
    overrides: dict | None
    seed: int
    start: int
    stop: int
    chunk: int


def run_chunk(task: PsaChunk) -> PsaResult:
    """Worker side: draws [start, stop) of the PSA; returns their per-draw totals."""
    model = built_model(task.bundle, task.overrides)
    entry = materialise(task.bundle)
    try:
        return run_psa(model, task.stop - task.start, task.seed, task.chunk, first=task.start)
    except CesError as exc:
        raise localise(exc, task.bundle, entry) from None


class ChunkedPsa:
    """A drop-in for :func:`run_psa` that runs the chunks on an executor (``pipeline.run(psa_runner=...)``).

    The workers rebuild the client's model: the bundled files of ``path``, loaded with the overrides the
    client's model was loaded with (``model.loaded.overrides``; e.g. the refitted entries of ``psa.curves``,
    whose replicates files travel in the bundle, :func:`ces.bundle.make_bundle`)."""

    def __init__(self, executor, path):
        self.executor = executor
        self.path = path

    def __call__(self, model, n_draws: int, seed: int, chunk: int = 2000, on_chunk=None) -> PsaResult:
        t0 = time.perf_counter()
        overrides = model.loaded.overrides
        bundle = make_bundle(self.path, overrides)
        tasks = [PsaChunk(bundle, overrides, seed, a, min(n_draws, a + chunk), chunk)
                 for a in range(0, n_draws, chunk)]

        def finished():
            drawn = 0
            for i, part in self.executor.run(run_chunk, tasks):
                drawn += part.n_draws
                if on_chunk is not None:
                    on_chunk(drawn, n_draws)
                yield tasks[i].start, part

        res = merge_psa(finished(), n_draws)
        if res.strategies != list(model.strategies) or res.streams != list(model.streams):
            raise CesError("the workers built a different model from the client's (strategies or streams differ)")
        res.seconds = time.perf_counter() - t0
        res.chunk = chunk
        return res
