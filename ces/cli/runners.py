"""Executor options (``--executor``, ``--scheduler``) turned into where the PSA's chunks run."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from ces.cli.core import err_console


def note_retried(executor) -> None:
    """A note on stderr when tasks were lost with their worker and run again."""
    if executor.retried:
        err_console.print(f"note: {executor.retried} task(s) were lost with their worker and run again",
                          highlight=False)


@contextmanager
def psa_runner(executor: Optional[str], scheduler: Optional[str], config: Path):
    """None (run the PSA in this process) or a runner that splits its chunks over a Dask cluster."""
    from ces.executors import make_executor

    if executor in (None, "local"):
        make_executor(executor, scheduler)  # checks the flags
        yield None
        return
    from ces.remote import ChunkedPsa

    started: list = []

    def runner(*args, **kwargs):  # the cluster is reached (or started) only if there is a PSA to run
        started.append(make_executor(executor, scheduler))
        return ChunkedPsa(started[0], config)(*args, **kwargs)
    try:
        yield runner
        if started:
            note_retried(started[0])
    finally:
        if started:
            started[0].close()
