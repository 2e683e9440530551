"""The worked solution in LaTeX math, as the Markdown pages and the printed documents
both show it: every symbol, formula and number written once, at the problem's precision.

:func:`tex_solution` turns a :class:`~tracer.view.solution.Solution` into typed records of
LaTeX snippets for the templates: the chain rule of each step written out (formula, then
numbers, then result), sums with their labelled terms, forward lines with the values put
in.  Which lines to write (a substituted line that only repeats the value is left out) is
decided here, with the text in hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..core.engine import Accumulation
from ..core.expr import defined
from ..notation import sympy as symbolic
from ..notation.latex import (expr_values_tex, factor_tex, partial, tex_symbol, to_tex,
                              visible_width)
from ..notation.numbers import fmt_tex, fmt_text
from ..view.derive import LocalFormula
from ..view.solution import FinalGradient, ForwardLine, LocalGradient, Solution, Step
from .base import frame_names, has_figures

__all__ = ["TexSolution", "tex_solution", "local_formula_tex", "formula_tex"]


@dataclass(frozen=True)
class TexValue:
    name: str
    symbol: str
    value: str


@dataclass(frozen=True)
class TexLocal:
    gate: str
    operand: str
    symbol: str                    # \frac{\partial u}{\partial x}
    formula: str
    substituted: Optional[str]     # the formula with the values put in, when that adds a line
    value: str
    kink: bool


@dataclass(frozen=True)
class TexLine:
    name: str
    symbol: str
    definition: str
    substituted: Optional[str]
    value: str
    rounded: bool
    locals: tuple[TexLocal, ...] = ()


@dataclass(frozen=True)
class TexSum:
    node: str
    symbol: str
    grad: str
    terms: tuple[str, ...]
    numbers: tuple[str, ...]
    value: str
    count: int


@dataclass(frozen=True)
class TexStep:
    index: int
    node: str
    source: str
    symbol: str
    source_symbol: str
    path: Optional[int]
    grad: str
    chain: tuple[str, ...]
    wide: bool
    upstream: str
    local: str
    contribution: str
    contribution_text: str
    kink: bool
    kink_op: Optional[str]
    use: Optional[int]
    uses: int
    frame: Optional[str]
    sum: Optional[TexSum]


@dataclass(frozen=True)
class TexBlock:
    steps: tuple[TexStep, ...]
    sum: Optional[TexSum]
    kinks: tuple[str, ...]


@dataclass(frozen=True)
class TexGroup:
    source: str
    symbol: str
    definition: str
    upstream: str
    is_output: bool
    blocks: tuple[TexBlock, ...]


@dataclass(frozen=True)
class TexFinal:
    name: str
    symbol: str
    grad_symbol: str
    value: str
    numeric: Optional[str]
    difference: Optional[str]
    #: At a kink: the one-sided differences, and which of them backpropagation's value is
    #: ("left", "right", or "neither" when a convention such as max's even split is used).
    left: Optional[str] = None
    right: Optional[str] = None
    side: Optional[str] = None


@dataclass(frozen=True)
class TexClosed:
    name: str
    symbol: str
    formula: str
    value: Optional[str]


@dataclass(frozen=True)
class TexParam:
    name: str
    symbol: str
    old: str
    grad: str
    grad_factor: str
    new: str
    grad_symbol: str


@dataclass(frozen=True)
class TexUpdate:
    rate: str
    rate_factor: str
    params: tuple[TexParam, ...]
    forward: tuple[TexLine, ...]
    before: str
    after: str
    change: str
    decreased: bool
    increased: bool


@dataclass(frozen=True)
class TexSolution:
    """Everything the document templates print, as LaTeX snippets, names and numbers."""

    id: str
    title: str
    tags: tuple[str, ...]
    output: str
    output_symbol: str
    seed: str
    single: bool
    inputs: tuple[TexValue, ...]
    gates: tuple[TexLine, ...]
    locals: tuple[TexLocal, ...]
    steps: tuple[TexStep, ...]
    groups: tuple[TexGroup, ...]
    sums: tuple[TexSum, ...]
    final: tuple[TexFinal, ...]
    closed: tuple[TexClosed, ...]
    function: Optional[str]
    update: Optional[TexUpdate]
    rounding: Optional[int]
    frames: tuple[str, ...]
    kink_ops: tuple[str, ...]
    wrt_symbols: tuple[str, ...]
    data: tuple[TexValue, ...] = ()        # inputs given as data, apart from ``inputs``
    closed_too_large: bool = False
    figures: bool = True            # the figures exporter draws the graph
    node_count: int = 0


def local_formula_tex(local: LocalGradient) -> str:
    """The local derivative's formula in LaTeX, or empty where it has none (a gate too
    large to derive symbolically)."""
    return formula_tex(local.formula)


def formula_tex(formula: LocalFormula) -> str:
    """A local derivative's formula in LaTeX, or empty where it has none."""
    if formula.symbolic is not None:
        return symbolic.derivative_latex(formula.symbolic)
    if formula.expr is not None:
        return to_tex(formula.expr)
    return ""


