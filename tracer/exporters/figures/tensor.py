r"""Figures of a problem of vectors and matrices: one node per vector or matrix, labelled
with its shape, every edge labelled with the shape flowing along it; values and gradients
drawn as small matrices where they fit (at most :data:`MAX_ROWS` rows and
:data:`MAX_COLS` columns), else as their shape with the values in the SVG's tooltip.

The same files as for a problem of scalars (:mod:`tracer.exporters.figures`): ``graph``,
``values``, ``gradients`` (SVG and TikZ) and a frame per backward step.  Graphviz lays the
graph out as there, the boxes sized for the matrices; the drawing reuses the figures'
machinery, with the templates ``figures/*.tensor.svg.j2`` and ``figures/*.tensor.tikz.tex.j2``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from ...core.primitives import PRIMITIVES
from ...core.tensor_ops import Shape
from ...notation.svg import HADAMARD, TENSOR_TABLE
from ...notation.tensor_latex import matrix_tex
from ...view.tensor_solution import TensorSolution
from ..base import MAX_LAYOUT_NODES, Content, frame_names
from .layout import Layout, Point, Sizes, _inches, layout, num
from .text import (ARROW, FONT, LINE, MIN_LABEL, NAME_FONT, OP_FONT, TIKZ_UNIT, Text, _text,
                   name_text, number_text, op_text)

__all__ = ["tensor_figures", "tensor_layout", "Matrix", "MAX_ROWS", "MAX_COLS"]

#: The largest matrix drawn entry by entry; a larger one is drawn as its shape.
MAX_ROWS, MAX_COLS = 4, 4
ROW = 15.0          # the height of a row of a matrix
GAP = 7.0           # between columns
BRACKET = 5.0       # room for a bracket on each side
SHAPE_FONT = 10.5   # a node's or an edge's shape


@dataclass(frozen=True)
class Cell:
    """An entry's text and the centre of its baseline, as written."""

    xs: str
    ys: str
    text: Text


@dataclass(frozen=True)
class Placed:
    """A matrix drawn at a place: its cells, the paths of its brackets, and its box."""

    cells: tuple[Cell, ...]
    brackets: tuple[str, ...]      # SVG path data
    x: str
    y: str                         # top left corner
    cx: str                        # centre of the top (TikZ anchors) and of the bottom
    top: str
    bottom: str


@dataclass(frozen=True)
class Matrix:
    """A value drawn as a matrix (or a number, or, too large, as its shape)."""

    rows: tuple[tuple[Text, ...], ...]
    widths: tuple[float, ...]
    width: float
    height: float
    tex: str
    data: str
    grad: bool
    prefix: Optional[Text]         # [k] before a contribution of several
    shape: Optional[Text]          # drawn instead of the entries when too large
    title: str                     # the values, for the tooltip of a matrix drawn as shape

    @property
    def bracketed(self) -> bool:
        return self.shape is None and (len(self.rows) > 1 or len(self.rows[0]) > 1
                                       or self.data.startswith("["))

    def place(self, cx: float, top: float) -> Placed:
        """The matrix with the centre of its top edge at (cx, top)."""
        left = cx - self.width / 2
        cells: list[Cell] = []
        x0 = left + (self.prefix.width + 4 if self.prefix else 0.0)
        if self.prefix is not None:
            cells.append(Cell(num(left + self.prefix.width / 2),
                              num(top + self.height / 2 + 0.35 * FONT), self.prefix))
        inner = x0 + (BRACKET if self.bracketed else 0.0)
        if self.shape is not None:
            cells.append(Cell(num(x0 + self.shape.width / 2), num(top + 0.8 * FONT),
                              self.shape))
        else:
            for r, row in enumerate(self.rows):
                x = inner
                for c, text in enumerate(row):
                    x += self.widths[c]
                    cells.append(Cell(num(x - self.widths[c] / 2),
                                      num(top + (r + 0.78) * ROW), text))
                    x += GAP
        brackets: tuple[str, ...] = ()
        if self.bracketed:
            right = left + self.width
            bottom = top + self.height
            brackets = (f"M{num(x0 + 3)},{num(top)} L{num(x0)},{num(top)} "
                        f"L{num(x0)},{num(bottom)} L{num(x0 + 3)},{num(bottom)}",
                        f"M{num(right - 3)},{num(top)} L{num(right)},{num(top)} "
                        f"L{num(right)},{num(bottom)} L{num(right - 3)},{num(bottom)}")
        return Placed(tuple(cells), brackets, num(left), num(top), num(cx), num(top),
                      num(top + self.height))

    def above(self, p: Point) -> Placed:
        """Drawn above an edge: its bottom just above the baseline point ``p``."""
        return self.place(p.x, p.y + 1 - self.height)

    def below(self, p: Point) -> Placed:
        """Drawn below: its top where a line of text at the baseline ``p`` would start."""
        return self.place(p.x, p.y - 0.75 * FONT - 1)


