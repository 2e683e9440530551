r"""Figures of a problem's computational graph: SVG for the web, TikZ for print.

One layout serves every figure of a problem (:mod:`.layout`): Graphviz places the nodes,
and the figures are drawn from its positions, so the SVG and the TikZ versions share the
same coordinates.  Layout and markup are separate: this
module computes geometry and text, the templates in ``templates/figures/`` write the markup.
They draw every edge and node in parts (its line or shape, each text), each part once per
problem, and every figure, step frames included, is put together from those parts.

Each edge ``source -> gate`` is laid out through an invisible *label box* of its own, a
node of fixed size that Graphviz keeps clear of everything else: the edge runs straight
through it, the value flowing along the edge is written above that straight stretch and
the edge's gradient contribution below it.  So labels never overlap, and a value used twice
by one node (``b: a + a``) is two label boxes and two distinct curves.  Every node's box
also reserves a line above (a gate's name) and a line below (its total gradient), and the
empty worksheet figure keeps the space, for writing the numbers in by hand.

:func:`figures` returns, for one :class:`~tracer.view.solution.Solution` (file name ->
content):

* ``graph.svg``: the structure only, for the worksheet;
* ``values.svg``: forward values above the edges;
* ``gradients.svg``: values above, each edge's contribution below (labelled ``[k]`` where
  a node receives several), every node's total gradient under the node, and a stub
  leaving the output with its value and the seed gradient 1;
* ``step-01.svg`` ... ``step-NN.svg``: one frame per backward step, in order, numbered
  with as many digits as their count has (at least two), all the same size: every value,
  the contributions known after the step (a node's total once all of them arrived), the
  step's edge and the node receiving the contribution highlighted;
* ``graph.tikz.tex``, ``values.tikz.tex``, ``gradients.tikz.tex``: the first three as a
  ``tikzpicture`` environment to ``\input``, text and lines scaled down together to
  ``\linewidth`` when the picture is wider; in tracer's printed documents, scaled as
  :func:`tracer.exporters.printfit.placement` says (never below 7 pt of text), whole or
  one of its parts.

In the SVG, each graph edge is a ``<g class="edge">`` with ``data-source``,
``data-target`` and ``data-slot`` (the graph's edge key); numbers are ``<text>`` of class
``value``, ``grad`` or ``grad-total`` whose ``data-value`` holds the exact number.  The
output's stub is ``<g class="stub">``.  The step's edge and node carry the class
``highlight``.  SVGs are standalone: no fonts, scripts or links outside the file; a white
background, values in near-black, gradients in dark vermillion italics, the step in blue.

**LaTeX.** The including document needs only ``\usepackage{tikz}`` (which loads pgf and
xcolor); no TikZ library is used (arrowheads are drawn as paths) and the colours are
defined inside each picture.  All of it is in Debian's texlive-latex-base,
texlive-latex-recommended and texlive-pictures.  Text is set in the document's fonts at
``\normalsize`` / ``\large`` before scaling.

**Limits.** Laying out takes about 0.1 s for 50 nodes and grows faster than linearly.
With more than :data:`MAX_FIGURE_NODES` nodes (inputs and gates) there are no per-step
frames, only the three pictures; with more than :data:`MAX_LAYOUT_NODES` there are no
figures at all (an empty dict); the ``.tikz.tex`` files are left out when the picture
would be wider or taller than :data:`MAX_TIKZ_PT` before scaling (beyond TeX's
dimensions).  Callers link only the files they are given.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from ...view.solution import Solution
from ...view.tensor_solution import is_tensor
from ..base import (MAX_FIGURE_NODES, MAX_LAYOUT_NODES, Content, Exporter, Options, shared,
                    environment, frame_names, register, written_out)
from .layout import Layout, layout, num
from ..printfit import print_plan
from .text import FONT, TIKZ_UNIT, number_text

__all__ = ["figures", "layout", "Layout", "FIGURE_NAMES", "MAX_TIKZ_PT", "FiguresExporter",
           "StepBox", "step_boxes"]

#: TikZ pictures are written only when their natural width and height stay below this
#: (TeX dimensions end at 16383 pt; such a picture would be unreadable in print anyway).
MAX_TIKZ_PT = 15000.0

#: The three pictures made for every problem (each as ``.svg`` and ``.tikz.tex``).
FIGURE_NAMES = ("graph", "values", "gradients")

@dataclass(frozen=True)
class Frame:
    """What a picture's template needs besides its drawn edges and nodes."""

    kind: str                 # "graph", "values", "gradients" or "step"
    width: float
    height: float
    title: str
    step: Optional[int] = None
    step_node: Optional[str] = None

    @property
    def title_line(self) -> str:
        """The title on one line (for a TeX comment)."""
        return " ".join(self.title.split())

    @property
    def width_s(self) -> str:
        return num(self.width)

    @property
    def height_s(self) -> str:
        return num(self.height)


