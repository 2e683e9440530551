"""Errors a user can meet: each names the file, the place and the fix."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

__all__ = ["Diagnostic", "TracerError", "error", "did_you_mean", "MAX_MESSAGE"]

#: Characters of a message shown at most (the file and the line come first).
MAX_MESSAGE = 1000


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
