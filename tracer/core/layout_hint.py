"""The author's hint for drawing the graph: ``layout: {columns: [[x1, w1], [u], [y]]}``.

Each column is a list of names (inputs or nodes), drawn in one column of the figure, top
down in the order given; the columns go left to right.  Names left out are placed where
the figure's layout finds best.  Read here (:func:`read_layout`, the shape of the value)
and checked against the graph in :mod:`tracer.core.graph` (:func:`check_layout`: every
name is an input or a node, and a value is drawn left of the nodes that use it).

This module imports only tracer.core's errors and text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from .errors import did_you_mean
from .text import quote

__all__ = ["LayoutHint", "read_layout", "check_layout", "LAYOUT_KEYS"]

LAYOUT_KEYS = ("columns",)
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class LayoutHint:
    """Columns of names, left to right; each column's names top down."""

    columns: tuple[tuple[str, ...], ...] = ()

    def column_of(self) -> dict[str, int]:
        """Each listed name -> the index of its column (0 is the leftmost)."""
        return {name: i for i, column in enumerate(self.columns) for name in column}


def read_layout(reader: Any, node: Any) -> Optional[LayoutHint]:
    """The ``layout:`` block as written (``reader``: the problem's
    :class:`~tracer.core.reader.Reader`); the names are checked against the graph later."""
    example = "e.g. 'layout: {columns: [[x1, w1], [u1], [y]]}'"
    if node.tag == _SEQ:
        reader.error(f"layout must be a mapping with the key 'columns', not a list: {example}",
                     node)
        return None
    entries = reader.mapping(node, "layout")
    found, unknown = {}, False
    for key, key_node, value_node in entries:
        if key not in LAYOUT_KEYS:
            unknown = True
            reader.error(f"unknown key '{quote(key)}' in layout{did_you_mean(key, LAYOUT_KEYS)} "
                         f"(the keys are: {', '.join(LAYOUT_KEYS)})", key_node)
            continue
        found[key] = value_node
    if "columns" not in found:
        if entries and not unknown:
            reader.error("layout needs 'columns': a list of columns, left to right, each a "
                         "list of names, e.g. 'columns: [[x1, w1], [u1], [y]]'", node)
        return None
    value = found["columns"]
    if value.tag != _SEQ or not value.value:
        reader.error("layout: columns must be a list of columns, left to right, each a list "
                     "of names, e.g. 'columns: [[x1, w1], [u1], [y]]'", value)
        return None
    columns: list[tuple[str, ...]] = []
    seen: dict[str, int] = {}
    ok = True
    for number, item in enumerate(value.value, 1):
        names = reader.names(item, f"layout: column {number}")
        if names is None:
            ok = False
            continue
        if not names:
            reader.error(f"layout: column {number} is empty: list names in it or remove it",
                         item)
            ok = False
        for name in names:
            if name in seen:
                reader.error(f"layout: '{quote(name)}' is listed twice (in column "
                             f"{seen[name]} and column {number}): a name is drawn once, "
                             "in one column", item)
                ok = False
            seen.setdefault(name, number)
            reader.lines.setdefault(f"layout.{name}", item.start_mark.line + 1)
        columns.append(names)
    reader.lines["layout"] = node.start_mark.line + 1
    return LayoutHint(tuple(columns)) if ok else None


def check_layout(hint: LayoutHint, inputs: tuple[str, ...], operands: Mapping[str, tuple],
                 forward: tuple[str, ...], line: Callable[[str], Optional[int]],
                 error: Callable[..., None]) -> None:
    """Every name of ``hint`` is an input or a node, and no name is in a column left of (or
    the same as) one of the values it is computed from: the figure reads left to right.
    ``operands``: each gate's operands; ``forward``: every name in the forward order."""
    known = list(inputs) + list(operands)
    column = hint.column_of()
    for name, index in column.items():
        if name not in operands and name not in inputs:
            error(f"layout: there is no input or node '{quote(name)}'"
                  f"{did_you_mean(name, known)}", line(name))
    # The rightmost listed value each name is computed from (through unlisted ones too).
    source: dict[str, tuple[int, str]] = {}
    for name in forward:
        best: Optional[tuple[int, str]] = None
        for operand in operands.get(name, ()):
            found = (column[operand], operand) if operand in column else source.get(operand)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        if best is None:
            continue
        if name in column and best[0] >= column[name]:
            where = "the same column" if best[0] == column[name] else \
                f"column {best[0] + 1}, right of its column {column[name] + 1}"
            error(f"layout: '{name}' is computed from '{best[1]}', which is in {where}: "
                  f"put '{best[1]}' in a column left of '{name}' (the figure reads left "
                  "to right)", line(name))
            continue
        source[name] = (column[name], name) if name in column else best
