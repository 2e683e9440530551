"""The graph of a problem of vectors and matrices: every node's shape, checked when the
problem is loaded, and every edge's gradient rule, composed once per graph.

A shape error names the node, the operation, both operands' shapes and what would fit
(``the node 'z1': W1 @ x: W1 is 2x4, x has 3 entries: the columns of W1 (4) must match the
entries of x (3)``); every node is checked and every error reported at once.  The output
must be a scalar.  Imports only the rest of core (no numpy).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from .errors import Diagnostic, TracerError
from .load import Problem
from .tensor_load import is_tensor_value, uses_tensors
from .tensor_ops import Shape, ShapeError, describe
from .tensor_rules import GateRule, gate_rules, infer_shape

__all__ = ["TensorInfo", "tensor_info", "value_shape"]


@dataclass(frozen=True, eq=False)
class TensorInfo:
    """The shape of every input and node, and the rule of every edge of every gate (in
    the order of the gate's operands)."""

    shapes: Mapping[str, Shape]
    rules: Mapping[str, tuple[GateRule, ...]]


def value_shape(value) -> Shape:
    """The shape of an input's value as the problem file holds it (nested tuples)."""
    if not is_tensor_value(value):
        return ()
    if value and is_tensor_value(value[0]):
        return (len(value), len(value[0]))
    return (len(value),)


def tensor_info(problem: Problem, gates: Mapping, forward: tuple[str, ...], output: str
                ) -> Optional[TensorInfo]:
    """The shapes and rules of a problem that has vectors or matrices; None for a problem
    of scalars only (it is traced as it always was).  Raises :class:`TracerError` with
    every shape that does not fit."""
    if not uses_tensors(problem.inputs, [g.expr for g in gates.values()]):
        return None
    shapes: dict[str, Shape] = {name: value_shape(v) for name, v in problem.inputs}
    errors: list[Diagnostic] = []
    for name in forward:
        gate = gates.get(name)
        if gate is None or not all(o in shapes for o in gate.operands):
            continue                # an input, or a gate after one that did not fit
        try:
            shapes[name] = infer_shape(gate.expr, shapes)
        except ShapeError as exc:
            errors.append(Diagnostic(problem.path, f"the node '{name}': {exc}", gate.line))
    if output in shapes and shapes[output]:
        errors.append(Diagnostic(
            problem.path,
            f"the output '{output}' is not a scalar: {describe(output, shapes[output])}; the "
            f"output is the loss, a single number: sum or average it (e.g. sum({output}) or "
            f"mean(({output} - t) ** 2)), or choose a scalar node with 'output:'",
            gates[output].line))
    if errors:
        raise TracerError(errors)
    rules = {name: gate_rules(name, gate.expr, gate.operands, gate.simple, shapes)
             for name, gate in gates.items()}
    return TensorInfo(shapes, rules)
