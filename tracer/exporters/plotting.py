"""The geometry of a plot: axes (linear or logarithmic) with their ticks, lines through
data points, reference lines and a legend, in figure units (one SVG pixel, 0.75 pt in
TikZ), so that the SVG of the site and the TikZ of the PDFs are drawn from the same
numbers, as the graph figures are.

Everything is computed from the numbers alone with fixed rules (no font metrics, no
clock, no randomness): the same data give byte-identical figures.  Text is the figures'
:class:`~tracer.exporters.figures.text.Text` (SVG runs and the TeX of the same label).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Sequence

from ..notation.numbers import fmt
from .figures.layout import Point as P, num
from .figures.text import Text, _text

__all__ = ["Scale", "Tick", "Mark", "Line", "Guide", "Plot", "linear_scale", "log_scale",
           "PlotFrame", "WIDTH", "HEIGHT", "FONT", "TICK_FONT", "COLOURS", "STYLES",
           "number_label", "power_label", "legend", "P", "exact_scale"]

WIDTH, HEIGHT = 480.0, 290.0
FONT, TICK_FONT = 14.0, 13.0
#: Series colours (at least 4.5:1 on white) and, for print in grey, dash patterns and
#: markers that tell the series apart without colour.
COLOURS = ("0A5FA8", "B23A0E", "1B6E3A", "6B3FA0")
STYLES = (("", "circle"), ("6 4", "square"), ("2 3", "diamond"), ("8 3 2 3", "circle"))
GRID, AXIS, INK = "E5E7EB", "4B5563", "111827"


@dataclass(frozen=True)
class Scale:
    """Data values -> figure units along one axis: ``lo`` and ``hi`` (their logarithms on
    a log axis) go to ``start`` and ``end``."""

    lo: float
    hi: float
    start: float
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        return self.at(math.log10(value) if self.log else value)

    def at(self, v: float) -> float:
        """Where ``v`` is drawn: on a log axis ``v`` is the logarithm (a decade's tick is
        placed by its exponent: 10 ** -324 is 0 in floating point)."""
        return self.start + (v - self.lo) / (self.hi - self.lo) * (self.end - self.start)

    def floor(self) -> float:
        """Where a value the axis cannot show (0 on a log axis) is drawn: its low end."""
        return self.start


def linear_scale(values: Sequence[float], start: float, end: float, *,
                 zero: bool = False) -> tuple[Scale, list[float]]:
    """A linear axis through ``values`` (and 0 when ``zero``), widened to round ticks: the
    scale and the tick values."""
    lo, hi = min(values), max(values)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - 1.0, hi + 1.0
    step = _nice((hi - lo) / 5)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    ticks = [round(k * step, 12) for k in range(first, last + 1)]
    return Scale(ticks[0], ticks[-1], start, end), ticks


def exact_scale(lo: float, hi: float, start: float, end: float, count: int = 5
                ) -> tuple[Scale, list[float]]:
    """A linear axis from exactly ``lo`` to ``hi``, with round ticks (about ``count``
    steps) inside it."""
    step = _nice((hi - lo) / count)
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return Scale(lo, hi, start, end), [round(k * step, 12) for k in range(first, last + 1)]


def log_scale(values: Sequence[float], start: float, end: float) -> tuple[Scale, list[int]]:
    """A logarithmic axis through the positive ``values``, from decade to decade: the scale
    and the exponents of the ticks (every decade, or every k-th on a long axis: at most
    nine ticks)."""
    shown = [v for v in values if v > 0] or [1.0]
    lo = math.floor(math.log10(min(shown)) + 1e-12)
    hi = math.ceil(math.log10(max(shown)) - 1e-12)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    every = max(1, math.ceil((hi - lo) / 8))
    if (hi - lo) % every:
        lo -= every - (hi - lo) % every
    return Scale(lo, hi, start, end, log=True), list(range(lo, hi + 1, every))


def _nice(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw * (1 - 1e-9):
            return m * power
    return 10 * power  # pragma: no cover


def number_label(value: float, size: float = TICK_FONT) -> Text:
    """A tick's number, with a true minus sign."""
    shown = fmt(value, 3)
    if "e" in shown:
        mant, _, exp = shown.partition("e")
        return _text([(mant.replace("-", "\u2212") + "\u00d710", ""),
                      (exp.replace("-", "\u2212"), "sup")],
                     f"${mant} \\times 10^{{{int(exp)}}}$", size)
    return _text([(shown.replace("-", "\u2212"), "")], f"${shown}$", size)


