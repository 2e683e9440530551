"""The teaching documents: worksheets and answer keys in Markdown and LaTeX.

Golden files pin the exact text of two small problems (regenerate with
TRACER_UPDATE_GOLDEN=1 and read the diff); every bundled problem is checked for what the
documents must hold: every backward step and sum with the trace's numbers in the answer key,
none of the answers in the worksheet, Markdown that converts cleanly, LaTeX that compiles.
Author text (title, statement, tags) is attacked with markup in both formats.
"""
from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import (DOCUMENT_NAMES, PROBLEMS, SCALAR_PROBLEMS, documents, solve_file,
                      solve_text, to_html, unsafe)
from tracer.core.errors import TracerError
from tracer.notation.numbers import fmt_tex
from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.exporters.base import frame_names
from tracer.exporters.code import generated_code
from tracer.exporters.plots import plot_files
from tracer.exporters.latex import placements
from tracer.view.solution import solve

GOLDEN = Path(__file__).resolve().parent / "golden"
ALL_PROBLEMS = SCALAR_PROBLEMS      # vectors and matrices: tests/test_tensor_documents.py

SUM_THEN_PRODUCT = """
    title: A sum, then a product
    statement: |
      Split $y = (x_1 + x_2)\\,x_3$ into an addition and a multiplication.
    inputs: {x1: 4, x2: 2, x3: -5}
    nodes:
      u: x1 + x2
      y: u * x3
"""
# x is used by two gates and u by two gates: two paths into each.
TWO_PATHS = """
    title: Two paths into one node
    inputs: {x: 2, y: 3}
    nodes:
      u: x * y
      v: u + x
      f: u * v
"""


# Too large for closed forms (over 30 operations) and for step-through frames (over 60 nodes).
LARGE = "title: A long chain\ninputs: {u0: 1, x0: 1, x1: 2, x2: 3}\nnodes:\n" + "".join(
    f"  u{i}: u{i - 1} * 1.01 + x{i % 3}\n" for i in range(1, 111))


#: The graph of each problem of the ``docs`` fixture, to solve it again with other numbers.
GRAPHS: dict = {}


@pytest.fixture(scope="module")
def docs():
    """Every bundled problem's worked solution and documents, and the large one's, made once."""
    made = {}
    for name in ALL_PROBLEMS + ["large"]:
        graph = build_graph(load_text(LARGE, "large.yaml") if name == "large"
                            else load(PROBLEMS / name))
        GRAPHS[name] = graph
        t = solve(graph, trace(graph))
        made[name] = (t, documents(t))
    return made


def test_the_large_problem_has_no_closed_form_and_no_frames(docs):
    t, made = docs["large"]
    assert t.function is None and frame_names(t) == []
    assert "tracer-steps" not in made["answers.md"]
    assert r"u_{110} &= u_{109} \cdot 1.01 + x_{2}" in made["worksheet.md"]


# ----------------------------------------------------------------------------- golden files

@pytest.mark.parametrize("name, text", [("sum-then-product", SUM_THEN_PRODUCT),
                                        ("two-paths", TWO_PATHS)],
                         ids=["sum-then-product", "two-paths"])
