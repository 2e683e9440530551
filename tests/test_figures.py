"""Figures: the drawn edges, numbers and frames are read back from the SVG and compared
with the trace (and with the graph, for the edges); the TikZ compiles with pdflatex."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from functools import lru_cache

import pytest

from conftest import PROBLEMS, ROOT, SCALAR_PROBLEMS, solve_file, solve_text
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.exporters import figures as fig_module
from tracer.exporters.base import MAX_FIGURE_NODES, MAX_LAYOUT_NODES
from tracer.exporters.figures import figures, layout
from tracer.exporters.figures.text import op_text
from tracer.notation.latex import tex_symbol
from tracer.notation.numbers import fmt, fmt_tex

SVG = "{http://www.w3.org/2000/svg}"
FILES = SCALAR_PROBLEMS     # vectors and matrices: tests/test_tensor_figures.py

# Small problems that exercise what the bundled ones do not: constants inside simple
# gates, operations that do not commute, a variable exponent, Greek and underscored
# names, a gate of several operations, text that must be escaped.
INLINE = {
    "ops": """
        title: "Operations <&> \\"quotes\\""
        inputs: {x1: 2, x2: 0.5, alpha: 3, w_out: -1}
        nodes:
          a: 3 * x1
          b: 1 / a
          c: x2 - b
          d: c ** alpha
          ex: exp(d)
          f: max(ex, 0)
          g: relu(w_out) + f
          h: -g
          k: h / x2
          m: sqrt(x1) * k
          y: m * x1 + alpha * m
        """,
    "square": """
        title: A value multiplied by itself
        inputs: {x: -3}
        nodes:
          s: x * x
          y: s - x
        """,
}


@lru_cache(maxsize=None)
def traced(name: str):
    if name in INLINE:
        return solve_text(INLINE[name])
    return solve_file(name)


@lru_cache(maxsize=None)
def made(name: str) -> dict[str, str]:
    return figures(traced(name))


def graph_of(name: str):
    if name in INLINE:
        return build_graph(load_text(textwrap.dedent(INLINE[name]), "inline.yaml"))
    return build_graph(load(PROBLEMS / name))


ALL = FILES + sorted(INLINE)


def svg(text: str) -> ET.Element:
    return ET.fromstring(text)


def classes(el: ET.Element) -> set[str]:
    return set(el.get("class", "").split())


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(SVG + "g") if cls in classes(g)]


def texts(el: ET.Element, cls: str) -> list[ET.Element]:
    return [t for t in el.iter(SVG + "text") if cls in classes(t)]


def content(el: ET.Element) -> str:
    return "".join(el.itertext())


def shown(value: float, digits: int, path=None) -> str:
    """What a number reads as in the SVG: fmt's text with a true minus sign, a power of
    ten as ×10 and the exponent (a superscript)."""
    text = fmt(value, digits).replace("-", "\u2212")
    mant, _, exp = text.partition("e")
    text = f"{mant}\u00d710{exp}" if exp else text   # the power as a superscript run
    return text if path is None else f"[{path}] {text}"


def edge_key(g: ET.Element) -> tuple[str, str, int]:
    return g.get("data-source"), g.get("data-target"), int(g.get("data-slot"))


def contribution(trace, source: str, target: str, slot: int):
    """The backward step that sends target's gradient back along this edge."""
    found = [s for s in trace.trace.backward
             if (s.node, s.source, s.slot) == (source, target, slot)]
    assert len(found) == 1
    return found[0]


# ----------------------------------------------------------------------------- the files

@pytest.mark.parametrize("name", ALL)
def test_the_files(name):
    t, out = traced(name), made(name)
    n = len(t.trace.backward)
    width = max(2, len(str(n)))
    frames = [f"step-{i:0{width}d}.svg" for i in range(1, n + 1)]
    pictures = ["graph", "values", "gradients"]
    assert set(out) == ({f"{p}.svg" for p in pictures} | {f"{p}.tikz.tex" for p in pictures}
                        | set(frames))