def power_label(exponent: int, size: float = TICK_FONT) -> Text:
    """10 to a power, as a log axis labels its decades."""
    return _text([("10", ""), (str(exponent).replace("-", "\u2212"), "sup")],
                 f"$10^{{{exponent}}}$", size)


@dataclass(frozen=True)
class Tick:
    """A tick at ``at`` (figure units along its axis), its label, and a grid line or not."""

    at: float
    label: Optional[Text]
    grid: bool = True

    @property
    def ats(self) -> str:
        return num(self.at)


@dataclass(frozen=True)
class Mark:
    """A data point: where it is drawn, its exact value (``data-value``), the node or step
    it belongs to; ``floor``: a value the axis cannot show (0 on a log axis), drawn hollow
    at the axis' end."""

    at: P
    value: str
    name: str = ""
    floor: bool = False


@dataclass(frozen=True)
class Line:
    """One series: its pieces of polyline (broken where a value cannot be shown), its
    points, its label in the legend and its look."""

    key: str
    pieces: tuple[tuple[P, ...], ...]
    marks: tuple[Mark, ...]
    label: Optional[Text]
    colour: str
    dash: str = ""
    marker: str = "circle"
    width: float = 2.0

    @property
    def tikz_dash(self) -> str:
        """The dash pattern in TikZ (figure units -> pt)."""
        if not self.dash:
            return "solid"
        parts = [float(x) * 0.75 for x in self.dash.split()]
        return "dash pattern=" + " ".join(
            f"{'on' if i % 2 == 0 else 'off'} {num(v)}pt" for i, v in enumerate(parts))


@dataclass(frozen=True)
class Guide:
    """A horizontal reference line across the plot, with a label above its left end."""

    y: float
    label: Text
    label_at: P

    @property
    def ys(self) -> str:
        return num(self.y)


@dataclass(frozen=True)
class PlotFrame:
    """The plotting area inside the figure: left, top, right, bottom."""

    left: float = 72.0
    top: float = 40.0
    right: float = WIDTH - 18.0
    bottom: float = HEIGHT - 54.0


@dataclass(frozen=True)
class Plot:
    """A whole plot, ready for the templates: ``kind`` names it (``flow``, ``loss``,
    ``activation``), ``file`` its file name without the extension."""

    kind: str
    file: str
    title: str
    frame: PlotFrame
    xticks: tuple[Tick, ...]
    yticks: tuple[Tick, ...]
    lines: tuple[Line, ...]
    xlabel: Optional[Text] = None
    ylabel: Optional[Text] = None
    guides: tuple[Guide, ...] = ()
    legend: tuple[tuple[Line, P], ...] = ()
    log: bool = False
    zero: Optional[float] = None            # where y = 0 is, on a linear axis through 0
    width: float = WIDTH
    height: float = HEIGHT
    notes: dict = field(default_factory=dict)

    @property
    def width_s(self) -> str:
        return num(self.width)

    @property
    def height_s(self) -> str:
        return num(self.height)

    @property
    def box(self) -> tuple[str, str, str, str]:
        f = self.frame
        return num(f.left), num(f.top), num(f.right), num(f.bottom)


def legend(lines: Sequence[Line], frame: PlotFrame) -> tuple[tuple[Line, P], ...]:
    """Where each labelled line's legend entry starts: in a row above the plotting area, a
    sample of the line 26 units long, then its label."""
    placed = []
    x = frame.left
    for line in lines:
        if line.label is None:
            continue
        placed.append((line, P(x, frame.top - 16)))
        x += 26 + 6 + line.label.width + 20
    return tuple(placed)
