"""The plots: the gradient's size on its way back (per layer, per time step, along a path),
the loss over training steps and the activations; the numbers they draw are the trace's,
and the sigmoid chain's decay is the one the seed describes."""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import solve_file, solve_text
from tracer.exporters.plots import plot_documents, plot_files
from tracer.view.plots import activations, gradient_flow, longest_path

SVG = "{http://www.w3.org/2000/svg}"


def plotted(svg: str) -> dict[str, list[tuple[str, float]]]:
    """The points an SVG plot draws: series -> [(data-name, data-value)], in order."""
    root = ET.fromstring(svg)
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "series":
            found[group.get("data-series")] = [
                (p.get("data-name"), float(p.get("data-value")))
                for p in group if p.get("class") == "point"]
    return found


@pytest.fixture(scope="module")
def chain():
    solution = solve_file("09-vanishing-sigmoid-vs-relu.yaml")
    return solution, plot_documents(solution)


def test_the_sigmoid_chain_decays_by_at_least_four_per_layer(chain):
    """Each layer back multiplies the gradient by w sigma'(z) with w = 1 and sigma' <= 1/4:
    the plotted |dL/ds_k| shrink by a factor of at least 4 per layer, below (1/4)^k after k
    layers."""
    solution, files = chain
    s = plotted(files["flow.svg"])["s{k}"]
    assert [name for name, _ in s] == [f"s{k}" for k in range(7)]
    values = [v for _, v in s]
    assert values == [abs(solution.gradients[f"s{k}"]) for k in range(7)]
    for k in range(6, 0, -1):
        assert values[k - 1] <= 0.25 * values[k]
        assert values[k - 1] <= 0.25 ** (6 - k + 1) * values[6]
    # the factor of each layer is its local gradient sigma'(z_k) = s_k (1 - s_k)
    for k in range(1, 7):
        sk = solution.values[f"s{k}"]
        assert values[k - 1] / values[k] == pytest.approx(sk * (1 - sk), rel=1e-12)


def test_the_relu_chain_keeps_the_gradient(chain):
    _, files = chain
    r = plotted(files["flow.svg"])["r{k}"]
    assert [v for _, v in r] == [0.5] * 7


def test_the_flow_plot_is_logarithmic_with_a_legend_per_series(chain):
    _, files = chain
    svg = files["flow.svg"]
    assert 'data-scale="log"' in svg
    root = ET.fromstring(svg)
    legend = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend"]
    assert len(legend) == 1 and len(legend[0].findall(f"{SVG}text")) == 2
    # tick labels are decades 10^-5 ... 10^0
    assert "\u22125</tspan>" in svg and ">10</tspan>" in svg


@pytest.mark.parametrize("name, grows", [("12-rnn-exploding.yaml", True),
                                         ("13-rnn-vanishing.yaml", False)])
def test_the_rnn_gradient_per_time_step(name, grows):
    solution = solve_file(name)
    h = plotted(plot_documents(solution)["flow.svg"])["h{t}"]
    assert [n for n, _ in h] == [f"h{t}" for t in range(11)]
    values = [v for _, v in h]
    w = solution.values["w"]
    for t in range(10, 0, -1):
        # one step back: w tanh'(a_t), at most |w|
        assert values[t - 1] / values[t] <= abs(w) + 1e-12
        assert (values[t - 1] > values[t]) == grows
    flow = gradient_flow(solution)
    assert (flow.series[0].factor > 40) if grows else (flow.series[0].factor < 1e-3)


def test_a_problem_without_steps_follows_its_longest_path():
    solution = solve_file("05-sigmoid-neuron.yaml")
    assert longest_path(solution.trace) == ["w1", "z", "a", "C"]
    flow = gradient_flow(solution)
    assert flow.by == "path"
    points = plotted(plot_documents(solution)["flow.svg"])["path"]
    assert points == [(n, abs(solution.gradients[n])) for n in ("w1", "z", "a", "C")]


