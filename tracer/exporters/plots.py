r"""The plots of a problem, as SVG for the site and TikZ for the PDFs, drawn from one
geometry (:mod:`.plotting`):

* ``flow.svg``: |d output / d node| on a log scale, per step of the problem's repeat (one
  line per carried state, ``h`` of ``h{t}``) or along the longest path from an input to
  the output: the picture of a vanishing or an exploding gradient;
* ``loss.svg``: the loss over the steps of ``train`` (a log scale where it spans two
  decades or more);
* ``activation-<op>.svg``: each activation the gates use (sigmoid, tanh, softplus, relu,
  leaky relu) and its derivative, with the largest value of the derivative marked
  (sigmoid' <= 1/4) and the points where this problem evaluates them;

each also as ``.tikz.tex`` (a ``tikzpicture`` to ``\input``, needing only TikZ).  Points
are ``<circle class="point">`` (or a square or diamond) with ``data-name`` and the exact
value in ``data-value``, inside ``<g class="series" data-series="...">``.  Like the graph
figures, a plot has a white background and dark ink, readable on the site's dark theme and
in print, and its series differ in dash and marker as well as colour.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Optional, Sequence

from ..notation.latex import tex_symbol
from ..notation.numbers import format_const
from ..notation.svg import TABLE as SVG, name_parts
from ..view.plots import Activation, GradientFlow, activations, gradient_flow
from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import Content, Exporter, Options, environment, register, shared
from .figures.text import TIKZ_UNIT, Text, _text, name_text
from .plotting import (COLOURS, STYLES, FONT, Guide, Line, Mark, P, Plot, PlotFrame, Scale,
                       Tick, exact_scale, legend, linear_scale, log_scale, number_label,
                       power_label)

__all__ = ["PlotsExporter", "plots", "plot_files", "MAX_TICK_LABELS", "MAX_MARKS",
           "MAX_LINE_POINTS"]

#: At most this many labelled ticks along the x axis; more are thinned out.
MAX_TICK_LABELS = 12
#: A series of more points than this is drawn as a line without a mark per point, and an
#: activation marks only its first uses: past it the marks are a smear, and a long chain's
#: plots would grow with the graph.
MAX_MARKS = 120
#: A line through more points than this goes through every k-th of them (and the last).
MAX_LINE_POINTS = 1200


def plot_files(solution: Solution) -> tuple[str, ...]:
    """The plots of ``solution`` by file name without extension, in the order the answer
    key shows them: ``flow``, ``loss``, ``activation-<op>``."""
    return tuple(p.file for p in shared(solution, plots))


def plots(solution: Solution) -> tuple[Plot, ...]:
    """Every plot of ``solution``."""
    made = []
    flow = gradient_flow(solution)
    if flow is not None:
        made.append(flow_plot(solution, flow))
    if solution.trace.training is not None:
        made.append(loss_plot(solution))
    made.extend(activation_plot(solution, a) for a in activations(solution))
    return tuple(made)


# ----------------------------------------------------------------------------- series

def _line(key: str, points: Sequence[tuple[float, float, str]], xs: Scale, ys: Scale,
          style: int, label: Optional[Text], marked: bool = True) -> Line:
    """A series through (x, y, name) points; on a log axis a y of 0 breaks the line and
    is marked hollow at the axis' foot."""
    marked = marked and len(points) <= MAX_MARKS
    if len(points) > MAX_LINE_POINTS:
        every = math.ceil(len(points) / MAX_LINE_POINTS)
        points = [p for i, p in enumerate(points) if i % every == 0 or i == len(points) - 1]
    pieces: list[list[P]] = [[]]
    marks = []
    for x, y, name in points:
        showable = y > 0 or not ys.log
        at = P(xs(x), ys(y) if showable else ys.floor())
        if showable:
            pieces[-1].append(at)
        elif pieces[-1]:
            pieces.append([])
        if marked:
            marks.append(Mark(at, repr(float(y)), name, floor=not showable))
    dash, marker = STYLES[style % len(STYLES)]
    return Line(key, tuple(tuple(p) for p in pieces if len(p) > 1), tuple(marks), label,
                COLOURS[style % len(COLOURS)], dash, marker if marked else "none")


def _y_axis(values: Sequence[float], frame: PlotFrame, log: bool, zero: bool = False
            ) -> tuple[Scale, tuple[Tick, ...]]:
    if log:
        scale, powers = log_scale(values, frame.bottom, frame.top)
        return scale, tuple(Tick(scale.at(k), power_label(k)) for k in powers)
    scale, ticks = linear_scale(values, frame.bottom, frame.top, zero=zero)
    return scale, tuple(Tick(scale(v), number_label(v)) for v in ticks)


