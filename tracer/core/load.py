"""Problem files: a problem file (YAML) -> :class:`Problem`.

The file is untrusted: it is read as plain data only (no Python tags, no anchors or aliases,
no duplicate keys), every key and value is checked, and every mistake in the file is reported
at once with its line.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from .errors import Diagnostic, TracerError, did_you_mean
from .expr import Expr, ExprError, parse, valid_name_reason
from .memory import no_cycle_collection

__all__ = ["Problem", "NodeDef", "Update", "load", "load_text", "problem_id",
           "MAX_FILE_BYTES", "KEYS"]

#: Problem files larger than this are refused (a problem is a page, not a data set).
MAX_FILE_BYTES = 1024 * 1024
#: Every top-level key a problem file may have.
KEYS = ("title", "statement", "inputs", "nodes", "expression", "output", "wrt", "precision",
        "rounding", "update", "tags")
UPDATE_KEYS = ("learning_rate", "params")
DEFAULT_PRECISION = 4

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Builds int/float scalars exactly as PyYAML's safe loader would (0x10, 1_000, .inf ...).
_SCALARS = yaml.constructor.SafeConstructor()
_NUMBER_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z")


@dataclass(frozen=True, slots=True)
class NodeDef:
    """One named node as written: ``u1: x1 + x2``."""

    name: str
    expr: Expr
    text: str
    line: Optional[int] = None


@dataclass(frozen=True)
class Update:
    """One step of gradient descent on ``params``."""

    learning_rate: float
    params: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """A problem file, checked: names, numbers and parsed expressions."""

    path: str
    id: str
    title: str
    inputs: tuple[tuple[str, float], ...]
    nodes: tuple[NodeDef, ...] = ()
    expression: Optional[NodeDef] = None
    statement: str = ""
    output: Optional[str] = None
    wrt: Optional[tuple[str, ...]] = None
    precision: int = DEFAULT_PRECISION
    rounding: Optional[int] = None
    update: Optional[Update] = None
    tags: tuple[str, ...] = ()
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    def line(self, key: str) -> Optional[int]:
        """The line of a top-level key (``"output"``) or of a name (``"inputs.x1"``)."""
        return self.lines.get(key)


def problem_id(path: Union[str, Path]) -> str:
    """The id a problem's pages are filed under: its file name, made safe for any path."""
    stem = Path(path).name
    for suffix in (".yaml", ".yml"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    safe = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return safe[:80] or "problem"


# ----------------------------------------------------------------------------- reading

class _Refused(Exception):
    def __init__(self, message: str, mark: Any = None):
        super().__init__(message)
        self.message = message
        self.mark = mark


# libyaml is much faster, but its composer recurses in C and crashes on thousands of nested
# brackets; such files go to the pure-Python loader, which raises RecursionError instead.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_FAST_DEPTH = 64


def _flow_depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}" and depth:
            depth -= 1
    return deepest


def _refuse_aliases(root: yaml.Node) -> None:
    """Anchors and aliases buy nothing in a problem file and are how 'billion laughs' files
    exhaust memory: an alias shows up as a node object reached twice."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise _Refused("anchors and aliases (&name, *name) are not allowed in problem "
                           "files: write the value out", node.start_mark)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def load(path: Union[str, Path], max_bytes: Optional[int] = None) -> Problem:
    """Read and check one problem file; raise :class:`TracerError` listing every mistake.
    ``max_bytes``: the largest file read (default :data:`MAX_FILE_BYTES`)."""
    shown = str(path)
    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise TracerError([Diagnostic(shown, f"cannot read the file: {exc.strerror}")])
    if len(data) > limit:
        raise TracerError([Diagnostic(shown, f"the file is larger than {limit // 1024} "
                                             "KiB, the limit for a problem file")])
    if b"\x00" in data:
        raise TracerError([Diagnostic(shown, "this is not a text file (it holds NUL bytes): a "
                                             "problem file is YAML text")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TracerError([Diagnostic(shown, "the file is not valid UTF-8 text: save it as "
                                             "UTF-8", line)])
    return load_text(text, shown, problem_id(path))


def load_text(text: str, path: str = "<problem>", id: Optional[str] = None) -> Problem:
    """Check a problem given as YAML text (``path`` is only used in messages)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    # A large problem is hundreds of thousands of YAML nodes and marks: the cyclic collector
    # would scan them again and again as they are made (half the time of a 100k-node file).
    with no_cycle_collection():
        root = _compose(text, path)
        return _Checker(path, id or problem_id(path)).problem(root)


