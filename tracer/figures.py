r"""Figures of a problem's computational graph: SVG for the web, TikZ for print.

One layout serves every figure of a problem.  Graphviz (``dot``, through pygraphviz, which
bundles it) places the nodes left to right, inputs on the left and the output on the right;
tracer reads the node positions and edge splines back and draws everything itself, so the
SVG and the TikZ versions share the same coordinates.  Layout and markup are separate: this
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

:func:`figures` returns, for one :class:`~tracer.engine.Trace` (file name -> content):

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
  ``\linewidth`` when the picture is wider.

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

import math
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Iterator, Optional

import pygraphviz
from pygraphviz import graphviz as gv

from .engine import NodeTrace, Trace
from .expr import Call, Const, Var, format_const, split_name, tex_symbol
from .numbers import fmt, fmt_tex
from .render import environment

__all__ = ["figures", "layout", "Layout", "FIGURE_NAMES", "MAX_FIGURE_NODES",
           "MAX_LAYOUT_NODES", "MAX_TIKZ_PT"]

#: Above this many nodes (inputs and gates) no per-step frames are drawn.
MAX_FIGURE_NODES = 60
#: Above this many nodes no figure at all is drawn.  Layout time depends on the shape more
#: than on the size: a 110-node chain whose every gate also reads one of three inputs took
#: over a minute before dot's search limits (below) were set for large graphs, 11 s after.
MAX_LAYOUT_NODES = 120
#: TikZ pictures are written only when their natural width and height stay below this
#: (TeX dimensions end at 16383 pt; such a picture would be unreadable in print anyway).
MAX_TIKZ_PT = 15000.0

#: The three pictures made for every problem (each as ``.svg`` and ``.tikz.tex``).
FIGURE_NAMES = ("graph", "values", "gradients")

# ----------------------------------------------------------------------------- sizes
# Figure units: one unit is one SVG pixel and 0.75 pt in TikZ, where the text is set at
# \normalsize (Computer Modern is narrower than the SVG's fonts, so it fits the same
# boxes).  Graphviz works in points; the units are handed to it as points.
FONT = 12.0          # values and gradients
NAME_FONT = 13.0     # node names
OP_FONT = 15.0       # operation symbols
SCRIPT = 0.72        # sub- and superscripts, relative to their text
CHAR = 0.64          # estimated advance of a digit or letter, in ems
LINE = 18.0          # the line reserved above and below a node, and per label line
ARROW = 8.0          # arrowhead length
MARGIN = 8.0
MIN_LABEL = 34.0     # narrowest label box, so that short edges still curve gently
RANKSEP = 0.28       # inches
NODESEP = 0.14
IN_WEIGHT, OUT_WEIGHT = 1, 8   # dot weights of the edge halves before / after a label box
TIKZ_UNIT = 0.75     # pt per figure unit
#: Operations whose operands may be drawn in any order (so are gates of several operations,
#: whose figure does not say which operand is which).
COMMUTATIVE = frozenset({"add", "mul", "max", "min"})


# ----------------------------------------------------------------------------- text

@dataclass(frozen=True)
class Run:
    """A piece of text in one style; ``dy`` moves the baseline from the previous run's
    (sub- and superscripts)."""

    text: str
    size: float
    dy: float = 0.0
    italic: bool = False


@dataclass(frozen=True)
class Text:
    """Text to draw: runs for SVG, math for TikZ, and its estimated width for the layout."""

    runs: tuple[Run, ...]
    tex: str
    width: float
    plain: str
    data: str = ""   # the exact number behind a number's text


# Advances in ems, rounded up from DejaVu Sans (the font the SVG asks for first, and wider
# than Computer Modern); other characters count CHAR.  The estimate only has to be generous.
_NARROW = dict.fromkeys(".,:; '|!ilj/", 0.34) | dict.fromkeys("()[]ftrI", 0.42)
_WIDE = dict.fromkeys("\u2212+\u00d7\u00f7=<>\u221amwMW", 0.86)
_ADVANCE = _NARROW | _WIDE


def _runs_width(parts: list[tuple[str, str]], size: float) -> float:
    return round(sum(sum(_ADVANCE.get(ch, CHAR) for ch in t) * size
                     * (SCRIPT if role in ("sub", "sup") else 1.0) for t, role in parts), 2)


def _text(parts: list[tuple[str, str]], tex: str, size: float, data: str = "") -> Text:
    """``parts`` are (text, role) with role "" (upright), "i" (italic), "sub", "sup",
    "subi", "supi".  Baseline shifts are written relative to the previous run."""
    runs, level = [], 0.0
    for text, role in parts:
        script = role.rstrip("i") in ("sub", "sup")
        target = (0.3 if role.startswith("sub") else -0.42) * size if script else 0.0
        runs.append(Run(text, round(size * SCRIPT, 2) if script else size,
                        round(target - level, 2), role.endswith("i")))
        level = target
    if level:  # back to the baseline, so that text anchored after it is not shifted
        runs.append(Run("", size, round(-level, 2)))
    plain = "".join(t for t, _ in parts)
    return Text(tuple(runs), tex, _runs_width([(t, r.rstrip("i")) for t, r in parts], size),
                plain, data)


_GREEK_UNICODE = {}


def _greek(base: str) -> Optional[str]:
    if base not in _GREEK_UNICODE:
        case = "CAPITAL" if base[0].isupper() else "SMALL"
        try:
            _GREEK_UNICODE[base] = unicodedata.lookup(f"GREEK {case} LETTER {base.upper()}")
        except KeyError:
            _GREEK_UNICODE[base] = None
    return _GREEK_UNICODE[base]


def _name_parts(name: str) -> list[tuple[str, str]]:
    """A variable name as runs, following :func:`tracer.expr.tex_symbol`: ``x1`` is x with
    the subscript 1, ``w_out`` is w with the subscript out, ``alpha`` is α."""
    base, sub = split_name(name)
    if not base:
        return [(name, "i")]
    greek = _greek(base) if len(base) > 1 else None
    head = [(greek or base, "i")]
    if not sub:
        return head
    if "_" in sub:
        return head + [(t, "sub") for t, _ in _name_parts(sub)]
    return head + [(sub, "sub")]


def name_text(name: str, size: float = NAME_FONT) -> Text:
    """A node's name, with subscripts."""
    return _text(_name_parts(name), f"${tex_symbol(name)}$", size)


