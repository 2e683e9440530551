r"""The worked solution of a problem of vectors and matrices in LaTeX math, as its Markdown
pages and printed documents both show it (the counterpart of :mod:`.mathtex`).

Each gate's rules in matrix form with the shapes they multiply (``g x^{\top}``,
``2 \times 1 \cdot 1 \times 4 \to 2 \times 4``); each backward step as the rule, then the
numbers as matrices (every factor without the upstream gradient evaluated: the local
gradient), then the result; the forward pass with the values put in; blank matrices, one box
per entry, for the worksheet; and the component view's gates and the links between the two
views.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from ..core.expr import Call, Const, Expr, Var, walk
from ..core.tensor import evaluate
from ..core.tensor_engine import TensorSum
from ..core.tensor_ops import Shape
from ..core.tensor_rules import UPSTREAM, infer_shape
from ..notation.latex import partial, tex_leaf, tex_symbol, to_tex
from ..notation.numbers import fmt_tex
from ..notation.tensor_latex import (blank_matrix_tex, matrix_tex, matrix_width, shape_tex,
                                     tensor_tex)
from ..view.tensor_solution import (TensorLine, TensorRule, TensorSolution, TensorStepView)
from .base import frame_names

__all__ = ["TexTensorSolution", "tensor_tex_solution", "rule_tex", "numbers_tex", "ONE_LINE"]

#: A step shows the rule, the numbers and the result on one line when they take at most this
#: many characters across (a matrix counts as its widest row); else a line each.
ONE_LINE = 36


@dataclass(frozen=True)
class TexTensorValue:
    name: str
    symbol: str
    value: str
    shape: str
    blank: str


@dataclass(frozen=True)
class TexTensorRule:
    operand: str
    symbol: str            # \frac{\partial L}{\partial W_1}
    formula: str           # g x^\top
    shapes: str            # 2 x 1 . 1 x 4 -> 2 x 4


@dataclass(frozen=True)
class TexTensorLine:
    name: str
    symbol: str
    definition: str
    substituted: str
    value: str
    shape: str
    blank: str
    rounded: bool
    rules: tuple[TexTensorRule, ...] = ()


@dataclass(frozen=True)
class TexTensorSum:
    node: str
    symbol: str
    grad: str
    terms: tuple[str, ...]
    numbers: tuple[str, ...]
    value: str
    count: int
    blank: str


@dataclass(frozen=True)
class TexTensorStep:
    index: int
    node: str
    source: str
    symbol: str
    source_symbol: str
    path: Optional[int]
    grad: str
    rule: str
    numbers: str
    result: str
    shapes: str
    shape: str
    blank: str
    wide: bool             # the rule, the numbers and the result need a line each
    kink: bool
    kink_ops: tuple[str, ...]
    use: Optional[int]
    uses: int
    frame: Optional[str]
    sum: Optional[TexTensorSum]


@dataclass(frozen=True)
class TexTensorBlock:
    steps: tuple[TexTensorStep, ...]
    sum: Optional[TexTensorSum]
    kinks: tuple[str, ...]


@dataclass(frozen=True)
class TexTensorGroup:
    source: str
    symbol: str
    definition: str
    upstream: str
    is_output: bool
    blocks: tuple[TexTensorBlock, ...]


@dataclass(frozen=True)
class TexTensorFinal:
    name: str
    symbol: str
    grad_symbol: str
    value: str
    shape: str
    difference: Optional[str]
    blank: str


@dataclass(frozen=True)
class TexTensorParam:
    name: str
    symbol: str
    old: str
    grad: str
    new: str
    grad_symbol: str
    blank: str


@dataclass(frozen=True)
class TexTensorUpdate:
    rate: str
    params: tuple[TexTensorParam, ...]
    forward: tuple[TexTensorLine, ...]
    before: str
    after: str
    change: str
    decreased: bool
    increased: bool


@dataclass(frozen=True)
class TexLink:
    """An entry of a layer's gradient and the scalar gradient of the component view."""

    name: str
    entry: str             # \left(\frac{\partial L}{\partial W_1}\right)_{1,2}
    value: str
    scalar_symbol: str     # \frac{\partial L}{\partial (W_1)_{1,2}}
    scalar_value: str