@pytest.mark.parametrize("document", ["answers.md", "worksheet.md"])
def test_golden(name, text, document):
    produced = documents(solve_text(text))[document]
    path = GOLDEN / f"{name}.{document}"
    if os.environ.get("TRACER_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(produced, encoding="utf-8")
    assert produced == path.read_text(encoding="utf-8")


def flat(text: str) -> str:
    """A Markdown page with the rows of each display equation joined (the site breaks
    an equation into rows to fit a narrow column: tracer.exporters.mdmath)."""
    return re.sub(r" \\\\\n&(\\quad )?", " ", text)


def test_two_paths_hand_checked_numbers():
    """The golden problem's numbers, worked by hand: f = u v, u = x y, v = u + x at (2, 3)."""
    answers = flat(documents(solve_text(TWO_PATHS))["answers.md"])
    # df/du arrives along f (v = 8) and along v (u = 6 times 1): 8 + 6 = 14.
    assert (r"\frac{\partial f}{\partial u} &= \frac{\partial f^{[1]}}{\partial u} + "
            r"\frac{\partial f^{[2]}}{\partial u} = 8 + 6 = 14") in answers
    # df/dx: 6 (through v) + 14 * y = 42 (through u) = 48 = 2xy^2 + 2xy at (2, 3).
    assert "= 6 + 42 = 48" in answers
    assert r"\frac{\partial f}{\partial y} &= \frac{\partial f}{\partial u} \cdot " \
           r"\frac{\partial u}{\partial y} = 14 \cdot x = 14 \cdot 2 = 28" in answers


# ----------------------------------------------------------------------------- the API

def test_documents_returns_the_six_files(docs):
    for _, made in docs.values():
        assert tuple(made) == DOCUMENT_NAMES
        assert all(isinstance(v, str) and v.endswith("\n") for v in made.values())


def test_documents_are_deterministic():
    first = documents(solve_file("07-staged-gates.yaml"))
    second = documents(solve_file("07-staged-gates.yaml"))
    assert first == second


# ----------------------------------------------------------------------------- answer keys

def _factor(v: float, d: int) -> str:
    text = fmt_tex(v, d)
    return f"({text})" if text.startswith("-") or r"\times" in text else text


def _lead(v: float, d: int) -> str:
    # a power of ten is bracketed even first in a product: (1.8 \times 10^{-5}) \cdot 2
    text = fmt_tex(v, d)
    return f"({text})" if r"\times" in text else text


def _partial(out: str, node: str, path=None) -> str:
    from tracer.notation.latex import tex_symbol

    label = f"^{{[{path}]}}" if path is not None else ""
    return rf"\frac{{\partial {tex_symbol(out)}{label}}}{{\partial {tex_symbol(node)}}}"


@pytest.mark.parametrize("name", ALL_PROBLEMS + ["large"])
def test_answer_key_has_every_step_and_sum_with_the_trace_numbers(docs, name):
    t, made = docs[name]
    d = t.precision
    for document in ("answers.md", "answers.tex"):
        # A LaTeX line past 1000 characters goes on after a %: read it as TeX does.
        text = made[document].replace("%\n", "")
        if document.endswith(".md"):
            text = flat(text).replace(" &= ", " = ")
        lines = text.splitlines()
        for s in t.trace.backward:
            grad = _partial(t.output, s.node, s.path)
            chain = _partial(t.output, s.source) + r" \cdot " + _partial(s.source, s.node)
            numbers = (f"{_lead(s.upstream, d)} \\cdot {_factor(s.local, d)} = "
                       f"{fmt_tex(s.contribution, d)}")
            found = [i for i, line in enumerate(lines) if line.startswith(f"{grad} &= {chain}")
                     or line.startswith(f"{grad} = {chain}")]
            assert found, f"{document}: no line for {grad} from {s.source}"
            # The numbers are on that line, or on the next one where a long line is broken.
            assert any(numbers in " ".join(lines[i:i + 2]) for i in found), (document, numbers)
        for a in t.sums:
            terms = " + ".join(_partial(t.output, a.node, k)
                               for k in range(1, len(a.contributions) + 1))
            numbers = " + ".join(_factor(c, d) for c in a.contributions)
            assert (f"{_partial(t.output, a.node)} = {terms} = {numbers} = "
                    f"{fmt_tex(a.grad, d)}") in text, (document, a.node)


def test_sum_follows_the_step_that_completes_it(docs):
    t, made = docs["07-staged-gates.yaml"]
    text = made["answers.md"]
    last_x = text.index(r"\frac{\partial f^{[3]}}{\partial x} &=")
    sum_x = text.index(r"\frac{\partial f}{\partial x} &= \frac{\partial f^{[1]}}{\partial x}")
    second_y = text.index(r"\frac{\partial f^{[2]}}{\partial y} &=")
    assert last_x < sum_x < second_y


@pytest.mark.parametrize("name", ALL_PROBLEMS)
def test_answer_key_forward_pass_is_substituted(docs, name):
    t, made = docs[name]
    for n in t.trace.nodes:
        if n.kind == "gate":
            assert re.search(rf"^{re.escape(_sym(n.name))} &= .* (=|\\approx) "
                             rf"{re.escape(fmt_tex(n.value, t.precision))}( \\\\(\[0.6em\])?)?$",
                             flat(made["answers.md"]), re.MULTILINE), n.name


def _sym(name):
    from tracer.notation.latex import tex_symbol
    return tex_symbol(name)


def test_forward_line_shows_the_substitution():
    answers = documents(solve_file("03-two-paths.yaml"))["answers.md"]
    assert r"u_{1} &= x_{1} + x_{2} = -7 + 2 = -5" in answers
    assert r"u_{3} &= u_{1} u_{2} = (-5) \cdot (-2) = 10" in answers


def test_local_gradient_table_in_seed_layout():
    answers = documents(solve_file("03-two-paths.yaml"))["answers.md"]
    assert (r"| $u_{1} = x_{1} + x_{2}$ | $\displaystyle \frac{\partial u_{1}}{\partial x_{1}}"
            r" = 1$, &ensp;$\displaystyle \frac{\partial u_{1}}{\partial x_{2}} = 1$ |") in answers


def test_seed_example_backward_line():
    """The worked example of the tutorial: dy/du1 = dy/du3 * du3/du1 = 4 * u2 = 4 * (-2)."""
    answers = flat(documents(solve_file("03-two-paths.yaml"))["answers.md"])
    assert (r"\frac{\partial y}{\partial u_{1}} &= \frac{\partial y}{\partial u_{3}} \cdot "
            r"\frac{\partial u_{3}}{\partial u_{1}} = 4 \cdot u_{2} = 4 \cdot (-2) = -8") in answers


def test_hand_calculation_is_announced_and_used():
    t = solve_file("06-sigmoid-neuron-by-hand.yaml")
    made = documents(t)
    for document in ("answers.md", "worksheet.md", "answers.tex", "worksheet.tex"):
        assert "rounded to 2 decimals" in made[document] or \
            "to 2 decimals before" in made[document], document
    assert r"a &= \sigma(z) = \sigma(1) \approx 0.73" in flat(made["answers.md"])
    assert r"a (1 - a) = 0.73 \cdot (1 - 0.73)$ | $0.1971$" in made["answers.md"]
    assert "= -0.27 \\cdot 0.1971 = -0.053217" in flat(made["answers.md"])


def test_final_gradients_are_checked_against_central_differences(docs):
    t, made = docs["05-sigmoid-neuron.yaml"]
    numeric = dict(t.trace.numeric)
    for name in t.wrt:
        row = (f"| $\\displaystyle {_partial(t.output, name)}$ | "
               f"${fmt_tex(t.gradients[name], 4)}$ | ${fmt_tex(numeric[name], 4)}$ | "
               f"${fmt_tex(abs(t.gradients[name] - numeric[name]), 2)}$ |")
        assert row in made["answers.md"]


def test_closed_form_and_its_value():
    answers = documents(solve_file("04-sin-of-square.yaml"))["answers.md"]
    assert r"\frac{d y}{d x} &= 2 x \cos{\left(x^{2} \right)} = -2.615" in answers


def test_gradient_descent_step_and_second_forward_pass(docs):
    t, made = docs["05-sigmoid-neuron.yaml"]
    text = made["answers.md"]
    for p in t.update.params:
        assert (f"{_sym(p.name)} &\\leftarrow {fmt_tex(p.old, 4)} - 1 \\cdot "
                f"{_factor(p.grad, 4)} = {fmt_tex(p.new, 4)}") in text
    after = dict(t.trace.update.values)
    assert (f"a &= \\sigma(z) = \\sigma({fmt_tex(after['z'], 4)}) = "
            f"{fmt_tex(after['a'], 4)}") in text
    assert (f"was ${fmt_tex(t.trace.update.output_before, 4)}$ before the step and is "
            f"${fmt_tex(t.trace.update.output_after, 4)}$ after it: it went down") in text


def test_kink_says_which_convention():
    t = solve_text("""
        title: Kinks
        inputs: {x: 0, a: 2, b: 2}
        nodes:
          r: relu(x)
          m: max(a, b)
          y: r + m
    """)
    made = documents(t)
    assert any(s.kink for s in t.trace.backward)
    text = made["answers.md"]
    assert r"The convention $\operatorname{relu}'(0) = 0$ is used" in text
    assert r"each operand gets $\tfrac{1}{2}$ of it" in text
    assert "At a kink" in made["answers.tex"]
    assert r"\operatorname{relu}'(0) = 0" in made["worksheet.md"]


def test_reused_operand_names_each_use():
    made = documents(solve_file("08-reused-operand.yaml"))
    assert r"\quad \text{(use 1 of 2)}" in made["answers.md"]
    assert r"= 12 + 12 = 24" in made["answers.md"]


# ----------------------------------------------------------------------------- step-through

@pytest.mark.parametrize("name", ALL_PROBLEMS)
def test_step_through_markup(docs, name):
    t, made = docs[name]
    frames = frame_names(t)
    text = made["answers.md"]
    n = len(t.trace.backward)
    assert f'<div class="tracer-steps" data-count="{n}">' in text
    figures = re.findall(r'<figure class="tracer-step" data-step="(\d+)"'
                         r'(?: data-box="[\d. ]+" data-size="[\d. ]+")?><img src="([^"]+)" '
                         r'alt="[^"<>]+" loading="lazy"><figcaption>(.+?)</figcaption></figure>',
                         text)
    assert [int(i) for i, _, _ in figures] == list(range(1, n + 1))
    assert [src for _, src, _ in figures] == frames
    for (_, _, caption), s in zip(figures, t.trace.backward):
        assert fmt_tex(s.contribution, t.precision) in html.unescape(caption)
    assert ('<div class="tracer-steps-controls"><button type="button" class="tracer-prev">'
            in text)
    assert '<span class="tracer-step-counter"></span> <button type="button" ' \
           'class="tracer-next">' in text
    width = max(2, len(str(n)))
    assert frames[0] == "step-" + "1".zfill(width) + ".svg"


def test_figures_are_referred_to_by_name(docs):
    for t, made in docs.values():
        assert "](graph.svg)" in made["worksheet.md"]
        assert "](values.svg)" in made["answers.md"]
        assert "](gradients.svg)" in made["answers.md"]
        # printed, or left out with the reason (too large to print legibly: printfit)
        printed = placements(t)
        assert (r"\input{graph.tikz.tex}" in made["worksheet.tex"]) == \
            (printed["graph"].mode != "omitted")
        for figure in ("graph", "values", "gradients"):
            assert (rf"\input{{{figure}.tikz.tex}}" in made["answers.tex"]) == \
                (printed[figure].mode != "omitted")
        if any(p.mode == "omitted" for p in printed.values()):
            assert "is left out here: fitted to the page" in made["answers.tex"]


# ----------------------------------------------------------------------------- Markdown

@pytest.mark.parametrize("name", ALL_PROBLEMS + ["large"])
@pytest.mark.parametrize("document", ["answers.md", "worksheet.md"])
def test_markdown_converts_and_all_math_is_taken(docs, name, document):
    text = docs[name][1][document]
    # Every $ and $$ outside code is paired.
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    assert prose.count("$$") % 2 == 0
    assert len(re.findall(r"(?<!\\)\$", prose)) % 2 == 0
    page = to_html(text)
    # arithmatex took every formula: no dollar sign is left outside code.
    outside_code = re.sub(r"<(pre|code)\b.*?</\1>", "", page, flags=re.DOTALL)
    assert "$" not in outside_code
    for formula in re.findall(r'<(?:span|div) class="arithmatex">(.*?)</(?:span|div)>', page,
                              flags=re.DOTALL):
        formula = html.unescape(formula)
        assert formula.startswith(("\\(", "\\[")) and formula.endswith(("\\)", "\\]"))
        assert formula.count("{") == formula.count("}")
    # Tables came out as tables (a stray | would break a row).
    if document == "answers.md":
        assert page.count("<table>") >= 3
        assert "<h2" in page and "Backward pass" in page


# ----------------------------------------------------------------------------- worksheets

def _scrambled(name: str, t):
    """The same problem with every answer replaced: only the givens are left as they were."""
    def change(v):
        return v * 3.7 + 0.123

    t = t.trace
    gates = {n.name for n in t.nodes if n.kind == "gate"}
    nodes = tuple(n._replace(
        value=change(n.value) if n.name in gates else n.value, grad=change(n.grad),
        locals=tuple(l._replace(value=change(l.value)) for l in n.locals)) for n in t.nodes)
    backward = tuple(s._replace(upstream=change(s.upstream), local=change(s.local),
                                contribution=change(s.contribution))
                     for s in t.backward)
    sums = tuple(a._replace(contributions=tuple(map(change, a.contributions)),
                            grad=change(a.grad)) for a in t.sums)
    update = t.update and dataclasses.replace(
        t.update, params=tuple(dataclasses.replace(p, grad=change(p.grad), new=change(p.new))
                               for p in t.update.params),
        values=tuple((k, change(v)) for k, v in t.update.values),
        output_before=change(t.update.output_before),
        output_after=change(t.update.output_after))
    scrambled = dataclasses.replace(t, nodes=nodes, backward=backward, sums=sums, update=update,
                                    numeric=tuple((k, change(v)) for k, v in t.numeric))
    return solve(GRAPHS[name], scrambled)


@pytest.mark.parametrize("name", ALL_PROBLEMS + ["large"])
def test_worksheet_depends_on_no_answer(docs, name):
    t, made = docs[name]
    other = documents(_scrambled(name, t))
    for document in ("worksheet.md", "worksheet.tex"):
        # The check data holds the answers encrypted (tracer.exporters.checking): the rest
        # of the worksheet is the same whatever the answers are.
        assert _without_check(other[document]) == _without_check(made[document]), document
    assert other["worksheet.md"] != made["worksheet.md"]
    assert other["answers.md"] != made["answers.md"]   # the scrambling reached the documents


def _without_check(text: str) -> str:
    return re.sub(r'data-check="[^"]*"', 'data-check=""', text)


@pytest.mark.parametrize("name", ALL_PROBLEMS + ["large"])
def test_worksheet_shows_no_answer_number(docs, name):
    t, made = docs[name]
    d = t.precision
    given = {fmt_tex(n.value, d) for n in t.trace.nodes if n.kind == "input"}
    for n in t.trace.nodes:
        if n.expr is not None:
            from tracer.core.expr import Const, walk
            given |= {fmt_tex(c.value, d) for c in walk(n.expr) if isinstance(c, Const)}
    if t.update:
        given.add(fmt_tex(t.update.learning_rate, d))
    given |= set(re.findall(r"-?\d+(?:\.\d+)?", t.statement + t.title))   # the author's
    answers = {fmt_tex(n.value, d) for n in t.trace.nodes if n.kind == "gate"}
    answers |= {fmt_tex(n.grad, d) for n in t.trace.nodes}
    answers |= {fmt_tex(l.value, d) for n in t.trace.nodes for l in n.locals}
    answers |= {fmt_tex(s.contribution, d) for s in t.trace.backward}
    if t.update:
        answers |= {fmt_tex(p.new, d) for p in t.update.params}
        answers.add(fmt_tex(t.trace.update.output_after, d))
    secret = answers - given
    for document in ("worksheet.md", "worksheet.tex"):
        # The check data is hex digits (tested in test_checking.py); the variant note's
        # short seed too.
        text = re.sub(r'tracer-note">[^<]*<|data-blank="[^"]*"|\\textperiodcentered\{\} \w+',
                      " ", _without_check(made[document]))
        # Drop what is not a value: subscripts, labels [k], step numbers, decimals of rounding.
        text = re.sub(r"_\{[^}]*\}|\^\{\[\d+\]\}|\[\d+\]|\| \d+ \||^\d+ &|\d+(ex|em|pt|cm|mm)",
                      " ", text, flags=re.MULTILINE)
        text = re.sub(r"\d+ decimals?", " ", text)
        numbers = set(re.findall(r"-?\d+(?:\.\d+)?", text))
        numbers |= {n.lstrip("-") for n in numbers}
        leaked = {a for a in secret if a in numbers and not a.lstrip("-").isdigit()
                  or a in numbers and abs(float(a)) > 9}
        assert not leaked, (document, leaked)


@pytest.mark.parametrize("name", ALL_PROBLEMS)
def test_worksheet_has_blank_tables_for_every_step(docs, name):
    t, made = docs[name]
    text = made["worksheet.md"]
    for index, s in enumerate(t.trace.backward, 1):
        grad = _partial(t.output, s.node, s.path)
        assert f"| {index} | $\\displaystyle {grad}$ | &nbsp; | <span class=\"tracer-blank\" " \
            f"data-blank=\"s-{index}\"></span> |" in text
    for name_ in t.wrt:
        assert _partial(t.output, name_) in text


# ----------------------------------------------------------------------------- untrusted text

HOSTILE_TITLE = r"A & B 100% _x_ #1 <script>alert(1)</script> \input{/etc/passwd} {: onclick=x} $y$"


def test_title_is_text_in_markdown():
    t = dataclasses.replace(solve_file("02-sum-then-product.yaml"), title=HOSTILE_TITLE,
                            tags=("<b>bold</b>", "a_b"))
    for document in ("answers.md", "worksheet.md"):
        page = to_html(documents(t)[document])
        assert not unsafe(page.split("<h2", 1)[0])   # the figures below are our own <img>
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page).group(1)
        assert html.unescape(re.sub(r"<[^>]+>", "", h1)).endswith(HOSTILE_TITLE)
        assert "<b>bold</b>, a_b" in html.unescape(page)


