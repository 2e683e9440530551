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
from typing import Mapping, Sequence, Union

from ..core.graph import Graph
from ..core.engine import Trace
from ..exporters.base import Download, Options, environment, exporters
from ..view.solution import solve

__all__ = ["ProblemPages", "render_problem", "home_page", "problems_nav", "downloads",
           "SITE_FOLDER", "SOURCE_NAME"]

#: Where a problem's files go inside the site: ``problems/<id>/``.
SITE_FOLDER = "problems"
#: A published copy of the problem file itself, beside the documents made from it.
SOURCE_NAME = "problem.yaml"
#: The download the site adds itself: the problem file.
_SOURCE = Download("source", "problem", SOURCE_NAME)


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
            return data if name.endswith(".pdf") else data.decode("utf-8")
        return content




def render_problem(graph: Graph, trace: Trace, path: Path, source_text: str, *,
                   allow_html: bool = False) -> ProblemPages:
    """The files of ``problems/<id>/`` for one traced problem (PDFs not included)."""
    solution = solve(graph, trace)
    options = Options(allow_html=allow_html)
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


def home_page(pages: Sequence[ProblemPages]) -> str:
    """The home page: every problem with its title, tags and links (templates/site/)."""
    return environment().get_template("site/index.md.j2").render(
        problems=_catalogue(pages), folder=SITE_FOLDER, downloads=downloads())


#: A course of more problems than this has its navigation in sections of this many.  Every
#: page of the site carries the navigation of its section: with 500 problems side by side,
#: rendering it was a fifth of the build; in sections of 25, a page lists some 45 entries.
NAV_GROUP = 25


@dataclass(frozen=True)
class _Group:
    first: int                 # 1-based numbers of its first and last problem
    last: int
    problems: list["_Entry"]


def problems_nav(pages: Sequence[ProblemPages]) -> list:
    """The navigation entries of the problems, in problem-file order (templates/site/)."""
    import yaml

    entries = _catalogue(pages)
    groups = [_Group(i + 1, min(i + NAV_GROUP, len(entries)), entries[i:i + NAV_GROUP])
              for i in range(0, len(entries), NAV_GROUP)] if len(entries) > NAV_GROUP else []
    text = environment().get_template("site/nav.yml.j2").render(
        problems=entries, groups=groups, folder=SITE_FOLDER)
    # libyaml: the navigation of a 500-problem course is 1,500 lines of YAML
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []


@dataclass(frozen=True)
class _Entry:
    id: str
    title: str
    tags: tuple[str, ...]
    source: str
    files: tuple[str, ...]


def _catalogue(pages: Sequence[ProblemPages]) -> list[_Entry]:
    return [_Entry(p.id, p.title, tuple(p.tags), p.source, tuple(sorted(p.files)))
            for p in pages]
