"""Every entry of the table of primitives, checked: adding an operation adds its tests."""
from __future__ import annotations

import itertools
import math

import pytest

from tracer.core.expr import DomainError, apply, evaluate, parse
from tracer.core.primitives import FUNCTIONS, PRIMITIVES
from tracer.core.rules import local_rule, vjp_rule
from tracer.notation import sympy as symbolic

POINTS = [-2.3, -0.7, 0.4, 1.1, 2.6]


def points(prim):
    """Operands inside the domain and away from kinks."""
    for args in itertools.product(POINTS, repeat=prim.arity):
        if prim.domain and prim.domain(*args):
            continue
        if prim.kink and prim.kink(*args):
            continue
        yield args


def central(prim, args, i, h=1e-6):
    up, down = list(args), list(args)
    up[i] += h
    down[i] -= h
    return (prim.forward(*up) - prim.forward(*down)) / (2 * h)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_local_derivatives_match_central_differences(name):
    prim = PRIMITIVES[name]
    checked = 0
    for args in points(prim):
        out = prim.forward(*args)
        env = dict(zip("abc", args), out=out)
        for i in range(prim.arity):
            try:
                local = evaluate(local_rule(name, i), env)
            except DomainError:
                continue
            assert local == pytest.approx(central(prim, args, i), rel=1e-5, abs=1e-6), (args, i)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_sympy_form_agrees_with_forward_and_local(name):
    """The SymPy form (used for multi-operation gates) is the same function."""
    sp = symbolic.namespace()
    prim = PRIMITIVES[name]
    syms = [sp.Symbol(v, real=True) for v in "abc"[: prim.arity]]
    form = symbolic.TABLE[name](sp, *syms)
    for args in points(prim):
        subs = dict(zip(syms, args))
        assert float(form.subs(subs).evalf()) == pytest.approx(prim.forward(*args), rel=1e-12)
        env = dict(zip("abc", args), out=prim.forward(*args))
        for i, s in enumerate(syms):
            derivative = sp.diff(form, s).subs(subs)
            if derivative.has(sp.DiracDelta):
                continue
            assert float(derivative.evalf()) == pytest.approx(
                evaluate(local_rule(name, i), env), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_vector_jacobian_products_are_upstream_times_local(name):
    """The rule over g is the local derivative scaled by g: one rule serves both."""
    prim = PRIMITIVES[name]
    for args in points(prim):
        env = dict(zip("abc", args), out=prim.forward(*args))
        for i in range(prim.arity):
            try:
                local = evaluate(local_rule(name, i), env)
            except DomainError:
                continue
            for g in (1.0, -2.5, 0.125):
                assert evaluate(vjp_rule(name, i), dict(env, g=g)) == pytest.approx(
                    g * local, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_forward_matches_python_math(name):
    reference = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "neg": lambda a: -a,
        "exp": math.exp, "log": math.log, "sin": math.sin, "cos": math.cos, "tan": math.tan,
        "tanh": math.tanh, "sigmoid": lambda a: 1 / (1 + math.exp(-a)),
        "softplus": lambda a: math.log(1 + math.exp(a)),
        "relu": lambda a: max(a, 0.0), "leaky_relu": lambda a, b: max(a, 0.0) + b * min(a, 0.0),
        "clip": lambda a, lo, hi: min(max(a, lo), hi), "sqrt": math.sqrt, "abs": abs, "max": max, "min": min,
        "step": lambda a: float(a > 0), "sign": lambda a: float((a > 0) - (a < 0)),
        "heaviside": lambda a: 1.0 if a > 0 else (0.5 if a == 0 else 0.0),
    }
    prim = PRIMITIVES[name]
    for args in points(prim):
        assert apply(prim, args) == pytest.approx(reference[name](*args), rel=1e-12)


@pytest.mark.parametrize("expr, values, message", [
    ("a / b", (1.0, 0.0), "division by zero"),
    ("log(a)", (-1.0,), "logarithm"),
    ("log(a)", (0.0,), "logarithm"),
    ("sqrt(a)", (-4.0,), "square root"),
    ("a ** b", (-8.0, 1 / 3), "non-integer power"),
    ("a ** b", (0.0, -1.0), "negative power"),
    ("exp(a)", (1000.0,), "overflow"),
    ("clip(a, b, c)", (1.0, 2.0, -2.0), "lower bound is above its upper bound"),
    ("a ** b", (2.0, 99999999999.0), "overflow"),
])
def test_domain_errors_are_reported_not_raised_as_python_errors(expr, values, message):
    call = parse(expr)
    env = dict(zip("abc", values))
    with pytest.raises(DomainError, match=message):
        evaluate(call, env)


def test_every_function_in_the_issue_is_in_the_table():
    wanted = {"exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sqrt", "abs",
              "max", "min"}
    assert wanted <= set(FUNCTIONS)


# ----------------------------------------------------------------------------- the kinks

@pytest.mark.parametrize("expr, values, expected", [
    # leaky_relu: the slope's side at 0 (as PyTorch), 1 above, the slope below
    ("leaky_relu(a, b)", (0.0, 0.01), (0.01, 0.0)),
    ("leaky_relu(a, b)", (2.0, 0.01), (1.0, 0.0)),
    ("leaky_relu(a, b)", (-2.0, 0.01), (0.01, -2.0)),
    # clip: the bounds pass the gradient to x (as PyTorch's clamp), outside it goes to the
    # bound that holds x
    ("clip(a, b, c)", (-5.0, -5.0, 5.0), (1.0, 0.0, 0.0)),
    ("clip(a, b, c)", (5.0, -5.0, 5.0), (1.0, 0.0, 0.0)),
    ("clip(a, b, c)", (7.0, -5.0, 5.0), (0.0, 0.0, 1.0)),
    ("clip(a, b, c)", (-7.0, -5.0, 5.0), (0.0, 1.0, 0.0)),
    ("clip(a, b, c)", (0.5, -5.0, 5.0), (1.0, 0.0, 0.0)),
])
def test_local_derivatives_at_and_around_the_kinks(expr, values, expected):
    op = parse(expr).op
    prim = PRIMITIVES[op]
    env = dict(zip("abc", values), out=prim.forward(*values))
    assert tuple(evaluate(local_rule(op, i), env) for i in range(prim.arity)) == expected


@pytest.mark.slow
@pytest.mark.parametrize("expr, values", [
    ("leaky_relu(a, b)", (0.0, 0.01)), ("leaky_relu(a, b)", (-1.5, 0.2)),
    ("leaky_relu(a, b)", (1.5, 0.2)),
    ("clip(a, b, c)", (-5.0, -5.0, 5.0)), ("clip(a, b, c)", (5.0, -5.0, 5.0)),
    ("clip(a, b, c)", (7.0, -5.0, 5.0)), ("clip(a, b, c)", (-7.0, -5.0, 5.0)),
    ("clip(a, b, c)", (0.5, -5.0, 5.0)),
])
def test_kinked_local_derivatives_match_pytorch(expr, values):
    """The conventions at the kinks are PyTorch's: the same gradients from autograd."""
    torch = pytest.importorskip("torch")
    op = parse(expr).op
    prim = PRIMITIVES[op]
    env = dict(zip("abc", values), out=prim.forward(*values))
    ours = [evaluate(local_rule(op, i), env) for i in range(prim.arity)]
    x = torch.tensor(values[0], dtype=torch.float64, requires_grad=True)
    if op == "leaky_relu":
        torch.nn.functional.leaky_relu(x, values[1]).backward()
        assert x.grad.item() == ours[0]
        return
    lo, hi = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values[1:])
    torch.clamp(x, lo, hi).backward()
    assert [x.grad.item(), lo.grad.item(), hi.grad.item()] == ours