# ----------------------------------------------------------------------------- LaTeX

def _write_figures(t, folder: Path, real: bool = True) -> None:
    """The figures beside the documents: tracer.exporters.figures' own, or small stand-ins;
    and the plots (tracer.exporters.plots)."""
    from tracer.exporters.plots import plot_documents

    for name, content in plot_documents(t).items():
        if name.endswith(".tex"):
            (folder / name).write_text(content, encoding="utf-8")
    try:
        from tracer.exporters.figures import figures
    except ImportError:  # pragma: no cover - figures ship with tracer
        real = False
    if not real:
        for name in ("graph", "values", "gradients"):
            (folder / f"{name}.tikz.tex").write_text(
                "\\begin{tikzpicture}\\draw (0,0) -- (1,0);\\end{tikzpicture}\n")
        return
    for name, content in figures(t).items():
        if name.endswith(".tex"):
            (folder / name).write_text(content, encoding="utf-8")


def _compile(folder: Path, name: str) -> str:
    for _ in range(2):   # longtable settles its column widths on the second run
        result = subprocess.run(
            ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
             name], cwd=folder, capture_output=True, timeout=180)
    log = (folder / (name[:-4] + ".log")).read_text(encoding="latin-1")
    assert result.returncode == 0, log[-3000:]
    return log


