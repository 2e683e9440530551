"""The seeds' worked examples, traced: every number they state (and their slips corrected)."""
from __future__ import annotations

import math
import re

import pytest

from conftest import PROBLEMS, trace_file, trace_text
from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text


def test_chain_rule_3x_squared_plus_5():
    t = trace_file("01-chain-rule.yaml")
    values = t.values
    assert [values[n] for n in ("u1", "u2", "y")] == [6, 36, 41]
    assert [t.node(n).locals[0].value for n in ("u1", "u2", "y")] == [3, 12, 1]
    assert t.gradients["x"] == 36


def test_sum_then_product():
    t = trace_file("02-sum-then-product.yaml")
    assert t.values["u"] == 6 and t.values["y"] == -30
    g = t.gradients
    assert (g["x3"], g["x1"], g["x2"], g["u"]) == (6, -5, -5, -5)


def test_two_paths_into_one_node():
    t = trace_file("03-two-paths.yaml")
    assert t.values["y"] == 40
    g = t.gradients
    assert (g["u3"], g["u4"], g["u1"], g["u2"]) == (4, 10, -8, -60)
    assert (g["x1"], g["x2"], g["x3"], g["x4"]) == (-8, -8, 60, -120)
    # dy/du2 = [1] -20 (through u3) + [2] -40 (through u4), in that order, as in the seed
    into_u2 = [s for s in t.backward if s.node == "u2"]
    assert [(s.path, s.source, s.contribution) for s in into_u2] == [(1, "u3", -20), (2, "u4", -40)]
    (acc,) = t.sums
    assert acc.node == "u2" and acc.contributions == (-20, -40) and acc.grad == -60


def test_sin_of_square():
    t = trace_file("04-sin-of-square.yaml")
    x = 2.0
    assert t.gradients["x"] == pytest.approx(math.cos(x * x) * 2 * x, rel=1e-15)


def test_sigmoid_neuron_full_precision():
    t = trace_file("05-sigmoid-neuron.yaml")
    assert t.values["z"] == 1
    assert round(t.values["a"], 4) == 0.7311
    g = t.gradients
    assert round(g["w1"], 4) == 0.0529
    # delta = dC/dz and dC/db = delta (the seed's observation)
    assert g["b"] == g["z"]
    assert g["w2"] == pytest.approx(-2 * g["z"])
    u = t.update
    new = {p.name: round(p.new, 3) for p in u.params}
    assert new == {"w1": 1.947, "w2": -3.106, "b": -2.947}
    assert round(dict(u.values)["a"], 3) == 0.789
    assert u.output_after < u.output_before


def test_sigmoid_neuron_by_hand_matches_the_seed_exactly():
    t = trace_file("06-sigmoid-neuron-by-hand.yaml")
    assert t.values["a"] == 0.73
    assert t.gradients["a"] == pytest.approx(-0.27, abs=1e-15)
    assert t.node("a").locals[0].value == pytest.approx(0.1971, abs=1e-15)
    assert round(t.gradients["w1"], 12) == 0.053217
    assert round(dict(t.update.values)["a"], 2) == 0.79


def test_staged_gates_accumulate_into_x_and_y():
    t = trace_file("07-staged-gates.yaml")
    x, y = 3.0, -4.0
    sig = lambda v: 1 / (1 + math.exp(-v))
    assert t.values["f"] == pytest.approx((x + sig(y)) / (sig(x) + (x + y) ** 2))
    into_x = [s for s in t.backward if s.node == "x"]
    into_y = [s for s in t.backward if s.node == "y"]
    assert [s.path for s in into_x] == [1, 2, 3] and [s.path for s in into_y] == [1, 2]
    assert sum(s.contribution for s in into_x) == pytest.approx(t.gradients["x"])
    for name in ("x", "y"):
        assert t.gradients[name] == pytest.approx(dict(t.numeric)[name], rel=1e-6)
    # derived by hand: f = N / D, N = x + s(y), D = s(x) + (x + y)^2
    n, d = x + sig(y), sig(x) + (x + y) ** 2
    dfdx = 1 / d - n * (sig(x) * (1 - sig(x)) + 2 * (x + y)) / d ** 2
    dfdy = sig(y) * (1 - sig(y)) / d - n * 2 * (x + y) / d ** 2
    assert t.gradients["x"] == pytest.approx(dfdx, rel=1e-12)
    assert t.gradients["y"] == pytest.approx(dfdy, rel=1e-12)


