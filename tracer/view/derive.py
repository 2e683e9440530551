"""The formulas of a graph, derived once and shared by every trace of it.

A gate's local derivatives as formulas (the table's rule with the gate's operands put in,
or SymPy's derivative of a gate of several operations) and the closed forms of the whole
function depend on the graph only, not on the input values: tracing a problem again with
other inputs (a variant per student) reuses them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Optional

from ..core.expr import Call, Expr, ExprError, Var, parse
from ..core.graph import Graph
from ..core.rules import local_formula

if TYPE_CHECKING:  # imported where formulas are derived: the terminal's trace derives none
    from ..notation import sympy as symbolic

__all__ = ["LocalFormula", "Derivation", "derive"]


@dataclass(frozen=True, eq=False)
class LocalFormula:
    """d(gate)/d(operand) as a formula: an expression tree where it is one (always for a
    gate of one operation), and SymPy's derivative for a gate of several operations
    (``symbolic``).  Both are None when the gate is too large to derive symbolically."""

    expr: Optional[Expr]
    symbolic: Optional[symbolic.Derivative] = None


@dataclass(frozen=True, eq=False)
class Derivation:
    """Every gate's local derivatives as formulas (per slot) and the closed forms."""

    locals: Mapping[str, tuple[LocalFormula, ...]]
    closed: Optional[symbolic.ClosedForms]


def derive(graph: Graph, *, closed_forms: bool = True, formulas: bool = True) -> Derivation:
    """The formulas of ``graph``: SymPy derives each shape of gate of several operations
    once; the closed forms are made for small graphs only.  ``formulas=False`` gives none
    at all (every local derivative without a formula, no closed forms), for what shows
    numbers only, such as the terminal's trace: SymPy is then not even imported.  A graph
    of vectors and matrices has its formulas already: its rules (``graph.tensor``), made
    with the graph."""
    if graph.tensor is not None:
        return Derivation({}, None)
    if not formulas:
        none = LocalFormula(None)
        return Derivation({name: (none,) * len(gate.operands)
                           for name, gate in graph.gates.items()}, None)
    locals_: dict[str, tuple[LocalFormula, ...]] = {}
    for name, gate in graph.gates.items():
        if gate.simple:
            call: Call = gate.expr  # type: ignore[assignment]
            locals_[name] = tuple(LocalFormula(local_formula(call, i, name))
                                  for i, arg in enumerate(call.args) if isinstance(arg, Var))
        else:
            locals_[name] = _symbolic_locals(gate.expr, gate.operands)
    closed = None
    if closed_forms:
        from ..notation import sympy as symbolic

        closed = symbolic.closed_forms(
            [(n, graph.gates[n].expr) for n in graph.forward_order if n in graph.gates],
            graph.output, graph.wrt)
    return Derivation(locals_, closed)


def _symbolic_locals(expr: Expr, operands: tuple[str, ...]) -> tuple[LocalFormula, ...]:
    from ..notation import sympy as symbolic

    derived = symbolic.derivatives(expr, operands)
    if derived is None:
        return tuple(LocalFormula(None) for _ in operands)
    result = []
    for d in derived:
        try:
            tree: Optional[Expr] = parse(symbolic.derivative_python(d))
        except ExprError:   # SymPy wrote something the problem language does not read
            tree = None
        result.append(LocalFormula(tree, d))
    return tuple(result)
