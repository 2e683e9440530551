"""The figures' layout: edge crossings kept within a recorded budget per problem, the
author's ``layout: columns`` hint respected, and its mistakes reported."""
from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from conftest import PROBLEMS, SCALAR_PROBLEMS, _solve, solve_text
from test_figures import layered
from tracer.core.errors import TracerError
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.exporters.figures import figures, layout
from tracer.exporters.figures.layout import Layout

LECTURE = Path(__file__).resolve().parent / "lecture"

# ----------------------------------------------------------------------------- crossings

Pt = tuple[float, float]


def polyline(edge, steps: int = 12) -> list[Pt]:
    """An edge's path as a polyline: lines as they are, each Bézier curve sampled at
    ``steps`` points, and on to the arrow's tip."""
    points: list[Pt] = []
    for segment in edge.path:
        if segment.kind in ("M", "L"):
            points.append((segment.points[0].x, segment.points[0].y))
            continue
        (x0, y0) = points[-1]
        (x1, y1), (x2, y2), (x3, y3) = ((p.x, p.y) for p in segment.points)
        for i in range(1, steps + 1):
            t = i / steps
            u = 1 - t
            points.append((u ** 3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t ** 3 * x3,
                           u ** 3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t ** 3 * y3))
    points.append((edge.arrow[0].x, edge.arrow[0].y))
    return points


def _side(p: Pt, q: Pt, r: Pt) -> int:
    v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return (v > 1e-9) - (v < -1e-9)


def _proper(a: Pt, b: Pt, c: Pt, d: Pt) -> bool:
    """Whether segments ab and cd cross at a point inside both (touching is not crossing)."""
    return _side(a, b, c) * _side(a, b, d) < 0 and _side(c, d, a) * _side(c, d, b) < 0


def crossings(lay: Layout) -> int:
    """How many pairs of edges cross, among edges that share no node (edges into or out of
    one node meet there, and the fan of a shared value is not a crossing)."""
    lines = []
    for e in lay.edges:
        p = polyline(e)
        xs, ys = [x for x, _ in p], [y for _, y in p]
        lines.append((e, p, (min(xs), min(ys), max(xs), max(ys))))
    count = 0
    for i, (e, p, box) in enumerate(lines):
        for f, q, other in lines[i + 1:]:
            if {e.source, e.target} & {f.source, f.target}:
                continue
            if box[2] < other[0] or other[2] < box[0] or box[3] < other[1] or other[3] < box[1]:
                continue
            count += any(_proper(a, b, c, d) for a, b in zip(p, p[1:])
                         for c, d in zip(q, q[1:]))
    return count


def test_crossings_counts_what_it_should():
    """Two edges into one gate share a node; x1 -> a and x2 -> b drawn across each other
    (the hint puts x2 above x1 and a above b... but a uses x1) cross once."""
    crossed = solve_text("""
        title: Crossed
        inputs: {x1: 1, x2: 2}
        nodes:
          a: exp(x1)
          b: exp(x2)
          y: a + b
        layout:
          columns: [[x2, x1], [a, b]]
        """)
    straight = solve_text("""
        title: Straight
        inputs: {x1: 1, x2: 2}
        nodes:
          a: exp(x1)
          b: exp(x2)
          y: a + b
        layout:
          columns: [[x1, x2], [a, b]]
        """)
    assert crossings(layout(crossed)) == 1
    assert crossings(layout(straight)) == 0


#: Crossings per problem: what the layout draws now (before, every input in one column at
#: the left: Mazur 19, micrograd 5, softmax 2, the RNN 8, kinks 4, the problems 09 82,
#: 12 75, 13 73, 14 75, 07 1; the rest 0).  A change that draws more fails here.
BUDGET = {
    "01-mazur-2-2-2.yaml": 6, "02-micrograd.yaml": 4, "03-softmax-cross-entropy.yaml": 3,
    "04-rnn-three-steps.yaml": 0, "05-eight-sigmoids.yaml": 0, "06-kinks-and-division.yaml": 1,
    "07-staged-gates.yaml": 1, "09-vanishing-sigmoid-vs-relu.yaml": 6,
    "12-rnn-exploding.yaml": 0, "13-rnn-vanishing.yaml": 0, "14-rnn-clipped.yaml": 0,
}
FILES = [LECTURE / p.name for p in sorted(LECTURE.glob("*.yaml"))] + \
    [PROBLEMS / name for name in SCALAR_PROBLEMS]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_crossings_within_budget(path):
    lay = layout(_solve(build_graph(load(path)), closed_forms=False, check=False))
    assert crossings(lay) <= BUDGET.get(path.name, 0)


def test_total_crossings_below_the_old_layout():
    assert sum(BUDGET.values()) < 19 + 5 + 2 + 8 + 4 + 82 + 75 + 73 + 75 + 1


# ----------------------------------------------------------------------------- placement

def _x(lay: Layout) -> dict[str, float]:
    return {n.name: n.centre.x for n in lay.nodes}


def _y(lay: Layout) -> dict[str, float]:
    return {n.name: n.centre.y for n in lay.nodes}


def test_inputs_sit_next_to_the_gate_that_uses_them():
    """The RNN: x3 is drawn by a3, not at the far left, and the shared weight w once, left of
    its first use, its three edges fanning out; the output is the rightmost node."""
    solution = _solve(build_graph(load(LECTURE / "04-rnn-three-steps.yaml")))
    lay = layout(solution)
    x = _x(lay)
    assert x["a2"] < x["x3"] < x["a3"]
    assert x["a3"] < x["y"] < x["L"]
    assert x["w"] < x["a1"]
    assert [e.target for e in lay.edges if e.source == "w"] == ["a1", "a2", "a3"]
    assert max(x.values()) == x["L"]


