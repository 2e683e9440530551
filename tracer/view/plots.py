"""What the plots of a worked solution show, as numbers: how the gradient's size changes on
its way from the output back to the inputs (per step of a repeat, or along the longest
path of the graph), the loss over the steps of a training run, and the activations the
gates use, with their derivatives and the points where this problem evaluates them.

No geometry and no format here: :mod:`tracer.exporters.plots` draws these.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ..core.engine import Trace
from ..core.expr import Call, DomainError, evaluate, walk
from ..core.primitives import PRIMITIVES
from ..core.repeat import Family, Repeat
from ..core.rules import local_rule
from .solution import Solution

__all__ = ["FlowPoint", "FlowSeries", "GradientFlow", "gradient_flow", "ActivationUse",
           "Activation", "activations", "ACTIVATIONS", "SATURATED"]

#: The activations plotted with their derivatives: (plotted range, the derivative's largest
#: value and where it is reached, or None where it has no single largest value).
ACTIVATIONS: dict[str, tuple[float, Optional[tuple[float, float]]]] = {
    "sigmoid": (6.0, (0.0, 0.25)),
    "tanh": (3.0, (0.0, 1.0)),
    "softplus": (6.0, None),
    "relu": (3.0, None),
    "leaky_relu": (3.0, None),
}
#: A gate counts as saturated where its local gradient is below this share of the
#: derivative's largest value (for a sigmoid, below 0.025: |z| above about 3.6).
SATURATED = 0.1


@dataclass(frozen=True)
class FlowPoint:
    """One node on the way back: its place on the axis, its name and d output / d name."""

    x: int
    name: str
    grad: float


@dataclass(frozen=True)
class FlowSeries:
    """The gradients of one family of nodes (``h`` of ``h{t}``), or of one path."""

    label: str                 # the family's template (``h{t}``), or "" for a path
    base: str                  # the family's name without the index (``h``), or ""
    points: tuple[FlowPoint, ...]

    @property
    def factor(self) -> Optional[float]:
        """|gradient at the input end| / |gradient at the output end|, where both are
        known and the output end's is not 0."""
        first, last = abs(self.points[0].grad), abs(self.points[-1].grad)
        return first / last if last else None


@dataclass(frozen=True)
class GradientFlow:
    """|d output / d node| from the inputs (left) to the output (right): per step of the
    problem's repeat (``by`` "step", the index ``index``), or along the longest path from
    an input to the output (``by`` "path", x the position on it)."""

    by: str
    index: Optional[str]
    series: tuple[FlowSeries, ...]


def gradient_flow(solution: Solution) -> Optional[GradientFlow]:
    """The gradient flow of ``solution``; ``None`` where there is nothing to follow (a
    single gate)."""
    repeat: Optional[Repeat] = solution.repeat
    grads = solution.gradients
    if repeat is not None:
        nodes = [f for f in repeat.families if f.kind == "node"]
        chosen = [f for f in nodes if f.carried] or nodes
        series = tuple(_family(f, grads) for f in chosen)
        series = tuple(s for s in series if len(s.points) > 1)
        if series:
            return GradientFlow("step", repeat.index, series)
    path = longest_path(solution.trace)
    if len(path) < 2:
        return None
    return GradientFlow("path", None, (FlowSeries("", "", tuple(
        FlowPoint(i, name, grads[name]) for i, name in enumerate(path))),))


def _family(family: Family, grads: dict[str, float]) -> FlowSeries:
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*?)_?\{[^{}]*\}", family.template)
    return FlowSeries(family.template, match.group(1) if match else "", tuple(
        FlowPoint(value, name, grads[name]) for value, name in family.names if name in grads))


def longest_path(trace: Trace) -> list[str]:
    """The longest path from an input to the output (most edges; among equals, through the
    operands met first), from the input to the output."""
    depth: dict[str, int] = {}
    came: dict[str, str] = {}
    for node in trace.nodes:
        if node.kind == "input":
            depth[node.name] = 0
            continue
        best = None
        for operand in node.operands:
            if best is None or depth[operand] > depth[best]:
                best = operand
        depth[node.name] = depth[best] + 1 if best is not None else 0
        if best is not None:
            came[node.name] = best
    path = [trace.output]
    while path[-1] in came:
        path.append(came[path[-1]])
    return path[::-1]


# ----------------------------------------------------------------------------- activations

@dataclass(frozen=True)
class ActivationUse:
    """One place a gate applies an activation: its input ``z`` here, the activation's
    value and its local gradient; ``saturated``: the local gradient is below
    :data:`SATURATED` of its largest value (or 0 for a relu: the unit is off)."""

    gate: str
    z: float
    value: float
    local: float
    saturated: bool


@dataclass(frozen=True)
class Activation:
    """An activation the problem uses: the range it is plotted over, its derivative's
    largest value (and where), the slope of a leaky relu, and every use."""

    op: str
    reach: float
    peak: Optional[tuple[float, float]]
    slope: Optional[float]
    uses: tuple[ActivationUse, ...]

    def value(self, x: float) -> float:
        return PRIMITIVES[self.op].forward(*self._operands(x))

    def derivative(self, x: float) -> float:
        operands = self._operands(x)
        env = dict(zip("ab", operands), out=PRIMITIVES[self.op].forward(*operands))
        return evaluate(local_rule(self.op, 0), env)

    def _operands(self, x: float) -> tuple[float, ...]:
        return (x, self.slope) if self.slope is not None else (x,)


def activations(solution: Solution) -> tuple[Activation, ...]:
    """The activations the gates apply, in the order of :data:`ACTIVATIONS`, with every
    use (a gate of several operations counts each activation inside it)."""
    values = solution.values
    found: dict[str, list[ActivationUse]] = {}
    slopes: dict[str, float] = {}
    for line in solution.gates:
        for node in walk(line.expr):
            if not isinstance(node, Call) or node.op not in ACTIVATIONS:
                continue
            try:
                operands = tuple(evaluate(a, values) for a in node.args)
            except (DomainError, KeyError):
                continue
            slopes.setdefault(node.op, operands[1] if len(operands) > 1 else 0.0)
            found.setdefault(node.op, []).append(_use(line.name, node.op, operands))
    return tuple(Activation(op, ACTIVATIONS[op][0], ACTIVATIONS[op][1],
                            slopes[op] if op == "leaky_relu" else None, tuple(found[op]))
                 for op in ACTIVATIONS if op in found)


def _use(gate: str, op: str, operands: tuple[float, ...]) -> ActivationUse:
    prim = PRIMITIVES[op]
    out = prim.forward(*operands)
    local = evaluate(local_rule(op, 0), dict(zip("ab", operands), out=out))
    peak = ACTIVATIONS[op][1]
    if peak is not None:
        saturated = local < SATURATED * peak[1]
    elif op == "softplus":
        saturated = local < SATURATED
    else:
        saturated = operands[0] <= 0          # a relu that is off, or on its leaky side
    return ActivationUse(gate, operands[0], out, local, saturated)

