"""PyTorch notation: how each primitive is written in the generated PyTorch check.

``TABLE`` has one entry per primitive: its format over ``{0}``, ``{1}``, and whether the
generated file defines it itself (a *helper*, a macro of
``templates/code/torch_helpers.py.j2``: the steps in which kinked derivatives are written
pass no gradient).  Binding follows Python's (:mod:`tracer.notation.python`).  Imports
only :mod:`tracer.core` and the rest of notation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core.expr import Call, Const, Expr, Var, fold
from .numbers import fmt_full
from .python import TABLE as PYTHON

__all__ = ["TorchForm", "TABLE", "HELPERS", "to_torch"]


@dataclass(frozen=True)
class TorchForm:
    """A primitive in PyTorch; ``helper``: the generated file defines it."""

    template: str
    helper: bool = False


TABLE: dict[str, TorchForm] = {
    "add": TorchForm("{0} + {1}"),
    "sub": TorchForm("{0} - {1}"),
    "mul": TorchForm("{0} * {1}"),
    "div": TorchForm("{0} / {1}"),
    "pow": TorchForm("{0} ** {1}"),
    "neg": TorchForm("-{0}"),
    "exp": TorchForm("torch.exp({0})"),
    "log": TorchForm("torch.log({0})"),
    "sin": TorchForm("torch.sin({0})"),
    "cos": TorchForm("torch.cos({0})"),
    "tan": TorchForm("torch.tan({0})"),
    "tanh": TorchForm("torch.tanh({0})"),
    "sigmoid": TorchForm("torch.sigmoid({0})"),
    "softplus": TorchForm("torch.nn.functional.softplus({0})"),
    "relu": TorchForm("torch.relu({0})"),
    "leaky_relu": TorchForm("leaky_relu({0}, {1})", helper=True),
    "clip": TorchForm("torch.clamp({0}, {1}, {2})"),
    "sqrt": TorchForm("torch.sqrt({0})"),
    "abs": TorchForm("torch.abs({0})"),
    "max": TorchForm("torch.maximum({0}, {1})"),
    "min": TorchForm("torch.minimum({0}, {1})"),
    "step": TorchForm("step({0})", helper=True),
    "sign": TorchForm("sign({0})", helper=True),
    "heaviside": TorchForm("heaviside({0})", helper=True),
}

#: The functions the generated check defines itself, in the order it defines them.
HELPERS: tuple[str, ...] = tuple(op for op, f in TABLE.items() if f.helper)


def to_torch(expr: Expr, leaf: Callable) -> str:
    """PyTorch for ``expr``: numbers given to a torch function become tensors; ``leaf``
    gives (text, precedence) for names and numbers, as :func:`~tracer.notation.python.py_leaf`."""
    def tleaf(node):
        text, prec = leaf(node)
        return text, prec, isinstance(node, Const)

    def call(node: Call, args):
        form, py = TABLE[node.op], PYTHON[node.op]
        parts = []
        for (text, prec, const), need in zip(args, py.parens):
            if const and py.source != "operator":
                text, prec = f"torch.tensor({fmt_full(float(text))})", 100
            parts.append(text if prec >= need else f"({text})")
        return form.template.format(*parts), py.prec, False

    return fold(expr, tleaf, call)[0]  # type: ignore[index]
