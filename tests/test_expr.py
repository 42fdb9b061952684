"""The safe expression language: arithmetic, functions, vectorisation, refusals, dependency order."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ces.errors import ExprError
from ces.modelfile.expr import compile_expr, dependency_order


def ev(src, **env):
    return compile_expr(src).evaluate(env)


def test_arithmetic_and_precedence():
    assert ev("1 + 2 * 3 ** 2 - 4 / 2") == 1 + 2 * 3 ** 2 - 4 / 2
    assert ev("-2 ** 2") == -4 and ev("7 % 3") == 1 and ev("7 // 2") == 3
    assert ev("(a + b) * c", a=1, b=2, c=4) == 12


def test_vectorised_broadcasting():
    out = ev("a * b + 1", a=np.arange(3.0).reshape(3, 1), b=np.arange(4.0).reshape(1, 4))
    assert out.shape == (3, 4) and out[2, 3] == 7


@pytest.mark.parametrize("src,expected", [
    ("exp(1)", math.e), ("log(100, 10)", 2.0), ("log10(1000)", 3.0), ("sqrt(16)", 4.0), ("abs(-2)", 2.0),
    ("floor(2.7)", 2.0), ("ceil(2.1)", 3.0), ("round(2.5)", 2.0), ("min(3, 1, 2)", 1.0), ("max(3, 1, 2)", 3.0),
    ("odds(0.2)", 0.25), ("odds_to_prob(0.25)", 0.2), ("logit(0.5)", 0.0), ("expit(0)", 0.5),
    ("rate_to_prob(0.1, t=2)", 1 - math.exp(-0.2)), ("prob_to_rate(0.5, t=1)", math.log(2)),
    ("prob_to_prob(0.5, 1, t_to=2)", 0.75),
])
def test_functions(src, expected):
    assert ev(src) == pytest.approx(expected, rel=1e-12)


def test_rate_conversion_defaults_to_cycle_length():
    assert ev("rate_to_prob(0.5)", cycle_length=1 / 12) == pytest.approx(1 - math.exp(-0.5 / 12))
    assert ev("prob_to_prob(0.1, 1)", cycle_length=1 / 12) == pytest.approx(1 - 0.9 ** (1 / 12))
    with pytest.raises(ExprError):
        ev("rate_to_prob(0.5)")


def test_conditionals_and_comparisons_on_arrays():
    c = np.array([1.0, 2.0, 3.0])
    assert list(ev("if_else(cycle <= 2, 0.5, 1)", cycle=c)) == [0.5, 0.5, 1.0]
    assert list(ev("0.5 if cycle <= 2 else 1", cycle=c)) == [0.5, 0.5, 1.0]
    assert list(ev("1 < cycle <= 2", cycle=c)) == [False, True, False]
    assert list(ev("(cycle == 1) or (cycle == 3)", cycle=c)) == [True, False, True]
    assert list(ev("not (cycle > 1) and cycle < 5", cycle=c)) == [True, False, False]


@pytest.mark.parametrize("src,fragment", [
    ("().__class__", "attribute access"),
    ("a.b", "attribute access"),
    ("__import__('os')", "not allowed"),
    ("a[0]", "subscripts"),
    ("lambda x: x", "lambda is not allowed"),
    ("exp(lambda * 2)", "reserved word"),
    ("[x for x in y]", "comprehensions"),
    ("'abc'", "strings only as function arguments"),
    ("exp(x=1)", "keyword argument `x`"),
    ("eval('1')", "unknown function `eval`"),
    ("open('x')", "unknown function `open`"),
    ("a +", "invalid expression syntax"),
    ("(a := 1)", "assignment"),
])
def test_refused_constructs(src, fragment):
    with pytest.raises(ExprError) as exc:
        compile_expr(src, file="m.yaml", path="parameters.x", line=3)
    msg = str(exc.value)
    assert fragment in msg, msg
    assert msg.startswith("m.yaml:3 parameters.x:") and "\n" not in msg


def test_names_calls_and_constants():
    e = compile_expr("rate_to_prob(r * hr) + mort(age, 'male')", extra_functions={"mort"})
    assert e.names == {"r", "hr", "age"} and e.calls == {"rate_to_prob", "mort"}
    assert not e.is_constant and compile_expr("log(3) * 2").is_constant
    assert e.evaluate({"r": 0.1, "hr": 2.0, "age": 50.0, "cycle_length": 1.0},
                      {"mort": lambda a, s: 0.01 if s == "male" else 0.0}) == pytest.approx(1 - math.exp(-0.2) + 0.01)


def test_dependency_order_and_errors():
    exprs = {"c": compile_expr("a + b"), "a": compile_expr("1"), "b": compile_expr("a * 2")}
    order = dependency_order(exprs, set(), {})
    assert order.index("a") < order.index("b") < order.index("c")
    with pytest.raises(ExprError, match=r"unknown name `aa`.*did you mean `a`"):
        dependency_order({"a": compile_expr("1"), "x": compile_expr("aa + 1")}, set(), {"x": ("m.yaml", "parameters.x", 4)})
    with pytest.raises(ExprError, match=r"dependency cycle: a -> b -> c -> a"):
        dependency_order({"a": compile_expr("b"), "b": compile_expr("c"), "c": compile_expr("a")}, set(), {})


def test_no_eval_or_exec(monkeypatch):
    import builtins

    def boom(*a, **k):
        raise AssertionError("eval/exec used")
    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    assert compile_expr("exp(log(2)) + if_else(x > 1, 1, 0)").evaluate({"x": 2.0}) == pytest.approx(3.0)