def shape_text(shape: Shape, size: float = SHAPE_FONT) -> Text:
    """``2×4``; a vector is a column, ``4×1``; a scalar ``1×1``."""
    rows, cols = (shape + (1, 1))[:2] if len(shape) == 2 else \
        ((shape[0], 1) if shape else (1, 1))
    return _text([(f"{rows}\u00d7{cols}", "")], rf"${rows}{{\times}}{cols}$", size)


def matrix(value, shape: Shape, digits: int, *, grad: bool = False,
           path: Optional[int] = None) -> Matrix:
    """A value as drawn on an edge or under a node."""
    data = json.dumps(value.tolist())
    prefix = _text([(f"[{path}]", "i")], f"$[{path}]$", FONT) if path is not None else None
    tex = matrix_tex(value, digits)
    rows_count, cols = (shape + (1,))[:2] if shape else (1, 1)
    if rows_count > MAX_ROWS or cols > MAX_COLS:
        text = shape_text(shape, FONT)
        width = text.width + (prefix.width + 4 if prefix else 0.0)
        title = json.dumps(value.tolist())
        return Matrix(((),), (), width, ROW, text.tex, data, grad, prefix, text, title)
    if not shape:
        cells = ((number_text(float(value), digits, grad=grad),),)
    elif len(shape) == 1:
        cells = tuple((number_text(float(v), digits, grad=grad),) for v in value)
    else:
        cells = tuple(tuple(number_text(float(v), digits, grad=grad) for v in row)
                      for row in value)
    widths = tuple(max(row[c].width for row in cells) for c in range(len(cells[0])))
    bracketed = bool(shape)
    width = sum(widths) + GAP * (len(widths) - 1) + (2 * BRACKET if bracketed else 0.0)
    width += prefix.width + 4 if prefix else 0.0
    if grad:
        tex = rf"\mathit{{{tex}}}" if not shape else tex
    if prefix is not None:
        tex = rf"[{path}]\;{tex}"
    return Matrix(cells, widths, round(width, 2), len(cells) * ROW, f"${tex}$", data, grad,
                  prefix, None, "")


# ----------------------------------------------------------------------------- layout

def _label(solution: TensorSolution, name: str) -> Text:
    node = solution.trace.node(name)
    if node.kind == "input" or node.op is None:
        return name_text(name, OP_FONT if node.kind == "gate" else NAME_FONT)
    form = TENSOR_TABLE.get(node.op)
    if node.op == "mul" and all(solution.shapes.get(getattr(a, "name", ""), ()) != ()
                                for a in node.expr.args):  # type: ignore[union-attr]
        form = HADAMARD
    if form is None:
        return op_text(node)  # type: ignore[arg-type]
    return _text([(form.text, "")], f"${form.tex}$", OP_FONT)


