"""The documents of a problem of vectors and matrices: ``worksheet.md``, ``answers.md``,
``worksheet.tex`` and ``answers.tex`` from ``templates/markdown/tensor_*.j2`` and
``templates/latex/tensor_*.j2``.  The Markdown and LaTeX exporters hand such a problem to
this module; the documents share :mod:`.tensor_tex` and the generated code.
"""
from __future__ import annotations

from ..safety.latex import tex_statement
from ..safety.markdown import md_statement
from ..view.tensor_solution import TensorSolution
from .base import STUDENT_WORKSHEET, Content, Options, context, document_environment, shared
from .checking import note
from .code import generated_code
from .mdmath import equation_rows, matrix_factors
from .tensor_tex import tensor_tex_solution

__all__ = ["tensor_markdown", "tensor_latex"]


def tensor_markdown(solution: TensorSolution, options: Options) -> dict[str, Content]:
    env = document_environment()
    tex = shared(solution, tensor_tex_solution)
    names = context(tex,
                    # The site's rows: a step's matrices one under another (.mdmath).
                    md_numbers={s.index: matrix_factors(s.numbers) for s in tex.steps},
                    md_components=tuple(equation_rows(symbol, [definition])
                                        for symbol, definition in tex.components.gates)
                    if tex.components is not None else (),
                    statement_md=md_statement(solution.statement,
                                              allow_html=options.allow_html),
                    code=shared(solution, generated_code), course=options.course,
                    note=note(solution, options.seed, options.number, options.student),
                    key_link=True)
    files: dict[str, Content] = {
        name: env.get_template(f"markdown/tensor_{name}.j2").render(names)
        for name in ("worksheet.md", "answers.md")}
    # The student edition's worksheet, which links no answer key (tracer.site.editions).
    names["key_link"] = False
    files[STUDENT_WORKSHEET] = env.get_template(
        "markdown/tensor_worksheet.md.j2").render(names)
    return files


def tensor_latex(solution: TensorSolution, options: Options) -> dict[str, Content]:
    env = document_environment()
    names = context(shared(solution, tensor_tex_solution),
                    statement_tex=tex_statement(solution.statement),
                    code=shared(solution, generated_code), course=options.course,
                    note=note(solution, options.seed, options.number, options.student))
    return {name: env.get_template(f"latex/tensor_{name}.j2").render(names)
            for name in ("worksheet.tex", "answers.tex")}
