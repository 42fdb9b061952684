"""The safe expression language of model files.

Expressions (parameters, probabilities, costs, utilities) are parsed with
``ast.parse(mode="eval")``, checked node by node against a whitelist and turned into
a tree of small Python closures that evaluate with numpy, vectorised over arrays
that broadcast (draws × cycles).  Nothing from YAML ever reaches ``eval``/``exec``.

Allowed: numbers, booleans, names, ``+ - * / ** % //``, unary ``- + not``,
comparisons (chainable, element-wise), ``and``/``or`` (element-wise),
``a if c else b`` (``np.where``), calls of the whitelisted functions below (string
literals only as call arguments, keywords only ``t``, ``t_from``, ``t_to``, ``base``).

Functions (Δ = ``cycle_length``, the cycle length in years):

- ``exp``, ``log(x[, base])``, ``log10``, ``sqrt``, ``abs``, ``floor``, ``ceil``, ``round``
- ``min(a, b, ...)``, ``max(a, b, ...)``: element-wise
- ``if_else(c, a, b)``: ``np.where(c, a, b)``
- ``rate_to_prob(r, t=Δ)`` = 1 − exp(−r·t); ``prob_to_rate(p, t=Δ)`` = −ln(1 − p)/t
- ``prob_to_prob(p, t_from, t_to=Δ)`` = 1 − (1 − p)^(t_to/t_from)  (constant-rate rescaling)
- ``odds(p)`` = p/(1 − p); ``odds_to_prob(o)`` = o/(1 + o); ``logit(p)`` = ln(p/(1 − p)); ``expit(x)`` = 1/(1 + e^−x)

(Formulas: Fleurence & Hollenbeak, *PharmacoEconomics* 2007;25(1):3-6 for the rate/probability conversions.)
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ces.errors import CesError, ExprError
from ces.modelfile.limits import current as current_limits
from ces.modelfile.limits import how_to_raise

MAX_LENGTH = 2000
RESERVED = frozenset({"cycle", "time", "age", "cycle_length", "residence", "rest", "sex_male"})
KEYWORDS = frozenset({"t", "t_from", "t_to", "base"})


def _cycle_t(env, t):
    if t is not None:
        return t
    if "cycle_length" not in env:
        raise ExprError("rate/probability conversion needs `t` or the model's cycle length")
    return env["cycle_length"]


def _reduce(fn):
    def f(*args):
        if not args:
            raise ExprError("min/max need at least one argument")
        out = args[0]
        for a in args[1:]:
            out = fn(out, a)
        return out
    return f


# name -> (callable(env, *args, **kw), needs_env)
def _log(x, base=None):
    return np.log(x) if base is None else np.log(x) / np.log(base)


FUNCTIONS: dict[str, Callable] = {
    "exp": np.exp, "log": _log, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs,
    "floor": np.floor, "ceil": np.ceil, "round": np.round,
    "min": _reduce(np.minimum), "max": _reduce(np.maximum),
    "if_else": lambda c, a, b: np.where(c, a, b),
    "odds": lambda p: p / (1.0 - p), "odds_to_prob": lambda o: o / (1.0 + o),
    "logit": lambda p: np.log(p / (1.0 - p)), "expit": lambda x: 1.0 / (1.0 + np.exp(-x)),
}
ENV_FUNCTIONS: dict[str, Callable] = {
    "rate_to_prob": lambda env, r, t=None: 1.0 - np.exp(-r * _cycle_t(env, t)),
    "prob_to_rate": lambda env, p, t=None: -np.log(1.0 - p) / _cycle_t(env, t),
    "prob_to_prob": lambda env, p, t_from, t_to=None: 1.0 - (1.0 - p) ** (_cycle_t(env, t_to) / t_from),
}
ALL_FUNCTIONS = frozenset(FUNCTIONS) | frozenset(ENV_FUNCTIONS)
FUNCTIONS_ALL = {**FUNCTIONS, **{k: v for k, v in ENV_FUNCTIONS.items()}}

_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv}
_CMP = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
        ast.Eq: operator.eq, ast.NotEq: operator.ne}
_REFUSED = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts ([...])", ast.Lambda: "lambda",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.Starred: "starred arguments", ast.JoinedStr: "f-strings",
    ast.List: "list literals", ast.Tuple: "tuple literals", ast.Dict: "dict literals", ast.Set: "set literals",
    ast.NamedExpr: "assignment (:=)", ast.Await: "await", ast.Yield: "yield", ast.Slice: "slices",
}
ALLOWED_TEXT = ("numbers, parameter names, + - * / ** % //, comparisons, and, or, not, x if c else y, "
                "and the functions " + ", ".join(sorted(ALL_FUNCTIONS)))


class Expr:
    """A compiled expression: ``names``, ``calls``, ``is_constant`` and ``evaluate(env, functions)``."""

    def __init__(self, source, fn, names, calls, file=None, path=None, line=None):
        self.source = source
        self._fn = fn
        self.names = frozenset(names)
        self.calls = frozenset(calls)
        self.file, self.path, self.line = file, path, line

    @property
    def is_constant(self) -> bool:
        return not self.names

    def evaluate(self, env: Mapping[str, Any], functions: Mapping[str, Callable] | None = None):
        with np.errstate(all="ignore"):
            return self._fn(env, functions or {})

    def error(self, message: str) -> ExprError:
        return ExprError(message, file=self.file, path=self.path, line=self.line)

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"


def compile_expr(src, file=None, path=None, line=None, extra_functions: Iterable[str] = frozenset()) -> Expr:
    """Parse and check ``src`` (a number or an expression string); raise :class:`ExprError` if refused."""
    def err(msg):
        return ExprError(msg, file=file, path=path, line=line)

    if isinstance(src, bool):
        raise err(f"expected a number or an expression, got {src!r}")
    if isinstance(src, (int, float)):
        v = _literal(src, err)
        return Expr(src, lambda env, fns: v, (), (), file, path, line)
    if not isinstance(src, str):
        raise err(f"expected a number or an expression, got {type(src).__name__}")
    text = src.strip()
    if not text:
        raise err("empty expression")
    if len(text) > MAX_LENGTH:
        raise err(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (RecursionError, MemoryError):
        raise err(f"expression nested too deeply: `{text[:60]}...`") from None
    except SyntaxError as exc:
        import keyword
        import re

        kw = [w for w in re.findall(r"[A-Za-z_]+", text) if keyword.iskeyword(w) and w not in ("and", "or", "not", "if", "else", "True", "False")]
        hint = f" (`{kw[0]}` is a reserved word and cannot be a name)" if kw else ""
        raise err(f"invalid expression syntax at column {exc.offset}: `{text}`{hint}") from None
    max_depth = current_limits().max_expr_depth
    if _depth(tree.body) > max_depth:
        raise err(f"expression nested deeper than {max_depth} levels (`{text[:60]}`); "
                  f"{how_to_raise('max_expr_depth')}")
    names: set = set()
    calls: set = set()
    extra = frozenset(extra_functions)

    def build(node, in_call=False):
        t = type(node)
        if t in _REFUSED:
            what = _REFUSED[t]
            raise err(f"{what} is not allowed in expressions (`{ast.unparse(node)}`); allowed: {ALLOWED_TEXT}")
        if t is ast.Constant:
            v = node.value
            if isinstance(v, bool):
                return lambda env, fns, v=v: v
            if isinstance(v, (int, float)):
                v = _literal(v, err)
                return lambda env, fns, v=v: v
            if isinstance(v, str) and in_call:
                return lambda env, fns, v=v: v
            raise err(f"constant {v!r} is not allowed here (strings only as function arguments, e.g. mort(age, \"male\"))")
        if t is ast.Name:
            n = node.id
            if n.startswith("_"):
                raise err(f"name `{n}` is not allowed (names may not start with _)")
            if n in ("True", "False"):
                return lambda env, fns, v=(n == "True"): v
            names.add(n)

            def get(env, fns, n=n):
                try:
                    return env[n]
                except KeyError:
                    raise ExprError(f"unknown name `{n}` in expression `{text}`", file=file, path=path,
                                    line=line) from None
            return get
        if t is ast.BinOp:
            op = _BIN.get(type(node.op))
            if op is None:
                raise err(f"operator `{ast.unparse(node)}` is not allowed; allowed: {ALLOWED_TEXT}")
            a, b = build(node.left), build(node.right)
            return lambda env, fns: op(a(env, fns), b(env, fns))
        if t is ast.UnaryOp:
            a = build(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda env, fns: -a(env, fns)
            if isinstance(node.op, ast.UAdd):
                return a
            if isinstance(node.op, ast.Not):
                return lambda env, fns: np.logical_not(a(env, fns))
            raise err(f"operator `{ast.unparse(node)}` is not allowed; allowed: {ALLOWED_TEXT}")
        if t is ast.Compare:
            parts = [build(node.left)] + [build(c) for c in node.comparators]
            ops = []
            for o in node.ops:
                if type(o) not in _CMP:
                    raise err(f"comparison `{ast.unparse(node)}` is not allowed (use < <= > >= == !=)")
                ops.append(_CMP[type(o)])

            def cmp(env, fns):
                vals = [p(env, fns) for p in parts]
                out = ops[0](vals[0], vals[1])
                for i in range(1, len(ops)):
                    out = np.logical_and(out, ops[i](vals[i], vals[i + 1]))
                return out
            return cmp
        if t is ast.BoolOp:
            parts = [build(v) for v in node.values]
            f = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

            def boolop(env, fns):
                out = parts[0](env, fns)
                for p in parts[1:]:
                    out = f(out, p(env, fns))
                return out
            return boolop
        if t is ast.IfExp:
            c, a, b = build(node.test), build(node.body), build(node.orelse)
            return lambda env, fns: np.where(c(env, fns), a(env, fns), b(env, fns))
        if t is ast.Call:
            if not isinstance(node.func, ast.Name):
                raise err(f"only calls of named functions are allowed (`{ast.unparse(node)}`); allowed: {ALLOWED_TEXT}")
            fname = node.func.id
            if fname.startswith("_"):
                raise err(f"name `{fname}` is not allowed (names may not start with _)")
            if fname not in ALL_FUNCTIONS and fname not in extra:
                close = difflib.get_close_matches(fname, sorted(ALL_FUNCTIONS | extra), n=1)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                raise err(f"unknown function `{fname}`{hint} (allowed: {', '.join(sorted(ALL_FUNCTIONS | extra))})")
            calls.add(fname)
            args = [build(a, in_call=True) for a in node.args]
            kws = {}
            for kw in node.keywords:
                if kw.arg is None or kw.arg not in KEYWORDS:
                    raise err(f"keyword argument `{kw.arg or '**'}` is not allowed in `{ast.unparse(node)}` "
                              f"(allowed keywords: {', '.join(sorted(KEYWORDS))})")
                kws[kw.arg] = build(kw.value)
            if fname in ENV_FUNCTIONS and fname not in extra:
                fn = ENV_FUNCTIONS[fname]
                return lambda env, fns: fn(env, *[a(env, fns) for a in args],
                                           **{k: v(env, fns) for k, v in kws.items()})
            if fname in FUNCTIONS and fname not in extra:
                fn = FUNCTIONS[fname]
                return lambda env, fns: fn(*[a(env, fns) for a in args], **{k: v(env, fns) for k, v in kws.items()})

            def call_extra(env, fns, fname=fname):
                if fname not in fns:
                    raise ExprError(f"function `{fname}` is not available here", file=file, path=path, line=line)
                return fns[fname](*[a(env, fns) for a in args], **{k: v(env, fns) for k, v in kws.items()})
            return call_extra
        raise err(f"`{ast.unparse(node)}` is not allowed in expressions; allowed: {ALLOWED_TEXT}")

    fn = build(tree.body)

    def safe(env, fns):
        try:
            out = fn(env, fns)
        except TypeError as exc:
            raise ExprError(f"invalid call in `{text}`: {exc}", file=file, path=path, line=line) from None
        except ZeroDivisionError:
            raise ExprError(f"division or modulo by zero in `{text}`{_context(env)}", file=file, path=path,
                            line=line) from None
        except OverflowError:
            raise ExprError(f"numeric overflow in `{text}` (a result beyond ±1.8e308){_context(env)}", file=file,
                            path=path, line=line) from None
        except RecursionError:
            raise ExprError(f"expression nested too deeply: `{text[:60]}`", file=file, path=path, line=line) from None
        except CesError as exc:
            if exc.file is not None or file is None:
                raise
            raise ExprError(f"{exc.message} (in `{text}`)", file=file, path=path, line=line) from None
        _check_finite(out, text, env, file, path, line)
        return out
    return Expr(src, safe, names, calls, file, path, line)


def _literal(v, err) -> float:
    """A numeric literal as a float; integers beyond the float range are an error, not an OverflowError."""
    try:
        f = float(v)
    except OverflowError:
        raise err(f"number {str(v)[:20]}... is beyond the float range (±1.8e308)") from None
    if isinstance(v, float) and math.isnan(f):
        raise err("NaN (`.nan`) is not a number a model can use")
    return f


def _depth(node) -> int:
    """Nesting depth of an AST (iterative: no recursion on deep trees)."""
    best, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return best


def _context(env, index=None) -> str:
    """`` (strategy X, cycle k, age a)`` for an error at flat ``index`` of a (draws × periods) result."""
    parts = []
    if "_strategy" in env:
        parts.append(f"strategy `{env['_strategy']}`")
    if index is not None:
        k = index[-1] if len(index) else 0
        for var in ("cycle", "age"):
            arr = env.get(var)
            if isinstance(arr, np.ndarray) and arr.ndim == 2 and arr.shape[1] > k:
                parts.append(f"{var} {float(arr[0, k]):g}")
        if len(index) == 2 and index[0]:
            parts.append(f"PSA draw {int(index[0]) + 1}")
    return f" ({', '.join(parts)})" if parts else ""


def _check_finite(out, text, env, file, path, line) -> None:
    """NaN, ±inf or a complex number as the value of an expression is a located error.

    One pass (a sum) when all is well; the offending element is looked up only on failure.  Values
    with a draws dimension (PSA chunks, shape (D > 1, K)) are not checked here, to keep the PSA fast:
    the base case (D = 1) runs first and checks every expression on the whole time grid, and the PSA
    checks its per-draw totals (see ces.pipeline).
    """
    if isinstance(out, (bool, np.bool_, str)):
        return
    if isinstance(out, complex):
        raise ExprError(f"`{text}` has no real value (a negative number to a fractional power?){_context(env)}",
                        file=file, path=path, line=line)
    if isinstance(out, float):
        if math.isfinite(out):
            return
        bad, index = out, None
    elif isinstance(out, np.ndarray) and out.dtype.kind == "f":
        if out.size == 0 or (out.ndim == 2 and out.shape[0] > 1) or math.isfinite(float(out.sum())):
            return
        mask = ~np.isfinite(out)
        if not mask.any():  # the sum overflowed on finite values
            flat = int(np.argmax(np.abs(out)))
            mask = None
        else:
            flat = int(np.argmax(mask))
        index = np.unravel_index(flat, out.shape)
        bad = out.flat[flat]
        if mask is None:
            raise ExprError(f"values of `{text}` are too large to add up (e.g. {bad:g}){_context(env, index)}",
                            file=file, path=path, line=line)
    else:
        return
    what = "NaN (e.g. 0/0, log of a negative number)" if bad != bad else f"{bad} (division by zero or overflow)"
    raise ExprError(f"`{text}` evaluates to {what}{_context(env, index)}", file=file, path=path, line=line)


def dependency_order(exprs: Mapping[str, Expr], known: Iterable[str], where: Mapping[str, tuple]) -> list[str]:
    """Topological order of parameters (YAML order kept where possible); unknown names and cycles are errors."""
    known = frozenset(known)
    keys = list(exprs)
    for n in keys:
        for m in sorted(exprs[n].names):
            if m not in exprs and m not in known:
                file, path, line = where.get(n, (None, None, None))
                close = difflib.get_close_matches(m, keys + sorted(known - {"rest"}), n=1)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                if m == "age":
                    hint = " (`age` needs the model's `start_age`)"
                raise ExprError(f"unknown name `{m}` in expression `{exprs[n].source}`{hint}",
                                file=file, path=path, line=line)
    # iterative depth-first search: linear in parameters + references, no recursion limit
    index = {k: i for i, k in enumerate(keys)}
    deps = {n: sorted((m for m in exprs[n].names if m in exprs), key=index.__getitem__) for n in keys}
    order: list = []
    state: dict = {}  # 1 visiting, 2 done
    for root in keys:
        if state.get(root) == 2:
            continue
        state[root] = 1
        stack = [(root, iter(deps[root]))]
        while stack:
            n, it = stack[-1]
            m = next(it, None)
            if m is None:
                stack.pop()
                state[n] = 2
                order.append(n)
            elif state.get(m) == 1:
                path_ = [x for x, _ in stack]
                cyc = path_[path_.index(m):] + [m]
                file, path, line = where.get(cyc[0], (None, None, None))
                raise ExprError(f"dependency cycle: {' -> '.join(cyc)}", file=file, path=path, line=line)
            elif state.get(m) is None:
                state[m] = 1
                stack.append((m, iter(deps[m])))
    return order
