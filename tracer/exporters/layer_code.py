"""Generated code of a problem of vectors and matrices, from ``templates/code/``:

* ``staged.py``: the forward pass layer by layer in numpy, then one line per rule of the
  backward pass (``dW1 = np.outer(dz1, x)``, ``dx = W1.T @ dz1``; ``+=`` where contributions
  to one gradient meet), in the order of the answer key, printing the gradients as JSON;
* ``check_torch.py``: the same function in PyTorch (float64 tensors with
  ``requires_grad``), ``backward()``, and the gradients printed as JSON.

The code exporter (:mod:`.code`) hands a problem of vectors and matrices to this module.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from ..core.expr import Call, Var, walk
from ..core.tensor_rules import UPSTREAM
from ..notation.tensor_code import (NUMPY, NUMPY_HELPERS, TORCH, TORCH_HELPERS, array_literal,
                                    to_code)
from ..view.tensor_solution import TensorSolution
from .base import document_environment, shared

__all__ = ["TensorCodeModel", "tensor_code_model", "tensor_generated_code"]

#: Names the generated files use themselves; a problem's names that clash are renamed.
RESERVED = frozenset({"np", "torch", "json", "print", "float", "grad", "rounded", "None",
                      "True", "False"} | set(NUMPY_HELPERS) | set(TORCH_HELPERS))


@dataclass(frozen=True)
class Line:
    name: str
    expr: str


@dataclass(frozen=True)
class InputLine:
    name: str
    value: str
    array: bool
    source: str


@dataclass(frozen=True)
class GradLine:
    grad: str
    op: str              # "=" for the first contribution, "+=" for the next
    expr: str
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
class TensorCodeModel:
    """What the templates of the generated numpy and PyTorch code print."""

    id: str
    rounding: Optional[int]
    inputs: tuple[InputLine, ...]
    forward: tuple[Line, ...]
    groups: tuple[GradGroup, ...]
    seed: str
    output: str
    report: tuple[Report, ...]
    retain: tuple[str, ...]
    helpers: tuple[str, ...]
    torch_forward: tuple[Line, ...]
    torch_helpers: tuple[str, ...]


def _names(solution: TensorSolution) -> tuple[dict[str, str], dict[str, str]]:
    """Python names for each value and each gradient (``W1`` -> ``W1``, ``dW1``)."""
    all_names = [n.name for n in solution.trace.nodes]
    taken = set(RESERVED) | set(all_names)
    names: dict[str, str] = {}
    for name in all_names:
        chosen = name
        if name in RESERVED:
            while chosen in taken:
                chosen += "_"
            taken.add(chosen)
        names[name] = chosen
    for prefix in ("d", "grad_", "grad__", "grad___"):
        grads = {n: prefix + v for n, v in names.items()}
        if not (set(grads.values()) & (set(names.values()) | RESERVED)):
            return names, grads
    return names, {n: f"grad{i}_{v}" for i, (n, v) in enumerate(names.items())}  # pragma: no cover


def _used(exprs, table) -> list[str]:
    found = {n.op for e in exprs for n in walk(e) if isinstance(n, Call)}
    return [h for h, form in table.items() if form.helper and h in found]


def tensor_code_model(solution: TensorSolution) -> TensorCodeModel:
    """The names, expressions and literals of both generated files."""
    trace = solution.trace
    names, grads = _names(solution)
    sums = {a.node for a in trace.sums}
    groups: list[GradGroup] = []
    for step in solution.steps:
        def name(n: str, source: str = step.source) -> str:
            return grads[source] if n == UPSTREAM else names[n]

        text = to_code(step.rule, NUMPY, name)
        first = (step.path or 1) == 1
        if first and step.node in sums and isinstance(step.rule, Var):
            text = f"np.array({text})"      # a copy: += must not change the other gradient
        line = GradLine(grads[step.node], "=" if first else "+=", text, step.node, step.path)
        if not groups or groups[-1].source != step.source:
            expr = next(g.expr for g in solution.gates if g.name == step.source)
            groups.append(GradGroup(step.source, f"{step.source} = "
                                    f"{to_code(expr, NUMPY, lambda n: n)}", ()))
        groups[-1] = GradGroup(groups[-1].source, groups[-1].text, groups[-1].lines + (line,))
    gate_exprs = [g.expr for g in solution.gates]
    rules = [s.rule for s in solution.steps]
    # Data is given: no gradient is computed for it, so none is reported.
    report = [n for n in trace.inputs if n not in trace.constants] + \
        [n for n in trace.wrt if n not in trace.inputs]
    return TensorCodeModel(
        id=solution.id, rounding=solution.rounding,
        inputs=tuple(InputLine(names[v.name], array_literal(v.value), bool(v.shape), v.name)
                     for v in solution.inputs),
        forward=tuple(Line(names[g.name], to_code(g.expr, NUMPY, names.__getitem__))
                      for g in solution.gates),
        groups=tuple(groups), seed=grads[trace.output], output=names[trace.output],
        report=tuple(Report(json.dumps(n), grads[n], names[n]) for n in report),
        retain=tuple(names[n] for n in trace.wrt if n not in trace.inputs),
        helpers=tuple(h for h in NUMPY_HELPERS if h in _used(gate_exprs + rules, NUMPY)
                      or (h == "log_softmax" and "cross_entropy" in _used(gate_exprs, NUMPY))),
        torch_forward=tuple(Line(names[g.name], to_code(g.expr, TORCH, names.__getitem__,
                                                         torch=True))
                            for g in solution.gates),
        torch_helpers=tuple(h for h in TORCH_HELPERS if h in _used(gate_exprs, TORCH)))


def tensor_generated_code(solution: TensorSolution) -> tuple[str, str]:
    """The text of ``staged.py`` and ``check_torch.py``."""
    model = shared(solution, tensor_code_model)
    env = document_environment()
    return (env.get_template("code/staged_numpy.py.j2").render(code=model),
            env.get_template("code/check_torch_tensor.py.j2").render(code=model))
