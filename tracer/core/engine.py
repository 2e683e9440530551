"""The engine: ``(graph, inputs)`` -> :class:`Trace`.

The forward pass in topological order, the backward pass in reverse topological order
seeded with d(output)/d(output) = 1, and every chain-rule step recorded as frozen data:
numbers, names and the graph's expressions, no formatting and no wording.  Local
derivatives come from the table's rules (:mod:`tracer.core.rules`), compiled once per
operation and operand shape, so tracing the same graph again with other inputs parses and
derives nothing.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from decimal import ROUND_HALF_UP, Context, Decimal
from itertools import chain
from typing import Mapping, NamedTuple, Optional, Sequence

from .derivatives import Local, Singular, gate_locals, simple_locals
from .errors import Diagnostic, TracerError
from .expr import Call, DomainError, Expr, Var, apply, evaluate, walk
from .graph import Gate, Graph
from .memory import no_cycle_collection
from .primitives import PRIMITIVES
from .training import TrainingTrace, run as run_training

__all__ = ["Local", "NodeTrace", "BackwardStep", "Accumulation", "ParamUpdate", "UpdateTrace",
           "Trace", "trace", "forward", "central_difference", "central_differences", "kinks_found",
           "hand_round"]


# ----------------------------------------------------------------------------- the trace
#
# The records made once per node or per edge are NamedTuples: as immutable and as typed as
# frozen dataclasses, but made ten times faster, which matters at hundreds of thousands of
# steps.  The records made once per trace are frozen dataclasses.

class NodeTrace(NamedTuple):
    """One input or gate after both passes."""

    name: str
    kind: str                      # "input" or "gate"
    value: float
    grad: float
    expr: Optional[Expr] = None    # None for inputs
    op: Optional[str] = None       # the primitive of a simple gate
    operands: tuple[str, ...] = ()
    locals: tuple[Local, ...] = ()
    line: Optional[int] = None


class BackwardStep(NamedTuple):
    """One application of the chain rule: ``node`` receives ``contribution`` from ``source``.

    ``contribution = upstream * local`` where ``upstream`` is d(output)/d(source).  ``path``
    is the label k of d^[k] when ``node`` receives several contributions, else ``None``.
    """

    node: str
    source: str
    slot: int
    upstream: float
    local: float
    contribution: float
    path: Optional[int] = None
    kink: bool = False


class Accumulation(NamedTuple):
    """A gradient that is a sum: the contributions in the order they arrived, and the sum."""

    node: str
    sources: tuple[str, ...]
    contributions: tuple[float, ...]
    grad: float


@dataclass(frozen=True, slots=True)
class ParamUpdate:
    """``new = old - learning_rate * grad``."""

    name: str
    old: float
    grad: float
    new: float


@dataclass(frozen=True, slots=True)
class UpdateTrace:
    """One gradient-descent step and the forward pass with the new parameters."""

    learning_rate: float
    params: tuple[ParamUpdate, ...]
    values: tuple[tuple[str, float], ...]   # every input and node after the step
    output_before: float
    output_after: float


@dataclass(frozen=True, eq=False)
class Trace:
    """Everything both passes computed, in the order they computed it."""

    inputs: tuple[str, ...]
    output: str
    wrt: tuple[str, ...]
    rounding: Optional[int]                 # hand-calculation mode: decimals kept
    nodes: tuple[NodeTrace, ...]            # forward order, inputs first
    backward: tuple[BackwardStep, ...]      # in the order applied
    sums: tuple[Accumulation, ...]          # nodes with several contributions, when complete
    update: Optional[UpdateTrace] = None
    numeric: tuple[tuple[str, float], ...] = ()      # central differences, for wrt
    #: (name, left, right) one-sided differences of the names in ``wrt`` whose two sides
    #: differ: the function has a kink there, where no central difference can check.
    one_sided: tuple[tuple[str, float, float], ...] = ()
    constants: frozenset[str] = frozenset()          # data and what is computed from it
    training: Optional[TrainingTrace] = None         # every step of ``train``

    # Made once and shared (never change them): documents look values up gate by gate,
    # and a new dictionary per look-up cost a gate of 30,000 operands minutes.
    @cached_property
    def values(self) -> dict[str, float]:
        """Forward value of every input and node."""
        return {n.name: n.value for n in self.nodes}

    @cached_property
    def gradients(self) -> dict[str, float]:
        """d output / d name for every input and node."""
        return {n.name: n.grad for n in self.nodes}

    def __getstate__(self) -> dict:
        # What is made once is made again after pickling (a worker's trace).
        return {k: v for k, v in self.__dict__.items() if k not in ("values", "gradients")}

    def node(self, name: str) -> NodeTrace:
        """The node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