#: Colours: dark values; gradients in a dark vermillion (and italic); the step's edge and
#: node in blue.  All have a contrast of at least 4.5:1 on white.
COLOURS = {"edge": "4B5563", "value": "111827", "grad": "B23A0E", "highlight": "0A5FA8",
           "node": "1F2937", "input_fill": "EEF2F7", "gate_fill": "FFFFFF",
           "name": "374151"}


class _Drawing:
    """Every figure of one trace, put together from drawn parts.

    Figures differ only in what each edge and node shows: whether its numbers are written,
    whether its gradient is known yet, whether it is the step's.  So the templates draw an
    edge or a node in parts (its line or shape, each text), each part once, and each edge
    and node once per state it is shown in; every figure reuses them, and a step frame
    changes only the few edges and nodes its step touches.
    """

    def __init__(self, solution: Solution, lay: Layout, templates: str, **extra):
        """``templates``: ``svg`` or ``tikz.tex``; ``extra`` goes to the picture template
        and to the nodes' shapes."""
        trace = solution.trace
        env = environment()
        self.picture = env.get_template(f"figures/figure.{templates}.j2")
        self._edge = env.get_template(f"figures/edge.{templates}.j2").module
        self._node = env.get_template(f"figures/node.{templates}.j2").module
        self.lay, self.trace, self.title, self.extra = lay, trace, solution.title, extra
        self.geoms = lay.edges + (lay.stub,)
        self.stub = len(lay.edges)
        # The engine makes one backward step per graph edge (operand use): step k sends the
        # gradient of ``s.source`` back along the edge into operand ``s.slot``, ``s.node``.
        # An edge out of data has no step: it never carries a gradient.
        index = {(s.node, s.source, s.slot): k for k, s in enumerate(trace.backward)}
        self.never = len(trace.backward) + 1
        self.edge_step = [index.get((g.source, g.target, g.slot), self.never)
                          for g in lay.edges]
        self.values, self.grads, self.totals = self._numbers(solution)
        self.node_index = {box.name: j for j, box in enumerate(lay.nodes)}
        # A node's total is shown once all the contributions it receives have arrived: after
        # the last step into it (the output's from the start, and a node that feeds no
        # gate's, which receives none).
        last: dict[str, int] = {}
        for k, s in enumerate(trace.backward):
            last[s.node] = k + 1
        self.complete_at = [0 if box.name == trace.output else last.get(box.name, 0)
                            for box in lay.nodes]
        self._drawn: dict[tuple, str] = {}

    def _numbers(self, solution: Solution) -> tuple[list, list, list]:
        """The texts of each edge's value and contribution (the output's stub last) and of
        each node's total gradient."""
        trace, d = solution.trace, solution.precision
        values = trace.values
        texts = [number_text(values[g.source], d) for g in self.geoms]
        grads = [number_text(trace.backward[k].contribution, d, grad=True,
                             path=trace.backward[k].path) if k < self.never else None
                 for k in self.edge_step]
        grads.append(number_text(1.0, d, grad=True))     # the seed, on the stub
        by_name = {n.name: n for n in trace.nodes}
        totals = [None if box.name in trace.constants else
                  number_text(by_name[box.name].grad, d, grad=True) for box in self.lay.nodes]
        return texts, grads, totals

    def _part(self, key: tuple, draw, *args, **kwargs) -> str:
        drawn = self._drawn.get(key)
        if drawn is None:
            drawn = self._drawn[key] = draw(*args, **kwargs)
        return drawn

    def edge(self, i: int, numbers: bool, grad: bool, highlight: bool) -> str:
        """Edge ``i`` (the stub after the graph's edges), with or without its value, its
        gradient, the step's highlight."""
        key = ("edge", i, numbers, grad, highlight)
        drawn = self._drawn.get(key)
        if drawn is None:
            g, m = self.geoms[i], self._edge
            parts = [self._part(("stroke", i, highlight), m.stroke, g, highlight, COLOURS)]
            if numbers:
                parts.append(self._part(("value", i), m.value, g, self.values[i], COLOURS))
            if grad and self.grads[i] is not None:
                parts.append(self._part(("grad", i, highlight), m.grad, g, self.grads[i],
                                        highlight, COLOURS))
            drawn = self._drawn[key] = m.edge(g, highlight, parts)
        return drawn

    def node(self, j: int, total: bool, highlight: bool) -> str:
        """Node ``j``, with or without its total gradient, the step's highlight."""
        key = ("node", j, total, highlight)
        drawn = self._drawn.get(key)
        if drawn is None:
            b, m = self.lay.nodes[j], self._node
            parts = [self._part(("shape", j, highlight), m.shape, b, highlight, COLOURS,
                                **self.extra),
                     self._part(("labels", j), m.labels, b, COLOURS)]
            if total and self.totals[j] is not None:
                parts.append(self._part(("total", j), m.total, b, self.totals[j], COLOURS))
            drawn = self._drawn[key] = m.node(b, highlight, parts)
        return drawn

    def render(self, frame: Frame, edges: list[str], stub: str, nodes: list[str],
               **extra) -> str:
        """The picture: its frame around the drawn edges, stub and nodes."""
        return self.picture.render(fig=frame, edges=edges, stub=stub, nodes=nodes,
                                   c=COLOURS, **self.extra, **extra)

    def frame(self, kind: str, step: Optional[int] = None,
              step_node: Optional[str] = None) -> Frame:
        return Frame(kind, self.lay.width, self.lay.height, self.title, step, step_node)

    def picture_parts(self, kind: str) -> tuple[list[str], str, list[str]]:
        """The drawn edges, stub and nodes of ``graph``, ``values`` or ``gradients``."""
        numbers, grads = kind != "graph", kind == "gradients"
        edges = [self.edge(i, numbers, grads, False) for i in range(self.stub)]
        nodes = [self.node(j, grads, False) for j in range(len(self.lay.nodes))]
        return edges, self.edge(self.stub, numbers, grads, False), nodes

    def _step_edge(self, i: int, known: int) -> str:
        return self.edge(i, True, self.edge_step[i] < known, self.edge_step[i] == known - 1)

    def _step_node(self, j: int, known: int) -> str:
        return self.node(j, self.complete_at[j] <= known, known > 0 and
                         self.trace.backward[known - 1].node == self.lay.nodes[j].name)

    def step_parts(self, known: int) -> tuple[list[str], str, list[str]]:
        """The drawn edges, stub and nodes after ``known`` backward steps: every value, the
        contributions known (a node's total once all of them arrived), the last step's edge
        and the node receiving its contribution highlighted."""
        edges = [self._step_edge(i, known) for i in range(self.stub)]
        nodes = [self._step_node(j, known) for j in range(len(self.lay.nodes))]
        return edges, self.edge(self.stub, True, True, False), nodes

    def steps(self) -> Iterator[tuple[int, str]]:
        """(step number, picture) for each backward step, as :meth:`step_parts` draws it."""
        backward = self.trace.backward
        edge_of = {k: i for i, k in enumerate(self.edge_step) if k < len(backward)}
        completing: dict[int, list[int]] = {}
        for j, k in enumerate(self.complete_at):
            completing.setdefault(k, []).append(j)
        # From the picture before the first step, each step changes only its own edge and
        # node, the previous step's, and the nodes whose last contribution it brings.
        edges, stub, nodes = self.step_parts(0)
        for known in range(1, len(backward) + 1):
            changed_edges = {edge_of[known - 1]}
            changed_nodes = {self.node_index[backward[known - 1].node]}
            changed_nodes.update(completing.get(known, ()))
            if known > 1:
                changed_edges.add(edge_of[known - 2])
                changed_nodes.add(self.node_index[backward[known - 2].node])
            for i in changed_edges:
                edges[i] = self._step_edge(i, known)
            for j in changed_nodes:
                nodes[j] = self._step_node(j, known)
            frame = self.frame("step", known, backward[known - 1].node)
            yield known, self.render(frame, edges, stub, nodes)


