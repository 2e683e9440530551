"""Generated code of a problem, from ``templates/code/``:

* ``staged.py``: the forward and backward pass as plain Python, one line per gate and one
  per chain-rule step (``dx = ...`` then ``dx += ...`` where contributions add up), in the
  order of the answer key, printing the gradients as JSON;
* ``check_torch.py``: the same function in PyTorch (float64 scalars with
  ``requires_grad``), ``backward()``, and the gradients printed as JSON.

A problem's names that clash with what the code uses itself are renamed in it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Optional

from ..core.expr import Call, Const, Expr, Var, defined, walk
from ..notation import sympy as symbolic
from ..notation.numbers import fmt_full
from ..notation.python import HELPERS, MATH_FUNCTIONS, RESERVED, TABLE, py_leaf, to_python
from ..notation.torch import HELPERS as TORCH_HELPERS
from ..notation.torch import to_torch
from ..view.solution import Solution
from ..view.tensor_solution import is_tensor
from .base import (Content, Download, Exporter, Options, document_environment, register, shared,
                   written_out)
from .lines import wrap_python

__all__ = ["CodeExporter", "GeneratedCode", "generated_code", "CodeModel", "code_model"]


@dataclass(frozen=True)
class Assignment:
    name: str
    expr: str


@dataclass(frozen=True)
class InputLine:
    name: str
    value: str
    source: str
    data: bool = False      # given: no gradient is computed for it


@dataclass(frozen=True)
class GradLine:
    grad: str
    op: str             # "=" for the first contribution, "+=" for the next
    upstream: str
    local: str
    node: str
    path: Optional[int]


@dataclass(frozen=True)
class GradGroup:
    source: str
    text: str
    lines: tuple[GradLine, ...]


@dataclass(frozen=True)
class Report:
    key: str
    grad: str
    name: str


@dataclass(frozen=True)
class CodeModel:
    """What the code templates print: Python names, expressions and literals."""

    id: str
    rounding: Optional[int]
    inputs: tuple[InputLine, ...]
    forward: tuple[Assignment, ...]
    groups: tuple[GradGroup, ...]
    seed: str
    output: str
    report: tuple[Report, ...]
    retain: tuple[str, ...]
    math: tuple[str, ...]
    helpers: tuple[str, ...]
    torch_forward: tuple[Assignment, ...]
    torch_helpers: tuple[str, ...]


@dataclass(frozen=True)
class GeneratedCode:
    """The two generated files' text."""

    staged: str
    torch: str


def _names(solution: Solution) -> tuple[dict[str, str], dict[str, str]]:
    """Python variable names for each value and each gradient (``x`` -> ``x``, ``dx``)."""
    taken = set(RESERVED) | {n.name for n in solution.trace.nodes}
    names: dict[str, str] = {}
    for n in solution.trace.nodes:
        name = n.name
        if name in RESERVED:
            while name in taken:
                name += "_"
            taken.add(name)
        names[n.name] = name
    for prefix in ("d", "grad_", "grad__", "grad___"):
        grads = {n: prefix + v for n, v in names.items()}
        if not (set(grads.values()) & (set(names.values()) | RESERVED)):
            return names, grads
    grads = {n: f"grad{i}_{v}" for i, (n, v) in enumerate(names.items())}  # pragma: no cover
    return names, grads


def _functions(exprs: list[Optional[Expr]]) -> set[str]:
    used: set[str] = set()
    for expr in exprs:
        if expr is None:
            used.update(MATH_FUNCTIONS + HELPERS)
            continue
        used.update(n.op for n in walk(expr) if isinstance(n, Call))
    return used


def _factor(expr: Optional[Expr], text: str) -> str:
    """``text`` (a local derivative in Python) ready to multiply: parenthesised unless it
    binds at least as tightly as ``*``'s right operand."""
    if expr is None:
        return f"({text})"
    if isinstance(expr, Var):
        return text
    if isinstance(expr, Const):
        return text if expr.value >= 0 else f"({text})"
    return text if TABLE[expr.op].prec > 20 else f"({text})"   # type: ignore[union-attr]


