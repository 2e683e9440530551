"""The operations of vectors and matrices, as mathematics: shapes and gradient rules.

A value is a scalar (shape ``()``), a vector (``(n,)``, a column) or a matrix (``(m, n)``).
The functions of :mod:`tracer.core.primitives` apply entry by entry; their gradient rules
are the table's, read elementwise (``g * b`` is then a Hadamard product).  Elementwise
operations combine equal shapes, a scalar with anything, and a vector with a matrix that has
one column per entry (added to every row, as a bias to a batch): numpy's broadcasting,
restricted to the cases a course draws.

This module adds what a scalar graph does not have: ``@`` and the functions of whole vectors
and matrices.  Each entry gives its result's shape (or why the operands do not fit) and, per
operand, its vector-Jacobian product as text in the problem language over the upstream
gradient ``g``, the operands ``a``, ``b`` and the value ``out``, chosen by the operands'
shapes: ``W @ x`` sends ``outer(g, x)`` to ``W`` and ``transpose(W) @ g`` to ``x``.
Helpers (``ones``, ``sum_rows``, ``onehot``) are what the rules are written with.

Pure data: no numpy here (the numbers are in :mod:`tracer.core.tensor`).  Imports only
:mod:`tracer.core.primitives`.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Optional, Sequence

from .primitives import PRIMITIVES

__all__ = ["Shape", "TensorOp", "TENSOR_OPS", "TENSOR_FUNCTIONS", "TENSOR_OPERATORS",
           "ShapeError", "result_shape", "vjp_texts", "describe", "shape_text",
           "elementwise_shape", "is_tensor_op"]

Shape = tuple[int, ...]


class ShapeError(Exception):
    """Operands whose shapes do not fit the operation; the message names both."""


@dataclass(frozen=True)
class TensorOp:
    """An operation on vectors and matrices: its arity, how the result's shape follows
    from the operands' (raising :class:`ShapeError`), and the rules of its operands."""

    name: str
    arity: int
    shape: Callable[..., Shape]
    vjp: Callable[..., tuple[Optional[str], ...]]
    operator: Optional[str] = None
    helper: bool = False
    # Operands that must be whole numbers written in the expression (a class index); the
    # shape function then also receives the operands' constant values.
    constant: tuple[int, ...] = ()


def shape_text(shape: Shape) -> str:
    """``2x4``, ``3 entries`` or ``a scalar``."""
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"{shape[0]} entr{'y' if shape[0] == 1 else 'ies'}"
    return f"{shape[0]}x{shape[1]}"


def describe(text: str, shape: Shape) -> str:
    """``W1 is 2x4``, ``x has 3 entries``, ``t is a scalar``."""
    return f"{text} {'has' if len(shape) == 1 else 'is'} {shape_text(shape)}"


def elementwise_shape(a: Shape, b: Shape, texts: Sequence[str] = ("a", "b"),
                      symbol: str = "+") -> Shape:
    """The shape of an elementwise operation of ``a`` and ``b``."""
    if a == b or not b:
        return a
    if not a:
        return b
    if len(a) == 1 and len(b) == 2 and b[1] == a[0]:
        return b
    if len(b) == 1 and len(a) == 2 and a[1] == b[0]:
        return a
    raise ShapeError(
        f"{describe(texts[0], a)}, {describe(texts[1], b)}: '{symbol}' works entry by entry "
        "and needs equal shapes, a scalar, or a vector with one entry per column of the "
        "matrix (added to every row)")


# ----------------------------------------------------------------------------- shapes

def _matmul_shape(a: Shape, b: Shape, texts: Sequence[str]) -> Shape:
    ta, tb = texts
    for shape, text in ((a, ta), (b, tb)):
        if not shape:
            raise ShapeError(f"{describe(text, shape)}: '@' multiplies vectors and matrices; "
                             "multiply by a scalar with *")
    inner_a = a[-1]
    inner_b = b[0]
    if inner_a != inner_b:
        left = f"the columns of {ta} ({inner_a})" if len(a) == 2 else \
            f"the entries of {ta} ({inner_a})"
        right = f"the rows of {tb} ({inner_b})" if len(b) == 2 else \
            f"the entries of {tb} ({inner_b})"
        raise ShapeError(f"{describe(ta, a)}, {describe(tb, b)}: {left} must match {right}"
                         + (f"; did you mean transpose({ta}) @ {tb}?"
                            if len(a) == 2 and a[0] == inner_b else ""))
    return a[:-1] + b[1:]


def _vector(name: str, what: str = "a vector") -> Callable[..., Shape]:
    def shape(a: Shape, texts: Sequence[str]) -> Shape:
        if len(a) != 1:
            raise ShapeError(f"{name}() takes {what}; {describe(texts[0], a)}")
        return a
    return shape


def _two_vectors(name: str, same: bool) -> Callable[..., Shape]:
    def shape(a: Shape, b: Shape, texts: Sequence[str]) -> Shape:
        if len(a) != 1 or len(b) != 1:
            raise ShapeError(f"{name}() takes two vectors; {describe(texts[0], a)}, "
                             f"{describe(texts[1], b)}")
        if same and a != b:
            raise ShapeError(f"{name}() needs vectors of the same length; "
                             f"{describe(texts[0], a)}, {describe(texts[1], b)}")
        return () if same else (a[0], b[0])
    return shape


def _transpose_shape(a: Shape, texts: Sequence[str]) -> Shape:
    return tuple(reversed(a))


def _scalar_of(a: Shape, *rest) -> Shape:
    return ()


def _mse_shape(a: Shape, b: Shape, texts: Sequence[str]) -> Shape:
    elementwise_shape(a, b, texts, "mse")
    return ()


