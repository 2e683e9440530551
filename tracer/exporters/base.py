"""What every exporter shares: the interface, the registry, the templates and the figure
limits that decide which files exist.

An exporter turns a :class:`~tracer.view.solution.Solution` into files (name -> content)
and says which of them a reader may download.  Each lives in its own module of this
package and registers itself with :func:`register`; :func:`exporters` finds them all, so a
new output format is one new module.
"""
from __future__ import annotations

import importlib
import os
import weakref
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from ..view.solution import Solution

if TYPE_CHECKING:  # Jinja is imported when a template is first rendered: `tracer trace
    import jinja2  # --json` and `tracer check` render none

__all__ = ["STUDENT_WORKSHEET", "Exporter", "Download", "Options", "Course", "register",
           "exporters", "get", "environment", "document_environment", "context", "TEMPLATES", "MAX_FIGURE_NODES",
           "MAX_LAYOUT_NODES", "has_figures", "frame_names", "shared", "keep_compiled_templates",
           "written_out"]

Content = Union[str, bytes]

#: The worksheet as the student edition publishes it while the key is not released.
STUDENT_WORKSHEET = "worksheet.student.md"

T = TypeVar("T")


@dataclass(frozen=True)
class Download:
    """A file offered for download on the home page: ``group`` and ``item`` are keys the
    home page's template words (``pdf``, ``worksheet``: "PDF: worksheet")."""

    group: str
    item: str
    file: str


@dataclass(frozen=True)
class Course:
    """What a course's pages and PDFs say about it (the tracer plugin's ``course``,
    ``term`` and ``author`` in mkdocs.yml); empty when not set."""

    name: str = ""
    term: str = ""
    author: str = ""

    def __bool__(self) -> bool:
        return bool(self.name or self.term or self.author)


@dataclass(frozen=True)
class Options:
    """Choices of the site that shape the files: ``allow_html`` lets raw HTML in a
    statement through to the Markdown pages; ``course`` is shown on every page and PDF.
    A variant is rendered with its ``seed`` (hex; empty for the problem's own inputs), its
    ``number`` (numbered variants) and the ``student`` it is for (a roster's name)."""

    allow_html: bool = False
    course: Course = Course()
    seed: str = ""
    number: Optional[int] = None
    student: str = ""


class Exporter:
    """One output format.  ``order`` fixes the order of the registry (and of the home page's
    downloads); ``site`` says whether its files are published with a problem's pages."""

    name: str = ""
    order: int = 0
    site: bool = True
    downloads: tuple[Download, ...] = ()

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        """File name (in the problem's own folder) -> content."""
        raise NotImplementedError


_REGISTRY: dict[str, Exporter] = {}


def register(exporter: type) -> type:
    """Class decorator: add an exporter (one instance) to the registry."""
    instance = exporter()
    if instance.name in _REGISTRY:
        raise ValueError(f"two exporters are called {instance.name!r}")
    _REGISTRY[instance.name] = instance
    return exporter


@lru_cache(maxsize=None)
def _discover() -> None:
    import pkgutil

    package = Path(__file__).resolve().parent
    for module in sorted(m.name for m in pkgutil.iter_modules([str(package)])):
        if module != "base":
            importlib.import_module(f"{__package__}.{module}")


def exporters() -> list[Exporter]:
    """Every exporter of this package, in their order."""
    _discover()
    return sorted(_REGISTRY.values(), key=lambda e: (e.order, e.name))


def get(name: str) -> Exporter:
    """The exporter called ``name``."""
    _discover()
    return _REGISTRY[name]


_SHARED: "weakref.WeakKeyDictionary[Solution, dict[str, Any]]" = weakref.WeakKeyDictionary()


def shared(solution: Solution, make: Callable[[Solution], T]) -> T:
    """``make(solution)``, made once per solution for all exporters that need it (the
    Markdown and LaTeX documents share their LaTeX and the generated code)."""
    made = _SHARED.setdefault(solution, {})
    key = f"{make.__module__}.{make.__qualname__}"
    if key not in made:
        made[key] = make(solution)
    return made[key]


# ----------------------------------------------------------------------------- templates

