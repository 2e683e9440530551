"""The worksheet and answer key of a problem too large to work step by step
(:data:`~tracer.view.solution.MAX_WRITTEN`): its size, the output's value and the first
inputs and gradients, with where the whole trace is (``templates/markdown/overview.md.j2``,
``templates/latex/overview.tex.j2``).

Everything here is bounded whatever the problem's size, so that the site of a problem of a
hundred thousand terms builds in seconds.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..notation.latex import partial, tex_symbol
from ..notation.numbers import fmt_tex
from ..view.solution import MAX_WRITTEN, DocumentSize, Solution, measure
from .mathtex import TexValue

__all__ = ["Overview", "overview", "OVERVIEW_ROWS"]

#: The inputs and gradients an overview lists; the rest are counted.
OVERVIEW_ROWS = 20


@dataclass(frozen=True)
class Overview:
    """What the overview of a problem shows."""

    title: str
    tags: tuple[str, ...]
    size: DocumentSize
    limit: int
    output_symbol: str
    output_value: str
    inputs: tuple[TexValue, ...]
    inputs_more: int           # inputs not listed
    final: tuple[TexValue, ...]
    final_more: int            # gradients not listed


def overview(solution: Solution) -> Overview:
    """The overview of ``solution``."""
    digits = solution.precision
    inputs = solution.inputs[:OVERVIEW_ROWS]
    final = solution.final[:OVERVIEW_ROWS]
    output = tex_symbol(solution.output)
    return Overview(
        title=solution.title, tags=tuple(solution.tags),
        size=solution.size or measure(solution.trace), limit=MAX_WRITTEN, output_symbol=output,
        output_value=fmt_tex(solution.values[solution.output], digits),
        inputs=tuple(TexValue(v.name, tex_symbol(v.name), fmt_tex(v.value, digits))
                     for v in inputs),
        inputs_more=len(solution.inputs) - len(inputs),
        final=tuple(TexValue(f.name, partial(solution.output, f.name), fmt_tex(f.grad, digits))
                    for f in final),
        final_more=len(solution.final) - len(final))
