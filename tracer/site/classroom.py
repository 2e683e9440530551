"""Variants of a course: the stress test of ``tracer check --variants N``, rosters, and
the pages of numbered variants and of each student's variant."""
from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from ..core.errors import Diagnostic, TracerError
from ..core.drawing import stress
from ..core.variants import USABLE_SHARE
from ..exporters.base import Options, environment, exporters
from ..exporters.quiz import QUIZ_FORMATS
from ..view.solution import solve
from .cache import Cache, code_fingerprint, digest
from .config import Site
from .pages import SITE_FOLDER, ProblemPages

__all__ = ["check_variants", "Classroom", "booklets", "Student", "read_roster", "VariantPages", "make_variants",
           "variant_folder"]


def check_variants(graphs: Sequence, count: int, salt: str) -> list[TracerError]:
    """Draw ``count`` variants of each problem, print what was usable and why the rest
    was rejected; the failures are problems without ``variants:`` or with fewer than
    90% usable draws, naming the most common cause."""
    failures: list[TracerError] = []
    reports = []
    for graph in graphs:
        problem = graph.problem
        if problem.variants is None:
            failures.append(TracerError([Diagnostic(problem.path, "no 'variants:' block: say "
                                                    "how the inputs may vary, e.g. 'variants: "
                                                    "{x: {integers: [-5, 5]}}'")]))
            continue
        report = stress(graph, salt, count)
        reports.append((problem.path, report))
        if not report.passed:
            reason, number, example = report.reasons[0]
            failures.append(TracerError([Diagnostic(
                problem.path, f"only {report.usable} of {report.drawn} variants are usable "
                f"(below {USABLE_SHARE:.0%}); the most common cause is {reason} ({number} "
                f"draws), e.g. {example}: narrow or move the ranges of 'variants:'",
                problem.line("variants"))]))
    sys.stdout.write(environment().get_template("terminal/variants.txt.j2").render(
        reports=reports))
    return failures


# ----------------------------------------------------------------------------- the build's

@dataclass(frozen=True)
class Classroom:
    """What ``tracer build`` is asked for besides the site: a roster, numbered variants,
    a salt and keys to release (each overriding mkdocs.yml where given), and the day
    release dates are compared with (today unless given)."""

    students: Optional[Path] = None
    variants: int = 0
    salt: Optional[str] = None
    release_keys: bool = False
    today: Optional[datetime.date] = None

    def day(self) -> datetime.date:
        return self.today or datetime.date.today()

    def settle(self, site: Site) -> Site:
        """``site`` with this build's choices, its two output folders checked apart."""
        if self.variants < 0:
            raise TracerError([Diagnostic(str(site.config_file), "--variants takes a number "
                                          "of 0 or more")])
        site = dataclasses.replace(
            site, salt=site.salt if self.salt is None else self.salt,
            release_keys=site.release_keys or self.release_keys,
            instructor_output=site.instructor_output or site.output.parent / (
                site.output.name + "-instructor"))
        a, b = site.output, site.instructor_output
        if a == b or a in b.parents or b in a.parents:
            raise TracerError([Diagnostic(str(site.config_file), "the instructor edition "
                                          f"({b}) and the student edition ({a}) need folders "
                                          "apart: change the tracer plugin's instructor_dir")])
        return site


# ----------------------------------------------------------------------------- rosters

@dataclass(frozen=True)
class Student:
    """A line of the roster: the student's id, name (the id where none is given) and the
    folder of their files (``students/<slug>/``)."""

    id: str
    name: str
    slug: str


def read_roster(path: Path) -> list[Student]:
    """A CSV file with a header naming at least an ``id`` column (and optionally ``name``);
    every mistake is reported at once."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise TracerError([Diagnostic(shown, f"cannot read the roster: {reason}")]) from None
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if "id" not in header:
        raise TracerError([Diagnostic(shown, "the roster needs a header line with an 'id' "
                                      "column (and optionally 'name'), e.g. 'id,name'", 1)])
    at_id = header.index("id")
    at_name = header.index("name") if "name" in header else None
    errors: list[Diagnostic] = []
    students: list[Student] = []
    seen: dict[str, int] = {}
    slugs: dict[str, str] = {}
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        sid = row[at_id].strip() if at_id < len(row) else ""
        name = row[at_name].strip() if at_name is not None and at_name < len(row) else ""
        if not sid:
            errors.append(Diagnostic(shown, "this line has no id: every student needs one",
                                     line))
            continue
        if sid in seen:
            errors.append(Diagnostic(shown, f"the id '{sid}' is already on line {seen[sid]}: "
                                     "ids must be unique", line))
            continue
        seen[sid] = line
        slug = re.sub(r"[^a-z0-9]+", "-", sid.lower()).strip("-")[:60] or "student"
        if slug in slugs:
            errors.append(Diagnostic(shown, f"the ids '{slugs[slug]}' and '{sid}' would share "
                                     f"the folder students/{slug}/: make them differ in "
                                     "letters or digits", line))
            continue
        slugs[slug] = sid
        students.append(Student(sid, name or sid, slug))
    if not students and not errors:
        errors.append(Diagnostic(shown, "the roster lists no student"))
    if errors:
        raise TracerError(errors[:20] + ([Diagnostic(shown, f"... and {len(errors) - 20} "
                                                     "more")] if len(errors) > 20 else []))
    return students


# ----------------------------------------------------------------------------- variants

@dataclass(frozen=True)
class VariantPages:
    """One variant of one problem: a numbered variant (``problems/<id>/variant-01/``) or a
    student's (``students/<slug>/<id>/``), with the note that names it on paper."""

    problem: str
    folder: str
    number: Optional[int]
    student: Optional[Student]
    short: str
    pages: ProblemPages


