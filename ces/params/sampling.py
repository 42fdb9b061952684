"""Seeded, chunk-invariant sampling of the PSA draw matrix.

Draw i of parameter ``name`` depends only on (seed, name, i): draws are generated in
fixed blocks of ``BLOCK`` draws, block b of a parameter from its own counter-based
Philox stream seeded by ``SeedSequence([seed, key(name), b])``.  Any split of the
draw range into chunks, any thread count and any set of other parameters give
bit-identical values for the same draw index.
"""

from __future__ import annotations

import hashlib

import numpy as np

BLOCK = 4096


def stable_key(name: str) -> int:
    """A process-independent 63-bit integer for a parameter name (not Python's salted hash())."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little") >> 1


def _block(dist, seed: int, key: int, b: int) -> np.ndarray:
    rng = np.random.Generator(np.random.Philox(np.random.SeedSequence([seed, key, b])))
    return dist.sample(rng, BLOCK)


def sample_draws(dists: dict, seed: int, start: int, stop: int) -> dict:
    """Draws [start, stop) of every distribution: name → (stop−start,) or (stop−start, dim)."""
    out = {}
    b0, b1 = start // BLOCK, (stop - 1) // BLOCK
    for name, dist in dists.items():
        key = stable_key(name)
        blocks = [_block(dist, seed, key, b) for b in range(b0, b1 + 1)]
        arr = np.concatenate(blocks, axis=0)
        out[name] = arr[start - b0 * BLOCK: stop - b0 * BLOCK]
    return out
