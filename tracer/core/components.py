"""The component view of a problem of vectors and matrices: the same function as a graph of
scalars, traced by the scalar engine as any problem is.

Every entry of a vector or matrix input becomes an input of its own (``W1`` is 2x4: ``W1_1_1``
... ``W1_2_4``; ``x`` has 4 entries: ``x_1`` ... ``x_4``, counted from 1 as in the maths).
Every node becomes, as the problem's ``components:`` says, one gate per entry (``entries``:
``z1_1 = W1_1_1 x_1 + W1_1_2 x_2 + W1_1_3 x_3 + W1_1_4 x_4 + b1_1``, a row of the layer) or
one gate per scalar operation (``operations``: each product and each sum its own gate, named
``u1``, ``u2``, ... as ``expression:`` names them).  Every gradient of the component view
is then an entry of the layer's gradient: :class:`ComponentView` says which.

Imports only the rest of core.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from functools import reduce
from typing import Callable, Mapping, Optional

from .expr import Call, Const, Expr, Var, walk
from .graph import Graph
from .layout_hint import LayoutHint
from .load import NodeDef, Problem, Update
from .primitives import PRIMITIVES
from .tensor_ops import Shape
from .tensor_rules import infer_shape

__all__ = ["ComponentView", "component_view", "component_name", "entries"]

Index = tuple[int, ...]


@dataclass(frozen=True, eq=False)
class ComponentView:
    """The scalar problem, and for each name of the problem of vectors the scalar name of
    each of its entries (row-major; a scalar's one entry has the index ``()``)."""

    problem: Problem
    names: Mapping[str, tuple[tuple[Index, str], ...]]

    def name(self, tensor: str, index: Index) -> str:
        return dict(self.names[tensor])[index]


def entries(shape: Shape) -> list[Index]:
    """The indices of a shape, row by row."""
    return list(itertools.product(*(range(n) for n in shape)))


def component_name(name: str, index: Index) -> str:
    """``x`` (1,) -> ``x_2``; ``W1`` (0, 3) -> ``W1_1_4``: indices counted from 1."""
    return "_".join([name] + [str(i + 1) for i in index])


def component_view(graph: Graph, inputs: Optional[Mapping] = None) -> Optional[ComponentView]:
    """The component view of a problem of vectors and matrices, or None (a problem of
    scalars, or ``components: none``); ``inputs`` gives other values (a variant), as
    :func:`~tracer.core.engine.trace` takes them."""
    problem, info = graph.problem, graph.tensor
    if info is None or problem.components == "none":
        return None
    shapes = info.shapes
    taken = set(shapes)
    names: dict[str, tuple[tuple[Index, str], ...]] = {}
    for name in graph.forward_order:
        chosen = []
        for index in entries(shapes[name]):
            scalar = component_name(name, index)
            while index and scalar in taken:        # a clash with a name of the problem
                scalar += "_"
            taken.add(scalar)
            chosen.append((index, scalar))
        names[name] = tuple(chosen)

    def var(name: str, index: Index) -> Var:
        return Var(dict(names[name])[index])

    values = dict(problem.inputs if inputs is None else inputs)
    inputs = tuple((scalar, _entry_value(values[name], index))
                   for name in graph.inputs for index, scalar in names[name])
    expand = _Expander(shapes, var)
    nodes: list[NodeDef] = []
    fresh = _Fresh(taken)
    for name, gate in graph.gates.items():
        for index, scalar in names[name]:
            expr = expand.entry(gate.expr, index)
            if problem.components == "operations":
                nodes.extend(_split(scalar, expr, gate.line, fresh))
            else:
                nodes.append(NodeDef(scalar, expr, "", gate.line))

    def scalars(selected) -> tuple[str, ...]:
        return tuple(s for n in selected for _, s in names[n])

    update = problem.update and Update(problem.update.learning_rate,
                                       scalars(problem.update.params))
    scalar_problem = replace(
        problem, inputs=inputs, nodes=tuple(nodes), expression=None, statement="",
        output=graph.output, wrt=scalars(graph.wrt), update=update,
        data=scalars(problem.data), lines={},
        # Each name's column holds its components, in order.
        layout=problem.layout and LayoutHint(tuple(scalars(c) for c in problem.layout.columns)))
    return ComponentView(scalar_problem, names)


def _entry_value(value, index: Index) -> float:
    for i in index:
        value = value[i]
    return float(value)


class _Fresh:
    """Names u1, u2, ... for the gates of single operations, skipping names in use."""

    def __init__(self, taken: set[str]):
        self.taken, self.count = taken, 0

    def __call__(self) -> str:
        while True:
            self.count += 1
            name = f"u{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def _split(name: str, expr: Expr, line: Optional[int], fresh: _Fresh) -> list[NodeDef]:
    """One gate per operation of ``expr`` (operations on numbers alone stay inside), the
    last one named ``name``."""
    defs: list[NodeDef] = []

    def visit(node: Expr, root: bool) -> Expr:
        if not isinstance(node, Call):
            return node
        args = tuple(visit(a, False) for a in node.args)
        call = Call(node.op, args)
        if not any(isinstance(n, Var) for n in walk(call)):
            return call
        gate = name if root else fresh()
        defs.append(NodeDef(gate, call, "", line))
        return Var(gate)

    top = visit(expr, True)
    if not defs or defs[-1].name != name:     # a name alone: the entry is a copy of it
        defs.append(NodeDef(name, Call("mul", (Const(1.0), top)), "", line))
    return defs


def _total(terms: list[Expr]) -> Expr:
    return reduce(lambda a, b: Call("add", (a, b)), terms)


class _Expander:
    """An entry of an expression of vectors and matrices as an expression of scalars."""

    def __init__(self, shapes: Mapping[str, Shape], var: Callable[[str, Index], Var]):
        self.shapes, self.var = shapes, var

    def shape(self, expr: Expr) -> Shape:
        return infer_shape(expr, self.shapes)

    def entry(self, expr: Expr, index: Index) -> Expr:
        if isinstance(expr, Const):
            return expr
        if isinstance(expr, Var):
            return self.var(expr.name, _fit(index, self.shapes[expr.name]))
        args = expr.args
        if expr.op in PRIMITIVES:
            return Call(expr.op, tuple(self.entry(a, _fit(index, self.shape(a)))
                                       for a in args))
        return getattr(self, "_" + expr.op)(index, *args)

    def _all(self, expr: Expr) -> list[Expr]:
        return [self.entry(expr, i) for i in entries(self.shape(expr))]

    def _matmul(self, index: Index, a: Expr, b: Expr) -> Expr:
        sa, sb = self.shape(a), self.shape(b)
        rows, cols = index[:len(sa) - 1], index[len(sa) - 1:]
        return _total([Call("mul", (self.entry(a, rows + (k,)), self.entry(b, (k,) + cols)))
                     for k in range(sa[-1])])

    def _transpose(self, index: Index, a: Expr) -> Expr:
        return self.entry(a, tuple(reversed(index)))

    def _sum(self, index: Index, a: Expr) -> Expr:
        return _total(self._all(a))

    def _mean(self, index: Index, a: Expr) -> Expr:
        return Call("div", (_total(self._all(a)), Const(float(len(entries(self.shape(a)))))))

    def _dot(self, index: Index, a: Expr, b: Expr) -> Expr:
        return _total([Call("mul", (x, y)) for x, y in zip(self._all(a), self._all(b))])

    def _outer(self, index: Index, a: Expr, b: Expr) -> Expr:
        return Call("mul", (self.entry(a, index[:1]), self.entry(b, index[1:])))

    def _exps(self, a: Expr) -> Expr:
        return _total([Call("exp", (x,)) for x in self._all(a)])

    def _softmax(self, index: Index, a: Expr) -> Expr:
        return Call("div", (Call("exp", (self.entry(a, index),)), self._exps(a)))

    def _log_softmax(self, index: Index, a: Expr) -> Expr:
        return Call("sub", (self.entry(a, index), Call("log", (self._exps(a),))))

    def _mse(self, index: Index, a: Expr, b: Expr) -> Expr:
        full = entries(self.shape(Call("sub", (a, b))))
        terms = [Call("pow", (Call("sub", (self.entry(a, _fit(i, self.shape(a))),
                                           self.entry(b, _fit(i, self.shape(b))))),
                              Const(2.0))) for i in full]
        return Call("div", (_total(terms), Const(float(len(full)))))

    def _cross_entropy(self, index: Index, a: Expr, k: Expr) -> Expr:
        return Call("sub", (Call("log", (self._exps(a),)),
                            self.entry(a, (int(k.value),))))  # type: ignore[union-attr]

    def _ones(self, index: Index, a: Expr) -> Expr:
        return Const(1.0)

    def _sum_rows(self, index: Index, a: Expr) -> Expr:
        return _total([self.entry(a, (i,) + index) for i in range(self.shape(a)[0])])

    def _onehot(self, index: Index, k: Expr, a: Expr) -> Expr:
        return Const(1.0 if index == (int(k.value),) else 0.0)  # type: ignore[union-attr]


def _fit(index: Index, shape: Shape) -> Index:
    """The entry of an operand of ``shape`` that entry ``index`` of a broadcast result reads."""
    return index[len(index) - len(shape):] if shape else ()
