"""The table of primitive operations, as mathematics: the one place an operation is defined.

Each entry says what the operation computes and how gradients flow back through it:

* ``forward``: the value, as a Python function of the operand values;
* ``vjp``: for each operand, its vector-Jacobian product, written in the problem language
  over the upstream gradient ``g``, the operands ``a``, ``b`` (and ``c`` for an operation of
  three operands) and the operation's own value ``out`` (sigmoid's is ``g * (out * (1 - out))``).  Written this way, one rule serves a
  scalar and, elementwise, a vector; a scalar gate's *local* derivative is the rule at
  ``g = 1`` (:mod:`tracer.core.rules`), the formula a student reads;
* ``domain``: why the operation is undefined at given operands, or ``None``;
* ``kink``: whether the operands sit where the derivative does not exist and a
  subgradient convention is used;
* ``singular``: where the operation is defined but its rule cannot be evaluated (sqrt at
  0, a power at base 0): the derivative's value there, or why it does not exist;
* ``operator``: the Python operator a problem writes it with (``+``), for the parser;
* ``helper``: a function the rules themselves are written with (step, sign, heaviside);
* ``commutative``: whether the operands may be swapped.

How an operation is *written* (LaTeX, SVG, Python, PyTorch, SymPy) lives in one table per
notation under :mod:`tracer.notation`; a test names every table an operation is missing from.

This module imports nothing of tracer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Union

__all__ = ["Primitive", "PRIMITIVES", "OPERATORS", "FUNCTIONS", "sigmoid", "softplus",
           "leaky_relu", "clip"]


@dataclass(frozen=True)
class Primitive:
    """One operation: its value, its gradient rules, where it is undefined or kinked."""

    name: str
    arity: int
    forward: Callable[..., float]
    vjp: tuple[str, ...]
    domain: Optional[Callable[..., Optional[str]]] = None
    kink: Optional[Callable[..., bool]] = None
    #: (operand index, a, b, out) -> the derivative where the rule's formula fails (a
    #: number), or why it does not exist (a text); asked only where the rule fails.
    singular: Optional[Callable[[int, float, float, float], Union[float, str]]] = None
    operator: Optional[str] = None
    helper: bool = False
    commutative: bool = False


def sigmoid(x: float) -> float:
    """The logistic function, written so that neither branch overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def softplus(x: float) -> float:
    """log(1 + e^x), written so that it neither overflows nor loses small values."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def leaky_relu(x: float, slope: float) -> float:
    """x where x > 0, else slope * x: a relu whose negative side keeps a small gradient."""
    return x if x > 0 else slope * x


def clip(x: float, lo: float, hi: float) -> float:
    """x held inside [lo, hi]."""
    return lo if x < lo else (hi if x > hi else x)


def _clip_domain(x: float, lo: float, hi: float) -> Optional[str]:
    return "a range whose lower bound is above its upper bound" if lo > hi else None


def _at_bound(x: float, lo: float, hi: float) -> bool:
    return x == lo or x == hi


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


def _pow_singular(index: int, a: float, b: float, out: float) -> Union[float, str]:
    if index == 1:      # d/db a**b = a**b * log(a)
        if a == 0 and b > 0:
            return 0.0  # 0 ** b is 0 for every b > 0: its derivative is 0 (PyTorch's too)
        if a == 0:
            return ("the derivative of a ** b with respect to the exponent b does not exist "
                    "at a = 0, b = 0 (0 ** 0 is 1, but 0 ** b is 0 for every b > 0)")
        return (f"the derivative of a ** b with respect to the exponent b is a ** b * log(a), "
                f"and log(a) is undefined for the negative base a = {a:g}: make the exponent "
                "a number, or the base positive")
    if b == 0:
        return 0.0      # a ** 0 is 1 for every a
    return f"the derivative of a ** {b:g} with respect to a is infinite at a = 0"


def _at_zero(a: float, *rest: float) -> bool:
    return a == 0


def _tie(a: float, b: float) -> bool:
    return a == b


def _fn(name: str, forward: Callable[..., float], vjp: str, **kw) -> Primitive:
    """A function of one operand, written f(x)."""
    return Primitive(name, 1, forward, (vjp,), **kw)


_TABLE = [
    Primitive("add", 2, lambda a, b: a + b, ("g", "g"), operator="+", commutative=True),
    Primitive("sub", 2, lambda a, b: a - b, ("g", "-g"), operator="-"),
    Primitive("mul", 2, lambda a, b: a * b, ("g * b", "g * a"), operator="*",
              commutative=True),
    Primitive("div", 2, lambda a, b: a / b, ("g * (1 / b)", "g * (-a / b**2)"), operator="/",
              domain=lambda a, b: "division by zero" if b == 0 else None),
    Primitive("pow", 2, _pow, ("g * (b * a**(b - 1))", "g * (out * log(a))"), operator="**",
              domain=_pow_domain, singular=_pow_singular),
    Primitive("neg", 1, lambda a: -a, ("-g",), operator="neg"),
    # exp and sqrt are differentiated through their value, as sigmoid and tanh are: a hand
    # calculation reuses the value it has rounded.
    _fn("exp", math.exp, "g * out"),
    _fn("log", math.log, "g * (1 / a)",
        domain=lambda a: "the logarithm of zero or of a negative number" if a <= 0 else None),
    _fn("sin", math.sin, "g * cos(a)"),
    _fn("cos", math.cos, "g * (-sin(a))"),
    _fn("tan", math.tan, "g * (1 / cos(a)**2)"),
    _fn("tanh", math.tanh, "g * (1 - out**2)"),
    _fn("sigmoid", sigmoid, "g * (out * (1 - out))"),
    _fn("softplus", softplus, "g * sigmoid(a)"),
    _fn("relu", lambda a: a if a > 0 else 0.0, "g * step(a)", kink=_at_zero),
    # The slope is an operand: leaky_relu(z, 0.01).  At z = 0 the slope's side is taken,
    # as PyTorch does.
    Primitive("leaky_relu", 2, leaky_relu,
              ("g * (step(a) + b * (1 - step(a)))", "g * (a * (1 - step(a)))"),
              kink=_at_zero),
    # clip(x, lo, hi): the gradient passes where lo <= x <= hi (the bounds included, as in
    # PyTorch's clamp), and goes to the bound that holds x otherwise.
    Primitive("clip", 3, clip,
              ("g * ((1 - step(b - a)) * (1 - step(a - c)))", "g * step(b - a)",
               "g * step(a - c)"), domain=_clip_domain, kink=_at_bound),
    _fn("sqrt", math.sqrt, "g * (1 / (2 * out))",
        domain=lambda a: "the square root of a negative number" if a < 0 else None,
        singular=lambda i, a, b, out: "the derivative of sqrt(a) is infinite at a = 0"),
    _fn("abs", abs, "g * sign(a)", kink=_at_zero),
    Primitive("max", 2, lambda a, b: a if a >= b else b,
              ("g * heaviside(a - b)", "g * heaviside(b - a)"), kink=_tie, commutative=True),
    Primitive("min", 2, lambda a, b: a if a <= b else b,
              ("g * heaviside(b - a)", "g * heaviside(a - b)"), kink=_tie, commutative=True),
    # Helpers that the rules above are written with; authors may use them too.
    _fn("step", _step, "g * 0", kink=_at_zero, helper=True),
    _fn("sign", _sign, "g * 0", kink=_at_zero, helper=True),
    _fn("heaviside", _heaviside, "g * 0", kink=_at_zero, helper=True),
]

#: Every primitive by name.
PRIMITIVES: dict[str, Primitive] = {p.name: p for p in _TABLE}
#: Python operator symbol -> primitive name (unary minus is "neg").
OPERATORS: dict[str, str] = {p.operator: p.name for p in _TABLE if p.operator}
#: The functions a problem file may call.
FUNCTIONS: dict[str, Primitive] = {p.name: p for p in _TABLE if not p.operator}