def test_reused_operand_gets_one_contribution_per_use():
    t = trace_file("08-reused-operand.yaml")
    # s = (2a)^2 -> ds/da = 8a = 24, from two uses of a in b = a + a
    assert t.gradients["a"] == 24
    into_a = [s for s in t.backward if s.node == "a"]
    assert [(s.path, s.contribution) for s in into_a] == [(1, 12), (2, 12)]
    into_b = [s for s in t.backward if s.node == "b"]
    assert [s.contribution for s in into_b] == [6, 6]


def test_square_by_multiplication_counts_both_slots():
    t = trace_text("""
        title: x times x
        inputs: {x: 5}
        nodes: {s: x * x}
    """)
    assert t.gradients["x"] == 10
    assert [s.path for s in t.backward] == [1, 2]


def test_constants_inside_a_node_are_part_of_it():
    t = trace_text("""
        title: three x
        inputs: {x: 7}
        nodes: {f: 3 * x}
    """)
    (local,) = t.node("f").locals
    assert local.value == 3


def test_expression_is_decomposed_in_evaluation_order():
    t = trace_text("""
        title: decomposed
        inputs: {x1: 4, x2: 2, x3: -5}
        expression: (x1 + x2) * x3
    """)
    assert [n.name for n in t.nodes if n.kind == "gate"] == ["u1", "y"]
    assert t.output == "y" and t.gradients["x1"] == -5


def test_decomposition_skips_names_taken_by_inputs_and_keeps_constant_subexpressions():
    t = trace_text("""
        title: names
        inputs: {u1: 2}
        expression: exp(u1 * (2 + 3))
        output: out
    """)
    gates = [n for n in t.nodes if n.kind == "gate"]
    assert [n.name for n in gates] == ["u2", "out"]
    assert t.gradients["u1"] == pytest.approx(5 * math.exp(10))


def test_wrt_defaults_to_all_inputs_and_can_name_nodes():
    t = trace_file("03-two-paths.yaml")
    assert t.wrt == ("x1", "x2", "x3", "x4")
    t = trace_text("""
        title: wrt
        inputs: {x: 1}
        nodes: {u: 2 * x, y: u ** 3}
        wrt: [u]
    """)
    assert t.wrt == ("u",) and t.gradients["u"] == 12


@pytest.mark.parametrize("expr, x, grad", [
    ("relu(x)", 0.0, 0.0),
    ("abs(x)", 0.0, 0.0),
    ("max(x, 1)", 1.0, 0.5),
    ("min(x, 1)", 1.0, 0.5),
])
def test_kinks_use_the_documented_subgradient(expr, x, grad):
    t = trace_text(f"""
        title: kink
        inputs: {{x: {x}}}
        nodes:
          y: "{expr}"
    """)
    assert t.gradients["x"] == grad
    assert t.backward[0].kink


def test_max_tie_splits_between_equal_operands():
    t = trace_text("""
        title: tie
        inputs: {a: 2, b: 2}
        nodes:
          y: max(a, b)
    """)
    assert (t.gradients["a"], t.gradients["b"]) == (0.5, 0.5)


def test_trace_is_deterministic():
    a = trace_file("07-staged-gates.yaml")
    b = trace_file("07-staged-gates.yaml")
    assert (a.nodes, a.backward, a.sums, a.numeric) == (b.nodes, b.backward, b.sums, b.numeric)


def test_the_same_graph_traced_with_other_inputs_equals_a_problem_with_them():
    graph = build_graph(load(PROBLEMS / "05-sigmoid-neuron.yaml"))
    other = {"w1": 0.5, "w2": -1.0, "b": 0.25, "x1": 2.0, "x2": 3.0, "y": 0.0}
    again = trace(graph, other)
    text = (PROBLEMS / "05-sigmoid-neuron.yaml").read_text().split("\nvariants:")[0] + "\n"
    for name, value in other.items():
        text = re.sub(rf"(?m)^(\s+{name}:) .*$", rf"\g<1> {value}", text)
    fresh = trace(build_graph(load_text(text, "other.yaml")))
    assert again.values == fresh.values and again.gradients == fresh.gradients
    assert again.backward == fresh.backward and again.update == fresh.update
    assert again.numeric == fresh.numeric
    # and the first trace is untouched: a graph keeps no state of its traces
    assert trace(graph).values == trace_file("05-sigmoid-neuron.yaml").values
