"""Where data files may come from (tables, empirical draws files).

Policy: a data path is resolved relative to the model file and must lie inside the model's
folder, the config's folder, the data shipped with ces (``ces/data``) or a folder the config
allows with ``allow_paths:``.  A model received from elsewhere cannot make ces read (and
echo in an error) ``/etc/passwd`` or a user's private files.
"""

from __future__ import annotations

import contextvars
from importlib import resources
from pathlib import Path

_DATA_DIRS: contextvars.ContextVar[list | None] = contextvars.ContextVar("ces_data_dirs", default=None)


def set_data_dirs(dirs: list | None) -> None:
    """The folders data files may come from, for the model being loaded (set by the loader)."""
    _DATA_DIRS.set(list(dirs) if dirs is not None else None)


def data_dirs() -> list | None:
    return _DATA_DIRS.get()


def shipped_data_dir() -> Path:
    return Path(str(resources.files("ces") / "data")).resolve()


def check_data_path(path: Path, allowed: list, what: str, shown: str) -> None:
    """Refuse a data file outside the allowed folders (the model's, the config's, ``ces/data`` and the
    config's ``allow_paths``); raises ValueError with the reason (the caller locates it)."""
    real = Path(path).resolve()
    for d in list(allowed) + [shipped_data_dir()]:
        try:
            real.relative_to(Path(d).resolve())
            return
        except ValueError:
            continue
    raise ValueError(f"{what} `{shown}` is outside the model's and the config's folders; data files must lie "
                     "there or in the shipped data, or the config must allow the folder with `allow_paths: [DIR]`")


