"""Figure notation: how each primitive is labelled inside its gate (SVG text and the TikZ
math of the same label), as on a circuit diagram: ``+``, ``×3``, ``x²``, ``σ``.

``TABLE`` has one entry per primitive: ``kind`` says how the label is put together
(an infix symbol that may carry a constant operand, a power, a prefix such as ``−x`` or
``√x``, bars ``|x|``, or a function name), ``text`` is the Unicode text and ``tex`` its
LaTeX.  Imports only the rest of notation.
"""
from __future__ import annotations

from dataclasses import dataclass

from .names import component_parts, greek, split_name

__all__ = ["SvgForm", "TABLE", "TENSOR_TABLE", "HADAMARD", "name_parts"]


@dataclass(frozen=True)
class SvgForm:
    """A primitive's label: ``kind`` is "infix", "power", "prefix", "bars" or "function"."""

    kind: str
    text: str = ""
    tex: str = ""


TABLE: dict[str, SvgForm] = {
    "add": SvgForm("infix", "+", "+"),
    "sub": SvgForm("infix", "\u2212", "-"),
    "mul": SvgForm("infix", "\u00d7", r"\times"),
    "div": SvgForm("infix", "\u00f7", r"\div"),
    "pow": SvgForm("power"),
    "neg": SvgForm("prefix", "\u2212", "-x"),
    "sqrt": SvgForm("prefix", "\u221a", r"\sqrt{x}"),
    "abs": SvgForm("bars", "|", "|x|"),
    "exp": SvgForm("function", "exp", r"\exp"),
    "log": SvgForm("function", "ln", r"\ln"),
    "sin": SvgForm("function", "sin", r"\sin"),
    "cos": SvgForm("function", "cos", r"\cos"),
    "tan": SvgForm("function", "tan", r"\tan"),
    "tanh": SvgForm("function", "tanh", r"\tanh"),
    "sigmoid": SvgForm("function", "\u03c3", r"\sigma"),
    "softplus": SvgForm("function", "softplus", r"\mathrm{softplus}"),
    "relu": SvgForm("function", "relu", r"\mathrm{relu}"),
    "leaky_relu": SvgForm("function", "lrelu", r"\mathrm{lrelu}"),
    "clip": SvgForm("function", "clip", r"\mathrm{clip}"),
    "max": SvgForm("function", "max", r"\max"),
    "min": SvgForm("function", "min", r"\min"),
    "step": SvgForm("function", "step", r"\mathrm{step}"),
    "sign": SvgForm("function", "sign", r"\mathrm{sign}"),
    "heaviside": SvgForm("function", "H", "H"),
}

#: The labels of the operations of vectors and matrices (tracer.core.tensor_ops).
TENSOR_TABLE: dict[str, SvgForm] = {
    "matmul": SvgForm("infix", "@", "@"),
    "transpose": SvgForm("function", "\u1d40", r"{}^{\top}"),
    "sum": SvgForm("function", "\u03a3", r"\Sigma"),
    "mean": SvgForm("function", "mean", r"\mathrm{mean}"),
    "dot": SvgForm("function", "dot", r"\mathrm{dot}"),
    "outer": SvgForm("function", "outer", r"\mathrm{outer}"),
    "softmax": SvgForm("function", "softmax", r"\mathrm{softmax}"),
    "log_softmax": SvgForm("function", "log softmax", r"\log\mathrm{softmax}"),
    "mse": SvgForm("function", "MSE", r"\mathrm{MSE}"),
    "cross_entropy": SvgForm("function", "CE", r"\mathrm{CE}"),
    "ones": SvgForm("function", "1", r"\mathbf{1}"),
    "sum_rows": SvgForm("function", "\u03a3 rows", r"\Sigma_{\mathrm{rows}}"),
    "onehot": SvgForm("function", "e", r"\mathbf{e}"),
}
#: A product entry by entry of two vectors or matrices.
HADAMARD = SvgForm("infix", "\u2299", r"\odot")


def name_parts(name: str) -> list[tuple[str, str]]:
    """A variable name as runs of (text, role), following
    :func:`tracer.notation.latex.tex_symbol`: ``x1`` is x with the subscript 1, ``w_out``
    is w with the subscript out, ``alpha`` is α, ``W1_1_4`` is (W₁) with the subscript 1,4.
    Roles: "i" italic, "sub" subscript, "" upright."""
    component = component_parts(name)
    if component is not None:
        base, indices = component
        head = name_parts(base)
        if split_name(base)[1]:
            head = [("(", "")] + head + [(")", "")]
        return head + [(",".join(indices), "sub")]
    base, sub = split_name(name)
    if not base:
        return [(name, "i")]
    letter = greek(base) if len(base) > 1 else None
    head = [(letter[1] if letter else base, "i")]
    if not sub:
        return head
    if "_" in sub:
        return head + [(t, "sub") for t, _ in name_parts(sub)]
    return head + [(sub, "sub")]
