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


def sample_draws(dists: dict, seed: int, start: int, stop: int, cache: dict | None = None) -> dict:
    """Draws [start, stop) of every distribution: name → (stop−start,) or (stop−start, dim).

    ``cache``: a dict kept by the caller across consecutive chunks (:func:`ces.engine.psa.chunk_results`);
    a block shared by two chunks (e.g. 2,000-draw chunks over 4,096-draw blocks) is then generated once,
    not once per chunk.  Blocks before ``start`` are dropped, so it holds at most the blocks of one chunk.
    The values are those of the block whether cached or not (same generator, same stream)."""
    out = {}
    b0, b1 = start // BLOCK, (stop - 1) // BLOCK
    if cache is not None:
        for k in [k for k in cache if k[2] < b0]:
            del cache[k]
    for name, dist in dists.items():
        key = stable_key(name)
        blocks = []
        for b in range(b0, b1 + 1):
            if cache is None:
                blocks.append(_block(dist, seed, key, b))
                continue
            ck = (name, seed, b)
            if ck not in cache:
                cache[ck] = _block(dist, seed, key, b)
            blocks.append(cache[ck])
        arr = np.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]
        part = arr[start - b0 * BLOCK: stop - b0 * BLOCK]
        out[name] = part.copy() if cache is not None and len(blocks) == 1 else part  # never a view of the cache
    return out
