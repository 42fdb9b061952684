"""The inputs of one run as data, so that a worker on another machine needs no shared file system.

A :class:`Bundle` holds the text of the config (or model) file given on the command line, of
the model file it points at, and of every data table they reference with ``file:`` (relative
to the model file, as the loader resolves them; ``builtin:`` tables ship inside the ces
package and do not travel).  Each file is stored under its path relative to a common root
with its SHA-256; the bundle's ``digest`` is the SHA-256 over the (path, file hash) pairs.

On a worker, :func:`materialise` writes the files once into
``$TMPDIR/ces-bundles/DIGEST/`` (checking the ces version and every hash first) and returns the path to load, so
the ordinary loader runs unchanged and gives the same model.  :func:`localise` rewrites the
file names in a worker's error back to the names the user typed, so the one-line error reads
as it would locally.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from ces.errors import CesError

MAX_BYTES = 512 * 1024 * 1024  # bound on the bundled input before reading it all into memory


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Bundle:
    given: str  # the path as the user gave it (for error messages)
    origin: str  # the client's absolute directory the relative paths start from (for error messages)
    entry: str  # that file, relative to the root
    files: tuple  # ((relative path, bytes), ...)
    hashes: tuple  # ((relative path, sha256), ...)
    digest: str
    version: str = ""  # the client's ces version (the worker's must match: same schema, same builtin tables)

    @property
    def size(self) -> int:
        return sum(len(b) for _, b in self.files)


def _safe_yaml(path: Path):
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # the worker's loader reports it, with file and line
    return data if isinstance(data, dict) else None


def _file_refs(node) -> list:
    """Every string under a `file:` key (data tables, empirical draws), except builtin tables."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "file" and isinstance(v, str) and not v.startswith("builtin:"):
                out.append(v)
            else:
                out += _file_refs(v)
    elif isinstance(node, list):
        for v in node:
            out += _file_refs(v)
    return out


def _fit_refs(doc) -> list:
    """The input files of a model's ``fits:`` recipes (``data``, or ``km`` + ``at_risk``), which ``psa.curves``
    refits at run time (:mod:`ces.survival.fit_recipe`), relative to the model file like `file:` tables."""
    fits = doc.get("fits") if isinstance(doc, dict) else None
    if not isinstance(fits, dict):
        return []
    return [v for rec in fits.values() if isinstance(rec, dict)
            for k, v in rec.items() if k in ("data", "km", "at_risk") and isinstance(v, str)]


def referenced_files(path: str | Path, overrides: dict | None = None) -> list:
    """The entry file, the model it points at and the data tables both reference (existing files only), and the
    data files of the model's ``fits:`` recipes; ``overrides``: :func:`ces.modelfile.loader.load`'s, whose
    entries may name files too (the replicates of ``psa.curves``, absolute paths in the client's cache)."""
    entry = Path(path).resolve()
    files = [entry]
    data = _safe_yaml(entry)
    docs = [data] if data else []
    model_dir = entry.parent
    if data and "model" in data and "states" not in data and isinstance(data["model"], str):
        mpath = (entry.parent / data["model"]).resolve()
        model_dir = mpath.parent
        if mpath.is_file():
            files.append(mpath)
            m = _safe_yaml(mpath)
            if m:
                docs.append(m)
    if overrides:
        docs.append(overrides.get("replace_parameters") or {})
    for doc in docs:
        for ref in _file_refs(doc) + _fit_refs(doc):
            f = (model_dir / ref).resolve()
            if f.is_file() and f not in files:
                files.append(f)
    return files


def make_bundle(path: str | Path, overrides: dict | None = None) -> Bundle:
    """Read the run's input files into a :class:`Bundle` (a missing entry file travels as missing), with the
    files the load ``overrides`` name (:func:`referenced_files`; a worker loads with :func:`relocate` of them)."""
    files = referenced_files(path, overrides)
    if not files[0].is_file():
        raise CesError("file not found", file=str(path))
    total = sum(f.stat().st_size for f in files)
    if total > MAX_BYTES:
        raise CesError(f"the run's input files total {total:,} bytes, more than the {MAX_BYTES:,} a bundle may carry",
                       file=str(path))
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    rel = [f.relative_to(root).as_posix() for f in files]
    blobs = [f.read_bytes() for f in files]
    hashes = tuple((r, sha256(b)) for r, b in zip(rel, blobs))
    digest = sha256("\n".join(f"{r} {h}" for r, h in sorted(hashes)).encode())
    from ces import __version__

    return Bundle(str(path), str(root), rel[0], tuple(zip(rel, blobs)), hashes, digest, __version__)


def materialise(bundle: Bundle) -> Path:
    """Write the bundle's files (once per machine) and return the path of its entry file."""
    from ces import __version__

    if bundle.version != __version__:
        raise CesError(f"this worker runs ces {__version__}, the client ces {bundle.version}: install the same "
                       "version on both")
    expected = dict(bundle.hashes)
    for rel, blob in bundle.files:
        if sha256(blob) != expected[rel]:
            raise CesError(f"bundle {bundle.digest[:12]}: `{rel}` does not match its hash (corrupted in transit)")
    root = Path(tempfile.gettempdir()) / "ces-bundles" / bundle.digest
    if not (root / ".complete").exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{bundle.digest[:12]}.", dir=root.parent))
        for rel, blob in bundle.files:
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
        (staging / ".complete").write_text(bundle.digest)
        try:
            os.rename(staging, root)  # atomic: concurrent workers on one machine race safely
        except OSError:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)  # another worker won the race
    return root / bundle.entry


def _worker_root(bundle: Bundle, entry: Path) -> Path:
    """The folder a materialised bundle's relative paths start from (the client's ``bundle.origin``)."""
    return entry.parents[len(Path(bundle.entry).parts) - 1]


def relocate(overrides: dict | None, bundle: Bundle, entry: Path) -> dict | None:
    """The load ``overrides`` with the client's absolute paths under ``bundle.origin`` (the ``file:`` of
    replaced parameter entries, the ``data_dirs``) moved to where :func:`materialise` wrote the bundle."""
    if not overrides:
        return overrides
    import copy

    origin, root = Path(bundle.origin), _worker_root(bundle, entry)

    def move(p: str) -> str:
        q = Path(p)
        return str(root / q.relative_to(origin)) if q.is_absolute() and q.is_relative_to(origin) else p

    def walk(node):
        if isinstance(node, dict):
            return {k: move(v) if k == "file" and isinstance(v, str) else walk(v) for k, v in node.items()}
        return [walk(v) for v in node] if isinstance(node, list) else node

    out = copy.copy(overrides)
    if out.get("replace_parameters"):
        out["replace_parameters"] = walk(out["replace_parameters"])
    if out.get("data_dirs"):
        out["data_dirs"] = [move(str(d)) for d in out["data_dirs"]]
    return out


def localise(exc: CesError, bundle: Bundle, entry: Path) -> CesError:
    """The same error with the worker's file names replaced by the names the user gave."""
    here, there = str(entry.parent), str(Path(bundle.given).parent)
    file = exc.file
    if file is not None and (file == here or file.startswith(here + os.sep)):
        file = str(Path(there) / Path(file).relative_to(here))
    root = _worker_root(bundle, entry)
    return type(exc)(exc.message.replace(str(root), bundle.origin), file=file, path=exc.path, line=exc.line)
