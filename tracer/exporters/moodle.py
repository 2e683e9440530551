"""Moodle XML quizzes (what Moodle's question/format/xml imports): one category per
problem (``$course$/tracer/<title>``), then one question per variant and asked blank
(numerical, with an absolute tolerance) or one cloze question per variant, each with the
worked answer key as general feedback and its figures embedded, from ``templates/quiz/``.
"""
from __future__ import annotations

from typing import Sequence

from ..view.solution import Solution
from .base import Content, Download, Exporter, Options, environment, register
from .quiz import (Figure, QuizProblem, QuizSettings, QuizVariant, cdata, number_text,
                   one_variant)

__all__ = ["MoodleExporter", "moodle_xml", "QUIZ_NAME"]

#: The file a problem's folder offers: its own inputs as a one-variant quiz.
QUIZ_NAME = "quiz-moodle.xml"


def _files(figures: Sequence[Figure]) -> str:
    return "".join(f'      <file name="{f.name}" path="/" encoding="base64">{f.base64}</file>\n'
                   for f in figures)


def _pluginfile(markup: str, figures: Sequence[Figure]) -> str:
    for f in figures:
        markup = markup.replace(f'src="{f.name}"', f'src="@@PLUGINFILE@@/{f.name}"')
    return markup


def _cloze_parts(variant: QuizVariant) -> str:
    ask = environment().get_template("quiz/macros.j2").module.ask   # type: ignore[attr-defined]
    return "\n".join(f"<p>{ask(q)} {{1:NUMERICAL:={number_text(q.value)}:{number_text(q.tolerance)}}}</p>"
                     for q in variant.questions)


def moodle_xml(problems: Sequence[QuizProblem], settings: QuizSettings) -> str:
    """The Moodle XML of these problems' variants."""
    text = environment().get_template("quiz/moodle.xml.j2").render(
        problems=problems, cloze=settings.cloze, points=number_text(settings.points), cdata=cdata,
        files=_files, pluginfile=_pluginfile, full=number_text, cloze_parts=_cloze_parts)
    return text.lstrip()


@register
class MoodleExporter(Exporter):
    name = "moodle"
    order = 60
    downloads = (Download("quiz", "moodle", QUIZ_NAME),)

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        made = one_variant(solution, options)
        return {QUIZ_NAME: moodle_xml(made, QuizSettings())} if made else {}