def figures(solution: Solution) -> dict[str, Content]:
    """File name (relative to the problem's own folder) -> file content.

    ``graph.svg``, ``values.svg``, ``gradients.svg``; ``step-01.svg`` ... one per backward
    step (:func:`~tracer.exporters.base.frame_names`: for graphs of at most
    ``MAX_FIGURE_NODES`` nodes); ``graph.tikz.tex``, ``values.tikz.tex``,
    ``gradients.tikz.tex`` when the picture fits TeX's dimensions (:data:`MAX_TIKZ_PT`).
    A graph of more than ``MAX_LAYOUT_NODES`` nodes gets no figures: an empty dict, as
    does a problem too large to work step by step (its pages give an overview).
    A problem of vectors and matrices is drawn by :mod:`.tensor`.
    """
    if not written_out(solution):
        return {}
    if is_tensor(solution):
        from .tensor import tensor_figures

        return tensor_figures(solution)  # type: ignore[arg-type]
    if len(solution.trace.nodes) > MAX_LAYOUT_NODES:
        return {}
    lay = shared(solution, layout)
    out: dict[str, Content] = {}
    svg = _Drawing(solution, lay, "svg")
    for kind in FIGURE_NAMES:
        out[f"{kind}.svg"] = svg.render(svg.frame(kind), *svg.picture_parts(kind))
    for name, (_, picture) in zip(frame_names(solution), svg.steps()):
        out[name] = picture
    if max(lay.width, lay.height) * TIKZ_UNIT <= MAX_TIKZ_PT:
        tikz = _Drawing(solution, lay, "tikz.tex", unit=TIKZ_UNIT)
        for kind in FIGURE_NAMES:
            frame, parts = tikz.frame(kind), tikz.picture_parts(kind)
            natural = num(lay.width * TIKZ_UNIT)
            # How it is printed depends on its text (printfit): drawn once to read it, then
            # with the scale and the parts the printed documents ask for.
            plan = print_plan(tikz.render(frame, *parts, natural=natural, plan=None))
            out[f"{kind}.tikz.tex"] = tikz.render(frame, *parts, natural=natural, plan=plan)
    return out


