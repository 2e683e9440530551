"""The engine of a problem of vectors and matrices: ``(graph, inputs)`` -> :class:`TensorTrace`.

The same two passes as the scalar engine (:mod:`tracer.core.engine`), a node's value and
gradient now an array: the forward pass in topological order; the backward pass in reverse
topological order from d(output)/d(output) = 1, each edge applying its gate's rule
(:mod:`tracer.core.tensor_rules`, composed once per graph) to the upstream gradient and
adding the contribution to its operand's gradient, labelled [k] where several arrive.  Then
central differences of every entry of every gradient asked for, and the update.  Plain
frozen data: arrays that are never written to, names and the graph's expressions.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import chain
from typing import Mapping, NamedTuple, Optional

import numpy as np

from .errors import Diagnostic, TracerError
from .expr import DomainError, Expr
from .graph import Gate, Graph
from .tensor import EntryError, array, evaluate, kinks, round_array, unbroadcast
from .tensor_ops import Shape
from .tensor_rules import UPSTREAM, GateRule

__all__ = ["TensorNode", "TensorStep", "TensorSum", "TensorParam", "TensorUpdate",
           "TensorTrace", "trace_tensor", "forward_tensor", "MAX_CHECK_ENTRIES"]

#: Central differences are computed when (entries asked for) x (gates) is at most this.
MAX_CHECK_ENTRIES = 200_000


class TensorNode(NamedTuple):
    """One input or gate after both passes; ``kinks`` are the kinked operations some entry
    of the gate sits on (a subgradient is used there)."""

    name: str
    kind: str
    value: np.ndarray
    grad: np.ndarray
    shape: Shape
    expr: Optional[Expr] = None
    op: Optional[str] = None
    operands: tuple[str, ...] = ()
    rules: tuple[GateRule, ...] = ()
    kinks: tuple[str, ...] = ()
    line: Optional[int] = None


class TensorStep(NamedTuple):
    """``node`` receives ``contribution`` = ``rule`` at ``upstream`` (d output / d source)
    from ``source``; ``path`` is the k of [k] when it receives several."""

    node: str
    source: str
    slot: int
    upstream: np.ndarray
    rule: Expr
    contribution: np.ndarray
    path: Optional[int] = None
    kink: bool = False


class TensorSum(NamedTuple):
    node: str
    sources: tuple[str, ...]
    contributions: tuple[np.ndarray, ...]
    grad: np.ndarray


class TensorParam(NamedTuple):
    name: str
    old: np.ndarray
    grad: np.ndarray
    new: np.ndarray


@dataclass(frozen=True, eq=False)
class TensorUpdate:
    learning_rate: float
    params: tuple[TensorParam, ...]
    values: tuple[tuple[str, np.ndarray], ...]
    output_before: float
    output_after: float


@dataclass(frozen=True, eq=False)
class TensorTrace:
    """Everything both passes computed, as :class:`~tracer.core.engine.Trace` has it, with
    arrays for numbers and the shape of every name."""

    inputs: tuple[str, ...]
    output: str
    wrt: tuple[str, ...]
    rounding: Optional[int]
    nodes: tuple[TensorNode, ...]
    backward: tuple[TensorStep, ...]
    sums: tuple[TensorSum, ...]
    shapes: Mapping[str, Shape]
    update: Optional[TensorUpdate] = None
    numeric: tuple[tuple[str, np.ndarray], ...] = ()
    constants: frozenset[str] = frozenset()          # data and what is computed from it

    @property
    def values(self) -> dict[str, np.ndarray]:
        return {n.name: n.value for n in self.nodes}

    @property
    def gradients(self) -> dict[str, np.ndarray]:
        return {n.name: n.grad for n in self.nodes}

    def node(self, name: str) -> TensorNode:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


def trace_tensor(graph: Graph, inputs: Optional[Mapping] = None, *,
                 check: bool = True) -> TensorTrace:
    """Both passes of a problem of vectors and matrices (and the update, if it has one);
    ``inputs`` gives other values for a variant (numbers or nested lists)."""
    info = graph.tensor
    assert info is not None
    given = {name: array(v) for name, v in (graph.problem.inputs if inputs is None
                                            else inputs.items())}
    values = forward_tensor(graph, given)
    found = {name: _kinks(graph, gate, values) for name, gate in graph.gates.items()}
    steps, sums, grads = _backward(graph, values, found)
    nodes = []
    for name in graph.forward_order:
        gate = graph.gates.get(name)
        line = graph.problem.line(f"inputs.{name}") if gate is None else gate.line
        nodes.append(TensorNode(
            name, "input" if gate is None else "gate", values[name], grads[name],
            info.shapes[name], None if gate is None else gate.expr,
            gate.expr.op if gate is not None and gate.simple else None,  # type: ignore
            () if gate is None else gate.operands, info.rules.get(name, ()),
            found.get(name, ()), line))
    entries = sum(int(np.prod(info.shapes[n])) for n in graph.wrt)
    numeric = tuple((n, _central(graph, n, given)) for n in graph.wrt) \
        if check and entries * max(1, len(graph.gates)) <= MAX_CHECK_ENTRIES else ()
    return TensorTrace(graph.inputs, graph.output, graph.wrt, graph.problem.rounding,
                       tuple(nodes), tuple(steps), sums, info.shapes,
                       _update(graph, given, values, grads), numeric, graph.constants)


def forward_tensor(graph: Graph, inputs: Mapping[str, np.ndarray],
                   rounding: Optional[int] = -1) -> dict[str, np.ndarray]:
    """Every node's value in topological order (rounded entry by entry in hand-calculation
    mode, unless ``rounding`` is None)."""
    digits = graph.problem.rounding if rounding == -1 else rounding
    values = dict(inputs)
    for name in graph.forward_order:
        gate = graph.gates.get(name)
        if gate is None:
            continue
        try:
            value = evaluate(gate.expr, values)
        except DomainError as exc:
            raise _domain_error(graph, gate, exc, "forward") from None
        values[name] = array(round_array(value, digits))
    return values


def _kinks(graph: Graph, gate: Gate, values: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    try:
        return kinks(gate.expr, values)
    except DomainError as exc:   # pragma: no cover - the forward pass computed it already
        raise _domain_error(graph, gate, exc, "forward") from None


def _backward(graph: Graph, values: Mapping[str, np.ndarray], found: Mapping[str, tuple]
              ) -> tuple[list[TensorStep], tuple[TensorSum, ...], dict[str, np.ndarray]]:
    info = graph.tensor
    assert info is not None
    grads = {name: array(np.zeros(info.shapes[name])) for name in graph.forward_order}
    grads[graph.output] = array(1.0)
    fan_out = Counter(chain.from_iterable(g.operands for g in graph.gates.values()))
    arrived: dict[str, tuple[list[str], list[np.ndarray]]] = {}
    steps: list[TensorStep] = []
    constants = graph.constants      # data, and what is computed from it alone: no gradient
    for name in graph.backward_order:
        if name in constants:
            continue
        upstream = grads[name]
        env = dict(values)
        env[UPSTREAM] = upstream
        for rule in info.rules[name]:
            if rule.operand in constants:
                continue
            try:
                raw = evaluate(rule.rule, env)
            except DomainError as exc:
                raise _domain_error(graph, graph.gates[name], exc, "backward") from None
            contribution = array(unbroadcast(raw, info.shapes[rule.operand]))
            path = None
            if fan_out[rule.operand] > 1:
                got = arrived.setdefault(rule.operand, ([], []))
                got[0].append(name)
                got[1].append(contribution)
                path = len(got[0])
            steps.append(TensorStep(rule.operand, name, rule.slot, upstream, rule.rule,
                                    contribution, path, bool(found.get(name))))
            grads[rule.operand] = array(grads[rule.operand] + contribution)
    for name, grad in grads.items():
        if not np.all(np.isfinite(grad)):
            problem = graph.problem
            line = problem.line(f"inputs.{name}") or problem.line(f"nodes.{name}")
            raise TracerError([Diagnostic(problem.path, f"the gradient of '{name}' overflows "
                                          "to infinity or NaN: scale the inputs down", line)])
    sums = tuple(TensorSum(node, tuple(sources), tuple(contributions), grads[node])
                 for node, (sources, contributions) in arrived.items())
    return steps, sums, grads


def _output(graph: Graph, inputs: Mapping[str, np.ndarray]) -> float:
    return float(forward_tensor(graph, inputs, rounding=None)[graph.output])


def _central(graph: Graph, name: str, given: Mapping[str, np.ndarray], h: float = 1e-6
             ) -> np.ndarray:
    """(f(v + h) - f(v - h)) / 2h for every entry of ``name``, in full precision."""
    values = forward_tensor(graph, given, rounding=None)
    base = values[name]
    result = np.empty(base.shape)
    for index in np.ndindex(base.shape):
        step = h * max(1.0, abs(float(base[index])))
        try:
            up, down = (_shifted(graph, name, given, values, index, d) for d in (step, -step))
            result[index] = (up - down) / (2 * step)
        except (DomainError, TracerError):
            result[index] = np.nan
    return array(result)


def _shifted(graph: Graph, name: str, given: Mapping[str, np.ndarray],
             values: Mapping[str, np.ndarray], index: tuple, delta: float) -> float:
    moved = np.array(values[name])
    moved[index] += delta
    if name not in graph.gates:
        return _output(graph, dict(given, **{name: array(moved)}))
    shifted = dict(values)
    shifted[name] = array(moved)
    started = False
    for n in graph.forward_order:
        if n == name:
            started = True
        elif started and n in graph.gates:
            shifted[n] = evaluate(graph.gates[n].expr, shifted)
    return float(shifted[graph.output])


def _update(graph: Graph, given: Mapping[str, np.ndarray], values: Mapping[str, np.ndarray],
            grads: Mapping[str, np.ndarray]) -> Optional[TensorUpdate]:
    update = graph.problem.update
    if update is None:
        return None
    rate = update.learning_rate
    params = tuple(TensorParam(p, values[p], grads[p], array(values[p] - rate * grads[p]))
                   for p in update.params)
    after = forward_tensor(graph, dict(given, **{p.name: p.new for p in params}))
    return TensorUpdate(rate, params, tuple((n, after[n]) for n in graph.forward_order),
                        float(values[graph.output]), float(after[graph.output]))


def _domain_error(graph: Graph, gate: Gate, exc: DomainError, phase: str) -> TracerError:
    shown = ", ".join(f"{v:.6g}" for v in exc.operands)
    what = "cannot be computed" if phase == "forward" else "has no local derivative here"
    where = ""
    if isinstance(exc, EntryError) and exc.index:
        where = " at entry " + ", ".join(str(i + 1) for i in exc.index)
    call = f"{exc.op}({shown}) is " if exc.operands else ""
    return TracerError([Diagnostic(
        graph.problem.path,
        f"the node '{gate.name}' {what}{where}: {call}{exc.reason}; change the inputs or the "
        "expression", gate.line)])
