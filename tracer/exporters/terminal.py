"""The trace as readable text for a terminal (``tracer trace``): forward values, every
backward step and the final gradients, from ``templates/terminal/``."""
from __future__ import annotations

from dataclasses import dataclass

from ..notation.python import expr_values_text, to_python
from ..safety.terminal import for_terminal
from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import Content, Exporter, Options, environment, register

__all__ = ["TerminalExporter", "terminal_text"]


@dataclass(frozen=True)
class TextLine:
    name: str
    formula: str
    substituted: str
    value: float


def terminal_text(solution: Solution) -> str:
    """The worked solution as plain text, with no control character in it (a title is
    checked on load; this holds whatever the text came from)."""
    if is_tensor(solution):     # vectors and matrices: tracer.exporters.tensor_trace
        from .tensor_trace import tensor_terminal_text

        return for_terminal(tensor_terminal_text(solution))  # type: ignore[arg-type]
    values = solution.values
    forward = [TextLine(line.name, to_python(line.expr),
                        expr_values_text(line.expr, values, solution.precision), line.value)
               for line in solution.gates]
    return for_terminal(environment().get_template("terminal/trace.txt.j2").render(
        s=solution, trace=solution.trace, forward=forward))


@register
class TerminalExporter(Exporter):
    name = "terminal"
    order = 90
    site = False

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        return {"trace.txt": terminal_text(solution)}