@dataclass(frozen=True)
class TexComponents:
    mode: str
    gates: tuple[tuple[str, str], ...]      # (symbol, definition) of every scalar gate
    links: tuple[TexLink, ...]
    inputs: int


@dataclass(frozen=True)
class TexTensorSolution:
    """Everything the templates of a problem of vectors and matrices print."""

    id: str
    title: str
    tags: tuple[str, ...]
    output: str
    output_symbol: str
    seed: str
    inputs: tuple[TexTensorValue, ...]
    data: tuple[str, ...]
    gates: tuple[TexTensorLine, ...]
    steps: tuple[TexTensorStep, ...]
    groups: tuple[TexTensorGroup, ...]
    sums: tuple[TexTensorSum, ...]
    final: tuple[TexTensorFinal, ...]
    update: Optional[TexTensorUpdate]
    rounding: Optional[int]
    frames: tuple[str, ...]
    kink_ops: tuple[str, ...]
    components: Optional[TexComponents]
    uses_onehot: bool


# ----------------------------------------------------------------------------- formulas

def rule_tex(rule: Expr, shapes: Mapping[str, Shape], upstream: str = "g") -> str:
    """A rule in matrix form, the upstream gradient written ``upstream`` (``g``, or the
    fraction d output / d gate)."""
    # A fraction binds like a power's base: transposed or squared, it gets brackets.
    binding = 40 if r"\frac" in upstream else 100

    def leaf(node):
        if isinstance(node, Var) and node.name == UPSTREAM:
            return upstream, binding
        return tex_leaf(node)

    return tensor_tex(rule, shapes, leaf)


def numbers_tex(expr: Expr, env: Mapping, digits: int, *, local: bool) -> str:
    """``expr`` with the numbers put in, as matrices.  With ``local`` (a rule), every part
    without the upstream gradient is evaluated first: what is left is the upstream times
    the local gradient.  A transposed vector is written as a row."""
    holders: dict[str, tuple[str, int, Shape]] = {}

    def hold(value, row: bool = False) -> Var:
        key = f"#{len(holders)}"
        shape = tuple(getattr(value, "shape", ()))
        negative = not shape and float(value) < 0
        holders[key] = (matrix_tex(value, digits, row), 10 if negative else 100, shape)
        return Var(key)

    def upstream_free(e: Expr) -> bool:
        return not any(isinstance(n, Var) and n.name == UPSTREAM for n in walk(e))

    def as_row(e: Expr) -> Expr:
        if isinstance(e, Var) or (local and upstream_free(e)):
            value = evaluate(e, env)
            return hold(value, row=value.ndim == 1)
        return Call("transpose", (convert(e),))

    def convert(e: Expr) -> Expr:
        if isinstance(e, Const):
            return e
        if isinstance(e, Var):
            return hold(env[e.name])
        assert isinstance(e, Call)
        if e.op == "transpose" and (isinstance(e.args[0], Var) or local and upstream_free(e)):
            return as_row(e.args[0]) if evaluate(e.args[0], env).ndim == 1 else \
                hold(evaluate(e, env))
        if local and upstream_free(e):
            return hold(evaluate(e, env))
        if e.op == "outer":
            return Call("matmul", (convert(e.args[0]), as_row(e.args[1])))
        if e.op == "dot":
            return Call("matmul", (as_row(e.args[0]), convert(e.args[1])))
        return Call(e.op, tuple(convert(a) for a in e.args))

    tree = convert(expr)

    def leaf(node):
        if isinstance(node, Var):
            text, prec, _ = holders[node.name]
            return text, prec
        return tex_leaf(node)

    return tensor_tex(tree, {k: v[2] for k, v in holders.items()}, leaf)


