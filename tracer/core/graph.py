"""The graph: :class:`~tracer.core.load.Problem` -> :class:`Graph`.

Checks the computational graph (undefined names, cycles, unreachable nodes, the output)
and fixes the orders of the forward and backward passes.  The graph is a NetworkX
multigraph (one keyed edge per use of a value, so ``a + a`` has two edges from ``a``),
made when something first asks for it: the common case, gates defined after what they
use and one output, needs no graph search, and making the multigraph would be half the
time of this stage on a large graph.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, NamedTuple, Optional

from .errors import SHOWN_PER_KIND, Diagnostic, TracerError, did_you_mean
from .expr import Call, Expr, Var, variables, walk
from .layout_hint import check_layout
from .load import NodeDef, Problem
from .memory import no_cycle_collection
from .tensor_graph import TensorInfo, tensor_info

if TYPE_CHECKING:  # NetworkX is imported where a graph search needs it: it takes longer to
    import networkx as nx  # import than a small problem takes to check and trace

__all__ = ["Gate", "Graph", "build_graph", "is_simple"]


class Gate(NamedTuple):
    """A node that computes: its expression and the names flowing into it.

    ``operands`` lists one entry per edge, in slot order: an edge per use of a name, repeats
    included (``x * x`` and ``a + a + 1`` have two edges from their name), in the order
    the expression is written.  A *simple* gate applies one primitive to names and
    numbers; a gate of several operations has its local derivatives taken symbolically,
    one per use.  A NamedTuple, as the engine's per-node records are:
    immutable and typed, and made several times faster than a frozen dataclass.
    """

    name: str
    expr: Expr
    operands: tuple[str, ...]
    simple: bool
    line: Optional[int] = None


@dataclass(frozen=True)
class Graph:
    """A checked computational graph and the orders of its two passes."""

    problem: Problem
    inputs: tuple[str, ...]
    gates: dict[str, Gate]
    forward_order: tuple[str, ...]
    backward_order: tuple[str, ...]
    output: str
    wrt: tuple[str, ...]
    #: The data inputs (``data:``) and the gates computed from them alone: values given,
    #: never differentiated (no gradient reaches them, no step goes into them).
    constants: frozenset[str] = frozenset()
    # A problem of vectors and matrices: every shape and every edge's rule
    # (tracer.core.tensor_graph); None for a problem of scalars.
    tensor: Optional["TensorInfo"] = None

    @cached_property
    def nx(self) -> nx.MultiDiGraph:
        """The graph as a NetworkX multigraph: nodes with ``kind`` "input" or "gate", and
        an edge keyed by slot for each use of a value."""
        return _multigraph(self.inputs, self.gates)

    def fan_out(self, name: str) -> int:
        """How many edges leave ``name``: how many contributions its gradient sums."""
        return self.nx.out_degree(name)


def is_simple(expr: Expr) -> bool:
    """One primitive applied directly to names and numbers."""
    if not isinstance(expr, Call):
        return False
    for arg in expr.args:  # a loop, not all(...): this runs once per gate
        if isinstance(arg, Call):
            return False
    return True


def build_graph(problem: Problem) -> Graph:
    """Check ``problem`` as a graph; raise :class:`TracerError` listing every mistake."""
    with no_cycle_collection():
        return _build_graph(problem)


def _build_graph(problem: Problem) -> Graph:
    errors: list[Diagnostic] = []

    def error(message: str, line: Optional[int] = None, column: Optional[int] = None) -> None:
        errors.append(Diagnostic(problem.path, message, line, column))

    inputs = tuple(name for name, _ in problem.inputs)
    definitions = list(problem.nodes)
    if problem.expression is not None:
        definitions = _decompose(problem, inputs, error)
    if errors:
        raise TracerError(errors)

    gates: dict[str, Gate] = {}
    input_set = set(inputs)
    for d in definitions:
        if d.name in input_set:
            error(f"the node '{d.name}' has the name of an input: rename the node or the "
                  "input", problem.line(f"nodes.{d.name}") or d.line)
            continue
        simple = is_simple(d.expr)
        names = [a.name for a in d.expr.args if isinstance(a, Var)] if simple else \
            [v.name for v in variables(d.expr)]  # type: ignore[union-attr]
        if not names:
            error(f"the node '{d.name}' uses no input or node: it is a constant; write the "
                  "number where it is used, or make it an input", d.line)
            continue
        # An edge per use, in every gate: a + a and a + a + 1 both have two from a.
        gates[d.name] = Gate(d.name, d.expr, tuple(names), simple, d.line)

    used = set(chain.from_iterable(gate.operands for gate in gates.values()))
    unknown = used.difference(input_set, gates)
    if unknown:  # the messages in the order of the file
        known = input_set | set(gates)
        for gate in gates.values():
            for name in gate.operands:
                if name in unknown:  # a suggestion searches every name: for those shown
                    hint = did_you_mean(name, known) if len(errors) < SHOWN_PER_KIND else ""
                    error(f"the node '{gate.name}' uses '{name}', which is neither an input "
                          f"nor a node{hint}", gate.line)
    if errors:
        raise TracerError(_unique(errors))

    forward = _forward_order(problem, inputs, gates)
    constants = _constants(problem, input_set, gates, forward, error)
    output = _output(problem, input_set, gates, used, error)
    if output is not None and output in constants:
        error(f"the output '{output}' is computed from data alone ({', '.join(problem.data)}): "
              "there is nothing to differentiate; take the parameters out of 'data'",
              problem.line("data"))
    if output is not None:
        for name in _not_leading_to(inputs, gates, used, output):
            if name in gates:
                error(f"the node '{name}' does not lead to the output '{output}': remove it, "
                      "use it, or choose it as output", gates[name].line)
            else:
                error(f"the input '{name}' is not used by any node that leads to the output "
                      f"'{output}': remove it or use it", problem.line(f"inputs.{name}"))
    wrt = _wrt(problem, inputs, gates, error, constants)
    if problem.update is not None:
        _check_params(problem.update.params, "update", "updates", inputs, constants,
                      problem.line("update.params"), error)
    if problem.train is not None:
        _check_params(problem.train.params, "train", "trains", inputs, constants,
                      problem.line("train.params"), error)
    if problem.layout is not None:
        check_layout(problem.layout, inputs, {g.name: g.operands for g in gates.values()},
                     forward, lambda name: problem.line(f"layout.{name}")
                     or problem.line("layout"), error)
    if errors:
        raise TracerError(errors)

    backward = _backward_order(gates)
    tensor = tensor_info(problem, gates, forward, output)  # type: ignore[arg-type]
    return Graph(problem, inputs, gates, forward, backward, output, wrt,  # type: ignore
                 frozenset(constants), tensor)


def _check_params(params: tuple[str, ...], key: str, verb: str, inputs: tuple[str, ...],
                  constants: set[str], line: Optional[int], error) -> None:
    """The parameters gradient descent changes must be inputs, and not data."""
    for name in params:
        if name not in inputs:
            error(f"{key}: '{name}' is not an input; gradient descent {verb} inputs"
                  f"{did_you_mean(name, inputs)}", line)
        elif name in constants:
            error(f"{key}: '{name}' is listed under 'data': data is given, not a parameter "
                  "that gradient descent changes; remove it from one of the two", line)


def _multigraph(inputs: tuple[str, ...], gates: dict[str, Gate]) -> nx.MultiDiGraph:
    import networkx as nx

    g = nx.MultiDiGraph()
    g.add_nodes_from(inputs, kind="input")
    g.add_nodes_from(gates, kind="gate")
    for gate in gates.values():  # add_edge: add_edges_from goes through slow views
        for slot, operand in enumerate(gate.operands):
            g.add_edge(operand, gate.name, key=slot)
    return g


def _forward_order(problem: Problem, inputs: tuple[str, ...], gates: dict[str, Gate]
                   ) -> tuple[str, ...]:
    """Topological order, the earliest defined first; a cycle is an error naming its nodes."""
    defined = set(inputs)
    for gate in gates.values():
        if not defined.issuperset(gate.operands):
            break
        defined.add(gate.name)
    else:
        # Every gate uses only what is defined before it: the lexicographic topological
        # order is then the order of definition, and there is no cycle.
        return tuple(inputs) + tuple(gates)
    import networkx as nx

    g = _multigraph(inputs, gates)
    order = {name: i for i, name in enumerate(chain(inputs, gates))}
    try:
        return tuple(nx.lexicographical_topological_sort(g, key=order.__getitem__))
    except nx.NetworkXUnfeasible:
        cycle = [e[0] for e in nx.find_cycle(g)]
        if len(cycle) > 12:   # the whole loop helps nobody past a dozen names
            cycle = cycle[:6] + [f"... ({len(cycle) - 12} more)"] + cycle[-6:]
        path = " -> ".join(cycle + [cycle[0]])
        raise TracerError([Diagnostic(problem.path, f"the graph has a cycle: {path}; a node "
                                      "cannot depend on itself", gates[cycle[0]].line)]) from None


def _backward_order(gates: dict[str, Gate]) -> tuple[str, ...]:
    """The gates in reverse topological order: a gate is taken once every gate it feeds is
    done, the earliest defined first; this follows one path down before the next, as the
    worked examples do.

    This is ``nx.lexicographical_topological_sort(g.reverse(), key=order)`` restricted to
    the gates (a test checks they agree); written out over the gates' indices because
    NetworkX's reverse view and heap of (key, name) pairs cost ten times as long on large
    graphs.
    """
    names = list(gates)
    index = {name: i for i, name in enumerate(names)}
    feeds = [[index[o] for o in gate.operands if o in index] for gate in gates.values()]
    waiting = [0] * len(names)                 # consumers not yet done, per gate
    for operands in feeds:
        for k in operands:
            waiting[k] += 1
    ready = [i for i, count in enumerate(waiting) if count == 0]   # sorted: a heap
    result = []
    while ready:
        i = heapq.heappop(ready)
        result.append(names[i])
        for k in feeds[i]:
            waiting[k] -= 1
            if not waiting[k]:
                heapq.heappush(ready, k)
    return tuple(result)


def _unique(errors: list[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(errors))


def _not_leading_to(inputs: tuple[str, ...], gates: dict[str, Gate], used: set[str],
                    output: str) -> list[str]:
    """The inputs and nodes from which no path leads to ``output``, in the file's order."""
    # Without cycles every node leads to some sink (a name nothing uses): when the output is
    # the only sink, everything leads to it and there is nothing to search.
    sinks = [name for name in chain(inputs, gates) if name not in used]
    if sinks == [output]:
        return []
    import networkx as nx

    reach = nx.ancestors(_multigraph(inputs, gates), output) | {output}
    return [name for name in chain(inputs, gates) if name not in reach]


