"""Values of vectors and matrices, and the numbers of their operations (numpy).

A value is a float64 array of shape ``()``, ``(n,)`` or ``(m, n)``, never written to after
it is made (the trace is plain frozen data).  The functions of the table of primitives are
applied entry by entry with the table's own scalar functions, so an entry of a layer has
exactly the number the scalar engine gives its component; the operations of
:mod:`tracer.core.tensor_ops` are numpy's.  Rules (:mod:`tracer.core.tensor_rules`) are
evaluated by :func:`evaluate` over the same functions.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np

from .expr import Call, Const, DomainError, Expr, Var, apply, fold
from .primitives import PRIMITIVES

__all__ = ["array", "nested", "EntryError", "evaluate", "forward_op", "kinks", "unbroadcast",
           "jacobian", "same", "largest_difference",
           "round_array", "Value"]

Value = np.ndarray


def array(value: Any) -> np.ndarray:
    """A read-only float64 array of ``value`` (a number, or nested tuples or lists)."""
    result = np.array(value, dtype=np.float64)
    result.flags.writeable = False
    return result


def nested(value: np.ndarray) -> Union[float, list]:
    """``value`` as a number or as nested lists, row by row (for JSON and code)."""
    return value.tolist()


class EntryError(DomainError):
    """An operation undefined at one entry: the scalar reason, and which entry."""

    def __init__(self, exc: DomainError, index: tuple[int, ...]):
        super().__init__(exc.op, exc.operands, exc.reason)
        self.index = index


def _elementwise(op: str, arrays: list[np.ndarray]) -> np.ndarray:
    prim = PRIMITIVES[op]
    operands = np.broadcast_arrays(*arrays)
    out = np.empty(operands[0].shape)
    for index in np.ndindex(out.shape):
        try:
            out[index] = apply(prim, tuple(float(x[index]) for x in operands))
        except EntryError:
            raise
        except DomainError as exc:
            raise EntryError(exc, index) from None
    return out


def _softmax(a: np.ndarray) -> np.ndarray:
    shifted = np.exp(a - np.max(a))
    return shifted / np.sum(shifted)


def _log_softmax(a: np.ndarray) -> np.ndarray:
    top = np.max(a)
    return a - top - math.log(float(np.sum(np.exp(a - top))))


def _cross_entropy(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    return -_log_softmax(a)[int(k)]


def _onehot(k: np.ndarray, a: np.ndarray) -> np.ndarray:
    out = np.zeros(np.shape(a))
    out[int(k)] = 1.0
    return out


_TENSOR: dict[str, Callable[..., Any]] = {
    "matmul": np.matmul,
    "transpose": np.transpose,
    "sum": np.sum,
    "mean": np.mean,
    "dot": np.dot,
    "outer": np.outer,
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "mse": lambda a, b: np.mean((a - b) ** 2),
    "cross_entropy": _cross_entropy,
    "ones": np.ones_like,
    "sum_rows": lambda a: np.sum(a, axis=0),
    "onehot": _onehot,
}


def forward_op(op: str, args: list[np.ndarray]) -> np.ndarray:
    """``op`` applied to ``args``; raises :class:`EntryError` (elementwise) or
    :class:`~tracer.core.expr.DomainError` where it is undefined or overflows."""
    if op in PRIMITIVES:
        return _elementwise(op, args)
    with np.errstate(all="ignore"):
        out = np.asarray(_TENSOR[op](*args), dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise DomainError(op, (), "overflow: the result is too large for a floating-point "
                          "number")
    return out


def evaluate(expr: Expr, env: Mapping[str, np.ndarray]) -> np.ndarray:
    """The value of ``expr`` (a node's expression or a rule) with names from ``env``."""
    def leaf(node):
        return env[node.name] if isinstance(node, Var) else np.float64(node.value)

    return np.asarray(fold(expr, leaf, lambda node, args: forward_op(node.op, args)),
                      dtype=np.float64)


def kinks(expr: Expr, env: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    """The kinked operations of ``expr`` that some entry of their operands sits on (a
    subgradient is used there), in the order of the expression."""
    found: list[str] = []

    def call(node: Call, args: list[np.ndarray]) -> np.ndarray:
        prim = PRIMITIVES.get(node.op)
        if prim is not None and prim.kink is not None and node.op not in found:
            operands = np.broadcast_arrays(*args)
            if any(prim.kink(*(float(x[i]) for x in operands))
                   for i in np.ndindex(operands[0].shape)):
                found.append(node.op)
        return forward_op(node.op, args)

    fold(expr, lambda node: env[node.name] if isinstance(node, Var)
         else np.float64(node.value), call)
    return tuple(found)


def unbroadcast(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` summed down to ``shape`` over what broadcasting added; a rule that came out
    a scalar zero (a helper's) is spread to ``shape``."""
    if value.shape == shape:
        return value
    if not value.shape:
        return np.full(shape, float(value))
    if not shape:
        return np.asarray(np.sum(value))
    return np.sum(value, axis=0)


def round_array(value: np.ndarray, digits: Optional[int]) -> np.ndarray:
    """Every entry rounded as Python's round() rounds a number (hand-calculation mode)."""
    if digits is None:
        return value
    out = np.empty(value.shape)
    for index in np.ndindex(value.shape):
        out[index] = round(float(value[index]), digits)
    return out


def constant(expr: Expr) -> Optional[float]:
    """The number ``expr`` is, when it is one."""
    return expr.value if isinstance(expr, Const) else None


#: Jacobians with more entries than this are not written out (a JSON trace stays small).
MAX_JACOBIAN = 10_000


def jacobian(rule: Expr, env: Mapping[str, np.ndarray], upstream: str,
             out_shape: tuple[int, ...], in_shape: tuple[int, ...]) -> Optional[np.ndarray]:
    """d(gate)/d(operand) as an array of shape ``out_shape + in_shape``: the rule (linear in
    the upstream gradient, named ``upstream`` in ``env``) applied to each unit upstream
    gradient in turn.  None when it would have more than MAX_JACOBIAN entries."""
    size_out, size_in = int(np.prod(out_shape)), int(np.prod(in_shape))
    if size_out * size_in > MAX_JACOBIAN:
        return None
    result = np.empty(tuple(out_shape) + tuple(in_shape))
    scope = dict(env)
    for index in np.ndindex(*out_shape):
        unit = np.zeros(out_shape)
        unit[index] = 1.0
        scope[upstream] = unit
        result[index] = unbroadcast(evaluate(rule, scope), tuple(in_shape))
    return array(result)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two values are equal, entry by entry."""
    return bool(np.array_equal(a, b))


def largest_difference(a: np.ndarray, b: np.ndarray) -> Optional[float]:
    """The largest difference between two values' entries; None where one is not finite."""
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return None
    return float(np.max(np.abs(a - b)))
