"""The two editions of a classroom build: the student edition holds no answer anywhere
(pages, PDFs, figures, search index, sitemap, LaTeX and code), the instructor edition holds
everything; rosters, numbered variants and released keys.

One build of the bundled problems with two numbered variants and a roster of three is
shared by the module.  The leak test reads every file of the student edition the way a
reader could: the text of pages, figures and PDFs (pdftotext), the search index, the
sitemap (gzip too), the sources.  The same reading of the instructor edition finds the
answers, so the test can see them where they are.
"""
from __future__ import annotations

import datetime
import gzip
import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tracer.core.drawing import make_variant
from tracer.core.engine import trace
from tracer.core.expr import Const, walk
from tracer.core.graph import build_graph
from tracer.core.load import load
from tracer.notation.numbers import fmt
from tracer.site.build import Classroom, build
from tracer.site.cache import ASSETS

from test_build import copy_project

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted(ROOT.joinpath("problems").glob("*.yaml"))
HAVE_PDFLATEX = shutil.which("pdflatex") is not None
HAVE_PDFTOTEXT = shutil.which("pdftotext") is not None
SALT = "test course 2027"
ROSTER = "id,name\nq-901,Zelda Quixote\nq-902,Yorick Vantablack\nq-903,Xanthe Wobbegong\n"
VARIANTS = 2

pytestmark = pytest.mark.slow   # whole builds


@dataclass
class Course:
    work: Path
    student: Path
    instructor: Path


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "tracer-cache"


@pytest.fixture(scope="module")
def course(tmp_path_factory, shared_cache) -> Course:
    work = tmp_path_factory.mktemp("classroom")
    config = copy_project(work, cache=shared_cache)
    (work / "roster.csv").write_text(ROSTER, encoding="utf-8")
    build(config, say=lambda m: None, classroom=Classroom(
        students=work / "roster.csv", variants=VARIANTS, salt=SALT,
        today=datetime.date(2026, 12, 1)))
    return Course(work, work / "public", work / "public-instructor")


# ----------------------------------------------------------------------------- answers

def _answers(t, precision: int) -> set[str]:
    """Every answer of a trace as a reader could find it written: at the shown precision
    and in full (without the sign, which pages write in several ways)."""
    values = [n.value for n in t.nodes if n.kind == "gate"] + [n.grad for n in t.nodes]
    values += [l.value for n in t.nodes for l in getattr(n, "locals", ())]  # scalar gates
    values += [s.contribution for s in t.backward]
    if t.update is not None:
        values += [p.new for p in t.update.params] + [t.update.output_after]
    texts = set()
    for v in (x for value in values for x in _entries(value)):
        texts.add(canonical(fmt(abs(v), precision)))
        texts.add(canonical(repr(abs(v))))
    return texts


def _entries(value) -> list[float]:
    """A number, or every entry of a vector or matrix."""
    return np.asarray(value, dtype=float).ravel().tolist()


def canonical(text: str) -> str:
    """One spelling per number (18, 18.0 and 1.8e1 are one number)."""
    return repr(float(text))


def _given(problem, inputs, steps: int) -> set[str]:
    """Numbers a worksheet shows that are not answers: the inputs, the constants, the
    author's text, step numbers, the section numbers."""
    numbers = [x for _, v in inputs for x in _entries(v)]
    given = {fmt(abs(v), problem.precision) for v in numbers}
    given |= {repr(abs(v)) for v in numbers}
    for node in problem.nodes or ((problem.expression,) if problem.expression else ()):
        given |= {fmt(abs(c.value), problem.precision) for c in walk(node.expr)
                  if isinstance(c, Const)}
    given |= set(re.findall(r"\d+(?:\.\d+)?", problem.statement + problem.title))
    if problem.update:
        given.add(fmt(problem.update.learning_rate, problem.precision))
    if getattr(problem, "train", None):      # the training's settings, as the page says them
        given |= {fmt(v, problem.precision) for v in (problem.train.learning_rate,
                                                     problem.train.momentum,
                                                     problem.train.clip) if v is not None}
    given |= {str(k) for k in range(0, max(steps, 6) + 1)}   # steps, sections, digits
    given |= _navigation()
    return {canonical(g) for g in given}