@pytest.mark.parametrize("name", ALL)
def test_svg_is_standalone(name):
    for file, text in made(name).items():
        if not file.endswith(".svg"):
            continue
        root = svg(text)
        assert root.tag == SVG + "svg"
        w, h = float(root.get("width")), float(root.get("height"))
        assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
        assert w > 0 and h > 0
        assert not list(root.iter(SVG + "script")) and not list(root.iter(SVG + "image"))
        assert "href" not in text and "@import" not in text and "url(" not in text
        assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert root.find(SVG + "title").text == traced(name).title


@pytest.mark.parametrize("name", ALL)
def test_one_drawn_edge_per_graph_edge(name):
    g = graph_of(name).nx
    expected = sorted((u, v, k) for u, v, k in g.edges(keys=True))
    for file in ("graph.svg", "values.svg", "gradients.svg"):
        root = svg(made(name)[file])
        drawn = groups(root, "edge")
        assert sorted(edge_key(e) for e in drawn) == expected
        # Every edge is its own curve: no two share their geometry.
        paths = [e.find(SVG + "path[@class='line']").get("d") for e in drawn]
        assert len(set(paths)) == len(paths)
        assert len(groups(root, "stub")) == 1


@pytest.mark.parametrize("name", ["08-reused-operand.yaml", "square"])
def test_a_value_used_twice_is_two_edges(name):
    t = traced(name)
    root = svg(made(name)["gradients.svg"])
    twice = {}
    for e in groups(root, "edge"):
        source, target, slot = edge_key(e)
        twice.setdefault((source, target), []).append(e)
    pairs = [edges for edges in twice.values() if len(edges) == 2]
    assert pairs
    for first, second in pairs:
        assert first.find(SVG + "path").get("d") != second.find(SVG + "path").get("d")
        (v1,), (v2,) = texts(first, "value"), texts(second, "value")
        assert (v1.get("x"), v1.get("y")) != (v2.get("x"), v2.get("y"))
        # Each carries its own contribution, with its own label [k].
        labels = [content(texts(e, "grad")[0]).split()[0] for e in (first, second)]
        paths = [f"[{contribution(t, *edge_key(e)).path}]" for e in (first, second)]
        assert labels == paths and len(set(labels)) == 2
    lay = layout(t)
    assert len(lay.edges) == graph_of(name).nx.number_of_edges()


# ----------------------------------------------------------------------------- the numbers

@pytest.mark.parametrize("name", ALL)
def test_graph_has_no_numbers(name):
    root = svg(made(name)["graph.svg"])
    assert not texts(root, "value") and not texts(root, "grad") and not texts(root,
                                                                             "grad-total")


@pytest.mark.parametrize("name", ALL)
def test_values_above_the_edges(name):
    t = traced(name)
    values = t.values
    root = svg(made(name)["values.svg"])
    for e in groups(root, "edge") + groups(root, "stub"):
        (value,) = texts(e, "value")
        source = e.get("data-source")
        assert float(value.get("data-value")) == values[source]
        assert content(value) == shown(values[source], t.precision)
        assert not texts(e, "grad")
    assert not texts(root, "grad-total")


@pytest.mark.parametrize("name", ALL)
def test_gradients_below_the_edges(name):
    t = traced(name)
    values, d = t.values, t.precision
    root = svg(made(name)["gradients.svg"])
    for e in groups(root, "edge"):
        source, target, slot = edge_key(e)
        step = contribution(t, source, target, slot)
        (value,), (grad,) = texts(e, "value"), texts(e, "grad")
        assert float(value.get("data-value")) == values[source]
        assert float(grad.get("data-value")) == step.contribution
        assert content(grad) == shown(step.contribution, d, step.path)
        # Above and below: the value's baseline is above the gradient's.
        assert float(value.get("y")) < float(grad.get("y"))
        assert grad.get("fill") != value.get("fill")
        assert "italic" in grad.find(SVG + "tspan").get("font-style")
    (stub,) = groups(root, "stub")
    assert float(texts(stub, "value")[0].get("data-value")) == values[t.output]
    assert content(texts(stub, "grad")[0]) == "1"
    totals = {el.get("data-node"): el for el in texts(root, "grad-total")}
    assert set(totals) == set(values)
    for n in t.trace.nodes:
        assert float(totals[n.name].get("data-value")) == n.grad
        assert content(totals[n.name]) == shown(n.grad, d)


