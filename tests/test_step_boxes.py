"""The box around each step frame's highlighted edge and node (tracer.exporters.figures
.step_boxes), which the answer key's step-through scrolls to, and its place in the page."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import generated_network

from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.exporters.base import frame_names
from tracer.exporters.figures import figures, step_boxes
from tracer.view.solution import solve

ROOT = Path(__file__).resolve().parent.parent
RNN = ROOT / "tests" / "lecture" / "04-rnn-three-steps.yaml"



def solved(text_or_path):
    graph = build_graph(load(text_or_path) if isinstance(text_or_path, Path)
                        else load_text(text_or_path))
    return solve(graph, trace(graph))


def highlighted_points(svg: str) -> list[tuple[float, float]]:
    """Every coordinate of the highlighted edge's path and the highlighted node's shape."""
    points = []
    for group in re.findall(r'<g class="(?:edge|node [a-z]+) highlight".*?</g>', svg, re.S):
        for d in re.findall(r' d="([^"]+)"', group):
            points += [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)]
        for x, y in re.findall(r' c?x="(-?[\d.]+)" c?y="(-?[\d.]+)"', group):
            points.append((float(x), float(y)))
    return points


@pytest.mark.parametrize("make", [lambda: solved(RNN), lambda: solved(generated_network())],
                         ids=["rnn", "generated-57"])
def test_each_step_box_holds_its_highlighted_edge_and_node(make):
    solution = make()
    boxes = step_boxes(solution)
    names = frame_names(solution)
    assert len(boxes) == len(names) == len(solution.steps) > 10
    drawn = figures(solution)
    for box, name in zip(boxes, names):
        assert 0 <= box.x and box.x + box.width <= box.figure_width + 0.01
        assert 0 <= box.y and box.y + box.height <= box.figure_height + 0.01
        svg = drawn[name]
        assert f'width="{box.size.split()[0]}"' in svg
        points = highlighted_points(svg)
        assert points, name
        for x, y in points:
            assert box.x - 0.01 <= x <= box.x + box.width + 0.01, (name, x, box)
            assert box.y - 0.01 <= y <= box.y + box.height + 0.01, (name, y, box)
        # A box, not the whole figure: the step-through can zoom to it.
        assert box.width < box.figure_width


def test_generated_problem_has_57_nodes_and_step_frames():
    solution = solved(generated_network())
    assert len(solution.trace.nodes) == 57
    assert len(frame_names(solution)) == len(solution.steps)


def test_no_boxes_without_step_frames():
    # More nodes than step frames are drawn for.
    solution = solved(generated_network(width=7, layers=9))
    assert frame_names(solution) == [] and step_boxes(solution) == ()


def test_the_answer_key_gives_each_step_its_box_and_a_broken_equation():
    from tracer.exporters.base import Options, get

    solution = solved(RNN)
    page = get("markdown").files(solution, Options())["answers.md"]
    boxes = step_boxes(solution)
    found = re.findall(r'<figure class="tracer-step" data-step="(\d+)" data-box="([^"]+)" '
                       r'data-size="([^"]+)">', page)
    assert [(int(k), b, s) for k, b, s in found] == [
        (k + 1, box.box, box.size) for k, box in enumerate(boxes)]
    # The step's equation: the formula and the numbers on lines of their own, at "=".
    first = page.split('data-step="1"', 1)[1].split("</figure>", 1)[0]
    assert r"\begin{aligned}" in first and r"&amp;= " in first and r"\\ &amp;= " in first