def _locals(solution: Solution, names: dict[str, str], leaf, used: set[str]
            ) -> dict[str, dict[int, tuple[Optional[Expr], str]]]:
    """Each gate's local derivatives as (expression, Python text), by slot."""
    result: dict[str, dict[int, tuple[Optional[Expr], str]]] = {}
    renamed = {old: new for old, new in names.items() if old != new}
    # One pattern for every renamed name: a loop over the names per derivative would cost
    # a gate of n operands n^2.
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(renamed, key=len,
                                                                   reverse=True))) + r")\b") \
        if renamed else None
    for line in solution.gates:
        row: dict[int, tuple[Optional[Expr], str]] = {}
        for local in line.locals:
            formula = local.formula
            if formula.expr is not None and not defined(formula.expr, solution.values):
                # The formula fails here (log(0) in the exponent's derivative of x ** k at
                # x = 0) and the engine used its limit: the code uses the number.
                row[local.slot] = (Const(local.value), fmt_full(local.value))
            elif formula.expr is not None:
                row[local.slot] = (formula.expr, to_python(formula.expr, leaf))
                used |= _functions([formula.expr])
            else:
                # SymPy's text that the problem language does not read: used as written,
                # with clashing names renamed.
                text = symbolic.derivative_python(formula.symbolic) \
                    if formula.symbolic is not None else "0.0"
                if pattern is not None:
                    text = pattern.sub(lambda m: renamed[m.group(1)], text)
                row[local.slot] = (None, text)
                used |= set(MATH_FUNCTIONS + HELPERS)
        result[line.name] = row
    return result


def code_model(solution: Solution) -> CodeModel:
    """The names, expressions and literals of both generated files."""
    trace = solution.trace
    names, grads = _names(solution)

    def leaf(node):
        return py_leaf(node, names)

    used = _functions([line.expr for line in solution.gates])
    locals_py = _locals(solution, names, leaf, used)
    expr_of = {line.name: line.expr for line in solution.gates}
    runs: list[tuple[str, list[GradLine]]] = []
    for step in solution.steps:
        expr, text = locals_py[step.source][step.slot]
        line = GradLine(grads[step.node], "+=" if (step.path or 1) > 1 else "=",
                        grads[step.source], _factor(expr, text), step.node, step.path)
        if not runs or runs[-1][0] != step.source:
            runs.append((step.source, []))
        runs[-1][1].append(line)   # a list per gate: adding to a tuple would copy it each time
    groups = [GradGroup(source, f"{source} = {to_python(expr_of[source])}", tuple(lines))
              for source, lines in runs]
    inputs = set(trace.inputs)     # a set: wrt x inputs membership tests add up
    report = [n for n in trace.inputs if n not in trace.constants] + \
        [n for n in trace.wrt if n not in inputs]
    helper_needs = {n for h in HELPERS if h in used for n in TABLE[h].needs}
    return CodeModel(
        id=solution.id, rounding=solution.rounding,
        inputs=tuple(InputLine(names[v.name], fmt_full(v.value), v.name,
                               v.name in trace.constants) for v in solution.inputs),
        forward=tuple(Assignment(names[line.name], to_python(line.expr, leaf))
                      for line in solution.gates),
        groups=tuple(groups), seed=grads[trace.output], output=names[trace.output],
        report=tuple(Report(json.dumps(n), grads[n], names[n]) for n in report),
        retain=tuple(names[n] for n in trace.wrt if n not in inputs),
        math=tuple(f for f in MATH_FUNCTIONS if f in used or f in helper_needs),
        helpers=tuple(h for h in HELPERS if h in used),
        torch_forward=tuple(Assignment(names[line.name], to_torch(line.expr, leaf))
                            for line in solution.gates),
        torch_helpers=tuple(h for h in TORCH_HELPERS
                            if h in _functions([line.expr for line in solution.gates])))


def generated_code(solution: Solution) -> GeneratedCode:
    """The text of ``staged.py`` and ``check_torch.py`` (long lines broken: the code is
    also printed in the answer key, and TeX reads lines of bounded length)."""
    if is_tensor(solution):     # numpy code of layers: tracer.exporters.layer_code
        from .layer_code import tensor_generated_code

        staged, torch = tensor_generated_code(solution)  # type: ignore[arg-type]
        return GeneratedCode(wrap_python(staged), wrap_python(torch))
    model = shared(solution, code_model)
    env = document_environment()
    return GeneratedCode(
        wrap_python(env.get_template("code/staged.py.j2").render(code=model)),
        wrap_python(env.get_template("code/check_torch.py.j2").render(code=model)))


@register
class CodeExporter(Exporter):
    name = "code"
    order = 40
    downloads = (Download("python", "staged", "staged.py"),
                 Download("python", "torch", "check_torch.py"))

    def files(self, solution: Solution, options: Options) -> dict[str, Content]:
        if not written_out(solution):
            return {}       # its overview sends the reader to `tracer trace`
        code = shared(solution, generated_code)
        return {"staged.py": code.staged, "check_torch.py": code.torch}