class _Writer:
    """Numbers at the problem's precision, and the pieces of formulas built from them."""

    def __init__(self, solution: Solution):
        self.s = solution
        self.d = solution.precision
        self.out = solution.output
        self.values = solution.values

    def num(self, v: float) -> str:
        return fmt_tex(v, self.d)

    def factor(self, v: float) -> str:
        return factor_tex(self.num(v))

    def lead(self, v: float) -> str:
        text = self.num(v)
        return "(" + text + ")" if r"\times" in text else text

    def local(self, local: LocalGradient, operands: tuple[str, ...] = ()) -> TexLocal:
        """``operands``: the gate's, one per use; a name used several times has a local
        gradient per use, and its symbol says which."""
        value = self.num(local.value)
        tex = local_formula_tex(local)
        formula = tex or partial(local.gate, local.operand)
        substituted = None
        if local.formula.expr is not None and tex and defined(local.formula.expr, self.values):
            try:
                substituted = expr_values_tex(local.formula.expr, self.values, self.d)
            except KeyError:
                substituted = None
            if substituted in (formula, value):
                substituted = None
        symbol = partial(local.gate, local.operand)
        uses = operands.count(local.operand)
        if uses > 1:
            use = operands[:local.slot + 1].count(local.operand)
            symbol += rf"\;\text{{(use {use} of {uses})}}"
        return TexLocal(local.gate, local.operand, symbol, formula, substituted, value,
                        local.kink)

    def line(self, line: ForwardLine, values: dict[str, float],
             locals_: tuple[TexLocal, ...] = ()) -> TexLine:
        substituted = expr_values_tex(line.expr, values, self.d)
        value = self.num(line.value)
        return TexLine(line.name, tex_symbol(line.name), to_tex(line.expr),
                       None if substituted == value else substituted, value, line.rounded,
                       locals_)

    def sum(self, total: Accumulation) -> TexSum:
        terms = tuple(partial(self.out, total.node, k)
                      for k in range(1, len(total.contributions) + 1))
        numbers = tuple(factor_tex(fmt_tex(c, self.d)) for c in total.contributions)
        return TexSum(total.node, tex_symbol(total.node), partial(self.out, total.node),
                      terms, numbers, fmt_tex(total.grad, self.d), len(terms))

    def step(self, step: Step, local: TexLocal, frame: Optional[str]) -> TexStep:
        formula = local.formula if local.formula != local.value else None
        chain = [partial(self.out, step.source) + r" \cdot " + partial(step.source, step.node)]
        if formula is not None:
            chain.append(self.lead(step.upstream) + r" \cdot " + factor_tex(formula))
        chain.append(self.lead(step.upstream) + r" \cdot " + self.factor(step.local.value))
        chain.append(self.num(step.contribution))
        return TexStep(
            index=step.index, node=step.node, source=step.source,
            symbol=tex_symbol(step.node), source_symbol=tex_symbol(step.source),
            path=step.path, grad=partial(self.out, step.node, step.path), chain=tuple(chain),
            wide=visible_width(" = ".join(chain)) > 70, upstream=self.num(step.upstream),
            local=self.num(step.local.value), contribution=self.num(step.contribution),
            contribution_text=fmt_text(step.contribution, self.d), kink=step.kink,
            kink_op=step.kink_op, use=step.use, uses=step.uses, frame=frame,
            sum=self.sum(step.sum) if step.sum is not None else None)


