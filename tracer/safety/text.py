"""Author text, shared by every target: cleaning, and the statement split into segments.

A problem's title, statement and tags are untrusted.  Before any target escapes them, the
text is cleaned (newlines normalised, control characters and the private-use range this
package uses as placeholders removed) and the statement is split into fenced code, code
spans, display math, inline math and text, by one tokenizer shared by the Markdown and
LaTeX writers, so both read the same math the same way.  Imports only the standard library.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

__all__ = ["clean", "one_line", "Segment", "segments", "PLACEHOLDER", "PLACEHOLDER_END"]

PLACEHOLDER = 0xE000           # private-use code points stand in for segments while escaping
PLACEHOLDER_END = 0xF000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


def clean(text: str) -> str:
    """Newlines normalised, control characters and our placeholder range removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    return "".join(ch for ch in text if not PLACEHOLDER <= ord(ch) < PLACEHOLDER_END)


def one_line(text: str) -> str:
    """Titles and tags: one line, whitespace collapsed."""
    return " ".join(clean(text).split())


@dataclass(frozen=True)
class Segment:
    kind: str        # "text", "code", "fence", "math", "display"
    text: str        # the content (math without its delimiters)
    source: str      # the segment as written


# Fenced code: ``` or ~~~ at the start of a line, closed by the same fence.
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\2[`~]*[ \t]*$",
                    re.MULTILINE | re.DOTALL)
_DISPLAY = re.compile(r"(?<!\\)\$\$((?:\\.|[^\\$])+?)\$\$|(?<!\\)\\\[((?:\\[^\]]|[^\\])+?)\\\]",
                      re.DOTALL)
# Inline math as pymdownx.arithmatex reads it (smart dollars: no space inside the dollars).
_INLINE = re.compile(r"(?<![\\$])\$(?![\s$])((?:\\.|[^\\$])+?)(?<![\s\\])\$(?!\$)"
                     r"|(?<!\\)\\\(((?:\\[^)]|[^\\])+?)\\\)", re.DOTALL)
_BACKTICKS = re.compile(r"(?<!\\)(`+)")


def _code_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every inline code span: a run of backticks closed by a run of
    the same length, within one paragraph."""
    spans = []
    pos = 0
    while True:
        m = _BACKTICKS.search(text, pos)
        if not m:
            return spans
        ticks = m.group(1)
        close = re.compile(r"(?<!`)" + ticks + r"(?!`)")
        end = close.search(text, m.end())
        if end is None or "\n\n" in text[m.end():end.start()]:
            pos = m.end()
            continue
        spans.append((m.start(), end.end(), text[m.end():end.start()].strip()))
        pos = end.end()


def segments(statement: str) -> list[Segment]:
    """The statement as fenced code, code spans, display math, inline math and text."""
    out: list[Segment] = []

    def split(text: str, finders: list[Callable[[str], list[tuple[int, int, str, str]]]]) -> None:
        if not finders:
            if text:
                out.append(Segment("text", text, text))
            return
        find, rest = finders[0], finders[1:]
        pos = 0
        for start, end, kind, content in find(text):
            split(text[pos:start], rest)
            out.append(Segment(kind, content, text[start:end]))
            pos = end
        split(text[pos:], rest)

    def fences(text):
        return [(m.start(), m.end(), "fence", m.group(3)) for m in _FENCE.finditer(text)]

    def code(text):
        return [(s, e, "code", c) for s, e, c in _code_spans(text)]

    def display(text):
        return [(m.start(), m.end(), "display", m.group(1) if m.group(1) is not None
                 else m.group(2)) for m in _DISPLAY.finditer(text)]

    def inline(text):
        return [(m.start(), m.end(), "math", m.group(1) if m.group(1) is not None
                 else m.group(2)) for m in _INLINE.finditer(text)]

    split(clean(statement).strip("\n"), [fences, code, display, inline])
    return out


