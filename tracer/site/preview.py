"""Previewing (``tracer serve``): a problem file that does not build gets a page of its
errors where its worksheet and answer key would be, so that the page open in the browser
shows what is wrong (file, line, message) and shows the problem again once it is fixed
(the preview reloads the page after every rebuild)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..core.errors import Diagnostic
from ..core.load import problem_id
from ..exporters.base import environment
from .pages import ProblemPages

__all__ = ["error_pages", "ERROR_PAGES"]

#: The pages of a problem that a broken file's errors stand in for.
ERROR_PAGES = ("worksheet.md", "answers.md")


@dataclass(frozen=True)
class _Error:
    where: str
    message: str


def error_pages(path: Path, diagnostics: Sequence[Diagnostic]) -> ProblemPages:
    """The pages of the broken problem file ``path``: its errors, in place of its
    worksheet and answer key, titled by the file's name."""
    errors = [_Error(str(d).removesuffix(f": {d.message}"), d.message) for d in diagnostics]
    page = environment().get_template("site/error.md.j2").render(file=path.name,
                                                                  errors=errors)
    return ProblemPages(id=problem_id(path), title=path.name, tags=(), source=path.name,
                        files={name: page for name in ERROR_PAGES})
