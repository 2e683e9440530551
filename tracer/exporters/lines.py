"""Long lines made short, without changing what they mean: for the tools after tracer.

TeX reads its input a line at a time into a buffer of 200 000 characters (TeX Live's
``buf_size``); a longer line stops pdflatex.  A sum of ten thousand terms is one formula
on one line, and its staged code one assignment, so the generated LaTeX and Python are
broken into lines of at most :data:`MAX_LINE` characters here, where each language allows
a line break that changes nothing: in LaTeX after a space or a brace, with a ``%`` that
swallows the line end; in Python inside parentheses.
"""
from __future__ import annotations

import re

__all__ = ["MAX_LINE", "wrap_tex", "wrap_python"]

#: Lines longer than this are broken.
MAX_LINE = 1000
# Where a LaTeX line may end with % and go on: after a space, a brace, an operator or a
# punctuation mark (never inside a control word, whose letters these are not).
_TEX_BREAK = re.compile(r"[ {}+=,;()\[\]]")
_VERBATIM = re.compile(r"\\(begin|end)\{(lstlisting|verbatim)\}")


def _comment_at(line: str) -> int:
    """Where the line's comment starts (an unescaped %), or its length."""
    for m in re.finditer("%", line):
        backslashes = len(line[:m.start()]) - len(line[:m.start()].rstrip("\\"))
        if backslashes % 2 == 0:
            return m.start()
    return len(line)


def _wrap_tex_line(line: str, limit: int) -> list[str]:
    end = _comment_at(line)
    pieces = []
    start = 0
    while end - start > limit:
        cut = -1
        for m in _TEX_BREAK.finditer(line, start + 1, start + limit):
            cut = m.end()
        if cut <= start:          # no place to break within the limit: the next one
            m = _TEX_BREAK.search(line, start + limit, end)
            if m is None:
                break
            cut = m.end()
        pieces.append(line[start:cut] + "%")
        start = cut
    pieces.append(line[start:])
    return pieces


def wrap_tex(text: str, limit: int = MAX_LINE) -> str:
    """LaTeX with every line longer than ``limit`` broken where TeX reads no difference
    (verbatim environments left alone)."""
    out: list[str] = []
    verbatim = False
    for line in text.split("\n"):
        m = _VERBATIM.search(line)
        if m:
            verbatim = m.group(1) == "begin"
        if len(line) <= limit or verbatim:
            out.append(line)
        else:
            out.extend(_wrap_tex_line(line, limit))
    return "\n".join(out)


_ASSIGNMENT = re.compile(r"(\s*)([^\s=#\"']+ (?:\+=|=) )(.*)\Z", re.DOTALL)


def _chunks(text: str, width: int) -> list[str]:
    words = text.split(" ")
    lines, current = [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return lines


def wrap_python(text: str, limit: int = MAX_LINE) -> str:
    """Generated Python with every line longer than ``limit`` broken: a comment into
    several comments, an assignment's right-hand side inside parentheses (generated
    expressions hold no strings, so a line may end at any space)."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= limit:
            out.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        body = line.strip()
        m = _ASSIGNMENT.match(line)
        if body.startswith("#"):
            out.extend(indent + "# " + part for part in _chunks(body.lstrip("# "), 88))
        elif m and "#" not in m.group(3) and '"' not in m.group(3) and "'" not in m.group(3):
            out.append(m.group(1) + m.group(2) + "(")
            out.extend(indent + "    " + part for part in _chunks(m.group(3), 88))
            out.append(indent + ")")
        else:
            out.append(line)
    return "\n".join(out)
