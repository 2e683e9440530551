"""Repeated nodes: the ``repeat:`` block of a problem file, expanded before anything else
sees the problem.  An unrolled recurrent network or a deep chain is written once::

    repeat:
      t: 1..10                        # the index and its values: a list of whole numbers,
                                      # or from..to
      inputs:                         # optional: inputs made per step, one number for all
        x{t}: [0.5, -0.1, 0, ...]     # steps or a list with one per step
      nodes:
        a{t}: w * h{t-1} + u * x{t}
        h{t}: tanh(a{t})

Inside a name, ``{...}`` holds a whole-number expression in the index (``t``, ``t-1``,
``2*t+1``) whose value is written in its place: ``h{t-1}`` at t = 3 is ``h2``.  The
expanded nodes are ordinary nodes with ordinary names (h1, h2, ...); a name made for a
step outside the range (``h0`` at t = 1) must be an input or a node of its own, or the
error says so, at the line of the template.

A name the templates use without braces (``w``, ``u``) is the same value at every step: a
weight shared across the steps, whose gradient sums one contribution per step.

The block is read through the problem checker of :mod:`tracer.core.load` (its
``error``, ``mapping``, ``number``, ``text`` and ``lines``), so its mistakes are reported
with the others.  This module imports only the standard library and tracer.core.expr.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .expr import ExprError, parse, valid_name_reason
from .primitives import FUNCTIONS

__all__ = ["Repeat", "Family", "expand", "MAX_STEPS"]

#: The most values an index may take (a problem is a page, not a data set).
MAX_STEPS = 1000
_BLOCK_KEYS = ("inputs", "nodes")
_GROUP = re.compile(r"\{([^{}]*)\}")
# A name as written in a template: letters, digits, underscores and {...} groups.
_TEMPLATE_NAME = re.compile(
    r"(?<![\w.])(?:[A-Za-z_][A-Za-z0-9_]*|(?=\{))(?:\{[^{}]*\}[A-Za-z0-9_]*)*")
_RANGE = re.compile(r"\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*\Z")


@dataclass(frozen=True)
class Family:
    """The names one template makes, by index value: ``h{t}`` -> ((1, "h1"), (2, "h2"),
    ...).  ``names`` also holds the names the templates read outside the range that exist
    (``h0``, at the index value that would make it), in index order."""

    template: str
    kind: str                                 # "node" or "input"
    names: tuple[tuple[int, str], ...]
    carried: bool = False                     # read at another step (h{t-1}): a state


@dataclass(frozen=True)
class Repeat:
    """A problem's repeated nodes, as the pages describe them."""

    index: str
    values: tuple[int, ...]
    families: tuple[Family, ...]
    shared: tuple[str, ...]                   # read at every step without an index
    line: Optional[int] = None

    def step_of(self, name: str) -> Optional[int]:
        """The index value whose step made the node or input ``name``, if one did."""
        for family in self.families:
            for value, made in family.names:
                if made == name and value in self.values:
                    return value
        return None


class _Template:
    """One name or expression with {...} groups, each compiled once."""

    def __init__(self, text: str, index: str):
        self.text = text
        self.parts = _GROUP.split(text)      # text, group, text, group, ... text
        self.groups = [_group(g, index) for g in self.parts[1::2]]

    def at(self, value: int) -> str:
        out = list(self.parts)
        for i, group in enumerate(self.groups):
            out[2 * i + 1] = str(group(value))
        return "".join(out)


