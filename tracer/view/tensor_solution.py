"""The worked solution of a problem of vectors and matrices, in no format.

As :mod:`tracer.view.solution` arranges a scalar trace, this arranges a
:class:`~tracer.core.tensor_engine.TensorTrace`: the forward pass node by node with shapes,
each gate's rules (one per edge, in matrix form), the backward steps grouped by the gate
passing its gradient on (each sum right after the step that completes it), the final
gradients with the largest difference from central differences, the update, and the
component view: the same problem as a graph of scalars (:mod:`tracer.core.components`),
traced by the scalar engine and worked as any scalar problem, with every entry of every
layer gradient linked to the scalar gradient it equals.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Optional

from ..core.components import ComponentView, component_view
from ..core.engine import trace as trace_scalar
from ..core.expr import Expr
from ..core.graph import Graph, build_graph
from ..core.layout_hint import LayoutHint
from ..core.tensor_ops import Shape

if TYPE_CHECKING:   # numpy is loaded when a problem of vectors is worked, not before
    from ..core.tensor import Value
    from ..core.tensor_engine import TensorParam, TensorSum, TensorTrace

__all__ = ["TensorSolution", "TensorLine", "TensorRule", "TensorStepView", "TensorBlock",
           "TensorGroup", "TensorFinal", "TensorUpdateView", "ComponentLink", "Components",
           "solve_tensor", "is_tensor"]


@dataclass(frozen=True, eq=False)
class TensorRule:
    """What the gate ``gate`` sends back to ``operand`` (its ``slot``-th edge): ``rule``
    over the upstream gradient and the names."""

    gate: str
    operand: str
    slot: int
    rule: Expr


@dataclass(frozen=True, eq=False)
class TensorLine:
    """A name and its value: an input, or a gate ``name = expr`` of the forward pass."""

    name: str
    value: Value
    shape: Shape
    expr: Optional[Expr] = None
    rounded: bool = False
    rules: tuple[TensorRule, ...] = ()


@dataclass(frozen=True, eq=False)
class TensorStepView:
    """``node`` receives ``contribution`` = ``rule`` at ``upstream`` from ``source``."""

    index: int
    node: str
    source: str
    slot: int
    path: Optional[int]
    upstream: Value
    rule: Expr
    contribution: Value
    kink_ops: tuple[str, ...]
    use: Optional[int]
    uses: int
    sum: Optional[TensorSum]

    @property
    def kink(self) -> bool:
        return bool(self.kink_ops)


@dataclass(frozen=True, eq=False)
class TensorBlock:
    steps: tuple[TensorStepView, ...]
    sum: Optional[TensorSum]
    kinks: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class TensorGroup:
    source: str
    expr: Expr
    upstream: Value
    is_output: bool
    blocks: tuple[TensorBlock, ...]


@dataclass(frozen=True, eq=False)
class TensorFinal:
    """A gradient asked for, its central differences and their largest difference."""

    name: str
    grad: Value
    numeric: Optional[Value]
    difference: Optional[float]


@dataclass(frozen=True, eq=False)
class TensorUpdateView:
    learning_rate: float
    params: tuple[TensorParam, ...]
    forward: tuple[TensorLine, ...]
    before: float
    after: float


@dataclass(frozen=True, eq=False)
class ComponentLink:
    """Entry ``index`` of d output / d ``name`` is the scalar gradient of ``scalar``."""

    name: str
    index: tuple[int, ...]
    scalar: str
    grad: float
    scalar_grad: float


@dataclass(frozen=True, eq=False)
class Components:
    """The component view: its worked solution and its links to the layer view."""

    view: ComponentView
    solution: "Solution"           # tracer.view.solution.Solution, of the scalar problem
    mode: str
    links: tuple[ComponentLink, ...]


@dataclass(frozen=True, eq=False)
class TensorSolution:
    """A problem of vectors and matrices worked out (see the module's description)."""

    id: str
    title: str
    statement: str
    tags: tuple[str, ...]
    precision: int
    rounding: Optional[int]
    output: str
    wrt: tuple[str, ...]
    data: tuple[str, ...]
    inputs: tuple[TensorLine, ...]
    gates: tuple[TensorLine, ...]
    steps: tuple[TensorStepView, ...]
    groups: tuple[TensorGroup, ...]
    sums: tuple[TensorSum, ...]
    final: tuple[TensorFinal, ...]
    update: Optional[TensorUpdateView]
    kink_ops: tuple[str, ...]
    shapes: Mapping[str, Shape]
    components: Optional[Components]
    trace: TensorTrace
    layout_hint: Optional[LayoutHint] = None   # the author's columns for the figures

    @property
    def values(self) -> dict[str, Value]:
        return self.trace.values

    @property
    def gradients(self) -> dict[str, Value]:
        return self.trace.gradients


def is_tensor(solution: object) -> bool:
    """Whether ``solution`` is a :class:`TensorSolution`."""
    return isinstance(solution, TensorSolution)


def solve_tensor(graph: Graph, trace: TensorTrace, solve: Callable, *,
                 components: bool = True) -> TensorSolution:
    """The worked solution of ``trace`` (a trace of ``graph``), with its component view
    (worked by ``solve``, :func:`tracer.view.solution.solve`) unless ``components`` is
    false or the problem says ``components: none``."""
    problem = graph.problem
    nodes = {n.name: n for n in trace.nodes}
    gates = tuple(TensorLine(n.name, n.value, n.shape, n.expr, _rounded(graph, trace, n.name),
                             tuple(TensorRule(n.name, r.operand, r.slot, r.rule)
                                   for r in n.rules))
                  for n in trace.nodes if n.kind == "gate")
    steps = _steps(trace, nodes)
    kink_ops = tuple(sorted({op for n in trace.nodes for op in n.kinks}))
    return TensorSolution(
        id=problem.id, title=problem.title, statement=problem.statement, tags=problem.tags,
        precision=problem.precision, rounding=trace.rounding, output=trace.output,
        wrt=trace.wrt, data=problem.data,
        inputs=tuple(TensorLine(n.name, n.value, n.shape) for n in trace.nodes
                     if n.kind == "input"),
        gates=gates, steps=steps, groups=_groups(trace, steps, nodes), sums=trace.sums,
        final=_final(trace), update=_update(trace, gates), kink_ops=kink_ops,
        shapes=trace.shapes,
        components=_components(graph, trace, solve) if components else None,
        trace=trace, layout_hint=problem.layout)


def _rounded(graph: Graph, trace: TensorTrace, name: str) -> bool:
    if trace.rounding is None:
        return False
    from ..core.tensor import evaluate, same

    return not same(evaluate(graph.gates[name].expr, trace.values), trace.values[name])


def _steps(trace: TensorTrace, nodes: Mapping) -> tuple[TensorStepView, ...]:
    sums = {a.node: a for a in trace.sums}
    steps = []
    for index, s in enumerate(trace.backward, 1):
        source = nodes[s.source]
        uses = source.operands.count(s.node)
        total = sums.get(s.node)
        steps.append(TensorStepView(
            index=index, node=s.node, source=s.source, slot=s.slot, path=s.path,
            upstream=s.upstream, rule=s.rule, contribution=s.contribution,
            kink_ops=source.kinks if s.kink else (),
            use=source.operands[:s.slot + 1].count(s.node) if uses > 1 else None, uses=uses,
            sum=total if total is not None and s.path == len(total.contributions) else None))
    return tuple(steps)


def _groups(trace: TensorTrace, steps: tuple[TensorStepView, ...], nodes: Mapping
            ) -> tuple[TensorGroup, ...]:
    runs: list[tuple[str, list[list[TensorStepView]]]] = []
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
        made = []
        for b in blocks:
            kinks: list[str] = []
            for s in b:
                kinks.extend(op for op in s.kink_ops if op not in kinks)
            made.append(TensorBlock(tuple(b), b[-1].sum, tuple(kinks)))
        groups.append(TensorGroup(source, node.expr, node.grad, source == trace.output,
                                  tuple(made)))
    return tuple(groups)


def _final(trace: TensorTrace) -> tuple[TensorFinal, ...]:
    from ..core.tensor import largest_difference

    numeric = dict(trace.numeric)
    result = []
    for name in trace.wrt:
        grad = trace.gradients[name]
        estimate = numeric.get(name)
        difference = None if estimate is None else largest_difference(grad, estimate)
        result.append(TensorFinal(name, grad, estimate if difference is not None else None,
                                  difference))
    return tuple(result)


def _update(trace: TensorTrace, gates: tuple[TensorLine, ...]) -> Optional[TensorUpdateView]:
    update = trace.update
    if update is None:
        return None
    after = dict(update.values)
    forward = tuple(TensorLine(line.name, after[line.name], line.shape, line.expr)
                    for line in gates)
    return TensorUpdateView(update.learning_rate, update.params, forward,
                            update.output_before, update.output_after)


def _components(graph: Graph, trace: TensorTrace, solve: Callable) -> Optional[Components]:
    view = component_view(graph, {name: trace.values[name] for name in trace.inputs})
    if view is None:
        return None
    scalar_graph = build_graph(view.problem)
    scalar = solve(scalar_graph, trace_scalar(scalar_graph), whole=True)
    gradients = scalar.gradients
    links = []
    for name in trace.wrt:
        grad = trace.gradients[name]
        for index, scalar_name in view.names[name]:
            links.append(ComponentLink(name, index, scalar_name, float(grad[index]),
                                       gradients[scalar_name]))
    return Components(view, scalar, graph.problem.components, tuple(links))