def _margin(rule: Expr, shapes: Mapping[str, Shape]) -> str:
    r"""The shapes a rule multiplies, for the margin: ``2 \times 1 \cdot 1 \times 4 \to
    2 \times 4``; the shape of the result alone where it is no product."""
    out = infer_shape(rule, shapes)
    if isinstance(rule, Call) and len(rule.args) == 2:
        a, b = rule.args
        sa, sb = infer_shape(a, shapes), infer_shape(b, shapes)
        row_a = rule.op == "dot" or (rule.op == "matmul" and len(sa) == 1 and len(sb) == 2)
        row_a = row_a or (isinstance(a, Call) and a.op == "transpose" and len(sa) == 1)
        symbol = {"matmul": r"\cdot", "outer": r"\cdot", "dot": r"\cdot"}.get(rule.op)
        if rule.op == "mul" and sa and sb:
            symbol = r"\odot"
        if symbol:
            return (rf"{shape_tex(sa, row_a)} \;{symbol}\; {shape_tex(sb, rule.op == 'outer')}"
                    rf" \;\to\; {shape_tex(out)}")
    return shape_tex(out)


# ----------------------------------------------------------------------------- the records

class _Writer:
    def __init__(self, s: TensorSolution):
        self.s, self.d, self.out = s, s.precision, s.output
        self.shapes = dict(s.shapes)
        self.blank_width = "-0." + "0" * max(1, s.precision - 1)

    def matrix(self, value) -> str:
        return matrix_tex(value, self.d)

    def inline(self, value) -> str:
        """A value in a line of text: a vector as a transposed row, so it stays low."""
        if getattr(value, "ndim", 0) == 1:
            return matrix_tex(value, self.d, row=True) + r"^{\top}"
        return self.matrix(value)

    def blank(self, shape: Shape) -> str:
        return blank_matrix_tex(shape, self.blank_width)

    def rule(self, r: TensorRule) -> TexTensorRule:
        shapes = dict(self.shapes, **{UPSTREAM: self.shapes[r.gate]})
        return TexTensorRule(r.operand, partial(self.out, r.operand),
                             rule_tex(r.rule, shapes, "g"), _margin(r.rule, shapes))

    def line(self, line: TensorLine, values: Mapping, rules: bool = True) -> TexTensorLine:
        assert line.expr is not None
        return TexTensorLine(
            line.name, tex_symbol(line.name), tensor_tex(line.expr, self.shapes),
            numbers_tex(line.expr, values, self.d, local=False), self.matrix(line.value),
            shape_tex(line.shape), self.blank(line.shape), line.rounded,
            tuple(self.rule(r) for r in line.rules) if rules else ())

    def sum(self, total: TensorSum) -> TexTensorSum:
        count = len(total.contributions)
        return TexTensorSum(
            total.node, tex_symbol(total.node), partial(self.out, total.node),
            tuple(partial(self.out, total.node, k) for k in range(1, count + 1)),
            tuple(self.matrix(c) for c in total.contributions), self.matrix(total.grad),
            count, self.blank(self.shapes[total.node]))

    def step(self, s: TensorStepView, frame: Optional[str]) -> TexTensorStep:
        shapes = dict(self.shapes, **{UPSTREAM: self.shapes[s.source]})
        env = dict(self.s.values, **{UPSTREAM: s.upstream})
        grad, rule = partial(self.out, s.node, s.path), rule_tex(s.rule, shapes,
                                                                  partial(self.out, s.source))
        numbers, result = numbers_tex(s.rule, env, self.d, local=True), \
            self.matrix(s.contribution)
        return TexTensorStep(
            index=s.index, node=s.node, source=s.source, symbol=tex_symbol(s.node),
            source_symbol=tex_symbol(s.source), path=s.path,
            grad=grad, rule=rule, numbers=numbers, result=result,
            shapes=_margin(s.rule, shapes), shape=shape_tex(self.shapes[s.node]),
            blank=self.blank(self.shapes[s.node]),
            wide=matrix_width(" = ".join((grad, rule, numbers, result))) > ONE_LINE,
            kink=s.kink, kink_ops=s.kink_ops, use=s.use, uses=s.uses, frame=frame,
            sum=self.sum(s.sum) if s.sum is not None else None)