def _navigation() -> set[str]:
    """The numbers of every page's navigation: the problems' titles and the numbers in
    their ids (the links)."""
    found = set()
    for path in PROBLEMS:
        found |= set(re.findall(r"\d+(?:\.\d+)?", load(path).title + " " + path.stem))
    return found


def _distinctive(text: str) -> bool:
    """At least three significant digits: not a number any page may show by chance."""
    return len(re.sub(r"e.*$", "", text).replace(".", "").strip("0")) >= 3


@dataclass(frozen=True)
class Secret:
    problem: str
    folder: str           # the folder of the student edition showing these numbers
    texts: frozenset      # every answer not otherwise shown on its worksheet


def secrets(course: Course) -> list[Secret]:
    """The answers of every problem and numbered variant whose key is not released."""
    found = []
    for path in PROBLEMS:
        problem = load(path)
        if problem.release is not None:
            continue
        graph = build_graph(problem)
        shown = [(f"problems/{problem.id}", problem.inputs, trace(graph))]
        for k in range(1, VARIANTS + 1):
            v = make_variant(graph, SALT, f"variant-{k}")
            shown.append((f"problems/{problem.id}/variant-{k:02d}", v.inputs, v.trace))
        for folder, inputs, t in shown:
            texts = _answers(t, problem.precision) - _given(problem, inputs, len(t.backward))
            found.append(Secret(problem.id, folder, frozenset(texts)))
    return found


# ----------------------------------------------------------------------------- reading files

# a number, not a part of a version (mkdocs-1.6.1)
TOKEN = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?(?![\w]|\.\d)")
_COPIES: dict[str, set[str]] = {}


def _packaged() -> set[str]:
    """Hashes of the files the site copies unchanged from the theme and tracer's assets:
    the same in every build, so they cannot hold a problem's numbers."""
    if not _COPIES:
        import material

        roots = [Path(material.__file__).parent, ASSETS]
        _COPIES["all"] = {hashlib.sha256(p.read_bytes()).hexdigest()
                          for root in roots for p in root.rglob("*") if p.is_file()}
    return _COPIES["all"]