def _sides(w: _Writer, f: FinalGradient) -> tuple[Optional[str], ...]:
    if f.left is None or f.right is None:
        return None, None, None
    # One-sided differences carry an error of about f'' h (h = 1e-6): far below this.
    near = 1e-4 * max(1.0, abs(f.grad))
    side = "left" if abs(f.grad - f.left) < near else \
        "right" if abs(f.grad - f.right) < near else "neither"
    return w.num(f.left), w.num(f.right), side


def tex_solution(solution: Solution) -> TexSolution:
    """The LaTeX of every part of ``solution``."""
    w = _Writer(solution)
    out = solution.output
    values = solution.values
    operands = {n.name: n.operands for n in solution.trace.nodes}
    locals_by_gate = {line.name: tuple(w.local(l, operands[line.name]) for l in line.locals)
                      for line in solution.gates}
    gates = tuple(w.line(line, values, locals_by_gate[line.name]) for line in solution.gates)
    frames = frame_names(solution)
    local_at = {(line.name, l.slot): tex for line in solution.gates
                for l, tex in zip(line.locals, locals_by_gate[line.name])}
    steps = {s.index: w.step(s, local_at[(s.source, s.slot)],
                             frames[s.index - 1] if frames else None)
             for s in solution.steps}
    groups = tuple(TexGroup(
        g.source, tex_symbol(g.source), to_tex(g.expr), w.num(g.upstream), g.is_output,
        tuple(TexBlock(tuple(steps[s.index] for s in b.steps),
                       steps[b.steps[-1].index].sum, b.kinks) for b in g.blocks))
        for g in solution.groups)
    final = tuple(TexFinal(
        f.name, tex_symbol(f.name), partial(out, f.name), w.num(f.grad),
        w.num(f.numeric) if f.numeric is not None else None,
        fmt_tex(abs(f.grad - f.numeric), 2) if f.numeric is not None else None,
        *_sides(w, f))
        for f in solution.final)
    single = len(solution.inputs) == 1
    closed = tuple(TexClosed(
        c.name,
        rf"\frac{{d {tex_symbol(out)}}}{{d {tex_symbol(c.name)}}}" if single
        else partial(out, c.name),
        symbolic.latex(c.formula, solution.closed_names),
        w.num(c.value) if c.value is not None else None) for c in solution.closed)
    function = symbolic.latex(solution.function, solution.closed_names) \
        if solution.function is not None else None
    return TexSolution(
        id=solution.id, title=solution.title, tags=solution.tags, output=out,
        output_symbol=tex_symbol(out), seed=partial(out, out), single=single,
        inputs=tuple(TexValue(v.name, tex_symbol(v.name), w.num(v.value))
                     for v in solution.inputs if v.name not in solution.data),
        data=tuple(TexValue(v.name, tex_symbol(v.name), w.num(v.value))
                   for v in solution.inputs if v.name in solution.data),
        gates=gates, locals=tuple(l for g in gates for l in g.locals),
        steps=tuple(steps[i] for i in sorted(steps)), groups=groups,
        sums=tuple(w.sum(a) for a in solution.sums), final=final, closed=closed,
        function=function, update=_update(solution, w), rounding=solution.rounding,
        frames=tuple(frames), kink_ops=solution.kink_ops,
        wrt_symbols=tuple(partial(out, n) for n in solution.wrt),
        closed_too_large=solution.closed_too_large, figures=has_figures(solution),
        node_count=len(solution.trace.nodes))


def _update(solution: Solution, w: _Writer) -> Optional[TexUpdate]:
    u = solution.update
    if u is None:
        return None
    after = dict(solution.trace.update.values)  # type: ignore[union-attr]
    params = tuple(TexParam(p.name, tex_symbol(p.name), w.num(p.old), w.num(p.grad),
                            w.factor(p.grad), w.num(p.new), partial(solution.output, p.name))
                   for p in u.params)
    change = u.after - u.before
    return TexUpdate(rate=w.num(u.learning_rate), rate_factor=w.factor(u.learning_rate),
                     params=params, forward=tuple(w.line(line, after) for line in u.forward),
                     before=w.num(u.before), after=w.num(u.after), change=w.num(abs(change)),
                     decreased=change < 0, increased=change > 0)
