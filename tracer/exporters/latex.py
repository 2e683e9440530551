"""The printed documents of a problem: ``worksheet.tex`` and ``answers.tex`` (compiled to
PDF by the site when pdflatex is installed), from ``templates/latex/``."""
from __future__ import annotations

from dataclasses import replace

from ..safety.latex import tex_statement
from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import (Content, Download, Exporter, Options, context, document_environment,
                   has_figures, register, shared, written_out)
from .checking import note
from .code import generated_code
from .deeptex import deep_tex
from .lines import wrap_tex
from .mathtex import TexSolution, tex_solution
from .overview import overview
from .printfit import MIN_TEXT_PT, Placement, breakable, figure_size, placement

__all__ = ["LatexExporter", "TEX_DOCUMENTS"]

#: The documents that become PDFs.
TEX_DOCUMENTS = ("worksheet.tex", "answers.tex")


@register
class LatexExporter(Exporter):
    name = "latex"
    order = 20
    downloads = (Download("pdf", "worksheet", "worksheet.pdf"),
                 Download("pdf", "answers", "answers.pdf"),
                 Download("latex", "worksheet", "worksheet.tex"),
                 Download("latex", "answers", "answers.tex"))

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        if is_tensor(solution):     # vectors and matrices: tracer.exporters.tensor_documents
            from .tensor_documents import tensor_latex

            return {name: wrap_tex(text)  # type: ignore[arg-type]
                    for name, text in tensor_latex(solution, options).items()}
        env = document_environment()
        if not written_out(solution):
            names = context(shared(solution, overview), course=options.course,
                            note=note(solution, options.seed, options.number, options.student),
                            statement_tex=tex_statement(solution.statement))
            return {name: wrap_tex(env.get_template("latex/overview.tex.j2").render(
                names, key=name == "answers.tex")) for name in TEX_DOCUMENTS}
        names = context(printable(shared(solution, tex_solution)),
                        statement_tex=tex_statement(solution.statement),
                        code=shared(solution, generated_code), course=options.course,
                        deep=shared(solution, deep_tex),
                        note=note(solution, options.seed, options.number, options.student),
                        prints=shared(solution, placements), min_text=MIN_TEXT_PT)
        return {name: wrap_tex(env.get_template(f"latex/{name}.j2").render(names))
                for name in TEX_DOCUMENTS}


#: The graph's pictures the documents print (``<name>.tikz.tex``).
PRINTED_FIGURES = ("graph", "values", "gradients")


def placements(solution: Solution) -> dict[str, Placement]:
    """How each of the graph's pictures is printed (:func:`.printfit.placement`), by name;
    a picture with no TikZ source (too large for TeX) is left out."""
    if not has_figures(solution):
        return {}
    from .figures import figures

    drawn = shared(solution, figures)
    out = {}
    for name in PRINTED_FIGURES:
        source = drawn.get(f"{name}.tikz.tex")
        size = figure_size(source) if isinstance(source, str) else None
        out[name] = placement(size) if size is not None else Placement("omitted", 0.0, 0.0)
    return out


def printable(tex: TexSolution) -> TexSolution:
    """The formulas of the function and its closed-form gradients written so that TeX can
    break them over lines (:func:`.printfit.breakable`)."""
    return replace(tex, function=breakable(tex.function) if tex.function else tex.function,
                   closed=tuple(replace(c, formula=breakable(c.formula)) for c in tex.closed))
