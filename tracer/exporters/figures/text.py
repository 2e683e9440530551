"""Text in the figures: what a label says (names with subscripts, numbers with a true
minus sign, an operation's symbol) and how wide it is estimated to be, for SVG runs and
the TikZ math of the same label."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from ...core.engine import NodeTrace
from ...core.expr import Call, Const, Var
from ...notation.latex import tex_symbol
from ...notation.numbers import fmt, fmt_tex, format_const
from ...notation.svg import TABLE, name_parts

__all__ = ["Run", "Text", "name_text", "number_text", "op_text", "FONT", "NAME_FONT",
           "OP_FONT", "CHAR", "LINE", "ARROW", "MARGIN", "MIN_LABEL", "RANKSEP", "NODESEP",
           "IN_WEIGHT", "OUT_WEIGHT", "TIKZ_UNIT"]

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


def name_text(name: str, size: float = NAME_FONT) -> Text:
    """A node's name, with subscripts."""
    return _text(name_parts(name), f"${tex_symbol(name)}$", size)


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
    style = "i" if grad else ""
    mant, _, exp = fmt(value, digits).replace("-", "\u2212").partition("e")
    # The power of ten as the formulas write it: 2.805×10⁻⁵, a superscript, not 2.805e-5.
    parts = [(mant + "\u00d710", style), (exp, "sup" + style)] if exp else [(mant, style)]
    tex = fmt_tex(value, digits)
    if path is not None:
        parts[0] = (f"[{path}] {parts[0][0]}", style)
        tex = rf"[{path}]\;{{{tex}}}"
    if grad:
        tex = rf"\mathit{{{tex}}}"
    return _text(parts, f"${tex}$", size, data=exact)


# ----------------------------------------------------------------------------- operations

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
    expr = node.expr
    if node.op is None or not isinstance(expr, Call):
        return name_text(node.name, OP_FONT)
    form = TABLE[node.op]
    args = expr.args
    if form.kind == "power":
        return _power_text(*args)
    if form.kind == "infix":
        return _infix_text(node.op, form.text, form.tex, args)
    if form.kind == "prefix":
        return _text([(form.text, ""), ("x", "i")], f"${form.tex}$", OP_FONT)
    if form.kind == "bars":
        return _text([(form.text, ""), ("x", "i"), (form.text, "")], f"${form.tex}$", OP_FONT)
    if any(isinstance(a, Const) for a in args):  # max(x, 0): the constant is part of it
        parts: list[tuple[str, str]] = [(form.text + "(", "")]
        texs = []
        for i, a in enumerate(args):
            c_text, c_tex = _const(a.value) if isinstance(a, Const) else ("x", "x")
            parts += [(", " if i else "", ""), (c_text, "" if isinstance(a, Const) else "i")]
            texs.append(c_tex)
        return _text(parts + [(")", "")], f"${form.tex}({', '.join(texs)})$", OP_FONT)
    return _text([(form.text, "")], f"${form.tex}$", OP_FONT)


def _power_text(a, b) -> Text:
    base = _const(a.value) if isinstance(a, Const) else ("x", "x")
    exp_ = _const(b.value) if isinstance(b, Const) else ("y", "y")
    if isinstance(a, Var) and isinstance(b, Var):
        base, exp_ = ("x", "x"), ("y", "y")
    return _text([(base[0], "" if isinstance(a, Const) else "i"),
                  (exp_[0], "sup" if isinstance(b, Const) else "supi")],
                 f"${base[1]}^{{{exp_[1]}}}$", OP_FONT)


def _infix_text(op: str, symbol: str, tex: str, args) -> Text:
    consts = [a for a in args if isinstance(a, Const)]
    if not consts:
        return _text([(symbol, "")], f"${tex}$", OP_FONT)
    c_text, c_tex = _const(consts[0].value)
    if isinstance(args[0], Const) and op in ("sub", "div"):
        mark, mark_tex = ("\u2212", "-") if op == "sub" else ("/", "/")
        return _text([(c_text, ""), (mark, ""), ("x", "i")], f"${c_tex}{mark_tex}x$", OP_FONT)
    if consts[0].value < 0 and op in ("add", "mul"):
        c_text, c_tex = f"({c_text})", f"({c_tex})"
    return _text([(symbol + c_text, "")], f"${tex}{c_tex}$", OP_FONT)
