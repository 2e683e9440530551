r"""LaTeX of vectors and matrices: the operations of :mod:`tracer.core.tensor_ops`, products
written by the shapes of their operands, values as ``bmatrix``.

A product of two vectors or matrices entry by entry is ``a \odot b``; a scalar times anything
is written side by side (``0.5 g``), as is a matrix product (``W_{1} x``).  ``transpose(W)``
is ``W^{\top}``, ``outer(g, x)`` is ``g x^{\top}``, ``dot(a, b)`` is ``a^{\top} b``.  Vectors
are columns; a transposed vector's values are written as a row.

``TABLE`` has one entry per operation of :mod:`tracer.core.tensor_ops` (tests/test_notation.py
names any missing); the functions of the table of primitives keep their LaTeX
(:mod:`tracer.notation.latex`).  Imports only :mod:`tracer.core` and the rest of notation.
"""
from __future__ import annotations

from typing import Callable, Mapping, Optional, Sequence, Union

from ..core.expr import Call, Const, Expr, Var, fold
from ..core.tensor_ops import Shape, ShapeError, result_shape
from .latex import TABLE as SCALAR, TexForm, _needs_dot, _wrap, tex_leaf, visible_width
from .numbers import fmt_tex

__all__ = ["TABLE", "tensor_tex", "matrix_tex", "shape_tex", "blank_matrix_tex",
           "matrix_width"]

TABLE: dict[str, TexForm] = {
    "matmul": TexForm("{0} {1}", 20, (20, 21)),
    "transpose": TexForm("{0}^{{\\top}}", 40, (41,)),
    "sum": TexForm(r"\sum {0}", 21, (20,)),
    "mean": TexForm(r"\operatorname{{mean}}({0})", 100, (0,)),
    "dot": TexForm("{0}^{{\\top}} {1}", 20, (41, 21)),
    "outer": TexForm("{0} {1}^{{\\top}}", 20, (20, 41)),
    "softmax": TexForm(r"\operatorname{{softmax}}({0})", 100, (0,)),
    "log_softmax": TexForm(r"\log \operatorname{{softmax}}({0})", 100, (0,)),
    "mse": TexForm(r"\operatorname{{MSE}}({0}, {1})", 100, (0, 0)),
    "cross_entropy": TexForm(r"\operatorname{{CE}}({0}, {1})", 100, (0, 0)),
    "ones": TexForm(r"\mathbf{{1}}", 100, (0,)),
    "sum_rows": TexForm(r"\sum_{{\mathrm{{rows}}}} {0}", 21, (20,)),
    "onehot": TexForm(r"\mathbf{{e}}_{{{0}}}", 100, (0, 0)),
}
#: A product entry by entry of two vectors or matrices.
HADAMARD = TexForm(r"{0} \odot {1}", 20, (20, 21))

Leaf = Callable[[Union[Const, Var]], tuple[str, int]]


def tensor_tex(expr: Expr, shapes: Mapping[str, Shape], leaf: Optional[Leaf] = None) -> str:
    """LaTeX for ``expr`` whose names have ``shapes``; ``leaf`` gives (text, precedence) of
    names and numbers (default: their symbols), so the same printer writes a rule and the
    rule with its values put in."""
    leaf = leaf or tex_leaf

    def on_leaf(node):
        text, prec = leaf(node)
        shape = shapes.get(node.name, ()) if isinstance(node, Var) else ()
        return text, prec, shape, node

    def call(node: Call, args: list) -> tuple:
        shape = _shape(node, args)
        if node.op == "mul" and args[0][2] != () and args[1][2] != ():
            form = HADAMARD
        else:
            form = TABLE.get(node.op) or SCALAR[node.op]
        needs = list(form.parens)
        if form is SCALAR["mul"] and args[0][2] == ():
            needs[1] = form.prec      # a scalar factor commutes: 0.5 g (y - t) reads as one
        parts = [_wrap_tall(t, p, need) for (t, p, _, _), need in zip(args, needs)]
        if node.op == "onehot":      # a class index counted from 0, as the problem writes it
            parts[0] = args[0][0]
        if form is SCALAR["mul"] and _needs_dot(parts[0], parts[1]):
            return parts[0] + r" \cdot " + parts[1], form.prec, shape, node
        template = form.template
        if "({0})" in template and "bmatrix" in parts[0]:
            template = template.replace("({0})", r"\left({0}\right)")
        if "({0}, {1})" in template and any("bmatrix" in p for p in parts):
            template = template.replace("({0}, {1})", r"\left({0}, {1}\right)")
        return template.format(*parts), form.prec, shape, node

    return fold(expr, on_leaf, call)[0]  # type: ignore[index]


def _wrap_tall(text: str, prec: int, need: int) -> str:
    if prec < need and "bmatrix" in text:
        return r"\left(" + text + r"\right)"
    return _wrap(text, prec, need)


def _shape(node: Call, args: list) -> Optional[Shape]:
    """The node's shape where its operands' are known and fit; a product of a column and a
    row written out (``g x^{\\top}`` with values) is not a matrix product numpy would take,
    and only needs to be known as not a scalar."""
    shapes = [a[2] for a in args]
    if any(s is None for s in shapes):
        return None
    constants = [a[3].value if isinstance(a[3], Const) else None for a in args]
    try:
        return result_shape(node.op, shapes, ["a", "b"][:len(args)], constants)
    except ShapeError:
        return None


def matrix_width(tex: str) -> int:
    """A rough count of the characters a formula with matrices shows across: a matrix
    counts as its widest row."""
    import re

    def widest(match) -> str:
        rows = match.group(1).split(r"\\")
        return "x" * max(len(re.sub(r"[\s&{}]|\\[a-z]+", "", r)) + 2 * r.count("&")
                         for r in rows)

    flat = re.sub(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", widest, tex)
    return visible_width(flat)


def matrix_tex(value, digits: int, row: bool = False) -> str:
    """A number, or a vector (a column; a row when ``row``) or matrix as a ``bmatrix``."""
    rows = _rows(value, row)
    if rows is None:
        return fmt_tex(float(value), digits)
    body = r" \\ ".join(" & ".join(fmt_tex(v, digits) for v in r) for r in rows)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def _rows(value, row: bool) -> Optional[Sequence[Sequence[float]]]:
    data = value.tolist() if hasattr(value, "tolist") else value
    if not isinstance(data, list):
        return None
    if data and isinstance(data[0], list):
        return data
    return [data] if row else [[v] for v in data]


def blank_matrix_tex(shape: Shape, width: str) -> str:
    """A box to write each entry in: one box, or a ``bmatrix`` of them (vectors as
    columns); ``width`` is the text a box is as wide as."""
    box = r"\boxed{\phantom{" + width + "}}"
    if not shape:
        return box
    rows = [[box] * shape[1] for _ in range(shape[0])] if len(shape) == 2 else \
        [[box] for _ in range(shape[0])]
    # Space between the rows, so that the boxes do not touch.
    return r"\begin{bmatrix} " + r" \\[0.3em] ".join(" & ".join(r) for r in rows) + \
        r" \end{bmatrix}"


def shape_tex(shape: Shape, row: bool = False) -> str:
    r"""A shape as rows times columns: ``2 \times 4``; a vector is a column (a row when
    ``row``), a scalar ``1 \times 1``."""
    if not shape:
        return r"1{\times}1"
    if len(shape) == 1:
        return rf"1{{\times}}{shape[0]}" if row else rf"{shape[0]}{{\times}}1"
    return rf"{shape[0]}{{\times}}{shape[1]}"
