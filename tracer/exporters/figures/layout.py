"""The layout shared by every figure of one problem.

Graphviz (``dot``, through pygraphviz, which bundles it) places the nodes left to right,
each input just left of the first gate that uses it and the output on the right, in the
author's columns where the problem gives them (``layout: columns``); the node positions
and edge splines are read back, so the SVG and the TikZ versions share the same
coordinates.  Each edge ``source -> gate`` runs through an invisible *label box* of its
own, a node of fixed size that Graphviz keeps clear of everything else: the value flowing
along the edge is written above that straight stretch and the edge's gradient
contribution below it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable, NamedTuple, Optional

import pygraphviz
from pygraphviz import graphviz as gv

from ...core.layout_hint import LayoutHint
from ...core.primitives import PRIMITIVES
from ...view.solution import Solution
from ..base import MAX_FIGURE_NODES
from .text import (ARROW, FONT, IN_WEIGHT, LINE, MARGIN, MIN_LABEL, NODESEP, OP_FONT,
                   OUT_WEIGHT, RANKSEP, Text, name_text, number_text, op_text)

__all__ = ["Point", "Segment", "NodeBox", "EdgeGeom", "Layout", "layout", "num", "Sizes"]

@dataclass(frozen=True)
class Point:
    """A point in figure units, y downwards, with its coordinates as written (``xs``,
    ``ys``: written once, as nearly every point is drawn, most in several figures)."""

    x: float
    y: float
    xs: str = field(init=False, repr=False, compare=False)
    ys: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "xs", num(self.x))
        object.__setattr__(self, "ys", num(self.y))


@lru_cache(maxsize=4096)   # coordinates repeat: points on one rank, nodes' sizes
def num(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Segment:
    """``M`` (move), ``L`` (line) or ``C`` (cubic Bézier through three points)."""

    kind: str
    points: tuple[Point, ...]


@dataclass(frozen=True)
class NodeBox:
    """Where a node is drawn: its shape around ``centre`` and its texts."""

    name: str
    kind: str                 # "input", "gate" or "formula" (a gate of several operations)
    shape: str                # "circle", or "box" with corners rounded by ``rx``
    centre: Point
    width: float              # of the visible shape
    height: float
    rx: float
    label: Text               # inside the shape
    name_label: Optional[Text]  # above the shape (gates)
    name_at: Point
    grad_at: Point            # baseline centre of the total gradient, under the shape

    @property
    def label_at(self) -> Point:
        """Baseline centre of the label inside the shape."""
        return Point(self.centre.x, round(self.centre.y + 0.35 * self.label.runs[0].size, 2))

    def corner(self, sign: int, grow: float = 0.0) -> Point:
        """The top-left (``sign=-1``) or bottom-right (``sign=1``) corner of the shape,
        ``grow`` units outside it."""
        return Point(round(self.centre.x + sign * (self.width / 2 + grow), 2),
                     round(self.centre.y + sign * (self.height / 2 + grow), 2))

    def dims(self, grow: float = 0.0) -> tuple[str, str]:
        """Width and height of the shape grown by ``grow`` on every side, as written."""
        return num(self.width + 2 * grow), num(self.height + 2 * grow)

    def rounded(self, unit: float = 1.0, grow: float = 0.0) -> str:
        """The corners' radius (of the shape grown by ``grow``), times ``unit``."""
        return num((self.rx + grow) * unit)

    def radius(self, grow: float = 0.0) -> str:
        return num(self.width / 2 + grow)

    def line_at(self, dy: float) -> Point:
        """The baseline centre of a line of text ``dy`` units below the shape's centre."""
        return Point(self.centre.x, round(self.centre.y + dy, 2))

    @property
    def east(self) -> Point:
        return Point(self.centre.x + self.width / 2, self.centre.y)

    @property
    def west(self) -> Point:
        return Point(self.centre.x - self.width / 2, self.centre.y)


@dataclass(frozen=True)
class EdgeGeom:
    """One drawn edge: ``source`` is operand ``slot`` of ``target`` (for the output's stub,
    ``target`` and ``slot`` are None)."""

    source: str
    target: Optional[str]
    slot: Optional[int]
    path: tuple[Segment, ...]
    arrow: tuple[Point, Point, Point]
    value_at: Point           # baseline centre of the value, above the straight stretch
    grad_at: Point            # baseline centre of the gradient, below it

    @property
    def id(self) -> str:
        return "stub" if self.target is None else f"{self.source}-{self.target}-{self.slot}"

    @cached_property
    def svg_d(self) -> str:
        """The path as SVG path data (it is drawn in every frame: written once)."""
        return " ".join(s.kind + " ".join(f"{p.xs},{p.ys}" for p in s.points)
                        for s in self.path)


