"""The shortcuts taken for large problems give exactly what the general code gives: the
parser's regular expression for one operation against ``ast``, the texts of a gate printed
once per shape against the gate printed alone, and the JSON of a trace written from its
graph against the JSON written from its worked solution."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PROBLEMS
from tracer.core import expr as E
from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.core.primitives import FUNCTIONS
from tracer.core.rules import local_formula
from tracer.exporters.trace_json import graph_json, to_json
from tracer.notation.forms import GateTexts, gate_text
from tracer.notation.latex import to_tex
from tracer.notation.python import to_python
from tracer.view.solution import solve


def by_ast(text: str):
    """The general parser's answer: the tree (with the columns of its names) or the error."""
    try:
        tree = E._convert(E._ast_parse(" ".join(text.split("\n")).strip()).body)
    except E.ExprError as exc:
        return ("error", exc.message, exc.column)
    return ("tree", tree, [(v.name, v.column) for v in E.walk(tree) if isinstance(v, E.Var)])


def by_parse(text: str):
    try:
        tree = E.parse(text)
    except E.ExprError as exc:
        return ("error", exc.message, exc.column)
    return ("tree", tree, [(v.name, v.column) for v in E.walk(tree) if isinstance(v, E.Var)])


ATOMS = ["x", "x1", "u_2", "_a", "match", "None", "True", "if", "lambda", "0", "00", "007",
         "12", "1.", "1.5", ".5", "1e5", "1E-3", "1.5e+2", "1e400", "9" * 320, "9" * 290,
         "0.0", "2x", "x1e5", "tanh", "1_000", "0x10", "1j"]


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "%", "//"])
def test_one_operation_is_read_as_ast_reads_it(op):
    for a in ATOMS:
        for b in ATOMS:
            for text in (f"{a} {op} {b}", f"{a}{op}{b}", f"{a}  {op} {b}", f" {a} {op} {b}\n"):
                assert by_parse(text) == by_ast(text), text


@pytest.mark.parametrize("function", sorted(FUNCTIONS) + ["foo", "if", "print"])
def test_a_call_is_read_as_ast_reads_it(function):
    for a in ATOMS:
        assert by_parse(a) == by_ast(a), a
        for text in (f"{function}({a})", f"{function}( {a} )", f"{function}({a}, x)",
                     f"{function}({a},x)", f"{function}(x, {a}, y)", f"{function}()"):
            assert by_parse(text) == by_ast(text), text


@pytest.mark.filterwarnings("ignore::SyntaxWarning")   # Python's own, on texts like "1or"
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="xyu12_ .e+-*/()sigmodtanh,", max_size=16))
def test_any_short_text_is_read_as_ast_reads_it(text):
    if text.strip():
        assert by_parse(text) == by_ast(text)


NAMES = ["x", "x1", "x_1", "u2", "alpha", "w_out", "b", "y"]
NUMBERS = [2.0, 0.5, -3.0, -0.0, 0.0, 1.0, 1e-7, 2.5e20]


def alone(call: E.Call, name: str):
    return (to_python(call), to_tex(call),
            tuple(to_tex(local_formula(call, i, name))
                  for i, a in enumerate(call.args) if isinstance(a, E.Var)))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(FUNCTIONS) + ["add", "sub", "mul", "div", "pow", "neg"]),
       st.lists(st.one_of(st.sampled_from(NAMES), st.sampled_from(NUMBERS)),
                min_size=3, max_size=3),
       st.sampled_from(["u9", "y", "x_1", "alpha"]))
def test_a_gate_printed_by_shape_is_the_gate_printed_alone(op, operands, name):
    from tracer.core.primitives import PRIMITIVES

    args = tuple(E.Var(a) if isinstance(a, str) else E.Const(a)
                 for a in operands[:PRIMITIVES[op].arity])
    if not any(isinstance(a, E.Var) for a in args) or name in operands:
        return
    call = E.Call(op, args)
    texts = GateTexts(NAMES + [name])
    assert tuple(texts(call, name)) == alone(call, name)
    assert tuple(gate_text(call, name)) == alone(call, name)


def same(a, b) -> bool:
    """Equal JSON data, NaN (which the standard library writes) read as null."""
    if isinstance(a, float) and math.isnan(a):
        return b is None
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    return a == b


@pytest.mark.parametrize("path", sorted(PROBLEMS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_json_of_a_graph_is_the_json_of_its_worked_solution(path):
    graph = build_graph(load(path))
    t = trace(graph)
    from_graph = b"".join(graph_json(graph, t)).decode()
    assert from_graph == to_json(solve(graph, t))
    data = json.loads(from_graph)
    assert list(data["gradients"]) == list(t.gradients)
    for name, grad in t.gradients.items():   # numbers, or the lists of a vector or matrix
        assert np.array_equal(np.asarray(data["gradients"][name], dtype=float),
                              np.asarray(grad, dtype=float)), name
    assert len(data["backward"]) == len(t.backward)


def test_the_json_of_a_large_graph_without_sympy_has_every_formula():
    lines = ["title: t", "inputs:", "  x1: 0.5", "  x_2: -1.5", "nodes:", "  u1: x1 * x_2"]
    forms = ["tanh({})", "{} * {}", "{} ** 2", "0.5 * {}", "x1 - {}", "sigmoid({})",
             "exp({})", "{} / x1", "relu({})", "max({}, x_2)"] * 4
    lines += [f"  u{k}: " + form.replace("{}", f"u{k - 1}") for k, form in enumerate(forms, 2)]
    lines.append("  y: u41 + x1")
    graph = build_graph(load_text("\n".join(lines) + "\n"))
    t = trace(graph)
    text = b"".join(graph_json(graph, t)).decode()
    assert text == to_json(solve(graph, t))
    data = json.loads(text)
    assert data["function_tex"] is None and data["gradient_tex"] == {}
    step = next(s for s in data["backward"] if s["from"] == "u4")
    assert step["local_tex"] == "2 u_{3}"
