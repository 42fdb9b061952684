"""Atomic writes of files and of whole output directories.

Files: written to a temporary file in the same folder, flushed to disk (``fsync``), then
renamed over the target: a reader sees the old file or the new one, never a partial one
(:mod:`ces.atomic_file`, re-exported here).

Directories (``ces run --out DIR``): :class:`DirTransaction` builds the complete new
directory in a sibling temporary folder ``.DIR.ces-new-PID-XXXX``, fsyncs every file and
the folder, then swaps it with DIR in one step (Linux ``renameat2(RENAME_EXCHANGE)``;
elsewhere two renames, with the old directory kept as ``.DIR.ces-old-PID-XXXX`` until the
new one is in place and restored by the next run if a crash fell between them).  A crash
at any moment therefore leaves DIR entirely old or entirely new, never a mix; files of an
earlier run do not survive into the new one.  Temporary folders of killed runs (their PID
no longer alive) are removed by the next run into the same DIR.

Output files get mode 0666 & ~umask (0644 under the usual umask 022), folders 0777 & ~umask.

Test hook: ``CES_TEST_PAUSE_AT=<stage>`` makes the writer stop at a named stage (``files``:
some files written in the temporary folder; ``before_swap``: everything written and synced;
``after_swap``: DIR swapped, old copy not yet removed), touch ``CES_TEST_PAUSE_FILE`` and
sleep, so that a test can SIGKILL it there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
import time
from pathlib import Path

from ces.atomic_file import _fsync_dir, dir_mode, file_mode
from ces.atomic_file import write_bytes_atomic, write_text_atomic  # noqa: F401  (re-exported: the file writers)
from ces.errors import CesError

NEW, OLD = "ces-new", "ces-old"


def pause(stage: str) -> None:
    """Test hook: stop at ``stage`` when CES_TEST_PAUSE_AT names it (see the module docstring)."""
    if os.environ.get("CES_TEST_PAUSE_AT") != stage:
        return
    marker = os.environ.get("CES_TEST_PAUSE_FILE")
    if marker:
        Path(marker).write_text(stage)
    time.sleep(float(os.environ.get("CES_TEST_PAUSE_SECONDS", "60")))


# ----------------------------------------------------------------- path checks
def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and not p.is_symlink():
        if p.parent == p:
            break
        p = p.parent
    return p


def check_output_path(path: str | Path, kind: str, flag: str) -> None:
    """Refuse an output path that cannot work, before any computation starts.

    ``kind`` is ``file`` (``--json``, ``--draws-out``), ``dir`` (``run --out``: a folder replaced as a
    whole, so it must be new, empty or an earlier ces output) or ``into`` (a folder files are written into).  The nearest
    existing ancestor must be a folder in which we can create entries (probed by creating
    and removing an empty temporary folder: nothing is left behind).
    """
    p = Path(path)
    if len(str(p)) > 4096 or any(len(part) > 255 for part in p.parts):
        raise CesError(f"{flag}: path is too long (more than 4096 characters, or a name over 255)", file=str(path))
    if p.exists():
        if kind == "file" and p.is_dir():
            raise CesError(f"{flag} names a folder; give a file name", file=str(path))
        if kind in ("dir", "into") and not p.is_dir():
            raise CesError(f"{flag} names an existing file; give a folder (new, empty, or an earlier ces output "
                           "folder)", file=str(path))
        if kind == "dir" and any(p.iterdir()) and not (p / "manifest.json").is_file():
            raise CesError(f"{flag}: the folder exists and is not a ces output folder (no manifest.json); ces "
                           "replaces the whole folder, so give a new or empty one", file=str(path))
    base = _nearest_existing(p.parent if not p.exists() or kind == "file" else p.parent)
    if not base.is_dir():
        raise CesError(f"{flag}: `{base}` is a file, so nothing can be created under it", file=str(path))
    try:
        probe = tempfile.mkdtemp(prefix=".ces-probe-", dir=base)
        os.rmdir(probe)
    except OSError as exc:
        raise CesError(f"{flag}: cannot write in `{base}` ({exc.strerror or exc.__class__.__name__})",
                       file=str(path)) from None


# --------------------------------------------------------------- directories
def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _siblings(out_dir: Path, tag: str) -> list:
    prefix = f".{out_dir.name}.{tag}-"
    try:
        return [p for p in out_dir.parent.iterdir() if p.name.startswith(prefix)]
    except FileNotFoundError:
        return []


def _pid_of(p: Path) -> int | None:
    try:
        return int(p.name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return None


def recover(out_dir: Path) -> None:
    """Remove temporary folders left by killed runs; restore DIR if a crash fell between two renames."""
    for p in _siblings(out_dir, OLD):
        pid = _pid_of(p)
        if pid is not None and _pid_alive(pid):
            continue
        if not out_dir.exists():
            os.rename(p, out_dir)  # the swap was interrupted: the old directory comes back
        else:
            shutil.rmtree(p, ignore_errors=True)
    for p in _siblings(out_dir, NEW):
        pid = _pid_of(p)
        if pid is None or not _pid_alive(pid):
            shutil.rmtree(p, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: file system or kernel without the flag
        return False
    raise OSError(err, os.strerror(err), str(b))


def _sync_tree(root: Path) -> None:
    fm, dm = file_mode(), dir_mode()
    for dirpath, _, files in os.walk(root):
        os.chmod(dirpath, dm)
        for f in files:
            fp = os.path.join(dirpath, f)
            os.chmod(fp, fm)
            fd = os.open(fp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


class DirTransaction:
    """``with DirTransaction(DIR) as tmp: <write into tmp>``; on success DIR is replaced as a whole."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)

    def __enter__(self) -> Path:
        parent = self.out_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        recover(self.out_dir)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.{NEW}-{os.getpid()}-", dir=parent))
        return self.tmp

    def __exit__(self, etype, exc, tb) -> None:
        try:
            if etype is None:
                self._commit()
        except OSError as err:
            exc = err
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if isinstance(exc, OSError):  # disk full, permissions changed meanwhile: DIR is as it was
            raise CesError(f"cannot write the output folder ({exc.strerror or exc}); it was left as it was",
                           file=str(self.out_dir)) from None

    def _commit(self) -> None:
        _sync_tree(self.tmp)
        pause("before_swap")
        out, parent = self.out_dir, self.out_dir.parent
        if not out.exists():
            os.rename(self.tmp, out)
            _fsync_dir(parent)
            return
        if _exchange(self.tmp, out):
            _fsync_dir(parent)
            pause("after_swap")
            return  # the old directory is now at self.tmp and is removed by __exit__
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.{OLD}-{os.getpid()}-", dir=parent))
        os.rmdir(old)
        os.rename(out, old)
        os.rename(self.tmp, out)
        _fsync_dir(parent)
        pause("after_swap")
        shutil.rmtree(old, ignore_errors=True)
