"""The six lecture-size problems of tests/lecture/ (a lecturer's own, 10-60 nodes): their
numbers against published values and hand derivations."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import generated_network

from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load

LECTURE = Path(__file__).resolve().parent / "lecture"
LECTURE_PROBLEMS = sorted(p.name for p in LECTURE.glob("*.yaml"))


def traced(name: str):
    return trace(build_graph(load(LECTURE / name)))


def test_there_are_six():
    assert len(LECTURE_PROBLEMS) == 6


@pytest.mark.parametrize("name", [n for n in LECTURE_PROBLEMS if not n.startswith("06")])
def test_backprop_agrees_with_central_differences(name):
    t = traced(name)
    assert t.numeric
    for param, estimate in t.numeric:
        assert t.gradients[param] == pytest.approx(estimate, rel=1e-6, abs=1e-9), param


def test_mazur():
    t = traced("01-mazur-2-2-2.yaml")
    assert t.values["E"] == pytest.approx(0.298371109, abs=1e-9)
    assert t.gradients["w5"] == pytest.approx(0.082167041, abs=1e-9)
    new = {p.name: p.new for p in t.update.params}
    assert new["w5"] == pytest.approx(0.35891648, abs=1e-8)
    assert new["w1"] == pytest.approx(0.149780716, abs=1e-9)


def test_micrograd_readme():
    # micrograd's README prints g 24.7041, a.grad 138.8338, b.grad 645.5773
    t = traced("02-micrograd.yaml")
    assert round(t.values["g"], 4) == 24.7041
    assert round(t.gradients["a"], 4) == 138.8338
    assert round(t.gradients["b"], 4) == 645.5773


def test_softmax_cross_entropy_is_p_minus_y():
    t = traced("03-softmax-cross-entropy.yaml")
    z = [1.0, 2.0, 0.5]
    y = [0, 1, 0]
    total = sum(math.exp(v) for v in z)
    for k in range(3):
        assert t.gradients[f"z{k + 1}"] == pytest.approx(math.exp(z[k]) / total - y[k], rel=1e-12)


def test_rnn_shared_weight_is_a_sum_over_steps():
    t = traced("04-rnn-three-steps.yaml")
    w, u, x, h = 0.8, 0.5, [1.0, -0.5, 0.25], [0.0]
    for xt in x:
        h.append(math.tanh(w * h[-1] + u * xt))
    dh = h[3] - 0.5
    dw = du = 0.0
    for step in (3, 2, 1):
        da = dh * (1 - h[step] ** 2)
        dw += da * h[step - 1]
        du += da * x[step - 1]
        dh = da * w
    assert t.gradients["w"] == pytest.approx(dw, rel=1e-12)
    assert t.gradients["u"] == pytest.approx(du, rel=1e-12)


def test_eight_sigmoids_vanish():
    t = traced("05-eight-sigmoids.yaml")
    s = [1.0]
    for _ in range(8):
        s.append(1 / (1 + math.exp(-s[-1])))
    g, grads = 1.0, {}
    for k in range(8, 0, -1):
        local = s[k] * (1 - s[k])
        grads[k] = g * local * s[k - 1]
        g = g * local
    for k in range(1, 9):
        assert t.gradients[f"w{k}"] == pytest.approx(grads[k], rel=1e-12)
    assert t.gradients["w1"] < t.gradients["w8"] / 10


def test_kinks_follow_pytorchs_conventions():
    # max tie splits evenly, relu'(0) = 0, |x|'(0) = 0 (by hand: L = x (max + relu) / (|x - y| + 1))
    t = traced("06-kinks-and-division.yaml")
    assert {k: t.gradients[k] for k in "xyz"} == pytest.approx({"x": 3.0, "y": 1.0, "z": 0.0})


def test_at_a_kink_the_one_sided_differences_are_reported():
    # by hand: for x < y, L = 2x / (1 + y - x), dL/dx = 6; for x > y, L = x^2 / (1 + x - y),
    # dL/dx = 0; in y: 4 from below, -2 from above; in z: relu's 0 and 2
    t = traced("06-kinks-and-division.yaml")
    assert [name for name, _, _ in t.one_sided] == ["x", "y", "z"]
    sides = [v for _, left, right in t.one_sided for v in (left, right)]
    assert sides == pytest.approx([6.0, 0.0, 4.0, -2.0, 0.0, 2.0], abs=1e-6)
    # and none where the output is smooth
    for name in LECTURE_PROBLEMS[:5]:
        assert traced(name).one_sided == ()


def test_the_kink_row_says_which_side_backpropagation_takes():
    from conftest import documents, _solve

    made = documents(_solve(build_graph(load(LECTURE / "06-kinks-and-division.yaml"))))
    page = made["answers.md"]
    row = next(line for line in page.splitlines() if line.startswith(r"| $\displaystyle \frac{\partial L}{\partial z}$"))
    assert "at a kink: from the left $0$, from the right $2$" in row and "from the left" in row
    assert "the one from the left" in row     # relu'(0) = 0, as PyTorch
    assert "checks nothing there" in page and "checks nothing there" in made["answers.tex"]


# ----------------------------------------------------------------------------- a lecture course


def sine_chain(n: int) -> str:
    return "title: A long chain\ninputs:\n  x: 0.5\nnodes:\n  n1: sin(x)\n" + "".join(
        f"  n{i}: sin(n{i - 1})\n" for i in range(2, n + 1))


@pytest.mark.slow
def test_a_course_of_lecture_problems_and_large_ones_builds(tmp_path, capsys):
    """The six lecture problems, a 57-node network, a 151-node one and a 2,000-gate chain
    make a course that builds (before, past 120 nodes the pages linked figures that were
    never made and MkDocs refused the build); every picture and link on every page is
    there, a page without figures says why, and the chain, too long to work step by step
    (6,001 lines of work), has an overview that says so."""
    import re
    import shutil

    from tracer.cli import main

    course = tmp_path / "course"
    assert main(["new", str(course), "--name", "Lecture"]) == 0
    for old in (course / "problems").glob("*.yaml"):
        old.unlink()
    for name in LECTURE_PROBLEMS:
        shutil.copy(LECTURE / name, course / "problems" / name)
    (course / "problems" / "07-generated-57.yaml").write_text(generated_network(7, 7))
    (course / "problems" / "08-generated-151.yaml").write_text(generated_network(10, 14))
    (course / "problems" / "09-chain-2000.yaml").write_text(sine_chain(2000))
    config = course / "mkdocs.yml"
    config.write_text(config.read_text().replace("pdf: auto", "pdf: false"))
    assert main(["build", "-f", str(config)]) == 0, capsys.readouterr().err
    keys = course / "public-instructor" / "problems"
    assert len(list(keys.iterdir())) == 9
    for page in sorted(keys.glob("*/*.html")):
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r'(?:src|href)="([^"#:?]+)"', text):
            if not target.startswith(("/", "..")):
                assert (page.parent / target).exists(), (page, target)
    text = (keys / "08-generated-151" / "answers.html").read_text(encoding="utf-8")
    assert "gradients.svg" not in text and "too many to draw" in text
    text = (keys / "09-chain-2000" / "answers.html").read_text(encoding="utf-8")
    assert "Too large to work step by step" in text and "6,001 lines of work" in text
    assert "gradients.svg" in (keys / "07-generated-57" / "answers.html").read_text()
