"""Quiz exports, read back as the importers read them.

Moodle XML as question/format/xml/format.php reads it (a <quiz> of <question> elements: a
category per problem, numerical questions with <answer fraction="100"> holding <text> and
<tolerance>, HTML in CDATA, <file encoding="base64"> referred to as @@PLUGINFILE@@), graded
as qtype_numerical grades a nominal tolerance: |x - a| <= tolerance + 1e-14 max(1, |a|).
IMS QTI 1.2 as an IMS content package (imsmanifest.xml naming the assessment), items of
question_type numerical_question, render_fib fibtype="Decimal", a respcondition accepting
[vargte, varlte], sections drawing one item each; validated against the IMS QTI ASI 1.2.1
DTD when TRACER_QTI_DTD names it (.ci/run fetches it) and lxml is installed.
"""
from __future__ import annotations

import base64
import html
import io
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.core.components import component_view
from tracer.core.drawing import make_variant
from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load
from tracer.exporters.base import Options, get
from tracer.exporters.quiz import QuizSettings
from tracer.site.quizzes import quiz
from tracer.view.solution import solve

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted(ROOT.joinpath("problems").glob("*.yaml"))
SALT = "quiz test"
VARIANTS = 1
QTI_NS = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP_NS = "{http://www.imsglobal.org/xsd/imscp_v1p1}"


def answers() -> dict[tuple[str, str], dict[str, float]]:
    """(problem id, short seed) -> every final gradient, from the traces themselves."""
    found = {}
    for path in PROBLEMS:
        graph = build_graph(load(path))
        runs = [trace(graph)]
        from tracer.exporters.checking import canonical_seed
        shorts = [canonical_seed(graph.problem.id, graph.problem.inputs)[:8]]
        for k in range(1, VARIANTS + 1):
            v = make_variant(graph, SALT, f"variant-{k}")
            runs.append(v.trace)
            shorts.append(v.short)
        for short, t in zip(shorts, runs):
            if graph.tensor is not None:
                # A layer is asked entry by entry: its component view, traced as scalars.
                view = component_view(graph, dict(zip(t.inputs, (t.values[n]
                                                               for n in t.inputs))))
                t = trace(build_graph(view.problem))
            found[(graph.problem.id, short)] = {n: t.gradients[n] for n in t.wrt}
    return found


@pytest.fixture(scope="module")
def expected():
    return answers()


@pytest.fixture(scope="module")
def moodle() -> str:
    return quiz("moodle", PROBLEMS, variants=VARIANTS, salt=SALT)


@pytest.fixture(scope="module")
def qti() -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(quiz("qti", PROBLEMS, variants=VARIANTS, salt=SALT)))


def moodle_accepts(answer: float, tolerance: float, x: float) -> bool:
    """qtype_numerical_answer::within_tolerance for a nominal tolerance (PHP precision 14)."""
    slack = tolerance + 1e-14 * max(1.0, abs(answer))
    return answer - slack <= x <= answer + slack


def outside(answer: float, tolerance: float) -> float:
    return answer + tolerance * (1 + 1e-6) + 1e-12 * max(1.0, abs(answer))


# ----------------------------------------------------------------------------- Moodle XML

def test_moodle_file_is_what_the_importer_reads(moodle, expected):
    assert moodle.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>')
    root = ET.fromstring(moodle.encode("utf-8"))
    assert root.tag == "quiz"
    questions = list(root)
    assert all(q.tag == "question" for q in questions)
    categories = [q for q in questions if q.get("type") == "category"]
    titles = [load(p).title for p in PROBLEMS]
    assert [c.find("category/text").text for c in categories] == \
        [f"$course$/tracer/{t}" for t in titles]
    numerical = [q for q in questions if q.get("type") == "numerical"]
    assert len(numerical) == sum(len(v) for v in expected.values())
    for q in numerical:
        for path in ("name/text", "questiontext/text", "generalfeedback/text",
                     "answer/text", "answer/tolerance", "defaultgrade", "penalty"):
            assert q.find(path) is not None, path
        assert q.find("questiontext").get("format") == "html"
        assert q.find("answer").get("fraction") == "100"
    # HTML travels in CDATA.
    assert moodle.count("<![CDATA[") >= 2 * len(numerical)


