"""The worked solution: a :class:`~tracer.core.engine.Trace` arranged as a teacher explains
it, with numbers as numbers and formulas as expressions, in no format.

:func:`solve` makes it once per problem (and per variant); every exporter formats it its
own way.  It holds the forward pass line by line, the local gradients, the backward steps
grouped by the gate that passes its gradient on (each sum placed right after the
contribution that completes it), the final gradients with their independent check, the
closed forms and the gradient-descent step.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Optional

from ..core.engine import Accumulation, NodeTrace, ParamUpdate, Trace, UpdateTrace
from ..core.expr import Call, Expr, evaluate, walk
from ..core.graph import Graph
from ..core.layout_hint import LayoutHint
from ..core.primitives import PRIMITIVES
from ..core.repeat import Repeat
from ..core.variants import Tolerance
from .derive import Derivation, LocalFormula, derive

__all__ = ["Solution", "Value", "LocalGradient", "ForwardLine", "Step", "Block", "GateGroup",
           "FinalGradient", "ClosedForm", "UpdateSolution", "solve", "DocumentSize", "measure",
           "MAX_WRITTEN"]

#: The most a worked solution writes out step by step, counted in lines of work: inputs,
#: gates, backward steps and operations together.  The bundled and lecture problems are 7
#: to 135, a 151-node network 1,150, a 2,000-gate chain 6,001.  Documents grow faster than
#: their problem (every step's formula, its numbers, a blank to check) and MkDocs takes
#: about 10 ms a line: past this bound the pages took minutes to build and no class would
#: read them, so the solution holds the values and gradients only, and the worksheet and
#: key give an overview (tracer.exporters.overview).
MAX_WRITTEN = 2000


@dataclass(frozen=True)
class DocumentSize:
    """How much a worked solution writes out (see :data:`MAX_WRITTEN`)."""

    inputs: int
    gates: int
    steps: int
    operations: int

    @property
    def total(self) -> int:
        return self.inputs + self.gates + self.steps + self.operations

    @property
    def written_out(self) -> bool:
        return self.total <= MAX_WRITTEN


def measure(trace: Trace) -> DocumentSize:
    """The lines of work of a worked solution of ``trace``."""
    gates = [n for n in trace.nodes if n.kind == "gate"]
    return DocumentSize(
        inputs=len(trace.nodes) - len(gates), gates=len(gates), steps=len(trace.backward),
        # a gate of one operation (most, in a large graph) without walking its expression
        operations=sum(1 if n.op is not None else
                       sum(isinstance(e, Call) for e in walk(n.expr)) for n in gates))


@dataclass(frozen=True)
class Value:
    """An input and its value."""

    name: str
    value: float


@dataclass(frozen=True, eq=False)
class LocalGradient:
    """d(gate)/d(operand): its formula and its value here (``kink``: a subgradient)."""

    gate: str
    operand: str
    slot: int
    formula: LocalFormula
    value: float
    kink: bool


@dataclass(frozen=True, eq=False)
class ForwardLine:
    """One gate of the forward pass: ``name = expr = value``; ``rounded`` when the hand
    calculation rounded the value."""

    name: str
    expr: Expr
    value: float
    rounded: bool
    locals: tuple[LocalGradient, ...] = ()


@dataclass(frozen=True, eq=False)
class Step:
    """One application of the chain rule: ``node`` receives ``contribution`` =
    ``upstream`` x ``local`` from ``source``.  ``path`` is the label k of the k-th of
    several contributions; ``use`` counts the uses of ``node`` by ``source`` when it uses
    it several times; ``sum`` is the sum this step completes."""

    index: int
    node: str
    source: str
    slot: int
    path: Optional[int]
    upstream: float
    local: LocalGradient
    contribution: float
    kink_op: Optional[str]
    use: Optional[int]
    uses: int
    sum: Optional[Accumulation]

    @property
    def kink(self) -> bool:
        return self.local.kink


@dataclass(frozen=True, eq=False)
class Block:
    """Steps shown together, then the sum they complete (if any) and the kinks they met."""

    steps: tuple[Step, ...]
    sum: Optional[Accumulation]
    kinks: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class GateGroup:
    """A gate passing its gradient ``upstream`` back to its operands."""

    source: str
    expr: Expr
    upstream: float
    is_output: bool
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class FinalGradient:
    """d output / d name by backpropagation, and by central differences where defined."""

    name: str
    grad: float
    numeric: Optional[float]
    #: At a kink in this name, the one-sided differences (from below, from above), which
    #: disagree; the central difference is then only their mean.
    left: Optional[float] = None
    right: Optional[float] = None


@dataclass(frozen=True, eq=False)
class ClosedForm:
    """d output / d name as one formula (SymPy's), and its value (None where unknown)."""

    name: str
    formula: object
    value: Optional[float]


@dataclass(frozen=True, eq=False)
class UpdateSolution:
    """One step of gradient descent, then the forward pass with the new parameters."""

    learning_rate: float
    params: tuple[ParamUpdate, ...]
    forward: tuple[ForwardLine, ...]
    before: float
    after: float


@dataclass(frozen=True, eq=False)
class Solution:
    """A problem's worked solution (see the module's description)."""

    id: str
    title: str
    statement: str
    tags: tuple[str, ...]
    precision: int
    rounding: Optional[int]
    output: str
    wrt: tuple[str, ...]
    inputs: tuple[Value, ...]
    gates: tuple[ForwardLine, ...]
    steps: tuple[Step, ...]
    groups: tuple[GateGroup, ...]
    sums: tuple[Accumulation, ...]
    final: tuple[FinalGradient, ...]
    function: Optional[object]             # the output as one formula (SymPy's), if small
    closed: tuple[ClosedForm, ...]
    closed_names: tuple[str, ...]          # the names the closed forms are written in
    update: Optional[UpdateSolution]
    kink_ops: tuple[str, ...]              # kinked operations the gates use
    trace: Trace
    data: tuple[str, ...] = ()             # inputs given as data: never differentiated
    repeat: Optional[Repeat] = None        # the steps the problem's repeat made
    closed_too_large: bool = False         # closed forms left out: too long written out
    tolerance: Optional[Tolerance] = None  # how close a checked answer must be
    layout_hint: Optional[LayoutHint] = None   # the author's columns for the figures
    size: Optional[DocumentSize] = None
    #: False past MAX_WRITTEN: then no forward lines, steps, closed forms or update are
    #: worked, only the inputs, values and final gradients are at hand.
    written_out: bool = True

    @property
    def values(self) -> dict[str, float]:
        return self.trace.values

    @property
    def gradients(self) -> dict[str, float]:
        return self.trace.gradients


def solve(graph: Graph, trace: Trace, derivation: Optional[Derivation] = None, *,
          whole: bool = False) -> Solution:
    """The worked solution of ``trace`` (a trace of ``graph``); ``derivation`` is the
    graph's formulas (:func:`~tracer.view.derive.derive`), made here if not given.  Past
    :data:`MAX_WRITTEN` only the values and final gradients, unless ``whole``.

    A trace of vectors and matrices is worked by :mod:`tracer.view.tensor_solution` (a
    :class:`~tracer.view.tensor_solution.TensorSolution`)."""
    if graph.tensor is not None:
        from .tensor_solution import solve_tensor

        return solve_tensor(graph, trace, solve)  # type: ignore[arg-type, return-value]
    problem = graph.problem
    size = measure(trace)
    if not (whole or size.written_out):
        return _outline(graph, trace, size)
    derivation = derivation or derive(graph)
    values = trace.values
    gates = tuple(_forward_line(node, values, trace.rounding, derivation)
                  for node in trace.nodes if node.kind == "gate")
    steps = _steps(trace, {line.name: line for line in gates})
    closed, names, function = _closed(trace, derivation)
    return Solution(
        id=problem.id, title=problem.title, statement=problem.statement, tags=problem.tags,
        precision=problem.precision, rounding=trace.rounding, output=trace.output,
        wrt=trace.wrt, inputs=tuple(Value(n.name, n.value) for n in trace.nodes
                                    if n.kind == "input"),
        gates=gates, steps=steps, groups=_groups(trace, steps), sums=trace.sums,
        final=_final(trace), function=function, closed=closed, closed_names=names,
        update=_update(trace.update, gates, trace.rounding),
        kink_ops=tuple(sorted({n.op for line in gates for n in walk(line.expr)
                               if isinstance(n, Call) and PRIMITIVES[n.op].kink is not None})),
        trace=trace, data=tuple(n for n in trace.inputs if n in trace.constants),
        repeat=problem.repeat,
        closed_too_large=derivation.closed is not None and derivation.closed.too_large,
        tolerance=problem.tolerance, layout_hint=problem.layout, size=size)


def _outline(graph: Graph, trace: Trace, size: DocumentSize) -> Solution:
    """A solution too large to work step by step: the values and final gradients."""
    problem = graph.problem
    return Solution(
        id=problem.id, title=problem.title, statement=problem.statement, tags=problem.tags,
        precision=problem.precision, rounding=trace.rounding, output=trace.output,
        wrt=trace.wrt, inputs=tuple(Value(n.name, n.value) for n in trace.nodes
                                    if n.kind == "input"),
        gates=(), steps=(), groups=(), sums=trace.sums, final=_final(trace), function=None,
        closed=(), closed_names=(), update=None, kink_ops=(), trace=trace,
        data=tuple(n for n in trace.inputs if n in trace.constants), repeat=problem.repeat,
        tolerance=problem.tolerance, layout_hint=problem.layout, size=size,
        written_out=False)


def _forward_line(node: NodeTrace, values: Mapping[str, float], rounding: Optional[int],
                  derivation: Derivation) -> ForwardLine:
    formulas = derivation.locals[node.name]
    locals_ = tuple(LocalGradient(node.name, l.operand, l.slot, formulas[l.slot], l.value,
                                  l.kink) for l in node.locals)
    rounded = rounding is not None and evaluate(node.expr, values) != node.value  # type: ignore
    return ForwardLine(node.name, node.expr, node.value, rounded, locals_)  # type: ignore


def _uses(operands: tuple[str, ...]) -> tuple[dict[str, int], list[int]]:
    """How often each operand is used, and for each slot which use of its operand it is
    (once per gate: counting per step would cost a gate of n operands n^2)."""
    total = Counter(operands)
    seen: Counter = Counter()
    which = []
    for name in operands:
        seen[name] += 1
        which.append(seen[name])
    return total, which


def _steps(trace: Trace, lines: dict[str, ForwardLine]) -> tuple[Step, ...]:
    sums = {a.node: a for a in trace.sums}
    nodes = {n.name: n for n in trace.nodes}
    # A gate has a local gradient per use of a name, but none into data: find it by slot.
    local_at = {(line.name, l.slot): l for line in lines.values() for l in line.locals}
    counted: dict[str, tuple[dict[str, int], list[int]]] = {}
    steps = []
    for index, s in enumerate(trace.backward, 1):
        source = nodes[s.source]
        if s.source not in counted:
            counted[s.source] = _uses(source.operands)
        total_uses, which = counted[s.source]
        uses = total_uses[s.node]
        total = sums.get(s.node)
        steps.append(Step(
            index=index, node=s.node, source=s.source, slot=s.slot, path=s.path,
            upstream=s.upstream, local=local_at[(s.source, s.slot)],
            contribution=s.contribution, kink_op=source.op,
            use=which[s.slot] if uses > 1 else None, uses=uses,
            sum=total if total is not None and s.path == len(total.contributions) else None))
    return tuple(steps)


def _groups(trace: Trace, steps: tuple[Step, ...]) -> tuple[GateGroup, ...]:
    """The steps grouped by the gate that passes its gradient on; within a gate, a new
    block starts after each sum, so that a sum follows the step completing it."""
    nodes = {n.name: n for n in trace.nodes}
    runs: list[tuple[str, list[list[Step]]]] = []
    for step in steps:
        if not runs or runs[-1][0] != step.source:
            runs.append((step.source, [[]]))
        blocks = runs[-1][1]
        if blocks[-1] and blocks[-1][-1].sum is not None:
            blocks.append([])
        blocks[-1].append(step)
    groups = []
    for source, blocks in runs:
        node = nodes[source]
        groups.append(GateGroup(source, node.expr, node.grad,  # type: ignore[arg-type]
                                source == trace.output,
                                tuple(_block(b) for b in blocks if b)))
    return tuple(groups)


def _block(steps: list[Step]) -> Block:
    kinks: list[str] = []
    for s in steps:
        if s.kink and s.kink_op not in kinks:
            kinks.append(s.kink_op)  # type: ignore[arg-type]
    return Block(tuple(steps), steps[-1].sum, tuple(kinks))


def _final(trace: Trace) -> tuple[FinalGradient, ...]:
    numeric = dict(trace.numeric)
    sides = {name: (left, right) for name, left, right in trace.one_sided}
    gradients = trace.gradients
    result = []
    for name in trace.wrt:
        estimate = numeric.get(name)
        known = estimate is not None and math.isfinite(estimate)
        result.append(FinalGradient(name, gradients[name], estimate if known else None,
                                    *sides.get(name, (None, None))))
    return tuple(result)


def _closed(trace: Trace, derivation: Derivation
            ) -> tuple[tuple[ClosedForm, ...], tuple[str, ...], Optional[object]]:
    forms = derivation.closed
    if forms is None or forms.too_large:
        return (), (), None
    numeric = dict(trace.numeric)
    gradients = trace.gradients
    closed = []
    for name, formula in forms.gradients:
        value = gradients[name] if trace.rounding is None else numeric.get(name)
        closed.append(ClosedForm(name, formula, value if value is not None and
                                 math.isfinite(value) else None))
    return tuple(closed), forms.names, forms.function


def _update(update: Optional[UpdateTrace], gates: tuple[ForwardLine, ...],
            rounding: Optional[int]) -> Optional[UpdateSolution]:
    if update is None:
        return None
    after = dict(update.values)
    forward = tuple(ForwardLine(line.name, line.expr, after[line.name],
                                rounding is not None and
                                evaluate(line.expr, after) != after[line.name])
                    for line in gates)
    return UpdateSolution(update.learning_rate, update.params, forward, update.output_before,
                          update.output_after)
