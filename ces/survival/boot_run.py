"""``psa: {curves: bootstrap, B: 1000}`` in an analysis config: refit the model's curves at run time.

For each recipe in the model's ``fits:`` block (written by ``ces fit --yaml``, :mod:`ces.survival.fit_recipe`)
the run reads the patient-level data (path relative to the model file, inside the allowed data folders; its
SHA-256 must match the recorded one), resamples the patients B times and refits every endpoint on the same
resample — :func:`ces.survival.fit_recipe.replay`, the code of ``ces fit --bootstrap B``, seeded by the
run's PSA seed.  The recipe's PSA entries (``parameters``) are then replaced by ONE joint entry:

- ``bootstrap``: ``dist: bootstrap`` over the replicates (each PSA draw takes one whole replicate, as a
  model written by ``ces fit --psa bootstrap``; :mod:`ces.params.bootstrap_rows`);
- ``mvn``: ``dist: mvnormal``, covariance = the bootstrap covariance of the replicates;
- ``hessian``: ``dist: mvnormal``, block-diagonal covariance = each curve's inverse Hessian (curves independent).

A recipe of a digitised curve (``ces fit --km``) rebuilds the same Guyot pseudo-patients and resamples them
with its own seed stream: separately digitised curves (PFS and OS, or two arms) are resampled independently,
so each keeps its parametric uncertainty but NOT the correlation between them (e.g. PFS–OS; the curves are not
linked patient by patient); the run warns when it combines several such recipes (:func:`curve_warnings`).

The base-case values stay the model's own (the MLEs the block records).  Replicates are cached on disk, keyed
by SHA-256 of (ces version, SHA-256 of the input files, recipe, form, B, seed): ``$CES_CACHE_DIR/bootstrap/`` (default
``~/.cache/ces/bootstrap/``); a second run with the same key reads them back without refitting.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ces.atomic_file import write_text_atomic
from ces.errors import CesError
from ces.user_cache import cache_root

DEFAULT_B = 1000


def cache_dir() -> Path:
    """``$CES_CACHE_DIR/bootstrap`` (default ``~/.cache/ces/bootstrap``, :func:`ces.user_cache.cache_root`), as an
    absolute path without links (the replicates files it names travel to remote workers under it,
    :func:`ces.bundle.relocate`)."""
    return (cache_root() / "bootstrap").resolve()


def cache_key(data_sha: str, rec: dict, form: str, B: int, seed: int) -> str:
    """SHA-256 of (ces version, data SHA-256, recipe, form, B, seed) as canonical JSON."""
    from ces import __version__

    blob = json.dumps({"ces": __version__, "data_sha256": data_sha, "recipe": rec, "form": form,
                       "B": B, "seed": seed}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def fitted(rec, paths: list, form: str, B: int, seed: int, map_fn=map, blocks: int = 1) -> dict:
    """{"columns", "hessian": [cov per endpoint], "rows": replicates CSV path or None}, from the cache or
    refitted (and cached); ``paths``: the recipe's input files (fit_recipe.input_files), resolved."""
    from ces.survival.bootstrap import file_sha256, rows_csv
    from ces.survival.fit_recipe import source

    sha = file_sha256(paths)
    n_boot = 0 if form == "hessian" else B
    key = cache_key(sha, rec.model_dump(), form, n_boot, seed if n_boot else 0)
    d = cache_dir()
    meta_path, rows_path = d / f"{key}.json", d / f"{key}.csv"
    if meta_path.exists() and (not n_boot or rows_path.exists()):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            return {**meta, "rows": rows_path if n_boot else None, "cached": True}
        except (OSError, ValueError):
            pass  # an unreadable cache entry is refitted and rewritten
    res = replay(rec, paths, n_boot, seed, map_fn, blocks)
    from ces.survival.fit_yaml import _py

    meta = {"columns": [f"{n}_{_py(c)}" for n, f, _, _ in res["chosen"] for c in f.coef_names],
            "hessian": [np.atleast_2d(f.cov).tolist() for _, f, _, _ in res["chosen"]]}
    if n_boot:
        rep = res["boot"]
        if len(rep.draws) < 2:
            raise CesError(f"only {len(rep.draws)} of {B} bootstrap replicates could be fitted: too few")
        meta["boot_cov"] = rep.covariance().tolist()
    try:
        d.mkdir(parents=True, exist_ok=True)
        if n_boot:
            write_text_atomic(rows_path, rows_csv(rep, source=source(rec, paths), data_sha256=sha, seed=seed,
                                                  models=res["endpoints"]))
        write_text_atomic(meta_path, json.dumps(meta))
    except OSError as exc:
        raise CesError(f"cannot write the bootstrap cache {d} ({exc.strerror}): set CES_CACHE_DIR") from None
    except CesError as exc:  # write_text_atomic's own error, with the same advice
        raise CesError(f"cannot write the bootstrap cache {d} ({exc.message}): set CES_CACHE_DIR") from None
    return {**meta, "rows": rows_path if n_boot else None, "cached": False}


def replay(rec, paths, B, seed, map_fn, blocks):
    """:func:`ces.survival.fit_recipe.replay` (a seam for the tests' refit counter)."""
    from ces.survival.fit_recipe import replay as _replay

    return _replay(rec, paths, B, seed, map_fn, blocks)


