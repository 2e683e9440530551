"""Author text as Markdown for the site: one escaping function per kind of text.

Titles and tags are plain text (:func:`md_text`); the statement is Markdown with math
(:func:`md_statement`): its math is kept exactly, its code escaped, raw HTML escaped unless
``allow_html``, and links to unsafe addresses broken into text.  Imports only
:mod:`tracer.safety.text` and the standard library.
"""
from __future__ import annotations

import html
import re

from .text import clean, one_line, segments

__all__ = ["md_text", "html_text", "md_statement", "md_cell_math"]


# Characters that mean something to Markdown or its extensions (emphasis, links, attribute
# lists, math, tables, headings, HTML): author text shows them as numeric character
# references, which no Markdown rule reads and every browser shows as the character.
_MD_SPECIAL = set("\\`*_{}[]#|$<>&")
_SAFE_URL = re.compile(r"(?:https?://|mailto:)[^\s<>\"'`\\&]*\Z|[A-Za-z0-9._~/?#=+%-]*\Z",
                       re.IGNORECASE)
_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]*)")
# A reference definition, also inside quotes and list items (after their markers or their
# indentation) and with its address on the next line.
_LINK_DEFINITION = re.compile(
    r"^((?:[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t])))*[ \t]*\[[^\]\n]+\]:[ \t]*"
    r"(?:\n(?:[ \t]*>)*[ \t]*)?<?)(\S*)", re.MULTILINE)


def _entity(ch: str) -> str:
    return f"&#{ord(ch)};"


def md_text(text: str) -> str:
    """Author text as Markdown that shows exactly that text: no markup, no HTML, no math."""
    return "".join(_entity(ch) if ch in _MD_SPECIAL else ch for ch in one_line(text))


def html_text(text: str) -> str:
    """Text for an HTML attribute or element (our own markup)."""
    return html.escape(str(text), quote=True)


def _md_math_inline(tex: str) -> str:
    # What pymdownx.arithmatex (generic) writes for $...$, with every character Markdown
    # could read as syntax written as a character reference, so nothing inside is touched.
    return '<span class="arithmatex">' + _md_literal("\\(" + tex + "\\)") + "</span>"


def _md_literal(text: str) -> str:
    return "".join(_entity(ch) if ch in _MD_SPECIAL or ch == "\n" else ch for ch in text)


def _md_text_segment(text: str) -> str:
    """Statement text outside code and math: Markdown stays Markdown, but no raw HTML, no
    attribute lists, no stray math delimiters and no links to unsafe addresses."""
    def link(m: re.Match) -> str:
        url = m.group(2)
        if _SAFE_URL.match(url):
            return m.group(0)
        return "&#93;&#40;" + m.group(1)[2:] + url  # the link syntax broken: shown as text

    text = _LINK.sub(link, text)
    text = _LINK_DEFINITION.sub(
        lambda m: m.group(0) if _SAFE_URL.match(m.group(2)) else
        m.group(1).replace("[", "&#91;", 1) + m.group(2), text)
    # No Markdown-made link or image, by whatever syntax, gets an unsafe address: pages are
    # also cleaned after Markdown (tracer.safety.html), this is the second wall.
    # Left-over backticks open no code span (those were taken out first), and a run of more
    # than three * or _ is no emphasis; Markdown would still scan the rest of the text for
    # each (and recurse once per mark of a long run): they are shown as characters.
    text = _STRAY.sub(lambda m: m.group(0) if _RULE.match(m.string, _line_start(m))
                      else "".join(_entity(ch) for ch in m.group(0)), text)
    out = []
    for ch in text:
        if ch == "<":
            out.append("&lt;")
        elif ch in "{}$":
            out.append(_entity(ch))
        else:
            out.append(ch)
    return "".join(out)


_STRAY = re.compile(r"`+|\*{4,}|_{4,}")
# A line that is only a thematic break (*** or ___ or more, spaces between) stays one.
_RULE = re.compile(r"[ \t]*([*_])(?:[ \t]*\1){2,}[ \t]*$", re.MULTILINE)


def _line_start(m: re.Match) -> int:
    return m.string.rfind("\n", 0, m.start()) + 1


def md_statement(statement: str, *, allow_html: bool = False) -> str:
    """The problem statement as Markdown for the site.

    Math (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) is kept exactly and written
    as pymdownx.arithmatex would write it; code is escaped; raw HTML is escaped unless
    ``allow_html`` (then the statement is passed through as written).
    """
    if allow_html:
        return clean(statement).strip("\n")
    parts = []
    for seg in segments(statement):
        if seg.kind == "text":
            parts.append(_md_text_segment(seg.text))
        elif seg.kind == "code":
            parts.append("<code>" + _md_literal(seg.text) + "</code>")
        elif seg.kind == "fence":
            parts.append("\n\n<pre><code>" + html.escape(seg.text, quote=False)
                         + "</code></pre>\n\n")
        elif seg.kind == "math":
            parts.append(_md_math_inline(seg.text))
        else:
            parts.append("\n\n" + _md_display(seg.text) + "\n\n")
    text = "".join(parts)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _md_display(tex: str) -> str:
    return '<div class="arithmatex">' + html.escape("\\[" + tex + "\\]", quote=False) + "</div>"


def md_cell_math(tex: str) -> str:
    """LaTeX for a Markdown table cell: a bare ``|`` would end the cell."""
    return tex.replace("\\|", "\\Vert ").replace("|", "\\vert ")


