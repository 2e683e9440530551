"""The trace of a problem of vectors and matrices for the command line: JSON (the keys of
a problem of scalars, every number a nested list row by row, and the shapes) and readable
text (``templates/terminal/tensor_trace.txt.j2``).  The JSON and terminal exporters hand
such a problem to this module.

In the JSON, a backward step's ``local`` is the Jacobian d(from)/d(node), of shape
``shape(from) + shape(node)`` (null when it has more than 10 000 entries), and ``local_tex``
its rule in matrix form over the upstream gradient ``g``.
"""
from __future__ import annotations

from typing import Any, Optional

from ..core.tensor import jacobian
from ..core.tensor_rules import UPSTREAM
from ..notation.numbers import fmt
from ..notation.tensor_code import NUMPY, to_code
from ..notation.tensor_latex import tensor_tex
from ..view.tensor_solution import TensorSolution
from .base import environment
from .tensor_tex import rule_tex

__all__ = ["tensor_as_dict", "tensor_terminal_text", "array_text"]


def _list(value) -> Any:
    return None if value is None else value.tolist()


def tensor_as_dict(solution: TensorSolution) -> dict[str, Any]:
    """The trace as plain JSON-ready data."""
    trace = solution.trace
    shapes = dict(solution.shapes)
    values = trace.values
    rules = {(line.name, r.slot): r.rule for line in solution.gates for r in line.rules}
    update = trace.update

    def rule_env(shape_of: str) -> dict:
        return dict(shapes, **{UPSTREAM: shapes[shape_of]})

    def local(source: str, operand: str, rule) -> Optional[list]:
        return _list(jacobian(rule, values, UPSTREAM, shapes[source], shapes[operand]))

    return {
        "id": solution.id,
        "title": solution.title,
        "output": trace.output,
        "inputs": list(trace.inputs),
        "wrt": list(trace.wrt),
        "shapes": {n: list(s) for n, s in shapes.items()},
        "values": {n: v.tolist() for n, v in values.items()},
        "gradients": {n: g.tolist() for n, g in trace.gradients.items()},
        "nodes": [{
            "name": n.name,
            "kind": n.kind,
            "shape": list(n.shape),
            "expression": None if n.expr is None else to_code(n.expr, NUMPY, lambda x: x),
            "tex": None if n.expr is None else tensor_tex(n.expr, shapes),
            "op": n.op,
            "operands": list(n.operands),
            "value": n.value.tolist(),
            "grad": n.grad.tolist(),
            "local": [{"operand": r.operand, "slot": r.slot,
                       "tex": rule_tex(r.rule, rule_env(n.name)),
                       "value": local(n.name, r.operand, r.rule)} for r in n.rules],
        } for n in trace.nodes],
        "backward": [{
            "node": s.node,
            "from": s.source,
            "slot": s.slot,
            "upstream": s.upstream.tolist(),
            "local": local(s.source, s.node, s.rule),
            "local_tex": rule_tex(rules[(s.source, s.slot)], rule_env(s.source)),
            "contribution": s.contribution.tolist(),
            "path": s.path,
        } for s in trace.backward],
        "sums": [{"node": a.node, "from": list(a.sources),
                  "contributions": [c.tolist() for c in a.contributions],
                  "grad": a.grad.tolist()} for a in trace.sums],
        "update": None if update is None else {
            "learning_rate": update.learning_rate,
            "params": [{"name": p.name, "old": p.old.tolist(), "grad": p.grad.tolist(),
                        "new": p.new.tolist()} for p in update.params],
            "values": {n: v.tolist() for n, v in update.values},
            "output_before": update.output_before,
            "output_after": update.output_after,
        },
        "rounding": trace.rounding,
        "function_tex": None,
        "gradient_tex": {},
        "numeric": {n: v.tolist() for n, v in trace.numeric},
    }


def array_text(value, digits: int) -> str:
    """A value as text, row by row: ``[[0.1, -0.2], [0.3, 0.4]]``."""
    data = value.tolist() if hasattr(value, "tolist") else value
    if isinstance(data, list):
        return "[" + ", ".join(array_text(v, digits) for v in data) + "]"
    return fmt(float(data), digits)


def tensor_terminal_text(solution: TensorSolution) -> str:
    """The worked solution as plain text."""
    names = {line.name: line for line in solution.gates}

    def code(expr, source: Optional[str] = None) -> str:
        return to_code(expr, NUMPY, lambda n: f"d{source}" if n == UPSTREAM else n)

    env = environment()
    return env.get_template("terminal/tensor_trace.txt.j2").render(
        s=solution, trace=solution.trace, code=code, lines=names, array=array_text)