def test_a_zero_gradient_is_marked_at_the_foot_of_a_log_axis():
    solution = solve_text("""
        title: A relu that is off
        inputs: {x: -1, w: 2}
        nodes:
          z: w * x
          a: relu(z)
          y: a + 0.5 * w
    """)
    svg = plot_documents(solution)["flow.svg"]
    # the path w -> z -> a -> y: the relu is off, so dy/dz = 0
    zeros = re.findall(r'data-name="(\w+)" data-value="0.0" data-zero="1"', svg)
    assert zeros == ["z"]


def test_the_loss_plot_draws_every_step():
    solution = solve_file("11-leaky-relu.yaml")
    files = plot_documents(solution)
    points = plotted(files["loss.svg"])["loss"]
    assert [v for _, v in points] == list(solution.trace.training.losses)
    assert 'data-scale="log"' in files["loss.svg"]      # 2.42 down to 1e-8
    dying = plot_documents(solve_file("10-dying-relu.yaml"))["loss.svg"]
    assert 'data-scale="linear"' in dying


def test_the_sigmoid_plot_marks_the_largest_derivative(chain):
    solution, files = chain
    svg = files["activation-sigmoid.svg"]
    series = plotted(svg)
    uses = activations(solution)[0].uses
    assert [v for _, v in series["derivative"]] == [u.local for u in uses]
    assert all(v <= 0.25 for _, v in series["derivative"])
    guide = re.search(r'<g class="guide">\s*<line [^>]*y1="([\d.]+)"', svg).group(1)
    zero = re.search(r'<line class="zero" [^>]*y1="([\d.]+)"', svg).group(1)
    top = re.search(r'<rect class="frame" x="[\d.]+" y="([\d.]+)"', svg).group(1)
    assert float(top) < float(guide) < float(zero)
    assert "\u2264" in svg and "0.25" in svg
    assert "0.25" in files["activation-sigmoid.tikz.tex"]


def test_plot_files_follow_what_the_problem_has():
    assert plot_files(solve_file("01-chain-rule.yaml")) == ("flow",)
    assert plot_files(solve_file("15-sigmoid-neuron-trained.yaml")) == (
        "flow", "loss", "activation-sigmoid")
    assert plot_files(solve_file("11-leaky-relu.yaml"))[-1] == "activation-leaky-relu"


@pytest.mark.parametrize("name", ["09-vanishing-sigmoid-vs-relu.yaml", "14-rnn-clipped.yaml"])
def test_plots_are_deterministic_and_standalone(name):
    first = plot_documents(solve_file(name))
    second = plot_documents(solve_file(name))
    assert first == second
    for file, content in first.items():
        if file.endswith(".svg"):
            ET.fromstring(content)                    # well-formed
            assert "href" not in content and "http://" not in content.replace(
                'xmlns="http://www.w3.org/2000/svg"', "")
            assert "<script" not in content and "font-face" not in content
            assert 'fill="#ffffff"' in content        # a white card, in dark mode too
        else:
            assert content.count(r"\begin{tikzpicture}") == 1
            assert "\\input" not in content and "\\write" not in content


def test_a_gradient_that_underflows_is_still_plotted():
    """0.25 ** 540 is below the smallest float: the chain's first gradients are subnormal,
    then 0; the log axis reaches 1e-324, which as a float is 0."""
    nodes = "".join(f"  u{k}: sigmoid(u{k - 1})\n" for k in range(1, 541))
    solution = solve_text(f"title: A long chain\ninputs:\n  u0: 0.3\nnodes:\n{nodes}",
                          closed_forms=False, check=False)
    grads = [abs(solution.gradients[f"u{k}"]) for k in range(541)]
    assert grads[0] == 0 and 0 < min(g for g in grads if g) < 1e-300
    files = plot_documents(solution)
    assert "flow.svg" in files and 'data-scale="log"' in files["flow.svg"]
    ET.fromstring(files["flow.svg"])