# ----------------------------------------------------------------------------- the frames

@pytest.mark.parametrize("name", ALL)
def test_one_frame_per_step(name):
    t, out = traced(name), made(name)
    frames = sorted(f for f in out if f.startswith("step-"))
    assert len(frames) == len(t.trace.backward)
    size = svg(out["gradients.svg"]).attrib
    for i, (file, step) in enumerate(zip(frames, t.trace.backward), start=1):
        root = svg(out[file])
        assert {k: root.get(k) for k in ("width", "height", "viewBox")} == {
            k: size[k] for k in ("width", "height", "viewBox")}
        lit = [e for e in groups(root, "edge") if "highlight" in classes(e)]
        assert [edge_key(e) for e in lit] == [(step.node, step.source, step.slot)]
        nodes = [g.get("data-node") for g in groups(root, "node") if "highlight" in classes(g)]
        assert nodes == [step.node]
        # The gradients known after this step, and only those.
        known = {(s.node, s.source, s.slot): s for s in t.trace.backward[:i]}
        for e in groups(root, "edge"):
            grads = texts(e, "grad")
            if edge_key(e) in known:
                assert float(grads[0].get("data-value")) == known[edge_key(e)].contribution
            else:
                assert not grads
        assert len(texts(root, "value")) == len(groups(root, "edge")) + 1


def test_a_frame_shows_a_total_once_complete():
    t, out = traced("03-two-paths.yaml"), made("03-two-paths.yaml")
    # u2 receives [1] from u3 and [2] from u4: its total appears with the second.
    steps = [i for i, s in enumerate(t.trace.backward, start=1) if s.node == "u2"]
    assert len(steps) == 2
    width = max(2, len(str(len(t.trace.backward))))

    def totals(i):
        root = svg(out[f"step-{i:0{width}d}.svg"])
        return {el.get("data-node") for el in texts(root, "grad-total")}

    assert "u2" not in totals(steps[0])
    assert "u2" in totals(steps[1])
    assert t.output in totals(1)


@pytest.mark.parametrize("name", ALL)
def test_frames_changed_step_by_step_are_the_frames_drawn_afresh(name):
    """Each frame is the one before it with only the parts its step touches redrawn; drawn
    from nothing but the trace and its number, it is the same, byte for byte."""
    t = traced(name)
    lay = layout(t)
    frames = list(fig_module._Drawing(t, lay, "svg").steps())
    assert [known for known, _ in frames] == list(range(1, len(t.trace.backward) + 1))
    width = max(2, len(str(len(t.trace.backward))))
    for known, picture in frames:
        fresh = fig_module._Drawing(t, lay, "svg")
        frame = fresh.frame("step", known, t.trace.backward[known - 1].node)
        assert fresh.render(frame, *fresh.step_parts(known)) == picture
        assert made(name)[f"step-{known:0{width}d}.svg"] == picture


class _Counted:
    """A template module whose macros count their calls."""

    def __init__(self, module, calls: Counter):
        self._module, self._calls = module, calls

    def __getattr__(self, name):
        macro = getattr(self._module, name)

        def draw(*args, **kwargs):
            self._calls[name] += 1
            return macro(*args, **kwargs)
        return draw


@pytest.mark.parametrize("templates", ["svg", "tikz.tex"])
def test_each_part_is_drawn_once_however_many_frames(templates):
    t = solve_text(layered(6, 24), closed_forms=False, check=False)
    extra = {"unit": fig_module.TIKZ_UNIT} if templates == "tikz.tex" else {}
    drawing = fig_module._Drawing(t, layout(t), templates, **extra)
    calls: Counter = Counter()
    drawing._edge, drawing._node = (_Counted(drawing._edge, calls),
                                    _Counted(drawing._node, calls))
    for kind in ("graph", "values", "gradients"):
        drawing.render(drawing.frame(kind), *drawing.picture_parts(kind), natural="1")
    if templates == "svg":
        assert len(list(drawing.steps())) == len(t.trace.backward) > 30
    edges, nodes = len(t.trace.backward) + 1, len(t.trace.nodes)   # with the output's stub
    # An edge is drawn in at most four states (bare; with its value; with its gradient too;
    # as the step's), from at most two strokes, one value and two gradients (the step's in
    # bold); a node in at most four (with or without its total, as the step's or not).
    assert calls["edge"] <= 4 * edges and calls["node"] <= 4 * nodes
    assert calls["stroke"] <= 2 * edges and calls["value"] == edges
    assert calls["grad"] <= 2 * edges
    assert calls["shape"] <= 2 * nodes and calls["labels"] == nodes
    assert calls["total"] == nodes