def number_text(value: float, digits: int, *, grad: bool = False, path: Optional[int] = None,
                size: float = FONT) -> Text:
    """A number as :func:`tracer.numbers.fmt` writes it (with a true minus sign); a gradient
    is italic, with ``[k]`` before it for the k-th contribution to a node receiving several."""
    # Cached by the number's repr: 0.0 and -0.0 are equal keys but not the same data-value.
    return _number_text(repr(float(value)), digits, grad, path, size)


@lru_cache(maxsize=4096)
def _number_text(exact: str, digits: int, grad: bool, path: Optional[int], size: float
                 ) -> Text:
    value = float(exact)
    shown = fmt(value, digits).replace("-", "\u2212")
    tex = fmt_tex(value, digits)
    if path is not None:
        shown, tex = f"[{path}] {shown}", rf"[{path}]\;{{{tex}}}"
    if grad:
        tex = rf"\mathit{{{tex}}}"
    return _text([(shown, "i" if grad else "")], f"${tex}$", size, data=exact)


# ----------------------------------------------------------------------------- operations

_SYMBOL = {"add": ("+", "+"), "sub": ("\u2212", "-"), "mul": ("\u00d7", r"\times"),
           "div": ("\u00f7", r"\div")}
_FUNCTION = {"exp": ("exp", r"\exp"), "log": ("ln", r"\ln"), "sin": ("sin", r"\sin"),
             "cos": ("cos", r"\cos"), "tan": ("tan", r"\tan"), "tanh": ("tanh", r"\tanh"),
             "sigmoid": ("\u03c3", r"\sigma"), "relu": ("relu", r"\mathrm{relu}"),
             "max": ("max", r"\max"), "min": ("min", r"\min"), "step": ("step", r"\mathrm{step}"),
             "sign": ("sign", r"\mathrm{sign}"), "heaviside": ("H", "H")}


def _const(c: float) -> tuple[str, str]:
    """A constant as written in the problem, for SVG and for TeX."""
    text = format_const(c)
    tex = text
    if "e" in text:
        mant, _, exp = text.partition("e")
        tex = rf"{mant} \times 10^{{{int(exp)}}}"
    return text.replace("-", "\u2212"), tex


