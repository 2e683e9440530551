"""Author text as a problem file may hold it, and how an error quotes what it got.

One set of rules for every piece of text a problem file holds, applied to the composed
YAML whichever loader composed it: text is valid Unicode (no lone surrogates), holds no
control characters (a tab and, in a statement, line breaks excepted), titles and tags
are one line of plain text, and every length is bounded so that no page, terminal line
or line of LaTeX grows past what the tools after tracer accept (TeX reads a line of at
most 200 000 characters).  A statement is Markdown: its structure is bounded too
(:func:`statement_faults`), because Python-Markdown recurses once per level of nesting
and scans to the end of the text for every unclosed ``[`` or backtick.

Errors quote what they got through :func:`quote`, which caps the quotation: a 500 KB
key gives a message of one line.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

__all__ = ["MAX_TITLE", "MAX_TAG", "MAX_TAGS", "MAX_NAME", "MAX_STATEMENT",
           "MAX_STATEMENT_NESTING", "MAX_STATEMENT_MARKS", "MAX_QUOTE", "quote",
           "text_fault", "one_line", "statement_faults", "char_name"]

#: Characters in a title (a heading, a line of the navigation, a line in TeX).
MAX_TITLE = 200
#: Characters in one tag, and tags per problem.
MAX_TAG = 60
MAX_TAGS = 20
#: Characters in the name of an input or a node.
MAX_NAME = 64
#: Characters in a statement (about three printed pages).
MAX_STATEMENT = 20_000
#: Levels of lists and quotes nested in a statement.
MAX_STATEMENT_NESTING = 8
#: Runs of each of the characters ``[ ` * _`` in a statement: Markdown's cost grows with
#: their number times the statement's length.
MAX_STATEMENT_MARKS = 128
#: Characters of the input an error message quotes.
MAX_QUOTE = 60

# Line breaks other than \n that some programs (and Python's str.splitlines) honour.
_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def quote(text: object, limit: int = MAX_QUOTE) -> str:
    """``text`` for an error message: control characters shown as escapes, and cut to
    ``limit`` characters with the length said, so that no message repeats a huge input."""
    text = str(text)
    shown = "".join(_escape(ch) for ch in text[:limit])
    if len(text) > limit:
        shown += f"... ({len(text):,} characters)"
    return shown


def _escape(ch: str) -> str:
    if _is_control(ch) or 0xD800 <= ord(ch) <= 0xDFFF:
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    return ch


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029"


_CONTROL_NAMES = {0x00: "NULL", 0x07: "BELL", 0x08: "BACKSPACE", 0x0A: "LINE FEED",
                  0x0B: "LINE TABULATION", 0x0C: "FORM FEED", 0x0D: "CARRIAGE RETURN",
                  0x1B: "ESCAPE", 0x7F: "DELETE", 0x85: "NEXT LINE",
                  0x9B: "CONTROL SEQUENCE INTRODUCER"}


def char_name(ch: str) -> str:
    """``U+001B ESCAPE``: the code point and the character's name where it has one."""
    name = unicodedata.name(ch, "") or _CONTROL_NAMES.get(ord(ch), "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def text_fault(text: str, *, multiline: bool = False) -> Optional[str]:
    """Why ``text`` cannot be author text, or ``None``: a lone surrogate (half of a
    UTF-16 pair, which no UTF-8 file holds: a YAML escape such as ``\\ud83d`` made it) or
    a control character (escape sequences that would drive a terminal).  Tabs are
    allowed, and line breaks where ``multiline``."""
    for ch in text:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or \
                ch in "\u2028\u2029":
            if ch == "\t" or (multiline and ch in "\n\r"):
                continue
            if 0xD800 <= code <= 0xDFFF:
                return (f"holds a lone surrogate (\\u{code:04x}), which is not a character: "
                        "write the character itself (an emoji as it is, or as \\U0001F600 "
                        "in double quotes), not its UTF-16 halves")
            if ch in _BREAKS or ch == "\n":
                return f"holds a line break ({char_name(ch)}): keep it on one line"
            return (f"holds the control character {char_name(ch)}: remove it (control "
                    "characters drive terminals and printers, they are not text)")
    return None


def one_line(text: str) -> str:
    """A title or a tag: every run of whitespace (line breaks included) one space."""
    return " ".join(text.split())


# Fenced code, as the statement's tokenizer reads it (tracer.safety.text).
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\2[`~]*[ \t]*$",
                    re.MULTILINE | re.DOTALL)
# What Markdown (and the math it holds) reads against the rest of the text, as runs.
_MARKS = [(mark, re.compile(re.escape(mark) + "+")) for mark in "[`*_"] + \
    [("\\(", re.compile(r"\\\("))]
# A line's container markers: quote markers and list markers, each with its space.
_CONTAINER = re.compile(r"[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))[ \t]?")


def _nesting(line: str) -> int:
    """How many lists and quotes a line of Markdown opens or continues: its container
    markers, and its indentation in steps of four columns (Markdown nests by indenting)."""
    level = 0
    pos = 0
    indent = len(line) - len(line.lstrip(" \t"))
    columns = len(line[:indent].expandtabs(4))
    while True:
        m = _CONTAINER.match(line, pos)
        if not m or m.end() == pos:
            break
        level += 1
        pos = m.end()
    return level + columns // 4


def statement_faults(text: str) -> list[tuple[int, str]]:
    """The ways a statement exceeds the structure Markdown and TeX are given: (line within
    the statement, 0-based; reason).  Empty when it is fine."""
    faults: list[tuple[int, str]] = []
    if len(text) > MAX_STATEMENT:
        faults.append((0, f"is {len(text):,} characters long; a statement may have at most "
                          f"{MAX_STATEMENT:,} (about three printed pages)"))
        return faults
    # Fenced code is set aside before Markdown reads anything else: it costs nothing.
    prose = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for number, line in enumerate(prose.split("\n")):
        if _nesting(line) > MAX_STATEMENT_NESTING:
            faults.append((number, f"nests lists, quotes or indentation more than "
                                   f"{MAX_STATEMENT_NESTING} levels deep: flatten it"))
            break
    for mark, pattern in _MARKS:
        runs = len(pattern.findall(prose))
        if runs > MAX_STATEMENT_MARKS:
            faults.append((0, f"uses '{mark}' in {runs} places; a statement may use each of "
                              f"[ ` * _ \\( in at most {MAX_STATEMENT_MARKS} places (Markdown "
                              "reads each one against the rest of the text): write fewer, "
                              "or put the text in a fenced code block"))
    return faults