def _compose(text: str, path: str) -> yaml.Node:
    def fail(message: str, mark: Any = None) -> TracerError:
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        return TracerError([Diagnostic(path, message, line, col)])

    # Counting brackets (in C) settles most files without walking the text in Python.
    few = text.count("[") + text.count("{") <= _MAX_FAST_DEPTH
    loader = _FAST_LOADER if few or _flow_depth(text) <= _MAX_FAST_DEPTH else yaml.SafeLoader
    try:
        node = yaml.compose(text, Loader=loader)
        if node is not None and "&" in text:  # no anchor, no alias (or a composer error)
            _refuse_aliases(node)
    except _Refused as exc:
        raise fail(exc.message, exc.mark) from None
    except yaml.composer.ComposerError as exc:
        if "expected a single document" in f"{exc.context} {exc.problem}":
            raise fail("the file holds several YAML documents ('---'): keep one problem per "
                       "file", exc.problem_mark) from None
        raise fail(f"this is not valid YAML: {exc.problem}", exc.problem_mark) from None
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "syntax error"
        raise fail(f"this is not valid YAML: {problem}", exc.problem_mark) from None
    except yaml.YAMLError as exc:
        raise fail(f"this is not valid YAML: {exc}") from None
    except RecursionError:
        raise fail("the YAML is nested too deeply") from None
    if node is None:
        raise fail("the file is empty: a problem needs at least title, inputs and nodes (or "
                   "expression)")
    if not isinstance(node, yaml.MappingNode):
        raise fail("a problem file is a mapping of keys (title:, inputs:, nodes: ...), not "
                   + ("a list" if isinstance(node, yaml.SequenceNode) else "a single value"),
                   node.start_mark)
    return node


# ----------------------------------------------------------------------------- checking

