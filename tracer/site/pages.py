"""A problem's pages: every registered exporter's files, and the home page and navigation
that list the problems.

The files of ``problems/<id>/`` come from the exporters of :mod:`tracer.exporters` that
publish on the site, in their order; the home page's download links come from what each
exporter says it offers, so a new format needs no template edit here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Mapping, Sequence, Union

from ..core.graph import Graph
from ..core.engine import Trace
from ..exporters.base import Course, Download, Options, environment, exporters
from ..view.solution import solve

__all__ = ["ProblemPages", "render_problem", "home_page", "problems_nav", "downloads",
           "SITE_FOLDER", "SOURCE_NAME"]

#: Where a problem's files go inside the site: ``problems/<id>/``.
SITE_FOLDER = "problems"
#: A published copy of the problem file itself, beside the documents made from it.
SOURCE_NAME = "problem.yaml"
#: The download the site adds itself: the problem file.
_SOURCE = Download("source", "problem", SOURCE_NAME)


# files kept as bytes: everything else a problem makes is UTF-8 text
BINARY = (".pdf", ".zip", ".png")


@dataclass(frozen=True)
class ProblemPages:
    """Everything generated for one problem: the files of ``problems/<id>/``."""

    id: str
    title: str
    tags: tuple[str, ...]
    source: str                              # the problem file, as the user named it
    # file name -> content, or the cached file holding it (read only when needed: an
    # unchanged course is hundreds of megabytes of figures that MkDocs can copy as files)
    files: Mapping[str, Union[str, bytes, Path]]

    def with_files(self, extra: Mapping[str, Union[str, bytes]]) -> "ProblemPages":
        """A copy with ``extra`` files added."""
        return dataclasses.replace(self, files={**self.files, **extra})

    def content(self, name: str) -> Union[str, bytes]:
        """The content of the file ``name`` (text for the generated text files)."""
        content = self.files[name]
        if isinstance(content, Path):
            data = content.read_bytes()
            return data if name.endswith(BINARY) else data.decode("utf-8")
        return content




def render_problem(graph: Graph, trace: Trace, path: Path, source_text: str, *,
                   allow_html: bool = False, course: Course = Course()) -> ProblemPages:
    """The files of ``problems/<id>/`` for one traced problem (PDFs not included)."""
    solution = solve(graph, trace)
    options = Options(allow_html=allow_html, course=course)
    files: dict[str, Union[str, bytes]] = {}
    for exporter in exporters():
        if not exporter.site:
            continue
        part = exporter.files(solution, options)
        clash = sorted(set(files) & set(part))
        if clash:
            raise RuntimeError(f"two exporters wrote the same file: {', '.join(clash)}")
        files.update(part)
    files[SOURCE_NAME] = source_text
    return ProblemPages(id=solution.id, title=solution.title, tags=tuple(solution.tags),
                        source=path.name, files=dict(sorted(files.items())))


def downloads() -> list[Download]:
    """Every file a problem may offer for download, in the order the home page lists them."""
    return [d for e in exporters() if e.site for d in e.downloads] + [_SOURCE]


def home_page(pages: Sequence[ProblemPages], variants: Mapping[str, Sequence] = {},
              students: bool = False, quizzes: bool = False, *,
              present: Collection[str] = (), course: Course = Course(),
              catalogue_only: bool = False) -> str:
    """The home page: every problem with its title, tags and links (templates/site/);
    ``variants``: each problem's numbered variants (tracer.site.editions.VariantLink);
    ``students``: whether the edition lists the students' variants; ``present``: the
    hand-written pages it may link to; ``catalogue_only``: the list of problems alone, to
    add below a hand-written home page."""
    return environment().get_template("site/index.md.j2").render(
        problems=_catalogue(pages, variants), folder=SITE_FOLDER, downloads=downloads(),
        students=students, quizzes=quizzes, present=set(present), course=course,
        catalogue_only=catalogue_only)


#: A course of more problems than this has its navigation in sections of this many.  Every
#: page of the site carries the navigation of its section: with 500 problems side by side,
#: rendering it was a fifth of the build; in sections of 25, a page lists some 45 entries.
NAV_GROUP = 25


@dataclass(frozen=True)
class _Group:
    first: int                 # 1-based numbers of its first and last problem
    last: int
    problems: list["_Entry"]


def problems_nav(pages: Sequence[ProblemPages], variants: Mapping[str, Sequence] = {}
                 ) -> list:
    """The navigation entries of the problems, in problem-file order (templates/site/)."""
    import yaml

    entries = _catalogue(pages, variants)
    groups = [_Group(i + 1, min(i + NAV_GROUP, len(entries)), entries[i:i + NAV_GROUP])
              for i in range(0, len(entries), NAV_GROUP)] if len(entries) > NAV_GROUP else []
    text = environment().get_template("site/nav.yml.j2").render(
        problems=entries, groups=groups, folder=SITE_FOLDER)
    # libyaml: the navigation of a 500-problem course is 1,500 lines of YAML
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []


def students_page(students: Sequence, variants: Sequence, booklets: bool = False) -> str:
    """The instructor's list of students: each one's booklets and, per problem, the note
    printed on their worksheet and links to it and its key."""
    return environment().get_template("site/students.md.j2").render(
        students=students, rows=_student_rows(students, variants), booklets=booklets)


def students_nav(students: Sequence, variants: Sequence, pages: Sequence[ProblemPages]
                 ) -> list:
    """The navigation entries of the students' pages (instructor edition)."""
    import yaml

    text = environment().get_template("site/students_nav.yml.j2").render(
        students=students, rows=_student_rows(students, variants))
    return yaml.safe_load(text) or []


def _student_rows(students: Sequence, variants: Sequence) -> dict:
    rows: dict = {s.id: [] for s in students}
    for v in variants:
        if v.student is not None:
            rows[v.student.id].append(v)
    return rows


@dataclass(frozen=True)
class _Entry:
    id: str
    title: str
    tags: tuple[str, ...]
    source: str
    files: tuple[str, ...]
    variants: tuple = ()


def _catalogue(pages: Sequence[ProblemPages], variants: Mapping[str, Sequence] = {}
               ) -> list[_Entry]:
    return [_Entry(p.id, p.title, tuple(p.tags), p.source, tuple(sorted(p.files)),
                   tuple(variants.get(p.id, ()))) for p in pages]
