"""Python notation: how each primitive is written in generated plain-Python code.

``TABLE`` has one entry per primitive: its format over ``{0}``, ``{1}``, its binding
(Python's precedence, which differs from LaTeX's) and where the function comes from:
an operator, a builtin, the ``math`` module, or a *helper* that the generated file defines
(its definition is a macro of ``templates/code/helpers.py.j2``).  Imports only
:mod:`tracer.core` and the rest of notation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

from ..core.expr import Call, Const, Expr, Var, fold
from .numbers import fmt, format_const

__all__ = ["PyForm", "TABLE", "RESERVED", "MATH_FUNCTIONS", "HELPERS", "to_python",
           "py_leaf", "expr_values_text"]


@dataclass(frozen=True)
class PyForm:
    """A primitive in Python: ``source`` is "operator", "builtin", "math" or "helper";
    ``needs`` names the math functions a helper's definition calls."""

    template: str
    prec: int
    parens: tuple[int, ...]
    source: str
    needs: tuple[str, ...] = ()


def _fn(name: str, source: str, needs: tuple[str, ...] = ()) -> PyForm:
    return PyForm(name + "({0})", 100, (0,), source, needs)


TABLE: dict[str, PyForm] = {
    "add": PyForm("{0} + {1}", 10, (10, 11), "operator"),
    "sub": PyForm("{0} - {1}", 10, (10, 11), "operator"),
    "mul": PyForm("{0} * {1}", 20, (20, 21), "operator"),
    "div": PyForm("{0} / {1}", 20, (20, 21), "operator"),
    "pow": PyForm("{0} ** {1}", 40, (41, 30), "operator"),
    "neg": PyForm("-{0}", 30, (30,), "operator"),
    "exp": _fn("exp", "math"),
    "log": _fn("log", "math"),
    "sin": _fn("sin", "math"),
    "cos": _fn("cos", "math"),
    "tan": _fn("tan", "math"),
    "tanh": _fn("tanh", "math"),
    "sigmoid": _fn("sigmoid", "helper", ("exp",)),
    "softplus": _fn("softplus", "helper", ("exp", "log1p")),
    "relu": _fn("relu", "helper"),
    "leaky_relu": PyForm("leaky_relu({0}, {1})", 100, (0, 0), "helper"),
    "clip": PyForm("clip({0}, {1}, {2})", 100, (0, 0, 0), "helper"),
    "sqrt": _fn("sqrt", "math"),
    "abs": _fn("abs", "builtin"),
    "max": PyForm("max({0}, {1})", 100, (0, 0), "builtin"),
    "min": PyForm("min({0}, {1})", 100, (0, 0), "builtin"),
    "step": _fn("step", "helper"),
    "sign": _fn("sign", "helper"),
    "heaviside": _fn("heaviside", "helper"),
}

#: The functions generated code imports from ``math``, in the order it imports them.
MATH_FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(
    [op for op, f in TABLE.items() if f.source == "math"]
    + [n for f in TABLE.values() for n in f.needs]))
#: The functions generated code defines itself, in the order it defines them.
HELPERS: tuple[str, ...] = tuple(op for op, f in TABLE.items() if f.source == "helper")
#: Names generated code uses itself; a problem's names that clash are renamed there.
RESERVED: frozenset[str] = frozenset(
    {"json", "print", "round", "float", "dict", "math", "torch", "grad", "None", "True",
     "False", "tensor", "decimal", "hand_round", "repr"}
    | {op for op, f in TABLE.items() if f.source != "operator"})

Leaf = Callable[[Union[Const, Var]], tuple[str, int]]


def _negated(arg: Expr) -> bool:
    """Whether an operand is written with a leading minus of its own: -b or a negative
    number in the problem (not a name whose value happens to be negative)."""
    return (isinstance(arg, Call) and arg.op == "neg") or (isinstance(arg, Const) and arg.value < 0)


def to_python(expr: Expr, leaf: Optional[Leaf] = None) -> str:
    """Plain Python for ``expr`` (functions by their table names, e.g. ``sigmoid(z)``)."""
    leaf = leaf or py_leaf

    def call(node: Call, args: list[tuple[str, int]]) -> tuple[str, int]:
        if node.op in ("add", "sub") and _negated(node.args[1]) and args[1][0].startswith("-"):
            # a + (-b) reads a - b (the same float: IEEE subtraction adds the negation).
            left = args[0][0] if args[0][1] >= TABLE["add"].parens[0] else f"({args[0][0]})"
            right = args[1][0][1:].lstrip() if node.op == "add" else f"({args[1][0]})"
            return f"{left} - {right}", TABLE["sub"].prec
        form = TABLE[node.op]
        parts = [t if p >= need else f"({t})" for (t, p), need in zip(args, form.parens)]
        return form.template.format(*parts), form.prec

    return fold(expr, leaf, call)[0]  # type: ignore[index]


def py_leaf(leaf: Union[Const, Var], names: Optional[dict[str, str]] = None
            ) -> tuple[str, int]:
    """(Python, precedence) of a name (renamed through ``names``) or a number."""
    if isinstance(leaf, Var):
        return (names.get(leaf.name, leaf.name) if names else leaf.name), 100
    text = repr(float(leaf.value)) if leaf.value != int(leaf.value) else format_const(leaf.value)
    return text, (30 if leaf.value < 0 else 100)


def expr_values_text(expr: Expr, values: dict[str, float], digits: int) -> str:
    """An expression with every name replaced by its value, as plain text."""
    def leaf(node):
        if isinstance(node, Var):
            v = values[node.name]
            # A negative number binds like a sum: bracketed after + and - and in products.
            return fmt(v, digits), (10 if v < 0 else 100)
        return format_const(node.value), (30 if node.value < 0 else 100)

    return to_python(expr, leaf)
