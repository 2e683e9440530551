"""The trace as JSON (``tracer trace --json``; the keys are documented in the README)."""
from __future__ import annotations

import json
from typing import Any

from ..notation import sympy as symbolic
from ..notation.latex import to_tex
from ..notation.python import to_python
from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import Content, Exporter, Options, register
from .mathtex import local_formula_tex

__all__ = ["JsonExporter", "to_json", "as_dict"]


def to_json(solution: Solution) -> str:
    """The trace as JSON text."""
    return json.dumps(as_dict(solution), indent=2) + "\n"


def as_dict(solution: Solution) -> dict[str, Any]:
    """The trace as plain JSON-ready data."""
    if is_tensor(solution):     # vectors and matrices: tracer.exporters.tensor_trace
        from .tensor_trace import tensor_as_dict

        return tensor_as_dict(solution)  # type: ignore[arg-type]
    trace = solution.trace
    local_tex = {line.name: {l.slot: local_formula_tex(l) for l in line.locals}
                 for line in solution.gates}
    given = trace.constants
    update = trace.update
    return {
        "id": solution.id,
        "title": solution.title,
        "output": trace.output,
        "inputs": list(trace.inputs),
        "wrt": list(trace.wrt),
        "values": trace.values,
        "gradients": {name: None if name in given else grad
                      for name, grad in trace.gradients.items()},
        "data": list(solution.data),
        "nodes": [{
            "name": n.name,
            "kind": n.kind,
            "expression": None if n.expr is None else to_python(n.expr),
            "tex": None if n.expr is None else to_tex(n.expr),
            "op": n.op,
            "operands": list(n.operands),
            "value": n.value,
            "grad": None if n.name in given else n.grad,
            "local": [{"operand": l.operand, "slot": l.slot, "tex": local_tex[n.name][l.slot],
                       "value": l.value} for l in n.locals],
        } for n in trace.nodes],
        "backward": [{
            "node": s.node,
            "from": s.source,
            "slot": s.slot,
            "upstream": s.upstream,
            "local": s.local,
            "local_tex": local_tex[s.source][s.slot],
            "contribution": s.contribution,
            "path": s.path,
        } for s in trace.backward],
        "sums": [{"node": a.node, "from": list(a.sources),
                  "contributions": list(a.contributions), "grad": a.grad} for a in trace.sums],
        "update": None if update is None else {
            "learning_rate": update.learning_rate,
            "params": [{"name": p.name, "old": p.old, "grad": p.grad, "new": p.new}
                       for p in update.params],
            "values": dict(update.values),
            "output_before": update.output_before,
            "output_after": update.output_after,
        },
        "rounding": trace.rounding,
        "function_tex": None if solution.function is None
        else symbolic.latex(solution.function, solution.closed_names),
        "gradient_tex": {c.name: symbolic.latex(c.formula, solution.closed_names)
                         for c in solution.closed},
        "numeric": dict(trace.numeric),
        "training": None if trace.training is None else {
            "learning_rate": trace.training.learning_rate,
            "momentum": trace.training.momentum,
            "clip": trace.training.clip,
            "params": list(trace.training.params),
            "steps": [{"step": r.step, "params": list(r.params), "loss": r.loss,
                       "grads": list(r.grads), "used": list(r.used)}
                      for r in trace.training.rows],
        },
    }


@register
class JsonExporter(Exporter):
    name = "json"
    order = 91
    site = False

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        return {"trace.json": to_json(solution)}
