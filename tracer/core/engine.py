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
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Callable, Mapping, NamedTuple, Optional, Sequence

from .errors import Diagnostic, TracerError
from .expr import Call, Const, DomainError, Expr, Var, apply, evaluate, fold
from .graph import Gate, Graph
from .memory import no_cycle_collection
from .primitives import PRIMITIVES
from .rules import local_rule

__all__ = ["Local", "NodeTrace", "BackwardStep", "Accumulation", "ParamUpdate", "UpdateTrace",
           "Trace", "trace", "forward", "central_difference", "central_differences"]


# ----------------------------------------------------------------------------- the trace
#
# The records made once per node or per edge are NamedTuples: as immutable and as typed as
# frozen dataclasses, but made ten times faster, which matters at hundreds of thousands of
# steps.  The records made once per trace are frozen dataclasses.

class Local(NamedTuple):
    """d(gate)/d(operand) for one edge, at this point (``kink``: a subgradient)."""

    operand: str
    slot: int
    value: float
    kink: bool = False


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

    @property
    def values(self) -> dict[str, float]:
        """Forward value of every input and node."""
        return {n.name: n.value for n in self.nodes}

    @property
    def gradients(self) -> dict[str, float]:
        """d output / d name for every input and node."""
        return {n.name: n.grad for n in self.nodes}

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

#: Central differences are computed when len(wrt) x number of gates is at most this.
MAX_CHECK_WORK = 200_000


def trace(graph: Graph, inputs: Optional[Mapping[str, float]] = None, *,
          check: bool = True) -> Trace:
    """Run both passes (and the update, if the problem has one) and record every step.

    ``inputs`` gives the input values (default: the problem's); tracing the same graph
    with other values is how variants of a problem are made.  ``check`` adds
    central-difference estimates of the gradients in ``wrt``.
    """
    given = dict(graph.problem.inputs if inputs is None else inputs)
    with no_cycle_collection():
        values = forward(graph, given)
        locals_ = {name: _locals(graph, gate, values) for name, gate in graph.gates.items()}
        steps, sums, grads = backward(graph, locals_)
        nodes = _nodes(graph, values, grads, locals_)
    # Each estimate re-runs the forward pass twice: skip the check where that gets costly.
    affordable = len(graph.wrt) * len(graph.gates) <= MAX_CHECK_WORK
    numeric = central_differences(graph, graph.wrt, given) if check and affordable else ()
    return Trace(
        inputs=graph.inputs, output=graph.output, wrt=graph.wrt,
        rounding=graph.problem.rounding, nodes=tuple(nodes), backward=tuple(steps), sums=sums,
        update=_update(graph, given, values, grads), numeric=numeric)


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


def forward(graph: Graph, inputs: dict[str, float], rounding: Optional[int] = -1
            ) -> dict[str, float]:
    """Every node's value, in topological order.  In hand-calculation mode (``rounding``)
    each value is rounded to that many decimals before anything uses it."""
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
        values[name] = round(value, digits) if digits is not None else value
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
    given = dict(graph.problem.inputs if inputs is None else inputs)
    values = forward(graph, given, rounding=None)
    gates = [graph.gates.get(n) for n in graph.forward_order]
    consumers: dict[str, list[int]] = {}   # the positions of the gates using each name
    for i, gate in enumerate(gates):
        if gate is not None:
            for operand in gate.operands:
                consumers.setdefault(operand, []).append(i)

    def depending_on(name: str) -> list[Gate]:
        found: set[int] = set()
        stack = [name]
        while stack:
            for i in consumers.get(stack.pop(), ()):
                if i not in found:
                    found.add(i)
                    stack.append(gates[i].name)  # type: ignore[union-attr]
        return [gates[i] for i in sorted(found)]  # type: ignore[misc]

    def output_with(name: str, v: float, later: list[Gate]) -> float:
        shifted = dict(values)
        shifted[name] = v
        for gate in later:
            shifted[gate.name] = _evaluate_gate(gate, shifted)
        return shifted[graph.output]

    result = []
    for name in names:
        later = depending_on(name)
        step = h * max(1.0, abs(values[name]))
        try:
            estimate = (output_with(name, values[name] + step, later)
                        - output_with(name, values[name] - step, later)) / (2 * step)
        except (DomainError, TracerError):
            estimate = math.nan
        result.append((name, estimate))
    return tuple(result)


# ----------------------------------------------------------------------------- local derivatives

def _locals(graph: Graph, gate: Gate, values: dict[str, float]) -> tuple[Local, ...]:
    try:
        if gate.simple:
            return _simple_locals(gate, values)
        return _gate_locals(gate, values)
    except DomainError as exc:
        raise _domain_error(graph, gate, exc, "backward") from None


_SLOTS = {"a": 0, "b": 1, "out": 2}


@lru_cache(maxsize=None)
def _local_function(op: str, index: int) -> Callable[[tuple[float, ...]], float]:
    """The table's local derivative as a function of (a, b, out), built once per entry
    from the same primitives (the tree is walked here, not at every gate)."""
    def leaf(node):
        if type(node) is not Var:
            value = node.value
            return lambda env: value
        return itemgetter(_SLOTS[node.name])

    def call(node, args):
        prim = PRIMITIVES[node.op]
        if len(args) == 1:
            (f,) = args
            return lambda env: apply(prim, (f(env),))
        f, g = args
        return lambda env: apply(prim, (f(env), g(env)))

    return fold(local_rule(op, index), leaf, call)  # type: ignore[return-value]