def _commands(tex: str) -> set[str]:
    """Control words in ``tex`` that TeX would execute (not escaped backslashes)."""
    return set(re.findall(r"(?<!\\)(?:\\\\)*\\([A-Za-z]+)", tex))


def _hostile_trace():
    t = solve_file("07-staged-gates.yaml")
    return dataclasses.replace(
        t, title=HOSTILE_TITLE + " x₁ σ ✓",
        tags=("a_b", "50%", "<i>"),
        statement=("Attack: \\input{/etc/passwd} $\\input{/etc/passwd}$ $x^^5c$ "
                   "$\\frac{1}{2} + \\sigma(x_1)$ `\\write18{ls}` **bold** *it* "
                   "$$\\sum_i x_i^2$$ and $a & b$ # % ~ ^ _ { } σ₁\n\n"
                   "```\n\\end{document}\n```\n\n- one\n- two $x$"))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", ALL_PROBLEMS + ["hostile", "large"])
def test_latex_compiles_without_errors_or_overfull_lines(tmp_path, name):
    t = {"hostile": _hostile_trace, "large": lambda: solve_text(LARGE)}.get(
        name, lambda: solve_file(name))()
    made = documents(t)
    _write_figures(t, tmp_path, real=name != "large")   # the large graph's take long to draw
    for document in ("worksheet.tex", "answers.tex"):
        (tmp_path / document).write_text(made[document], encoding="utf-8")
        log = _compile(tmp_path, document)
        assert "\n! " not in log
        overfull = [float(w) for w in re.findall(r"Overfull \\hbox \((\d+\.?\d*)pt too wide",
                                                 log)]
        assert all(w < 3 for w in overfull), overfull
        assert (tmp_path / document.replace(".tex", ".pdf")).stat().st_size > 1000