def op_text(node: NodeTrace) -> Text:
    """The label inside a gate: its operation, as on a circuit diagram (``+``, ``×3``,
    ``x²``, ``1/x``, ``σ``); the operand is written x.  A gate of several operations shows
    its name."""
    size = OP_FONT
    expr = node.expr
    if node.op is None or not isinstance(expr, Call):
        return name_text(node.name, size)
    op, args = node.op, expr.args
    consts = [a for a in args if isinstance(a, Const)]
    if op == "pow":
        a, b = args
        base = _const(a.value) if isinstance(a, Const) else ("x", "x")
        exp_ = _const(b.value) if isinstance(b, Const) else ("y", "y")
        if isinstance(a, Var) and isinstance(b, Var):
            base, exp_ = ("x", "x"), ("y", "y")
        return _text([(base[0], "" if isinstance(a, Const) else "i"),
                      (exp_[0], "sup" if isinstance(b, Const) else "supi")],
                     f"${base[1]}^{{{exp_[1]}}}$", size)
    if op in _SYMBOL:
        symbol, tex = _SYMBOL[op]
        if not consts:
            return _text([(symbol, "")], f"${tex}$", size)
        c_text, c_tex = _const(consts[0].value)
        if isinstance(args[0], Const) and op in ("sub", "div"):
            mark, mark_tex = ("\u2212", "-") if op == "sub" else ("/", "/")
            return _text([(c_text, ""), (mark, ""), ("x", "i")],
                         f"${c_tex}{mark_tex}x$", size)
        if consts[0].value < 0 and op in ("add", "mul"):
            c_text, c_tex = f"({c_text})", f"({c_tex})"
        return _text([(symbol + c_text, "")], f"${tex}{c_tex}$", size)
    if op == "neg":
        return _text([("\u2212", ""), ("x", "i")], "$-x$", size)
    if op == "sqrt":
        return _text([("\u221a", ""), ("x", "i")], r"$\sqrt{x}$", size)
    if op == "abs":
        return _text([("|", ""), ("x", "i"), ("|", "")], "$|x|$", size)
    text, tex = _FUNCTION.get(op, (op, r"\mathrm{" + op + "}"))
    if consts:  # max(x, 0): the constant is part of the operation
        parts: list[tuple[str, str]] = [(text + "(", "")]
        texs = []
        for i, a in enumerate(args):
            c_text, c_tex = _const(a.value) if isinstance(a, Const) else ("x", "x")
            parts += [(", " if i else "", ""), (c_text, "" if isinstance(a, Const) else "i")]
            texs.append(c_tex)
        return _text(parts + [(")", "")], f"${tex}({', '.join(texs)})$", size)
    return _text([(text, "")], f"${tex}$", size)


# ----------------------------------------------------------------------------- layout data

@dataclass(frozen=True)
class Point:
    """A point in figure units, y downwards, with its coordinates as written (``xs``,
    ``ys``: written once, as nearly every point is drawn, most in several figures)."""

    x: float
    y: float
    xs: str = field(init=False, repr=False, compare=False)
    ys: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "xs", _num(self.x))
        object.__setattr__(self, "ys", _num(self.y))


@lru_cache(maxsize=4096)   # coordinates repeat: points on one rank, nodes' sizes
def _num(v: float) -> str:
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
        return _num(self.width + 2 * grow), _num(self.height + 2 * grow)

    def rounded(self, unit: float = 1.0, grow: float = 0.0) -> str:
        """The corners' radius (of the shape grown by ``grow``), times ``unit``."""
        return _num((self.rx + grow) * unit)

    def radius(self, grow: float = 0.0) -> str:
        return _num(self.width / 2 + grow)

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

def _edges(trace: Trace) -> list[tuple[str, str, int]]:
    """Every graph edge (source, gate, slot): one per operand use, as tracer.graph makes."""
    return [(operand, n.name, slot) for n in trace.nodes if n.kind == "gate"
            for slot, operand in enumerate(n.operands)]


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