def _x_ticks(positions: Sequence[float], labels: Sequence[Text], xs: Scale) -> tuple[Tick, ...]:
    every = max(1, math.ceil(len(positions) / MAX_TICK_LABELS))
    return tuple(Tick(xs(x), label if i % every == 0 or i == len(positions) - 1 else None)
                 for i, (x, label) in enumerate(zip(positions, labels)))


def _integer_axis(values: Sequence[int], frame: PlotFrame) -> tuple[Scale, tuple[Tick, ...]]:
    lo, hi = min(values), max(values)
    pad = max(0.5, 0.03 * (hi - lo))
    xs = Scale(lo - pad, hi + pad, frame.left, frame.right)
    step = max(1, math.ceil((hi - lo + 1) / MAX_TICK_LABELS))
    shown = [v for v in range(lo, hi + 1) if (v - lo) % step == 0]
    return xs, tuple(Tick(xs(v), number_label(v)) for v in shown)


# ----------------------------------------------------------------------------- the plots

def flow_plot(solution: Solution, flow: GradientFlow) -> Plot:
    """|d output / d node| on a log axis, from the inputs (left) to the output (right)."""
    frame = PlotFrame(top=46.0 if flow.by == "step" else 24.0)
    values = [abs(p.grad) for s in flow.series for p in s.points]
    ys, yticks = _y_axis(values, frame, log=True)
    if flow.by == "step":
        xs, xticks = _integer_axis(sorted({p.x for s in flow.series for p in s.points}),
                                   frame)
        labels: list[Optional[Text]] = [_grad_label(solution.output, s.base or s.label,
                                                    flow.index) for s in flow.series]
    else:
        path = flow.series[0].points
        xs = Scale(-0.5, len(path) - 0.5, frame.left, frame.right)
        xticks = _x_ticks([p.x for p in path], [name_text(p.name, FONT) for p in path], xs)
        labels = [None]
    lines = tuple(_line(s.label or "path", [(p.x, abs(p.grad), p.name) for p in s.points],
                        xs, ys, i, label) for i, (s, label) in enumerate(zip(flow.series, labels)))
    return Plot("flow", "flow", solution.title, frame, xticks, yticks, lines,
                xlabel=_italic(flow.index) if flow.index else None,
                legend=legend(lines, frame), log=True,
                notes={"by": flow.by, "zeros": any(m.floor for l in lines for m in l.marks)})


def loss_plot(solution: Solution) -> Plot:
    """The loss after each step of the training run (step 0: before the first)."""
    training = solution.trace.training
    assert training is not None
    frame = PlotFrame(top=24.0)
    losses = training.losses
    log = min(losses) > 0 and max(losses) >= 100 * min(losses)
    ys, yticks = _y_axis(losses, frame, log=log, zero=not log and min(losses) >= 0)
    xs, xticks = _integer_axis([r.step for r in training.rows], frame)
    line = _line("loss", [(r.step, r.loss, str(r.step)) for r in training.rows], xs, ys, 0,
                 None, marked=len(losses) <= 61)
    return Plot("loss", "loss", solution.title, frame, xticks, yticks, (line,),
                ylabel=name_text(solution.output, FONT), log=log,
                notes={"zeros": any(m.floor for m in line.marks)})


