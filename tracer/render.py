"""Stage 4: :class:`~tracer.engine.Trace` -> text (terminal, JSON, documents).

All wording and layout lives in ``templates/``; this module only prepares values and
formulas for them.  Jinja runs with ``StrictUndefined``: a misspelt field fails loudly.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from .engine import Trace
from .expr import Const, Var, fold, format_const, tex_symbol, to_python, to_tex
from .numbers import fmt, fmt_tex

__all__ = ["environment", "render_terminal", "to_json", "TEMPLATES"]

#: The templates folder (top level of the project).
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """The Jinja environment every document is rendered with."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(num=fmt, num_tex=fmt_tex, sym=tex_symbol)
    return env


# ----------------------------------------------------------------------------- helpers

def expr_text(expr) -> str:
    """An expression as plain text (Python syntax), for the terminal."""
    return to_python(expr)


def expr_values_text(expr, values: dict[str, float], digits: int) -> str:
    """An expression with every name replaced by its value, as plain text."""
    def leaf(node):
        if isinstance(node, Var):
            v = values[node.name]
            return fmt(v, digits), (30 if v < 0 else 100)
        return format_const(node.value), (30 if node.value < 0 else 100)

    return to_python(expr, leaf)


def expr_values_tex(expr, values: dict[str, float], digits: int) -> str:
    """An expression in LaTeX with every name replaced by its value: ``-7 + 2``."""
    def leaf(node):
        v = values[node.name] if isinstance(node, Var) else node.value
        return fmt_tex(v, digits), (15 if v < 0 else 100)

    return to_tex(expr, leaf)


# ----------------------------------------------------------------------------- terminal / JSON

def render_terminal(trace: Trace) -> str:
    """The trace as readable text: forward table, backward steps, final gradients."""
    values = trace.values
    d = trace.precision
    forward = []
    for n in trace.nodes:
        if n.kind == "gate":
            forward.append(dict(name=n.name, formula=expr_text(n.expr),
                                substituted=expr_values_text(n.expr, values, d), value=n.value))
    return environment().get_template("terminal/trace.txt.j2").render(
        trace=trace, forward=forward)


def to_json(trace: Trace) -> str:
    """The trace as JSON (the format documented in the README)."""
    return json.dumps(as_dict(trace), indent=2) + "\n"


def as_dict(trace: Trace) -> dict[str, Any]:
    """The trace as plain JSON-ready data."""
    return {
        "id": trace.id,
        "title": trace.title,
        "output": trace.output,
        "inputs": list(trace.inputs),
        "wrt": list(trace.wrt),
        "values": trace.values,
        "gradients": trace.gradients,
        "nodes": [{
            "name": n.name,
            "kind": n.kind,
            "expression": None if n.expr is None else expr_text(n.expr),
            "tex": None if n.expr is None else to_tex(n.expr),
            "op": n.op,
            "operands": list(n.operands),
            "value": n.value,
            "grad": n.grad,
            "local": [{"operand": l.operand, "slot": l.slot, "tex": l.tex, "value": l.value}
                      for l in n.locals],
        } for n in trace.nodes],
        "backward": [{
            "node": s.node,
            "from": s.source,
            "slot": s.slot,
            "upstream": s.upstream,
            "local": s.local,
            "local_tex": s.local_tex,
            "contribution": s.contribution,
            "path": s.path,
        } for s in trace.backward],
        "sums": [{"node": a.node, "from": list(a.sources),
                  "contributions": list(a.contributions), "grad": a.grad} for a in trace.sums],
        "update": None if trace.update is None else {
            "learning_rate": trace.update.learning_rate,
            "params": [{"name": p.name, "old": p.old, "grad": p.grad, "new": p.new}
                       for p in trace.update.params],
            "values": dict(trace.update.values),
            "output_before": trace.update.output_before,
            "output_after": trace.update.output_after,
        },
        "rounding": trace.rounding,
        "function_tex": trace.function_tex,
        "gradient_tex": dict(trace.gradient_tex),
        "numeric": dict(trace.numeric),
    }
