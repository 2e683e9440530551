"""The site's pages of a problem: ``worksheet.md`` and ``answers.md`` (Markdown with LaTeX
math for arithmatex and KaTeX), from ``templates/markdown/``."""
from __future__ import annotations

from ..core.variants import Tolerance
from ..safety.markdown import md_statement
from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import (STUDENT_WORKSHEET, Content, Exporter, Options, context,
                   document_environment, register, shared, written_out)
from .code import generated_code
from .deeptex import deep_tex
from .figures import step_boxes
from .checking import check_data, note
from .mathtex import tex_solution
from .mdmath import md_math
from .overview import overview

__all__ = ["MarkdownExporter", "STUDENT_WORKSHEET"]

@register
class MarkdownExporter(Exporter):
    name = "markdown"
    order = 10

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        if is_tensor(solution):     # vectors and matrices: tracer.exporters.tensor_documents
            from .tensor_documents import tensor_markdown

            return tensor_markdown(solution, options)  # type: ignore[arg-type]
        if not written_out(solution):
            return overview_markdown(solution, options)
        env = document_environment()
        tex = shared(solution, tex_solution)
        names = context(tex, md=md_math(tex),
                        statement_md=md_statement(solution.statement,
                                                  allow_html=options.allow_html),
                        code=shared(solution, generated_code), course=options.course,
                        deep=shared(solution, deep_tex),
                        note=note(solution, options.seed, options.number, options.student),
                        check=check_data(solution, options.seed), key_link=True,
                        tolerance=solution.tolerance or Tolerance(),
                        step_boxes=shared(solution, step_boxes))
        files = {name: env.get_template(f"markdown/{name}.j2").render(names)
                 for name in ("worksheet.md", "answers.md")}
        # The student edition's worksheet, which links no answer key (tracer.site.editions).
        names["key_link"] = False
        files[STUDENT_WORKSHEET] = env.get_template("markdown/worksheet.md.j2").render(names)
        return files


def overview_markdown(solution: Solution, options: Options) -> dict[str, Content]:
    """The pages of a problem too large to work step by step (:mod:`.overview`)."""
    template = document_environment().get_template("markdown/overview.md.j2")
    names = context(shared(solution, overview), course=options.course,
                    note=note(solution, options.seed, options.number, options.student),
                    statement_md=md_statement(solution.statement,
                                              allow_html=options.allow_html))
    return {"worksheet.md": template.render(names, key=False, key_link=True),
            "answers.md": template.render(names, key=True, key_link=False),
            STUDENT_WORKSHEET: template.render(names, key=False, key_link=False)}
