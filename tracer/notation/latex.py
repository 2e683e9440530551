"""LaTeX notation: how each primitive, name, number and derivative is written in math.

``TABLE`` has one entry per primitive: its format over the operands ``{0}``, ``{1}``, how
tightly it binds (``prec``) and how tightly each operand must bind to go without
parentheses (``parens``).  Imports only :mod:`tracer.core` and the rest of notation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Union

from ..core.expr import Call, Const, Expr, Var, fold
from .names import component_parts, greek, split_name
from .numbers import fmt_tex, format_const

__all__ = ["TexForm", "TABLE", "tex_symbol", "tex_leaf", "to_tex", "partial", "factor_tex",
           "needs_parens", "visible_width", "expr_values_tex"]


@dataclass(frozen=True)
class TexForm:
    """A primitive in LaTeX."""

    template: str
    prec: int
    parens: tuple[int, ...]


def _fn(template: str) -> TexForm:
    """A function written f(x): binds tightest, its operand needs no parentheses."""
    return TexForm(template, 100, (0,))


TABLE: dict[str, TexForm] = {
    "add": TexForm("{0} + {1}", 10, (10, 11)),
    "sub": TexForm("{0} - {1}", 10, (10, 11)),
    "mul": TexForm("{0} {1}", 20, (20, 21)),
    "div": TexForm(r"\frac{{{0}}}{{{1}}}", 30, (0, 0)),
    "pow": TexForm("{0}^{{{1}}}", 40, (41, 0)),
    "neg": TexForm("-{0}", 15, (20,)),
    "exp": TexForm("e^{{{0}}}", 40, (0,)),
    "log": _fn(r"\ln({0})"),
    "sin": _fn(r"\sin({0})"),
    "cos": _fn(r"\cos({0})"),
    "tan": _fn(r"\tan({0})"),
    "tanh": _fn(r"\tanh({0})"),
    "sigmoid": _fn(r"\sigma({0})"),
    "softplus": _fn(r"\operatorname{{softplus}}({0})"),
    "relu": _fn(r"\operatorname{{relu}}({0})"),
    # The slope as a subscript: leaky_relu(z, 0.01) is lrelu_{0.01}(z).
    "leaky_relu": TexForm(r"\operatorname{{lrelu}}_{{{1}}}({0})", 100, (0, 0)),
    "clip": TexForm(r"\operatorname{{clip}}({0}, {1}, {2})", 100, (0, 0, 0)),
    "sqrt": _fn(r"\sqrt{{{0}}}"),
    "abs": _fn(r"\lvert {0} \rvert"),
    "max": TexForm(r"\max({0}, {1})", 100, (0, 0)),
    "min": TexForm(r"\min({0}, {1})", 100, (0, 0)),
    "step": _fn(r"\mathbf{{1}}[{0} > 0]"),
    "sign": _fn(r"\operatorname{{sign}}({0})"),
    "heaviside": _fn(r"H({0})"),
}

Leaf = Callable[[Union[Const, Var]], tuple[str, int]]
_LETTER_NUMBER = re.compile(r"[A-Za-z][0-9]+\Z")


def tex_symbol(name: str) -> str:
    """LaTeX for a variable name: ``x1`` -> ``x_{1}``, ``alpha`` -> ``\\alpha``,
    ``w_out`` -> ``w_{\\mathrm{out}}``, ``num`` -> ``\\mathit{num}``; an entry of a vector
    or matrix, ``W1_1_4`` -> ``(W_{1})_{1,4}``."""
    if _LETTER_NUMBER.match(name):  # x1, u12: most names of a large graph
        return f"{name[0]}_{{{name[1:]}}}"
    component = component_parts(name)
    if component is not None:
        base, indices = component
        head = tex_symbol(base)
        if split_name(base)[1]:
            head = "(" + head + ")"
        return f"{head}_{{{','.join(indices)}}}"
    base, sub = split_name(name)
    if not base:
        return r"\mathit{" + name.replace("_", r"\_") + "}"
    letter = greek(base)
    if len(base) == 1:
        head = base
    elif letter is not None:
        head = letter[0]
    else:
        head = r"\mathit{" + base + "}"
    if not sub:
        return head
    if sub.isdigit():
        return f"{head}_{{{sub}}}"
    inner = tex_symbol(sub) if "_" in sub else r"\mathrm{" + sub + "}"
    return head + "_{" + inner + "}"


def _wrap(text: str, prec: int, need: int) -> str:
    if prec >= need:
        return text
    if r"\frac" in text or r"\sqrt" in text:
        return r"\left(" + text + r"\right)"
    return "(" + text + ")"


def _negated(arg: Expr) -> bool:
    """Whether an operand is written with a leading minus of its own: -b or a negative
    number in the problem (not a name whose value happens to be negative)."""
    return (isinstance(arg, Call) and arg.op == "neg") or (isinstance(arg, Const) and arg.value < 0)


def to_tex(expr: Expr, leaf: Optional[Leaf] = None) -> str:
    """LaTeX for ``expr``; ``leaf`` gives (text, precedence) for names and numbers, so the same
    printer writes ``x_{1} + x_{2}`` and, with values, ``-7 + 2``."""
    leaf = leaf or tex_leaf

    def call(node: Call, args: list[tuple[str, int]]) -> tuple[str, int]:
        if node.op in ("add", "sub") and _negated(node.args[1]) and args[1][0].startswith("-"):
            # a + (-b) reads a - b; a - (-b) keeps its parentheses, never a - -b.
            left = _wrap(*args[0], TABLE["add"].parens[0])
            if node.op == "add":
                return left + " - " + args[1][0][1:].lstrip(), TABLE["sub"].prec
            return left + " - " + _wrap(args[1][0], 0, 1), TABLE["sub"].prec
        form = TABLE[node.op]
        parts = [_wrap(t, p, need) for (t, p), need in zip(args, form.parens)]
        if node.op == "mul" and _needs_dot(parts[0], parts[1]):
            return parts[0] + r" \cdot " + parts[1], form.prec
        return form.template.format(*parts), form.prec

    return fold(expr, leaf, call)[0]  # type: ignore[index]


def _needs_dot(left: str, right: str) -> bool:
    # Juxtaposition reads as a product for symbols (u x_3) but not for numbers (4 -2), nor
    # for a name times itself (b b).
    first = right.lstrip()[:1]
    return first.isdigit() or first in "-." or left == right or \
        (left.rstrip()[-1:].isdigit() and first == "(")


def tex_leaf(leaf: Union[Const, Var]) -> tuple[str, int]:
    """(LaTeX, precedence) of a name or a number, as :func:`to_tex` prints them."""
    if isinstance(leaf, Var):
        return tex_symbol(leaf.name), 100
    text = format_const(leaf.value)
    if "e" in text:
        mant, _, exp = text.partition("e")
        text = rf"{mant} \times 10^{{{int(exp)}}}"
        return text, 20
    return text, (15 if leaf.value < 0 else 100)


def expr_values_tex(expr: Expr, values: dict[str, float], digits: int) -> str:
    """An expression in LaTeX with every name replaced by its value: ``-7 + 2``."""
    def leaf(node):
        v = values[node.name] if isinstance(node, Var) else node.value
        # A negative number binds like a sum: bracketed after + and - and in products.
        return fmt_tex(v, digits), (10 if v < 0 else 100)

    # Two bracketed numbers side by side, (-5) (-2), read better with the product written.
    return re.sub(r"\) \(", r") \\cdot (", to_tex(expr, leaf))


def partial(out: str, node: str, path: Optional[int] = None) -> str:
    """∂out/∂node, with the contribution label [k] on the numerator."""
    label = f"^{{[{path}]}}" if path is not None else ""
    return rf"\frac{{\partial {tex_symbol(out)}{label}}}{{\partial {tex_symbol(node)}}}"


def needs_parens(tex: str) -> bool:
    """Whether a formula must be parenthesised as a factor: it starts with a minus sign or
    has a sum or difference outside any group."""
    tex = tex.strip()
    if tex.startswith("-"):
        return True
    depth = 0
    for i, ch in enumerate(tex):
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch in "+-" and depth == 0 and i > 0:
            return True
    return False


def factor_tex(tex: str) -> str:
    """A formula or number ready to stand as a factor of a product."""
    if not needs_parens(tex) and r"\times" not in tex:
        return tex
    if r"\frac" in tex:
        return r"\left(" + tex + r"\right)"
    return "(" + tex + ")"


def visible_width(tex: str) -> int:
    """A rough count of the characters a formula shows, to decide where to break it."""
    tex = re.sub(r"\\frac\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}",
                 lambda m: "x" * max(visible_width(m.group(1)), visible_width(m.group(2))),
                 tex)
    tex = re.sub(r"\\(left|right|mathit|mathrm|operatorname|mathbf)", "", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return len(re.sub(r"[{}\s^_]", "", tex))
