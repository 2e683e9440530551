"""The component view of a problem of vectors and matrices, published beside it: the
scalar problem every entry of which is a scalar of its own (:mod:`tracer.core.components`),
worked by the exporters of any scalar problem (pages, figures, code) into
``components/``.  Its statement, from ``templates/markdown/components_statement.md.j2``,
links it to the layer view, whose answer key links every entry of every gradient to the
scalar gradient it equals."""
from __future__ import annotations

import dataclasses

from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import Content, Exporter, Options, document_environment, get, register

__all__ = ["ComponentsExporter", "FOLDER", "PARTS"]

#: Where the component view's files go, inside the problem's folder.
FOLDER = "components"
#: The exporters that make them.
PARTS = ("markdown", "figures", "plots", "code")


@register
class ComponentsExporter(Exporter):
    name = "components"
    order = 35

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        components = getattr(solution, "components", None) if is_tensor(solution) else None
        if components is None:
            return {}
        statement = document_environment().get_template(
            "markdown/components_statement.md.j2").render(
            mode=components.mode, inputs=len(components.solution.inputs),
            gates=len(components.solution.gates))
        scalar = dataclasses.replace(components.solution, statement=statement)
        files: dict[str, Content] = {}
        for part in PARTS:
            files.update(get(part).files(scalar, options))
        # No printed documents: the PDFs are the layer view's.
        return {f"{FOLDER}/{name}": content for name, content in files.items()
                if not name.endswith(".tex")}
