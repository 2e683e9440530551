"""The LaTeX of what deep and recurrent networks add to a worked solution, shared by the
Markdown pages and the printed documents: the weights a repeat shares across its steps
(their gradient is the backpropagation-through-time sum, one labelled contribution per
step), how the gradient grows or shrinks on its way back (the ``flow`` plot), the
activations and where their gates saturate, and the steps of a training run.

Typed records of LaTeX snippets and numbers for the templates, as
:mod:`.mathtex` makes for the rest of the solution.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from ..core.expr import Call, Const, Expr, Var, fold
from ..core.rules import local_rule, simplify
from ..notation.latex import partial, tex_symbol, to_tex
from ..notation.numbers import fmt_tex, format_const
from ..view.plots import ACTIVATIONS, Activation, GradientFlow, activations, gradient_flow
from ..view.solution import Solution
from .base import shared
from .plots import plots

__all__ = ["DeepTex", "deep_tex", "TexShared", "TexFlow", "TexActivation", "TexTraining",
           "MAX_ROWS"]

#: Tables longer than this (uses of an activation, a shared weight's contributions, the
#: steps of a training run) show a part of their rows and say so.
MAX_ROWS = 40


@dataclass(frozen=True)
class TexContribution:
    label: int                 # k of [k]
    step: Optional[int]        # the index value of the step it came from
    source: str                # the gate it came from, in LaTeX
    value: str


@dataclass(frozen=True)
class TexShared:
    """A weight every step of the repeat uses: its gradient, the sum of one contribution
    per step, is backpropagation through time."""

    node: str
    symbol: str
    index: str
    span: str                  # t = 1, \ldots, 10
    count: int
    grad: str
    contributions: tuple[TexContribution, ...]     # at most MAX_ROWS: the first and last
    largest: TexContribution
    gap: Optional[int] = None  # the label after which rows are left out


@dataclass(frozen=True)
class TexFlowSeries:
    symbol: str                # |dL/dh_t|
    start: str                 # the node at the output end, in LaTeX
    start_value: str
    end: str                   # the node at the input end
    end_value: str
    factor: Optional[str]      # |end| / |start|
    grows: bool
    shrinks: bool


@dataclass(frozen=True)
class TexFlow:
    file: str
    by: str                    # "step" or "path"
    index: Optional[str]
    series: tuple[TexFlowSeries, ...]
    path: tuple[str, ...]      # the path's nodes in LaTeX, from the input to the output
    zeros: bool


@dataclass(frozen=True)
class TexUse:
    gate: str
    z: str
    value: str
    local: str
    saturated: bool


@dataclass(frozen=True)
class TexActivation:
    op: str
    file: str
    function: str              # \sigma(z)
    derivative: str            # \sigma'(z)
    formula: str               # \sigma(z) (1 - \sigma(z))
    peak: Optional[str]        # the derivative's largest value
    slope: Optional[str]
    uses: tuple[TexUse, ...]   # the first MAX_ROWS
    count: int                 # every use
    saturated: int
    product: Optional[str]     # the product of the local gradients of every use
    bound: Optional[str]       # peak ** count


@dataclass(frozen=True)
class TexStepParam:
    symbol: str
    grad_symbol: str
    old: str
    grad: str
    used: str
    clipped: bool
    new: str


@dataclass(frozen=True)
class TexTrainRow:
    step: int
    loss: str
    params: tuple[str, ...]
    grads: tuple[str, ...]
    used: tuple[str, ...]
    clipped: tuple[bool, ...]


@dataclass(frozen=True)
class TexTraining:
    steps: int
    rate: str
    momentum: Optional[str]
    clip: Optional[str]
    symbols: tuple[str, ...]
    grad_symbols: tuple[str, ...]
    first: tuple[TexStepParam, ...]
    rows: tuple[TexTrainRow, ...]   # every step, or every ``every``-th and the last
    every: int
    before: str
    after: str
    decreased: bool
    stalled_at: Optional[int]   # from this step on every gradient is exactly 0
    clipped_steps: int
    log: bool


@dataclass(frozen=True)
class DeepTex:
    """Everything the deep-network parts of the documents print."""

    shared: dict
    flow: Optional[TexFlow]
    activations: tuple[TexActivation, ...]
    training: Optional[TexTraining]
    files: tuple[str, ...]


def deep_tex(solution: Solution) -> DeepTex:
    """The LaTeX of the shared weights, the gradient flow, the activations and the training
    of ``solution``."""
    d = solution.precision
    files = tuple(p.file for p in shared(solution, plots))
    flow = gradient_flow(solution)
    return DeepTex(_shared(solution, d), _flow(solution, flow, d) if flow else None,
                   tuple(_activation(a, d) for a in activations(solution)),
                   _training(solution, d), files)


def _shared(solution: Solution, d: int) -> dict:
    repeat = solution.repeat
    if repeat is None:
        return {}
    sums = {a.node: a for a in solution.sums}
    result = {}
    for name in repeat.shared:
        total = sums.get(name)
        if total is None:
            continue
        contributions = tuple(TexContribution(k, repeat.step_of(source), tex_symbol(source),
                                              fmt_tex(value, d))
                              for k, (source, value) in enumerate(
                                  zip(total.sources, total.contributions), 1))
        largest = max(range(len(total.contributions)),
                      key=lambda k: abs(total.contributions[k]))
        half = MAX_ROWS // 2
        shown, gap = contributions, None
        if len(contributions) > MAX_ROWS:
            shown, gap = contributions[:half] + contributions[-half:], half
        result[name] = TexShared(name, tex_symbol(name), repeat.index, _span(repeat),
                                 len(contributions), fmt_tex(total.grad, d), shown,
                                 contributions[largest], gap)
    return result


def _span(repeat) -> str:
    v = repeat.values
    if len(v) > 3 and list(v) == list(range(v[0], v[0] + len(v))):
        return rf"{repeat.index} = {v[0]}, \ldots, {v[-1]}"
    return f"{repeat.index} = " + ", ".join(map(str, v))


def _grad_symbol(out: str, base: str, index: Optional[str]) -> str:
    symbol = tex_symbol(base)
    if index:
        symbol = (f"({symbol})" if "_" in symbol else symbol) + f"_{{{index}}}"
    return rf"\lvert \partial {tex_symbol(out)} / \partial {symbol} \rvert"


def _flow(solution: Solution, flow: GradientFlow, d: int) -> TexFlow:
    series = []
    for s in flow.series:
        start, end = s.points[-1], s.points[0]       # the output end, the input end
        factor = s.factor
        series.append(TexFlowSeries(
            _grad_symbol(solution.output, s.base or s.label, flow.index)
            if flow.by == "step" else "",
            tex_symbol(start.name), fmt_tex(abs(start.grad), d), tex_symbol(end.name),
            fmt_tex(abs(end.grad), d),
            _factor(factor if factor >= 1 else 1 / factor) if factor else None,
            bool(factor and factor > 1.0), bool(factor is not None and factor < 1.0)))
    path = tuple(tex_symbol(p.name) for p in flow.series[0].points) if flow.by == "path" \
        else ()
    zeros = any(p.grad == 0 for s in flow.series for p in s.points)
    return TexFlow("flow", flow.by, flow.index, tuple(series), path, zeros)


def _factor(value: float) -> str:
    """A ratio to three significant digits: 45, 0.5, 1.77 \\times 10^{4}."""
    power = math.floor(math.log10(value))
    if power >= 3:
        return rf"{value / 10 ** power:.3g} \times 10^{{{power}}}"
    return fmt_tex(float(f"{value:.3g}"), 3)


def _formula(op: str, slope: Optional[float]) -> str:
    """The activation's derivative at z as LaTeX, from the table's rule."""
    z: Expr = Var("z")
    args = (z, Const(slope)) if slope is not None else (z,)
    names = {"a": z, "out": Call(op, args)}
    if slope is not None:
        names["b"] = Const(slope)
    rule = fold(local_rule(op, 0),
                lambda leaf: names.get(leaf.name, leaf) if isinstance(leaf, Var) else leaf,
                lambda node, kids: simplify(Call(node.op, tuple(kids))))
    return to_tex(rule)  # type: ignore[arg-type]


def _activation(act: Activation, d: int) -> TexActivation:
    function = to_tex(Call(act.op, (Var("z"), Const(act.slope)) if act.slope is not None
                           else (Var("z"),)))
    name = function[:function.rindex("(")]
    uses = tuple(TexUse(tex_symbol(u.gate), fmt_tex(u.z, d), fmt_tex(u.value, d),
                        fmt_tex(u.local, d), u.saturated) for u in act.uses[:MAX_ROWS])
    peak = ACTIVATIONS[act.op][1]
    product = bound = None
    if peak is not None and len(act.uses) > 1:
        product = fmt_tex(math.prod(u.local for u in act.uses), d)
        bound = fmt_tex(peak[1] ** len(act.uses), d)
    return TexActivation(
        act.op, f"activation-{act.op.replace('_', '-')}", function, f"{name}'(z)",
        _formula(act.op, act.slope), format_const(peak[1]) if peak else None,
        format_const(act.slope) if act.slope is not None else None, uses, len(act.uses),
        sum(u.saturated for u in act.uses), product, bound)


def _training(solution: Solution, d: int) -> Optional[TexTraining]:
    training = solution.trace.training
    if training is None:
        return None
    out = solution.output
    rows = training.rows
    first = tuple(TexStepParam(
        tex_symbol(p), partial(out, p), fmt_tex(old, d), fmt_tex(g, d), fmt_tex(u, d), g != u,
        fmt_tex(new, d))
        for p, old, g, u, new in zip(training.params, rows[0].params, rows[0].grads,
                                     rows[0].used, rows[1].params))
    stalled = None
    for row in reversed(rows):
        if any(row.grads):
            break
        stalled = row.step
    losses = training.losses
    every = math.ceil((len(rows) - 1) / MAX_ROWS) if len(rows) > MAX_ROWS + 1 else 1
    shown = [r for r in rows if r.step % every == 0 or r.step == len(rows) - 1]
    return TexTraining(
        steps=len(rows) - 1, rate=fmt_tex(training.learning_rate, d),
        momentum=fmt_tex(training.momentum, d) if training.momentum else None,
        clip=fmt_tex(training.clip, d) if training.clip is not None else None,
        symbols=tuple(tex_symbol(p) for p in training.params),
        grad_symbols=tuple(partial(out, p) for p in training.params), first=first,
        rows=tuple(TexTrainRow(r.step, fmt_tex(r.loss, d), tuple(fmt_tex(v, d) for v in r.params),
                               tuple(fmt_tex(g, d) for g in r.grads),
                               tuple(fmt_tex(u, d) for u in r.used),
                               tuple(g != u for g, u in zip(r.grads, r.used)))
                   for r in shown), every=every,
        before=fmt_tex(losses[0], d), after=fmt_tex(losses[-1], d),
        decreased=losses[-1] < losses[0],
        stalled_at=stalled if stalled is not None and stalled < len(rows) - 1 else None,
        clipped_steps=sum(any(g != u for g, u in zip(r.grads, r.used)) for r in rows[:-1]),
        log=any(p.log for p in shared(solution, plots) if p.kind == "loss"))
