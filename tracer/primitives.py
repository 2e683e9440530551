"""The table of primitive operations: the one place to add an operation.

Each entry gives everything every stage needs to know about an operation:

* ``forward``: the value, as a Python function of the operand values;
* ``local``: the local derivative with respect to each operand, written in the
  problem language over the operands ``a``, ``b`` and the operation's own
  value ``out`` (so sigmoid's is ``out * (1 - out)``, as on paper).  The same
  text is evaluated for the numbers, printed for the formulas and emitted in
  the generated Python, so the formula a student reads is the one that
  produced the number;
* ``tex`` / ``python`` / ``torch``: format strings over ``{0}``, ``{1}``;
* ``prec`` and ``parens``: how tightly the notation binds, and how tightly
  each operand must bind to go without parentheses (separately for LaTeX and
  Python, whose conventions differ);
* ``sympy``: the operation in SymPy, for gates made of several operations
  (``sp`` is :mod:`tracer.symbolic`'s namespace: SymPy plus sigmoid, relu, step);
* ``domain``: why the operation is undefined at given operands, or ``None``;
* ``kink``: whether the operands sit where the derivative does not exist and
  a subgradient convention is used.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

__all__ = ["Primitive", "PRIMITIVES", "OPERATORS", "FUNCTIONS", "sigmoid"]


@dataclass(frozen=True)
class Primitive:
    """One operation, as every stage of tracer sees it."""

    name: str
    arity: int
    forward: Callable[..., float]
    local: tuple[str, ...]
    tex: str
    prec: int
    parens: tuple[int, ...]
    python: str
    py_prec: int
    py_parens: tuple[int, ...]
    torch: str
    sympy: Callable[..., object]
    domain: Optional[Callable[..., Optional[str]]] = None
    kink: Optional[Callable[..., bool]] = None
    operator: Optional[str] = None
    helper: bool = False


def sigmoid(x: float) -> float:
    """The logistic function, written so that neither branch overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _step(x: float) -> float:
    return 1.0 if x > 0 else 0.0


def _sign(x: float) -> float:
    return (x > 0) - (x < 0) + 0.0


def _heaviside(x: float) -> float:
    # H(0) = 1/2 splits a tie of max/min evenly, as PyTorch's maximum does.
    return 1.0 if x > 0 else (0.5 if x == 0 else 0.0)


def _pow(a: float, b: float) -> float:
    # math.pow raises instead of returning a complex number or hanging on huge exponents.
    return math.pow(a, b)


def _pow_domain(a: float, b: float) -> Optional[str]:
    if a == 0 and b < 0:
        return "zero raised to a negative power"
    if a < 0 and b != int(b):
        return "a negative number raised to a non-integer power"
    return None


def _at_zero(a: float, *rest: float) -> bool:
    return a == 0


def _tie(a: float, b: float) -> bool:
    return a == b


def _fn(name: str, tex: str, forward, local: str, sympy, torch: str, **kw) -> Primitive:
    """A one-operand function written f(x): binds tightest, operand needs no parentheses."""
    return Primitive(
        name=name, arity=1, forward=forward, local=(local,), tex=tex, prec=100, parens=(0,),
        python=name + "({0})", py_prec=100, py_parens=(0,), torch=torch, sympy=sympy, **kw)


