"""repeat: blocks expanded before tracing: readable names, {t-1} arithmetic, errors at the
template's line, a shared weight's one contribution per step, and the unrolled RNN of
problems/ against PyTorch."""
from __future__ import annotations

import re

import math
import textwrap

import pytest

from conftest import PROBLEMS, documents, solve_file, trace_text
from tracer.core.engine import trace
from tracer.core.errors import TracerError
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text

RNN = """
    title: A small RNN
    inputs:
      h0: 0.5
      w: 1.5
      u: 1
      y: -1
    repeat:
      t: 1..4
      inputs:
        x{t}: [-0.74, 0.1, 0, 0.2]
      nodes:
        a{t}: w * h{t-1} + u * x{t}
        h{t}: tanh(a{t})
    nodes:
      L: 0.5 * (h4 - y) ** 2
"""

UNROLLED = """
    title: The same RNN written out
    inputs: {h0: 0.5, w: 1.5, u: 1, y: -1, x1: -0.74, x2: 0.1, x3: 0, x4: 0.2}
    nodes:
      a1: w * h0 + u * x1
      h1: tanh(a1)
      a2: w * h1 + u * x2
      h2: tanh(a2)
      a3: w * h2 + u * x3
      h3: tanh(a3)
      a4: w * h3 + u * x4
      h4: tanh(a4)
      L: 0.5 * (h4 - y) ** 2
"""


def problem(text: str):
    return load_text(textwrap.dedent(text), "rnn.yaml")


def errors(text: str) -> list[str]:
    with pytest.raises(TracerError) as info:
        build_graph(problem(text))
    return [str(d) for d in info.value.diagnostics]


def test_expands_into_the_nodes_one_would_write_out():
    made = problem(RNN)
    written = problem(UNROLLED)
    assert [(d.name, d.expr) for d in made.nodes] == [(d.name, d.expr) for d in written.nodes]
    assert dict(made.inputs) == dict(written.inputs)
    assert [d.text for d in made.nodes[:2]] == ["w * h0 + u * x1", "tanh(a1)"]
    # the trace is the one of the written-out problem, step for step
    a, b = trace_text(RNN), trace_text(UNROLLED)
    assert a.gradients == b.gradients
    assert [(s.node, s.source, s.contribution, s.path) for s in a.backward] == \
        [(s.node, s.source, s.contribution, s.path) for s in b.backward]


def test_expanded_nodes_keep_the_line_of_their_template():
    made = problem(RNN)
    lines = {d.name: d.line for d in made.nodes}
    assert lines["a1"] == lines["a4"] == 13 and lines["h3"] == 14 and lines["L"] == 16
    assert made.line("inputs.x3") == 11 and made.line("nodes.h2") == 14


def test_the_repeat_describes_its_steps():
    made = problem(RNN).repeat
    assert made.index == "t" and made.values == (1, 2, 3, 4)
    families = {f.template: f for f in made.families}
    # the state h is read at t - 1: carried, with h0 at t = 0
    assert families["h{t}"].carried and families["h{t}"].names[0] == (0, "h0")
    assert [n for _, n in families["h{t}"].names] == ["h0", "h1", "h2", "h3", "h4"]
    assert not families["a{t}"].carried and families["x{t}"].kind == "input"
    assert made.shared == ("w", "u")
    assert made.step_of("a3") == 3 and made.step_of("h0") is None and made.step_of("w") is None


def test_a_shared_weight_collects_one_labelled_contribution_per_step():
    t = trace_text(RNN)
    sums = {a.node: a for a in t.sums}
    assert sums["w"].sources == ("a4", "a3", "a2", "a1")
    assert [s.path for s in t.backward if s.node == "w"] == [1, 2, 3, 4]
    assert math.fsum(sums["w"].contributions) == pytest.approx(sums["w"].grad, rel=1e-15)


@pytest.mark.parametrize("values, expected", [
    ("[3, 1, 2]", (3, 1, 2)), ("2..4", (2, 3, 4)), ("0..2", (0, 1, 2)), ("[5]", (5,))])
def test_index_values(values, expected):
    text = f"""
        title: r
        inputs: {{v: 2}}
        repeat:
          k: {values}
          nodes:
            p{{k}}: v * {{k}}
        nodes:
          s: {" + ".join(f"p{{k}}".replace("{k}", str(k)) for k in expected)}
    """
    made = problem(text)
    assert made.repeat.values == expected
    # {k} alone is the index as a number
    assert [d.text for d in made.nodes if d.name.startswith("p")] == \
        [f"v * {k}" for k in expected]


def test_reading_a_step_outside_the_range_names_file_line_and_fix():
    text = RNN.replace("      h0: 0.5\n", "")
    (message,) = errors(text)
    assert message.startswith("rnn.yaml:12:")
    assert "'h{t-1}' in the node 'a{t}' is 'h0' at t = 1" in message
    assert "outside t = 1..4" in message and "give 'h0' as an input" in message


