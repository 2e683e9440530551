"""Two editions of one course: the student edition (the site_dir, ``public/``) holds the
worksheets and no answer anywhere; the instructor edition (``public-instructor/``) holds
everything, the students' variants and the quizzes too.

The student edition is made from an allowlist: a problem's worksheet, its figure without
values, the worksheet's LaTeX and PDF and the problem file.  A new kind of file stays out
of it until it is added here.  The keys join it when they are released: by the flag
``--release-keys`` (plugin option ``release_keys``) or, per problem, from its
``release:`` date on.  The roster and everything made from it never reach it.
"""
from __future__ import annotations

import dataclasses
import datetime
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Optional, Sequence, Union

from ..exporters.markdown import STUDENT_WORKSHEET
from ..exporters.base import Course
from .classroom import Student, VariantPages
from .pages import SITE_FOLDER, ProblemPages, home_page, problems_nav, students_page

__all__ = ["STUDENT_FILES", "Edition", "edition", "released", "student_files",
           "release_dates", "VariantLink", "compile_variant_pdfs", "publish_editions",
           "withheld_links", "instructor_only"]

#: What the student edition publishes of a problem whose key is not released.
STUDENT_FILES = ("worksheet.md", "worksheet.tex", "worksheet.pdf", "graph.svg",
                 "graph.tikz.tex", "problem.yaml")
#: Instructor-only files that the student edition never gets, released or not.
_NEVER = ("quiz-moodle.xml", "quiz-qti.zip")

Content = Union[str, bytes, Path]

#: A layer's component view, worksheet then key, where a problem (or variant) has one.
COMPONENT_PAGES = ("components/worksheet.md", "components/answers.md")


@dataclass(frozen=True)
class VariantLink:
    """A numbered variant as the home page and the navigation list it."""

    number: int
    folder: str
    short: str
    key: bool             # whether its answer key is published in this edition
    components: tuple[str, ...] = ()   # its component view's pages in this edition


@dataclass(frozen=True)
class Edition:
    """Every generated file of one edition (site path -> content) and the navigation of
    its problems (and, in the instructor edition, of its students)."""

    name: str
    files: dict[str, Content]
    problems_nav: list
    students_nav: list
    #: The list of problems to add below a hand-written home page (index.md), if any.
    catalogue: Optional[str] = None
    #: Each problem's pages as this edition publishes them (the files it shows).
    pages: tuple[ProblemPages, ...] = ()


def release_dates(sources: Sequence[Path]) -> dict[str, Optional[datetime.date]]:
    """Each problem's ``release:`` date (None where it has none), read from its file."""
    from ..core.load import problem_id, release_of

    return {problem_id(path): release_of(path) for path in sources}


def released(dates: Mapping[str, Optional[datetime.date]], release_all: bool,
             today: datetime.date) -> set[str]:
    """The problems whose keys the student edition publishes."""
    return {pid for pid, day in dates.items()
            if release_all or (day is not None and day <= today)}


def _is_student_worksheet(name: str) -> bool:
    # a problem's own, or its component view's (components/worksheet.student.md)
    return name.rsplit("/", 1)[-1] == STUDENT_WORKSHEET


def student_files(files: Mapping[str, Content], key: bool) -> dict[str, Content]:
    """A problem's (or a variant's) files as the student edition publishes them."""
    if key:
        chosen = {n: c for n, c in files.items()
                  if not _is_student_worksheet(n) and n not in _NEVER}
    else:
        chosen = {n: c for n, c in files.items() if n.rsplit("/", 1)[-1] in STUDENT_FILES}
    for name, content in files.items():
        if _is_student_worksheet(name):
            chosen[name[:-len(STUDENT_WORKSHEET)] + "worksheet.md"] = content
    return chosen


def _instructor_files(files: Mapping[str, Content]) -> dict[str, Content]:
    return {n: c for n, c in files.items() if not _is_student_worksheet(n)}


