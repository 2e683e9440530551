"""Reading a problem file up to its composed YAML nodes, by one path for every command.

Only a regular file is opened (a FIFO would wait for a writer, a device might never end).
One YAML loader composes every file, chosen once per machine; what a file may hold is
then checked on the composed nodes (:func:`refuse`), so the rules are the same whichever
loader composed them: no anchors or aliases, bounded nesting, and every scalar valid
Unicode without control characters (:mod:`tracer.core.text`).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Union

import yaml

from .errors import Diagnostic, TracerError
from .text import quote, text_fault

__all__ = ["LOADER", "MAX_YAML_DEPTH", "TOO_DEEP", "Refused", "read_regular_file", "refuse"]

#: Levels of lists and mappings a problem file may nest (it needs three).
MAX_YAML_DEPTH = 64


class Refused(Exception):
    """A rule of :func:`refuse` broken, at ``mark``."""

    def __init__(self, message: str, mark: Any = None):
        super().__init__(message)
        self.message = message
        self.mark = mark


def _loader() -> type:
    """The one loader every problem file goes through, chosen once per machine: libyaml's
    (fast, and since 0.2.5 it refuses nesting deeper than 1000 instead of overflowing
    its C stack), else PyYAML's own.  What a file may hold is checked afterwards, on the
    composed nodes (:func:`refuse`), so the rules do not depend on the loader."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            from yaml import _yaml   # type: ignore[attr-defined]

            if tuple(int(p) for p in _yaml.get_version_string().split(".")[:3]) >= (0, 2, 5):
                return fast
        except (ImportError, AttributeError, ValueError):
            pass
    return yaml.SafeLoader


LOADER = _loader()
TOO_DEEP = (f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep: a problem file "
            "needs three (a key, a mapping of names, a value)")


def refuse(root: yaml.Node) -> None:
    """The rules for the composed nodes, whichever loader made them.  Anchors and aliases
    buy nothing in a problem file and are how 'billion laughs' files exhaust memory (an
    alias shows up as a node object reached twice); nesting is bounded; every scalar,
    keys included, is valid Unicode without control characters (a tab and line breaks
    excepted: a title's are made spaces, a statement keeps them)."""
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise Refused("anchors and aliases (&name, *name) are not allowed in problem "
                          "files: write the value out", node.start_mark)
        seen.add(id(node))
        if depth > MAX_YAML_DEPTH:
            raise Refused(TOO_DEEP, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
        elif isinstance(node.value, str):
            fault = text_fault(node.value, multiline=True)
            if fault:
                raise Refused(f"the text '{quote(node.value, 30)}' {fault}", node.start_mark)


def read_regular_file(path: Union[str, Path], shown: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file.  Anything else (a FIFO, a
    device, a folder) is refused without reading: opening a FIFO for reading waits for a
    writer, and a device may never end."""
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer; it is refused below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise TracerError([Diagnostic(shown, f"cannot read the file: {exc.strerror}")])
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise TracerError([Diagnostic(shown, "this is not a regular file (a folder, a "
                                                 "FIFO or a device): a problem is a file")])
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit)
    except OSError as exc:
        raise TracerError([Diagnostic(shown, f"cannot read the file: {exc.strerror}")])
    finally:
        os.close(fd)
