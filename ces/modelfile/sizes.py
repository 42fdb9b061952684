"""Size checks of a loaded model, made before the engine allocates anything.

Each check compares a size with its limit in :mod:`ces.modelfile.limits` and raises a
located :class:`~ces.errors.CesError` that names the limit and how to raise it.
"""

from __future__ import annotations

import math

from ces.errors import CesError
from ces.modelfile import limits


def check_model_sizes(loaded, cycle_years: float) -> None:
    """Finite ages, valid sex weights, tunnel lengths and the number of (expanded) states."""
    spec = loaded.model
    for key in ("start_age", "max_age"):
        v = getattr(spec, key)
        if v is not None and not math.isfinite(v):
            raise loaded.error((key,), f"`{key}` must be a finite number of years, got {v}")
    if isinstance(spec.sex, dict):
        w = list(spec.sex.values())
        if not all(math.isfinite(x) and x >= 0 for x in w) or not sum(w) > 0:
            raise loaded.error(("sex",), f"`sex` weights must be finite, ≥ 0 and not all 0, got {dict(spec.sex)}")
    n_states = 0
    for s, st in spec.states.items():
        if st.max_residence:
            file, path, line = loaded.locate(("states", s, "max_residence"))
            limits.check("max_residence", st.max_residence, "the tunnel length `max_residence`", file=file,
                         path=path, line=line)
        n_states += st.max_residence or 1
    file, path, line = loaded.locate(("states",))
    limits.check("max_states", n_states, "the number of states (tunnel states expanded)", file=file, path=path,
                 line=line)


def check_cycles(loaded, n_cycles: int) -> None:
    file, path, line = loaded.locate(("horizon",))
    limits.check("max_cycles", n_cycles, "the number of cycles of the horizon", file=file, path=path, line=line)


def check_cells(loaded, n_cycles: int, n_states: int, draws_per_chunk: int, source: str) -> None:
    """cycles × states × draws-per-chunk bounds the memory of one PSA chunk (traces are float64)."""
    cells = (n_cycles + 1) * n_states * draws_per_chunk
    lim = limits.current().max_cells
    if cells > lim:
        cfg = loaded.config_loc
        raise CesError(f"a PSA chunk would hold {n_cycles + 1:,} cycles × {n_states:,} states × {draws_per_chunk:,} "
                       f"draws = {cells:,} values, above the limit max_cells = {lim:,}; lower the chunk ({source}) "
                       f"or {limits.how_to_raise('max_cells')}",
                       file=cfg.file if cfg else loaded.model_loc.file, path="psa.chunk" if cfg else None,
                       line=cfg.line(("psa", "chunk")) if cfg else None)


def check_draws(loaded, n: int, flag: bool) -> None:
    cfg = loaded.config_loc
    if flag or cfg is None:
        limits.check("max_draws", n, "the number of PSA draws (--draws)")
    else:
        limits.check("max_draws", n, "the number of PSA draws", file=cfg.file, path="psa.draws",
                     line=cfg.line(("psa", "draws")))


def check_wtp_values(values, loc=None, where: str = "wtp") -> None:
    """WTP values must be finite and ≥ 0 (``loc``: the config, to locate the error at `wtp`)."""
    for w in values:
        if not (isinstance(w, (int, float)) and math.isfinite(w) and w >= 0):
            msg = f"willingness to pay must be a finite number ≥ 0, got {w}"
            raise loc.error(("wtp",), msg) if loc is not None else CesError(f"{where}: {msg}")


def check_psa_totals(loaded, psa) -> None:
    """Every PSA draw must give finite totals (a sampled value can make an expression NaN or infinite,
    e.g. log of a negative normal draw); the first offending draw is named."""
    import numpy as np

    for s, tot in psa.totals.items():
        ok = np.isfinite(tot).all(axis=1)
        if not ok.all():
            d = int(np.argmin(ok))
            j = int(np.argmin(np.isfinite(tot[d])))
            raise CesError(f"PSA draw {d + 1} (seed {psa.seed}) of strategy `{s}` gives a non-finite "
                           f"`{psa.streams[j]}` total ({tot[d, j]}): a sampled parameter value makes an expression "
                           "NaN or infinite; check the distributions' ranges", file=loaded.model_loc.file,
                           path="parameters")
