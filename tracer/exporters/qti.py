"""IMS QTI 1.2 quizzes (Canvas Classic Quizzes, Blackboard): an IMS content package (a zip
with ``imsmanifest.xml``, the assessment and its figures) holding one section per problem
and asked blank, each drawing one variant (``selection_ordering``); every variant is a
``numerical_question`` item (``render_fib fibtype="Decimal"``) whose ``respcondition``
accepts [answer - tolerance, answer + tolerance], with the worked answer key as its
general feedback; from ``templates/quiz/``."""
from __future__ import annotations

import io
import zipfile
from typing import Sequence

from ..view.solution import Solution
from .base import Content, Download, Exporter, Options, environment, register
from .quiz import Figure, QuizProblem, QuizSettings, number_text, one_variant

__all__ = ["QtiExporter", "qti_package", "QUIZ_NAME", "ASSESSMENT"]

#: The file a problem's folder offers: its own inputs as a one-variant quiz.
QUIZ_NAME = "quiz-qti.zip"
#: The assessment inside the package.
ASSESSMENT = "tracer-quiz.xml"
#: Entries of the zip carry this date: two exports of the same problems are identical.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _media(markup: str, figures: Sequence[Figure]) -> str:
    for f in figures:
        markup = markup.replace(f'src="{f.name}"', f'src="{f.media}"')
    return markup


def qti_package(problems: Sequence[QuizProblem], settings: QuizSettings,
                title: str = "tracer") -> bytes:
    """The zip of these problems' variants."""
    env = environment()
    ident = "tracer-quiz"
    assessment = env.get_template("quiz/qti.xml.j2").render(
        problems=problems, ident=ident, title=title, points=number_text(settings.points),
        media=_media, full=number_text).lstrip()
    media = {f.media: f.data for p in problems for v in p.variants
             for f in v.figures + v.key_figures}
    manifest = env.get_template("quiz/manifest.xml.j2").render(
        ident=ident, assessment=ASSESSMENT, media=sorted(media)).lstrip()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = {"imsmanifest.xml": manifest.encode("utf-8"),
                   ASSESSMENT: assessment.encode("utf-8"), **media}
        for name in ["imsmanifest.xml", ASSESSMENT] + sorted(media):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])
    return buffer.getvalue()


@register
class QtiExporter(Exporter):
    name = "qti"
    order = 61
    downloads = (Download("quiz", "qti", QUIZ_NAME),)

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        made = one_variant(solution, options)
        return {QUIZ_NAME: qti_package(made, QuizSettings(), solution.title)} if made else {}