def edition(name: str, pages: Sequence[ProblemPages], variants: Sequence[VariantPages],
            students: Sequence[Student], released_ids: set[str],
            extra: Optional[Mapping[str, Content]] = None, booklets: bool = False, *,
            site: Any = None) -> Edition:
    """The ``student`` or ``instructor`` edition of these pages.  ``extra``: more files of
    the instructor edition (site path -> content), such as the students' booklets;
    ``site``: the site's settings (its course, its hand-written pages)."""
    student = name == "student"
    files: dict[str, Content] = {}
    shown: list[ProblemPages] = []
    for p in pages:
        chosen = student_files(p.files, p.id in released_ids) if student \
            else _instructor_files(p.files)
        shown.append(dataclasses.replace(p, files=chosen))
        files.update({f"{SITE_FOLDER}/{p.id}/{n}": c for n, c in chosen.items()})
    links: dict[str, list[VariantLink]] = {}
    for v in variants:
        if v.student is not None:
            if not student:
                files.update({f"{v.folder}/{n}": c
                              for n, c in _instructor_files(v.pages.files).items()})
            continue
        key = not student or v.problem in released_ids
        chosen = student_files(v.pages.files, key) if student \
            else _instructor_files(v.pages.files)
        files.update({f"{v.folder}/{n}": c for n, c in chosen.items()})
        links.setdefault(v.problem, []).append(
            VariantLink(v.number or 0, v.folder, v.short, "answers.md" in chosen,
                        tuple(n for n in COMPONENT_PAGES if n in chosen)))
    roster = [] if student else list(students)
    mine = [v for v in variants if v.student is not None]
    if roster:
        files["students/index.md"] = students_page(roster, mine, booklets)
    if not student and extra:
        files.update(extra)
    present = hand_written(site) - (instructor_only(site) if student else set())
    course = site.course if site is not None else Course()
    quizzes = not student and "quizzes/moodle.xml" in files
    catalogue = None
    if "index.md" in present:   # the author's home page: the problems go below it
        catalogue = home_page(shown, links, bool(roster), quizzes=quizzes, course=course,
                              catalogue_only=True)
    else:
        files["index.md"] = home_page(shown, links, bool(roster), quizzes=quizzes,
                                      present=present, course=course)
    return Edition(name, files, problems_nav(shown, links),
                   _students_nav(roster, mine, pages) if roster else [], catalogue,
                   tuple(shown))


