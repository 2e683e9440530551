"""The trace as readable text for a terminal (``tracer trace``): forward values, every
backward step and the final gradients.

The wording is in ``templates/terminal/trace.txt``: blocks of Python format strings that
this module puts together.  Not Jinja, as the other templates are: `tracer trace` on a
small problem is over in a tenth of a second, and importing Jinja alone took a third of it.
"""
from __future__ import annotations

from functools import lru_cache

from ..notation.numbers import fmt, fmt_factor
from ..notation.python import expr_values_text, to_python
from ..safety.terminal import for_terminal
from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import TEMPLATES, Content, Exporter, Options, register

__all__ = ["TerminalExporter", "terminal_text"]

_PARTS = ("path", "kink", "term", "plus", "data", "momentum", "clip")


@lru_cache(maxsize=None)
def blocks() -> dict[str, str]:
    """The blocks of ``templates/terminal/trace.txt`` by name."""
    text = (TEMPLATES / "terminal" / "trace.txt").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for block in text.rstrip("\n").split("\n@@ ")[1:]:
        name, _, body = block.partition("\n")
        found[name.strip()] = body if name.strip() in _PARTS else body + "\n"
    return found


def terminal_text(solution: Solution) -> str:
    """The worked solution as plain text, with no control character in it (a title is
    checked on load; this holds whatever the text came from)."""
    if is_tensor(solution):     # vectors and matrices: tracer.exporters.tensor_trace
        from .tensor_trace import tensor_terminal_text

        return for_terminal(tensor_terminal_text(solution))  # type: ignore[arg-type]
    b = blocks()
    d = solution.precision
    trace = solution.trace
    out = trace.output
    values = solution.values
    lines = [b["title"].format(title=solution.title, rule="=" * len(solution.title))]
    if trace.rounding is not None:
        lines.append(b["rounding"].format(rounding=trace.rounding))
    lines.append(b["forward"])
    lines += [b["input"].format(name=v.name, value=fmt(v.value, d)
                                + (b["data"] if v.name in solution.data else ""))
              for v in solution.inputs]
    for line in solution.gates:
        value = fmt(line.value, d)
        substituted = expr_values_text(line.expr, values, d)
        lines.append(b["gate_plain" if substituted == value else "gate"].format(
            name=line.name, formula=to_python(line.expr), substituted=substituted,
            value=value))
    lines.append(b["backward"].format(output=out))
    for step in solution.steps:
        lines.append(b["step"].format(
            output=out, path=b["path"].format(path=step.path) if step.path else "",
            node=step.node, source=step.source, upstream=fmt(step.upstream, d),
            local=fmt_factor(step.local.value, d), contribution=fmt(step.contribution, d),
            kink=b["kink"] if step.kink else ""))
        if step.sum is not None:
            terms = b["plus"].join(b["term"].format(index=i, value=fmt(c, d))
                                   for i, c in enumerate(step.sum.contributions, 1))
            lines.append(b["sum"].format(output=out, node=step.sum.node, terms=terms,
                                         grad=fmt(step.sum.grad, d)))
    lines.append(b["gradients"])
    gradients = solution.gradients
    lines += [b["gradient"].format(output=out, name=name, grad=fmt(gradients[name], d))
              for name in trace.wrt]
    update = trace.update
    if update is not None:
        rate = fmt(update.learning_rate, d)
        lines.append(b["update"].format(rate=rate))
        lines += [b["param"].format(name=p.name, old=fmt(p.old, d), rate=rate,
                                    grad=fmt_factor(p.grad, d), new=fmt(p.new, d))
                  for p in update.params]
        lines.append(b["update_output"].format(output=out, before=fmt(update.output_before, d),
                                               after=fmt(update.output_after, d)))
    if trace.training is not None:
        lines += _training(b, trace.training, out, d)
    return for_terminal("".join(lines))



def _training(b: dict[str, str], tr, out: str, d: int) -> list[str]:
    """The table of every training step: the loss, the parameters and their gradients."""
    momentum = b["momentum"].format(momentum=fmt(tr.momentum, d)) if tr.momentum else ""
    clip = b["clip"].format(clip=fmt(tr.clip, d)) if tr.clip is not None else ""
    header = f"{out:<12}" + "".join(f"{p:<12}" for p in tr.params) + \
        "".join(f"{'d' + out + '/d' + p:<12}" for p in tr.params)
    lines = [b["training"].format(steps=len(tr.rows) - 1, rate=fmt(tr.learning_rate, d),
                                  momentum=momentum, clip=clip, cells=header)]
    for r in tr.rows:
        cells = f"{fmt(r.loss, d):<12}" + "".join(f"{fmt(v, d):<12}" for v in r.params) + \
            "".join(f"{fmt(g, d):<12}" for g in r.grads)
        lines.append(b["training_row"].format(step=r.step, cells=cells))
    return lines

@register
class TerminalExporter(Exporter):
    name = "terminal"
    order = 90
    site = False

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        return {"trace.txt": terminal_text(solution)}
