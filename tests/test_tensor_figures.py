"""Figures of problems of vectors and matrices: one node per vector or matrix labelled with
its shape, every edge labelled with its shape, values and gradients as matrices whose exact
entries (data-value) are the trace's; the TikZ compiles."""
from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from functools import lru_cache

import numpy as np
import pytest

from conftest import TENSOR_PROBLEMS, solve_file, solve_text
from tracer.exporters.base import frame_names
from tracer.exporters.figures import figures
from tracer.exporters.figures.tensor import MAX_COLS, MAX_ROWS

SVG = "{http://www.w3.org/2000/svg}"


def _kind(g) -> str:
    return (g.get("class") or " ").split()[0]


@lru_cache(maxsize=None)
def made(name: str):
    t = solve_file(name)
    return t, figures(t)


def _tree(text: str):
    return ET.fromstring(text)


def _shape(shape) -> str:
    rows, cols = (shape if len(shape) == 2 else (shape[0], 1)) if shape else (1, 1)
    return f"{rows}\u00d7{cols}"


@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_the_files_of_a_problem_of_scalars(name):
    t, files = made(name)
    expected = {f"{k}.{e}" for k in ("graph", "values", "gradients") for e in ("svg", "tikz.tex")}
    assert expected | set(frame_names(t)) == set(files)
    assert len(frame_names(t)) == len(t.steps)


@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_one_node_per_tensor_labelled_with_its_shape(name):
    t, files = made(name)
    root = _tree(files["graph.svg"])
    nodes = {g.get("data-node"): g for g in root.iter(f"{SVG}g")
             if _kind(g) == "node"}
    assert set(nodes) == {n.name for n in t.trace.nodes}
    for n in t.trace.nodes:
        shapes = [e for e in nodes[n.name].iter(f"{SVG}text") if e.get("class") == "shape"]
        assert ["".join(e.itertext()) for e in shapes] == [_shape(n.shape)], n.name


@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_every_edge_is_labelled_with_its_shape_and_carries_its_numbers(name):
    t, files = made(name)
    graph = _tree(files["graph.svg"])
    edges = [g for g in graph.iter(f"{SVG}g") if _kind(g) == "edge"]
    # one edge per operand use (an edge out of data carries no gradient: it has no step)
    assert len(edges) == sum(len(n.operands) for n in t.trace.nodes)
    for e in edges:
        label = [x for x in e.iter(f"{SVG}text") if x.get("class") == "shape"]
        assert ["".join(x.itertext()) for x in label] == [_shape(t.shapes[e.get("data-source")])]
    steps = {(s.node, s.source, s.slot): s for s in t.trace.backward}
    grads = _tree(files["gradients.svg"])
    for e in (g for g in grads.iter(f"{SVG}g") if _kind(g) == "edge"):
        source, target, slot = e.get("data-source"), e.get("data-target"), int(e.get("data-slot"))
        value = next(g for g in e.iter(f"{SVG}g") if g.get("class") == "value")
        assert json.loads(value.get("data-value")) == t.values[source].tolist()
        grad = [g for g in e.iter(f"{SVG}g") if g.get("class") == "grad"]
        if source in t.trace.constants:
            assert not grad
            continue
        assert json.loads(grad[0].get("data-value")) == \
            steps[(source, target, slot)].contribution.tolist()
    totals = {g.get("data-node"): g for g in grads.iter(f"{SVG}g") if g.get("class") == "grad-total"}
    for n in t.trace.nodes:
        if n.name in t.trace.constants:
            assert n.name not in totals
            continue
        assert json.loads(totals[n.name].get("data-value")) == n.grad.tolist()


def test_small_values_are_drawn_as_matrices_large_ones_as_their_shape():
    t = solve_text("""
        title: A wide layer
        inputs:
          W: [[1, 2, 3, 4, 5], [0.5, 0.5, 0.5, 0.5, 0.5]]
          x: [0.1, 0.2, 0.3, 0.4, 0.5]
        nodes:
          z: W @ x
          L: sum(z * z)
    """)
    assert max(t.shapes["W"]) > max(MAX_ROWS, MAX_COLS)
    root = _tree(figures(t)["values.svg"])
    kinds = set()
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "value":
            continue
        value = np.array(json.loads(g.get("data-value")))
        rows, cols = (value.shape + (1, 1))[:2] if value.ndim == 2 else \
            ((value.shape[0], 1) if value.ndim else (1, 1))
        entries = ["".join(x.itertext()) for x in g.iter(f"{SVG}text")
                   if x.get("class") == "entry"]
        if rows <= MAX_ROWS and cols <= MAX_COLS:
            assert len(entries) == value.size
            kinds.add("matrix")
        else:
            assert entries == [f"{rows}\u00d7{cols}"]
            assert json.loads(g.find(f"{SVG}title").text) == value.tolist()   # on hover
            kinds.add("shape")
    assert kinds == {"matrix", "shape"}


def test_the_step_frames_highlight_each_step_in_order():
    t, files = made("17-network-4-2-1.yaml")
    for name, s in zip(frame_names(t), t.trace.backward):
        root = _tree(files[name])
        lit = [g for g in root.iter(f"{SVG}g") if "highlight" in (g.get("class") or "")
               and _kind(g) == "edge"]
        assert [(g.get("data-source"), g.get("data-target")) for g in lit] == [(s.node, s.source)]


def test_figures_are_deterministic():
    assert figures(solve_file("19-batch-mean-loss.yaml")) == \
        figures(solve_file("19-batch-mean-loss.yaml"))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_tikz_compiles(tmp_path, name):
    _, files = made(name)
    body = "\n\n".join(files[f"{k}.tikz.tex"] for k in ("graph", "values", "gradients"))
    (tmp_path / "f.tex").write_text("\\documentclass{article}\\usepackage{amsmath}"
                                    "\\usepackage{tikz}\\begin{document}\n" + body +
                                    "\n\\end{document}\n", encoding="utf-8")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "f.tex"],
                            cwd=tmp_path, capture_output=True, timeout=180)
    assert result.returncode == 0, result.stdout[-2000:]
