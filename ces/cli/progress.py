"""Progress bars (rich): over PSA chunks and over sweep tasks; shown only on a terminal."""

from __future__ import annotations

import time
from contextlib import contextmanager

from rich.console import Console


@contextmanager
def psa_progress(enabled: bool):
    """A rich progress bar for PSA chunks, shown only on a terminal and only after ~1 s."""
    console = Console()
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TimeRemainingColumn

    state = {"t0": time.perf_counter(), "bar": None, "task": None}

    def on_chunk(done: int, total: int) -> None:
        if state["bar"] is None:
            if time.perf_counter() - state["t0"] < 1.0 or done >= total:
                return
            state["bar"] = Progress("PSA", BarColumn(), "{task.completed:,}/{task.total:,} draws",
                                    TimeRemainingColumn(), console=console, transient=True)
            state["bar"].start()
            state["task"] = state["bar"].add_task("psa", total=total)
        state["bar"].update(state["task"], completed=done)

    try:
        yield on_chunk
    finally:
        if state["bar"] is not None:
            state["bar"].stop()


@contextmanager
def task_progress(enabled: bool):
    """A rich progress bar over sweep tasks (terminal only)."""
    console = Console()
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress

    bar = Progress("sweep", BarColumn(), "{task.completed}/{task.total} runs", console=console, transient=True)
    task = None
    bar.start()

    def on_done(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            task = bar.add_task("sweep", total=total)
        bar.update(task, completed=done)

    try:
        yield on_done
    finally:
        bar.stop()
