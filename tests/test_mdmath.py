"""The site's display equations broken into rows (tracer.exporters.mdmath): where the
rows break, that every row fits the estimate, and that no number or symbol changes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracer.core.graph import build_graph
from tracer.core.load import load
from tracer.exporters.mathtex import tex_solution
from tracer.exporters.mdmath import (BUDGET, equation_rows, fits, md_math, split_top,
                                     width)
from tracer.view.solution import solve

from conftest import PROBLEMS, documents, trace

LECTURE = Path(__file__).resolve().parent / "lecture"


def _tokens(tex: str) -> list[str]:
    """The symbols, numbers and commands of a formula, without the layout: alignment,
    row breaks, spacing and the sizes of brackets."""
    tex = re.sub(r"\\\\(\[[^\]]*\])?|&|\\quad|\\(left|right|[Bb]igl|[Bb]igr)(?![A-Za-z])", " ",
                 tex)
    return re.findall(r"\\[A-Za-z]+|\d+(?:\.\d+)?|[A-Za-z]|[^\s{}]", tex)


def test_split_top_cuts_only_at_top_level_binary_signs():
    assert split_top(r"w_{1} i_{1} + w_{2} i_{2} - b_{1}") == [
        r"w_{1} i_{1}", r"+ w_{2} i_{2}", r"- b_{1}"]
    # A leading minus, a minus in an exponent and signs inside brackets stay.
    assert split_top(r"-a + e^{-x} - \left(b - c\right)") == [
        "-a", r"+ e^{-x}", r"- \left(b - c\right)"]
    assert split_top(r"2 \cdot (-3)") == [r"2 \cdot (-3)"]
    assert split_top(r"2 \cdot \left(a + b\right) \cdot c", ".") == [
        "2", r"\cdot \left(a + b\right)", r"\cdot c"]
    # A product of bracketed factors, cut between the factors only.
    assert split_top(r"x \left(1 - y\right) \sigma\left(z\right)", "*") == [
        r"x \left(1 - y\right)", r"\sigma\left(z\right)"]
    assert split_top(r"\left(a + b\right)^{2} c", "*") == [r"\left(a + b\right)^{2} c"]


def test_width_counts_what_shows():
    assert width("x") == 1
    assert width(r"\frac{\partial E}{\partial w_{5}}") < width(r"\partial E \partial w_{5}")
    assert width("a + b") > width("ab")
    assert width(r"\tanh(x)") > width(r"\sigma(x)")


def test_a_short_equation_stays_on_one_row():
    assert equation_rows("y", ["a + b", "1 + 2", "3"]) == ("y &= a + b = 1 + 2 = 3",)


def test_formula_then_numbers_aligned_at_the_equals_sign():
    rows = equation_rows(r"\mathit{neth}_{1}", budget=40, sides=
                         [r"w_{1} i_{1} + w_{2} i_{2} + b_{1}",
                          r"0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35", "0.3775"])
    assert rows == (r"\mathit{neth}_{1} &= w_{1} i_{1} + w_{2} i_{2} + b_{1}",
                    r"&= 0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35",
                    r"&= 0.3775")


def test_breaks_start_a_row_and_a_broken_side_ends_its_rows():
    rows = equation_rows("g", ["a", "b", "c"], breaks=(1,))
    assert rows == ("g &= a", "&= b = c")
    long = " + ".join(f"x_{{{k}}} y_{{{k}}}" for k in range(12))
    rows = equation_rows("g", [long, "5"])
    assert len(rows) > 2 and rows[-1] == "&= 5"
    assert all(r.startswith(r"&\quad +") for r in rows[1:-1])


def test_a_long_sum_is_broken_at_its_signs_and_every_row_fits():
    long = " + ".join(rf"\frac{{\partial L^{{[{k}]}}}}{{\partial x}}" for k in range(1, 10))
    rows = equation_rows(r"\frac{\partial L}{\partial x}", [long, "1"])
    assert len(rows) > 2 and fits(r"\frac{\partial L}{\partial x}", rows)
    assert _tokens(" ".join(rows)) == _tokens(rf"\frac{{\partial L}}{{\partial x}} = {long} = 1")


def test_a_bracketed_sum_is_broken_inside_sized_brackets():
    side = (r"-4 \cdot \left(\frac{x H(x - y)}{\lvert x - y \rvert + 1} - "
            r"\frac{m + r}{(a + 1)^{2}} + \operatorname{sign}(x - y) + \frac{1}{a + 1}\right)")
    rows = equation_rows(r"\frac{\partial L}{\partial x}", [side], budget=30)
    text = " ".join(rows)
    assert r"\Bigl(" in text and r"\Bigr)" in text and len(rows) > 1
    for row in rows:        # \left and \right pair up within each row: KaTeX needs that
        assert row.count(r"\left") == row.count(r"\right")


def test_a_broken_product_marks_its_continuation():
    side = (r"1 \cdot n_{37} \left(1 - \sigma\left(n_{36} n_{37} + n_{36}^{2}\right)\right) "
            r"\sigma\left(n_{36} n_{37} + n_{36}^{2}\right)")
    rows = equation_rows(r"\frac{\partial L^{[1]}}{\partial n_{36}}", [side, "0.2"])
    assert rows[1].startswith(r"&\quad \cdot \sigma")


@pytest.mark.parametrize("path", sorted(LECTURE.glob("*.yaml")) +
                         [PROBLEMS / "05-sigmoid-neuron.yaml", PROBLEMS / "08-reused-operand.yaml"],
                         ids=lambda p: p.stem)
def test_rows_fit_and_keep_every_number(path):
    graph = build_graph(load(path))
    tex = tex_solution(solve(graph, trace(graph)))
    md = md_math(tex)
    for line in tex.gates:
        rows = md.forward[line.name]
        assert fits(line.symbol, rows) or len(rows) > 1, line.name
        sides = [line.definition] + ([line.substituted] if line.substituted else []) + [line.value]
        expected = _tokens(line.symbol + " = " + " = ".join(sides))
        got = _tokens(" ".join(rows))
        if line.rounded:
            expected[-2] = got[-2]      # = before the value is \approx
        assert got == expected, line.name
        assert rows[-1].endswith(line.value)
    for s in tex.steps:
        rows = md.steps[s.index]
        text = " ".join(rows)
        assert _tokens(text.split(r"\quad \text")[0].split(r"&\quad \text")[0]) == \
            _tokens(s.grad + " = " + " = ".join(s.chain)) or s.use
        assert s.chain[-1] in rows[-1] or s.use
        assert len(rows) >= 2 or len(s.chain) <= 2      # formula, then numbers
    for a in tex.sums:
        assert _tokens(" ".join(md.sums[a.node])) == _tokens(
            f"{a.grad} = {' + '.join(a.terms)} = {' + '.join(a.numbers)} = {a.value}")
    if md.function is not None:
        assert fits(tex.output_symbol, md.function)
    if not md.closed_too_wide:
        for c in tex.closed:
            assert fits(c.symbol, md.closed[c.name])


def test_too_wide_closed_forms_and_function_are_replaced_by_words_and_gates():
    made = documents(solve(*_graph_trace(LECTURE / "05-eight-sigmoids.yaml")))
    answers = made["answers.md"]
    assert "### Closed form\n\nThe closed form is left out" in answers
    # The function, too wide for a phone, is written gate by gate.
    assert r"s_{8} &= \sigma(w_{8} s_{7})" in made["worksheet.md"]
    assert r"s_{8} &= \sigma(w_{8} s_{7})" in answers


def test_budget_is_a_phone_column():
    assert 25 <= BUDGET <= 40


def _graph_trace(path):
    graph = build_graph(load(path))
    return graph, trace(graph)