# ----------------------------------------------------------------------------- text

def test_names_have_subscripts():
    root = svg(made("03-two-paths.yaml")["graph.svg"])
    (x1,) = [g for g in groups(root, "node") if g.get("data-node") == "x1"]
    (label,) = texts(x1, "label")
    spans = list(label.iter(SVG + "tspan"))
    assert [s.text for s in spans if s.text] == ["x", "1"]
    assert float(spans[1].get("dy")) > 0  # lowered: a subscript


def test_op_labels():
    t = traced("ops")
    labels = {n.name: op_text(n).plain for n in t.trace.nodes if n.kind == "gate"}
    assert labels["a"] == "\u00d73"
    assert labels["b"] == "1/x"
    assert labels["c"] == "\u2212"
    assert labels["d"] == "xy"             # x with the superscript y
    assert labels["ex"] == "exp"
    assert labels["f"] == "max(x, 0)"
    assert labels["h"] == "\u2212x"
    assert labels["k"] == "\u00f7"
    assert labels["y"] == "y"              # several operations: the gate's name
    assert op_text(t.trace.node("h")).tex == "$-x$"
    u4 = traced("03-two-paths.yaml").trace.node("u4")
    assert op_text(u4).plain == "x2" and op_text(u4).tex == "$x^{2}$"
    assert op_text(traced("07-staged-gates.yaml").trace.node("sigy")).plain == "\u03c3"


def test_text_is_escaped():
    root = svg(made("ops")["gradients.svg"])
    assert root.find(SVG + "title").text == 'Operations <&> "quotes"'
    alpha = [g for g in groups(root, "node") if g.get("data-node") == "alpha"][0]
    assert content(texts(alpha, "label")[0]) == "\u03b1"


# ----------------------------------------------------------------------------- TikZ

@pytest.mark.parametrize("name", ALL)
def test_tikz_numbers_and_names(name):
    t = traced(name)
    d = t.precision
    for kind in ("graph", "values", "gradients"):
        text = made(name)[f"{kind}.tikz.tex"]
        assert text.count(r"\begin{tikzpicture}") == 1 and r"\end{tikzpicture}" in text
        assert "usetikzlibrary" not in text and "usepackage" not in text
        values = re.findall(r"text=tracervalue\] at \([^)]*\) \{\$(.*?)\$\};", text)
        grads = re.findall(r"text=tracergrad\] at \([^)]*\) \{\$(.*?)\$\};", text)
        for n in t.trace.nodes:  # every node is named (inside the shape or above it)
            assert "{$" + tex_symbol(n.name) + "$}" in text
        if kind == "graph":
            assert not values and not grads
            continue
        expected = sorted(fmt_tex(t.values[s], d) for s, _, _ in _graph_edges(name))
        assert sorted(values) == sorted(expected + [fmt_tex(t.values[t.output], d)])
        if kind == "gradients":
            assert len(grads) == len(t.trace.backward) + 1 + len(t.trace.nodes)


def _graph_edges(name):
    return list(graph_of(name).nx.edges(keys=True))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", ALL)
