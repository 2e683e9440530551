"""A problem too large to work step by step (tracer.view.solution.MAX_WRITTEN): its worksheet
and key give an overview, bounded whatever the problem's size, and `tracer trace` still
explains every step."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tracer.cli import main
from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load_text
from tracer.exporters.base import Options, exporters, get
from tracer.exporters.overview import OVERVIEW_ROWS
from tracer.view.solution import MAX_WRITTEN, measure, solve

from hostile import fan_in, sine_chain


def solved(text: str, **options):
    graph = build_graph(load_text(text))
    return solve(graph, trace(graph), **options)


def test_the_size_counts_inputs_gates_steps_and_operations():
    # A sum of n inputs: n inputs, 1 gate, n backward steps, n - 1 additions: 3n lines.
    size = measure(solved(fan_in(50)).trace)
    assert (size.inputs, size.gates, size.steps, size.operations) == (50, 1, 50, 49)
    assert size.total == 150
    # A chain of n scaled sines: 1 input, n gates, n steps, a sine and a product per gate
    # but the first (a sine only).
    size = measure(solved(sine_chain(10)).trace)
    assert (size.inputs, size.gates, size.steps, size.operations) == (1, 10, 10, 19)


def test_a_problem_is_worked_step_by_step_up_to_the_bound_and_not_past_it():
    largest = MAX_WRITTEN // 3                      # a sum of n inputs is 3n lines
    inside, outside = solved(fan_in(largest)), solved(fan_in(largest + 1))
    assert inside.written_out and len(inside.steps) == largest and inside.gates
    assert not outside.written_out
    assert outside.steps == () and outside.gates == () and outside.closed == ()
    # what an overview shows is still there, and right: d s / d x_i = 1, s = sum of inputs
    assert len(outside.final) == largest + 1 and all(f.grad == 1 for f in outside.final)
    assert outside.values["s"] == sum(i % 7 for i in range(largest + 1))
    whole = solved(fan_in(largest + 1), whole=True)
    assert whole.written_out and len(whole.steps) == largest + 1


def test_the_overview_pages_say_why_and_show_the_first_rows():
    n = 1000
    solution = solved(fan_in(n))
    files = get("markdown").files(solution, Options())
    key, sheet, student = files["answers.md"], files["worksheet.md"], \
        files["worksheet.student.md"]
    expected = sum(i % 7 for i in range(n))
    for page in (key, sheet, student):
        assert "Too large to work step by step" in page
        assert "1,000 inputs, 1 gate, 1,000 backward steps and 999 operations: 3,000 lines" \
            in page
        assert f"The other {n - OVERVIEW_ROWS:,} inputs are in the problem file" in page
        assert len(page) < 10_000
    rows = re.findall(r"^\| \$(.+?)\$ \| \$(.+?)\$ \|$", key, re.M)
    assert rows[:OVERVIEW_ROWS] == [(f"x_{{{i}}}", str(i % 7)) for i in range(OVERVIEW_ROWS)]
    gradients = rows[OVERVIEW_ROWS:]
    assert len(gradients) == OVERVIEW_ROWS and {v for _, v in gradients} == {"1"}
    assert f"s = {expected:,}".replace(",", "") in key.replace("{,}", "")
    assert f"The other {n - OVERVIEW_ROWS:,} gradients" in key
    # the worksheet tells no answer; the student's links no key
    for page in (sheet, student):
        assert str(expected) not in page and "gradients are in" not in page
    assert "(answers.md)" in sheet and "(answers.md)" not in student


def test_no_site_file_of_a_huge_problem_grows_with_it():
    """Every file the site publishes for a 10,000-term sum is a few kilobytes, and only the
    documents are made: no figures, plots, code or quizzes, which would be megabytes."""
    solution = solved(fan_in(10_000))
    made = {}
    for exporter in exporters():
        if exporter.site:
            made.update(exporter.files(solution, Options()))
    assert sorted(made) == ["answers.md", "answers.tex", "worksheet.md", "worksheet.student.md",
                            "worksheet.tex"]
    assert max(len(text) for text in made.values()) < 10_000


def test_trace_still_explains_every_step_of_a_huge_problem(tmp_path, capsys):
    path = tmp_path / "wide.yaml"
    path.write_text(fan_in(1000))
    assert main(["trace", str(path)]) == 0
    out = capsys.readouterr().out
    assert all(f"x{i}" in out for i in (0, 500, 999))
    assert len(re.findall(r"\bx999\b", out)) >= 2       # its value and its gradient step


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_the_printed_overview_compiles(tmp_path):
    files = get("latex").files(solved(fan_in(1000)), Options())
    for name in ("worksheet.tex", "answers.tex"):
        (tmp_path / name).write_text(files[name])
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]
    text = subprocess.run(["pdftotext", str(tmp_path / "answers.pdf"), "-"],
                          capture_output=True, text=True).stdout \
        if shutil.which("pdftotext") else ""
    assert not text or "Too large to work step by step" in text


def test_check_says_which_problems_will_get_an_overview(tmp_path, capsys):
    (tmp_path / "wide.yaml").write_text(fan_in(1000))
    (tmp_path / "small.yaml").write_text(fan_in(10))
    assert main(["check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 problem files checked: no errors" in out
    assert "wide.yaml: 3,000 lines of work" in out and "will give an overview" in out
    assert "small.yaml" not in out
