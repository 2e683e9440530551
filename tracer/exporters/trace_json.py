"""The trace as JSON (``tracer trace --json``; the keys are documented in the README).

The text is made a few records at a time, each record (a node, a backward step, a sum) one
line of compact JSON written by orjson, so that the command line can write it out as it
goes: a 100k-node trace is some 60 MB of JSON, and building it as one object first took
more memory than the trace itself and longer than tracing.  A trace of a graph is written
without its worked solution (:func:`graph_json`): the texts of the gates of one operation
are printed once per shape (:mod:`tracer.notation.forms`), and SymPy is asked only for the
gates of several operations and the closed forms of small graphs.
"""
from __future__ import annotations

from typing import Callable, Iterator, Mapping, Optional, Sequence

import orjson

from ..core.engine import Trace
from ..core.graph import Graph
from ..notation import sympy as symbolic
from ..notation.forms import GateText, GateTexts
from ..notation.latex import to_tex
from ..notation.python import to_python
from ..view.derive import LocalFormula, derive
from ..view.solution import Solution, solve
from ..view.tensor_solution import is_tensor
from .base import Content, Exporter, Options, register
from .mathtex import formula_tex

__all__ = ["JsonExporter", "to_json", "graph_json", "json_chunks"]

#: The local derivatives' formulas of a gate of several operations, by its name.
Formulas = Callable[[str], Mapping[int, LocalFormula]]
#: Records per chunk of text.
_BATCH = 2000
_dumps = orjson.dumps


def to_json(solution: Solution) -> str:
    """The trace of a worked solution as JSON text."""
    if is_tensor(solution):     # vectors and matrices: tracer.exporters.tensor_trace
        from .tensor_trace import tensor_as_dict

        return _dumps(tensor_as_dict(solution), option=orjson.OPT_INDENT_2  # type: ignore
                      ).decode("utf-8") + "\n"
    # by slot: data operands have no local derivative in the worked solution
    formulas = {line.name: {l.slot: l.formula for l in line.locals} for line in solution.gates}
    names = solution.closed_names
    function = None if solution.function is None else symbolic.latex(solution.function, names)
    gradients = {c.name: symbolic.latex(c.formula, names) for c in solution.closed}
    return b"".join(json_chunks(solution.id, solution.title, solution.trace,
                                formulas.__getitem__, function, gradients)).decode("utf-8")


def graph_json(graph: Graph, trace: Trace) -> Iterator[bytes]:
    """The JSON of ``trace``, a trace of ``graph``, in chunks of UTF-8 text."""
    if graph.tensor is not None:   # a layer's JSON is made from its worked solution
        return iter([to_json(solve(graph, trace)).encode("utf-8")])
    derivation = None
    if any(not gate.simple for gate in graph.gates.values()) or \
            len(graph.gates) <= symbolic.MAX_CLOSED_FORM_OPS:
        derivation = derive(graph)   # SymPy: gates of several operations, closed forms
    function, gradients = None, {}
    closed = derivation.closed if derivation is not None else None
    if closed is not None:
        function = None if closed.function is None else symbolic.latex(closed.function,
                                                                       closed.names)
        gradients = {name: symbolic.latex(f, closed.names) for name, f in closed.gradients}
    formulas: Formulas = (lambda name: {}) if derivation is None \
        else (lambda name: dict(enumerate(derivation.locals[name])))
    problem = graph.problem
    return json_chunks(problem.id, problem.title, trace, formulas, function, gradients)