def test_moodle_answers_are_the_traces_values_and_a_value_just_outside_is_wrong(moodle,
                                                                                 expected):
    root = ET.fromstring(moodle.encode("utf-8"))
    checked = 0
    for q in root.iter("question"):
        if q.get("type") != "numerical":
            continue
        name = q.find("name/text").text
        _, blank, short = name.rsplit(" · ", 2)
        problem = re.search(r"\((\S+) · " + short + r"\)", q.find("questiontext/text").text)
        grads = expected[(problem.group(1), short)]
        value = grads[blank[2:]]
        answer = float(q.find("answer/text").text)
        tolerance = float(q.find("answer/tolerance").text)
        assert answer == value
        assert tolerance == max(1e-2 * abs(value), 1e-8)
        assert moodle_accepts(answer, tolerance, value)
        assert moodle_accepts(answer, tolerance, value + 0.999 * tolerance)
        assert not moodle_accepts(answer, tolerance, outside(value, tolerance))
        assert not moodle_accepts(answer, tolerance, -outside(-value, tolerance))
        checked += 1
    assert checked == sum(len(v) for v in expected.values())


def test_moodle_figures_are_embedded_and_referred_to(moodle):
    root = ET.fromstring(moodle.encode("utf-8"))
    for q in root.iter("question"):
        for field in ("questiontext", "generalfeedback"):
            part = q.find(field)
            if part is None:
                continue
            referred = set(re.findall(r'src="@@PLUGINFILE@@/([^"]+)"', part.find("text").text))
            files = {f.get("name"): f for f in part.findall("file")}
            assert referred == set(files), field
            for f in files.values():
                assert f.get("encoding") == "base64" and f.get("path") == "/"
                assert base64.b64decode(f.text).lstrip().startswith(b"<svg")
    text = root.find("question[@type='numerical']/questiontext/text").text
    assert "\\(" in text and "$" not in text.replace("$course$", "")


def test_moodle_general_feedback_is_the_sites_answer_key(moodle):
    """Every formula line of the site's key is in the feedback: the same worked
    solution, not a reduced one."""
    root = ET.fromstring(moodle.encode("utf-8"))
    path = ROOT / "problems" / "07-staged-gates.yaml"
    graph = build_graph(load(path))
    solution = solve(graph, trace(graph))
    site_key = get("markdown").files(solution, Options())["answers.md"]
    feedback = next(html.unescape(q.find("generalfeedback/text").text)
                    for q in root.iter("question") if q.get("type") == "numerical"
                    and "(07-staged-gates · " in q.find("questiontext/text").text)
    lines = []
    for block in re.findall(r"\\begin\{aligned\}\n(.*?)\n\\end\{aligned\}", site_key, re.S):
        lines += [l.strip().rstrip("\\").strip() for l in block.splitlines()]
    lines = [re.sub(r" \\\\\[0\.6em\]$| \\\\$", "", l) for l in lines if l]
    assert len(lines) >= len(solution.gates) + len(solution.steps)
    for line in lines:
        assert line in feedback, line
    for heading in ("Forward pass", "Local gradients at these values", "Backward pass",
                    "Gradients", "Closed form", "Code"):
        assert heading in feedback


def test_moodle_cloze_has_one_question_per_variant(expected):
    text = quiz("moodle", PROBLEMS[:3], settings=QuizSettings(cloze=True))
    root = ET.fromstring(text.encode("utf-8"))
    cloze = [q for q in root.iter("question") if q.get("type") == "cloze"]
    assert len(cloze) == 3
    for q in cloze:
        parts = re.findall(r"\{1:NUMERICAL:=([^:]+):([^}#]+)\}", q.find("questiontext/text").text)
        problem = re.search(r"\((\S+) · (\w+)\)", q.find("questiontext/text").text)
        grads = expected[(problem.group(1), problem.group(2))]
        assert sorted(float(a) for a, _ in parts) == sorted(grads.values())


