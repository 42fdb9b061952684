"""Markov kernels generated per model structure: :func:`ces.engine.kernels.markov_totals` with the entries unrolled.

Why.  The generic kernel reads its occupancy, row sums and transition-reward sums through small arrays
indexed by the entry arrays (``mn[to[e]] += flow``) in every cycle of every draw, so the compiler keeps
them in memory and reloads every input it cannot prove unaliased.  Measured on 10,000 draws at one thread
(Sick-Sicker, 10 entries, 75 cycles: 0.068 s → 0.009 s a strategy; bench model A, 11 entries, 60 cycles:
0.074 s → 0.012 s), the generated kernel is 5–6× faster (docs/performance.md).

What it is.  The same algorithm as ``markov_totals`` with ``keep`` off (a PSA chunk: totals only), the
same floating-point operations in the same order, so the totals and the check codes (``err``) are
bit-identical to the generic kernel's (tests/test_kernel_codegen.py compares them on random structures).
What changes is only where the numbers live: each state's occupancy, row sum and flow × reward sum is a
local variable; an entry constant over cycles (stride 0) and state values constant over cycles are read once
per draw.  The source is built from integers only: each entry's from/to state index and rest flag, the
state, stream and transition-reward counts, and which inputs are constant over cycles.  No YAML text, name or
expression ever enters it.

Cache.  The source is written to ``$CES_CACHE_DIR/kernels/markov_<key>.py`` (:mod:`ces.user_cache`;
``key`` = SHA-256 of the structure, the generator version and the ces and numba versions) and compiled
with ``cache=True``, so numba keeps the machine code beside it (or under ``NUMBA_CACHE_DIR``).  Models of
the same structure share one kernel.

When (``CES_KERNEL``: ``auto``, the default; ``generated``; ``generic``).  Compiling costs 3–10 s once
per structure and machine; a deterministic run, a small PSA or a trace-keeping run never pays it.  In
``auto``, the generic kernel runs a structure's PSA chunks until, in this process, it has done as much work
(entries × cycles × draws) as switching costs: ``LOAD_WORK`` when the kernel is marked compiled in the cache
folder (loading numba's cached code, ~20 ms), ``COMPILE_WORK`` when it is not (compiling it, seconds); from
then on the generated kernel runs.  This is the ski-rental rule: a run never spends more than
about twice what the better choice in hindsight would have.  ``generated`` compiles at the first PSA chunk
(for benchmarks, or to warm the cache before a batch); ``generic`` never uses a generated kernel.
Structures with more than ``MAX_ENTRIES`` entries or ``MAX_TERMS`` stream × state terms use the generic
kernel (the unrolled source would take longer to compile than it saves).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading

import numpy as np

from ces.atomic_file import write_text_atomic
from ces.errors import CesError
from ces.user_cache import cache_root

#: Bump when the generated source changes: part of the cache key.
GENERATOR_VERSION = 1
#: Generic-kernel work (entries × cycles × draws) after which ``auto`` compiles: at ~9 ns an entry-cycle
#: (one thread, measured on Sick-Sicker and bench model A, 2026-12-03), about the 8–10 s a cold
#: parallel compile takes.
COMPILE_WORK = 1.0e9
#: The same for a kernel already compiled on this machine: loading numba's cached code costs ~20 ms.
LOAD_WORK = 3.0e6
MAX_ENTRIES = 256
MAX_TERMS = 512

_lock = threading.Lock()
_loaded: dict = {}  # key -> compiled function
_work: dict = {}  # key -> generic-kernel entry-cycles run in this process
_marked: set = set()  # keys known to be marked compiled on this machine (no file check per chunk)


def mode() -> str:
    """``CES_KERNEL``: auto (default), generated or generic."""
    m = os.environ.get("CES_KERNEL", "auto").strip().lower() or "auto"
    if m not in ("auto", "generated", "generic"):
        raise CesError(f"CES_KERNEL={m!r} is not allowed: use auto, generated or generic")
    return m


def structure(frm, to, rest, sk, S: int, R: int, Rt: int, v_const: bool, tr_const: bool) -> tuple:
    """The integers a generated kernel depends on (its cache key before hashing)."""
    return (tuple(int(x) for x in frm), tuple(int(x) for x in to), tuple(int(x) for x in rest),
            tuple(int(x) for x in sk), int(S), int(R), int(Rt), bool(v_const), bool(tr_const))


def eligible(struct: tuple) -> bool:
    frm, _, _, _, S, R, Rt, _, _ = struct
    return Rt in (0, R) and len(frm) <= MAX_ENTRIES and R * S + Rt * len(frm) <= MAX_TERMS


def key_of(struct: tuple) -> str:
    import numba

    from ces import __version__

    blob = repr((GENERATOR_VERSION, __version__, numba.__version__, struct)).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def source(struct: tuple) -> str:
    """Python source of the generated kernel ``kern`` (arguments as markov_totals without frm, to, rest, S,
    trace and periods).  Each line mirrors markov_totals / markov_step / period_value (kernels.py)."""
    frm, to, rest, sk, S, R, Rt, v_const, tr_const = struct
    E = len(frm)
    L: list = []

    def w(indent: int, line: str) -> None:
        L.append("    " * indent + line)

    def fail(indent: int, kind: int, k: str, state, entry) -> None:  # the first failed check of the draw
        for line in ("ok = False", f"err[d, 0] = {kind}", f"err[d, 1] = {k}", f"err[d, 2] = {state}",
                     f"err[d, 3] = {entry}"):
            w(indent, line)

    def period(indent: int, k: str, prev: str, cur: str, extra: bool) -> None:  # period_value, then the sums
        for r in range(R):
            w(indent, "val = 0.0")
            for wt, occ in (("a", prev), ("b", cur)):
                w(indent, f"if {wt} != 0.0:")
                for s in range(S):
                    v = f"v{r}_{s}" if v_const and k == "k" else f"V[dv, {r}, {'kv' if k == 'k' else '0'}, {s}]"
                    w(indent + 1, f"val += {v} * {wt} * {occ}{s}")
            if extra:
                w(indent, f"val += (a + b) * tr{r}")
            w(indent, f"t{r} += disc[{r}, {k}] * val")
            w(indent, f"u{r} += val")

    w(0, "import numpy as np")
    w(0, "from numba import njit, prange")
    w(0, "")
    w(0, "")
    w(0, "@njit(parallel=True, cache=True, nogil=True)")
    w(0, "def kern(buf, off, sd, sk, init, TR, tol, V, alpha, beta, disc, err, totals, totals_undisc):")
    w(1, "D = totals.shape[0]")
    w(1, "NP = alpha.shape[0]")
    w(1, "for dd in prange(D):")
    w(2, "d = np.int64(dd)")
    w(2, "di = d if init.shape[0] > 1 else np.int64(0)")
    w(2, "dt = d if TR.shape[0] > 1 else np.int64(0)")
    w(2, "dv = d if V.shape[0] > 1 else np.int64(0)")
    for e in range(E):
        w(2, f"b{e} = off[{e}] + d * sd[{e}]")
        if not rest[e]:
            w(2, f"q{e} = buf[b{e}]" if sk[e] == 0 else f"k{e} = sk[{e}]")
    w(2, "ok = True")
    w(2, "err[d, 0] = 0")
    for s in range(S):
        w(2, f"m{s} = init[di, {s}]")
    for r in range(R):
        w(2, f"t{r} = 0.0")
        w(2, f"u{r} = 0.0")
    w(2, "a = alpha[0]")
    w(2, "b = beta[0]")
    period(2, "0", "m", "m", False)
    if v_const:
        for r in range(R):
            for s in range(S):
                w(2, f"v{r}_{s} = V[dv, {r}, 0, {s}]")
    if tr_const:
        for r in range(Rt):
            for e in range(E):
                w(2, f"w{r}_{e} = TR[dt, {r}, 0, {frm[e]}, {to[e]}]")
    w(2, "for k in range(1, NP):")
    w(3, "km1 = k - 1")
    if Rt and not tr_const:
        w(3, "kt = km1 if TR.shape[2] > 1 else 0")
    for s in range(S):
        w(3, f"x{s} = 0.0")
        w(3, f"rs{s} = 0.0")
    for r in range(Rt):
        w(3, f"tr{r} = 0.0")
    for e in range(E):
        i, j = frm[e], to[e]
        w(3, f"p = 1.0 - rs{i}" if rest[e] else (f"p = q{e}" if sk[e] == 0 else f"p = buf[b{e} + km1 * k{e}]"))
        w(3, "if ok and not (p >= -tol and p <= 1.0 + tol):")
        fail(4, 1, "k", i, e)
        w(3, f"rs{i} += p")
        w(3, f"flow = m{i} * p")
        w(3, f"x{j} += flow")
        for r in range(Rt):
            w(3, f"tr{r} += flow * " + (f"w{r}_{e}" if tr_const else f"TR[dt, {r}, kt, {i}, {j}]"))
    w(3, "mass = 0.0")
    for s in range(S):
        w(3, f"mass += x{s}")
        w(3, f"if ok and abs(rs{s} - 1.0) > tol:")
        fail(4, 2, "k", s, -1)
    w(3, "if ok and abs(mass - 1.0) > tol:")
    fail(4, 3, "k", -1, -1)
    if not v_const:
        w(3, "kv = k if V.shape[2] > 1 else 0")
    w(3, "a = alpha[k]")
    w(3, "b = beta[k]")
    period(3, "k", "m", "x", Rt > 0)
    for s in range(S):
        w(3, f"m{s} = x{s}")
    for r in range(R):
        w(2, f"totals[d, {r}] = t{r}")
        w(2, f"totals_undisc[d, {r}] = u{r}")
    return "\n".join(L) + "\n"


def _folder():
    return cache_root() / "kernels"


def compiled(struct: tuple):
    """The generated kernel of ``struct``: loaded in this process, else imported from (or written to) the
    cache folder.  The caller's first call compiles it, or loads numba's cached machine code."""
    key = key_of(struct)
    with _lock:
        fn = _loaded.get(key)
        if fn is not None:
            return fn
        folder = _folder()
        path = folder / f"markov_{key}.py"
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, source(struct))
        name = f"ces_kernel_markov_{key}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # numba's cached code finds its module's globals by this name
        spec.loader.exec_module(mod)
        _loaded[key] = mod.kern
        return mod.kern


def _marker(key: str):
    return _folder() / f"markov_{key}.compiled"


def choose(struct: tuple, work: float) -> str | None:
    """The key of the generated kernel to run a PSA chunk of ``work`` entry-cycles with, or None for the
    generic kernel (the rule in the module docstring).  A cache-folder problem means the generic kernel."""
    m = mode()
    if m == "generic" or not eligible(struct):
        return None
    key = key_of(struct)
    try:
        if key in _loaded or m == "generated":
            compiled(struct)
            return key
        threshold = LOAD_WORK if _marker(key).is_file() else COMPILE_WORK
        with _lock:
            done = _work.get(key, 0.0)
            _work[key] = done + work
        if done + work < threshold:
            return None
        compiled(struct)
        return key
    except (OSError, CesError):  # a cache folder that cannot be written: the generic kernel, same results
        return None


def run_generated(key: str, args: tuple, tol, V, alpha, beta, disc, err, totals, totals_u) -> None:
    """Run the generated kernel ``key`` (from :func:`choose`) on markov_totals' arguments ``args`` = (frm, to,
    rest, buf, off, sd, sk, S, init, TR), dropping what its source already holds (frm, to, rest, S); then
    mark it compiled on this machine."""
    _, _, _, buf, off, sd, sk, _, init, TR = args
    _loaded[key](buf, off, sd, sk, init, TR, tol, V, alpha, beta, disc, err, totals, totals_u)
    if key in _marked:
        return
    marker = _marker(key)
    try:
        if not marker.is_file():
            write_text_atomic(marker, "compiled\n")
        _marked.add(key)
    except (OSError, CesError):  # the marker only saves a later run the wait: never fail the run for it
        pass


def structure_of(args: tuple, V: np.ndarray) -> tuple:
    """:func:`structure` of markov_totals' packed arguments ``args`` and the state values ``V``."""
    frm, to, rest, _, _, _, sk, S, _, TR = args
    return structure(frm, to, rest, sk, S, V.shape[1], TR.shape[1], V.shape[2] == 1, TR.shape[2] == 1)