@dataclass(frozen=True)
class StepBox:
    """Where a step frame's highlighted edge and node are, in figure units (y downwards),
    and the size of the whole figure: what the answer key's step-through scrolls (or
    zooms) the frame to.  ``attrs`` writes it for the frame's HTML element."""

    x: float
    y: float
    width: float
    height: float
    figure_width: float
    figure_height: float

    @property
    def box(self) -> str:
        return " ".join(num(v) for v in (self.x, self.y, self.width, self.height))

    @property
    def size(self) -> str:
        return f"{num(self.figure_width)} {num(self.figure_height)}"


#: Room kept around a step's edge and node, in figure units (the highlight's halo).
STEP_PAD = 6.0


def _edge_extent(g) -> tuple[float, float, float, float]:
    """The edge's line, arrow and texts: (left, top, right, bottom).  A Bézier curve lies
    within its control points, so those bound it."""
    xs = [p.x for s in g.path for p in s.points] + [p.x for p in g.arrow]
    ys = [p.y for s in g.path for p in s.points] + [p.y for p in g.arrow]
    ys += [g.value_at.y - FONT, g.grad_at.y + 0.3 * FONT]   # the value above, the gradient below
    return min(xs), min(ys), max(xs), max(ys)


def _node_extent(box, total_width: float) -> tuple[float, float, float, float]:
    """The node's shape with its ring, its name above and its total gradient below."""
    half = max(box.width / 2 + 2.5, total_width / 2,
               box.name_label.width / 2 if box.name_label else 0.0)
    top = box.name_at.y - FONT if box.name_label else box.centre.y - box.height / 2 - 2.5
    return (box.centre.x - half, top, box.centre.x + half, box.grad_at.y + 0.3 * FONT)


def step_boxes(solution: Solution) -> tuple[StepBox, ...]:
    """For each step frame (:func:`~tracer.exporters.base.frame_names`), in order, the box
    around its highlighted edge and the node receiving the contribution, from the layout
    every figure is drawn from (shared with :func:`figures`, so computed once).  None for a
    problem without step frames or of vectors and matrices (drawn by :mod:`.tensor`)."""
    if is_tensor(solution) or not frame_names(solution):
        return ()
    lay = shared(solution, layout)
    edges = {(g.source, g.target, g.slot): g for g in lay.edges}
    nodes = {b.name: b for b in lay.nodes}
    grads = {n.name: n.grad for n in solution.trace.nodes}
    out = []
    for s in solution.steps:
        node = nodes[s.node]
        total = number_text(grads[s.node], solution.precision, grad=True).width
        parts = [_edge_extent(edges[(s.node, s.source, s.slot)]), _node_extent(node, total)]
        left = max(0.0, min(p[0] for p in parts) - STEP_PAD)
        top = max(0.0, min(p[1] for p in parts) - STEP_PAD)
        right = min(lay.width, max(p[2] for p in parts) + STEP_PAD)
        bottom = min(lay.height, max(p[3] for p in parts) + STEP_PAD)
        out.append(StepBox(round(left, 2), round(top, 2), round(right - left, 2),
                           round(bottom - top, 2), lay.width, lay.height))
    return tuple(out)


@register
class FiguresExporter(Exporter):
    name = "figures"
    order = 30

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        return shared(solution, figures)