@dataclass(frozen=True)
class Layout:
    """The geometry shared by every figure of one trace."""

    width: float
    height: float
    nodes: tuple[NodeBox, ...]
    edges: tuple[EdgeGeom, ...]   # graph edges, in the order of the gates' operands
    stub: EdgeGeom


# ----------------------------------------------------------------------------- layout

def _inches(units: float) -> str:
    return f"{units / 72:.4f}"


def _pos(text: str) -> list[tuple[float, float]]:
    """The spline points of a Graphviz edge ``pos`` (without arrowheads: none are drawn)."""
    return [(float(x), float(y)) for x, y in (token.split(",") for token in text.split())]


class _Dot:
    """Adding nodes and edges to a pygraphviz graph and reading their positions back, with
    the calls into Graphviz that ``AGraph.add_node``, ``add_edge`` and ``attr`` make, in the
    same order (so dot is given the same graph), but without the Python objects (and their
    attribute dictionaries) they make for every node and edge they touch: those were more
    than a quarter of the layout's time besides dot's own."""

    def __init__(self, g: pygraphviz.AGraph):
        self.handle, self.encoding = g.handle, g.encoding
        self._nodes: dict[str, object] = {}

    def _set(self, item, attrs: dict[str, str]) -> None:
        for name, value in attrs.items():
            # AGraph declares an attribute first set on a node or edge with an empty default
            # ("\N" for a node's label, but no node has a label of its own here).
            gv.agsafeset_label(self.handle, item, name.encode(self.encoding),
                               value.encode(self.encoding), b"")

    def add_node(self, name: str, **attrs: str) -> None:
        handle = gv.agnode(self.handle, name.encode(self.encoding), 1)
        self._nodes[name] = handle
        self._set(handle, attrs)

    def add_edge(self, tail: str, head: str, key: str, **attrs: str) -> object:
        handle = gv.agedge(self.handle, self._nodes[tail], self._nodes[head],
                           key.encode(self.encoding), 1)
        self._set(handle, attrs)
        return handle

    def get(self, item, name: str) -> str:
        return gv.agget(item, name.encode(self.encoding)).decode(self.encoding)

    def pos(self, node: str) -> str:
        return self.get(self._nodes[node], "pos")


_LabelBox = tuple[str, str, Optional[str], Optional[int]]   # key, source, target, slot


class Sizes(NamedTuple):
    """How large the boxes of a figure are, where they hold more than numbers (the
    matrices of :mod:`.tensor`): ``nodes(solution, dot)`` adds the nodes' boxes and returns
    them as :func:`_node_boxes` does; ``label(source, target, slot)`` is the (width,
    height) of an edge's label box."""

    nodes: Callable[..., dict[str, dict]]
    label: Callable[[str, Optional[str], Optional[int]], tuple[float, float]]


def layout(solution: Solution, sizes: Optional[Sizes] = None) -> Layout:
    """Place the nodes and route the edges with Graphviz ``dot``; the same solution always
    gives the same layout.  ``sizes``: the boxes' sizes, where not those of numbers."""
    trace = solution.trace
    g = pygraphviz.AGraph(directed=True, strict=False, name="tracer")
    g.graph_attr.update(rankdir="LR", ranksep=str(RANKSEP), nodesep=str(NODESEP),
                        splines="spline", newrank="true", margin="0")
    if len(trace.nodes) > MAX_FIGURE_NODES:
        # Bound dot's network-simplex and crossing-minimisation passes: long edges across
        # many ranks otherwise make large layouts take minutes.
        g.graph_attr.update(nslimit="2", nslimit1="2", mclimit="0.2")
    # Fixed sizes and no labels: dot measures no text, so no font is involved.
    g.node_attr.update(shape="box", fixedsize="true", label="")
    g.edge_attr.update(tailport="e", headport="w", arrowhead="none", arrowtail="none")
    dot = _Dot(g)
    boxes = (sizes.nodes if sizes else _node_boxes)(solution, dot)
    # One label box per graph edge (one per operand use, as the graph makes), and the stub.
    label_boxes: list[_LabelBox] = [
        (f"{operand}|{n.name}|{slot}", operand, n.name, slot)
        for n in trace.nodes if n.kind == "gate" for slot, operand in enumerate(n.operands)]
    label_boxes.append(("stub|", trace.output, None, None))
    halves = _label_boxes(solution, dot, label_boxes, sizes.label if sizes else None)
    # The subgraphs are made empty, then given their nodes: made from a list of nodes,
    # pygraphviz would also go through every edge of the graph for edges among them (there
    # are none), which took longer than all the rest of the layout but dot.
    # No input is held in a column of its own: dot ranks each one just left of the first
    # gate that uses it (the shortest edges), so a weight sits by its neuron, a data input
    # by its loss, and a value used by several gates is drawn once with its edges fanning out.
    _columns(g, getattr(solution, "layout_hint", None))
    g.add_subgraph(name="end", rank="max").add_node("end|")
    g.layout("dot")
    return _read_back(solution, g, dot, boxes, label_boxes, halves)


