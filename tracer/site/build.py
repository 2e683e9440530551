"""The build: problem files -> the published site.

:func:`build` runs the whole chain, one phase after another::

    read_config -> find_problems -> check_problems (and render) -> keep_pages
                -> make_variants -> compile_pdfs -> booklets
                -> publish_editions (MkDocs twice, each into a staging folder, then swap_in)

Nothing is written to the output folder until every problem has been checked, rendered
and compiled and MkDocs has built the complete site beside it; the new site then replaces
the old one in a single rename.  A build that fails or is interrupted leaves the previous
site as it was.

Each problem's generated files are cached by content (:mod:`tracer.site.cache`), so a
rebuild regenerates only the problems that changed.  The MkDocs plugin
(:mod:`tracer.site.plugin`) uses the same phases, so ``mkdocs build`` and ``mkdocs serve``
give the same site as ``tracer build``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from ..core.errors import Diagnostic, TracerError
from ..exporters.base import Course, keep_compiled_templates
from .cache import Cache, code_fingerprint, digest
from .config import EDITION_VARIABLE, Site, read_config
from .pages import SITE_FOLDER, ProblemPages, render_problem
from .classroom import Classroom, booklets, make_variants, read_roster
from .editions import compile_variant_pdfs, publish_editions, release_dates, released
from .pdf import SOURCE_DATE_EPOCH, compile_pdfs
from .publish import build_lock, discard_leftovers
from .quizzes import course_quizzes

__all__ = ["build", "serve", "BuildReport", "find_problems", "check_problems", "keep_pages",
           "generate", "Classroom"]

Say = Callable[[str], None]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

@dataclass
class BuildReport:
    """What a build did, for the summary line and for tests."""

    output: Path
    instructor: Optional[Path] = None    # the instructor edition
    variants: int = 0                    # numbered and students' variants made
    problems: int = 0
    reused: int = 0            # problems whose files came from the cache
    pdfs: int = 0
    pdfs_reused: int = 0
    pdf_skipped: bool = False
    site: str = "all"          # pages MkDocs rendered: "all", "some" (those that changed), "none"
    seconds: float = 0.0


@dataclass(frozen=True)
class _Checked:
    """A problem file that passed every check, with its pages (PDFs not included)."""

    key: str
    pages: ProblemPages
    cached: bool


# ----------------------------------------------------------------------------- the build

def build(config_file: Path, *, strict: bool = True, say: Say = _say,
          classroom: Optional[Classroom] = None) -> BuildReport:
    """Build the whole site described by ``config_file`` (an mkdocs.yml): the student
    edition into its site_dir and the instructor edition beside it
    (:mod:`tracer.site.editions`), with the variants ``classroom`` asks for.

    Raises :class:`TracerError` naming every broken problem file (or whatever else stops
    the build); the output folders are then left exactly as they were.
    """
    started = time.monotonic()
    classroom = classroom or Classroom()
    with _reproducible_dates():
        site = read_config(config_file, strict=strict)
        site = classroom.settle(site)
        if site.cache_dir is not None:
            keep_compiled_templates(site.cache_dir / "templates")
        with build_lock(site):
            discard_leftovers(site.output)
            discard_leftovers(site.instructor_output)
            found: list[Diagnostic] = []
            sources = find_problems(site.problems, found)
            students = read_roster(classroom.students) if classroom.students else []
            cache = Cache(site.cache_dir)
            checked = check_problems(sources, cache, allow_html=site.allow_html,
                                     workers=_workers(), course=site.course, errors=found)
            pages = keep_pages(checked, cache)
            variants = make_variants(sources, cache, count=classroom.variants,
                                     students=students, salt=site.salt,
                                     allow_html=site.allow_html, run=_run, workers=_workers())
            pages, pdf_stats = compile_pdfs(pages, cache, site.pdf, say=say,
                                            config_file=site.config_file)
            variants = compile_variant_pdfs(variants, cache, site)
            extra = booklets(students, variants, [p.id for p in pages], cache, site.pdf)
            extra.update(course_quizzes(sources, cache, variants=classroom.variants,
                                        salt=site.salt, title=site.mkdocs.site_name,
                                        pages=pages))
            keys = released(release_dates(sources), site.release_keys, classroom.day())
            try:
                made = publish_editions(site, pages, variants, students, keys, extra)
            except OSError as exc:   # a folder that cannot be written: the old site stays
                where = exc.filename or site.output
                raise TracerError([Diagnostic(_shown(Path(where)), "cannot write the site "
                                              f"here: {exc.strerror}")]) from None
            cache.prune()
    report = BuildReport(output=site.output, instructor=site.instructor_output,
                         variants=len(variants), problems=len(pages),
                         reused=sum(c.cached for c in checked),
                         pdfs=pdf_stats["compiled"] + pdf_stats["reused"],
                         pdfs_reused=pdf_stats["reused"], pdf_skipped=pdf_stats["skipped"],
                         site=made, seconds=time.monotonic() - started)
    say(f"built {report.problems} problem{'s' if report.problems != 1 else ''} "
        f"({report.reused} unchanged, from the cache)"
        + (f", {len(variants)} variants" if variants else "")
        + f" and {report.pdfs} PDFs into {_shown(site.output)} (student edition) and "
        f"{_shown(site.instructor_output)} (instructor edition) in {report.seconds:.1f} s"
        + {"none": "; the site was up to date", "some": "; only changed pages rendered",
           "all": ""}[report.site])
    return report


def serve(config_file: Path, dev_addr: str = "127.0.0.1:8000",
          edition: str = "instructor") -> None:
    """Preview ``edition`` of the site at ``dev_addr`` (the instructor's, with the keys,
    unless asked for the student's), rebuilding a problem's pages when its file changes."""
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.exceptions import Abort, ConfigurationError

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    os.environ[EDITION_VARIABLE] = edition
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logger = logging.getLogger("mkdocs")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)      # MkDocs' progress messages, as `mkdocs serve` shows
    try:
        with _reproducible_dates():
            mkdocs_serve(config_file=str(config_file), dev_addr=dev_addr, livereload=True)
    except ConfigurationError as exc:
        raise TracerError([Diagnostic(str(config_file), f"the configuration is invalid: {exc}")])
    except Abort as exc:
        raise TracerError([Diagnostic(str(config_file), f"the site did not build: {exc}")])
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# ----------------------------------------------------------------------------- phase 2

def find_problems(folder: Path, errors: Optional[list[Diagnostic]] = None) -> list[Path]:
    """The problem files of ``folder`` (``*.yaml``, ``*.yml``), in file-name order, found
    as ``tracer check`` finds them.  What is wrong with the folder's entries is added to
    ``errors``, or raised when ``errors`` is None."""
    from ..core.discover import find_problem_files

    if not folder.is_dir():
        raise TracerError([Diagnostic(str(folder), "no such folder: the tracer plugin's "
                                      "'problems' option names the folder of problem files")])
    files, wrong = find_problem_files([folder], folder_name=SITE_FOLDER)
    wrong = [dataclasses.replace(d, path=_shown(Path(d.path))) for d in wrong]
    if wrong and (errors is None or not files):
        raise TracerError(list(errors or []) + wrong)
    if errors is not None:
        errors.extend(wrong)
    return files


# ----------------------------------------------------------------------------- phase 3

def check_problems(sources: Sequence[Path], cache: "Cache", *, allow_html: bool = False,
                   workers: int = 1, course: Course = Course(),
                   errors: Sequence[Diagnostic] = ()) -> list[_Checked]:
    """Load, check, trace and render every problem file; report every broken one at once.

    A problem is only known to be good once it has been traced (a value can fall outside
    an operation's domain), so tracing is part of the check, and the pages are rendered
    while the trace is at hand.  A file whose content is already in the cache passed this
    check before and is not traced again; a new one's pages are stored there as soon as
    they are made, so a build that fails on one problem keeps the work done on the others.
    With ``workers`` > 1 the problems are traced in that many processes.  ``errors`` (the
    folder's, from :func:`find_problems`) are reported with the problems' own.
    """
    from ..core.load import MAX_FILE_BYTES, problem_id
    from ..core.source import read_regular_file

    fingerprint = code_fingerprint()
    diagnostics: list[Diagnostic] = list(errors)
    done: dict[int, _Checked] = {}
    jobs: list[tuple[int, str, Path, str, bool, Optional[Path], Course]] = []
    owners: dict[str, Path] = {}
    for index, path in enumerate(sources):
        shown = _shown(path)
        id = problem_id(path)
        if id in owners:
            diagnostics.append(Diagnostic(shown, f"this file's pages would go to "
                                          f"{SITE_FOLDER}/{id}/, like those of "
                                          f"{_shown(owners[id])}: rename one of the two files"))
            continue
        owners[id] = path
        try:
            data = read_regular_file(path, shown, MAX_FILE_BYTES + 1)
        except TracerError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        key = digest(fingerprint, "problem", id, str(allow_html), data,
                     *([repr(course)] if course else []))
        cached = cache.pages(key)
        if cached is not None:
            done[index] = _Checked(key, cached, cached=True)
        else:
            jobs.append((index, key, path, data.decode("utf-8", errors="replace"), allow_html,
                         cache.folder, course))
    for (index, key, path, *_), (pages, errors) in zip(jobs, _run(_make_pages, jobs, workers)):
        if errors:
            diagnostics.extend(_relative(d, path) for d in errors)
        else:
            done[index] = _Checked(key, pages, cached=False)
    if diagnostics:
        raise TracerError(diagnostics)
    return [done[i] for i in sorted(done)]


def _make_pages(job: tuple[int, str, Path, str, bool, Optional[Path], Course]
                ) -> tuple[Optional[ProblemPages], list[Diagnostic]]:
    """One problem, start to finish (runs in a worker process): its pages or its errors.

    The pages go into the cache folder here, in the worker: the files of a problem run to
    megabytes (a figure per backward step), and writing them in the workers shares the work
    and hands back only their names."""
    from ..core.engine import trace
    from ..core.graph import build_graph
    from ..core.load import load

    _, key, path, source_text, allow_html, cache_folder, course = job
    try:
        # load() reads the file again: it owns the checks on size and encoding.
        graph = build_graph(load(path))
        result = trace(graph)
    except TracerError as exc:
        return None, list(exc.diagnostics)
    pages = render_problem(graph, result, path, source_text, allow_html=allow_html,
                           course=course)
    return Cache(cache_folder).store_pages(key, pages), []


def _run(function: Callable, jobs: Sequence, workers: int) -> list:
    """``[function(job) for job in jobs]``, in ``workers`` processes when that pays."""
    import multiprocessing

    if workers <= 1 or len(jobs) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    from .children import die_with_parent

    # fork: the workers start with tracer already imported (spawn would import it again).
    # They die with the build, however it ends (kill -9 included).
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                             mp_context=multiprocessing.get_context("fork"),
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        return list(pool.map(function, jobs, chunksize=max(1, len(jobs) // (8 * workers))))


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


# ----------------------------------------------------------------------------- phase 4

def keep_pages(checked: Sequence[_Checked], cache: "Cache") -> list[ProblemPages]:
    """Every problem's pages, the new ones recorded in the cache (on disk, the workers
    stored them as they were made)."""
    for item in checked:
        if not item.cached:
            cache.store_pages(item.key, item.pages)
    return [item.pages for item in checked]



# ----------------------------------------------------------------------------- for the plugin

def generate(site: Site, cache: "Cache", *, say: Say = _say) -> list[ProblemPages]:
    """Phases 2 to 5 at once: what the plugin needs under plain ``mkdocs build``/``serve``."""
    found: list[Diagnostic] = []
    sources = find_problems(site.problems, found)
    checked = check_problems(sources, cache, allow_html=site.allow_html, course=site.course,
                             errors=found)
    pages = keep_pages(checked, cache)
    pages, _ = compile_pdfs(pages, cache, site.pdf, say=say, config_file=site.config_file)
    return pages



# ----------------------------------------------------------------------------- helpers

@contextlib.contextmanager
def _reproducible_dates() -> Iterator[None]:
    """Fix the build date (sitemap, PDFs) unless the user chose one with SOURCE_DATE_EPOCH."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(SOURCE_DATE_EPOCH)
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def _shown(path: Path) -> str:
    """A path as the user would write it: relative to the current folder where possible."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


def _relative(diagnostic: Diagnostic, path: Path) -> Diagnostic:
    return dataclasses.replace(diagnostic, path=_shown(path)) \
        if diagnostic.path == str(path) else diagnostic