def json_chunks(id: str, title: str, trace: Trace, formulas: Formulas,
                function_tex: Optional[str], gradient_tex: Mapping[str, str]
                ) -> Iterator[bytes]:
    """The JSON object of one trace, in chunks: each key on a line of its own, and the
    members of ``values``, ``gradients``, ``nodes``, ``backward`` and ``sums`` one a line."""
    yield b'{\n  "id": ' + _dumps(id) + b',\n  "title": ' + _dumps(title) \
        + b',\n  "output": ' + _dumps(trace.output) + b',\n  "inputs": ' \
        + _dumps(trace.inputs) + b',\n  "wrt": ' + _dumps(trace.wrt) + b",\n"
    given = trace.constants      # data, and what is computed from it alone: no gradient
    yield b'  "values": ' + _mapping(trace.values) + b",\n"
    yield b'  "gradients": ' + _mapping({name: None if name in given else grad
                                         for name, grad in trace.gradients.items()}) + b",\n"
    yield b'  "data": ' + _dumps([n for n in trace.inputs if n in given]) + b",\n"
    local_tex: dict[str, Mapping[int, str]] = {}
    yield b'  "nodes": '
    yield from _records(_nodes(trace, formulas, local_tex, given))
    yield b',\n  "backward": '
    yield from _records({
        "node": s.node, "from": s.source, "slot": s.slot, "upstream": s.upstream,
        "local": s.local, "local_tex": local_tex[s.source][s.slot],
        "contribution": s.contribution, "path": s.path} for s in trace.backward)
    yield b',\n  "sums": '
    yield from _records({"node": a.node, "from": a.sources, "contributions": a.contributions,
                         "grad": a.grad} for a in trace.sums)
    update = trace.update
    yield b',\n  "update": ' + _dumps(None if update is None else {
        "learning_rate": update.learning_rate,
        "params": [{"name": p.name, "old": p.old, "grad": p.grad, "new": p.new}
                   for p in update.params],
        "values": dict(update.values),
        "output_before": update.output_before,
        "output_after": update.output_after,
    }) + b',\n  "rounding": ' + _dumps(trace.rounding) + b',\n  "function_tex": ' \
        + _dumps(function_tex) + b',\n  "gradient_tex": ' + _mapping(gradient_tex) \
        + b',\n  "numeric": ' + _mapping(dict(trace.numeric)) + b',\n  "one_sided": ' \
        + _mapping({n: {"left": left, "right": right} for n, left, right in trace.one_sided}) \
        + b',\n  "training": ' \
        + _dumps(_training(trace)) + b"\n}\n"


def _training(trace: Trace) -> Optional[dict]:
    training = trace.training
    if training is None:
        return None
    return {"learning_rate": training.learning_rate, "momentum": training.momentum,
            "clip": training.clip, "params": list(training.params),
            "steps": [{"step": r.step, "params": list(r.params), "loss": r.loss,
                       "grads": list(r.grads), "used": list(r.used)} for r in training.rows]}


def _nodes(trace: Trace, formulas: Formulas, local_tex: dict[str, Mapping[int, str]],
           given: frozenset[str]) -> Iterator[dict]:
    texts = GateTexts(trace.values)
    for n in trace.nodes:
        grad = None if n.name in given else n.grad
        if n.expr is None:
            yield {"name": n.name, "kind": n.kind, "expression": None, "tex": None, "op": None,
                   "operands": [], "value": n.value, "grad": grad, "local": []}
            continue
        if n.op is not None:
            text = texts(n.expr, n.name)  # type: ignore[arg-type]
        else:
            text = GateText(to_python(n.expr), to_tex(n.expr),
                            {slot: formula_tex(f) for slot, f in formulas(n.name).items()})
        local_tex[n.name] = tex = text.local_tex
        yield {"name": n.name, "kind": n.kind, "expression": text.python, "tex": text.tex,
               "op": n.op, "operands": n.operands, "value": n.value, "grad": grad,
               "local": [{"operand": l.operand, "slot": l.slot, "tex": tex[l.slot],
                          "value": l.value} for l in n.locals]}


def _mapping(data: Mapping) -> bytes:
    """A JSON object, a member a line (or ``{}``)."""
    if not data:
        return b"{}"
    return _dumps(data, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n  ")


def _records(records) -> Iterator[bytes]:
    """A JSON list, a record a line, in chunks of :data:`_BATCH` records."""
    batch: list[bytes] = []
    started = False
    for record in records:
        batch.append(_dumps(record))
        if len(batch) == _BATCH:
            yield (b",\n    " if started else b"[\n    ") + b",\n    ".join(batch)
            started, batch = True, []
    if batch:
        yield (b",\n    " if started else b"[\n    ") + b",\n    ".join(batch)
        started = True
    yield b"\n  ]" if started else b"[]"


@register
class JsonExporter(Exporter):
    name = "json"
    order = 91
    site = False

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        return {"trace.json": to_json(solution)}