def _columns(g: pygraphviz.AGraph, hint: Optional[LayoutHint]) -> None:
    """The author's columns (``layout: columns``): each column's names on one rank, top
    down in the order given (invisible edges within the rank), and each column at least two
    ranks (a gate's and its label boxes') right of the one before it (an invisible edge of
    no weight, which pulls nothing together)."""
    if hint is None:
        return
    previous: Optional[str] = None
    for i, column in enumerate(hint.columns):
        sub = g.add_subgraph(name=f"column{i}", rank="same")
        for name in column:
            sub.add_node(name)
        for a, b in zip(column, column[1:]):
            sub.add_edge(a, b, key="order", style="invis")
        if previous is not None:
            g.add_edge(previous, column[0], key="column", style="invis", weight="0",
                       minlen="2")
        previous = column[0]


def _node_boxes(solution: Solution, dot: "_Dot") -> dict[str, dict]:
    """Each node's shape and texts, and its box (with the lines above and below it) in dot."""
    d = solution.precision
    boxes: dict[str, dict] = {}
    for n in solution.trace.nodes:
        name_label, shape = None, "box"
        if n.kind == "input":
            label = name_text(n.name)
            w, h, rx, kind = max(label.width + 14, 30.0), 24.0, 5.0, "input"
        elif n.op is not None:
            label = op_text(n)
            kind, name_label = "gate", name_text(n.name)
            if label.width <= 30:
                w = h = max(label.width + 12, 28.0)
                shape, rx = "circle", w / 2
            else:  # a longer label, such as max(x, 0): a circle would grow too big
                w, h, rx = label.width + 18, 28.0, 14.0
        else:
            label = name_text(n.name, OP_FONT)
            # Tall enough for its operands' arrows to arrive side by side.
            w, h = max(label.width + 18, 34.0), max(28.0, 9.0 * len(n.operands) + 8)
            rx, kind = 9.0, "formula"
        grad = number_text(n.grad, d, grad=True)
        top = name_label.width if name_label else 0.0
        # The margins left and right of the shape hold the arrowheads; the lines above
        # and below (name, total gradient) may use them.
        box_w = max(w + 2 * ARROW, grad.width + 4, top + 4)
        box_h = h + 2 * LINE
        boxes[n.name] = dict(kind=kind, shape=shape, w=w, h=h, rx=rx, label=label,
                             name_label=name_label)
        # The operands of a simple operation that does not commute come in slot order, the
        # first on top (a - b reads a above b); elsewhere dot may reorder to avoid crossings
        # (so may gates of several operations, whose figure does not say which is which).
        ordered = n.op is not None and not PRIMITIVES[n.op].commutative
        dot.add_node(n.name, width=_inches(box_w), height=_inches(box_h),
                     **({"ordering": "in"} if ordered else {}))
    return boxes


def _label_boxes(solution: Solution, dot: "_Dot", label_boxes: list[_LabelBox],
                 size: Optional[Callable] = None) -> dict[str, tuple[object, object]]:
    """Add the label boxes and the two halves of each edge through them."""
    d = solution.precision
    values = solution.values
    contributions = {(s.node, s.source, s.slot): s for s in solution.trace.backward}
    for key, source, target, slot in label_boxes:
        if size is not None:
            w, h = size(source, target, slot)
            dot.add_node(key, width=_inches(w), height=_inches(h))
            continue
        value = number_text(values[source], d)
        if target is None:
            grad = number_text(1.0, d, grad=True)
        else:
            step = contributions.get((source, target, slot))   # none out of data
            grad = number_text(step.contribution, d, grad=True, path=step.path) \
                if step is not None else value
        w = max(value.width, grad.width, MIN_LABEL) + 8
        dot.add_node(key, width=_inches(w), height=_inches(2 * LINE + 2))
    dot.add_node("end|", width=_inches(ARROW), height=_inches(ARROW))
    # Edges are added gate by gate, operand by operand: with ordering=in the label boxes
    # of a gate's operands are stacked in slot order, the first on top.
    halves = {}
    for key, source, target, slot in label_boxes:
        first = dot.add_edge(source, key, "in", weight=str(IN_WEIGHT))
        # A heavy second half keeps the label box next to the gate it feeds.
        halves[key] = first, dot.add_edge(key, target or "end|", "out", weight=str(OUT_WEIGHT))
    return halves


