"""Errors a user can meet: each names the file, the place and the fix."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

__all__ = ["Diagnostic", "TracerError", "error", "did_you_mean", "MAX_MESSAGE",
           "SHOWN_PER_KIND", "shown"]

#: Characters of a message shown at most (the file and the line come first).
MAX_MESSAGE = 1000
#: Errors of one kind shown for one file; the others are counted.  A graph of 100k nodes
#: that do not lead to its output has 100k errors of one kind: the first few say it all.
SHOWN_PER_KIND = 20


@dataclass(frozen=True)
class Diagnostic:
    """One thing wrong with one file, at a line (and column) where known."""

    path: str
    message: str
    line: Optional[int] = None
    column: Optional[int] = None

    def __str__(self) -> str:
        message = self.message
        if len(message) > MAX_MESSAGE:   # whatever a message quotes, it stays one line
            message = message[:MAX_MESSAGE] + f"... ({len(message):,} characters)"
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {message}"


class TracerError(Exception):
    """Every failure tracer reports to a user: one or more :class:`Diagnostic` lines.

    The command line prints them and exits with status 1; no traceback is shown.
    """

    def __init__(self, diagnostics: Iterable["Diagnostic"]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def error(path: str, message: str, line: Optional[int] = None,
                  column: Optional[int] = None) -> TracerError:
    """A :class:`TracerError` holding a single problem (a shorthand)."""
    return TracerError([Diagnostic(path, message, line, column)])


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` - did you mean 'x'?`` when a choice is a likely misspelling of ``word``
    (:func:`~tracer.core.suggest.close_match`), or an empty string."""
    from .suggest import close_match

    if len(word) > 100:   # no name is that long; comparing it would only cost time
        return ""
    close = close_match(word, choices)
    return f" - did you mean '{close}'?" if close else ""


def _kind(message: str) -> str:
    # Messages of one kind differ in the names and numbers they quote and in a suggestion.
    message = re.sub(r" - did you mean '[^']*'\?", "", message)
    return re.sub(r"\d+", "0", re.sub(r"'[^']*'", "''", message))


def shown(diagnostics: Iterable[Diagnostic]) -> list[str]:
    """The lines to print for ``diagnostics``: at most :data:`SHOWN_PER_KIND` of one kind
    per file, then a line per kind counting the others."""
    lines: list[str] = []
    count: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], Diagnostic] = {}
    for d in diagnostics:
        kind = (d.path, _kind(d.message))
        count[kind] = count.get(kind, 0) + 1
        if count[kind] <= SHOWN_PER_KIND:
            lines.append(str(d))
            last[kind] = d
    for kind, n in count.items():
        if n > SHOWN_PER_KIND:
            lines.append(f"{kind[0]}: {n - SHOWN_PER_KIND} more errors like this one, not "
                         f"shown: {last[kind].message}")
    return lines