# ----------------------------------------------------------------------------- the passes

# A NamedTuple's own constructor is a Python function around this one, and takes twice as
# long: the records made per node and per edge are made with it directly.
_new = tuple.__new__

#: Central differences are computed when len(wrt) x operations in the graph is at most
#: this: each estimate runs the forward pass twice, and a pass costs one step per operation
#: (a gate of 10 000 terms is 10 000 steps, not one).
MAX_CHECK_WORK = 200_000


def trace(graph: Graph, inputs: Optional[Mapping[str, float]] = None, *,
          check: bool = True) -> Trace:
    """Run both passes (and the update, if the problem has one) and record every step.

    ``inputs`` gives the input values (default: the problem's); tracing the same graph
    with other values is how variants of a problem are made.  ``check`` adds
    central-difference estimates of the gradients in ``wrt``.

    A problem of vectors and matrices is traced by :mod:`tracer.core.tensor_engine`
    (a :class:`~tracer.core.tensor_engine.TensorTrace`); this path stays the scalar one.
    """
    if graph.tensor is not None:
        from .tensor_engine import trace_tensor

        return trace_tensor(graph, inputs, check=check)  # type: ignore[return-value]
    given = dict(graph.problem.inputs if inputs is None else inputs)
    with no_cycle_collection():
        values = forward(graph, given)
        locals_ = {name: _locals(graph, gate, values) for name, gate in graph.gates.items()}
        steps, sums, grads = backward(graph, locals_)
        nodes = _nodes(graph, values, grads, locals_)
    # Each estimate re-runs the forward pass twice: skip the check where that gets costly.
    affordable = check and len(graph.wrt) * operations(graph, MAX_CHECK_WORK) <= MAX_CHECK_WORK
    numeric = central_differences(graph, graph.wrt, given) if affordable else ()
    kinked = affordable and any(step.kink for step in steps)
    one_sided = kinks_found(graph, graph.wrt, given) if kinked else ()
    return Trace(
        inputs=graph.inputs, output=graph.output, wrt=graph.wrt,
        rounding=graph.problem.rounding, nodes=tuple(nodes), backward=tuple(steps), sums=sums,
        update=_update(graph, given, values, grads), numeric=numeric, one_sided=one_sided,
        constants=graph.constants, training=_training(graph, given))


def operations(graph: Graph, limit: Optional[int] = None) -> int:
    """The operations of the graph's gates (a gate of one operation counts one); counting
    stops past ``limit``."""
    total = 0
    for gate in graph.gates.values():
        total += 1 if gate.simple else sum(1 for n in walk(gate.expr) if type(n) is Call)
        if limit is not None and total > limit:
            break
    return total


def _nodes(graph: Graph, values: dict[str, float], grads: dict[str, float],
           locals_: dict[str, tuple[Local, ...]]) -> list[NodeTrace]:
    problem = graph.problem
    nodes = []
    for name in graph.forward_order:
        gate = graph.gates.get(name)
        if gate is None:
            nodes.append(NodeTrace(name, "input", values[name], grads[name],
                                   line=problem.line(f"inputs.{name}")))
        else:
            op = gate.expr.op if gate.simple else None  # type: ignore[union-attr]
            nodes.append(_new(NodeTrace, (name, "gate", values[name], grads[name], gate.expr,
                                          op, gate.operands, locals_[name], gate.line)))
    return nodes


# Enough digits for any double written out to 12 decimals (1e308 has 309 digits).
_DECIMALS = Context(prec=400)


