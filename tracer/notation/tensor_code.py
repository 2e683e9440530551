"""Code of vectors and matrices: how each operation is written in the generated numpy code
(``staged.py`` of a problem with layers) and in its PyTorch check.

``NUMPY`` and ``TORCH`` have one entry per primitive (applied entry by entry) and per
operation of :mod:`tracer.core.tensor_ops` (tests/test_notation.py names any missing): its
format over ``{0}``, ``{1}``, Python's binding, and whether the generated file defines it
itself (a *helper*, a macro of ``templates/code/numpy_helpers.py.j2`` or
``templates/code/torch_tensor_helpers.py.j2``).  Imports only :mod:`tracer.core` and the rest
of notation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from ..core.expr import Call, Const, Expr, Var, fold
from .numbers import fmt_full

__all__ = ["CodeForm", "NUMPY", "TORCH", "NUMPY_HELPERS", "TORCH_HELPERS", "to_code",
           "array_literal"]


@dataclass(frozen=True)
class CodeForm:
    """An operation in code: template, binding (Python's precedence), the binding each
    operand needs to go without parentheses, and whether the file defines it."""

    template: str
    prec: int = 100
    parens: tuple[int, ...] = (0, 0)
    helper: bool = False


_OPERATORS = {
    "add": CodeForm("{0} + {1}", 10, (10, 11)),
    "sub": CodeForm("{0} - {1}", 10, (10, 11)),
    "mul": CodeForm("{0} * {1}", 20, (20, 21)),
    "div": CodeForm("{0} / {1}", 20, (20, 21)),
    "pow": CodeForm("{0} ** {1}", 40, (41, 30)),
    "neg": CodeForm("-{0}", 30, (30,)),
    "matmul": CodeForm("{0} @ {1}", 20, (20, 21)),
}


def _fn(template: str, helper: bool = False) -> CodeForm:
    return CodeForm(template, 100, (0, 0), helper)


NUMPY: dict[str, CodeForm] = {**_OPERATORS, **{
    "exp": _fn("np.exp({0})"), "log": _fn("np.log({0})"), "sin": _fn("np.sin({0})"),
    "cos": _fn("np.cos({0})"), "tan": _fn("np.tan({0})"), "tanh": _fn("np.tanh({0})"),
    "sigmoid": _fn("sigmoid({0})", True), "softplus": _fn("np.logaddexp(0.0, {0})"),
    "relu": _fn("relu({0})", True), "sqrt": _fn("np.sqrt({0})"), "abs": _fn("np.abs({0})"),
    "max": _fn("np.maximum({0}, {1})"), "min": _fn("np.minimum({0}, {1})"),
    "step": _fn("step({0})", True), "sign": _fn("np.sign({0})"),
    "heaviside": _fn("np.heaviside({0}, 0.5)"),
    "leaky_relu": _fn("np.where({0} > 0, {0}, {1} * {0})"),
    "clip": CodeForm("np.clip({0}, {1}, {2})", 100, (0, 0, 0)),
    "transpose": CodeForm("{0}.T", 100, (100,)),
    "sum": _fn("np.sum({0})"), "mean": _fn("np.mean({0})"), "dot": _fn("np.dot({0}, {1})"),
    "outer": _fn("np.outer({0}, {1})"), "softmax": _fn("softmax({0})", True),
    "log_softmax": _fn("log_softmax({0})", True), "mse": _fn("mse({0}, {1})", True),
    "cross_entropy": _fn("cross_entropy({0}, {1})", True),
    "ones": _fn("np.ones_like({0})"), "sum_rows": _fn("np.sum({0}, axis=0)"),
    "onehot": _fn("onehot({0}, {1})", True),
}}

TORCH: dict[str, CodeForm] = {**_OPERATORS, **{
    "exp": _fn("torch.exp({0})"), "log": _fn("torch.log({0})"), "sin": _fn("torch.sin({0})"),
    "cos": _fn("torch.cos({0})"), "tan": _fn("torch.tan({0})"),
    "tanh": _fn("torch.tanh({0})"), "sigmoid": _fn("torch.sigmoid({0})"),
    "softplus": _fn("torch.nn.functional.softplus({0})"), "relu": _fn("torch.relu({0})"),
    "sqrt": _fn("torch.sqrt({0})"), "abs": _fn("torch.abs({0})"),
    "max": _fn("torch.maximum({0}, {1})"), "min": _fn("torch.minimum({0}, {1})"),
    "step": _fn("step({0})", True), "sign": _fn("sign({0})", True),
    "heaviside": _fn("heaviside({0})", True),
    "leaky_relu": _fn("torch.where({0} > 0, {0}, {1} * {0})"),
    "clip": CodeForm("torch.clamp({0}, {1}, {2})", 100, (0, 0, 0)),
    "transpose": _fn("transpose({0})", True),
    "sum": _fn("torch.sum({0})"), "mean": _fn("torch.mean({0})"),
    "dot": _fn("torch.dot({0}, {1})"), "outer": _fn("torch.outer({0}, {1})"),
    "softmax": _fn("torch.softmax({0}, dim=0)"),
    "log_softmax": _fn("torch.log_softmax({0}, dim=0)"),
    "mse": _fn("torch.mean(({0} - {1}) ** 2)"),
    "cross_entropy": _fn("torch.nn.functional.cross_entropy({0}, torch.tensor({1}))"),
    "ones": _fn("torch.ones_like({0})"), "sum_rows": _fn("torch.sum({0}, dim=0)"),
    "onehot": _fn("onehot({0}, {1})", True),
}}

#: The functions each generated file defines itself, in the order it defines them.
NUMPY_HELPERS: tuple[str, ...] = tuple(op for op, f in NUMPY.items() if f.helper)
TORCH_HELPERS: tuple[str, ...] = tuple(op for op, f in TORCH.items() if f.helper)

Leaf = Callable[[Union[Const, Var]], str]


def to_code(expr: Expr, table: dict[str, CodeForm], name: Callable[[str], str],
            torch: bool = False) -> str:
    """``expr`` in numpy (``table`` NUMPY) or PyTorch (TORCH); ``name`` gives each name's
    variable.  A number is written as Python reads it back; a class index as a whole
    number; a number handed to a PyTorch function becomes a tensor."""
    def leaf(node):
        if isinstance(node, Var):
            return name(node.name), 100, False
        v = node.value
        text = str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)
        return text, (30 if v < 0 else 100), True

    def call(node: Call, args: list) -> tuple:
        form = table[node.op]
        parts = []
        for (text, prec, const), need in zip(args, form.parens):
            if torch and const and node.op not in _OPERATORS and node.op not in (
                    "cross_entropy", "onehot"):
                text, prec = f"torch.tensor({fmt_full(float(text))})", 100
            parts.append(text if prec >= need else f"({text})")
        return form.template.format(*parts), form.prec, False

    return fold(expr, leaf, call)[0]  # type: ignore[index]


def array_literal(value) -> str:
    """A value as Python literals that read back exactly: ``1.5``, ``[0.5, -1.0]``,
    ``[[1.0, 2.0], [3.0, 4.0]]``."""
    data = value.tolist() if hasattr(value, "tolist") else value
    if isinstance(data, list):
        return "[" + ", ".join(array_literal(v) for v in data) + "]"
    return fmt_full(float(data))