def _read_back(solution: Solution, g: pygraphviz.AGraph, dot: "_Dot", boxes: dict[str, dict],
               label_boxes: list[_LabelBox], halves: dict) -> Layout:
    """The layout from dot's positions: nodes, and each edge as a path into its gate."""
    x0, y0, x1, y1 = (float(v) for v in g.graph_attr["bb"].split(","))

    def point(x: float, y: float) -> Point:
        return Point(round(x - x0 + MARGIN, 2), round(y1 - y + MARGIN, 2))

    def centre(name: str) -> Point:
        x, y = (float(v) for v in dot.pos(name).split(","))
        return point(x, y)

    nodes = []
    for n in solution.trace.nodes:
        b, c = boxes[n.name], centre(n.name)
        top = c.y - b["h"] / 2
        nodes.append(NodeBox(n.name, b["kind"], b["shape"], c, b["w"], b["h"], b["rx"],
                             b["label"], b["name_label"], Point(c.x, round(top - 9, 2)),
                             Point(c.x, round(c.y + b["h"] / 2 + 4 + 0.75 * FONT, 2))))
    by_name = {n.name: n for n in nodes}
    # Each label box's east side, where the edge leaves it for its gate.
    exits = {key: point(*_pos(dot.get(halves[key][1], "pos"))[0])
             for key, *_ in label_boxes}
    entries = _entries(label_boxes, exits, by_name)
    end = centre("end|")
    edges = []
    for key, source, target, slot in label_boxes:
        first = [point(*p) for p in _pos(dot.get(halves[key][0], "pos"))]
        if target is None:  # the stub: straight on, into the small end box
            entry = (Point(round(end.x + ARROW / 2, 2), exits[key].y), (1.0, 0.0))
        else:
            entry = entries[key]
        edges.append(_edge(source, target, slot, by_name[source].east, first, exits[key],
                           entry, centre(key)))
    width, height = x1 - x0 + 2 * MARGIN, y1 - y0 + 2 * MARGIN
    return Layout(round(width, 2), round(height, 2), tuple(nodes), tuple(edges[:-1]), edges[-1])


def _edge(source: str, target: Optional[str], slot: Optional[int], start: Point,
          first: list[Point], exit_: Point, entry: tuple[Point, tuple[float, float]],
          middle: Point) -> "EdgeGeom":
    """An edge: from its source along dot's spline to its label box, then a curve that
    leaves the box horizontally and arrives at ``entry`` along its direction."""
    path = [Segment("M", (start,)), Segment("L", (first[0],))]
    for i in range(1, len(first) - 2, 3):
        path.append(Segment("C", tuple(first[i:i + 3])))
    path.append(Segment("L", (exit_,)))
    tip, (dx, dy) = entry
    base = Point(round(tip.x - ARROW * dx, 2), round(tip.y - ARROW * dy, 2))
    reach = max(base.x - exit_.x, 1.0) * 0.5
    path.append(Segment("C", (Point(round(exit_.x + reach, 2), exit_.y),
                              Point(round(base.x - reach * dx, 2),
                                    round(base.y - reach * dy, 2)), base)))
    half = ARROW * 0.45
    arrow = (tip, Point(round(base.x + half * dy, 2), round(base.y - half * dx, 2)),
             Point(round(base.x - half * dy, 2), round(base.y + half * dx, 2)))
    return EdgeGeom(source, target, slot, tuple(path), arrow,
                    Point(middle.x, round(middle.y - 5, 2)),
                    Point(middle.x, round(middle.y + 5 + 0.75 * FONT, 2)))


def _entries(label_boxes, exits: dict[str, Point], by_name: dict[str, NodeBox]
             ) -> dict[str, tuple[Point, tuple[float, float]]]:
    """Where each edge meets its gate, and the direction it arrives in.

    A gate's incoming edges are spread over its left side in the order of their label
    boxes, top to bottom, so that they never cross there: around a round end (a circle, a
    pill) at angles up to 55 degrees from the horizontal, aimed at its centre; along a
    box's left side, horizontally.
    """
    into: dict[str, list[str]] = {}
    for key, _, target, _ in label_boxes:
        if target is not None:
            into.setdefault(target, []).append(key)
    result = {}
    for target, keys in into.items():
        box = by_name[target]
        order = sorted(range(len(keys)), key=lambda i: (exits[keys[i]].y, i))
        k = len(keys)
        for i, key in enumerate(keys[j] for j in order):
            t = i - (k - 1) / 2
            if box.rx * 2 >= box.height:  # a round left end: a circle or a pill
                angle = math.radians(t * (min(30.0, 110.0 / (k - 1)) if k > 1 else 0.0))
                r = box.height / 2
                cx = box.centre.x - box.width / 2 + r
                dx, dy = math.cos(angle), -math.sin(angle)
                tip = Point(round(cx - r * dx, 2), round(box.centre.y - r * dy, 2))
            else:
                step = min(9.0, (box.height - 8) / (k - 1)) if k > 1 else 0.0
                dx, dy = 1.0, 0.0
                tip = Point(box.west.x, round(box.centre.y + t * step, 2))
            result[key] = (tip, (round(dx, 4), round(dy, 4)))
    return result


