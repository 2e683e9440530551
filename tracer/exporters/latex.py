"""The printed documents of a problem: ``worksheet.tex`` and ``answers.tex`` (compiled to
PDF by the site when pdflatex is installed), from ``templates/latex/``."""
from __future__ import annotations

from ..safety.latex import tex_statement
from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import (Content, Download, Exporter, Options, context, document_environment,
                   register, shared)
from .checking import note
from .code import generated_code
from .deeptex import deep_tex
from .lines import wrap_tex
from .mathtex import tex_solution

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
        names = context(shared(solution, tex_solution),
                        statement_tex=tex_statement(solution.statement),
                        code=shared(solution, generated_code), course=options.course,
                        deep=shared(solution, deep_tex),
                        note=note(solution, options.seed, options.number, options.student))
        return {name: wrap_tex(env.get_template(f"latex/{name}.j2").render(names))
                for name in TEX_DOCUMENTS}
