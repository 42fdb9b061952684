"""Atomic writes of single files: written to a temporary file in the same folder, flushed to disk
(``fsync``), then renamed over the target, so a reader sees the old file or the new one, never a partial one.

Files get mode 0666 & ~umask (0644 under the usual umask 022), folders 0777 & ~umask.  Layer 0, so that
every layer that writes a file (the bootstrap cache of ``ces.survival``, the report, the CLI) uses this one
writer; whole output directories are :class:`ces.report.atomic.DirTransaction`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ces.errors import CesError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~_umask()


def dir_mode() -> int:
    return 0o777 & ~_umask()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise CesError(f"cannot write the file ({exc.strerror or exc}); nothing was changed", file=str(path)) from None
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