def _class_index(k: Optional[float], n: Shape, text: str, op: str) -> None:
    if k is None or k != int(k) or k < 0:
        raise ShapeError(f"{op}(): the class index must be a whole number written in the "
                         "expression, counted from 0")
    if n and k >= n[0]:
        raise ShapeError(f"{op}(): the class index {int(k)} is out of range: "
                         f"{describe(text, n)}, so the classes are 0 to {n[0] - 1}")


def _cross_entropy_shape(a: Shape, b: Shape, texts: Sequence[str],
                         constants: Sequence[Optional[float]]) -> Shape:
    if len(a) != 1:
        raise ShapeError(f"cross_entropy(logits, class_index) takes a vector of scores; "
                         f"{describe(texts[0], a)}")
    _class_index(constants[1], a, texts[0], "cross_entropy")
    return ()


def _sum_rows_shape(a: Shape, texts: Sequence[str]) -> Shape:
    if len(a) != 2:
        raise ShapeError(f"sum_rows() takes a matrix; {describe(texts[0], a)}")
    return a[1:]


def _same(a: Shape, *rest) -> Shape:
    return a


def _onehot_shape(k: Shape, a: Shape, texts: Sequence[str],
                  constants: Sequence[Optional[float]]) -> Shape:
    _class_index(constants[0], a, texts[1], "onehot")
    return a


# ----------------------------------------------------------------------------- rules

def _fraction(numerator: int, count: int) -> str:
    """numerator/count in lowest terms, as the rule's text: ``1 / 2``, ``2 / 3``, ``1``."""
    f = Fraction(numerator, count)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator} / {f.denominator}"


def _matmul_rules(a: Shape, b: Shape) -> tuple[str, str]:
    if len(a) == 2 and len(b) == 2:
        return "g @ transpose(b)", "transpose(a) @ g"
    if len(a) == 2:
        return "outer(g, b)", "transpose(a) @ g"
    if len(b) == 2:
        return "b @ g", "outer(a, g)"
    return "g * b", "g * a"


def _count(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _mse_rules(a: Shape, b: Shape) -> tuple[str, str]:
    share = _fraction(2, _count(elementwise_shape(a, b)))
    return f"{share} * g * (a - b)", f"{share} * g * (b - a)"


TENSOR_OPS: dict[str, TensorOp] = {op.name: op for op in [
    TensorOp("matmul", 2, _matmul_shape, _matmul_rules, operator="@"),
    TensorOp("transpose", 1, _transpose_shape, lambda a: ("transpose(g)",)),
    TensorOp("sum", 1, _scalar_of, lambda a: ("g * ones(a)",)),
    TensorOp("mean", 1, _scalar_of,
             lambda a: (f"{_fraction(1, _count(a))} * g * ones(a)",)),
    TensorOp("dot", 2, _two_vectors("dot", True), lambda a, b: ("g * b", "g * a")),
    TensorOp("outer", 2, _two_vectors("outer", False),
             lambda a, b: ("g @ b", "transpose(g) @ a")),
    TensorOp("softmax", 1, _vector("softmax", "a vector of scores"),
             lambda a: ("out * (g - dot(g, out))",)),
    TensorOp("log_softmax", 1, _vector("log_softmax", "a vector of scores"),
             lambda a: ("g - softmax(a) * sum(g)",)),
    TensorOp("mse", 2, _mse_shape, _mse_rules),
    TensorOp("cross_entropy", 2, _cross_entropy_shape,
             lambda a, b: ("g * (softmax(a) - onehot(b, a))", None), constant=(1,)),
    # Helpers the rules are written with.
    TensorOp("ones", 1, _same, lambda a: ("g * 0",), helper=True),
    TensorOp("sum_rows", 1, _sum_rows_shape, lambda a: ("ones(a) * g",), helper=True),
    TensorOp("onehot", 2, _onehot_shape, lambda k, a: (None, "g * 0"), helper=True,
             constant=(0,)),
]}

#: The functions of vectors and matrices a problem file may call (helpers included).
TENSOR_FUNCTIONS: dict[str, TensorOp] = {n: op for n, op in TENSOR_OPS.items()
                                         if op.operator is None}
#: Python operator symbol -> operation name.
TENSOR_OPERATORS: dict[str, str] = {op.operator: op.name for op in TENSOR_OPS.values()
                                    if op.operator}


def is_tensor_op(name: str) -> bool:
    return name in TENSOR_OPS


_SYMBOLS = {p.name: p.operator for p in PRIMITIVES.values() if p.operator}


def result_shape(op: str, shapes: Sequence[Shape], texts: Sequence[str],
                 constants: Sequence[Optional[float]] = ()) -> Shape:
    """The shape of ``op`` applied to operands of ``shapes`` (``texts`` name them in
    messages; ``constants`` holds the value of each operand written as a number)."""
    tensor = TENSOR_OPS.get(op)
    if tensor is None:                      # a primitive of the scalar table, entry by entry
        if len(shapes) == 1:
            return shapes[0]
        return elementwise_shape(shapes[0], shapes[1], texts,
                                 _SYMBOLS.get(op) or f"{op}()")
    if tensor.constant:
        padded = tuple(constants) + (None,) * (tensor.arity - len(constants))
        return tensor.shape(*shapes, texts, padded)
    return tensor.shape(*shapes, texts)


def vjp_texts(op: str, shapes: Sequence[Shape]) -> tuple[Optional[str], ...]:
    """Each operand's vector-Jacobian product as text over g, a, b, out (None for an
    operand that is a class index)."""
    tensor = TENSOR_OPS.get(op)
    if tensor is None:
        return PRIMITIVES[op].vjp
    return tensor.vjp(*shapes)
