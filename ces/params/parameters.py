"""Parameter definitions: expressions, point values and PSA distributions.

A parameter in YAML is a number, an expression string, or a mapping
``{value: <number|expression>, dist: <name>, <distribution fields>, label, unit, source}``.
The ``value`` is the deterministic (base-case) value; under PSA a parameter with
``dist`` takes its sampled draw instead.  Distribution fields must be constant
expressions (e.g. ``meanlog: log(3)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ces.errors import CesError
from ces.modelfile.expr import FUNCTIONS, RESERVED, Expr, compile_expr

META_KEYS = ("value", "label", "unit", "source", "note", "description")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass
class ParamDef:
    name: str
    expr: Expr
    dist: Any = None  # ces.params.distributions.Distribution or None
    meta: dict = field(default_factory=dict)
    where: tuple = (None, None, None)  # file, path, line
    column: int | None = None  # index into a multivariate distribution's draw
    group: str | None = None  # YAML key of a joint (multivariate) entry


def parse_parameters(raw_map: dict, locate, extra_functions: frozenset, base_dir, prefix: tuple = ()) -> dict:
    """All parameters of a ``parameters:`` block, expanding joint entries (``names: [...]``)."""
    defs: dict = {}
    for key, raw in raw_map.items():
        where = locate(prefix + ("parameters", key))
        if isinstance(raw, dict) and "names" in raw:
            for d in parse_joint(key, raw, where, extra_functions, base_dir):
                defs[d.name] = d
        else:
            defs[key] = parse_parameter(key, raw, where, extra_functions, base_dir)
    return defs


def parse_joint(key: str, raw: dict, where: tuple, extra_functions: frozenset, base_dir) -> list:
    """A multivariate entry ``KEY: {names: [a, b], dist: mvnormal|dirichlet|empirical, ..., value: [..]}``.

    Each name becomes a parameter whose base value is ``value[i]`` (default: the
    distribution's mean) and whose PSA draw is column i of the joint draw.
    """
    file, path, line = where
    names = raw["names"]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise CesError("`names` must be a list of parameter names", file=file, path=f"{path}.names", line=line)
    if "dist" not in raw:
        raise CesError("an entry with `names` needs a multivariate `dist` (mvnormal, dirichlet, empirical or "
                       "bootstrap)",
                       file=file, path=path, line=line)
    inner = {k: v for k, v in raw.items() if k not in ("names", "value")}
    if inner.get("dist") == "bootstrap" and "column" not in inner and "columns" not in inner:
        inner["columns"] = names  # the replicates file of `ces fit` names its columns after the parameters
    proto = parse_parameter(key, {**inner, "value": 0}, where, extra_functions, base_dir)
    dist = proto.dist
    if int(getattr(dist, "dim", 1)) != len(names):
        raise CesError(f"`names` has {len(names)} entries but the distribution has dimension "
                       f"{getattr(dist, 'dim', 1)}", file=file, path=f"{path}.names", line=line)
    base = raw.get("value")
    if base is None:
        base = list(np.atleast_1d(np.asarray(dist.mean, dtype=float)))
    if not isinstance(base, list) or len(base) != len(names):
        raise CesError(f"`value` must be a list of {len(names)} base-case values", file=file,
                       path=f"{path}.value", line=line)
    out = []
    for i, n in enumerate(names):
        d = parse_parameter(n, base[i], (file, f"{path}.names[{i}]", line), extra_functions, base_dir)
        d.dist, d.column, d.group, d.meta = dist, i, key, proto.meta
        out.append(d)
    return out


def parse_parameter(name: str, raw: Any, where: tuple, extra_functions: frozenset, base_dir) -> ParamDef:
    """Build a :class:`ParamDef` from its YAML value; errors carry ``where``."""
    file, path, line = where

    def err(msg: str, sub: str | None = None) -> CesError:
        return CesError(msg, file=file, path=f"{path}.{sub}" if sub else path, line=line)

    if not NAME_RE.match(name):
        raise err(f"invalid parameter name `{name}`: use letters, digits and _ , starting with a letter")
    if name in RESERVED or name in FUNCTIONS or name in extra_functions:
        raise err(f"parameter name `{name}` is reserved (reserved names: {', '.join(sorted(RESERVED))}, "
                  "function and table names)")
    if isinstance(raw, bool) or raw is None:
        raise err(f"expected a number, an expression or a mapping with `value`, got {raw!r}")
    if isinstance(raw, (int, float, str)):
        return ParamDef(name, compile_expr(raw, file=file, path=path, line=line, extra_functions=extra_functions),
                        where=where)
    if not isinstance(raw, dict):
        raise err(f"expected a number, an expression or a mapping with `value`, got {type(raw).__name__}")
    dist_name = raw.get("dist")
    meta = {k: raw[k] for k in META_KEYS if k in raw and k != "value"}
    if "value" in raw:
        value = raw["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise err(f"`value` must be a number or an expression, got {value!r}", "value")
        expr = compile_expr(value, file=file, path=f"{path}.value", line=line, extra_functions=extra_functions)
    elif dist_name is None:
        raise err("missing `value` (a parameter mapping needs `value`, and optionally `dist`)")
    else:
        expr = None
    dist = None
    if dist_name is not None:
        from ces.params.distributions import make_distribution

        dspec: dict = {}
        for k, v in raw.items():
            if k in META_KEYS:
                continue
            dspec[k] = _constant(v, file, f"{path}.{k}", line) if k not in ("dist", "file", "column", "columns") else v
        if dist_name == "fixed" and set(dspec) == {"dist"} and "value" in raw:
            dspec["value"] = _constant(raw["value"], file, f"{path}.value", line)  # {value: 1000, dist: fixed}
        dist = make_distribution(dspec, file=file, path=path, line=line, base_dir=base_dir)
        if expr is None:
            mean = np.asarray(dist.mean, dtype=float)
            if mean.ndim != 0:
                raise err("a multivariate distribution needs `value` (its base-case value)", "value")
            expr = compile_expr(float(mean), file=file, path=path, line=line)
    else:
        unknown = [k for k in raw if k not in META_KEYS]
        if unknown:
            raise err(f"unknown key `{unknown[0]}` (allowed without `dist`: {', '.join(META_KEYS)}; "
                      "distribution fields need `dist`)", unknown[0])
    return ParamDef(name, expr, dist, meta, where)


def _constant(v: Any, file, path, line):
    """Evaluate a constant distribution field: number, constant expression, or (nested) list of them."""
    if isinstance(v, list):
        return [_constant(x, file, path, line) for x in v]
    if isinstance(v, bool) or v is None:
        raise CesError(f"expected a number, got {v!r}", file=file, path=path, line=line)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        e = compile_expr(v, file=file, path=path, line=line)
        if not e.is_constant:
            raise CesError(f"distribution fields must be constants, `{v}` refers to {', '.join(sorted(e.names))}",
                           file=file, path=path, line=line)
        return float(e.evaluate({}))
    raise CesError(f"expected a number or a list, got {type(v).__name__}", file=file, path=path, line=line)