def hand_round(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` decimals as a student rounds it: the number as it is
    written (2.675, not the double just below it), halves away from zero (0.25 -> 0.3,
    -0.25 -> -0.3), where Python's round() takes halves to the even digit (0.2)."""
    exact = Decimal(repr(value))
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP,
                                context=_DECIMALS))


def forward(graph: Graph, inputs: dict[str, float], rounding: Optional[int] = -1
            ) -> dict[str, float]:
    """Every node's value, in topological order.  In hand-calculation mode (``rounding``)
    each value is rounded to that many decimals (:func:`hand_round`) before anything uses
    it."""
    digits = graph.problem.rounding if rounding == -1 else rounding
    values = dict(inputs)
    for name in graph.forward_order:
        gate = graph.gates.get(name)
        if gate is None:
            continue
        try:
            value = _evaluate_gate(gate, values)
        except DomainError as exc:
            raise _domain_error(graph, gate, exc, "forward") from None
        values[name] = hand_round(value, digits) if digits is not None else value
    return values


def _evaluate_gate(gate: Gate, values: dict[str, float]) -> float:
    if gate.simple:  # the common case, without the generic tree walk
        call: Call = gate.expr  # type: ignore[assignment]
        return apply(PRIMITIVES[call.op], tuple([  # a list first: faster than a generator
            values[a.name] if type(a) is Var else a.value for a in call.args]))  # type: ignore
    return evaluate(gate.expr, values)


def backward(graph: Graph, locals_: dict[str, tuple[Local, ...]]
             ) -> tuple[list[BackwardStep], tuple[Accumulation, ...], dict[str, float]]:
    """Reverse topological order from d(output)/d(output) = 1; each edge adds
    ``upstream * local`` to its operand's gradient, labelled [k] where there are several.

    Returns the steps in the order applied, the sums (nodes with several contributions, in
    the order of their first) and every gradient."""
    grads = dict.fromkeys(graph.forward_order, 0.0)
    grads[graph.output] = 1.0
    fan_out = Counter(chain.from_iterable(gate.operands for gate in graph.gates.values()))
    several = {name for name, count in fan_out.items() if count > 1}
    arrived: dict[str, tuple[list[str], list[float]]] = {}   # their sources, contributions
    steps: list[BackwardStep] = []
    for name in graph.backward_order:
        upstream = grads[name]
        for operand, slot, local, kink in locals_[name]:
            contribution = upstream * local
            if operand in several:
                got = arrived.get(operand)
                if got is None:
                    got = arrived[operand] = ([], [])
                got[0].append(name)
                got[1].append(contribution)
                path = len(got[0])
            else:
                path = None
            steps.append(_new(BackwardStep, (operand, name, slot, upstream, local,
                                             contribution, path, kink)))
            grads[operand] += contribution
    if not all(map(math.isfinite, grads.values())):
        name = next(name for name, grad in grads.items() if not math.isfinite(grad))
        problem = graph.problem
        line = problem.line(f"inputs.{name}") or problem.line(f"nodes.{name}")
        raise TracerError([Diagnostic(problem.path, f"the gradient of '{name}' overflows to "
                                      "infinity or NaN: scale the inputs down", line)])
    sums = tuple(Accumulation(node, tuple(sources), tuple(contributions), grads[node])
                 for node, (sources, contributions) in arrived.items())
    return steps, sums, grads


def _update(graph: Graph, given: dict[str, float], values: dict[str, float],
            grads: dict[str, float]) -> Optional[UpdateTrace]:
    update = graph.problem.update
    if update is None:
        return None
    params = tuple(ParamUpdate(p, values[p], grads[p], values[p] - update.learning_rate * grads[p])
                   for p in update.params)
    inputs = dict(given)
    inputs.update((p.name, p.new) for p in params)
    after = forward(graph, inputs)
    return UpdateTrace(update.learning_rate, params,
                       tuple((n, after[n]) for n in graph.forward_order),
                       values[graph.output], after[graph.output])


def _training(graph: Graph, given: dict[str, float]) -> Optional[TrainingTrace]:
    """The problem's ``train`` steps, each a forward and a backward pass."""
    if graph.problem.train is None:
        return None

    def gradients(inputs: dict[str, float]) -> tuple[float, dict[str, float]]:
        values = forward(graph, inputs)
        locals_ = {name: _locals(graph, gate, values) for name, gate in graph.gates.items()}
        return values[graph.output], backward(graph, locals_)[2]

    return run_training(graph.problem, given, gradients)


def central_difference(graph: Graph, name: str, inputs: Optional[Mapping[str, float]] = None,
                       h: float = 1e-6) -> float:
    """(f(v + h) - f(v - h)) / 2h in full precision: an independent check of d output/d name
    at ``inputs`` (default: the problem's).

    For a node, its value is perturbed and the nodes after it recomputed."""
    return central_differences(graph, (name,), inputs, h)[0][1]


def central_differences(graph: Graph, names: Sequence[str],
                        inputs: Optional[Mapping[str, float]] = None, h: float = 1e-6
                        ) -> tuple[tuple[str, float], ...]:
    """:func:`central_difference` of each of ``names``.  The forward pass at ``inputs`` is
    made once for all of them, and a perturbed pass recomputes only the gates that depend
    on the name perturbed, in forward order: the others keep their values (at 1k nodes the
    check was a third of the trace when every estimate ran the whole pass three times)."""
    shifted = _Shifted(graph, inputs)
    result = []
    for name in names:
        step = h * max(1.0, abs(shifted.values[name]))
        try:
            estimate = (shifted(name, step) - shifted(name, -step)) / (2 * step)
        except (DomainError, TracerError):
            estimate = math.nan
        result.append((name, estimate))
    return tuple(result)


def kinks_found(graph: Graph, names: Sequence[str],
                inputs: Optional[Mapping[str, float]] = None, h: float = 1e-6
                ) -> tuple[tuple[str, float, float], ...]:
    """(name, left, right) for each of ``names`` where the one-sided differences (from
    below and from above) disagree: the output has a kink in that name here, so that the
    central difference (about their mean) checks nothing."""
    shifted = _Shifted(graph, inputs)
    result = []
    for name in names:
        step = h * max(1.0, abs(shifted.values[name]))
        try:
            # Second-order one-sided formulas: an error of about f''' h^2, not f'' h.
            here = 3 * shifted(name, 0.0)
            left = (here - 4 * shifted(name, -step) + shifted(name, -2 * step)) / (2 * step)
            right = (4 * shifted(name, step) - shifted(name, 2 * step) - here) / (2 * step)
        except (DomainError, TracerError):
            continue
        # Away from a kink the two sides differ by about f''' h^2: far below this.
        scale = max(1.0, abs(left), abs(right))
        if abs(left - right) > 1e-4 * scale:
            # What is left of a zero slope is rounding noise (1e-10): shown as 0.
            result.append((name, *(0.0 if abs(v) < 1e-7 * scale else v for v in (left, right))))
    return tuple(result)


class _Shifted:
    """The output with one name moved by ``delta`` and the gates after it recomputed, in
    full precision (no hand-calculation rounding)."""

    def __init__(self, graph: Graph, inputs: Optional[Mapping[str, float]]):
        given = dict(graph.problem.inputs if inputs is None else inputs)
        self.graph = graph
        self.values = forward(graph, given, rounding=None)
        self.gates = [graph.gates.get(n) for n in graph.forward_order]
        self.consumers: dict[str, list[int]] = {}   # positions of the gates using each name
        for i, gate in enumerate(self.gates):
            if gate is not None:
                for operand in gate.operands:
                    self.consumers.setdefault(operand, []).append(i)
        self.later: dict[str, list[Gate]] = {}

    def depending_on(self, name: str) -> list[Gate]:
        if name not in self.later:
            found: set[int] = set()
            stack = [name]
            while stack:
                for i in self.consumers.get(stack.pop(), ()):
                    if i not in found:
                        found.add(i)
                        stack.append(self.gates[i].name)  # type: ignore[union-attr]
            self.later[name] = [self.gates[i] for i in sorted(found)]  # type: ignore[misc]
        return self.later[name]

    def __call__(self, name: str, delta: float) -> float:
        shifted = dict(self.values)
        shifted[name] = self.values[name] + delta
        for gate in self.depending_on(name):
            shifted[gate.name] = _evaluate_gate(gate, shifted)
        return shifted[self.graph.output]


# ----------------------------------------------------------------------------- local derivatives

def _locals(graph: Graph, gate: Gate, values: dict[str, float]) -> tuple[Local, ...]:
    constants = graph.constants
    if constants and gate.name in constants:
        return ()   # computed from data alone: no gradient reaches it
    try:
        if gate.simple:
            return simple_locals(gate, values, constants)
        return gate_locals(gate, values, constants)
    except DomainError as exc:
        raise _domain_error(graph, gate, exc, "backward") from None


def _domain_error(graph: Graph, gate: Gate, exc: DomainError, phase: str) -> TracerError:
    written = _written(exc.op, exc.operands)
    if phase == "forward":
        message = f"cannot be computed: {written} is {_article(exc.reason)}"
    elif isinstance(exc, Singular):
        message = f"has no local derivative here: {exc.reason}"
    else:
        message = (f"has no local derivative here: the derivative of {written} is undefined "
                   f"({exc.reason})")
    return TracerError([Diagnostic(
        graph.problem.path, f"the node '{gate.name}' {message}; change the inputs or the "
        "expression", gate.line)])


_SYMBOLS = {p.name: p.operator for p in PRIMITIVES.values() if p.operator}


def _written(op: str, operands: tuple[float, ...]) -> str:
    """An operation on numbers as the problem writes it: ``1 / 0``, ``log(-2)``."""
    shown = [f"{v:.6g}" for v in operands]
    symbol = _SYMBOLS.get(op)
    if symbol == "neg":
        return f"-({shown[0]})"
    if symbol is not None:
        a, b = (f"({t})" if t.startswith("-") else t for t in shown)
        return f"{a} {symbol} {b}"
    return f"{op}({', '.join(shown)})"


def _article(reason: str) -> str:
    """'division by zero' reads after 'is' as 'a division by zero'."""
    return "a " + reason if reason.startswith("division") else reason