_TABLE = [
    Primitive("add", 2, lambda a, b: a + b, ("1", "1"),
              "{0} + {1}", 10, (10, 11), "{0} + {1}", 10, (10, 11), "{0} + {1}",
              lambda sp, a, b: a + b, operator="+"),
    Primitive("sub", 2, lambda a, b: a - b, ("1", "-1"),
              "{0} - {1}", 10, (10, 11), "{0} - {1}", 10, (10, 11), "{0} - {1}",
              lambda sp, a, b: a - b, operator="-"),
    Primitive("mul", 2, lambda a, b: a * b, ("b", "a"),
              "{0} {1}", 20, (20, 21), "{0} * {1}", 20, (20, 21), "{0} * {1}",
              lambda sp, a, b: a * b, operator="*"),
    Primitive("div", 2, lambda a, b: a / b, ("1 / b", "-a / b**2"),
              r"\frac{{{0}}}{{{1}}}", 30, (0, 0), "{0} / {1}", 20, (20, 21), "{0} / {1}",
              lambda sp, a, b: a / b, operator="/",
              domain=lambda a, b: "division by zero" if b == 0 else None),
    Primitive("pow", 2, _pow, ("b * a**(b - 1)", "out * log(a)"),
              "{0}^{{{1}}}", 40, (41, 0), "{0} ** {1}", 40, (41, 30), "{0} ** {1}",
              lambda sp, a, b: a ** b, operator="**", domain=_pow_domain),
    Primitive("neg", 1, lambda a: -a, ("-1",),
              "-{0}", 15, (20,), "-{0}", 30, (30,), "-{0}",
              lambda sp, a: -a, operator="neg"),
    Primitive("exp", 1, math.exp, ("exp(a)",),
              "e^{{{0}}}", 40, (0,), "exp({0})", 100, (0,), "torch.exp({0})",
              lambda sp, a: sp.exp(a)),
    _fn("log", r"\ln({0})", math.log, "1 / a", lambda sp, a: sp.log(a), "torch.log({0})",
        domain=lambda a: "the logarithm of zero or of a negative number" if a <= 0 else None),
    _fn("sin", r"\sin({0})", math.sin, "cos(a)", lambda sp, a: sp.sin(a), "torch.sin({0})"),
    _fn("cos", r"\cos({0})", math.cos, "-sin(a)", lambda sp, a: sp.cos(a), "torch.cos({0})"),
    _fn("tan", r"\tan({0})", math.tan, "1 / cos(a)**2", lambda sp, a: sp.tan(a), "torch.tan({0})"),
    _fn("tanh", r"\tanh({0})", math.tanh, "1 - out**2", lambda sp, a: sp.tanh(a), "torch.tanh({0})"),
    _fn("sigmoid", r"\sigma({0})", sigmoid, "out * (1 - out)",
        lambda sp, a: sp.sigmoid(a), "torch.sigmoid({0})"),
    _fn("relu", r"\operatorname{{relu}}({0})", lambda a: a if a > 0 else 0.0, "step(a)",
        lambda sp, a: sp.relu(a), "torch.relu({0})", kink=_at_zero),
    _fn("sqrt", r"\sqrt{{{0}}}", math.sqrt, "1 / (2 * sqrt(a))", lambda sp, a: sp.sqrt(a),
        "torch.sqrt({0})",
        domain=lambda a: "the square root of a negative number" if a < 0 else None),
    _fn("abs", r"\lvert {0} \rvert", abs, "sign(a)", lambda sp, a: sp.Abs(a), "torch.abs({0})",
        kink=_at_zero),
    Primitive("max", 2, lambda a, b: a if a >= b else b, ("heaviside(a - b)", "heaviside(b - a)"),
              r"\max({0}, {1})", 100, (0, 0), "max({0}, {1})", 100, (0, 0),
              "torch.maximum({0}, {1})", lambda sp, a, b: sp.max(a, b), kink=_tie),
    Primitive("min", 2, lambda a, b: a if a <= b else b, ("heaviside(b - a)", "heaviside(a - b)"),
              r"\min({0}, {1})", 100, (0, 0), "min({0}, {1})", 100, (0, 0),
              "torch.minimum({0}, {1})", lambda sp, a, b: sp.min(a, b), kink=_tie),
    # Helpers that the local derivatives above are written with; authors may use them too.
    _fn("step", r"\mathbf{{1}}[{0} > 0]", _step, "0", lambda sp, a: sp.step(a),
        "torch.heaviside({0}, torch.tensor(0.0))", kink=_at_zero, helper=True),
    _fn("sign", r"\operatorname{{sign}}({0})", _sign, "0", lambda sp, a: sp.sign(a),
        "torch.sign({0})", kink=_at_zero, helper=True),
    _fn("heaviside", r"H({0})", _heaviside, "0", lambda sp, a: sp.Heaviside(a, sp.Rational(1, 2)),
        "torch.heaviside({0}, torch.tensor(0.5))", kink=_at_zero, helper=True),
]

#: Every primitive by name.
PRIMITIVES: dict[str, Primitive] = {p.name: p for p in _TABLE}
#: Python operator symbol -> primitive name (unary minus is "neg").
OPERATORS: dict[str, str] = {p.operator: p.name for p in _TABLE if p.operator}
#: The functions a problem file may call.
FUNCTIONS: dict[str, Primitive] = {p.name: p for p in _TABLE if not p.operator}
