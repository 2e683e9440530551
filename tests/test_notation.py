"""The notation tables: every primitive written in every backend, one place for names.

Adding a primitive to tracer.core.primitives makes these tests name each table that lacks
it (LaTeX, SVG, Python, PyTorch, SymPy) and each helper the generated code does not define.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tracer.core.expr import Call, Var, parse, variables
from tracer.core.primitives import PRIMITIVES
from tracer.exporters.base import document_environment
from tracer.core.tensor_ops import TENSOR_OPS
from tracer.notation import latex, python, svg, sympy, tensor_code, tensor_latex, torch
from tracer.notation.latex import tex_symbol, to_tex
from tracer.notation.python import to_python
from tracer.notation.svg import name_parts

TABLES = {"LaTeX (tracer/notation/latex.py)": latex.TABLE,
          "SVG (tracer/notation/svg.py)": svg.TABLE,
          "Python (tracer/notation/python.py)": python.TABLE,
          "PyTorch (tracer/notation/torch.py)": torch.TABLE,
          "SymPy (tracer/notation/sympy.py)": sympy.TABLE}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_primitive_has_an_entry(table):
    missing = sorted(set(PRIMITIVES) - set(TABLES[table]))
    unknown = sorted(set(TABLES[table]) - set(PRIMITIVES))
    assert not missing, f"the {table} table has no entry for: {', '.join(missing)}"
    assert not unknown, f"the {table} table has entries for unknown primitives: {unknown}"


#: Tables of the operations of vectors and matrices, and what each must cover.
TENSOR_TABLES = {
    "LaTeX of vectors and matrices (tracer/notation/tensor_latex.py)":
        (tensor_latex.TABLE, set(TENSOR_OPS)),
    "SVG labels of vectors and matrices (tracer/notation/svg.py TENSOR_TABLE)":
        (svg.TENSOR_TABLE, set(TENSOR_OPS)),
    "numpy (tracer/notation/tensor_code.py NUMPY)":
        (tensor_code.NUMPY, set(TENSOR_OPS) | set(PRIMITIVES)),
    "PyTorch of vectors and matrices (tracer/notation/tensor_code.py TORCH)":
        (tensor_code.TORCH, set(TENSOR_OPS) | set(PRIMITIVES)),
}


@pytest.mark.parametrize("table", sorted(TENSOR_TABLES))
def test_every_operation_of_vectors_and_matrices_has_an_entry(table):
    entries, wanted = TENSOR_TABLES[table]
    missing = sorted(wanted - set(entries))
    unknown = sorted(set(entries) - wanted)
    assert not missing, f"the {table} table has no entry for: {', '.join(missing)}"
    assert not unknown, f"the {table} table has entries for unknown operations: {unknown}"


@pytest.mark.parametrize("helpers, template", [
    (tensor_code.NUMPY_HELPERS, "code/numpy_helpers.py.j2"),
    (tensor_code.TORCH_HELPERS, "code/torch_tensor_helpers.py.j2")])
def test_every_helper_of_generated_tensor_code_is_defined(helpers, template):
    defined = document_environment().get_template(template).module
    missing = [name for name in helpers if not hasattr(defined, name)]
    assert not missing, f"templates/{template} defines no macro for: {', '.join(missing)}"


@pytest.mark.parametrize("module, template", [
    (python, "code/helpers.py.j2"), (torch, "code/torch_helpers.py.j2")])
def test_every_helper_of_generated_code_is_defined(module, template):
    defined = document_environment().get_template(template).module
    missing = [name for name in module.HELPERS if not hasattr(defined, name)]
    assert not missing, f"templates/{template} defines no macro for: {', '.join(missing)}"


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_python_notation_parses_back_and_latex_is_written(name):
    prim = PRIMITIVES[name]
    call = Call(name, tuple(Var(v) for v in "abc"[: prim.arity]))
    assert parse(to_python(call)) == call
    assert to_tex(call)


@pytest.mark.parametrize("name, tex, runs", [
    ("x1", "x_{1}", [("x", "i"), ("1", "sub")]),
    ("w_out", r"w_{\mathrm{out}}", [("w", "i"), ("out", "sub")]),
    ("alpha", r"\alpha", [("α", "i")]),
    ("lambda_", r"\lambda", [("λ", "i")]),
    ("Omega2", r"\Omega_{2}", [("Ω", "i"), ("2", "sub")]),
    # Alpha has no LaTeX command of its own: both write the name as it is
    ("Alpha1", r"\mathit{Alpha}_{1}", [("Alpha", "i"), ("1", "sub")]),
    ("num", r"\mathit{num}", [("num", "i")]),
    # entries of vectors and matrices in the component view
    ("W1_1_4", r"(W_{1})_{1,4}", [("(", ""), ("W", "i"), ("1", "sub"), (")", ""),
                                  ("1,4", "sub")]),
    ("W_2_3", r"W_{2,3}", [("W", "i"), ("2,3", "sub")]),
    ("z1_2", r"(z_{1})_{2}", [("(", ""), ("z", "i"), ("1", "sub"), (")", ""), ("2", "sub")]),
    ("x_3", r"x_{3}", [("x", "i"), ("3", "sub")]),
])
def test_names_read_alike_in_latex_and_figures(name, tex, runs):
    assert tex_symbol(name) == tex
    assert name_parts(name) == runs


# ----------------------------------------------------------------------------- SymPy bridge

NAMES = ["x", "x1", "x_1", "x12", "alpha", "w_out", "b2", "Z", "u10", "h_t1", "beta3", "c"]
_LEAVES = st.one_of(st.sampled_from(NAMES), st.sampled_from(["2", "0.5", "3", "1"]))


def _expressions():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["sigmoid", "tanh", "exp", "softplus", "relu", "sin"]),
                      inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, st.sampled_from(["2", "3"])).map(lambda t: f"({t[0]}) ** {t[1]}"))
    return st.recursive(_LEAVES, extend, max_leaves=6)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(_expressions())
def test_shared_derivations_print_as_a_direct_derivation_would(text):
    """A gate's derivatives, derived once per shape and printed with its names put back,
    are exactly what deriving and printing that gate alone gives."""
    expr = parse(text)
    operands = tuple(dict.fromkeys(v.name for v in variables(expr)))
    if not operands:
        return
    shared = sympy.derivatives(expr, operands)
    symbols: dict = {}
    gate = sympy.to_sympy(expr, symbols)
    for name, d in zip(operands, shared):
        direct = sympy._diff(gate, symbols[name])
        assert sympy.derivative_latex(d) == sympy.latex(direct, operands), (text, name)
        assert sympy.derivative_python(d) == sympy.python_text(direct), (text, name)


# ----------------------------------------------------------------------------- one number format

@pytest.mark.parametrize("value, plain, tex, text", [
    (0.0004386, "0.0004386", "0.0004386", "0.0004386"),
    (0.00002805, "2.805e-5", r"2.805 \times 10^{-5}", "2.805\u00d710\u207b\u2075"),
    (-5.515e-6, "-5.515e-6", r"-5.515 \times 10^{-6}", "\u22125.515\u00d710\u207b\u2076"),
    (123456.0, "123456", "123456", "123456"),
    (1234567.0, "1.235e6", r"1.235 \times 10^{6}", "1.235\u00d710\u2076"),
])
def test_small_and_large_numbers_are_written_alike_everywhere(value, plain, tex, text):
    from tracer.notation.numbers import fmt, fmt_tex, fmt_text

    assert (fmt(value), fmt_tex(value), fmt_text(value)) == (plain, tex, text)


def test_no_page_mixes_decimals_and_powers_of_ten_for_small_numbers():
    # eight sigmoids in a row: gradients from 0.1 down to 5.5e-6 (tests/lecture)
    import re

    from conftest import documents, _solve
    from tracer.core.graph import build_graph
    from tracer.core.load import load

    made = documents(_solve(build_graph(load(Path(__file__).parent / "lecture" / "05-eight-sigmoids.yaml"))))
    for name in ("answers.md", "answers.tex"):
        assert not re.search(r"0\.0000\d", made[name]), name       # never four zeros
        assert r"\times 10^{-5}" in made[name] and r"\times 10^{-6}" in made[name]
    assert not re.search(r'alt="[^"]*\de-\d', made["answers.md"])   # nor e-notation in text


@pytest.mark.parametrize("source, tex, python", [
    ("c + (-a)", "c - a", "c - a"),
    ("c + 1 + c + (-a)", "c + 1 + c - a", "c + 1 + c - a"),
    ("c - (-a)", "c - (-a)", "c - (-a)"),
    ("c + -3", "c - 3", "c - 3"),
])
def test_a_plus_minus_b_is_written_a_minus_b(source, tex, python):
    expr = parse(source)
    assert to_tex(expr) == tex and to_python(expr) == python


def test_substituted_negative_values_are_bracketed_in_plain_text():
    from tracer.notation.python import expr_values_text

    expr = parse("c + 1 + c + (-a)")
    assert expr_values_text(expr, {"c": -3.0, "a": -4.0}, 4) == "-3 + 1 + (-3) - (-4)"