def layout(trace: Trace) -> Layout:
    """Place the nodes and route the edges with Graphviz ``dot``; the same trace always
    gives the same layout."""
    d = trace.precision
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

    boxes: dict[str, dict] = {}
    for n in trace.nodes:
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
        # first on top (a - b reads a above b); elsewhere dot may reorder to avoid crossings.
        ordered = n.op is not None and n.op not in COMMUTATIVE
        dot.add_node(n.name, width=_inches(box_w), height=_inches(box_h),
                     **({"ordering": "in"} if ordered else {}))

    values = trace.values
    label_boxes = []
    for source, target, slot in _edges(trace):
        label_boxes.append((f"{source}|{target}|{slot}", source, target, slot))
    label_boxes.append(("stub|", trace.output, None, None))
    contributions = {(s.node, s.source, s.slot): s for s in trace.backward}

    for key, source, target, slot in label_boxes:
        value = number_text(values[source], d)
        if target is None:
            grad = number_text(1.0, d, grad=True)
        else:
            step = contributions[(source, target, slot)]
            grad = number_text(step.contribution, d, grad=True, path=step.path)
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
    # The subgraphs are made empty, then given their nodes: made from a list of nodes,
    # pygraphviz would also go through every edge of the graph for edges among them (there
    # are none), which took longer than all the rest of the layout but dot.
    inputs = g.add_subgraph(name="inputs", rank="min")
    for name in trace.inputs:
        inputs.add_node(name)
    # Invisible edges within the rank keep the inputs in the problem's order, top down.
    for a, b in zip(trace.inputs, trace.inputs[1:]):
        inputs.add_edge(a, b, key="order", style="invis")
    g.add_subgraph(name="end", rank="max").add_node("end|")
    g.layout("dot")

    x0, y0, x1, y1 = (float(v) for v in g.graph_attr["bb"].split(","))
    height = y1 - y0 + 2 * MARGIN

    def point(x: float, y: float) -> Point:
        return Point(round(x - x0 + MARGIN, 2), round(y1 - y + MARGIN, 2))

    def centre(name: str) -> Point:
        x, y = (float(v) for v in dot.pos(name).split(","))
        return point(x, y)

    nodes = []
    for n in trace.nodes:
        b, c = boxes[n.name], centre(n.name)
        top = c.y - b["h"] / 2
        nodes.append(NodeBox(n.name, b["kind"], b["shape"], c, b["w"], b["h"], b["rx"],
                             b["label"], b["name_label"], Point(c.x, round(top - 9, 2)),
                             Point(c.x, round(c.y + b["h"] / 2 + 4 + 0.75 * FONT, 2))))
    by_name = {n.name: n for n in nodes}

    # Each label box's east side, where the edge leaves it for its gate.
    exits = {}
    for key, source, target, slot in label_boxes:
        second = _pos(dot.get(halves[key][1], "pos"))
        exits[key] = point(*second[0])
    entries = _entries(label_boxes, exits, by_name)

    edges = []
    for key, source, target, slot in label_boxes:
        m = centre(key)
        first = _pos(dot.get(halves[key][0], "pos"))
        path = [Segment("M", (by_name[source].east,)), Segment("L", (point(*first[0]),))]
        for i in range(1, len(first) - 2, 3):
            path.append(Segment("C", tuple(point(*p) for p in first[i:i + 3])))
        exit_ = exits[key]
        path.append(Segment("L", (exit_,)))
        if target is None:  # the stub: straight on, into the small end box
            tip, (dx, dy) = Point(round(centre("end|").x + ARROW / 2, 2), exit_.y), (1.0, 0.0)
        else:
            tip, (dx, dy) = entries[key]
        base = Point(round(tip.x - ARROW * dx, 2), round(tip.y - ARROW * dy, 2))
        # Leave the label box horizontally, arrive along (dx, dy).
        reach = max(base.x - exit_.x, 1.0) * 0.5
        path.append(Segment("C", (Point(round(exit_.x + reach, 2), exit_.y),
                                  Point(round(base.x - reach * dx, 2),
                                        round(base.y - reach * dy, 2)), base)))
        half = ARROW * 0.45
        arrow = (tip, Point(round(base.x + half * dy, 2), round(base.y - half * dx, 2)),
                 Point(round(base.x - half * dy, 2), round(base.y + half * dx, 2)))
        edges.append(EdgeGeom(source, target, slot, tuple(path), arrow,
                              Point(m.x, round(m.y - 5, 2)),
                              Point(m.x, round(m.y + 5 + 0.75 * FONT, 2))))
    width = x1 - x0 + 2 * MARGIN
    return Layout(round(width, 2), round(height, 2), tuple(nodes), tuple(edges[:-1]), edges[-1])


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


