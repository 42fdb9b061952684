"""The user's cache folder of ces: ``$CES_CACHE_DIR`` (default ``~/.cache/ces``).

Holds what ces computes once and reuses across runs: the bootstrap replicates of ``psa: {curves: ...}``
(``bootstrap/``, :mod:`ces.survival.boot_run`) and the Markov kernels generated per model structure
(``kernels/``, :mod:`ces.engine.kernel_codegen`).  Every entry is keyed by a hash of what it depends on, so
deleting the folder only costs time.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$CES_CACHE_DIR``, else ``~/.cache/ces``."""
    return Path(os.environ.get("CES_CACHE_DIR") or Path.home() / ".cache" / "ces")
