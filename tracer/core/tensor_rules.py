"""The gradient rules of a gate of vectors and matrices, as expressions.

A gate ``z1: W1 @ x + b1`` passes its upstream gradient ``g`` (d output / d z1) back to each
operand by a vector-Jacobian product: ``outer(g, x)`` to ``W1``, ``transpose(W1) @ g`` to
``x``, ``g`` to ``b1``.  Each is composed here from the rules of the tables
(:mod:`tracer.core.primitives` entry by entry, :mod:`tracer.core.tensor_ops`), walking the
gate's expression from its root with the operands put in; where an operand was broadcast
(a bias added to every row), the rule sums over what was broadcast.  The result is one
expression over the upstream (the name :data:`UPSTREAM`) and the problem's names: the engine
evaluates it for the numbers and the documents print it, so the rule shown is the rule that
produced the number.

Pure data and arithmetic on shapes: no numpy.  Imports only the rest of core.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Mapping, Optional

from .expr import Call, Const, Expr, Var, fold, parse, walk
from .primitives import PRIMITIVES
from .rules import simplify as scalar_simplify
from .tensor_ops import (TENSOR_OPS, Shape, ShapeError, elementwise_shape, result_shape,
                         vjp_texts)

__all__ = ["UPSTREAM", "GateRule", "gate_rules", "infer_shape", "expr_text", "unbroadcast",
           "tensor_simplify"]

#: The name standing for the upstream gradient in a composed rule; no problem can use it
#: (names are identifiers).
UPSTREAM = "g@"


def expr_text(expr: Expr) -> str:
    """An expression as a problem would write it (for error messages)."""
    symbols = {p.name: p.operator for p in PRIMITIVES.values() if p.operator}
    symbols.update({op.name: op.operator for op in TENSOR_OPS.values() if op.operator})

    def leaf(node) -> str:
        if isinstance(node, Var):
            return node.name
        v = node.value
        return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)

    def call(node: Call, args: list[str]) -> str:
        wrapped = [f"({a})" if isinstance(x, Call) and x.op in symbols else a
                   for a, x in zip(args, node.args)]
        if node.op == "neg":
            return "-" + wrapped[0]
        if node.op in symbols and symbols[node.op] != "neg":
            return f"{wrapped[0]} {symbols[node.op]} {wrapped[1]}"
        return f"{node.op}({', '.join(args)})"

    return fold(expr, leaf, call)  # type: ignore[return-value]


def infer_shape(expr: Expr, shapes: Mapping[str, Shape]) -> Shape:
    """The shape of ``expr`` whose names have ``shapes``; raises ShapeError naming the
    operands that do not fit."""
    def leaf(node):
        return (node, shapes[node.name] if isinstance(node, Var) else ())

    def call(node: Call, args):
        texts = [expr_text(a) for a, _ in args]
        constants = [a.value if isinstance(a, Const) else None for a, _ in args]
        try:
            return (node, result_shape(node.op, [s for _, s in args], texts, constants))
        except ShapeError as exc:   # said where: the operation that does not fit
            raise ShapeError(f"{expr_text(node)}: {exc}") from None

    return fold(expr, leaf, call)[1]  # type: ignore[index]


# ----------------------------------------------------------------------------- simplifying

def _substitute(rule: Expr, names: Mapping[str, Expr]) -> Expr:
    return fold(rule, lambda leaf: names.get(leaf.name, leaf) if isinstance(leaf, Var)  # type: ignore
                else leaf, lambda node, args: Call(node.op, tuple(args)))


def tensor_simplify(expr: Expr, shapes: Mapping[str, Shape]) -> Expr:
    """``expr`` with what arithmetic settles at once settled, never changing a shape:
    numbers folded (fractions kept as fractions) and moved to the front of a product,
    products by 1 dropped, a ones tensor dropped where the other factor has its shape,
    ``x + x`` written ``2 x``, a transposed product written as the product of transposes."""
    def call(node: Call, args: list[Expr]) -> Expr:
        node = Call(node.op, tuple(args))
        op = node.op
        if op == "mul":
            return _product(args[0], args[1], shapes)
        if op == "neg":
            if isinstance(args[0], Call) and args[0].op == "neg":
                return args[0].args[0]
            number = _number(args[0])
            if number is not None:
                return _number_expr(-number)
        if op == "add" and args[0] == args[1]:
            return _product(Const(2.0), args[0], shapes)
        if op in PRIMITIVES:
            # Not a product here: a sum or power with a number keeps its operand's shape.
            return scalar_simplify(node)
        inner = args[0] if isinstance(args[0], Call) else None
        if op == "sum" and inner is not None and inner.op == "neg":
            return Call("neg", (Call("sum", inner.args),))
        if op == "transpose" and inner is not None:
            if inner.op == "transpose":
                return inner.args[0]
            if inner.op == "matmul":
                a, b = (call(Call("transpose", (x,)), [x]) for x in inner.args)
                return Call("matmul", (b, a))
        return node

    return fold(expr, lambda leaf: leaf, call)  # type: ignore[return-value]


def _number(expr: Expr) -> Optional[Fraction]:
    """The value of a number, a fraction of numbers or a negated number, else None."""
    if isinstance(expr, Const):
        return Fraction(repr(expr.value)) if expr.value == expr.value else None
    if isinstance(expr, Call) and expr.op == "div" and all(isinstance(a, Const)
                                                          for a in expr.args):
        num, den = (Fraction(repr(a.value)) for a in expr.args)  # type: ignore[union-attr]
        return num / den if den else None
    if isinstance(expr, Call) and expr.op == "neg":
        inner = _number(expr.args[0])
        return None if inner is None else -inner
    return None


def _number_expr(value: Fraction) -> Expr:
    """A number as written: a decimal when it has one, else a fraction."""
    den = value.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        return Const(float(value))
    fraction = Call("div", (Const(float(abs(value.numerator))), Const(float(value.denominator))))
    return Call("neg", (fraction,)) if value < 0 else fraction


def _product(a: Expr, b: Expr, shapes: Mapping[str, Shape]) -> Expr:
    """a * b with the numbers in front and folded, and ones tensors that change nothing
    dropped; the factors keep their grouping (upstream times local)."""
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return _number_expr(na * nb)
    if nb is not None:
        return _scaled(nb, a, shapes)
    if na is not None:
        return _scaled(na, b, shapes)
    for x, y, swap in ((a, b, False), (b, a, True)):
        if isinstance(x, Call) and x.op == "neg":
            return Call("neg", (_product(y, x.args[0], shapes) if swap
                                else _product(x.args[0], y, shapes),))
        if isinstance(x, Call) and x.op == "mul" and _number(x.args[0]) is not None:
            inner = _product(y, x.args[1], shapes) if swap else _product(x.args[1], y, shapes)
            return _scaled(_number(x.args[0]), inner, shapes)  # type: ignore[arg-type]
    for x, y, swap in ((a, b, False), (b, a, True)):
        if isinstance(x, Call) and x.op == "ones" and infer_shape(y, shapes) == \
                infer_shape(x, shapes):
            return y
        # (u 1) * y = u * y where u * y has the shape of the ones
        if isinstance(x, Call) and x.op == "mul" and isinstance(x.args[1], Call) and \
                x.args[1].op == "ones" and not swap:
            rest = _product(x.args[0], y, shapes)
            if infer_shape(rest, shapes) == infer_shape(x.args[1], shapes):
                return rest
    return Call("mul", (a, b))


def _scaled(number: Fraction, x: Expr, shapes: Mapping[str, Shape]) -> Expr:
    if number == 1:
        return x
    if number == 0 and infer_shape(x, shapes) == ():
        return Const(0.0)
    if isinstance(x, Call) and x.op == "mul" and _number(x.args[0]) is not None:
        return _scaled(number * _number(x.args[0]), x.args[1], shapes)  # type: ignore
    if number == -1:
        return Call("neg", (x,))
    return Call("mul", (_number_expr(number), x))


def unbroadcast(expr: Expr, have: Shape, want: Shape) -> Expr:
    """``expr`` (of shape ``have``) summed over what broadcasting added to ``want``."""
    if have == want:
        return expr
    if not want:
        return Call("sum", (expr,))
    if len(have) == 2 and want == have[1:]:
        return Call("sum_rows", (expr,))
    raise ValueError(f"cannot sum {have} down to {want}")  # pragma: no cover - shapes checked


# ----------------------------------------------------------------------------- composing

class GateRule:
    """The rule one edge of a gate applies: ``operand`` (the ``slot``-th edge) receives
    ``rule`` evaluated at the upstream gradient and the values."""

    __slots__ = ("operand", "slot", "rule")

    def __init__(self, operand: str, slot: int, rule: Expr):
        self.operand, self.slot, self.rule = operand, slot, rule

    def __repr__(self) -> str:
        return f"GateRule({self.operand!r}, {self.slot}, {expr_text(self.rule)!r})"


def _rule(op: str, index: int, shapes: list[Shape]) -> Optional[Expr]:
    text = vjp_texts(op, shapes)[index]
    return None if text is None else _parsed(text)


_PARSED: dict[str, Expr] = {}


def _parsed(text: str) -> Expr:
    if text not in _PARSED:
        _PARSED[text] = parse(text)
    return _PARSED[text]


def _edge_rule(node: Call, index: int, adjoint: Expr, out: Expr,
               shapes: Mapping[str, Shape]) -> Optional[Expr]:
    """The rule ``node`` applies to its operand ``index``, given its own adjoint."""
    arg_shapes = [infer_shape(a, shapes) for a in node.args]
    rule = _rule(node.op, index, arg_shapes)
    if rule is None:
        return None
    names: dict[str, Expr] = dict(zip("ab", node.args))
    names.update(g=adjoint, out=out)
    composed = _substitute(rule, names)
    composed = unbroadcast(composed, infer_shape(composed, shapes), arg_shapes[index])
    return tensor_simplify(composed, shapes)


def gate_rules(name: str, expr: Expr, operands: tuple[str, ...], simple: bool,
               shapes: Mapping[str, Shape]) -> tuple[GateRule, ...]:
    """The rule of each edge of the gate ``name = expr``: one per use of a name (``x * x``
    has two edges, and so has ``sum(x * x) + 1``), the rules of a larger gate's operations
    composed along the path to that use, as the graph has them."""
    env = dict(shapes)
    env[UPSTREAM] = shapes[name]
    adjoint0 = Var(UPSTREAM)
    if simple:
        call: Call = expr  # type: ignore[assignment]
        rules = []
        slot = 0
        for i, arg in enumerate(call.args):
            if isinstance(arg, Var):
                rule = _edge_rule(call, i, adjoint0, Var(name), env)
                if rule is not None:
                    rules.append(GateRule(arg.name, slot, rule))
                slot += 1
        return tuple(rules)
    # One edge per use of a name, as the graph has them (the uses in the order of walk):
    # each use's rule holds the other uses fixed.
    uses = {id(n): k for k, n in enumerate(n for n in walk(expr) if isinstance(n, Var))}
    adjoints: dict[int, Expr] = {}
    stack: list[tuple[Expr, Expr]] = [(expr, adjoint0)]
    while stack:
        node, adjoint = stack.pop()
        if isinstance(node, Var):
            adjoints[uses[id(node)]] = adjoint
            continue
        if not isinstance(node, Call):
            continue
        out = Var(name) if node is expr else node
        for i in reversed(range(len(node.args))):
            arg = node.args[i]
            if not any(isinstance(n, Var) for n in walk(arg)):
                continue
            rule = _edge_rule(node, i, adjoint, out, env)
            if rule is not None:
                stack.append((arg, rule))
    return tuple(GateRule(op, slot, tensor_simplify(adjoints[slot], env))
                 for slot, op in enumerate(operands) if slot in adjoints)
