"""Gradient rules as expressions: the table's vector-Jacobian products, and the local
derivative of a scalar gate that they give at ``g = 1``.

The rules are text in the problem language (:mod:`tracer.core.primitives`); parsed once,
they serve the numbers (compiled into functions by the engine), the formulas a student
reads (printed by :mod:`tracer.notation`) and the generated code, so the formula shown is
the one that produced the number.
"""
from __future__ import annotations

from functools import lru_cache

from .expr import Call, Const, DomainError, Expr, Var, apply, fold, parse
from .primitives import PRIMITIVES

__all__ = ["vjp_rule", "local_rule", "local_formula", "simplify", "RULE_NAMES"]

#: The names a rule is written over: the upstream gradient, the operands, the value.
RULE_NAMES = ("g", "a", "b", "c", "out")
_ONE = Const(1.0)
_ZERO = Const(0.0)


@lru_cache(maxsize=None)
def vjp_rule(op: str, index: int) -> Expr:
    """The vector-Jacobian product of ``op`` for operand ``index``, over g, a, b, c, out."""
    return parse(PRIMITIVES[op].vjp[index])


@lru_cache(maxsize=None)
def local_rule(op: str, index: int) -> Expr:
    """The local derivative of ``op`` for operand ``index`` (the rule at ``g = 1``), over
    a, b, c and out: sigmoid's is ``out * (1 - out)``."""
    return _substitute(vjp_rule(op, index), {"g": _ONE})


def local_formula(call: Call, index: int, out: str) -> Expr:
    """The local derivative of a gate of one operation with respect to its operand
    ``index``, with the gate's own operands (and ``out``, the gate's name) put in,
    simplified: for ``u4 = u2 ** 2`` it is ``2 * u2``."""
    names: dict[str, Expr] = dict(zip("abc", call.args))
    names["out"] = Var(out)
    names["g"] = _ONE
    return _substitute(vjp_rule(call.op, index), names)


def _substitute(rule: Expr, names: dict[str, Expr]) -> Expr:
    return fold(rule,  # type: ignore[return-value]
                lambda leaf: names.get(leaf.name, leaf) if isinstance(leaf, Var) else leaf,
                lambda node, args: simplify(Call(node.op, tuple(args))))


def simplify(node: Call) -> Expr:
    """``node`` with what arithmetic settles at once settled: operations on numbers alone
    (but a division, kept as a fraction), products by 1 and 0, powers of 1, sums with 0."""
    args = node.args
    if node.op != "div" and all(isinstance(a, Const) for a in args):
        try:
            return Const(apply(PRIMITIVES[node.op], tuple(a.value for a in args)))  # type: ignore
        except DomainError:
            return node
    if node.op == "mul":
        if args[0] == _ONE:
            return args[1]
        if args[1] == _ONE:
            return args[0]
        if _ZERO in args:
            return _ZERO
    if node.op == "pow" and args[1] == _ONE:
        return args[0]
    if node.op in ("add", "sub") and args[1] == _ZERO:
        return args[0]
    if node.op == "neg" and isinstance(args[0], Const):
        return Const(-args[0].value)
    return node
