"""Problem files: a problem file (YAML) -> :class:`Problem`.

The file is untrusted: it is read as plain data only (no Python tags, no anchors or aliases,
no duplicate keys), every key and value is checked, and every mistake in the file is reported
at once with its line.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from .errors import Diagnostic, TracerError, did_you_mean
from .layout_hint import LayoutHint, read_layout
from .expr import Expr, ExprError, parse
from .memory import no_cycle_collection
from .reader import FLOAT as _FLOAT, INT as _INT, NULL as _NULL, Reader
from .repeat import Repeat, expand
from .source import LOADER, TOO_DEEP, Refused, read_regular_file, refuse
from .tensor_load import COMPONENTS, tensor_value
from .text import MAX_TITLE, quote
from .training import Train, read_train
from .variants import Tolerance, VariantSpec, read_release, read_tolerance, read_variants

__all__ = ["Problem", "NodeDef", "Update", "Train", "Repeat", "load", "load_text",
           "problem_id", "MAX_FILE_BYTES", "KEYS"]

#: Problem files larger than this are refused (a problem is a page, not a data set).
MAX_FILE_BYTES = 1024 * 1024
#: Every top-level key a problem file may have.
KEYS = ("title", "statement", "inputs", "nodes", "expression", "output", "wrt", "precision",
        "rounding", "update", "tags", "data", "repeat", "train", "components", "variants",
        "release", "tolerance", "layout")
UPDATE_KEYS = ("learning_rate", "params")
DEFAULT_PRECISION = 4



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
    inputs: tuple[tuple[str, float], ...]   # a vector or matrix input: nested tuples
    nodes: tuple[NodeDef, ...] = ()
    expression: Optional[NodeDef] = None
    statement: str = ""
    output: Optional[str] = None
    wrt: Optional[tuple[str, ...]] = None
    precision: int = DEFAULT_PRECISION
    rounding: Optional[int] = None
    update: Optional[Update] = None
    tags: tuple[str, ...] = ()
    components: str = COMPONENTS[0]        # the component view of a problem of vectors
    lines: dict[str, int] = field(default_factory=dict, compare=False)
    #: Inputs that are data (targets, samples, initial states): given, never differentiated.
    data: tuple[str, ...] = ()
    repeat: Optional[Repeat] = None         # the repeated nodes, expanded into nodes
    train: Optional[Train] = None           # several steps of gradient descent
    variants: Optional[VariantSpec] = None      # how the inputs vary (tracer.core.variants)
    release: Optional[datetime.date] = None     # the day the key joins the student edition
    tolerance: Tolerance = Tolerance()          # how close a checked answer must be
    layout: Optional[LayoutHint] = None         # the author's columns for the figures

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

def load(path: Union[str, Path], max_bytes: Optional[int] = None) -> Problem:
    """Read and check one problem file; raise :class:`TracerError` listing every mistake.
    ``max_bytes``: the largest file read (default :data:`MAX_FILE_BYTES`)."""
    shown = str(path)
    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    data = read_regular_file(path, shown, limit + 1)
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


def release_of(path: Union[str, Path]) -> Optional[datetime.date]:
    """The ``release:`` date of a problem file that :func:`load` accepted (None where it
    has none), read without checking the rest again: the build asks it of every problem,
    and checking the expressions of a 1 MiB problem again took as long as the first time."""
    shown = str(path)
    text = read_regular_file(path, shown, MAX_FILE_BYTES + 1).decode("utf-8")
    root = _compose(text[1:] if text.startswith("\ufeff") else text, shown)
    for key, value in root.value if isinstance(root, yaml.MappingNode) else ():
        if key.value == "release":
            return datetime.date.fromisoformat(str(value.value).strip())
    return None


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

    try:
        node = yaml.compose(text, Loader=LOADER)
        if node is not None:
            refuse(node)
    except Refused as exc:
        raise fail(exc.message, exc.mark) from None
    except yaml.composer.ComposerError as exc:
        if "expected a single document" in f"{exc.context} {exc.problem}":
            raise fail("the file holds several YAML documents ('---'): keep one problem per "
                       "file", exc.problem_mark) from None
        raise fail(f"this is not valid YAML: {exc.problem}", exc.problem_mark) from None
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "syntax error"
        if "maximum nesting depth" in problem:
            raise fail(TOO_DEEP, exc.problem_mark) from None
        if "invalid Unicode character escape" in problem:
            problem += (" (a lone surrogate such as \\ud800 is not a character: write the "
                        "character itself)")
        raise fail(f"this is not valid YAML: {quote(problem, 200)}", exc.problem_mark) from None
    except yaml.YAMLError as exc:
        raise fail(f"this is not valid YAML: {quote(exc, 200)}") from None
    except RecursionError:
        raise fail(TOO_DEEP) from None
    if node is None:
        raise fail("the file is empty: a problem needs at least title, inputs and nodes (or "
                   "expression)")
    if not isinstance(node, yaml.MappingNode):
        raise fail("a problem file is a mapping of keys (title:, inputs:, nodes: ...), not "
                   + ("a list" if isinstance(node, yaml.SequenceNode) else "a single value"),
                   node.start_mark)
    return node


# ----------------------------------------------------------------------------- checking

class _Checker(Reader):
    """The problem file as a whole: its keys, inputs, nodes and blocks."""

    def problem(self, root: yaml.MappingNode) -> Problem:
        fields: dict[str, Any] = {}
        values: dict[str, yaml.Node] = {}
        for key, key_node, value_node in self.mapping(root, "the problem"):
            if key not in KEYS:
                self.error(f"unknown key '{quote(key)}'{did_you_mean(key, KEYS)} (the keys "
                           f"are: {', '.join(KEYS)})", key_node)
                continue
            self.lines[key] = key_node.start_mark.line + 1
            values[key] = value_node

        for required in ("title", "inputs"):
            if required not in values:
                self.error(f"the key '{required}' is missing: every problem needs a title and "
                           "its inputs")
        if "nodes" in values and "expression" in values:
            self.error("give either 'nodes' or 'expression', not both", values["expression"])
        elif "nodes" not in values and "expression" not in values and "repeat" not in values:
            self.error("the problem has neither 'nodes' nor 'expression': add one of them to "
                       "describe the graph")
        if "repeat" in values and "expression" in values:
            self.error("give 'repeat' with 'nodes', not with 'expression'", values["repeat"])
        if "update" in values and "train" in values:
            self.error("give either 'update' (one step) or 'train' (several), not both",
                       values["train"])

        if "title" in values:
            title = "" if values["title"].tag == _NULL else \
                self.line_of_text(values["title"], "title", MAX_TITLE)
            if title is not None and not title.strip():
                self.error("title is empty: give the problem a title", values["title"])
            fields["title"] = (title or "").strip()
        if "statement" in values:
            fields["statement"] = self.statement(values["statement"]) or ""
        if "inputs" in values:
            fields["inputs"] = self.inputs(values["inputs"])
        if "nodes" in values:
            fields["nodes"] = self.nodes(values["nodes"])
        if "expression" in values:
            fields["expression"] = self.expression(values["expression"])
        if "output" in values:
            fields["output"] = self.short(values["output"], "output")
        if "wrt" in values:
            fields["wrt"] = self.names(values["wrt"], "wrt")
        if "precision" in values:
            fields["precision"] = self.integer(values["precision"], "precision", 1, 15)
        if "rounding" in values and values["rounding"].tag != _NULL:
            fields["rounding"] = self.integer(values["rounding"], "rounding", 0, 12)
        if "update" in values:
            fields["update"] = self.update(values["update"])
        if "tags" in values:
            fields["tags"] = self.tags(values["tags"])
        if "repeat" in values and "expression" not in values:
            fields.update(expand(self, values["repeat"], fields, NodeDef))
        if "train" in values:
            fields["train"] = read_train(self, values["train"])
        self.tensor_keys(values, fields)
        if "variants" in values:
            fields["variants"] = read_variants(self, values["variants"],
                                               fields.get("inputs") or ())
        if "release" in values:
            fields["release"] = read_release(self, values["release"])
        if "tolerance" in values:
            fields["tolerance"] = read_tolerance(self, values["tolerance"])
        if "layout" in values and values["layout"].tag != _NULL:
            fields["layout"] = read_layout(self, values["layout"])

        self.errors.extend(d for d, name in self.uses if name not in self.refused)
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
            if isinstance(value_node, yaml.SequenceNode):    # a vector or a matrix
                value = tensor_value(self, value_node, f"the input '{key}'")
            else:
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
            if exc.name is not None:
                self.uses.append((self._diagnostic(f"{what}: {exc.message}", node,
                                                   offset or 0), exc.name))
            else:
                self.error(f"{what}: {exc.message}", node, offset or 0)
            return None
        return NodeDef(name, expr, text.strip(), node.start_mark.line + 1)

    def update(self, node: yaml.Node) -> Optional[Update]:
        entries = self.mapping(node, "update")
        found = {}
        for key, key_node, value_node in entries:
            if key not in UPDATE_KEYS:
                self.error(f"unknown key '{quote(key)}' in update"
                           f"{did_you_mean(key, UPDATE_KEYS)} (the keys are: "
                           f"{', '.join(UPDATE_KEYS)})", key_node)
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

    def tensor_keys(self, values: dict[str, yaml.Node], fields: dict[str, Any]) -> None:
        """``data:`` (names) and ``components:`` (one of COMPONENTS)."""
        if "data" in values and values["data"].tag != _NULL:
            fields["data"] = self.names(values["data"], "data")
            if fields["data"] is not None:
                self.lines["data"] = values["data"].start_mark.line + 1
        if "components" in values:
            node = values["components"]
            choice = self.text(node, "components")
            if choice is not None and choice not in COMPONENTS:
                self.error(f"components must be one of {', '.join(COMPONENTS)}, not "
                           f"'{choice[:40]}'{did_you_mean(choice, COMPONENTS)}", node)
                choice = None
            fields["components"] = choice
