"""The site's display equations, broken into rows that fit a narrow column.

A display formula that is wider than its column is cut off (or scrolls) on a phone.  The
printed documents break their lines themselves (:mod:`.latex`); the Markdown pages get
their rows from here: each equation is written as the rows of an ``aligned`` block, one
side of an ``=`` per row where the whole does not fit, and a side that is still too wide
broken at its top-level ``+`` and ``-`` (then at its ``\\cdot``), the continuation rows
indented under the ``=``.  Widths are estimated from the LaTeX (:func:`width`), in
characters of a 420 px column; the browser test in ``tests/test_equation_width.py`` is
the judge.

Only the layout changes: every number and formula is the one :mod:`.mathtex` wrote.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from .mathtex import TexSolution

__all__ = ["BUDGET", "MdMath", "md_math", "width", "split_top", "equation_rows",
           "matrix_factors"]

#: How wide a row may be, in the units of :func:`width`: about what a 420 px phone shows
#: of a display formula.
BUDGET = 31

Rows = tuple[str, ...]

_RELATIONS = (r"\leftarrow", r"\approx", "=")
_CONTINUE = r"&\quad "


def width(tex: str) -> float:
    """A rough width of a formula, in characters: a fraction as wide as its wider part,
    a command as one character, an operator with its spacing as two, a sub- or
    superscript at two thirds."""
    tex = re.sub(r"\\text\{([^{}]*)\}", lambda m: "x" * int(len(m.group(1)) * 0.8), tex)
    tex = re.sub(r"\\(left|right|bigl|bigr|Bigl|Bigr|mathit|mathrm|operatorname|mathbf"
                 r"|displaystyle|quad|qquad|;|,|!)(?![A-Za-z])", "", tex)
    frac = re.compile(r"\\frac\{([^{}]*(?:\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}[^{}]*)*)\}"
                      r"\{([^{}]*(?:\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}[^{}]*)*)\}")
    while True:
        new = frac.sub(lambda m: "x" * int(round(max(width(m.group(1)),
                                                     width(m.group(2))) + 0.5)), tex)
        if new == tex:
            break
        tex = new
    # Scripts are smaller: count a braced script at two thirds.
    # (an index pair such as 1,2 spreads out: counted whole)
    tex = re.sub(r"[_^]\{([^{}]*)\}", lambda m: "x" * int(round(
        width(m.group(1)) * (1.0 if "," in m.group(1) else 0.7))), tex)
    tex = re.sub(r"\\(cdot|times|leftarrow|approx|to)(?![A-Za-z])", "OO", tex)
    tex = re.sub(r"\\(tanh|sinh|cosh|sin|cos|tan|ln|log|exp|max|min)(?![A-Za-z])",
                 lambda m: m.group(1)[:4], tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    tex = re.sub(r"\s*[+=<>]\s*", "OO", tex)
    tex = re.sub(r"(?<=[\w)}\]])\s*-\s*|-\s+", "OO", tex)
    return float(len(re.sub(r"[{}\s^_&]", "", tex)))


def _unary(before: str) -> bool:
    before = before.rstrip()
    return (not before or before[-1] in "+-=(,[{&"
            or re.search(r"\\(cdot|times|left|approx|leftarrow)$", before) is not None)


def split_top(tex: str, operators: str = "+-") -> list[str]:
    """``tex`` cut before each top-level binary ``+`` or ``-`` (``operators``; ``.``
    stands for ``\\cdot``): outside every group, bracket and ``\\left ... \\right``.  The
    pieces joined with "" give ``tex`` back (up to surrounding spaces)."""
    pieces: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            word = m.group(1) if m else ""
            if word == "cdot" and "." in operators and depth == 0 and tex[start:i].strip():
                pieces.append(tex[start:i].strip())
                start = i
            if word in ("{", "}"):
                pass
            i += len(word) + 1
            continue
        if ch == " " and "*" in operators and depth == 0 and tex[:i].rstrip().endswith(")") \
                and tex[i:].strip()[:1] not in ("", "+", "-", "=", "^", "_", ")", "&", "\\") \
                or ch == " " and "*" in operators and depth == 0 \
                and tex[:i].rstrip().endswith(")") and tex[i:].lstrip().startswith(
                    ("\\left(", "\\sigma", "\\tanh", "\\operatorname", "\\frac", "\\lvert",
                     "\\mathbf", "\\sqrt", "\\ln", "\\sin", "\\cos", "\\tan", "\\max", "\\min")):
            if tex[start:i].strip():
                pieces.append(tex[start:i].strip())
                start = i
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch in operators and ch in "+-" and depth == 0 and not _unary(tex[start:i]):
            if tex[start:i].strip():
                pieces.append(tex[start:i].strip())
                start = i
        i += 1
    pieces.append(tex[start:].strip())
    return [p for p in pieces if p]


def _pack(first: str, pieces: Sequence[str], budget: float) -> list[str]:
    """Pieces put onto rows greedily: the first row starts with ``first`` (its width
    counts), each later row with :data:`_CONTINUE`."""
    rows: list[str] = []
    current = ""
    used = width(first)
    for piece in pieces:
        w = width(piece)
        if current and used + w > budget:
            rows.append(current)
            current, used = "", 3.0
        current = (current + " " + piece).strip()
        used += w
    rows.append(current)
    return rows


def _unwrap(tex: str) -> Optional[tuple[str, str, str]]:
    """A formula wrapped whole in ``\\left( ... \\right)`` or ``( ... )``: (open, inside,
    close), the brackets sized so that they can stand on different rows; else None."""
    for left, right in ((r"\left(", r"\right)"), ("(", ")")):
        if tex.startswith(left) and tex.endswith(right) and _closes_last(tex):
            inside = tex[len(left):-len(right)].strip()
            sized = left.startswith("\\") or r"\frac" in inside
            return ((r"\Bigl(" if sized else r"\bigl("), inside,
                    (r"\Bigr)" if sized else r"\bigr)"))
    return None


def _closes_last(tex: str) -> bool:
    """Whether the first bracket of ``tex`` is closed by its last character only."""
    depth = 0
    opened = False
    for i, ch in enumerate(tex):
        if ch in "([{":
            depth += 1
            opened = True
        elif ch in ")]}":
            depth -= 1
            if opened and depth == 0 and i != len(tex) - 1:
                return False
    return opened and depth == 0


def _side_rows(lead: str, side: str, budget: float) -> list[str]:
    """One side of an equation on as many rows as it needs (the first after ``lead``):
    cut at its top-level ``+`` and ``-``, else at its ``\\cdot``, else inside the
    brackets that wrap it whole; a single piece still too wide stays whole."""
    if width(lead) + width(side) <= budget:
        return [side]
    prefix = re.match(r"(\\cdot|[+-])\s+(?=\S)", side)
    if prefix is not None:
        rows = _side_rows(lead + " " + prefix.group(1), side[prefix.end():], budget)
        rows[0] = prefix.group(1) + " " + rows[0]
        return rows
    for operators in ("+-", ".", "*"):
        pieces = split_top(side, operators)
        if len(pieces) > 1:
            break
    else:
        wrapped = _unwrap(side)
        if wrapped is None:
            return [side]
        open_, inside, close = wrapped
        inner = _side_rows(lead + " " + open_, inside, budget - 1)
        inner[0] = open_ + " " + inner[0]
        inner[-1] = inner[-1] + " " + close
        return inner
    items: list[str] = []
    for piece in pieces:
        head = lead if not items else _CONTINUE
        items.extend(_side_rows(head, piece, budget))
    rows = _pack(lead, items, budget)
    if operators == "*":    # a product broken across rows: each row after the first says so
        rows[1:] = [r if r.startswith(("+", "-", r"\cdot")) else r"\cdot " + r for r in rows[1:]]
    return rows


def equation_rows(lhs: str, sides: Sequence[str], relation: str = "=",
                  budget: float = BUDGET, last: Optional[str] = None,
                  breaks: tuple[int, ...] = ()) -> Rows:
    """``lhs = sides[0] = sides[1] = ...`` as the rows of an ``aligned`` block, aligned
    at the relation: sides share a row while they fit in ``budget``, and the sides
    numbered in ``breaks`` always start a row; ``last`` is the relation before the last
    side (``\\approx`` for a rounded value)."""
    # Every row starts after the left column, as wide as ``lhs``.
    indent = width(lhs)
    rows: list[str] = []
    current = lhs + " &" + relation + " "
    used = indent + 2
    broken = False      # a side broken across rows: the next starts a row of its own
    for k, side in enumerate(sides):
        rel = last if last is not None and k == len(sides) - 1 and k > 0 else relation
        w = width(side) + 2
        if k > 0 and k not in breaks and not broken and used + w <= budget:
            current += f" {rel} {side}"
            used += w
            continue
        if k > 0:
            rows.append(current)
            current = "&" + rel + " "
        parts = _side_rows(rel, side, budget - indent)
        current += parts[0]
        for part in parts[1:]:
            rows.append(current)
            current = _CONTINUE + part
        used = indent + 2 + width(parts[-1])
        broken = len(parts) > 1
    rows.append(current)
    return tuple(rows)


_BETWEEN_MATRICES = re.compile(
    r"(?<=\\end\{bmatrix\})\s+(?=\\begin\{bmatrix\}|\\odot|\\cdot|[+-] )")


def matrix_factors(tex: str) -> Rows:
    """A product or sum of matrices cut between the matrices (each may stand on a row of
    its own); ``(tex,)`` where a cut would fall inside brackets."""
    pieces = _BETWEEN_MATRICES.split(tex)
    if len(pieces) == 1 or not all(
            p.count(r"\left") == p.count(r"\right") and p.count("{") == p.count("}")
            and p.count("(") == p.count(")") for p in pieces):
        return (tex,)
    return tuple(p.strip() for p in pieces)


@dataclass(frozen=True)
class MdMath:
    """The rows of each display equation of a Markdown page (keys: node names, step
    numbers)."""

    function: Optional[Rows]          # None where too wide: the gates are shown instead
    closed_too_wide: bool             # a closed form too wide to show (its page says so)
    definitions: dict[str, Rows]      # the worksheet's gates: symbol = definition
    forward: dict[str, Rows]          # symbol = definition = values = value
    steps: dict[int, Rows]            # one chain-rule step
    sums: dict[str, Rows]             # a gradient collected from its contributions
    sum_numbers: dict[str, Rows]      # the same, its numbers only (the step-through's)
    closed: dict[str, Rows]
    params: dict[str, Rows]           # a gradient-descent step of a parameter
    update_forward: dict[str, Rows]


def fits(lhs: str, rows: Rows, budget: float = BUDGET) -> bool:
    """Whether every row of an equation of :func:`equation_rows` fits in ``budget``."""
    indent = width(lhs)
    return all(width(row) + (0 if k == 0 else indent) <= budget
               for k, row in enumerate(rows))


def _step_rows(s) -> Rows:
    # The formula, then the numbers: a chain rule written out starts a row.
    rows = list(equation_rows(s.grad, s.chain, breaks=(1,) if len(s.chain) > 2 else ()))
    if s.use:
        use = rf"\text{{(use {s.use} of {s.uses})}}"
        if fits(s.grad, tuple(rows[:-1]) + (rows[-1] + r" \quad " + use,)):
            rows[-1] += r" \quad " + use
        else:
            rows.append(_CONTINUE + use)
    return tuple(rows)


def md_math(tex: TexSolution) -> MdMath:
    """The rows of every display of ``tex``'s Markdown pages."""
    def forward(line) -> Rows:
        sides = [line.definition] + ([line.substituted] if line.substituted else []) \
            + [line.value]
        return equation_rows(line.symbol, sides,
                             last=r"\approx" if line.rounded else "=")

    steps = {s.index: _step_rows(s) for s in tex.steps}
    sums = {a.node: equation_rows(a.grad, [" + ".join(a.terms), " + ".join(a.numbers),
                                           a.value]) for a in tex.sums}
    closed = {c.name: equation_rows(c.symbol, [c.formula] + ([c.value] if c.value is not None
                                                            else []))
              for c in tex.closed}
    # A closed form with a factor wider than the column is not shown: the page says why.
    too_wide = not all(fits(c.symbol, closed[c.name]) for c in tex.closed)
    function = equation_rows(tex.output_symbol, [tex.function]) \
        if tex.function is not None else None
    params: dict[str, Rows] = {}
    update_forward: dict[str, Rows] = {}
    if tex.update is not None:
        u = tex.update
        params = {p.name: equation_rows(p.symbol, [f"{p.old} - {u.rate_factor} \\cdot "
                                                   f"{p.grad_factor}", p.new],
                                        relation=r"\leftarrow", last="=")
                  for p in u.params}
        update_forward = {line.name: forward(line) for line in u.forward}
    return MdMath(
        function=function if function is not None and fits(tex.output_symbol, function)
        else None, closed_too_wide=too_wide,
        definitions={g.name: equation_rows(g.symbol, [g.definition]) for g in tex.gates},
        forward={g.name: forward(g) for g in tex.gates}, steps=steps, sums=sums,
        sum_numbers={a.node: equation_rows(a.grad, [" + ".join(a.numbers), a.value])
                     for a in tex.sums},
        closed=closed, params=params, update_forward=update_forward)