def activation_plot(solution: Solution, act: Activation) -> Plot:
    """The activation and its derivative over a range that holds every use, the uses
    marked on both curves, the derivative's largest value drawn across."""
    frame = PlotFrame(top=46.0)
    reach = max([act.reach] + [math.ceil(abs(u.z)) for u in act.uses])
    reach = min(reach, 12.0)
    xs = [-reach + 2 * reach * k / 240 for k in range(241)]
    kinked = act.op in ("relu", "leaky_relu")
    f = [(x, act.value(x)) for x in xs]
    d = [(x, act.derivative(x)) for x in xs if not (kinked and x == 0)]
    inside = [u for u in act.uses if abs(u.z) <= reach][:MAX_MARKS]
    shown = [y for _, y in f + d] + [u.value for u in inside] + [0.0]
    span = max(shown) - min(shown)
    # Room above the top for the label of the derivative's largest value.
    ys, ticks = exact_scale(min(shown) - 0.06 * span, max(shown) + 0.16 * span, frame.bottom,
                            frame.top, count=6)
    yticks = tuple(Tick(ys(v), number_label(v)) for v in ticks)
    xscale, xticks = exact_scale(-reach, reach, frame.left, frame.right, count=6)
    name, tex = _function_name(act)
    lines = (
        _curve("function", f, xscale, ys, 0, _text(name + [("(", ""), ("z", "i"), (")", "")],
                                                   f"${tex}(z)$", FONT)),
        _curve("derivative", d, xscale, ys, 1, _text(
            name + [("\u2032(", ""), ("z", "i"), (")", "")], f"${tex}'(z)$", FONT),
            split=0.0 if kinked else None),
    )
    marks = (_uses(lines[0], [(u.z, u.value, u.gate) for u in inside], xscale, ys, 0),
             _uses(lines[1], [(u.z, u.local, u.gate) for u in inside], xscale, ys, 1))
    guides = ()
    if act.peak is not None:
        at, peak = act.peak
        label = _text(name + [("\u2032(", ""), ("z", "i"), (") \u2264 ", "")] + name +
                      [("\u2032(" + format_const(at) + ") = " + format_const(peak), "")],
                      f"${tex}'(z) \\le {tex}'({format_const(at)}) = {format_const(peak)}$",
                      FONT)
        guides = (Guide(ys(peak), label, P(frame.left + 8, ys(peak) - 6)),)
    return Plot("activation", f"activation-{act.op.replace('_', '-')}", solution.title, frame,
                tuple(Tick(xscale(v), number_label(v)) for v in xticks), yticks, marks,
                xlabel=_italic("z"), guides=guides, legend=legend(marks, frame),
                zero=ys(0.0), notes={"op": act.op})


def _curve(key: str, points: list[tuple[float, float]], xs: Scale, ys: Scale, style: int,
           label: Text, split: Optional[float] = None) -> Line:
    if split is None:
        pieces = [[P(xs(x), ys(y)) for x, y in points]]
    else:
        pieces = [[P(xs(x), ys(y)) for x, y in points if x < split],
                  [P(xs(x), ys(y)) for x, y in points if x > split]]
    dash, _ = STYLES[style]
    return Line(key, tuple(tuple(p) for p in pieces if len(p) > 1), (), label,
                COLOURS[style], dash, "none")


def _uses(line: Line, points: list[tuple[float, float, str]], xs: Scale, ys: Scale,
          style: int) -> Line:
    """``line`` with the problem's points on it."""
    marks = tuple(Mark(P(xs(x), ys(y)), repr(float(y)), name) for x, y, name in points)
    return Line(line.key, line.pieces, marks, line.label, line.colour, line.dash,
                STYLES[style][1] if marks else "none")


def _function_name(act: Activation) -> tuple[list[tuple[str, str]], str]:
    """The activation's name as figure runs and as TeX: sigma, tanh, lrelu with its slope."""
    form = SVG[act.op]
    if act.op == "leaky_relu":
        slope = format_const(act.slope or 0.0)
        return [(form.text, ""), (slope, "sub")], rf"{form.tex}_{{{slope}}}"
    return [(form.text, "")], form.tex


def _italic(symbol: str) -> Text:
    return _text([(symbol, "i")], f"${symbol}$", FONT)


def _grad_label(output: str, base: str, index: Optional[str]) -> Text:
    """|dL/dh_t| as figure runs and TeX."""
    runs = [("|\u2202", "")] + [(t, r) for t, r in name_parts(output)] + [("/\u2202", "")]
    runs += [(t, "i") for t, _ in name_parts(base)[:1]]
    if index:
        runs.append((index, "subi"))
    runs.append(("|", ""))
    symbol = tex_symbol(base)
    if index:
        symbol = (f"({symbol})" if "_" in symbol else symbol) + f"_{{{index}}}"
    return _text(runs, rf"$\lvert \partial {tex_symbol(output)} / \partial {symbol} \rvert$",
                 FONT)


# ----------------------------------------------------------------------------- files

def _render(plot: Plot, kind: str) -> str:
    return _template(kind).render(plot=plot, unit=TIKZ_UNIT,
                                  natural=f"{plot.width * TIKZ_UNIT:.2f}")


@lru_cache(maxsize=None)
def _template(kind: str):
    return environment().get_template(f"plots/plot.{kind}.j2")


def plot_documents(solution: Solution) -> dict[str, Content]:
    """Every plot of ``solution``, as SVG and TikZ (none for layers: their answer keys
    show no plots yet; none for a problem too large to work step by step, whose pages give
    an overview)."""
    files: dict[str, Content] = {}
    if is_tensor(solution) or not solution.written_out:
        return files
    for plot in shared(solution, plots):
        files[f"{plot.file}.svg"] = _render(plot, "svg")
        files[f"{plot.file}.tikz.tex"] = _render(plot, "tikz.tex")
    return files


@register
class PlotsExporter(Exporter):
    name = "plots"
    order = 35

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        return plot_documents(solution)
