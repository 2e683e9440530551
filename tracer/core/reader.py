"""Reading the values of a problem file: the checks every key's value goes through (text,
numbers, names, tags, the statement), each mistake collected with its line and column."""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Optional

import yaml

from .errors import Diagnostic
from .expr import valid_name_reason
from .text import MAX_NAME, MAX_TAG, MAX_TAGS, one_line, quote, statement_faults

__all__ = ["Reader", "STR", "INT", "FLOAT", "BOOL", "NULL", "MAP", "SEQ"]

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
# YAML 1.1 reads a leading zero as octal (010 is 8) and a colon as base 60 (1:30 is 90):
# a person reads 010 as ten, and 1:30 as a time or a ratio.
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+\Z")
STR, INT, FLOAT, BOOL, NULL, MAP, SEQ = _STR, _INT, _FLOAT, _BOOL, _NULL, _MAP, _SEQ


class Reader:
    """Walks the composed YAML, collecting every mistake before giving up."""

    def __init__(self, path: str, id: str):
        self.path = path
        self.id = id
        self.errors: list[Diagnostic] = []
        self.lines: dict[str, int] = {}
        # A name refused where it is defined is not reported again where it is used.
        self.refused: set[str] = set()
        self.uses: list[tuple[Diagnostic, str]] = []

    def error(self, message: str, node: Optional[yaml.Node] = None, column: int = 0) -> None:
        self.errors.append(self._diagnostic(message, node, column))

    def _diagnostic(self, message: str, node: Optional[yaml.Node], column: int) -> Diagnostic:
        line = node.start_mark.line + 1 if node is not None else None
        col = node.start_mark.column + 1 + column if node is not None else None
        return Diagnostic(self.path, message, line, col)

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
                self.error(f"duplicate key '{quote(key)}' in {what} (first at line "
                           f"{seen[key]}): each key may appear once", key_node)
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
        # Text as written: `title: yes` is the word yes, `title: 010` the digits 010.
        if isinstance(node, yaml.ScalarNode) and node.tag in (_STR, _INT, _FLOAT, _BOOL):
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
            self.error(f"{what} must be a number, not the text '{quote(raw, 40)}'", node)
            return None
        if ":" in raw and node.tag in (_INT, _FLOAT):
            self.error(f"{what}: '{quote(raw, 40)}' is not a number here (YAML 1.1 would read "
                       "it in base 60, 1:30 as 90): write the number itself", node)
            return None
        if node.tag not in (_INT, _FLOAT, _STR):
            self.plain(node, _FLOAT, f"{what} must be a number")
            return None
        try:
            if node.tag == _INT and _LEADING_ZERO.match(raw):
                value = float(int(raw.replace("_", ""), 10))   # 010 is ten, not eight
            elif node.tag == _INT:
                value = float(_SCALARS.construct_yaml_int(node))
            elif node.tag == _FLOAT:
                value = float(_SCALARS.construct_yaml_float(node))
            else:
                value = float(raw)
        except (ValueError, OverflowError):
            self.error(f"{what} must be a finite number, not '{quote(raw, 40)}'", node)
            return None
        if not math.isfinite(value):
            self.error(f"{what} must be a finite number, not '{quote(raw, 40)}'", node)
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

    def tags(self, node: yaml.Node) -> Optional[tuple[str, ...]]:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            items = [node]
        elif self.plain(node, _SEQ, "tags must be a list of names"):
            items = node.value
        else:
            return None
        if len(items) > MAX_TAGS:
            self.error(f"tags: {len(items)} tags; a problem may have at most {MAX_TAGS}", node)
            return None
        tags = (self.line_of_text(item, "each entry of tags", MAX_TAG) for item in items)
        return tuple(t for t in tags if t is not None)

    def names(self, node: yaml.Node, what: str) -> Optional[tuple[str, ...]]:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            items = [node]
        elif self.plain(node, _SEQ, f"{what} must be a list of names"):
            items = node.value
        else:
            return None
        names = []
        for item in items:
            name = self.short(item, f"each entry of {what}")
            if name is not None:
                names.append(name)
        return tuple(names)

    def short(self, node: yaml.Node, what: str) -> Optional[str]:
        """A name given as text (output, wrt, params): checked against the graph later, but
        no name is longer than MAX_NAME."""
        text = self.text(node, what)
        if text is not None and len(text) > MAX_NAME:
            self.error(f"{what}: '{quote(text)}' is not a name (a name has at most "
                       f"{MAX_NAME} characters)", node)
            return None
        return text

    def name(self, key: str, node: yaml.Node, what: str) -> bool:
        reason = valid_name_reason(key)
        if reason is None and len(key) > MAX_NAME:
            reason = f"a name has at most {MAX_NAME} characters"
        if reason:
            self.error(f"'{quote(key)}' cannot be the name of {what}: {reason}", node)
            self.refused.add(unicodedata.normalize("NFKC", key))
            return False
        return True

    def line_of_text(self, node: yaml.Node, what: str, limit: int) -> Optional[str]:
        """A title or a tag: one line of plain text, at most ``limit`` characters."""
        text = self.text(node, what)
        if text is None:
            return None
        text = one_line(text)
        if len(text) > limit:
            self.error(f"{what} is {len(text):,} characters long; it may have at most "
                       f"{limit}: shorten it", node)
            return None
        return text

    def statement(self, node: yaml.Node) -> Optional[str]:
        text = self.text(node, "statement")
        if text is None:
            return None
        for line, fault in statement_faults(text):
            # A block scalar's text starts on the line after its indicator (| or >).
            first = node.start_mark.line + 1 + (1 if node.style in ("|", ">") else 0)
            self.errors.append(Diagnostic(self.path, f"statement {fault}", first + line))
        return text

    # -- the problem ----------------------------------------------------------------