def tensor_tex_solution(solution: TensorSolution) -> TexTensorSolution:
    """The LaTeX of every part of ``solution``."""
    w = _Writer(solution)
    out = solution.output
    values = solution.values
    gates = tuple(w.line(line, values) for line in solution.gates)
    frames = frame_names(solution)      # type: ignore[arg-type]
    steps = {s.index: w.step(s, frames[s.index - 1] if frames else None)
             for s in solution.steps}
    groups = tuple(TexTensorGroup(
        g.source, tex_symbol(g.source), tensor_tex(g.expr, w.shapes), w.inline(g.upstream),
        g.is_output, tuple(TexTensorBlock(tuple(steps[s.index] for s in b.steps),
                                          steps[b.steps[-1].index].sum, b.kinks)
                           for b in g.blocks))
        for g in solution.groups)
    final = tuple(TexTensorFinal(
        f.name, tex_symbol(f.name), partial(out, f.name), w.matrix(f.grad),
        shape_tex(solution.shapes[f.name]),
        fmt_tex(f.difference, 2) if f.difference is not None else None,
        w.blank(solution.shapes[f.name])) for f in solution.final)
    return TexTensorSolution(
        id=solution.id, title=solution.title, tags=solution.tags, output=out,
        output_symbol=tex_symbol(out), seed=partial(out, out),
        inputs=tuple(TexTensorValue(v.name, tex_symbol(v.name), w.matrix(v.value),
                                    shape_tex(v.shape), w.blank(v.shape))
                     for v in solution.inputs),
        data=tuple(tex_symbol(n) for n in solution.data),
        gates=gates, steps=tuple(steps[i] for i in sorted(steps)), groups=groups,
        sums=tuple(w.sum(a) for a in solution.sums), final=final,
        update=_update(solution, w), rounding=solution.rounding, frames=tuple(frames),
        kink_ops=solution.kink_ops, components=_components(solution, w),
        uses_onehot=any(isinstance(n, Call) and n.op == "onehot"
                        for line in solution.gates for r in line.rules
                        for n in walk(r.rule)))


def _update(solution: TensorSolution, w: _Writer) -> Optional[TexTensorUpdate]:
    u = solution.update
    if u is None:
        return None
    after = dict(solution.trace.update.values)  # type: ignore[union-attr]
    params = tuple(TexTensorParam(p.name, tex_symbol(p.name), w.matrix(p.old), w.matrix(p.grad),
                                  w.matrix(p.new), partial(solution.output, p.name),
                                  w.blank(solution.shapes[p.name])) for p in u.params)
    change = u.after - u.before
    return TexTensorUpdate(
        rate=fmt_tex(u.learning_rate, w.d), params=params,
        forward=tuple(w.line(line, after, rules=False) for line in u.forward),
        before=fmt_tex(u.before, w.d), after=fmt_tex(u.after, w.d),
        change=fmt_tex(abs(change), w.d), decreased=change < 0, increased=change > 0)


def _components(solution: TensorSolution, w: _Writer) -> Optional[TexComponents]:
    c = solution.components
    if c is None:
        return None
    out = solution.output
    gates = tuple((tex_symbol(line.name), to_tex(line.expr)) for line in c.solution.gates)
    links = tuple(TexLink(
        l.name, _entry(partial(out, l.name), l.index), fmt_tex(l.grad, w.d),
        partial(out, l.scalar), fmt_tex(l.scalar_grad, w.d)) for l in c.links)
    return TexComponents(c.mode, gates, links, len(c.solution.inputs))


def _entry(symbol: str, index: tuple[int, ...]) -> str:
    if not index:
        return symbol
    return r"\left(" + symbol + r"\right)_{" + ",".join(str(i + 1) for i in index) + "}"