# ----------------------------------------------------------------------------- QTI 1.2

def test_qti_package_is_an_ims_content_package(qti):
    names = set(qti.namelist())
    manifest = ET.fromstring(qti.read("imsmanifest.xml"))
    assert manifest.tag == f"{CP_NS}manifest"
    resources = manifest.findall(f"{CP_NS}resources/{CP_NS}resource")
    assessment = [r for r in resources if r.get("type") == "imsqti_xmlv1p2"]
    assert len(assessment) == 1 and assessment[0].get("href") in names
    listed = {f.get("href") for r in resources for f in r.findall(f"{CP_NS}file")}
    assert listed == names - {"imsmanifest.xml"}
    for name in names:
        if name.startswith("media/"):
            assert qti.read(name).lstrip().startswith(b"<svg")


def _items(qti):
    root = ET.fromstring(qti.read("tracer-quiz.xml"))
    assert root.tag == f"{QTI_NS}questestinterop"
    return root


def test_qti_items_hold_the_traces_values_in_an_exact_interval(qti, expected):
    root = _items(qti)
    sections = root.findall(f".//{QTI_NS}section/{QTI_NS}section")
    assert len(sections) == sum(len(v) for v in list(expected.values())[::VARIANTS + 1])
    checked = 0
    for section in sections:
        number = section.find(f"{QTI_NS}selection_ordering/{QTI_NS}selection/"
                              f"{QTI_NS}selection_number")
        assert number.text == "1"
        items = section.findall(f"{QTI_NS}item")
        assert len(items) == VARIANTS + 1 or len(items) == 1
        for item in items:
            fields = {f.find(f"{QTI_NS}fieldlabel").text: f.find(f"{QTI_NS}fieldentry").text
                      for f in item.iter(f"{QTI_NS}qtimetadatafield")}
            assert fields["question_type"] == "numerical_question"
            fib = item.find(f".//{QTI_NS}response_str/{QTI_NS}render_fib")
            assert fib.get("fibtype") == "Decimal"
            pid_blank, short = item.get("ident").rsplit("-", 1)
            blank = pid_blank.split("-g-")[1]
            pid = pid_blank.split("-g-")[0]
            value = expected[(pid, short)][blank]
            low = float(item.find(f".//{QTI_NS}vargte").text)
            high = float(item.find(f".//{QTI_NS}varlte").text)
            tolerance = max(1e-2 * abs(value), 1e-8)
            assert float(item.find(f".//{QTI_NS}varequal").text) == value
            assert (low, high) == (value - tolerance, value + tolerance)
            assert low <= value <= high
            assert not low <= outside(value, tolerance) <= high
            assert not low <= -outside(-value, tolerance) <= high
            setvar = item.find(f".//{QTI_NS}respcondition[@continue='No']/{QTI_NS}setvar")
            assert setvar.get("varname") == "SCORE" and setvar.text == "100"
            text = item.find(f".//{QTI_NS}presentation//{QTI_NS}mattext").text
            for src in re.findall(r'src="([^"]+)"', text):
                assert src in qti.namelist()
            feedback = item.find(f"{QTI_NS}itemfeedback//{QTI_NS}mattext").text
            assert "Backward pass" in feedback
            checked += 1
    assert checked == sum(len(v) for v in expected.values())


DTD = os.environ.get("TRACER_QTI_DTD", "")


@pytest.mark.skipif(not Path(DTD).is_file(), reason="TRACER_QTI_DTD names no IMS QTI 1.2.1 "
                    "DTD (.ci/run fetches it from PyPI's pyslet sdist)")
def test_qti_assessment_is_valid_against_the_ims_qti_1_2_1_dtd(qti):
    etree = pytest.importorskip("lxml.etree")
    # The DTD declares no namespace: the root's xmlns and schema location are left out of
    # the copy that is validated.
    text = qti.read("tracer-quiz.xml").decode("utf-8")
    text = re.sub(r"<questestinterop [^>]*>", "<questestinterop>", text, count=1)
    dtd = etree.DTD(DTD)
    document = etree.fromstring(text.encode("utf-8"))
    assert dtd.validate(document), dtd.error_log.filter_from_errors()[:5]


