"""The worked solution: the formulas derived once per graph, and the arrangement of the
steps (groups, blocks, sums) that every document shows."""
from __future__ import annotations

import textwrap

import sympy

from conftest import PROBLEMS, solve_file, solve_text
from tracer.core.engine import trace
from tracer.core.expr import Call, Var, fold
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.exporters.mathtex import local_formula_tex
from tracer.notation import sympy as symbolic
from tracer.view.derive import derive
from tracer.view.solution import solve


def formulas(solution, gate: str) -> list[str]:
    """The local derivatives of ``gate`` as the documents print them."""
    (line,) = [g for g in solution.gates if g.name == gate]
    return [local_formula_tex(l) for l in line.locals]


def test_local_formulas_of_the_seeds():
    s = solve_file("01-chain-rule.yaml")
    assert [formulas(s, n)[0] for n in ("u1", "u2", "y")] == ["3", "2 u_{1}", "1"]
    # the seed's node table: du/dx1 = 1, dy/du = x3, dy/dx3 = u
    assert formulas(solve_file("02-sum-then-product.yaml"), "y") == ["x_{3}", "u"]
    assert formulas(solve_file("03-two-paths.yaml"), "u4") == ["2 u_{2}"]
    s = solve_file("04-sin-of-square.yaml")
    assert formulas(s, "y") == [r"\cos(u)"] and formulas(s, "u") == ["2 x"]
    (closed,) = s.closed
    assert closed.name == "x"
    assert symbolic.latex(closed.formula, s.closed_names) == r"2 x \cos{\left(x^{2} \right)}"


def test_a_gate_of_several_operations_is_derived_symbolically():
    s = solve_file("05-sigmoid-neuron.yaml")
    (line,) = [g for g in s.gates if g.name == "C"]
    by_operand = dict(zip((l.operand for l in line.locals), formulas(s, "C")))
    # dC/da = -(y - a), written as SymPy orders it
    assert by_operand["a"] == "a - y"


def test_constants_and_shapes():
    s = solve_text("""
        title: three x
        inputs: {x: 7}
        nodes: {f: 3 * x}
    """)
    assert formulas(s, "f") == ["3"]
    # max(x, y) and max(x, 1) have operand shapes (name 0, name 1) and (name 0, number 1)
    first = solve_text("""
        title: names
        inputs: {x: 3, y: 1}
        nodes:
          m: max(x, y)
    """)
    second = solve_text("""
        title: numbers
        inputs: {x: 3}
        nodes:
          m: max(x, 1)
    """)
    assert formulas(first, "m") == ["H(x - y)", "H(y - x)"]
    assert formulas(second, "m") == ["H(x - 1)"]


def test_gates_of_one_shape_are_derived_once_with_their_own_names():
    graph = build_graph(load_text(textwrap.dedent("""
        title: layers
        inputs: {x: 0.5, w: 2, b: -1, c: 3}
        nodes:
          h1: sigmoid(w * x + b)
          h2: sigmoid(w * h1 + b)
          h3: sigmoid(c * h2 + w) + (h1 - c) ** 2
          h4: sigmoid(b * h3 + w) + (h2 - b) ** 2
    """), "layers.yaml"))
    s = solve(graph, trace(graph))
    for name, gate in graph.gates.items():
        # derived directly, with the gate's own names: what the shared derivation must
        # equal; a name used twice (c in h3, b in h4) has a derivative per use, the other
        # use held fixed
        direct = []
        for k in range(len(gate.operands)):
            uses = iter(range(len(gate.operands)))
            marked = fold(gate.expr, lambda leaf: Var("use_k") if isinstance(leaf, Var) and
                          next(uses) == k else leaf, lambda node, args: Call(node.op, tuple(args)))
            symbols: dict = {}
            expr = symbolic.to_sympy(marked, symbols)
            name_k = sympy.Symbol(gate.operands[k], real=True)
            d = symbolic._diff(expr, symbols["use_k"]).subs(symbols["use_k"], name_k)
            direct.append(symbolic.latex(d, gate.operands))
        assert formulas(s, name) == direct
    # c's two uses in h3: inside the sigmoid, and in (h1 - c) ** 2
    assert formulas(s, "h3")[0].startswith(r"h_{2} \left(1 - \sigma")
    assert formulas(s, "h3")[4] == "2 c - 2 h_{1}"
    # h3 and h4 share a shape whose names sort alike (c < h2 < w, b < h3 < w): one
    # derivation serves both; h1 (b < w < x) and h2 (b < h1 < w) order their names apart
    symbolic._shape.cache_clear()
    derivation = derive(graph)
    assert symbolic._shape.cache_info().misses == 3
    (h3, *_), (h4, *_) = derivation.locals["h3"], derivation.locals["h4"]
    assert h3.symbolic.shape is h4.symbolic.shape


def test_derivation_is_reused_for_other_inputs():
    graph = build_graph(load(PROBLEMS / "03-two-paths.yaml"))
    derivation = derive(graph)
    first = solve(graph, trace(graph), derivation)
    other = solve(graph, trace(graph, {"x1": 1, "x2": 2, "x3": 3, "x4": 4}), derivation)
    assert [formulas(first, g.name) for g in first.gates] == \
        [formulas(other, g.name) for g in other.gates]
    assert other.values["y"] == (1 + 2) * (3 * 4) * (3 * 4) ** 2


def test_each_sum_follows_the_step_that_completes_it():
    s = solve_file("07-staged-gates.yaml")
    for group in s.groups:
        for block in group.blocks:
            assert all(step.sum is None for step in block.steps[:-1])
            assert block.sum is block.steps[-1].sum
    completed = [step.sum.node for step in s.steps if step.sum is not None]
    assert sorted(completed) == sorted(a.node for a in s.sums)
    assert [step.index for step in s.steps] == list(range(1, len(s.steps) + 1))


def test_uses_of_one_operand_are_counted():
    s = solve_file("08-reused-operand.yaml")
    into_a = [step for step in s.steps if step.node == "a"]
    assert [(step.use, step.uses) for step in into_a] == [(1, 2), (2, 2)]