def test_tikz_compiles(name, tmp_path):
    out = made(name)
    for kind in ("graph", "values", "gradients"):
        (tmp_path / f"{kind}.tikz.tex").write_text(out[f"{kind}.tikz.tex"], encoding="utf-8")
    # The packages the module's docstring promises are enough, and nothing else.
    (tmp_path / "doc.tex").write_text(textwrap.dedent(r"""
        \documentclass{article}
        \usepackage{tikz}
        \begin{document}
        \noindent\input{graph.tikz.tex}

        \noindent\input{values.tikz.tex}

        \noindent\input{gradients.tikz.tex}
        \end{document}
        """), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode",
                          "-halt-on-error", "doc.tex"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log  # scaled down to the text width


# ----------------------------------------------------------------------------- determinism

def test_deterministic_in_process():
    for name in ("03-two-paths.yaml", "07-staged-gates.yaml", "08-reused-operand.yaml"):
        assert figures(solve_file(name)) == figures(solve_file(name))


def _digest_script() -> str:
    return textwrap.dedent(f"""
        import hashlib, sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.conftest import solve_file
        from tracer.exporters.figures import figures
        h = hashlib.sha256()
        for name in {FILES!r}:
            for file, text in sorted(figures(solve_file(name)).items()):
                h.update(name.encode() + file.encode() + text.encode())
        print(h.hexdigest())
        """)


@pytest.mark.slow
def test_byte_identical_across_processes():
    """Hash randomisation differs between processes: nothing may depend on it."""
    digests = set()
    for seed in ("1", "2"):
        run = subprocess.run([sys.executable, "-c", _digest_script()], capture_output=True,
                             text=True, env={"PYTHONHASHSEED": seed, "PATH": ""},
                             timeout=120, cwd=ROOT)
        assert run.returncode == 0, run.stderr
        digests.add(run.stdout.strip())
    h = hashlib.sha256()
    for name in FILES:
        for file, text in sorted(made(name).items()):
            h.update(name.encode() + file.encode() + text.encode())
    digests.add(h.hexdigest())
    assert len(digests) == 1


# ----------------------------------------------------------------------------- large graphs

def layered(n_inputs: int, n_gates: int) -> str:
    """A problem of n_inputs + n_gates nodes: each gate adds two recent values, every
    value is used, and one output."""
    lines = ["title: Many nodes", "inputs:"]
    lines += [f"  x{i}: {i % 5 + 1}" for i in range(1, n_inputs + 1)]
    lines.append("nodes:")
    pending = [f"x{i}" for i in range(1, n_inputs + 1)]
    for i in range(1, n_gates + 1):
        if len(pending) >= 2:
            a, b = pending.pop(0), pending.pop(0)
        else:
            a, b = pending.pop(0), f"x{i % n_inputs + 1}"
        lines.append(f"  u{i}: {a} {'+-'[i % 2]} {b}")
        pending.append(f"u{i}")
    while len(pending) > 1:
        n_gates += 1
        a, b = pending.pop(0), pending.pop(0)
        lines.append(f"  u{n_gates}: {a} + {b}")
        pending.append(f"u{n_gates}")
    return "\n".join(lines) + "\n"


def test_a_50_node_graph_is_laid_out_with_an_edge_per_step():
    # Its layout time is printed by benchmarks/documents.py, not asserted here.
    t = solve_text(layered(12, 38), closed_forms=False, check=False)
    assert 50 <= len(t.trace.nodes) <= MAX_FIGURE_NODES
    lay = layout(t)
    assert len(lay.edges) == len(t.trace.backward)


def test_large_graphs_get_fewer_figures():
    t = solve_text(layered(20, MAX_FIGURE_NODES), closed_forms=False, check=False)
    assert MAX_FIGURE_NODES < len(t.trace.nodes) <= MAX_LAYOUT_NODES
    out = figures(t)
    assert not [f for f in out if f.startswith("step-")]
    assert {"graph.svg", "values.svg", "gradients.svg"} <= set(out)
    huge = solve_text(layered(40, MAX_LAYOUT_NODES), closed_forms=False, check=False)
    assert len(huge.trace.nodes) > MAX_LAYOUT_NODES
    assert figures(huge) == {}


def test_limits_are_documented():
    doc = fig_module.__doc__
    for name in ("MAX_FIGURE_NODES", "MAX_LAYOUT_NODES", "MAX_TIKZ_PT", r"\usepackage{tikz}"):
        assert name in doc