@dataclass(frozen=True)
class _Wanted:
    key: str              # the variant's key: variant-3, or student:<id>
    cache_key: str
    folder: str
    number: Optional[int]
    student: Optional[Student]


def variant_folder(problem: str, number: Optional[int], student: Optional[Student]) -> str:
    if student is not None:
        return f"students/{student.slug}/{problem}"
    return f"{SITE_FOLDER}/{problem}/variant-{number:02d}"


def make_variants(sources: Sequence[Path], cache: Cache, *, count: int,
                  students: Sequence[Student], salt: str, allow_html: bool,
                  run: Callable, workers: int) -> list[VariantPages]:
    """Every numbered variant (1 to ``count``) and every student's variant of each problem
    that has a ``variants:`` block (the others keep their own inputs: a student's
    worksheet of such a problem is the canonical one), rendered like the problem's own
    pages and cached by content."""
    from ..core.load import problem_id

    if not count and not students:
        return []
    fingerprint = code_fingerprint()
    jobs = []
    for path in sources:
        data = path.read_bytes()
        pid = problem_id(path)
        wanted = [_Wanted(f"variant-{k}", "", variant_folder(pid, k, None), k, None)
                  for k in range(1, count + 1)]
        wanted += [_Wanted(f"student:{s.id}", "", variant_folder(pid, None, s), None, s)
                   for s in students]
        wanted = [dataclasses.replace(w, cache_key=digest(
            fingerprint, "variant", pid, str(allow_html), salt, w.key,
            w.student.name if w.student else "", data)) for w in wanted]
        jobs.append((path, pid, wanted, salt, allow_html, cache.folder))
    made: list[VariantPages] = []
    for result in run(_render_variants, jobs, workers):
        if isinstance(result, TracerError):
            raise result
        made.extend(result)
    return made


def _render_variants(job) -> Union[list[VariantPages], TracerError]:
    """The variants of one problem (runs in a worker process): the graph and its formulas
    are made once; each variant is a trace of it with other inputs."""
    from ..core.drawing import make_variant
    from ..core.engine import trace
    from ..core.graph import build_graph
    from ..core.load import load
    from ..core.variants import variant_seed
    from ..exporters.checking import canonical_seed
    from ..view.derive import derive

    path, pid, wanted, salt, allow_html, folder = job
    store = Cache(folder)
    found: list[VariantPages] = []
    graph = derivation = None
    try:
        problem = load(path)
    except TracerError as exc:
        return exc
    for w in wanted:
        # The seed is fixed by the key (a redraw goes on along its stream): the note can
        # be written without tracing again.
        seed = variant_seed(salt, pid, w.key) if problem.variants is not None \
            else canonical_seed(pid, problem.inputs)
        pages = store.pages(w.cache_key)
        if pages is None:
            try:
                if graph is None:
                    graph = build_graph(problem)
                    derivation = derive(graph)
                result = make_variant(graph, salt, w.key).trace \
                    if problem.variants is not None else trace(graph)
            except TracerError as exc:
                return exc
            solution = solve(graph, result, derivation)
            options = Options(allow_html=allow_html, seed=seed, number=w.number,
                              student=w.student.name if w.student else "")
            files: dict = {}
            for exporter in exporters():
                # The course's quizzes hold the numbered variants (tracer.site.quizzes).
                if exporter.site and exporter.name not in QUIZ_FORMATS:
                    files.update(exporter.files(solution, options))
            pages = store.store_pages(w.cache_key, ProblemPages(
                id=pid, title=solution.title, tags=tuple(solution.tags), source=path.name,
                files=dict(sorted(files.items()))))
        found.append(VariantPages(pid, w.folder, w.number, w.student, seed[:8], pages))
    return found


# ----------------------------------------------------------------------------- booklets

def booklets(students: Sequence[Student], variants: Sequence[VariantPages],
             order: Sequence[str], cache: Cache, mode: Union[str, bool]) -> dict[str, bytes]:
    """Each student's worksheets, and answer keys, as one PDF each
    (``students/<slug>/worksheets.pdf``, ``answers.pdf``): the problems' PDFs in problem
    order, put together by pdflatex with pdfpages.  Empty where there are no PDFs."""
    import shutil

    from .pdf import SOURCE_DATE_EPOCH, LatexFailed, run_pdflatex

    pdflatex = shutil.which("pdflatex")
    if mode is False or pdflatex is None:
        return {}
    rank = {pid: k for k, pid in enumerate(order)}
    made: dict[str, bytes] = {}
    template = environment().get_template("latex/booklet.tex.j2")
    for student in students:
        mine = sorted((v for v in variants if v.student == student),
                      key=lambda v: rank.get(v.problem, len(rank)))
        for kind in ("worksheet", "answers"):
            parts = {f"{v.problem}.pdf": v.pages.content(f"{kind}.pdf") for v in mine
                     if f"{kind}.pdf" in v.pages.files}
            if not parts:
                continue
            source = template.render(files=list(parts))
            key = digest("booklet", str(SOURCE_DATE_EPOCH), source,
                         *(digest(p) for p in parts.values()))
            pdf = cache.pdf(key)
            if pdf is None:
                try:
                    pdf = run_pdflatex(pdflatex, "booklet.tex", {"booklet.tex": source,
                                                                 **parts})
                except LatexFailed as exc:
                    raise TracerError([Diagnostic(f"students/{student.slug}",
                                                  f"pdflatex failed on the booklet: {exc}")])
                cache.store_pdf(key, pdf)
            name = "worksheets.pdf" if kind == "worksheet" else "answers.pdf"
            made[f"students/{student.slug}/{name}"] = pdf
    return made