def _output(problem: Problem, inputs: set[str], gates: dict, used: set[str], error
            ) -> Optional[str]:
    if problem.output is not None:
        name = problem.output
        if name in gates:
            return name
        line = problem.line("output")
        if name in inputs:
            error(f"output: '{name}' is an input; the output must be a node", line)
        else:
            error(f"output: there is no node '{name}'{did_you_mean(name, gates)}", line)
        return None
    sinks = [n for n in gates if n not in used]
    if len(sinks) == 1:
        return sinks[0]
    if not sinks:  # pragma: no cover - a graph without cycles always has a sink
        error("the graph has no output")
        return None
    shown = ", ".join(sinks[:10]) + (f", ... ({len(sinks)} in all)" if len(sinks) > 10 else "")
    error(f"several nodes are used by no other node ({shown}): set 'output:' to "
          "the one whose gradients the problem asks for, and remove or use the others",
          problem.line("nodes") or problem.line("expression"))
    return None


def _wrt(problem: Problem, inputs: tuple, gates: dict, error,
         constants: frozenset[str] = frozenset()) -> tuple[str, ...]:
    if problem.wrt is None:
        return tuple(name for name in inputs if name not in constants)
    for name in problem.wrt:
        if name not in inputs and name not in gates:
            error(f"wrt: there is no input or node '{name}'"
                  f"{did_you_mean(name, list(inputs) + list(gates))}", problem.line("wrt"))
        elif name in constants:
            what = "is listed under 'data'" if name in inputs else "is computed from data alone"
            error(f"wrt: '{name}' {what}, so it has no gradient: remove it from wrt or "
                  "take it out of data", problem.line("wrt"))
    return tuple(dict.fromkeys(problem.wrt))


