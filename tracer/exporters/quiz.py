"""What the quiz formats share (:mod:`.moodle`, :mod:`.qti`): the questions a worked
solution asks, their correct answers and tolerances, the question text and the general
feedback (the site's answer key itself, as HTML), and the figures they show.

A question's correct answer is the trace's value; its tolerance is absolute, as both
platforms grade: max(rtol * |answer|, atol), with the problem's (or the export's) rtol and
atol.  Math is written with ``\\( \\)`` and ``\\[ \\]``, which Moodle's MathJax filter and
Canvas typeset.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from ..core.variants import Tolerance
from ..notation.numbers import fmt_full
from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import Options, document_environment, environment, shared, written_out
from .checking import Note, note, own_seed
from .code import generated_code
from .deeptex import deep_tex
from .mathtex import tex_solution
from .mdmath import md_math

__all__ = ["QuizSettings", "Question", "QuizVariant", "QuizProblem", "quiz_variant",
           "QUIZ_FORMATS", "BLANKS", "cdata", "key_html"]

#: The exporters that write quizzes: made for the instructor edition, not for every
#: student's variant.
QUIZ_FORMATS = ("moodle", "qti")
#: Which blanks become questions: the final gradients, or every forward value and local
#: gradient too.
BLANKS = ("final", "all")
#: Every question carries the problem's text and, as its feedback, the answer key: past
#: this many backward steps the key is left out of the feedback (a sentence sends the
#: student to the site's key), as a key that long repeated per question grows with the
#: square of the problem's size (10 000 gradients of a 10 000-term sum: 10 000 keys).
MAX_FEEDBACK_STEPS = 400
#: What one variant's questions may repeat in all (characters of question text): past it
#: only the first questions are asked, and the problem's description says how many.
QUIZ_BUDGET = 8_000_000


@dataclass(frozen=True)
class QuizSettings:
    """Choices of an export: which blanks are asked, the points of a question, the
    tolerance (the problem's own unless given), the kind of Moodle question."""

    blanks: str = "final"
    points: float = 1.0
    tolerance: Optional[Tolerance] = None
    cloze: bool = False


@dataclass(frozen=True)
class Question:
    """One asked number: what is asked (LaTeX), the answer and its absolute tolerance."""

    id: str
    asked: str          # LaTeX of the quantity asked for
    kind: str           # "final", "forward" or "local"
    value: float
    tolerance: float

    @property
    def low(self) -> float:
        return self.value - self.tolerance

    @property
    def high(self) -> float:
        return self.value + self.tolerance


@dataclass(frozen=True)
class Figure:
    name: str           # as the HTML refers to it
    data: bytes

    @property
    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    @property
    def media(self) -> str:
        """A name unique by content, for a package holding the figures of many questions."""
        return f"media/{hashlib.sha256(self.data).hexdigest()[:16]}-{self.name}"


@dataclass(frozen=True)
class QuizVariant:
    """One variant of a problem as quiz questions."""

    note: Note
    text: str                        # the question's HTML, figures by name
    key: str                         # the general feedback: the answer key as HTML
    questions: tuple[Question, ...]
    figures: tuple[Figure, ...]      # of the text
    key_figures: tuple[Figure, ...]  # of the key
    asked_of: int = 0                # the blanks there were, when not all are asked
    key_left_out: bool = False       # the key is too long to repeat with each question


@dataclass(frozen=True)
class QuizProblem:
    id: str
    title: str
    variants: tuple[QuizVariant, ...]


def cdata(text: str) -> str:
    """``text`` as XML character data that no content can end early."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _questions(solution: Solution, settings: QuizSettings) -> tuple[Question, ...]:
    tolerance = settings.tolerance or solution.tolerance or Tolerance()
    tex = shared(solution, tex_solution)
    asked: list[Question] = []
    if settings.blanks == "all":
        asked += [Question(f"f-{g.name}", g.symbol, "forward", line.value,
                           tolerance.of(line.value))
                  for g, line in zip(tex.gates, solution.gates)]
        locals_ = [l for line in solution.gates for l in line.locals]
        asked += [Question(f"l-{k}", t.symbol, "local", l.value, tolerance.of(l.value))
                  for k, (t, l) in enumerate(zip(tex.locals, locals_), 1)]
    asked += [Question(f"g-{f.name}", t.grad_symbol, "final", f.grad, tolerance.of(f.grad))
              for t, f in zip(tex.final, solution.final)]
    return tuple(asked)


def statement_html(text: str) -> str:
    """An author's statement as HTML paragraphs: the text escaped, ``$...$`` and
    ``$$...$$`` as MathJax's delimiters, code spans as code."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        if not block.strip():
            continue
        escaped = html.escape(" ".join(block.split()), quote=False)
        escaped = re.sub(r"\$\$(.+?)\$\$", r"\\[\1\\]", escaped)
        escaped = re.sub(r"\$(.+?)\$", r"\\(\1\\)", escaped)
        escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
        paragraphs.append(f"<p>{escaped}</p>")
    return "\n".join(paragraphs)


def key_html(solution: Solution, options: Options) -> str:
    """The site's answer key of ``solution`` as HTML (the same Markdown the site
    publishes, converted as MkDocs does), without the step-through, which needs the
    site's script and repeats the steps written out above it; links to the site's other
    files become their text."""
    import markdown

    tex = dataclasses.replace(shared(solution, tex_solution), frames=())
    names = {f.name: getattr(tex, f.name) for f in dataclasses.fields(tex)}
    names.update(statement_md="", code=shared(solution, generated_code), md=md_math(tex),
                 note=note(solution, options.seed, options.number, options.student),
                 key_link=False, course=options.course, deep=shared(solution, deep_tex))
    text = document_environment().get_template("markdown/answers.md.j2").render(names)
    converted = markdown.Markdown(
        extensions=["pymdownx.arithmatex", "md_in_html", "tables", "attr_list", "admonition",
                    "pymdownx.details", "pymdownx.superfences", "pymdownx.highlight"],
        extension_configs={"pymdownx.arithmatex": {"generic": True},
                           "pymdownx.highlight": {"use_pygments": False}}).convert(text)
    return re.sub(r'<a href="(?![a-z]+:)[^"]*">(.*?)</a>', r"\1", converted)


def quiz_variant(solution: Solution, figures: dict, settings: QuizSettings,
                 options: Options = Options()) -> QuizVariant:
    """``solution`` as quiz questions; ``figures`` are its figures (file name -> SVG)."""
    tex = shared(solution, tex_solution)
    shown = note(solution, options.seed, options.number, options.student)
    text = environment().get_template("quiz/question.html.j2").render(
        s=tex, statement=statement_html(solution.statement), note=shown,
        figure="graph.svg" in figures)
    key_left_out = len(solution.steps) > MAX_FEEDBACK_STEPS
    key = "" if key_left_out else key_html(solution, options)
    questions = _questions(solution, settings)
    asked = max(1, QUIZ_BUDGET // (len(text) + len(key) + 1))

    def used(markup: str) -> tuple[Figure, ...]:
        return tuple(Figure(name, content.encode("utf-8") if isinstance(content, str)
                            else content) for name, content in sorted(figures.items())
                     if f'src="{name}"' in markup)

    return QuizVariant(shown, text, key, questions[:asked], used(text), used(key),
                       len(questions) if asked < len(questions) else 0, key_left_out)


def number_text(value: float) -> str:
    """A number as the quiz files write it: in full, read back exactly."""
    return fmt_full(value + 0.0)


def quiz_figures(solution: Solution) -> dict:
    """The figures a question or its key may show: the graph's and the plots'."""
    from .figures import figures
    from .plots import plot_documents

    return {**shared(solution, figures), **shared(solution, plot_documents)}


def one_variant(solution: Solution, options: Options) -> list[QuizProblem]:
    """A problem's own inputs as a quiz of one variant (what its folder offers)."""
    return problems_of([(solution, quiz_figures(solution), options)], QuizSettings())


def problems_of(solutions: Sequence[tuple[Solution, dict, Options]],
                settings: QuizSettings) -> list[QuizProblem]:
    """Group variants by problem, in the order given."""
    found: dict[str, list[QuizVariant]] = {}
    titles: dict[str, str] = {}
    for solution, figures, options in solutions:
        if not written_out(solution):
            continue    # too large to ask step by step: its pages give an overview
        if is_tensor(solution):
            # A layer is asked entry by entry, as its component view writes it; without
            # a component view (components: none) it has no questions.
            view = getattr(solution, "components", None)
            if view is None:
                continue
            # The layer's own variant note, not one of its component view's names.
            options = dataclasses.replace(options, seed=options.seed or own_seed(solution))
            solution = dataclasses.replace(view.solution, id=solution.id,
                                           title=solution.title)
            figures = quiz_figures(solution)
        found.setdefault(solution.id, []).append(quiz_variant(solution, figures, settings,
                                                              options))
        titles[solution.id] = solution.title
    return [QuizProblem(pid, titles[pid], _alike(v)) for pid, v in found.items()]


def _alike(variants: list[QuizVariant]) -> tuple[QuizVariant, ...]:
    """The variants of one problem asking the same blanks: as many as the variant asking
    fewest (their texts' lengths, and so what fits the budget, differ a little)."""
    asked = min(len(v.questions) for v in variants)
    return tuple(v if len(v.questions) == asked else dataclasses.replace(
        v, questions=v.questions[:asked], asked_of=v.asked_of or len(v.questions))
        for v in variants)