def readable_text(path: Path) -> str:
    """What a reader can read in a file: the text of a page or figure, a PDF's text."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    if path.suffix == ".pdf":
        assert HAVE_PDFTOTEXT, "pdftotext is needed to read the PDFs"
        return subprocess.run(["pdftotext", "-q", str(path), "-"], capture_output=True,
                              check=True).stdout.decode("utf-8", "replace")
    text = data.decode("utf-8", "replace")
    if path.suffix == ".html":
        # The theme's icons are inline SVG paths: their coordinates are no one's answers.
        text = re.sub(r"<svg\b.*?</svg>", " ", text, flags=re.S)
        # the check-your-answer box's settings (tolerance, digits, width), not answers
        text = re.sub(r"&quot;(?:rtol|atol|digits|cell)&quot;:[-\d.e]+", " ", text)
    if path.suffix == ".svg":
        # A figure's geometry is coordinates; what it says is its text and data.
        parts = re.findall(r"<text[^>]*>([^<]*)</text>|data-[\w-]+=\"([^\"]*)\"", text)
        text = " ".join(a or b for a, b in parts)
    if path.suffix == ".tex" and r"\begin{document}" in text:
        # the shared preamble is layout (\arraystretch and the like), the same for all
        text = text.split(r"\begin{document}", 1)[1]
    if path.name.endswith(".tikz.tex") or path.suffix == ".tex":
        text = re.sub(r"\(\s*-?[\d.]+\s*(?:pt|cm|bp)?\s*,\s*-?[\d.]+\s*(?:pt|cm|bp)?\s*\)", " ",
                      text)
        text = re.sub(r"-?[\d.]+\s*(?:pt|cm|mm|em|ex|bp|in)\b", " ", text)
        text = re.sub(r"tracerline=[\d.]+", " ", text)     # a line's width
    return text


def tokens(path: Path) -> set[str]:
    return {canonical(t) for t in TOKEN.findall(readable_text(path))}


def scan(site: Path, found: list[Secret]) -> list[str]:
    """Every answer found in ``site``: in the files of its own problem (every answer not
    shown on the worksheet) and anywhere else (the distinctive ones)."""
    hits = []
    packaged = _packaged()
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        if hashlib.sha256(path.read_bytes()).hexdigest() in packaged:
            continue
        relative = path.relative_to(site).as_posix()
        words = tokens(path)
        for secret in found:
            own = relative.rpartition("/")[0] == secret.folder
            wanted = secret.texts if own else {t for t in secret.texts if _distinctive(t)}
            for text in sorted(words & wanted):
                hits.append(f"{relative}: {text} ({secret.folder})")
    return hits


# ----------------------------------------------------------------------------- the editions

def test_the_student_edition_holds_no_answer(course):
    found = secrets(course)
    assert len(found) == (len(PROBLEMS) - 1) * (1 + VARIANTS)   # 02 is released at once
    hits = scan(course.student, found)
    assert hits == [], "\n".join(hits[:40])


def test_the_same_reading_finds_the_answers_in_the_instructor_edition(course):
    # The positive control: every problem's answers are found in its key's page and PDF.
    found = secrets(course)
    hits = scan(course.instructor, found)
    for secret in found:
        mine = [h for h in hits if h.endswith(f"({secret.folder})")]
        if not secret.texts:
            continue    # every answer is also a number the worksheet shows (small integers)
        assert any(h.startswith(f"{secret.folder}/answers.html:") for h in mine), secret.folder
        if HAVE_PDFLATEX:
            assert any(h.startswith(f"{secret.folder}/answers.pdf:") for h in mine)


def test_the_student_edition_publishes_worksheets_only(course):
    for path in PROBLEMS:
        problem = load(path)
        folder = course.student / "problems" / problem.id
        names = {p.name for p in folder.iterdir() if p.is_file()}
        if problem.release is not None:          # released: the key is there too
            assert {"answers.html", "staged.py", "gradients.svg"} <= names
            continue
        expected = {"worksheet.html", "worksheet.tex", "graph.svg", "graph.tikz.tex",
                    "problem.yaml"} | ({"worksheet.pdf"} if HAVE_PDFLATEX else set())
        assert names == expected, problem.id
        layers = build_graph(problem).tensor is not None
        for k in range(1, VARIANTS + 1):
            variant = {p.name for p in (folder / f"variant-{k:02d}").iterdir()}
            # a layer's component view: its worksheet and figure, never its key
            assert variant == expected - {"problem.yaml"} | ({"components"} if layers
                                                             else set()), (problem.id, k)
        if layers:
            assert {p.name for p in (folder / "components").iterdir()} >= {"worksheet.html"}
            assert not (folder / "components" / "answers.html").exists()
        worksheet = (folder / "worksheet.html").read_text(encoding="utf-8")
        assert 'href="answers.html"' not in worksheet
        if not layers:        # the check-your-answer boxes are those of scalar worksheets
            assert "tracer-blank" in worksheet and "data-check" in worksheet, problem.id
    home = (course.student / "index.html").read_text(encoding="utf-8")
    assert "answers.html" not in re.sub(r"02-sum-then-product/[\w/-]*answers\.html", "", home)
    search = (course.student / "search" / "search_index.json").read_text(encoding="utf-8")
    indexed = set(re.findall(r'"location":"(problems/[^"#]*)', search))
    assert indexed and all(page.endswith("worksheet.html") or "02-sum-then-product" in page
                           for page in indexed), sorted(indexed)


def test_the_roster_never_reaches_the_student_edition(course):
    assert not (course.student / "students").exists()
    for path in course.student.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml", ".tex", ".yaml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for word in ("Quixote", "Vantablack", "Wobbegong", "q-901", "q-902", "q-903"):
                assert word not in text, (path, word)


def test_each_student_has_their_own_numbers_name_and_keys(course):
    students = course.instructor / "students"
    listing = (students / "index.html").read_text(encoding="utf-8")
    for name in ("Zelda Quixote", "Yorick Vantablack", "Xanthe Wobbegong"):
        assert name in listing
    graph = build_graph(load(ROOT / "problems" / "03-two-paths.yaml"))
    seen = set()
    for sid, name in (("q-901", "Zelda Quixote"), ("q-902", "Yorick Vantablack"),
                      ("q-903", "Xanthe Wobbegong")):
        slug = sid
        folder = students / slug / "03-two-paths"
        v = make_variant(graph, SALT, f"student:{sid}")
        worksheet = (folder / "worksheet.html").read_text(encoding="utf-8")
        answers = (folder / "answers.html").read_text(encoding="utf-8")
        # The note names the variant on both: problem id and short seed, and the student.
        for page in (worksheet, answers):
            assert f"Variant 03-two-paths · {v.short}" in page and name in page
        # Keys and worksheets of one variant come from the same trace.
        grad = fmt(v.trace.gradients["x4"], 4)
        assert grad.lstrip("-") in answers
        seen.add(v.inputs)
        if HAVE_PDFLATEX:
            for booklet in ("worksheets.pdf", "answers.pdf"):
                assert (students / slug / booklet).read_bytes().startswith(b"%PDF")
            if HAVE_PDFTOTEXT:
                text = readable_text(students / slug / "worksheets.pdf")
                assert name in text and v.short in text
    assert len(seen) == 3


def test_a_release_date_publishes_the_key_from_that_day(course, tmp_path, shared_cache):
    config = copy_project(tmp_path / "w", cache=shared_cache, pdf="false")
    problem = tmp_path / "w" / "problems" / "03-two-paths.yaml"
    problem.write_text(problem.read_text() + "release: 2027-01-15\n", encoding="utf-8")
    folder = tmp_path / "w" / "public" / "problems" / "03-two-paths"
    build(config, say=lambda m: None, classroom=Classroom(today=datetime.date(2027, 1, 14)))
    assert not (folder / "answers.html").exists()
    build(config, say=lambda m: None, classroom=Classroom(today=datetime.date(2027, 1, 15)))
    assert (folder / "answers.html").is_file() and (folder / "staged.py").is_file()
    assert 'href="answers.html"' in (folder / "worksheet.html").read_text(encoding="utf-8")
    assert not (tmp_path / "w" / "public" / "problems" / "01-chain-rule" / "answers.html").exists()
    build(config, say=lambda m: None, classroom=Classroom(release_keys=True,
                                                          today=datetime.date(2027, 1, 1)))
    assert (tmp_path / "w" / "public" / "problems" / "01-chain-rule" / "answers.html").exists()


def test_a_hand_written_page_never_links_a_withheld_key():
    from tracer.site.editions import withheld_links

    published = {"problems/16-a/worksheet.md", "problems/16-a/graph.svg"}.__contains__
    page = ("See [the key](problems/16-a/answers.md#step-2), [the view]"
            "(problems/16-a/components/answers.md) and [the graph](problems/16-a/graph.svg).\n"
            "![All gradients](problems/16-a/gradients.svg)\n[Out](https://example.org/x.md)\n")
    shown = withheld_links(page, "index.md", published)
    assert shown == ("See [the key](problems/16-a/worksheet.md), [the view]"
                     "(problems/16-a/worksheet.md) and [the graph](problems/16-a/graph.svg).\n"
                     "All gradients\n[Out](https://example.org/x.md)\n")
    # from a page in a folder, the worksheet is reached the same way the key was
    assert withheld_links("[k](../problems/16-a/answers.md)", "guide/layers.md", published) \
        == "[k](../problems/16-a/worksheet.md)"


def test_a_page_for_the_instructor_stays_out_of_the_student_edition(course):
    # site/layers.md works the layer problems out: its front matter keeps it for instructors
    assert not (course.student / "layers" / "index.html").exists() and \
        not (course.student / "layers.html").exists()
    assert list(course.instructor.glob("layers*"))
    authoring = next(course.student.glob("authoring*"))
    page = (authoring / "index.html" if authoring.is_dir() else authoring).read_text()
    assert "From scalars to layers" in page and 'href="../layers/' not in page \
        and 'href="layers' not in page
