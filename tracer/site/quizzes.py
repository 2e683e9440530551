"""Quizzes of a course: every problem, with its numbered variants, as Moodle XML or an IMS
QTI 1.2 package, for ``tracer export`` and the instructor edition's downloads
(``quizzes/moodle.xml``, ``quizzes/qti.zip``).  Variant k is the site's variant k: the
same key and salt give the same numbers."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence, Union

from ..core.errors import Diagnostic, TracerError
from ..exporters.base import Options
from ..exporters.moodle import QUIZ_NAME as MOODLE_NAME, moodle_xml
from ..exporters.qti import QUIZ_NAME as QTI_NAME, qti_package
from ..exporters.quiz import QuizSettings, problems_of, quiz_figures
from .cache import Cache, code_fingerprint, digest
from .pages import ProblemPages

__all__ = ["quiz", "export", "course_quizzes", "FORMATS"]

#: Quiz formats and the file each writes in the instructor edition.
FORMATS = {"moodle": "quizzes/moodle.xml", "qti": "quizzes/qti.zip"}
#: The quiz files of a problem's own folder.
QUIZ_NAMES = (MOODLE_NAME, QTI_NAME)


def _solutions(sources: Sequence[Path], variants: int, salt: str) -> list:
    from ..core.drawing import make_variant
    from ..core.engine import trace
    from ..core.graph import build_graph
    from ..core.load import load
    from ..view.derive import derive
    from ..view.solution import measure, solve

    made = []
    failures: list[Diagnostic] = []
    for path in sources:
        try:
            graph = build_graph(load(path))
            first = trace(graph)
            if graph.tensor is None and not measure(first).written_out:
                continue    # too large to ask step by step: its pages give an overview
            derivation = derive(graph)
            runs = [(first, Options())]
            if graph.problem.variants is not None:
                for k in range(1, variants + 1):
                    v = make_variant(graph, salt, f"variant-{k}")
                    runs.append((v.trace, Options(seed=v.seed, number=k)))
        except TracerError as exc:
            failures.extend(exc.diagnostics)
            continue
        for result, options in runs:
            solution = solve(graph, result, derivation)
            made.append((solution, quiz_figures(solution), options))
    if failures:
        raise TracerError(failures)
    return made


def quiz(kind: str, sources: Sequence[Path], *, variants: int = 0, salt: str = "",
         settings: QuizSettings = QuizSettings(), title: str = "tracer") -> Union[str, bytes]:
    """The quiz of these problem files in the format ``kind`` (``moodle`` or ``qti``)."""
    return _written(kind, problems_of(_solutions(sources, variants, salt), settings),
                    settings, title)


def _written(kind: str, problems: list, settings: QuizSettings, title: str
             ) -> Union[str, bytes]:
    if kind == "moodle":
        return moodle_xml(problems, settings)
    return qti_package(problems, settings, title)


def export(kind: str, sources: Sequence[Path], output: Path, **options) -> int:
    """Write the quiz to ``output`` (whole or not at all); returns its size in bytes."""
    content = quiz(kind, sources, **options)
    data = content.encode("utf-8") if isinstance(content, str) else content
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TracerError([Diagnostic(str(output), f"cannot write the quiz: {exc.strerror}")])
    return len(data)


def course_quizzes(sources: Sequence[Path], cache: Cache, *, variants: int, salt: str,
                   title: str, pages: Sequence[ProblemPages] = ()
                   ) -> dict[str, Union[str, bytes]]:
    """Both quizzes of the course for the instructor edition, cached by content.  Given
    the problems' ``pages``, a problem whose folder has no quiz of its own (too large to
    ask step by step, or a layer without a component view) is not read again."""
    if pages:
        own = set(QUIZ_NAMES)
        asked = {p.source for p in pages if own & set(p.files)}
        sources = [path for path in sources if path.name in asked]
    key = digest(code_fingerprint(), "quizzes", str(variants), salt, title,
                 *(p.read_bytes() for p in sources))
    kept = cache.pages(key)
    if kept is None:
        problems = problems_of(_solutions(sources, variants, salt), QuizSettings())
        files = {Path(name).name: _written(kind, problems, QuizSettings(), title)
                 for kind, name in FORMATS.items()}
        kept = cache.store_pages(key, ProblemPages(id="quizzes", title=title, tags=(),
                                                   source="", files=files))
    made: dict[str, Union[str, bytes]] = {}
    for name in FORMATS.values():
        made[name] = kept.content(Path(name).name)
    return made