#: A Markdown link or picture with a relative target: ``[text](target)``, ``![alt](target)``.
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s:]+?)(#[^)\s]*)?\)")


def withheld_links(markdown: str, page: str, published: Callable[[str], bool],
                   withheld: Collection[str] = ()) -> str:
    """A hand-written page of the student edition whose links reach into a problem's folder
    for what the edition withholds (an answer key, the figure of the gradients): a link
    then goes to that problem's worksheet and a picture gives way to its alt text, so that
    the page neither breaks nor tells the answers.  A link to a ``withheld`` hand-written
    page (:func:`instructor_only`) gives way to its text."""
    here = posixpath.dirname(page)

    def replace(match: re.Match) -> str:
        picture, text, target, _ = match.groups()
        path = posixpath.normpath(posixpath.join(here, target))
        parts = path.split("/")
        if published(path) or (parts[0] != SITE_FOLDER and path not in withheld):
            return match.group(0)
        if picture or parts[0] != SITE_FOLDER or len(parts) < 3:
            return text
        worksheet = posixpath.join(*parts[:-1] if parts[-2] != "components"
                                   else parts[:-2], "worksheet.md")
        return f"[{text}]({posixpath.relpath(worksheet, here or '.')})"

    return _LINK.sub(replace, markdown)


def instructor_only(site: Any) -> set[str]:
    """The hand-written pages whose front matter says ``edition: instructor`` (a page that
    works problems out): the student edition leaves them out."""
    from mkdocs.utils.meta import get_data

    if site is None or site.mkdocs is None:
        return set()
    docs = Path(site.mkdocs["docs_dir"])
    return {name for name in hand_written(site)
            if get_data((docs / name).read_text(encoding="utf-8"))[1].get("edition")
            == "instructor"}


def hand_written(site: Any) -> set[str]:
    """The hand-written pages of the site's docs folder (paths as MkDocs names them)."""
    if site is None or site.mkdocs is None:
        return set()
    docs = Path(site.mkdocs["docs_dir"])
    if not docs.is_dir():
        return set()
    return {p.relative_to(docs).as_posix() for p in docs.rglob("*.md") if p.is_file()}


def _students_nav(students: Sequence[Student], variants: Sequence[VariantPages],
                  pages: Sequence[ProblemPages]) -> list:
    from .pages import students_nav

    return students_nav(students, variants, pages)


# ----------------------------------------------------------------------------- the build's

def compile_variant_pdfs(variants: Sequence[VariantPages], cache: Any, site: Any
                         ) -> list[VariantPages]:
    """The variants with their worksheets' and keys' PDFs (cached by content)."""
    from .pdf import compile_pdfs

    if not variants:
        return []
    compiled, _ = compile_pdfs([v.pages for v in variants], cache, site.pdf,
                               say=lambda message: None, config_file=site.config_file)
    return [dataclasses.replace(v, pages=p) for v, p in zip(variants, compiled)]


def publish_editions(site: Any, pages: Sequence[ProblemPages],
                     variants: Sequence[VariantPages], students: Sequence[Student],
                     released_ids: set[str], extra: Mapping[str, Content]) -> str:
    """MkDocs builds both editions, each beside its folder, only as far as each changed
    since it was published (:mod:`tracer.site.incremental`); only when both are complete
    do they replace the old ones, so a failed build leaves both as they were.  Returns how
    much was rendered: "none", "some" or "all" (the most of the two editions)."""
    import shutil

    from . import incremental
    from .publish import build_site, swap_in

    built: list[tuple[Path, Path, incremental.Plan]] = []
    kinds = []
    try:
        for name, output in (("instructor", site.instructor_output), ("student", site.output)):
            made = edition(name, pages, variants, students, released_ids, extra,
                           booklets=bool(extra), site=site)
            here = dataclasses.replace(site, output=output)
            todo = incremental.plan(here, made.pages, edition_key(made), f"site-{name}.json")
            kinds.append(todo.kind)
            if todo.kind == "none":       # the edition in its folder is up to date
                continue
            incremental.forget(todo)
            site.plugin.use_edition(made)
            try:
                built.append((build_site(here, made.pages, todo), output, todo))
            finally:
                site.plugin.use_edition(None)
    except BaseException:
        for staging, _, _ in built:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    for staging, output, todo in built:
        swap_in(staging, output)
        incremental.record(todo, output)
    return max(kinds, key=("none", "some", "all").index)


def edition_key(made: "Edition") -> bytes:
    """What an edition is besides its problems' own pages: every other page it publishes
    (home page, variants, students' pages) and its navigation, and the names of its other
    files.  Their content (the course's quizzes) changes no page: a dirty build writes
    them anew, as it writes every generated file it is not told is kept."""
    import hashlib
    import json

    own = {f"{SITE_FOLDER}/{p.id}/{n}" for p in made.pages for n in p.files}
    h = hashlib.sha256()
    for uri in sorted(made.files):
        if uri in own:
            continue
        if not uri.endswith(".md"):
            h.update(uri.encode("utf-8") + b"\0")
            continue
        content = made.files[uri]
        data = content.read_bytes() if isinstance(content, Path) else \
            content if isinstance(content, bytes) else content.encode("utf-8")
        h.update(uri.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    h.update(json.dumps([made.problems_nav, made.students_nav, made.catalogue],
                        sort_keys=True, default=str).encode("utf-8"))
    return h.digest()
