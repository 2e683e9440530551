"""Local derivatives: d(gate)/d(operand) of every edge into a gate, as numbers.

A gate of one operation gets them from the table's rules (:mod:`tracer.core.rules`),
compiled once per operation and operand shape; a gate of several operations by reverse
mode inside the gate, with the same rules.  Where a rule's formula cannot be evaluated
although the operation is defined (sqrt at 0, a power at base 0), the primitive's
``singular`` entry gives the derivative there or the reason it does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Callable, NamedTuple, Optional

from .expr import Call, Const, DomainError, Expr, Var, apply, evaluate, fold
from .graph import Gate
from .primitives import PRIMITIVES
from .rules import local_rule

__all__ = ["Local", "Singular", "simple_locals", "gate_locals"]

_new = tuple.__new__


class Local(NamedTuple):
    """d(gate)/d(operand) for one edge, at this point (``kink``: a subgradient)."""

    operand: str
    slot: int
    value: float
    kink: bool = False


# A local derivative's environment: (a, b, out), and c after them for three operands.
_SLOTS = {"a": 0, "b": 1, "out": 2, "c": 3}


@lru_cache(maxsize=None)
def _local_function(op: str, index: int) -> Callable[[tuple[float, ...]], float]:
    """The table's local derivative as a function of (a, b, out[, c]), built once per entry
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
        if len(args) == 3:
            return lambda env: apply(prim, tuple([f(env) for f in args]))
        f, g = args
        return lambda env: apply(prim, (f(env), g(env)))

    rule = fold(local_rule(op, index), leaf, call)
    if PRIMITIVES[op].singular is None:
        return rule  # type: ignore[return-value]

    def guarded(env: tuple[float, ...]) -> float:
        try:
            return rule(env)  # type: ignore[operator]
        except DomainError:
            return _singular(op, index, env)

    return guarded


class Singular(DomainError):
    """An operation defined at its operands whose derivative is not (sqrt at 0)."""


def _singular(op: str, index: int, env: tuple[float, ...]) -> float:
    """The derivative where the rule's formula cannot be evaluated: the table's value
    there, or the reason it does not exist, raised."""
    a, b, out = env[:3]
    answer = PRIMITIVES[op].singular(index, a, b, out)  # type: ignore[misc]
    if isinstance(answer, str):
        arity = PRIMITIVES[op].arity
        raise Singular(op, (a, b)[:arity], answer)
    return answer


def simple_locals(gate: Gate, values: dict[str, float],
                  skip: frozenset[str] = frozenset()) -> tuple[Local, ...]:
    """The local derivatives of a gate of one operation, one per use of a name, but none
    with respect to the names in ``skip`` (data: never differentiated)."""
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
        return _general_locals(gate, call, values, skip)
    kink = plan.kink is not None and bool(plan.kink(*operands))
    env = (operands[0], operands[1] if len(operands) > 1 else 0.0, values[gate.name])
    if skip:
        return tuple([_new(Local, (names[k], slot, function(env), kink))
                      for slot, k, function in plan.slots if names[k] not in skip])
    return tuple([_new(Local, (names[k], slot, function(env), kink))
                  for slot, k, function in plan.slots])


def _general_locals(gate: Gate, call: Call, values: dict[str, float],
                    skip: frozenset[str]) -> tuple[Local, ...]:
    """The locals of any other simple gate (numbers and names mixed, three operands): its
    plan from its operands' shape; a third operand ``c`` sits after ``out``."""
    names, shape = _shape(call)
    plan = _local_plan(call.op, shape)
    operands = [values[x.name] if type(x) is Var else x.value for x in call.args]
    kink = plan.kink is not None and bool(plan.kink(*operands))
    env = (operands[0], operands[1] if len(operands) > 1 else 0.0, values[gate.name],
           *operands[2:])
    return tuple([_new(Local, (names[k], slot, function(env), kink))
                  for slot, k, function in plan.slots if names[k] not in skip])


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


def gate_locals(gate: Gate, values: dict[str, float],
                skip: frozenset[str] = frozenset()) -> tuple[Local, ...]:
    """Reverse mode inside one gate of several operations, with the table's derivatives:
    the derivative with respect to each use of a name, the others held fixed."""
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
            # a name in skip (data) is held fixed, as a number would be
            value[i], has_var[i] = values[n.name], n.name not in skip
        else:
            value[i] = apply(PRIMITIVES[n.op], tuple(value[k] for k in kids[i]))
            has_var[i] = any(has_var[k] for k in kids[i])
    # In hand mode the gate's rounded value is what later gates use; its own local
    # derivatives stay the formulas in its operands (as printed), evaluated at those operands.

    adjoint = [0.0] * len(order)
    adjoint[0] = 1.0
    # One local derivative per use of a name (an edge each), in the order written, which
    # is the order of ``order`` and of the gate's operands.
    grads: list[float] = []
    kink = False
    for i, n in enumerate(order):
        if isinstance(n, Var):
            grads.append(adjoint[i])
        elif isinstance(n, Call):
            prim = PRIMITIVES[n.op]
            operands = tuple(value[k] for k in kids[i])
            env = dict(zip("abc", operands), out=value[i])
            kink = kink or bool(prim.kink and prim.kink(*operands))
            for j, k in enumerate(kids[i]):
                if has_var[k]:
                    try:
                        local = evaluate(local_rule(n.op, j), env)
                    except DomainError:
                        if prim.singular is None:
                            raise
                        local = _singular(n.op, j, (operands[0], operands[-1], value[i]))
                    adjoint[k] += adjoint[i] * local
    return tuple(Local(name, slot, grads[slot], kink) for slot, name in enumerate(gate.operands)
                 if name not in skip)