def tensor_layout(solution: TensorSolution, texts: "_Texts") -> tuple[Layout, dict]:
    """Place the nodes and route the edges as for scalars (:func:`.layout.layout`), the
    boxes sized for the matrices drawn on them."""
    def nodes(solution: TensorSolution, dot) -> dict[str, dict]:
        boxes: dict[str, dict] = {}
        for n in solution.trace.nodes:
            label, shape = _label(solution, n.name), shape_text(n.shape)
            # As for scalars: a gate of one operation is labelled with it and named above;
            # a larger gate, and an input, by its name.
            name_label = name_text(n.name) if n.op is not None else None
            total = texts.totals[n.name]
            w, h = max(label.width, shape.width) + 20, 42.0
            kind = "input" if n.kind == "input" else ("gate" if n.op else "formula")
            boxes[n.name] = dict(kind=kind, shape="box", w=w, h=h, rx=9.0 if n.op else 6.0,
                                 label=label, name_label=name_label)
            box_w = max(w + 2 * ARROW, (total.width if total else 0.0) + 6,
                        (name_label.width if name_label else 0.0) + 4)
            # The operands of one operation that does not commute in slot order, as for
            # scalars: W above x in W @ x.
            ordered = n.op is not None and (n.op not in PRIMITIVES or
                                            not PRIMITIVES[n.op].commutative)
            dot.add_node(n.name, width=_inches(box_w),
                         height=_inches(h + 2 * max(LINE, (total.height if total else 0.0)
                                                    + 8)),
                         **({"ordering": "in"} if ordered else {}))
        return boxes

    def label(source: str, target: Optional[str], slot: Optional[int]
              ) -> tuple[float, float]:
        value, grad = texts.values[source], texts.edge_grad(source, target, slot)
        grad_w, grad_h = (grad.width, grad.height) if grad is not None else (0.0, 0.0)
        return (max(value.width, grad_w, MIN_LABEL) + 8, 2 * max(value.height, grad_h) + 14)

    lay = layout(solution, Sizes(nodes, label))  # type: ignore[arg-type]
    return lay, {n.name: shape_text(n.shape) for n in solution.trace.nodes}


class _Texts:
    """Every matrix a problem's figures draw, made once."""

    def __init__(self, solution: TensorSolution):
        d, trace = solution.precision, solution.trace
        self.values = {n.name: matrix(n.value, n.shape, d) for n in trace.nodes}
        self.totals = {n.name: None if n.name in trace.constants else
                       matrix(n.grad, n.shape, d, grad=True) for n in trace.nodes}
        self.steps = {(s.node, s.source, s.slot): s for s in trace.backward}
        self.shapes = {n.name: n.shape for n in trace.nodes}
        self.d = d
        self._grads: dict = {}

    def edge_grad(self, source: str, target: Optional[str], slot: Optional[int]
                  ) -> Optional[Matrix]:
        key = (source, target, slot)
        if key not in self._grads:
            if target is None:
                from ...core.tensor import array

                self._grads[key] = matrix(array(1.0), (), self.d, grad=True)
            else:   # an edge out of data has no step: no gradient flows along it
                s = self.steps.get(key)
                self._grads[key] = None if s is None else matrix(
                    s.contribution, self.shapes[source], self.d, grad=True, path=s.path)
        return self._grads[key]


def tensor_figures(solution: TensorSolution) -> dict[str, Content]:
    """The figures of a problem of vectors and matrices (file name -> content), as
    :func:`tracer.exporters.figures.figures` makes them for scalars."""
    from . import FIGURE_NAMES, MAX_TIKZ_PT
    from .drawing import TensorDrawing

    if len(solution.trace.nodes) > MAX_LAYOUT_NODES:
        return {}
    texts = _Texts(solution)
    lay, shapes = tensor_layout(solution, texts)
    out: dict[str, Content] = {}
    svg = TensorDrawing(solution, lay, texts, shapes, "tensor.svg")
    for kind in FIGURE_NAMES:
        out[f"{kind}.svg"] = svg.render(svg.frame(kind), *svg.picture_parts(kind))
    for name, (_, picture) in zip(frame_names(solution), svg.steps()):  # type: ignore
        out[name] = picture
    if max(lay.width, lay.height) * TIKZ_UNIT <= MAX_TIKZ_PT:
        tikz = TensorDrawing(solution, lay, texts, shapes, "tensor.tikz.tex", unit=TIKZ_UNIT)
        for kind in FIGURE_NAMES:
            out[f"{kind}.tikz.tex"] = tikz.render(tikz.frame(kind), *tikz.picture_parts(kind),
                                                  natural=num(lay.width * TIKZ_UNIT))
    return out