# ----------------------------------------------------------------------------- what to draw

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
        return _num(self.width)

    @property
    def height_s(self) -> str:
        return _num(self.height)


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

    def __init__(self, trace: Trace, lay: Layout, templates: str, **extra):
        """``templates``: ``svg`` or ``tikz.tex``; ``extra`` goes to the picture template
        and to the nodes' shapes."""
        d = trace.precision
        values = trace.values
        env = environment()
        self.picture = env.get_template(f"figures/figure.{templates}.j2")
        self._edge = env.get_template(f"figures/edge.{templates}.j2").module
        self._node = env.get_template(f"figures/node.{templates}.j2").module
        self.lay, self.trace, self.extra = lay, trace, extra
        self.geoms = lay.edges + (lay.stub,)
        self.stub = len(lay.edges)
        # The engine makes one backward step per graph edge (operand use): step k sends the
        # gradient of ``s.source`` back along the edge into operand ``s.slot``, ``s.node``.
        index = {(s.node, s.source, s.slot): k for k, s in enumerate(trace.backward)}
        self.edge_step = [index[(g.source, g.target, g.slot)] for g in lay.edges]
        self.values = [number_text(values[g.source], d) for g in self.geoms]
        self.grads = [number_text(s.contribution, d, grad=True, path=s.path)
                      for s in (trace.backward[k] for k in self.edge_step)]
        self.grads.append(number_text(1.0, d, grad=True))     # the seed, on the stub
        by_name = {n.name: n for n in trace.nodes}
        self.node_index = {box.name: j for j, box in enumerate(lay.nodes)}
        self.totals = [number_text(by_name[box.name].grad, d, grad=True) for box in lay.nodes]
        # A node's total is shown once all the contributions it receives have arrived: after
        # the last step into it (the output's from the start, and a node that feeds no
        # gate's, which receives none).
        last: dict[str, int] = {}
        for k, s in enumerate(trace.backward):
            last[s.node] = k + 1
        self.complete_at = [0 if box.name == trace.output else last.get(box.name, 0)
                            for box in lay.nodes]
        self._drawn: dict[tuple, str] = {}

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
            if grad:
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
            if total:
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
        return Frame(kind, self.lay.width, self.lay.height, self.trace.title, step, step_node)

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
        edge_of = {k: i for i, k in enumerate(self.edge_step)}
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


def figures(trace: Trace) -> dict[str, str]:
    """File name (relative to the problem's own folder) -> file content.

    ``graph.svg``, ``values.svg``, ``gradients.svg``; ``step-01.svg`` ... one per backward
    step (zero-padded to the digits of their count, at least two), for graphs of at most
    :data:`MAX_FIGURE_NODES` nodes; ``graph.tikz.tex``, ``values.tikz.tex``,
    ``gradients.tikz.tex`` when the picture fits TeX's dimensions (:data:`MAX_TIKZ_PT`).
    A graph of more than :data:`MAX_LAYOUT_NODES` nodes gets no figures: an empty dict.
    """
    if len(trace.nodes) > MAX_LAYOUT_NODES:
        return {}
    lay = layout(trace)
    out: dict[str, str] = {}
    svg = _Drawing(trace, lay, "svg")
    for kind in FIGURE_NAMES:
        out[f"{kind}.svg"] = svg.render(svg.frame(kind), *svg.picture_parts(kind))
    if len(trace.nodes) <= MAX_FIGURE_NODES:
        width = max(2, len(str(len(trace.backward))))
        for i, picture in svg.steps():
            out[f"step-{i:0{width}d}.svg"] = picture
    if max(lay.width, lay.height) * TIKZ_UNIT <= MAX_TIKZ_PT:
        tikz = _Drawing(trace, lay, "tikz.tex", unit=TIKZ_UNIT)
        for kind in FIGURE_NAMES:
            out[f"{kind}.tikz.tex"] = tikz.render(tikz.frame(kind), *tikz.picture_parts(kind),
                                                  natural=_num(lay.width * TIKZ_UNIT))
    return out