def _constants(problem: Problem, inputs: set[str], gates: dict[str, Gate],
               forward: tuple[str, ...], error) -> frozenset[str]:
    """The inputs listed under ``data`` and the gates computed from them alone."""
    if not problem.data:
        return frozenset()
    line = problem.line("data")
    given: set[str] = set()
    for name in problem.data:
        if name in inputs:
            given.add(name)
        elif name in gates:
            error(f"data: '{name}' is a node; data lists inputs whose values are given "
                  "(targets, samples, initial states)", line)
        else:
            error(f"data: there is no input '{name}'{did_you_mean(name, inputs)}", line)
    for name in forward:
        gate = gates.get(name)
        if gate is not None and all(o in given for o in gate.operands):
            given.add(name)
    return frozenset(given)


def _decompose(problem: Problem, inputs: tuple, error) -> list[NodeDef]:
    """``expression: (x1 + x2) * x3`` -> u1: x1 + x2, y: u1 * x3, in evaluation order.

    Operations on numbers alone (``2 * 3``) stay inside the operation that uses them.
    """
    source = problem.expression
    assert source is not None
    output = problem.output or "y"
    if output in inputs:
        error(f"the output name '{output}' is also an input: choose another 'output:'",
              problem.line("output") or source.line)
        return []
    if not isinstance(source.expr, Call):
        error("the expression has no operation: there is nothing to differentiate", source.line)
        return []
    taken = set(inputs) | {output}
    counter = 0
    defs: list[NodeDef] = []

    def fresh() -> str:
        nonlocal counter
        while True:
            counter += 1
            name = f"u{counter}"
            if name not in taken:
                taken.add(name)
                return name

    # Post-order, without recursion: each operation on at least one name becomes a node.
    stack: list[tuple[Expr, bool]] = [(source.expr, False)]
    done: list[Expr] = []
    while stack:
        node, children_done = stack.pop()
        if not isinstance(node, Call):
            done.append(node)
            continue
        if not children_done:
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args))
            continue
        n = len(node.args)
        args = tuple(done[len(done) - n:])
        del done[len(done) - n:]
        call = Call(node.op, args)
        if all(_constant(a) for a in args):
            done.append(call)
            continue
        is_root = not stack
        name = output if is_root else fresh()
        defs.append(NodeDef(name, call, source.text if is_root else "", source.line))
        done.append(Var(name))
    if not defs:
        error("the expression uses no input: there is nothing to differentiate", source.line)
    return defs


def _constant(expr: Expr) -> bool:
    return not any(isinstance(n, Var) for n in walk(expr))