def test_latex_inputs_only_the_figures():
    solution = _hostile_trace()
    made = documents(solution)
    assert re.findall(r"\\input\{([^}]*)\}", made["worksheet.tex"]) == ["graph.tikz.tex"]
    inputs = re.findall(r"\\input\{([^}]*)\}", made["answers.tex"])
    assert inputs[:3] == ["graph.tikz.tex", "values.tikz.tex", "gradients.tikz.tex"]
    assert sorted(inputs[3:]) == sorted(f"{name}.tikz.tex" for name in plot_files(solution))
    for document in ("worksheet.tex", "answers.tex"):
        commands = _commands(made[document])
        assert not commands & {"write", "openin", "read", "catcode", "csname", "immediate",
                               "include", "openout", "special"}
        assert "\\def" not in made[document]


# ----------------------------------------------------------------------------- fuzzing

_LEAVES = st.sampled_from(["x", "y", "z", "2", "0.5", "-3"])


def _expressions():
    def extend(inner):
        binary = st.tuples(st.sampled_from(["+", "-", "*", "/", "**"]), inner, inner).map(
            lambda t: f"({t[1]} {t[0]} {t[2] if t[0] != '**' else '2'})")
        unary = st.tuples(st.sampled_from(["sin", "cos", "exp", "tanh", "sigmoid", "relu",
                                           "abs", "-"]), inner).map(
            lambda t: f"{t[0]}({t[1]})")
        pair = st.tuples(st.sampled_from(["max", "min"]), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})")
        return binary | unary | pair
    return st.recursive(_LEAVES, extend, max_leaves=6)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(first=_expressions(), second=_expressions(),
       values=st.tuples(*[st.sampled_from([-1.5, -1, 0, 0.5, 2]) for _ in range(3)]))
def test_random_problems_render_and_their_code_agrees(first, second, values):
    """Any problem the engine accepts gives documents that convert, and staged code whose
    gradients are the trace's."""
    x, y, z = values
    text = (f"title: random\ninputs: {{x: {x}, y: {y}, z: {z}}}\nnodes:\n"
            f"  a: '{first} + x + y + z'\n  b: '{second} * a'\n  out: 'a + b'\n")
    try:
        t = solve_text(text)
    except TracerError:
        return
    made = documents(t)
    for document in ("answers.md", "worksheet.md"):
        to_html(made[document])
    scope: dict = {}
    printed: list = []
    scope["print"] = printed.append
    exec(compile(generated_code(t).staged, "staged.py", "exec"), scope)   # our own code
    got = json.loads(printed[0])
    for name, value in got.items():
        assert value == pytest.approx(t.gradients[name], rel=1e-9, abs=1e-12), name