def _templates() -> Path:
    # A checkout (or editable install) uses the top-level templates/; an installed wheel
    # carries a copy inside the package (see pyproject.toml).
    package = Path(__file__).resolve().parent.parent
    top = package.parent / "templates"
    return top if top.is_dir() else package / "templates"


#: The templates folder.
TEMPLATES = _templates()


_COMPILED: list[Path] = []       # where compiled templates are kept, if anywhere


def keep_compiled_templates(folder: Path) -> None:
    """Keep the compiled templates in ``folder`` (a build's cache): a process that renders
    then loads them instead of compiling every template again, which was a second of a
    rebuild of one problem."""
    import jinja2

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return              # a cache that cannot be written only costs time
    if not os.access(folder, os.W_OK):
        return
    _COMPILED[:] = [folder]
    for made in (environment, document_environment):
        if made.cache_info().currsize:
            made().bytecode_cache = jinja2.FileSystemBytecodeCache(str(folder))


def _environment(**delimiters: str) -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(_COMPILED[0])) if _COMPILED else None,
        **delimiters,
    )


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """The Jinja environment of the figure and site templates."""
    from ..notation.latex import tex_symbol
    from ..notation.numbers import fmt, fmt_tex
    from ..safety.markdown import md_text

    env = _environment()
    env.filters.update(num=fmt, num_tex=fmt_tex, sym=tex_symbol, md=md_text, yaml_str=_yaml_str)
    return env


def _yaml_str(text: str) -> str:
    """A YAML double-quoted string of ``text``, non-ASCII characters as they are: Jinja's
    tojson writes an emoji as two UTF-16 escapes, which YAML reads as two lone surrogates."""
    import json

    return json.dumps(str(text), ensure_ascii=False)


@lru_cache(maxsize=None)
def document_environment() -> jinja2.Environment:
    """The environment of the Markdown, LaTeX and code templates.

    Its delimiters are ``<< expr >>``, ``<% statement %>`` and ``<# comment #>``, so that
    LaTeX's braces (``x_{{1}}``, ``{#1}``) never read as Jinja.
    """
    import json

    from ..notation.latex import tex_symbol
    from ..notation.numbers import fmt, fmt_tex
    from ..safety.latex import tex_text
    from ..safety.markdown import html_text, md_cell_math, md_text

    env = _environment(
        block_start_string="<%", block_end_string="%>",
        variable_start_string="<<", variable_end_string=">>",
        comment_start_string="<#", comment_end_string="#>",
    )
    env.filters.update(num=fmt, num_tex=fmt_tex, sym=tex_symbol, md=md_text, tex=tex_text,
                       html=html_text, cell=md_cell_math, json=json.dumps)
    return env


def context(data: Any, **extra: Any) -> dict[str, Any]:
    """A template's names: the fields of the dataclass ``data``, and ``extra``."""
    names = {f.name: getattr(data, f.name) for f in fields(data)}
    names.update(extra)
    return names


# ----------------------------------------------------------------------------- figures

#: Above this many nodes (inputs and gates) no per-step frames are drawn.
MAX_FIGURE_NODES = 60
#: Above this many nodes no figure at all is drawn.  Layout time depends on the shape more
#: than on the size: a 110-node chain whose every gate also reads one of three inputs took
#: over a minute before dot's search limits were set for large graphs, 11 s after.
MAX_LAYOUT_NODES = 120


def has_figures(solution: Solution) -> bool:
    """Whether the figures exporter draws this problem's graph."""
    return len(solution.trace.nodes) <= MAX_LAYOUT_NODES


def frame_names(solution: Solution) -> list[str]:
    """The step-through frames drawn for ``solution``, one per backward step, numbered with
    as many digits as their count has (at least two); none for graphs too large to step
    through."""
    if len(solution.trace.nodes) > MAX_FIGURE_NODES:
        return []
    count = len(solution.steps)
    width = max(2, len(str(count)))
    return [f"step-{i:0{width}d}.svg" for i in range(1, count + 1)]


def written_out(solution: Solution) -> bool:
    """Whether the documents of ``solution`` work it step by step (else they give an
    overview: :mod:`tracer.exporters.overview`).  Layers have documents of their own,
    bounded by their loader."""
    from ..view.tensor_solution import is_tensor

    return is_tensor(solution) or solution.written_out