def _simple_locals(gate: Gate, values: dict[str, float]) -> tuple[Local, ...]:
    call: Call = gate.expr  # type: ignore[assignment]
    uses = gate.operands    # the operands that are names, repeats included
    # The local derivatives are functions of (a, b, out).  Most gates apply an operation to
    # names only: their plan depends on the operation and on whether a name is used twice
    # (x * x), found without walking the operands; written out per arity as this runs
    # once per gate.
    if len(uses) == 1 == len(call.args):
        names = uses
        plan = _names_only_plan(call.op, False)
        operands: tuple | list = (values[uses[0]],)
    elif len(uses) == 2 == len(call.args):
        a, b = uses
        twice = a == b
        plan = _names_only_plan(call.op, twice)
        operands = (values[a], values[b])
        names = (a,) if twice else uses
    elif len(uses) == 1 and len(call.args) == 2:      # a name and a number: x ** 2, 0.5 * u
        names = uses
        x, y = call.args
        if type(x) is Var:
            plan = _name_number_plan(call.op, 0)
            operands = (values[uses[0]], y.value)  # type: ignore[union-attr]
        else:
            plan = _name_number_plan(call.op, 1)
            operands = (x.value, values[uses[0]])  # type: ignore[union-attr]
    else:
        names, shape = _shape(call)
        plan = _local_plan(call.op, shape)
        operands = [values[x.name] if type(x) is Var else x.value for x in call.args]
    kink = plan.kink is not None and bool(plan.kink(*operands))
    env = (operands[0], operands[1] if len(operands) > 1 else 0.0, values[gate.name])
    return tuple([_new(Local, (names[k], slot, function(env), kink))
                  for slot, k, function in plan.slots])


@dataclass(frozen=True)
class _LocalPlan:
    """How to get a simple gate's locals, the same for every gate of one shape."""

    kink: Optional[Callable[..., bool]]
    slots: tuple[tuple[int, int, Callable], ...]  # (slot, which name, value)


def _shape(call: Call) -> tuple[list[str], tuple]:
    """The distinct names of a simple gate's operands, and its shape: each operand as
    ("name", index into the names) or ("number",); the operands' positions are what the
    plan depends on."""
    names: list[str] = []
    shape = []
    for arg in call.args:
        if type(arg) is Var:
            if arg.name in names:
                shape.append(("name", names.index(arg.name)))
            else:
                shape.append(("name", len(names)))
                names.append(arg.name)
        else:
            shape.append(("number",))
    return names, tuple(shape)


@lru_cache(maxsize=None)
def _names_only_plan(op: str, twice: bool) -> _LocalPlan:
    arity = PRIMITIVES[op].arity
    shape = (("name", 0),) * arity if twice or arity == 1 else (("name", 0), ("name", 1))
    return _local_plan(op, shape)


@lru_cache(maxsize=None)
def _name_number_plan(op: str, name_at: int) -> _LocalPlan:
    shape: list[tuple] = [("number",)]
    shape.insert(name_at, ("name", 0))
    return _local_plan(op, tuple(shape))


@lru_cache(maxsize=None)
def _local_plan(op: str, shape: tuple) -> _LocalPlan:
    slots = tuple((slot, v, _local_function(op, i))
                  for slot, (i, v) in enumerate((i, kind[1]) for i, kind in enumerate(shape)
                                                if kind[0] == "name"))
    return _LocalPlan(PRIMITIVES[op].kink, slots)


def _gate_locals(gate: Gate, values: dict[str, float]) -> tuple[Local, ...]:
    """Reverse mode inside one gate of several operations, with the table's derivatives."""
    order: list[Expr] = []           # parents before children
    kids: list[list[int]] = []
    stack: list[tuple[Expr, int]] = [(gate.expr, -1)]
    while stack:
        node, parent = stack.pop()
        kids.append([])
        if parent >= 0:
            kids[parent].append(len(order))
        order.append(node)
        if isinstance(node, Call):
            stack.extend((a, len(order) - 1) for a in reversed(node.args))

    value = [0.0] * len(order)
    has_var = [False] * len(order)
    for i in range(len(order) - 1, -1, -1):
        n = order[i]
        if isinstance(n, Const):
            value[i] = n.value
        elif isinstance(n, Var):
            value[i], has_var[i] = values[n.name], True
        else:
            value[i] = apply(PRIMITIVES[n.op], tuple(value[k] for k in kids[i]))
            has_var[i] = any(has_var[k] for k in kids[i])
    # In hand mode the gate's rounded value is what later gates use; its own local
    # derivatives stay the formulas in its operands (as printed), evaluated at those operands.

    adjoint = [0.0] * len(order)
    adjoint[0] = 1.0
    grads: dict[str, float] = dict.fromkeys(gate.operands, 0.0)
    kink = False
    for i, n in enumerate(order):
        if isinstance(n, Var):
            grads[n.name] += adjoint[i]
        elif isinstance(n, Call):
            prim = PRIMITIVES[n.op]
            operands = tuple(value[k] for k in kids[i])
            env = dict(zip("ab", operands), out=value[i])
            kink = kink or bool(prim.kink and prim.kink(*operands))
            for j, k in enumerate(kids[i]):
                if has_var[k]:
                    adjoint[k] += adjoint[i] * evaluate(local_rule(n.op, j), env)
    return tuple(Local(name, slot, grads[name], kink) for slot, name in enumerate(gate.operands))


def _domain_error(graph: Graph, gate: Gate, exc: DomainError, phase: str) -> TracerError:
    shown = ", ".join(f"{v:.6g}" for v in exc.operands)
    what = "cannot be computed" if phase == "forward" else "has no local derivative here"
    return TracerError([Diagnostic(
        graph.problem.path,
        f"the node '{gate.name}' {what}: {exc.op}({shown}) is {exc.reason}; change the "
        "inputs or the expression", gate.line)])