# ----------------------------------------------------------------------------- the command

def test_export_writes_both_formats(tmp_path, capsys):
    out = tmp_path / "quiz.xml"
    assert main(["export", "moodle", str(PROBLEMS[0]), "-o", str(out), "--blanks", "all"]) == 0
    root = ET.fromstring(out.read_bytes())
    # 01: three forward values, three local gradients and dy/dx.
    assert len([q for q in root.iter("question") if q.get("type") == "numerical"]) == 7
    zipped = tmp_path / "quiz.zip"
    assert main(["export", "qti", str(PROBLEMS[0]), "-o", str(zipped)]) == 0
    assert zipfile.ZipFile(zipped).testzip() is None
    again = tmp_path / "again.zip"
    assert main(["export", "qti", str(PROBLEMS[0]), "-o", str(again)]) == 0
    assert again.read_bytes() == zipped.read_bytes()      # deterministic


# ----------------------------------------------------------------------------- size

def _wide_sum(path: Path, n: int, statement: str = "") -> Path:
    path.write_text("title: A wide sum\n" + (f"statement: {statement}\n" if statement else "")
                    + "inputs:\n" + "".join(f"  x{i}: {i % 7}\n" for i in range(1, n + 1))
                    + "nodes:\n  s: " + " + ".join(f"x{i}" for i in range(1, n + 1)) + "\n")
    return path


def test_a_quiz_of_a_wide_sum_stays_linear_in_its_size(tmp_path):
    """A 600-term sum has 600 gradients to ask: each question repeating the whole key made
    the quiz grow with the square of the problem (a 10,000-term sum took over 20 GB).  The
    key is left out of the feedback past MAX_FEEDBACK_STEPS, with a sentence, and only as
    many questions as QUIZ_BUDGET allows are asked (a long statement is repeated in each),
    the description says so."""
    from tracer.exporters.quiz import MAX_FEEDBACK_STEPS, QUIZ_BUDGET

    n = 600
    path = _wide_sum(tmp_path / "sum.yaml", n, "Add them all. " * 1400)
    assert n > MAX_FEEDBACK_STEPS
    text = quiz("moodle", [path])
    assert len(text) < 2 * QUIZ_BUDGET
    root = ET.fromstring(text.encode("utf-8"))
    numerical = [q for q in root.iter("question") if q.get("type") == "numerical"]
    assert 0 < len(numerical) < n
    feedback = numerical[0].find("generalfeedback/text").text
    assert "too long to repeat" in feedback
    info = next(q for q in root.iter("question") if q.get("type") == "category")
    assert f"The first {len(numerical)} of its {n} blanks are asked" in info.find("info/text").text
    # every question asked holds the right number: ds/dx_i = 1
    assert all(float(q.find("answer/text").text) == 1.0 for q in numerical)
    package = zipfile.ZipFile(io.BytesIO(quiz("qti", [path])))
    assert len(package.read("tracer-quiz.xml")) < 2 * QUIZ_BUDGET


def test_a_problem_too_large_to_work_is_asked_nothing(tmp_path):
    """A 10,000-term sum is past what a worksheet works step by step (MAX_WRITTEN): its
    pages give an overview, the course's quiz leaves it out and its folder has no quiz."""
    from tracer.view.solution import MAX_WRITTEN

    big = _wide_sum(tmp_path / "big.yaml", 10_000)
    small = PROBLEMS[0]
    assert 3 * 10_000 > MAX_WRITTEN
    root = ET.fromstring(quiz("moodle", [small, big]).encode("utf-8"))
    titles = [q.find("category/text").text for q in root.iter("question")
              if q.get("type") == "category"]
    assert len(titles) == 1 and "wide sum" not in titles[0].lower()
    graph = build_graph(load(big))
    solution = solve(graph, trace(graph))
    assert get("moodle").files(solution, Options()) == {}
    assert get("qti").files(solution, Options()) == {}
