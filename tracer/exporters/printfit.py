r"""How a TikZ figure is printed so that none of its text is smaller than :data:`MIN_TEXT_PT`.

A figure (``*.tikz.tex``, :mod:`tracer.exporters.figures`) scales its text together with its
lines.  Scaled to the width of an A4 page, a mid-size graph's subscripts came out at 3 pt.
So the scale of a printed figure never goes below ``MIN_TEXT_PT / smallest font`` of the
figure, and :func:`placement` picks the first of these that keeps to it:

* ``portrait``: on the page, shrunk to the line width and the page height if need be;
* ``landscape``: on a page of its own, turned;
* ``tiles``: cut into at most :data:`MAX_TILES` overlapping parts, a page each;
* ``omitted``: left out (the template says why and points to the web figure).

The smallest font is read from the figure's source: each ``\node`` sets its ``font=``
(``\normalsize``, ``\large``, ...) and its math; a sub- or superscript is set one math size
smaller (:data:`SIZES`, as the preamble's ``\DeclareMathSizes`` makes them).  The page
sizes are those of ``templates/latex/preamble_shared.tex.j2`` (A4, 11 pt, margins 2 cm).
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Optional

__all__ = ["MIN_TEXT_PT", "SIZES", "FigureSize", "Tile", "Placement", "figure_size",
           "smallest_font", "placement", "scale_text", "breakable", "PORTRAIT", "LANDSCAPE",
           "MAX_TILES", "OVERLAP_PT", "print_plan"]

#: No text in a PDF is set smaller than this (pt).
MIN_TEXT_PT = 7.0

#: Font size switch -> (text, script, scriptscript) in pt, for the 11 pt article class with
#: the preamble's \DeclareMathSizes (which lift every scriptscript size to 7 pt).
SIZES = {
    "tiny": (6.0, 5.0, 5.0),         # (below the minimum: no figure uses it)
    "scriptsize": (8.0, 7.0, 7.0),
    "footnotesize": (9.0, 7.0, 7.0),
    "small": (10.0, 7.0, 7.0),
    "normalsize": (10.95, 8.0, 7.0),
    "large": (12.0, 8.0, 7.0),
    "Large": (14.4, 10.0, 7.0),
    "LARGE": (17.28, 12.0, 7.0),
}

#: The room for a figure (width, height in pt) on a portrait page: the text block of A4
#: with margins of 2 cm (483.7 pt x 731.2 pt) less four lines (13.6 pt) for a heading
#: and the space around the figure.
PORTRAIT = (483.69, 731.23 - 4 * 13.6)
#: On a landscape page (the text block turned), less three lines for the part's caption.
LANDSCAPE = (731.23, 483.69 - 3 * 13.6)
#: The most parts a figure is cut into; a larger one is left out.
MAX_TILES = 4
#: Parts overlap by this much of the figure (pt before scaling), so that a label cut by
#: one part's edge is whole in its neighbour.
OVERLAP_PT = 60.0


@dataclass(frozen=True)
class FigureSize:
    """A TikZ figure's natural size (pt, before scaling), its unit (pt per figure unit)
    and the smallest font of its text (pt)."""

    width: float
    height: float
    unit: float
    smallest: float


@dataclass(frozen=True)
class Tile:
    """One part of a figure cut into parts: its place in the grid (from 1) and the clip
    rectangle in figure units."""

    number: int
    row: int
    column: int
    clip: str       # "(x0,y0) rectangle (x1,y1)"


@dataclass(frozen=True)
class Placement:
    """How one figure is printed: ``mode`` is ``portrait``, ``landscape``, ``tiles`` or
    ``omitted``; ``scale`` the factor its text and lines are scaled by; ``smallest`` the
    smallest font after scaling (pt); for ``tiles``, the parts and whether they are on
    landscape pages; for ``omitted``, the smallest font it would have had on a page."""

    mode: str
    scale: float
    smallest: float
    tiles: tuple[Tile, ...] = ()
    rows: int = 1
    columns: int = 1
    turned: bool = False

    @property
    def scale_s(self) -> str:
        """The scale as written into the document: rounded up to four decimals, so that
        no text comes out smaller than computed."""
        return f"{math.ceil(self.scale * 10000) / 10000:.4f}"

    @property
    def smallest_s(self) -> str:
        return f"{self.smallest:.1f}"

    @property
    def min_text_s(self) -> str:
        """:data:`MIN_TEXT_PT`, for the sentence saying why a figure is cut or left out."""
        return f"{MIN_TEXT_PT:g}"

    @property
    def max_tiles(self) -> int:
        return MAX_TILES


_NODE = re.compile(r"\\node\[([^\]]*)\][^{]*\{(.*)\};\s*$", re.M)
_FONT = re.compile(r"font=\\(\w+)")


def scale_text(tex: str, level: int = 0) -> int:
    """The deepest math script level in ``tex``: 0 for text, 1 for a sub- or superscript
    (or a fraction's parts in text style), 2 for a script within a script."""
    deepest = level
    i, n = 0, len(tex)
    while i < n:
        ch = tex[i]
        if ch in "_^":
            j, arg = _argument(tex, i + 1)
            deepest = max(deepest, scale_text(arg, level + 1))
            i = j
            continue
        if tex.startswith(("\\frac", "\\tfrac"), i):
            j = i + (5 if tex.startswith("\\frac", i) else 6)
            for _ in range(2):
                j, arg = _argument(tex, j)
                deepest = max(deepest, scale_text(arg, level + 1))
            i = j
            continue
        if tex.startswith(("\\scriptstyle", "\\scriptscriptstyle"), i):
            deepest = max(deepest, level + (2 if tex.startswith("\\scriptscript", i) else 1))
        i += 1
    return deepest


def _argument(tex: str, i: int) -> tuple[int, str]:
    """The TeX argument starting at ``i`` (after spaces): (end, its text)."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return i, ""
    if tex[i] == "{":
        depth = 0
        for j in range(i, len(tex)):
            if tex[j] == "{":
                depth += 1
            elif tex[j] == "}":
                depth -= 1
                if depth == 0:
                    return j + 1, tex[i + 1:j]
        return len(tex), tex[i + 1:]
    if tex[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
        assert m is not None
        return i + m.end(), m.group(0)
    return i + 1, tex[i]


def smallest_font(tikz: str) -> float:
    """The smallest font (pt) of the text of a TikZ picture, before scaling."""
    smallest = math.inf
    for m in _NODE.finditer(tikz):
        font = _FONT.search(m.group(1))
        sizes = SIZES.get(font.group(1) if font else "normalsize", SIZES["normalsize"])
        level = min(scale_text(m.group(2)), 2)
        smallest = min(smallest, sizes[level])
    return smallest if smallest != math.inf else SIZES["normalsize"][0]


_UNIT = re.compile(r"x=([\d.]+)pt")
_BOX = re.compile(r"\\useasboundingbox \(0,0\) rectangle \(([\d.]+),([\d.]+)\);")


def figure_size(tikz: str) -> Optional[FigureSize]:
    """The size of a figure of :mod:`tracer.exporters.figures`, read from its source
    (None when it is not one)."""
    unit, box = _UNIT.search(tikz), _BOX.search(tikz)
    if unit is None or box is None:
        return None
    u = float(unit.group(1))
    return FigureSize(float(box.group(1)) * u, float(box.group(2)) * u, u,
                      smallest_font(tikz))


def _fit(size: FigureSize, room: tuple[float, float]) -> float:
    return min(1.0, room[0] / size.width, room[1] / size.height)


def _grid(length: float, room: float) -> int:
    """How many overlapping parts cut ``length`` into pieces of at most ``room``."""
    if length <= room:
        return 1
    return math.ceil((length - OVERLAP_PT) / (room - OVERLAP_PT))


def placement(size: FigureSize) -> Placement:
    """How the figure of this size is printed (see the module's docstring)."""
    least = min(1.0, MIN_TEXT_PT / size.smallest)
    for mode, room in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
        scale = _fit(size, room)
        if scale >= least:
            return Placement(mode, scale, size.smallest * scale)
    best = None
    for turned, room in ((False, PORTRAIT), (True, LANDSCAPE)):
        w, h = room[0] / least, room[1] / least        # the room in unscaled pt
        columns, rows = _grid(size.width, w), _grid(size.height, h)
        if best is None or columns * rows < best[0] * best[1]:
            best = (columns, rows, turned, w, h)
    assert best is not None
    columns, rows, turned, w, h = best
    if columns * rows > MAX_TILES:
        return Placement("omitted", _fit(size, PORTRAIT), size.smallest * _fit(size, PORTRAIT))
    tiles = []
    for r in range(rows):
        for c in range(columns):
            x0, y0 = _start(c, columns, size.width, w), _start(r, rows, size.height, h)
            x1, y1 = min(size.width, x0 + w), min(size.height, y0 + h)
            u = size.unit
            tiles.append(Tile(len(tiles) + 1, r + 1, c + 1,
                              f"({x0 / u:.2f},{y0 / u:.2f}) rectangle "
                              f"({x1 / u:.2f},{y1 / u:.2f})"))
    return Placement("tiles", least, size.smallest * least, tuple(tiles), rows, columns,
                     turned)


def _start(k: int, count: int, length: float, room: float) -> float:
    """Where part ``k`` of ``count`` begins: the parts are spread evenly over ``length``,
    the first at 0 and the last ending at ``length``."""
    if count == 1:
        return 0.0
    return k * (length - min(room, length)) / (count - 1)


# ----------------------------------------------------------------------------- formulas

_TALL_RE = re.compile(r"\\(?:[dt]?frac|sum|prod|int|begin|sqrt|binom)(?![A-Za-z])|\\(?:left|right)\.")
_DELIM = re.compile(r"\\(left|right)(\\[A-Za-z]+|\\[{}|]|[()\[\]|./])")


def breakable(tex: str) -> str:
    r"""``tex`` with its ``\left( ... \right)`` pairs that hold nothing tall (no fraction,
    sum, root...) written ``\bigl( ... \bigr)``: TeX breaks a formula over lines only
    outside ``\left ... \right``, so a long closed form written this way can be broken
    after its operation signs at any depth of parentheses, and between the factors of a
    product after such a pair (``\*``: a times sign where it breaks).  Pairs holding
    something tall keep their growing delimiters."""
    marks = list(_DELIM.finditer(tex))
    tall = sorted(m.start() for m in _TALL_RE.finditer(tex))
    replace: dict[int, str] = {}
    stack: list[re.Match] = []
    for m in marks:
        if m.group(1) == "left":
            stack.append(m)
            continue
        if not stack:
            return tex                       # unbalanced: leave the formula as it is
        opening = stack.pop()
        holds_tall = bisect_left(tall, m.start()) > bisect_left(tall, opening.end())
        if "." in (opening.group(2), m.group(2)) or holds_tall:
            continue
        replace[opening.start()] = "\\bigl" + opening.group(2)
        replace[m.start()] = "\\bigr" + m.group(2)
    if stack:
        return tex
    out, last = [], 0
    for m in marks:
        if m.start() in replace:
            out += [tex[last:m.start()], replace[m.start()]]
            last = m.end()
            script = _SCRIPTS.match(tex, last)
            if m.group(1) == "right" and _FACTOR.match(tex, script.end()):
                # a product: it may break after the factor, with a times sign there
                out += [tex[last:script.end()], "\\*"]
                last = script.end()
    out.append(tex[last:])
    return "".join(out)


#: The sub- and superscripts after a closing delimiter.
_SCRIPTS = re.compile(r"(?:\s*[\^_](?:\{[^{}]*\}|\\[A-Za-z]+|[^\s{}]))*")
#: What starts the next factor of a product after a closing delimiter: a letter, a digit,
#: an opening parenthesis or a command that is not an operation, relation or delimiter.
_FACTOR = re.compile(r"\s*(?:[A-Za-z0-9(]|\\(?!(?:bigr|right|cdot|times|div|pm|mp|quad|qquad"
                     r"|[,;:!]|leq?|geq?|neq|approx|to|end)(?![A-Za-z]))[A-Za-z])")


def print_plan(tikz: str) -> Optional[Placement]:
    """How the figure of this TikZ source is printed (None when it is not one of
    :mod:`tracer.exporters.figures`)."""
    size = figure_size(tikz)
    return placement(size) if size is not None else None
