"""Text for a terminal: control characters shown as escapes, never sent as they are.

A title, a file name or a quoted input may hold ESC or BEL; printed raw, ``ESC [ ...``
recolours, moves or retitles the reader's terminal.  Everything tracer prints goes
through :func:`for_terminal` (:class:`EscapingStream` wraps standard output and error).
Imports only the standard library.
"""
from __future__ import annotations

import re
from typing import TextIO

__all__ = ["for_terminal", "json_for_terminal", "EscapingStream"]

# C0 controls but tab and newline, DEL, C1 controls (0x9B is a one-byte CSI on some
# terminals), the Unicode line and paragraph separators, the bidirectional overrides
# that reorder what a line shows, and lone surrogates (no encoding can print them).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                      "\ud800-\udfff]")


def _escape(m: re.Match) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``); tabs and
    newlines stay."""
    return _CONTROL.sub(_escape, text)


def json_for_terminal(text: str) -> str:
    """JSON text with the characters :func:`for_terminal` escapes written as JSON escapes
    (``\\u001b``), so that the output stays valid JSON (they occur only inside strings)."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class EscapingStream:
    """A text stream that writes everything through :func:`for_terminal`."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(for_terminal(text))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