def check_recipes(loaded) -> list:
    """[(fits key, recipe, input paths, coefficient names, base values)] of the config's ``psa.curves``, after
    every check that needs no fit (recipe present, input files allowed, present and unchanged, entries joint)."""
    from ces.modelfile.paths import check_data_path
    from ces.survival.bootstrap import file_sha256
    from ces.survival.fit_recipe import input_files

    form = loaded.config.psa.curves
    if not loaded.model.fits:
        raise loaded.config_loc.error(("psa", "curves"), f"`curves: {form}` needs the model's `fits:` recipe "
                                      "(written by `ces fit DATA.csv ... --yaml` or `ces fit --km KM.csv --at-risk "
                                      "RISK.csv ... --yaml`; a model written before it has none: rerun `ces fit`)")
    out = []
    for fname, rec in loaded.model.fits.items():
        where = ("fits", fname)
        paths = []
        for key, sha_key, rel in input_files(rec):
            path = Path(rel)
            path = path if path.is_absolute() else loaded.base_dir / path
            try:
                check_data_path(path, loaded.data_dirs, "fit data file", rel)
            except ValueError as exc:
                raise loaded.error(where + (key,), str(exc)) from None
            if not path.is_file():
                raise loaded.error(where + (key,), f"data file `{rel}` not found (resolved to {path})")
            sha, recorded = file_sha256([path]), getattr(rec, sha_key)
            if sha != recorded:
                raise loaded.error(where + (sha_key,), f"`{rel}` has changed since `ces fit` recorded it "
                                   f"(SHA-256 {recorded[:12]}… recorded, {sha[:12]}… now): rerun `ces fit` on it")
            paths.append(path)
        names, base = [], []
        for i, key in enumerate(rec.parameters):
            raw = loaded.model.parameters.get(key)
            if not isinstance(raw, dict) or not isinstance(raw.get("names"), list):
                raise loaded.error(where + ("parameters", i), f"`{key}` is not a joint parameter entry "
                                   "(`names: [...]`) of the model")
            value = raw.get("value", raw.get("mean"))
            if not isinstance(value, list) or len(value) != len(raw["names"]):
                raise loaded.error(("parameters", key), "needs `value` or `mean`: the list of base-case "
                                   "coefficients (as `ces fit` writes it)")
            names += raw["names"]
            base += value
        out.append((fname, rec, paths, names, base))
    return out


def curve_overrides(loaded, seed: int, map_fn=map, blocks: int = 1) -> tuple:
    """(parameter overrides, keys to remove, data files read, extra data folder) for ``psa.curves``."""
    spec = loaded.config.psa
    form, B = spec.curves, spec.B if spec.B is not None else DEFAULT_B
    from ces.survival.fit_recipe import input_files

    over, remove, files = {}, [], []
    for fname, rec, paths, names, base in check_recipes(loaded):
        label = " + ".join(rel for _, _, rel in input_files(rec))
        try:
            got = fitted(rec, paths, form, B, seed, map_fn, blocks)
        except CesError as exc:
            raise loaded.config_loc.error(("psa", "curves"), f"refitting `{label}`: {exc.message}") from None
        if got["columns"] != names:
            raise loaded.error(("fits", fname, "parameters"), f"the refit's coefficients ({', '.join(got['columns'])}"
                               f") are not the entries' names ({', '.join(names)})")
        over[rec.parameters[0]] = _entry(form, names, base, got, B, label, seed)
        remove += rec.parameters[1:]
        files += [str(p.resolve()) for p in paths]
    return over, remove, files, str(cache_dir())


def _entry(form: str, names: list, base: list, got: dict, B: int, data: str, seed: int) -> dict:
    """The joint parameter entry replacing the recipe's PSA entries."""
    src = f"ces run psa.curves: {form} of {data}" + (f" (B = {B}, seed {seed})" if form != "hessian" else "")
    if form == "bootstrap":
        return {"names": names, "dist": "bootstrap", "file": str(got["rows"]), "B": B, "value": base, "source": src}
    if form == "mvn":
        cov = np.asarray(got["boot_cov"], dtype=float)
    else:
        from scipy.linalg import block_diag

        cov = block_diag(*[np.asarray(c, dtype=float) for c in got["hessian"]])
    return {"names": names, "dist": "mvnormal", "mean": base, "cov": cov.tolist(), "source": src}


def curve_psa(loaded, seed: int, load, overrides: dict | None, map_fn=map, blocks: int = 1) -> tuple:
    """(loaded, data files read): the config reloaded (``load(overrides)``) with its ``psa.curves`` entries in
    place of the recipes' PSA entries, before any model is built (the recipes and entries are read from the
    loaded specs; the model is built once, from the result).  The data files join the provenance.  Remote
    workers (``--executor dask``) load with the same overrides; the replicates travel in the run's bundle."""
    over, remove, files, extra_dir = curve_overrides(loaded, seed, map_fn, blocks)
    merged = dict(overrides or {})
    merged["replace_parameters"] = {**(merged.get("replace_parameters") or {}), **over}
    merged["remove_parameters"] = list(merged.get("remove_parameters") or []) + remove
    merged["data_dirs"] = list(merged.get("data_dirs") or []) + [extra_dir]
    return load(merged), files


def curve_warnings(loaded) -> list:
    """The run's warning when ``psa.curves`` combines several recipes and one is a digitised curve: those are
    resampled independently (module docstring), so the correlation between the curves is not kept."""
    spec = loaded.config.psa
    fits = loaded.model.fits or {}
    if spec is None or spec.curves in (None, "hessian") or len(fits) < 2 or all(r.km is None for r in fits.values()):
        return []
    names = ", ".join(f"`{k}`" for k in fits)
    loc = loaded.config_loc
    return [{"code": "curves_independent", "where": f"{loc.file}:{loc.line(('psa', 'curves'))} psa.curves",
             "message": f"the recipes {names} are resampled independently (a digitised KM curve is "
                        "not linked patient by patient to another curve): each keeps its own uncertainty, the "
                        "correlation between them (e.g. PFS–OS) is not kept"}]
