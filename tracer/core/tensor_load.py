"""Reading vectors and matrices from a problem file, and the keys of problems that have them.

An input written as a list is a vector (``x: [0.5, -1, 2]``, a column) and a list of
equal-length lists is a matrix, row by row (``W: [[0.1, 0.2], [0.3, 0.4]]``).  Anything else
(an empty list, rows of different lengths, lists nested deeper, numbers mixed with lists)
is refused with its line and what to write instead.  The values are kept as nested tuples
of floats: plain, hashable, comparable data.

Also here, so the checks of the scalar file format stay as they are: ``data:`` (inputs that
are data, not parameters: no gradient is asked for them by default) and ``components:``
(how the component view of a problem of vectors splits its nodes).  Imports only PyYAML
and the rest of core.
"""
from __future__ import annotations

from typing import Any, Optional, Union

import yaml

from .expr import Call, Expr, walk
from .tensor_ops import TENSOR_OPS

__all__ = ["tensor_value", "is_tensor_value", "uses_tensors", "COMPONENTS", "Nested"]

Nested = Union[float, tuple]
#: How the component view splits a node of vectors or matrices into scalar gates: one gate
#: per entry (``z1_1 = W1_1_1 x_1 + ... + b1_1``, a row of the layer) or one gate per
#: scalar operation; ``none`` leaves the component view out.
COMPONENTS = ("entries", "operations", "none")


def is_tensor_value(value: Any) -> bool:
    return isinstance(value, tuple)


def uses_tensors(inputs, expressions: list[Expr]) -> bool:
    """Whether a problem has a vector or matrix input or an operation of them."""
    if any(is_tensor_value(v) for _, v in inputs):
        return True
    return any(isinstance(n, Call) and n.op in TENSOR_OPS for e in expressions
               for n in walk(e))


def tensor_value(checker: Any, node: yaml.SequenceNode, what: str) -> Optional[tuple]:
    """The vector or matrix written at ``node``, as nested tuples; or None after recording
    what is wrong with it (``checker`` is the problem file's checker)."""
    rows = node.value
    if not rows:
        checker.error(f"{what} is an empty list: a vector needs at least one entry, e.g. "
                      "[1, 2]", node)
        return None
    if all(isinstance(r, yaml.SequenceNode) for r in rows):
        return _matrix(checker, node, what)
    if any(isinstance(r, yaml.SequenceNode) for r in rows):
        checker.error(f"{what} mixes numbers and lists: write a vector as a list of numbers "
                      "([1, 2, 3]) or a matrix as a list of rows ([[1, 2], [3, 4]])", node)
        return None
    entries = [checker.number(r, f"entry {i} of {what}") for i, r in enumerate(rows, 1)]
    return None if any(e is None for e in entries) else tuple(entries)


def _matrix(checker: Any, node: yaml.SequenceNode, what: str) -> Optional[tuple]:
    rows = node.value
    width = len(rows[0].value)
    result = []
    ok = True
    for i, row in enumerate(rows, 1):
        if any(isinstance(x, yaml.SequenceNode) for x in row.value):
            checker.error(f"{what} has lists inside the rows of a matrix: tracer works with "
                          "scalars, vectors and matrices (at most two levels of brackets)",
                          row)
            return None
        if len(row.value) != width:
            checker.error(f"{what} is not a matrix: row {i} has {len(row.value)} "
                          f"entr{'y' if len(row.value) == 1 else 'ies'} but row 1 has "
                          f"{width}; give every row the same number of entries", row)
            ok = False
            continue
        if not width:
            checker.error(f"{what} has an empty row: a matrix needs at least one column", row)
            return None
        entries = [checker.number(x, f"row {i}, column {j} of {what}")
                   for j, x in enumerate(row.value, 1)]
        ok = ok and all(e is not None for e in entries)
        result.append(tuple(entries))
    return tuple(result) if ok else None