class _Checker:
    """Walks the composed YAML, collecting every mistake before giving up."""

    def __init__(self, path: str, id: str):
        self.path = path
        self.id = id
        self.errors: list[Diagnostic] = []
        self.lines: dict[str, int] = {}

    def error(self, message: str, node: Optional[yaml.Node] = None, column: int = 0) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        col = node.start_mark.column + 1 + column if node is not None else None
        self.errors.append(Diagnostic(self.path, message, line, col))

    # -- generic shapes -------------------------------------------------------------

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """Entries of a mapping, with keys checked to be unique plain text."""
        if not self.plain(node, _MAP, f"{what} must be a mapping of names to values"):
            return []
        seen: dict[str, int] = {}
        entries = []
        for key_node, value_node in node.value:
            if key_node.tag not in (_STR, _INT, _FLOAT, _BOOL, _NULL) or \
                    not isinstance(key_node, yaml.ScalarNode):
                self.error(f"a key in {what} must be a plain name", key_node)
                continue
            key = str(key_node.value)
            if key in seen:
                self.error(f"duplicate key '{key}' in {what} (first at line {seen[key]}): "
                           "each key may appear once", key_node)
                continue
            seen[key] = key_node.start_mark.line + 1
            entries.append((key, key_node, value_node))
        return entries

    def plain(self, node: yaml.Node, tag: str, message: str) -> bool:
        if node.tag.startswith("tag:yaml.org,2002:python") or not node.tag.startswith(
                "tag:yaml.org,2002:"):
            shown = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.error(f"the tag '{shown}' is not allowed: a problem file holds plain data "
                       "only", node)
            return False
        if node.tag != tag:
            self.error(message, node)
            return False
        return True

    def text(self, node: yaml.Node, what: str) -> Optional[str]:
        if isinstance(node, yaml.ScalarNode) and node.tag in (_STR, _INT, _FLOAT) \
                and not node.tag.startswith("tag:yaml.org,2002:python"):
            return str(node.value)
        self.plain(node, _STR, f"{what} must be text")
        return None

    def number(self, node: yaml.Node, what: str) -> Optional[float]:
        if not isinstance(node, yaml.ScalarNode):
            self.plain(node, _FLOAT, f"{what} must be a number, not a "
                       + ("list" if isinstance(node, yaml.SequenceNode) else "mapping"))
            return None
        raw = node.value
        if node.tag == _BOOL:
            self.error(f"{what} must be a number, not the boolean '{raw}'", node)
            return None
        if node.tag == _STR and not _NUMBER_TEXT.match(raw.strip()):
            self.error(f"{what} must be a number, not the text '{raw[:40]}'", node)
            return None
        if node.tag not in (_INT, _FLOAT, _STR):
            self.plain(node, _FLOAT, f"{what} must be a number")
            return None
        try:
            if node.tag == _INT:
                value = float(_SCALARS.construct_yaml_int(node))
            elif node.tag == _FLOAT:
                value = float(_SCALARS.construct_yaml_float(node))
            else:
                value = float(raw)
        except (ValueError, OverflowError):
            self.error(f"{what} must be a finite number, not '{raw[:40]}'", node)
            return None
        if not math.isfinite(value):
            self.error(f"{what} must be a finite number, not '{raw[:40]}'", node)
            return None
        return value

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> Optional[int]:
        if not (isinstance(node, yaml.ScalarNode) and node.tag == _INT):
            self.error(f"{what} must be a whole number from {low} to {high}", node)
            return None
        value = self.number(node, what)
        if value is None or not low <= value <= high:
            self.error(f"{what} must be a whole number from {low} to {high}", node)
            return None
        return int(value)

    def names(self, node: yaml.Node, what: str) -> Optional[tuple[str, ...]]:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            items = [node]
        elif self.plain(node, _SEQ, f"{what} must be a list of names"):
            items = node.value
        else:
            return None
        names = []
        for item in items:
            name = self.text(item, f"each entry of {what}")
            if name is not None:
                names.append(name)
        return tuple(names)

    def name(self, key: str, node: yaml.Node, what: str) -> bool:
        reason = valid_name_reason(key)
        if reason:
            self.error(f"'{key}' cannot be the name of {what}: {reason}", node)
            return False
        return True

    # -- the problem ----------------------------------------------------------------

    def problem(self, root: yaml.MappingNode) -> Problem:
        fields: dict[str, Any] = {}
        values: dict[str, yaml.Node] = {}
        for key, key_node, value_node in self.mapping(root, "the problem"):
            if key not in KEYS:
                self.error(f"unknown key '{key}'{did_you_mean(key, KEYS)} (the keys are: "
                           f"{', '.join(KEYS)})", key_node)
                continue
            self.lines[key] = key_node.start_mark.line + 1
            values[key] = value_node

        for required in ("title", "inputs"):
            if required not in values:
                self.error(f"the key '{required}' is missing: every problem needs a title and "
                           "its inputs")
        if "nodes" in values and "expression" in values:
            self.error("give either 'nodes' or 'expression', not both", values["expression"])
        elif "nodes" not in values and "expression" not in values:
            self.error("the problem has neither 'nodes' nor 'expression': add one of them to "
                       "describe the graph")

        if "title" in values:
            title = "" if values["title"].tag == _NULL else self.text(values["title"], "title")
            if title is not None and not title.strip():
                self.error("title is empty: give the problem a title", values["title"])
            fields["title"] = (title or "").strip()
        if "statement" in values:
            fields["statement"] = self.text(values["statement"], "statement") or ""
        if "inputs" in values:
            fields["inputs"] = self.inputs(values["inputs"])
        if "nodes" in values:
            fields["nodes"] = self.nodes(values["nodes"])
        if "expression" in values:
            fields["expression"] = self.expression(values["expression"])
        if "output" in values:
            fields["output"] = self.text(values["output"], "output")
        if "wrt" in values:
            fields["wrt"] = self.names(values["wrt"], "wrt")
        if "precision" in values:
            fields["precision"] = self.integer(values["precision"], "precision", 1, 15)
        if "rounding" in values and values["rounding"].tag != _NULL:
            fields["rounding"] = self.integer(values["rounding"], "rounding", 0, 12)
        if "update" in values:
            fields["update"] = self.update(values["update"])
        if "tags" in values:
            fields["tags"] = self.names(values["tags"], "tags")

        if self.errors:
            raise TracerError(sorted(self.errors, key=lambda d: (d.line or 0, d.column or 0)))
        fields = {k: v for k, v in fields.items() if v is not None}
        return Problem(path=self.path, id=self.id, lines=self.lines, **fields)

    def inputs(self, node: yaml.Node) -> Optional[tuple[tuple[str, float], ...]]:
        entries = self.mapping(node, "inputs")
        if not entries and not self.errors:
            self.error("inputs is empty: list each input with its value, e.g. 'x: 2'", node)
        result = []
        for key, key_node, value_node in entries:
            if not self.name(key, key_node, "an input"):
                continue
            value = self.number(value_node, f"the input '{key}'")
            if value is not None:
                self.lines[f"inputs.{key}"] = key_node.start_mark.line + 1
                result.append((key, value))
        return tuple(result)

    def nodes(self, node: yaml.Node) -> tuple[NodeDef, ...]:
        entries = self.mapping(node, "nodes")
        if not entries and isinstance(node, yaml.MappingNode):
            self.error("nodes is empty: define at least one node, e.g. 'y: x * 2'", node)
        result = []
        for key, key_node, value_node in entries:
            if not self.name(key, key_node, "a node"):
                continue
            self.lines[f"nodes.{key}"] = key_node.start_mark.line + 1
            parsed = self.parse(value_node, f"the node '{key}'", key)
            if parsed is not None:
                result.append(parsed)
        return tuple(result)

    def expression(self, node: yaml.Node) -> Optional[NodeDef]:
        return self.parse(node, "expression", "")

    def parse(self, node: yaml.Node, what: str, name: str) -> Optional[NodeDef]:
        if isinstance(node, yaml.ScalarNode) and node.tag in (_INT, _FLOAT):
            self.error(f"{what} is a bare number: a node computes something from inputs; put "
                       "constants in inputs or inside an expression", node)
            return None
        text = self.text(node, what)
        if text is None:
            return None
        try:
            expr = parse(text)
        except ExprError as exc:
            # Columns inside a plain or quoted scalar on one line map onto the file.
            offset = None
            if exc.column and "\n" not in text.strip() and node.style in (None, "", "'", '"'):
                offset = (exc.column - 1) + (1 if node.style else 0)
            self.error(f"{what}: {exc.message}", node, offset or 0)
            return None
        return NodeDef(name, expr, text.strip(), node.start_mark.line + 1)

    def update(self, node: yaml.Node) -> Optional[Update]:
        entries = self.mapping(node, "update")
        found = {}
        for key, key_node, value_node in entries:
            if key not in UPDATE_KEYS:
                self.error(f"unknown key '{key}' in update{did_you_mean(key, UPDATE_KEYS)} (the "
                           f"keys are: {', '.join(UPDATE_KEYS)})", key_node)
                continue
            found[key] = value_node
        if entries and "params" not in found:
            self.error("update needs 'params': the inputs gradient descent changes", node)
        rate = 1.0
        if "learning_rate" in found:
            rate = self.number(found["learning_rate"], "update: learning_rate")
            if rate is not None and rate <= 0:
                self.error("update: learning_rate must be greater than 0", found["learning_rate"])
                rate = None
        params = self.names(found["params"], "update: params") if "params" in found else None
        if rate is None or not params:
            if params == ():
                self.error("update: params is empty: name the inputs to update", found["params"])
            return None
        self.lines["update.params"] = found["params"].start_mark.line + 1
        return Update(rate, params)
