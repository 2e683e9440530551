"""The drawing of the figures of a problem of vectors and matrices: the figures' own
machinery (:class:`tracer.exporters.figures._Drawing`: parts drawn once, step frames
changing only what a step touches) with matrices for numbers, a shape on every node and,
where no numbers are shown, on every edge."""
from __future__ import annotations

from typing import Optional

from ...view.tensor_solution import TensorSolution
from . import COLOURS, _Drawing
from .layout import Layout
from .text import Text

__all__ = ["TensorDrawing"]


class TensorDrawing(_Drawing):
    """Every figure of one problem of vectors and matrices."""

    def __init__(self, solution: TensorSolution, lay: Layout, texts, shapes: dict[str, Text],
                 templates: str, **extra):
        self._texts = texts
        super().__init__(solution, lay, templates, **extra)  # type: ignore[arg-type]
        self.edge_shapes = [shapes[g.source] for g in self.geoms]
        self.node_shapes = [shapes[box.name] for box in lay.nodes]

    def _numbers(self, solution) -> tuple[list, list, list]:
        """Each edge's value and contribution and each node's total, as matrices."""
        texts = self._texts
        return ([texts.values[g.source] for g in self.geoms],
                [texts.edge_grad(g.source, g.target, g.slot) for g in self.geoms],
                [texts.totals[box.name] for box in self.lay.nodes])

    def edge(self, i: int, numbers: bool, grad: bool, highlight: bool) -> str:
        """Edge ``i``: its line, and its value and gradient as matrices, or its shape when
        no numbers are shown."""
        key = ("edge", i, numbers, grad, highlight)
        drawn = self._drawn.get(key)
        if drawn is None:
            g, m = self.geoms[i], self._edge
            parts = [self._part(("stroke", i, highlight), m.stroke, g, highlight, COLOURS)]
            if numbers:
                parts.append(self._part(("value", i), m.value, g, self.values[i], COLOURS))
            else:
                parts.append(self._part(("shape", i), m.shape, g, self.edge_shapes[i],
                                        COLOURS))
            if grad and self.grads[i] is not None:
                parts.append(self._part(("grad", i, highlight), m.grad, g, self.grads[i],
                                        highlight, COLOURS))
            drawn = self._drawn[key] = m.edge(g, highlight, parts)
        return drawn

    def node(self, j: int, total: bool, highlight: bool, _extra: Optional[dict] = None) -> str:
        """Node ``j`` with its shape, with or without its total gradient (a matrix)."""
        key = ("node", j, total, highlight)
        drawn = self._drawn.get(key)
        if drawn is None:
            b, m = self.lay.nodes[j], self._node
            parts = [self._part(("shape", j, highlight), m.shape, b, highlight, COLOURS,
                                **self.extra),
                     self._part(("labels", j), m.labels, b, self.node_shapes[j], COLOURS)]
            if total and self.totals[j] is not None:
                parts.append(self._part(("total", j), m.total, b, self.totals[j], COLOURS))
            drawn = self._drawn[key] = m.node(b, highlight, parts)
        return drawn