@pytest.mark.parametrize("change, expected", [
    (("a{t}: w * h{t-1}", "a{t}: w * h{t/2}"), "'{t/2}' may use only t, whole numbers"),
    (("a{t}: w * h{t-1}", "a{t}: w * hh{t-1}"),
     "'hh{t-1}' in the node 'a{t}' is 'hh0' at t = 1 (and at 3 other steps), which is "
     "neither an input nor a node"),
    (("h{t}: tanh(a{t})", "h: tanh(a{t})"), "the node 'h' has no {t} in its name"),
    (("x{t}: [-0.74, 0.1, 0, 0.2]", "x{t}: [1, 2]"),
     "the input 'x{t}' has 2 values for 4 steps (t = 1..4)"),
    (("t: 1..4", "t: 0..4"), "'h{t-1}' in the node 'a{t}' is 'h-1' at t = 0, which cannot be "
                             "a name"),
    (("t: 1..4", "t: 4..1"), "the range 4..1 is empty"),
    (("t: 1..4", "t: [1, 1]"), "each value may appear once"),
    (("t: 1..4", "t: one"), "a list of whole numbers"),
    (("t: 1..4", "t: 1..5000"), "at most 1000 steps"),
    (("h{t}: tanh(a{t})", "h{t}: tanh(a{t}"), "('tanh(a1' at t = 1): syntax error"),
    (("a{t}: w * h{t-1}", "a{t}: w * h{t-1}}"), "a '{' or '}' without its partner"),
    (("nodes:\n        a{t}", "nodes:\n        h{t+1}"), "makes 'h2' at t = 2, as 'h{t+1}' does"),
    (("      y: -1\n", "      y: -1\n      x2: 3\n"), "'x{t}' makes 'x2', which is also an "
                                                     "input"),
])
def test_mistakes_in_a_repeat_are_reported_at_their_line(change, expected):
    old, new = change
    assert old in RNN
    found = errors(RNN.replace(old, new, 1))
    assert any(expected in m for m in found), found
    assert all(m.startswith("rnn.yaml:") and m.split(":")[1].isdigit() for m in found)


def test_every_mistake_is_reported_at_once():
    text = RNN.replace("h{t-1}", "q{t-1}").replace("title: A small RNN", "title: r\n    tilte: x")
    found = errors(text)
    assert len(found) == 2 and "tilte" in found[0] and "q{t-1}" in found[1]


def test_repeat_needs_an_index_and_nodes():
    assert any("repeat needs an index" in m for m in errors(
        "title: r\ninputs: {w: 1}\nrepeat:\n  nodes:\n    h{t}: w\n"))
    assert any("repeat needs 'nodes'" in m for m in errors(
        "title: r\ninputs: {w: 1}\nrepeat:\n  t: 1..3\n"))
    assert any("second index" in m for m in errors(
        "title: r\ninputs: {w: 1}\nrepeat:\n  t: 1..3\n  k: 1..2\n  nodes:\n    h{t}: w\n"))


def test_repeat_alone_describes_the_graph():
    t = trace_text("""
        title: r
        inputs: {h0: 1, w: 0.5}
        repeat:
          t: 1..3
          nodes:
            h{t}: w * h{t-1}
    """)
    assert t.output == "h3" and t.values["h3"] == pytest.approx(0.125)


# ----------------------------------------------------------------------------- the RNN problem

def _torch_rnn(graph):
    """The unrolled RNN of the problem, written again in PyTorch from its inputs."""
    torch = pytest.importorskip("torch")
    given = dict(graph.problem.inputs)
    t = {n: torch.tensor(given[n], dtype=torch.float64, requires_grad=True)
         for n in ("h0", "w", "u")}
    h = t["h0"]
    states = [h]
    for step in range(1, 11):
        h = torch.tanh(t["w"] * h + t["u"] * given[f"x{step}"])
        h.retain_grad()
        states.append(h)
    loss = 0.5 * (h - given["y"]) ** 2
    loss.backward()
    return t, states


@pytest.mark.slow
@pytest.mark.parametrize("name", ["12-rnn-exploding.yaml", "13-rnn-vanishing.yaml"])
def test_the_ten_step_rnn_gradients_equal_pytorch(name):
    graph = build_graph(load(PROBLEMS / name))
    ours = trace(graph)
    leaves, states = _torch_rnn(graph)
    for n in ("w", "u", "h0"):
        assert ours.gradients[n] == pytest.approx(leaves[n].grad.item(), rel=1e-12, abs=1e-15)
    for step, state in enumerate(states[1:], 1):
        assert ours.gradients[f"h{step}"] == pytest.approx(state.grad.item(), rel=1e-12)


def test_the_answer_key_lists_the_ten_labelled_contributions_of_w():
    solution = solve_file("12-rnn-exploding.yaml")
    (total,) = [a for a in solution.sums if a.node == "w"]
    assert len(total.contributions) == 10
    assert total.sources == tuple(f"a{t}" for t in range(10, 0, -1))
    answers = documents(solution)["answers.md"]
    terms = " + ".join(rf"\frac{{\partial L^{{[{k}]}}}}{{\partial w}}" for k in range(1, 11))
    # (the sum is broken into rows that fit a narrow column: joined here)
    joined = re.sub(r" \\\\\n&(\\quad )?", " ", answers)
    assert rf"\frac{{\partial L}}{{\partial w}} &= {terms} = " in joined
    for k in range(1, 11):   # each contribution is worked as its own chain-rule step
        assert rf"\frac{{\partial L^{{[{k}]}}}}{{\partial w}} &= " in answers