MAZUR_COLUMNS = """
layout:
  columns:
    - [w1, w2, i1, i2, b1, w3, w4]
    - [neth1, neth2]
    - [h1, h2]
    - [w5, w6, b2, w7, w8]
    - [neto1, neto2]
    - o1                    # a column of one name
"""


def _mazur(extra: str = ""):
    # the lecture file's own columns replaced by ``extra`` (none when it is empty)
    text = (LECTURE / "01-mazur-2-2-2.yaml").read_text().split("layout:")[0] + extra
    return _solve(build_graph(load_text(text, "mazur.yaml")), closed_forms=False, check=False)


def test_columns_are_respected():
    lay = layout(_mazur(MAZUR_COLUMNS))
    x, y = _x(lay), _y(lay)
    columns = [["w1", "w2", "i1", "i2", "b1", "w3", "w4"], ["neth1", "neth2"], ["h1", "h2"],
               ["w5", "w6", "b2", "w7", "w8"], ["neto1", "neto2"], ["o1"]]
    for column in columns:
        assert len({x[name] for name in column}) == 1, column
        tops = [y[name] for name in column]
        assert tops == sorted(tops), column          # top down, in the order given
    lefts = [x[column[0]] for column in columns]
    assert lefts == sorted(set(lefts))               # left to right
    assert x["o2"] > x["neto2"] and max(x.values()) == x["E"]   # the rest placed freely
    assert crossings(lay) <= BUDGET["01-mazur-2-2-2.yaml"]


def test_columns_are_deterministic_and_reach_every_figure():
    made = figures(_mazur(MAZUR_COLUMNS))
    assert made == figures(_mazur(MAZUR_COLUMNS))
    assert made["graph.svg"] != figures(_mazur())["graph.svg"]
    assert {"graph.svg", "gradients.svg", "graph.tikz.tex"} <= set(made)


def test_columns_of_a_problem_of_matrices():
    """The hint reaches the figures of vectors and matrices too (and their components)."""
    text = textwrap.dedent("""
        title: A layer
        inputs:
          x: [1, 2]
          W: [[0.5, -1], [2, 0.25]]
          b: [0.1, 0.2]
        nodes:
          z: W @ x + b
          y: sum(z)
        layout:
          columns: [[b, W, x], [z]]
        """)
    solution = _solve(build_graph(load_text(text, "layer.yaml")), closed_forms=False,
                      check=False)
    from tracer.exporters.figures.tensor import tensor_figures
    assert tensor_figures(solution)   # laid out and drawn


def test_a_60_node_layout_stays_fast():
    # (A deep chain, layered(8, 52), takes about a second: seven before inputs were ranked
    # by their gates.)
    solution = solve_text(layered(20, 40), closed_forms=False, check=False)
    assert len(solution.trace.nodes) == 60
    start = time.perf_counter()
    layout(solution)
    assert time.perf_counter() - start < 2.0


# ----------------------------------------------------------------------------- mistakes

BASE = """\
title: A neuron
inputs: {x: 1, weight: 2, b: 3}
nodes:
  u: weight * x
  v: u + b
  y: sigmoid(v)
"""


@pytest.mark.parametrize("block, message", [
    ("layout: [[x]]", "layout must be a mapping with the key 'columns', not a list"),
    ("layout: {cols: [[x]]}", "unknown key 'cols' in layout (the keys are: columns)"),
    ("layout: {order: [[x]]}", "unknown key 'order' in layout"),
    ("layout: {columns: []}", "layout: columns must be a list of columns, left to right"),
    ("layout: {columns: [[x], []]}", "layout: column 2 is empty: list names in it or remove it"),
    ("layout: {columns: [[x], {a: 1}]}", "layout: column 2 must be a list of names"),
    ("layout: {columns: [[x, weight], [u, x]]}",
     "layout: 'x' is listed twice (in column 1 and column 2)"),
    ("layout: {columns: [[x, wieght], [u]]}",
     "layout: there is no input or node 'wieght' - did you mean 'weight'?"),
    ("layout: {columns: [[x, weight], [v], [u]]}",
     "layout: 'v' is computed from 'u', which is in column 3, right of its column 2: put 'u' "
     "in a column left of 'v'"),
    ("layout: {columns: [[x, u]]}",
     "layout: 'u' is computed from 'x', which is in the same column"),
    ("layout: {columns: [[x], [y]]}", None),   # through u and v, which are not listed
    ("layout: {columns: [[y], [x]]}",
     "layout: 'y' is computed from 'x', which is in column 2, right of its column 1"),
])
def test_layout_mistakes(block, message):
    text = BASE + block + "\n"
    if message is None:
        build_graph(load_text(text, "neuron.yaml"))
        return
    with pytest.raises(TracerError) as caught:
        build_graph(load_text(text, "neuron.yaml"))
    shown = str(caught.value)
    assert message in shown
    assert "neuron.yaml:7" in shown      # the file and the line of the layout block


def test_an_empty_layout_is_no_hint():
    problem = load_text(BASE + "layout:\n", "neuron.yaml")
    assert problem.layout is None


def test_columns_name_what_a_repeat_makes():
    text = (LECTURE / "04-rnn-three-steps.yaml").read_text() + \
        "layout:\n  columns: [[w, u], [h0, x1], [a1], [h1, x2], [a2], [h2, x3], [a3]]\n"
    lay = layout(_solve(build_graph(load_text(text, "rnn.yaml")), closed_forms=False,
                        check=False))
    x, y = _x(lay), _y(lay)
    assert x["w"] == x["u"] < x["h0"] == x["x1"] < x["a1"] < x["h1"] == x["x2"] < x["a2"]
    assert y["h1"] < y["x2"] and y["w"] < y["u"]
    assert crossings(lay) == 0