def _group(text: str, index: str) -> Callable[[int], int]:
    """``{t-1}``'s inside as a function of the index: + - * of whole numbers and the index."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"'{{{text}}}' is not an expression in {index}") from None

    def build(node: ast.AST) -> Callable[[int], int]:
        if isinstance(node, ast.Name) and node.id == index:
            return lambda v: v
        if isinstance(node, ast.Constant) and type(node.value) is int:
            constant = node.value
            return lambda v: constant
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = build(node.operand)
            return lambda v: -inner(v)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = build(node.left), build(node.right)
            op = type(node.op)
            if op is ast.Add:
                return lambda v: left(v) + right(v)
            if op is ast.Sub:
                return lambda v: left(v) - right(v)
            return lambda v: left(v) * right(v)
        raise ValueError(f"'{{{text}}}' may use only {index}, whole numbers, + - * and "
                         "parentheses")

    return build(tree)


def expand(checker: Any, node: Any, fields: dict, make_node: Callable) -> dict:
    """The inputs and nodes of the ``repeat`` block ``node`` (a YAML mapping), with those of
    ``fields`` (the problem's own, already read) before or after them as the file has
    them, and the :class:`Repeat` that describes them: a dict of ``inputs``, ``nodes`` and
    ``repeat``.  Mistakes go to ``checker.error``; what could not be read is left out."""
    entries = checker.mapping(node, "repeat")
    index = values = None
    blocks: dict[str, Any] = {}
    for key, key_node, value_node in entries:
        if key in _BLOCK_KEYS:
            blocks[key] = (key_node, value_node)
        elif index is None:
            reason = valid_name_reason(key)
            if reason:
                checker.error(f"repeat: '{key}' cannot be the name of the index: {reason}",
                              key_node)
                return {}
            index, values = key, _values(checker, value_node, key)
        else:
            checker.error(f"repeat: '{key}' is a second index (the first is '{index}'); a "
                          "repeat has one index, besides 'inputs' and 'nodes'", key_node)
    if index is None:
        checker.error("repeat needs an index and its values, e.g. 't: 1..10', besides "
                      "'inputs' and 'nodes'", node)
        return {}
    if "nodes" not in blocks:
        checker.error("repeat needs 'nodes': the nodes of one step, named with "
                      f"{{{index}}}, e.g. 'h{{{index}}}: tanh(w * h{{{index}-1}})'", node)
        return {}
    if not values:
        return {}
    return _Expansion(checker, index, values, make_node).run(blocks, fields)


def _values(checker: Any, node: Any, index: str) -> Optional[tuple[int, ...]]:
    what = f"repeat: the values of {index}"
    shape = f"{what} are a list of whole numbers, e.g. [1, 2, 3], or a range such as 1..10"
    if getattr(node, "tag", "").endswith(":str"):
        match = _RANGE.match(str(node.value))
        if not match:
            checker.error(shape, node)
            return None
        low, high = int(match.group(1)), int(match.group(2))
        if high < low:
            checker.error(f"{what}: the range {low}..{high} is empty (the first number is "
                          "the smallest)", node)
            return None
        found = list(range(low, min(high, low + MAX_STEPS) + 1))
        if high - low + 1 > MAX_STEPS:
            found.append(high)      # reported as too many below
    elif getattr(node, "tag", "").endswith(":seq"):
        found = []
        for item in node.value:
            number = checker.number(item, what) if getattr(item, "tag", "").endswith(":int") \
                else None
            if number is None:
                checker.error(shape, item)
                return None
            found.append(int(number))
    else:
        checker.error(shape, node)
        return None
    if not found:
        checker.error(f"{what} are empty: give at least one", node)
        return None
    if len(found) > MAX_STEPS:
        checker.error(f"{what}: at most {MAX_STEPS} steps", node)
        return None
    if len(set(found)) != len(found):
        checker.error(f"{what}: each value may appear once", node)
        return None
    return tuple(found)


def _shape(template: _Template) -> str:
    """A template with its groups blanked: ``h{t-1}`` and ``h{t}`` are both ``h{}``."""
    return "{}".join(template.parts[0::2])


class _Expansion:
    """One repeat block being expanded: its templates, what they made, what they read."""

    def __init__(self, checker: Any, index: str, values: tuple[int, ...],
                 make_node: Callable):
        self.checker, self.index, self.values, self.make_node = checker, index, values, make_node
        self.families: list[tuple[_Template, str, list[tuple[int, str]]]] = []
        self.made: dict[str, tuple[str, Any]] = {}     # name -> (template, its YAML key)
        # (template's node name, reference template, line, YAML node) per reference
        self.references: list[tuple[str, _Template, Any]] = []
        self.shared: dict[str, None] = {}

    def span(self) -> str:
        v = self.values
        consecutive = list(v) == list(range(v[0], v[0] + len(v)))
        shown = f"{v[0]}..{v[-1]}" if consecutive and len(v) > 2 else \
            ", ".join(map(str, v))
        return f"{self.index} = {shown}"

    def template(self, text: str, node: Any, what: str, named: bool) -> Optional[_Template]:
        try:
            template = _Template(text, self.index)
        except ValueError as exc:
            self.checker.error(f"repeat: {what}: {exc}", node)
            return None
        if "{" in "".join(template.parts[0::2]) or "}" in "".join(template.parts[0::2]):
            self.checker.error(f"repeat: {what}: a '{{' or '}}' without its partner", node)
            return None
        if named and not template.groups:
            self.checker.error(f"repeat: {what} has no {{{self.index}}} in its name, so every "
                               f"step would make it again: write it as {text}{{{self.index}}}, "
                               "or define it under the problem's own 'nodes' or 'inputs'", node)
            return None
        return template

    def names(self, template: _Template, key: str, node: Any, kind: str) -> list[tuple[int, str]]:
        """The names ``template`` makes, one per step; each must be a new, valid name."""
        made = []
        for value in self.values:
            name = template.at(value)
            reason = valid_name_reason(name)
            if reason:
                self.checker.error(f"repeat: the {kind} '{key}' is '{name}' at {self.index} = "
                                   f"{value}, which cannot be a name: {reason}", node)
                return []
            if name in self.made:
                first, at = self.made[name]
                self.checker.error(f"repeat: the {kind} '{key}' makes '{name}' at {self.index} "
                                   f"= {value}, as '{first}' does (line "
                                   f"{at.start_mark.line + 1}): each name is made once", node)
                return []
            self.made[name] = (key, node)
            made.append((value, name))
        return made

    def inputs(self, node: Any) -> list[tuple[str, float]]:
        result: list[tuple[str, float]] = []
        for key, key_node, value_node in self.checker.mapping(node, "repeat: inputs"):
            template = self.template(key, key_node, f"the input '{key}'", named=True)
            if template is None:
                continue
            given = self.input_values(key, value_node)
            made = self.names(template, key, key_node, "input")
            if given is None or not made:
                continue
            self.families.append((template, "input", made))
            for (_, name), value in zip(made, given):
                self.checker.lines[f"inputs.{name}"] = key_node.start_mark.line + 1
                result.append((name, value))
        return result

    def input_values(self, key: str, node: Any) -> Optional[list[float]]:
        what = f"repeat: the input '{key}'"
        if getattr(node, "tag", "").endswith(":seq"):
            numbers = [self.checker.number(item, what) for item in node.value]
            if any(n is None for n in numbers):
                return None
            if len(numbers) != len(self.values):
                self.checker.error(f"{what} has {len(numbers)} values for {len(self.values)} "
                                   f"steps ({self.span()}): give one per step, or one number "
                                   "for all", node)
                return None
            return numbers  # type: ignore[return-value]
        number = self.checker.number(node, what)
        return None if number is None else [number] * len(self.values)

    def nodes(self, node: Any) -> list:
        """The nodes of every step, step after step (a1, h1, a2, h2, ...)."""
        entries = self.checker.mapping(node, "repeat: nodes")
        if not entries and getattr(node, "tag", "").endswith(":map"):
            self.checker.error("repeat: nodes is empty: define the nodes of one step", node)
        steps: list[list] = [[] for _ in self.values]
        for key, key_node, value_node in entries:
            template = self.template(key, key_node, f"the node '{key}'", named=True)
            text = self.checker.text(value_node, f"repeat: the node '{key}'")
            if template is None or text is None:
                continue
            body = self.template(text, value_node, f"the node '{key}'", named=False)
            made = self.names(template, key, key_node, "node")
            if body is None or not made:
                continue
            self.families.append((template, "node", made))
            self.read(key, body, value_node)
            line = value_node.start_mark.line + 1
            for step, (value, name) in zip(steps, made):
                expanded = " ".join(body.at(value).split())
                try:
                    expr = parse(expanded)
                except ExprError as exc:
                    self.checker.error(f"repeat: the node '{key}' ('{expanded}' at {self.index} "
                                       f"= {value}): {exc.message}", value_node)
                    break
                self.checker.lines[f"nodes.{name}"] = key_node.start_mark.line + 1
                step.append(self.make_node(name, expr, expanded, line))
        return [made for step in steps for made in step]

    def read(self, key: str, body: _Template, node: Any) -> None:
        """Note the names a node template reads: those with {...} to check against the
        names that exist, the others as shared by every step."""
        for match in _TEMPLATE_NAME.finditer(body.text):
            token = match.group(0)
            if "{" in token:
                self.references.append((key, _Template(token, self.index), node))
            elif token not in FUNCTIONS and not token[0].isdigit():
                self.shared.setdefault(token)

    def run(self, blocks: dict, fields: dict) -> dict:
        inputs = self.inputs(blocks["inputs"][1]) if "inputs" in blocks else []
        nodes = self.nodes(blocks["nodes"][1])
        own_inputs = tuple(fields.get("inputs") or ())
        own_nodes = tuple(fields.get("nodes") or ())
        for name, _ in own_inputs:
            self.clash(name, "an input", self.checker.lines.get(f"inputs.{name}"))
        for d in own_nodes:
            self.clash(d.name, "a node", d.line)
        known = set(self.made) | {n for n, _ in own_inputs} | {d.name for d in own_nodes}
        boundary = self.check_references(known)
        lines = self.checker.lines
        first = lines.get("repeat", 0) < lines.get("nodes", lines.get("repeat", 0) + 1)
        repeat = Repeat(self.index, self.values, self.describe(boundary),
                        tuple(n for n in self.shared if n in known and n not in self.made),
                        lines.get("repeat"))
        return {"inputs": own_inputs + tuple(inputs),
                "nodes": tuple(nodes) + own_nodes if first else own_nodes + tuple(nodes),
                "repeat": repeat}

    def clash(self, name: str, what: str, line: Optional[int]) -> None:
        if name in self.made:
            template, at = self.made[name]
            self.checker.error(f"repeat: '{template}' makes '{name}', which is also {what} "
                               f"(line {line}): rename one of them", at)

    def check_references(self, known: set[str]) -> list[tuple[_Template, int, str]]:
        """Report every name a template reads that does not exist; return the existing
        ones outside the steps (h0), as (reference, index value, name)."""
        shapes = {_shape(t) for t, _, _ in self.families}
        outside = []
        for key, reference, node in self.references:
            if not reference.parts[0] and not reference.parts[-1] and len(reference.parts) == 3:
                continue                     # {t} alone is a number, not a name
            missing = []
            for value in self.values:
                name = reference.at(value)
                if name in known:
                    if name not in self.made:
                        outside.append((reference, value, name))
                    continue
                missing.append((value, name))
            if not missing:
                continue
            value, name = missing[0]
            more = f" (and at {len(missing) - 1} other steps)" if len(missing) > 1 else ""
            where = (f"'{reference.text}' in the node '{key}' is '{name}' at {self.index} = "
                     f"{value}{more}")
            if valid_name_reason(name):
                self.checker.error(
                    f"repeat: {where}, which cannot be a name ({valid_name_reason(name)}): "
                    f"change the range of {self.index} so that every step reads a valid name",
                    node)
            elif _shape(reference) in shapes:
                self.checker.error(
                    f"repeat: {where}, a step outside {self.span()} that no template makes, "
                    f"and '{name}' is neither an input nor a node: give '{name}' as an input "
                    f"(a starting value) or change the range", node)
            else:
                self.checker.error(f"repeat: {where}, which is neither an input nor a node "
                                   "made by the repeat", node)
        return outside

    def describe(self, boundary: list[tuple[_Template, int, str]]) -> tuple[Family, ...]:
        families = []
        for template, kind, made in self.families:
            shape = _shape(template)
            names = dict(made)
            carried = False
            for reference, value, name in boundary:
                if _shape(reference) == shape:
                    at = self.solve(template, name, value)
                    if at is not None:
                        names.setdefault(at, name)
            for _, reference, _ in self.references:
                if _shape(reference) == shape and \
                        any(reference.at(v) != template.at(v) for v in self.values):
                    carried = kind == "node"
            families.append(Family(template.text, kind, tuple(sorted(names.items())),
                                   carried))
        return tuple(families)

    def solve(self, template: _Template, name: str, near: int) -> Optional[int]:
        """The index value at which ``template`` makes ``name``, searched near ``near``."""
        reach = len(self.values) + 10
        for value in sorted(range(near - reach, near + reach + 1), key=lambda v: abs(v - near)):
            if template.at(value) == name:
                return value
        return None
