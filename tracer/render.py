"""Stage 4: :class:`~tracer.engine.Trace` -> text (terminal, JSON, documents).

All wording and layout lives in ``templates/``; this module only prepares values and
formulas for them.  Jinja runs with ``StrictUndefined``: a misspelt field fails loudly.

:func:`documents` writes a problem's teaching documents: the worksheet and the answer key
(Markdown for the site, LaTeX for print) and the generated code (``staged.py``, plain
Python; ``check_torch.py``, PyTorch).  Author text (title, statement, tags) is untrusted:
it reaches Markdown only escaped (raw HTML only with ``allow_html``) and LaTeX only as
escaped text or as math built from an allowlist of harmless commands.
"""
from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

import jinja2

from .engine import NodeTrace, Trace, local_formula
from .expr import (Call, Const, Expr, ExprError, Var, evaluate, fold, format_const, parse,
                   tex_symbol, to_python, to_tex, walk)
from .numbers import fmt, fmt_full, fmt_tex
from .primitives import PRIMITIVES

__all__ = ["environment", "document_environment", "render_terminal", "to_json", "as_dict",
           "documents", "DOCUMENT_NAMES", "expr_values_tex", "expr_values_text", "expr_text",
           "md_text", "md_statement", "tex_text", "tex_statement", "tex_math_allowed",
           "staged_code", "torch_code", "frame_names", "TEMPLATES"]

#: The templates folder (top level of the project).
def _templates() -> Path:
    # A checkout (or editable install) uses the top-level templates/; an installed wheel
    # carries a copy inside the package (see pyproject.toml).
    here = Path(__file__).resolve().parent
    top = here.parent / "templates"
    return top if top.is_dir() else here / "templates"


TEMPLATES = _templates()

#: The files :func:`documents` returns, in a problem's own folder.
DOCUMENT_NAMES = ("worksheet.md", "answers.md", "worksheet.tex", "answers.tex", "staged.py",
                  "check_torch.py")


def _environment(**delimiters: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        **delimiters,
    )


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """The Jinja environment of the terminal and figure templates."""
    env = _environment()
    env.filters.update(num=fmt, num_tex=fmt_tex, sym=tex_symbol)
    return env


@lru_cache(maxsize=None)
def document_environment() -> jinja2.Environment:
    """The environment of the Markdown, LaTeX and code templates.

    Its delimiters are ``<< expr >>``, ``<% statement %>`` and ``<# comment #>``, so that
    LaTeX's braces (``x_{{1}}``, ``{#1}``) never read as Jinja.
    """
    env = _environment(
        block_start_string="<%", block_end_string="%>",
        variable_start_string="<<", variable_end_string=">>",
        comment_start_string="<#", comment_end_string="#>",
    )
    env.filters.update(num=fmt, num_tex=fmt_tex, sym=tex_symbol, md=md_text, tex=tex_text,
                       html=html_text, cell=md_cell_math, json=json.dumps)
    return env


# ----------------------------------------------------------------------------- helpers

def expr_text(expr) -> str:
    """An expression as plain text (Python syntax), for the terminal."""
    return to_python(expr)


def expr_values_text(expr, values: dict[str, float], digits: int) -> str:
    """An expression with every name replaced by its value, as plain text."""
    def leaf(node):
        if isinstance(node, Var):
            v = values[node.name]
            return fmt(v, digits), (30 if v < 0 else 100)
        return format_const(node.value), (30 if node.value < 0 else 100)

    return to_python(expr, leaf)


def expr_values_tex(expr, values: dict[str, float], digits: int) -> str:
    """An expression in LaTeX with every name replaced by its value: ``-7 + 2``."""
    def leaf(node):
        v = values[node.name] if isinstance(node, Var) else node.value
        # A negative number binds like a sum: bracketed after + and - and in products.
        return fmt_tex(v, digits), (10 if v < 0 else 100)

    # Two bracketed numbers side by side, (-5) (-2), read better with the product written.
    return re.sub(r"\) \(", r") \\cdot (", to_tex(expr, leaf))


# ----------------------------------------------------------------------------- terminal / JSON

def render_terminal(trace: Trace) -> str:
    """The trace as readable text: forward table, backward steps, final gradients."""
    values = trace.values
    d = trace.precision
    forward = []
    for n in trace.nodes:
        if n.kind == "gate":
            forward.append(dict(name=n.name, formula=expr_text(n.expr),
                                substituted=expr_values_text(n.expr, values, d), value=n.value))
    return environment().get_template("terminal/trace.txt.j2").render(
        trace=trace, forward=forward)


def to_json(trace: Trace) -> str:
    """The trace as JSON (the format documented in the README)."""
    return json.dumps(as_dict(trace), indent=2) + "\n"


def as_dict(trace: Trace) -> dict[str, Any]:
    """The trace as plain JSON-ready data."""
    return {
        "id": trace.id,
        "title": trace.title,
        "output": trace.output,
        "inputs": list(trace.inputs),
        "wrt": list(trace.wrt),
        "values": trace.values,
        "gradients": trace.gradients,
        "nodes": [{
            "name": n.name,
            "kind": n.kind,
            "expression": None if n.expr is None else expr_text(n.expr),
            "tex": None if n.expr is None else to_tex(n.expr),
            "op": n.op,
            "operands": list(n.operands),
            "value": n.value,
            "grad": n.grad,
            "local": [{"operand": l.operand, "slot": l.slot, "tex": l.tex, "value": l.value}
                      for l in n.locals],
        } for n in trace.nodes],
        "backward": [{
            "node": s.node,
            "from": s.source,
            "slot": s.slot,
            "upstream": s.upstream,
            "local": s.local,
            "local_tex": s.local_tex,
            "contribution": s.contribution,
            "path": s.path,
        } for s in trace.backward],
        "sums": [{"node": a.node, "from": list(a.sources),
                  "contributions": list(a.contributions), "grad": a.grad} for a in trace.sums],
        "update": None if trace.update is None else {
            "learning_rate": trace.update.learning_rate,
            "params": [{"name": p.name, "old": p.old, "grad": p.grad, "new": p.new}
                       for p in trace.update.params],
            "values": dict(trace.update.values),
            "output_before": trace.update.output_before,
            "output_after": trace.update.output_after,
        },
        "rounding": trace.rounding,
        "function_tex": trace.function_tex,
        "gradient_tex": dict(trace.gradient_tex),
        "numeric": dict(trace.numeric),
    }


# ============================================================================= untrusted text
#
# Author text is escaped where it lands.  The statement is split into segments first
# (fenced code, inline code, display math, inline math, text) by one tokenizer shared by the
# Markdown and the LaTeX writers, so both read the same math the same way.

_PLACEHOLDER = 0xE000           # private-use code points stand in for segments while escaping
_PLACEHOLDER_END = 0xF000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


def _clean(text: str) -> str:
    """Newlines normalised, control characters and our placeholder range removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    return "".join(ch for ch in text if not _PLACEHOLDER <= ord(ch) < _PLACEHOLDER_END)


def _one_line(text: str) -> str:
    """Titles and tags: one line, whitespace collapsed."""
    return " ".join(_clean(text).split())


@dataclass(frozen=True)
class _Segment:
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


def _segments(statement: str) -> list[_Segment]:
    """The statement as fenced code, code spans, display math, inline math and text."""
    out: list[_Segment] = []

    def split(text: str, finders: list[Callable[[str], list[tuple[int, int, str, str]]]]) -> None:
        if not finders:
            if text:
                out.append(_Segment("text", text, text))
            return
        find, rest = finders[0], finders[1:]
        pos = 0
        for start, end, kind, content in find(text):
            split(text[pos:start], rest)
            out.append(_Segment(kind, content, text[start:end]))
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

    split(_clean(statement).strip("\n"), [fences, code, display, inline])
    return out


# ----------------------------------------------------------------------------- Markdown

# Characters that mean something to Markdown or its extensions (emphasis, links, attribute
# lists, math, tables, headings, HTML): author text shows them as numeric character
# references, which no Markdown rule reads and every browser shows as the character.
_MD_SPECIAL = set("\\`*_{}[]#|$<>&")
_SAFE_URL = re.compile(r"(?:https?://|mailto:)[^\s<>\"'`\\&]*\Z|[A-Za-z0-9._~/?#=+%-]*\Z",
                       re.IGNORECASE)
_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]*)")
_LINK_DEFINITION = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*<?)(\S*)", re.MULTILINE)


def _entity(ch: str) -> str:
    return f"&#{ord(ch)};"


def md_text(text: str) -> str:
    """Author text as Markdown that shows exactly that text: no markup, no HTML, no math."""
    return "".join(_entity(ch) if ch in _MD_SPECIAL else ch for ch in _one_line(text))


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
    out = []
    for ch in text:
        if ch == "<":
            out.append("&lt;")
        elif ch in "{}$":
            out.append(_entity(ch))
        else:
            out.append(ch)
    return "".join(out)


def md_statement(statement: str, *, allow_html: bool = False) -> str:
    """The problem statement as Markdown for the site.

    Math (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) is kept exactly and written
    as pymdownx.arithmatex would write it; code is escaped; raw HTML is escaped unless
    ``allow_html`` (then the statement is passed through as written).
    """
    if allow_html:
        return _clean(statement).strip("\n")
    parts = []
    for seg in _segments(statement):
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


# ----------------------------------------------------------------------------- LaTeX

_TEX_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "\t": " ", "\n": " ",
}
# Characters pdflatex (T1, utf8) typesets as they are: Latin-1 and Latin Extended-A
# (less the few without a T1 glyph) and common punctuation.
_TEX_NATIVE = ({chr(c) for c in range(0xA0, 0x180)} - set("ĦħĸĿŀŉŦŧſ")) | set(
    "‐‑‒–—―‘’‚“”„†‡•…‰‹›€™←↑→↓⁄")
_MATH_SYMBOLS = {
    "−": "-", "∙": r"\cdot", "⋅": r"\cdot", "·": r"\cdot", "×": r"\times", "÷": r"\div",
    "±": r"\pm", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx", "∂": r"\partial",
    "∇": r"\nabla", "√": r"\surd", "∑": r"\sum", "∏": r"\prod", "∫": r"\int",
    "∞": r"\infty", "∈": r"\in", "∀": r"\forall", "∃": r"\exists", "→": r"\to",
    "←": r"\leftarrow", "⇒": r"\Rightarrow", "↦": r"\mapsto", "′": "'", "″": "''",
    "∘": r"\circ", "ℓ": r"\ell", "∅": r"\emptyset", "∝": r"\propto", "≡": r"\equiv",
}
_GREEK_UPPER_TEX = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon",
                    "Phi", "Psi", "Omega"}


@lru_cache(maxsize=4096)
def _unicode_math(ch: str) -> Optional[str]:
    """A math-mode command for a non-ASCII character, or ``None``."""
    if ch in _MATH_SYMBOLS:
        return _MATH_SYMBOLS[ch]
    name = unicodedata.name(ch, "")
    m = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)", name)
    if m:
        letter = m.group(2).capitalize()
        if m.group(1) == "SMALL":
            if letter == "Omicron":
                return "o"
            if letter == "Final":
                return None
            return "\\" + letter.lower()
        if letter in _GREEK_UPPER_TEX:
            return "\\" + letter
        latin = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H",
                 "Iota": "I", "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P",
                 "Tau": "T", "Chi": "X"}
        return "\\mathrm{" + latin[letter] + "}" if letter in latin else None
    if name == "GREEK SMALL LETTER FINAL SIGMA":
        return r"\varsigma"
    decomposition = unicodedata.decomposition(ch)
    m = re.fullmatch(r"<(sub|super)> ([0-9A-F]{4})", decomposition)
    if m:
        base = chr(int(m.group(2), 16))
        inner = _MATH_SYMBOLS.get(base, base)
        if inner.isascii() and (inner.isalnum() or inner in "+-=()"):
            return ("_{" if m.group(1) == "sub" else "^{") + inner + "}"
    return None


def _tex_char(ch: str) -> str:
    if _PLACEHOLDER <= ord(ch) < _PLACEHOLDER_END:
        return ch   # a segment written elsewhere (author text never holds these)
    if ch in _TEX_ESCAPES:
        return _TEX_ESCAPES[ch]
    if ch.isascii() or ch in _TEX_NATIVE:
        return ch
    math_form = _unicode_math(ch)
    if math_form is not None:
        if math_form[:2] in ("_{", "^{"):
            inner = math_form[2:-1]
            command = r"\textsubscript" if math_form[0] == "_" else r"\textsuperscript"
            return command + "{" + ("\\ensuremath{-}" if inner == "-" else inner) + "}"
        return "\\ensuremath{" + math_form + "}"
    # A character no font here has: its code point, visibly.
    return r"\texttt{[U+%04X]}" % ord(ch)


def tex_text(text: str) -> str:
    """Author text (title, tag) as LaTeX text: every special character escaped."""
    return "".join(_tex_char(ch) for ch in _one_line(text))


def _tex_escape(text: str) -> str:
    return "".join(_tex_char(ch) for ch in text)


#: Control sequences a statement's math may use: harmless math notation only.
TEX_MATH_ALLOWED = frozenset("""
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi
pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta
Lambda Xi Pi Sigma Upsilon Phi Psi Omega
frac dfrac tfrac sqrt sum prod int oint lim limsup liminf partial nabla infty
cdot times div pm mp ast star circ bullet cdots ldots dots vdots ddots
le leq ge geq ne neq approx sim simeq equiv propto ll gg subset subseteq supset supseteq in
notin ni cup cap setminus emptyset forall exists neg land lor
to rightarrow leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow mapsto
longrightarrow longleftarrow uparrow downarrow
left right big Big bigg Bigg bigl bigr Bigl Bigr middle
mathrm mathbf mathit mathsf mathtt mathcal mathbb boldsymbol operatorname text textrm
textbf textit
sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh exp log ln max min arg det
sup inf
hat bar tilde vec dot ddot overline underline widehat widetilde prime
quad qquad langle rangle lvert rvert lVert rVert vert Vert lfloor rfloor lceil rceil mid
top intercal ell displaystyle textstyle limits nolimits binom tbinom dbinom colon perp
parallel angle triangle Box lbrace rbrace
""".split())
#: Control symbols (a backslash and one non-letter) that are harmless in math.
_TEX_SYMBOLS_ALLOWED = frozenset(",;:! {}|%$#&_")
#: Commands and how many mandatory arguments they take.
_TEX_ARGS = {"frac": 2, "dfrac": 2, "tfrac": 2, "binom": 2, "tbinom": 2, "dbinom": 2,
             "sqrt": 1, "mathrm": 1, "mathbf": 1, "mathit": 1, "mathsf": 1, "mathtt": 1,
             "mathcal": 1, "mathbb": 1, "boldsymbol": 1, "operatorname": 1, "text": 1,
             "textrm": 1, "textbf": 1, "textit": 1, "hat": 1, "bar": 1, "tilde": 1,
             "vec": 1, "dot": 1, "ddot": 1, "overline": 1, "underline": 1, "widehat": 1,
             "widetilde": 1}
#: Commands whose argument is text, not math: it may hold only plain words.
_TEX_TEXT_ARGS = {"text", "textrm", "textbf", "textit"}
_TEX_PLAIN = re.compile(r"[A-Za-z0-9 .,;:!?'()/+=-]\Z")
_TEX_DELIMITERS = set("()[]|./") | {"\\{", "\\}", "\\|", "\\langle", "\\rangle", "\\lvert",
                                     "\\rvert", "\\lVert", "\\rVert", "\\vert", "\\Vert",
                                     "\\lfloor", "\\rfloor", "\\lceil", "\\rceil",
                                     "\\lbrace", "\\rbrace", "\\uparrow", "\\downarrow"}
_TEX_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.DOTALL)


def _math_unicode_to_tex(tex: str) -> Optional[str]:
    """Non-ASCII characters of a math segment as commands, or ``None`` if one has none."""
    out = []
    for ch in tex:
        if ch.isascii():
            out.append(ch)
            continue
        command = _unicode_math(ch)
        if command is None:
            return None
        out.append(command + (" " if command[-1].isalpha() else ""))
    return "".join(out)


def tex_math_allowed(tex: str) -> bool:
    """Whether ``tex`` (the inside of one math segment) is safe and well-formed enough to
    hand to pdflatex: only allowlisted control sequences, balanced braces and
    ``\\left``/``\\right``, every command's arguments present, no double scripts, and none
    of ``%``, ``#``, ``&``, ``^^`` or a line break (``\\\\``)."""
    if "^^" in tex or not tex.strip():
        return False
    tokens = [t for t in _TEX_TOKEN.findall(tex) if not t.isspace()]
    # Safety: every token on its own.
    depth = 0
    lefts: list[int] = []
    for i, tok in enumerate(tokens):
        if tok in ("%", "#", "&"):
            return False
        if tok.startswith("\\"):
            name = tok[1:]
            if len(name) == 1 and not name.isalpha():
                if name not in _TEX_SYMBOLS_ALLOWED:
                    return False
            elif name not in TEX_MATH_ALLOWED:
                return False
            if name in ("left", "right", "middle"):
                if i + 1 >= len(tokens) or tokens[i + 1] not in _TEX_DELIMITERS:
                    return False
                if name == "left":
                    lefts.append(depth)
                elif name == "right" and (not lefts or lefts.pop() != depth):
                    return False
        elif tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth < 0:
                return False
    if depth or lefts:
        return False
    return _tex_well_formed(tokens)


def _tex_well_formed(tokens: list[str]) -> bool:
    """Arguments present and no double sub- or superscripts (tokens already checked)."""
    sup: Optional[str] = None     # None, "prime" or "done" for the current atom
    sub = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "'":
            if sup == "done":
                return False
            sup = "prime"
            i += 1
            continue
        if tok in ("^", "_"):
            if (tok == "^" and sup == "done") or (tok == "_" and sub):
                return False
            if tok == "^":
                sup = "done"
            else:
                sub = True
            end = _tex_argument(tokens, i + 1)
            if end < 0 or not _tex_well_formed(tokens[i + 1:end]):
                return False
            i = end
            continue
        sup, sub = None, False
        if tok.startswith("\\"):
            name = tok[1:]
            if name in ("left", "right", "middle"):
                i += 2
                continue
            i += 1
            if name == "sqrt" and i < len(tokens) and tokens[i] == "[":
                if "]" not in tokens[i:]:
                    return False
                close = tokens.index("]", i)
                if not _tex_well_formed(tokens[i + 1:close]):
                    return False
                i = close + 1
            for _ in range(_TEX_ARGS.get(name, 0)):
                end = _tex_argument(tokens, i)
                if end < 0 or not _tex_well_formed(tokens[i:end]):
                    return False
                if name in _TEX_TEXT_ARGS and not all(
                        _TEX_PLAIN.match(t) for t in tokens[i:end] if t not in "{}"):
                    return False
                i = end
            continue
        if tok == "{":
            end = _tex_argument(tokens, i)
            if end < 0 or not _tex_well_formed(tokens[i + 1:end - 1]):
                return False
            i = end
            continue
        i += 1
    return True


def _tex_argument(tokens: list[str], i: int) -> int:
    """The index after the argument starting at ``i`` (one token or a braced group), or -1."""
    if i >= len(tokens) or tokens[i] in ("}", "^", "_", "'"):
        return -1
    if tokens[i] != "{":
        if tokens[i].startswith("\\") and tokens[i][1:] in _TEX_ARGS | {"left": 0}:
            return -1   # a command with arguments as an unbraced argument: write braces
        return i + 1
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j] == "{":
            depth += 1
        elif tokens[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


# Minimal Markdown inside a paragraph of the statement, for LaTeX.
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|$<>~])")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__", re.DOTALL)
_EMPH = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])"
                   r"|(?<![_\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![_\w])", re.DOTALL)
_LINK_TEXT = re.compile(r"!?\[([^\]\n]*)\]\(\s*<?([^)\s>]*)>?\s*\)")
_BOLD_OPEN, _BOLD_CLOSE, _EMPH_OPEN, _EMPH_CLOSE = "\ue100", "\ue101", "\ue102", "\ue103"


def _tex_inline_markdown(text: str, pieces: dict[str, str]) -> str:
    """``**bold**``, ``*emphasis*``, ``\\*`` escapes and links, on text whose code and math
    are placeholders, escaped for LaTeX."""
    def literal(ch: str) -> str:
        key = chr(_PLACEHOLDER + 0x800 + len(pieces))
        pieces[key] = _tex_escape(ch)
        return key

    text = _ESCAPED.sub(lambda m: literal(m.group(1)), text)
    text = _LINK_TEXT.sub(lambda m: m.group(1) + (" (" + m.group(2) + ")" if m.group(2)
                                                   and m.group(2) != m.group(1) else ""), text)
    text = _BOLD.sub(lambda m: _BOLD_OPEN + (m.group(1) or m.group(2)) + _BOLD_CLOSE, text)
    text = _EMPH.sub(lambda m: _EMPH_OPEN + (m.group(1) or m.group(2)) + _EMPH_CLOSE, text)
    out = _tex_escape(text)
    for marker, command in ((_BOLD_OPEN, r"\textbf{"), (_EMPH_OPEN, r"\emph{"),
                            (_BOLD_CLOSE, "}"), (_EMPH_CLOSE, "}")):
        out = out.replace(marker, command)
    return out


_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


def tex_statement(statement: str) -> str:
    """The problem statement as LaTeX paragraphs.

    Math passes only if :func:`tex_math_allowed`; otherwise it is written as text.  Inline
    code becomes ``\\texttt``, ``**bold**`` ``\\textbf``, ``*emphasis*`` ``\\emph``,
    list items ``itemize``/``enumerate`` and fenced code a typewriter block.
    """
    pieces: dict[str, str] = {}

    def piece(latex: str) -> str:
        key = chr(_PLACEHOLDER + len(pieces))
        pieces[key] = latex
        return key

    flat = []
    for seg in _segments(statement):
        if seg.kind == "text":
            flat.append(seg.text)
        elif seg.kind == "code":
            flat.append(piece(r"\texttt{" + _tex_escape(seg.text) + "}"))
        elif seg.kind == "fence":
            flat.append("\n\n" + piece(_tex_code_block(seg.text)) + "\n\n")
        elif seg.kind == "math":
            safe = _math_unicode_to_tex(seg.text)
            if safe is not None and tex_math_allowed(safe):
                flat.append(piece("$" + safe.replace("\n", " ") + "$"))
            else:
                flat.append(piece(r"\texttt{" + _tex_escape(seg.source) + "}"))
        else:
            safe = _math_unicode_to_tex(seg.text)
            if safe is not None and tex_math_allowed(safe):
                flat.append("\n\n" + piece("\\[" + safe.replace("\n", " ") + "\\]") + "\n\n")
            else:
                flat.append(piece(r"\texttt{" + _tex_escape(seg.source) + "}"))
    paragraphs = []
    for block in re.split(r"\n\s*\n", "".join(flat)):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        heading = _HEADING.match(lines[0]) if len(lines) == 1 else None
        if heading:
            paragraphs.append(r"\paragraph{" + _tex_inline_markdown(heading.group(1), pieces)
                              + "}")
        elif all(_LIST_ITEM.match(line) or line.startswith((" ", "\t")) for line in lines) \
                and _LIST_ITEM.match(lines[0]):
            paragraphs.append(_tex_list(lines, pieces))
        else:
            paragraphs.append(_tex_inline_markdown(" ".join(l.strip() for l in lines),
                                                   pieces))
    text = "\n\n".join(paragraphs)
    # Placeholders may nest (a literal inside a piece never does), so substitute until none.
    pattern = re.compile("[\ue000-\uefff]")
    while pattern.search(text):
        text = pattern.sub(lambda m: pieces.get(m.group(0), ""), text)
    return text


def _tex_list(lines: list[str], pieces: dict[str, str]) -> str:
    items: list[str] = []
    for line in lines:
        m = _LIST_ITEM.match(line)
        if m:
            items.append(line[m.end():].strip())
        else:
            items[-1] += " " + line.strip()
    numbered = bool(re.match(r"\s*\d", lines[0]))
    env = "enumerate" if numbered else "itemize"
    body = "\n".join(r"\item " + _tex_inline_markdown(item, pieces) for item in items)
    return "\\begin{" + env + "}\n" + body + "\n\\end{" + env + "}"


def _tex_code_block(code: str) -> str:
    lines = []
    for line in code.rstrip("\n").split("\n"):
        lines.append("".join(r"\ " if ch == " " else _tex_char(ch) for ch in line) or r"\ ")
    return "{\\ttfamily\\small\\noindent " + "\\\\\n".join(lines) + "\\par}"


# ============================================================================= notation

def _partial(out: str, node: str, path: Optional[int] = None) -> str:
    """∂out/∂node, with the contribution label [k] on the numerator."""
    label = f"^{{[{path}]}}" if path is not None else ""
    return rf"\frac{{\partial {tex_symbol(out)}{label}}}{{\partial {tex_symbol(node)}}}"


def _needs_parens(tex: str) -> bool:
    """Whether a formula must be parenthesised as a factor: it starts with a minus sign or
    has a sum or difference outside any group."""
    tex = tex.strip()
    if tex.startswith("-"):
        return True
    depth = 0
    for i, ch in enumerate(tex):
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch in "+-" and depth == 0 and i > 0:
            return True
    return False


def _factor_tex(tex: str) -> str:
    if not _needs_parens(tex) and r"\times" not in tex:
        return tex
    if r"\frac" in tex:
        return r"\left(" + tex + r"\right)"
    return "(" + tex + ")"


def _visible_width(tex: str) -> int:
    """A rough count of the characters a formula shows, to decide where to break it."""
    tex = re.sub(r"\\frac\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}",
                 lambda m: "x" * max(_visible_width(m.group(1)), _visible_width(m.group(2))),
                 tex)
    tex = re.sub(r"\\(left|right|mathit|mathrm|operatorname|mathbf)", "", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return len(re.sub(r"[{}\s^_]", "", tex))


# ============================================================================= the model

@dataclass(frozen=True)
class _Local:
    """One local derivative ready for printing."""

    gate: str
    operand: str
    symbol: str            # \frac{\partial u}{\partial x}
    formula: str           # its formula (LaTeX), as the trace has it
    substituted: Optional[str]   # the formula with the values put in, when that adds a line
    value: str
    kink: bool


def _local_exprs(node: NodeTrace) -> list[Optional[Expr]]:
    """The local derivative of ``node`` for each slot as an expression, where one is known:
    the table's formula for a simple gate, SymPy's for a gate of several operations."""
    expr = node.expr
    if node.op is not None and isinstance(expr, Call):
        indices = [i for i, a in enumerate(expr.args) if isinstance(a, Var)]
        return [local_formula(expr, i, node.name) for i in indices]
    return list(_multi_local_exprs(expr, node.operands))


@lru_cache(maxsize=1024)
def _multi_local_exprs(expr: Expr, operands: tuple[str, ...]) -> tuple[Optional[Expr], ...]:
    from .symbolic import local_python

    texts = local_python(expr, list(operands))
    if texts is None:
        return tuple(None for _ in operands)
    result = []
    for text in texts:
        try:
            result.append(parse(text))
        except ExprError:
            result.append(None)
    return tuple(result)


@lru_cache(maxsize=1024)
def _multi_local_python(expr: Expr, operands: tuple[str, ...]) -> tuple[Optional[str], ...]:
    from .symbolic import local_python

    texts = local_python(expr, list(operands))
    return tuple(texts) if texts is not None else tuple(None for _ in operands)


def frame_names(trace: Trace) -> list[str]:
    """The step-through frames the figures module draws for ``trace`` (none for graphs too
    large to step through)."""
    try:
        from .figures import MAX_FIGURE_NODES
    except ImportError:  # pragma: no cover - the figures module ships with tracer
        MAX_FIGURE_NODES = math.inf
    if len(trace.nodes) > MAX_FIGURE_NODES:
        return []
    width = max(2, len(str(len(trace.backward))))
    return [f"step-{i:0{width}d}.svg" for i in range(1, len(trace.backward) + 1)]


def _model(trace: Trace) -> dict[str, Any]:
    """Everything the document templates print, as LaTeX snippets, names and numbers."""
    d = trace.precision
    values = trace.values
    out = trace.output

    def num(v: float) -> str:
        return fmt_tex(v, d)

    def factor(v: float) -> str:
        return _factor_tex(num(v))

    def lead(v: float) -> str:
        text = num(v)
        return "(" + text + ")" if r"\times" in text else text

    gates = [n for n in trace.nodes if n.kind == "gate"]
    inputs = [n for n in trace.nodes if n.kind == "input"]

    # Local derivatives: formula, substituted formula, value.
    locals_by_gate: dict[str, list[_Local]] = {}
    for node in gates:
        exprs = _local_exprs(node)
        rows = []
        for local, expr in zip(node.locals, exprs):
            value = num(local.value)
            formula = local.tex or _partial(node.name, local.operand)
            substituted = None
            if expr is not None and local.tex:
                try:
                    substituted = expr_values_tex(expr, values, d)
                except KeyError:
                    substituted = None
                if substituted in (formula, value):
                    substituted = None
            rows.append(_Local(node.name, local.operand, _partial(node.name, local.operand),
                               formula, substituted, value, local.kink))
        locals_by_gate[node.name] = rows

    # Forward pass, each line substituted; "≈" where hand-calculation rounding changed it.
    forward = []
    for node in gates:
        substituted = expr_values_tex(node.expr, values, d)
        exact = evaluate(node.expr, values)
        rounded = trace.rounding is not None and exact != node.value
        forward.append(dict(
            name=node.name, symbol=tex_symbol(node.name), definition=to_tex(node.expr),
            substituted=None if substituted == num(node.value) else substituted,
            value=num(node.value), rounded=rounded, locals=locals_by_gate[node.name]))

    # Backward pass: one group per gate passing its gradient on, the sums placed right
    # after the contribution that completes them.
    sums = {a.node: a for a in trace.sums}
    frames = frame_names(trace)
    groups: list[dict[str, Any]] = []
    steps = []
    for index, step in enumerate(trace.backward, 1):
        source = trace.node(step.source)
        local = locals_by_gate[step.source][step.slot]
        formula = local.formula if local.formula != local.value else None
        chain = [_partial(out, step.source) + r" \cdot " + local.symbol]
        if formula is not None:
            chain.append(lead(step.upstream) + r" \cdot " + _factor_tex(formula))
        chain.append(lead(step.upstream) + r" \cdot " + factor(step.local))
        chain.append(num(step.contribution))
        uses = source.operands.count(step.node)
        item = dict(
            index=index, node=step.node, source=step.source, symbol=tex_symbol(step.node),
            source_symbol=tex_symbol(step.source), path=step.path,
            grad=_partial(out, step.node, step.path), chain=chain,
            wide=_visible_width(" = ".join(chain)) > 70,
            upstream=num(step.upstream), local=num(step.local),
            contribution=num(step.contribution), contribution_text=fmt(step.contribution, d),
            kink=step.kink, kink_op=source.op,
            use=(source.operands[:step.slot + 1].count(step.node) if uses > 1 else None),
            uses=uses, frame=frames[index - 1] if frames else None)
        steps.append(item)
        if not groups or groups[-1]["source"] != step.source:
            groups.append(dict(source=step.source, symbol=tex_symbol(step.source),
                               definition=to_tex(source.expr), upstream=num(source.grad),
                               is_output=step.source == out, blocks=[dict(steps=[], sum=None)]))
        group = groups[-1]
        block = group["blocks"][-1]
        if block["sum"] is not None:
            block = dict(steps=[], sum=None)
            group["blocks"].append(block)
        block["steps"].append(item)
        total = sums.get(step.node)
        item["sum"] = None
        if total is not None and step.path == len(total.contributions):
            block["sum"] = item["sum"] = _sum_model(trace, total, d)
    for group in groups:
        group["blocks"] = [b for b in group["blocks"] if b["steps"] or b["sum"]]
        for block in group["blocks"]:
            ops = []
            for s in block["steps"]:
                if s["kink"] and s["kink_op"] not in ops:
                    ops.append(s["kink_op"])
            block["kinks"] = ops

    final = []
    numeric = dict(trace.numeric)
    for name in trace.wrt:
        grad = trace.gradients[name]
        estimate = numeric.get(name)
        known = estimate is not None and math.isfinite(estimate)
        final.append(dict(
            name=name, symbol=tex_symbol(name), grad_symbol=_partial(out, name),
            value=num(grad), numeric=num(estimate) if known else None,
            difference=fmt_tex(abs(grad - estimate), 2) if known else None))

    single = len(trace.inputs) == 1
    closed = []
    for name, tex in trace.gradient_tex:
        if single:
            symbol = rf"\frac{{d {tex_symbol(out)}}}{{d {tex_symbol(name)}}}"
        else:
            symbol = _partial(out, name)
        value = trace.gradients[name] if trace.rounding is None else numeric.get(name)
        closed.append(dict(name=name, symbol=symbol, formula=tex,
                           value=num(value) if value is not None and math.isfinite(value)
                           else None))

    update = None
    if trace.update is not None:
        u = trace.update
        after = dict(u.values)
        params = [dict(name=p.name, symbol=tex_symbol(p.name), old=num(p.old),
                       grad=num(p.grad), grad_factor=factor(p.grad),
                       new=num(p.new), grad_symbol=_partial(out, p.name)) for p in u.params]
        forward_after = []
        for node in gates:
            substituted = expr_values_tex(node.expr, after, d)
            exact = evaluate(node.expr, after)
            forward_after.append(dict(
                symbol=tex_symbol(node.name), definition=to_tex(node.expr),
                substituted=None if substituted == num(after[node.name]) else substituted,
                value=num(after[node.name]),
                rounded=trace.rounding is not None and exact != after[node.name]))
        change = u.output_after - u.output_before
        update = dict(rate=num(u.learning_rate), rate_factor=factor(u.learning_rate),
                      params=params, forward=forward_after, before=num(u.output_before),
                      after=num(u.output_after), change=num(abs(change)),
                      decreased=change < 0, increased=change > 0)

    kink_ops = sorted({op for n in gates for op in _ops_of(n.expr) if op in _KINKED_OPS})
    return dict(
        id=trace.id, output=out, output_symbol=tex_symbol(out),
        seed=_partial(out, out), single=single,
        inputs=[dict(name=n.name, symbol=tex_symbol(n.name), value=num(n.value))
                for n in inputs],
        gates=forward, locals=[l for n in gates for l in locals_by_gate[n.name]],
        steps=steps, groups=groups, final=final, closed=closed, update=update,
        function=trace.function_tex, rounding=trace.rounding, frames=frames,
        kink_ops=kink_ops, wrt_symbols=[_partial(out, n) for n in trace.wrt],
        sums=[_sum_model(trace, a, d) for a in trace.sums],
        code=dict(staged=staged_code(trace), torch=torch_code(trace)),
        tags=list(trace.tags), title=trace.title)


_KINKED_OPS = ("relu", "abs", "max", "min", "step", "sign", "heaviside")


def _ops_of(expr: Optional[Expr]) -> list[str]:
    if expr is None:
        return []
    return [n.op for n in walk(expr) if isinstance(n, Call)]


def _sum_model(trace: Trace, total, d: int) -> dict[str, Any]:
    out = trace.output
    terms = [_partial(out, total.node, k) for k in range(1, len(total.contributions) + 1)]
    numbers = [_factor_tex(fmt_tex(c, d)) for c in total.contributions]
    return dict(node=total.node, symbol=tex_symbol(total.node), grad=_partial(out, total.node),
                terms=terms, numbers=numbers, value=fmt_tex(total.grad, d),
                count=len(terms))


# ============================================================================= generated code

#: Names the generated code itself uses; a problem's names that clash get a trailing "_".
_CODE_RESERVED = frozenset({
    "json", "print", "round", "float", "dict", "math", "torch", "grad", "exp", "log", "sin",
    "cos", "tan", "tanh", "sqrt", "abs", "max", "min", "sigmoid", "relu", "step", "sign",
    "heaviside", "None", "True", "False", "tensor"})
_MATH_FUNCTIONS = ("exp", "log", "sin", "cos", "tan", "tanh", "sqrt")
_HELPERS = ("sigmoid", "relu", "step", "sign", "heaviside")


def _code_names(trace: Trace) -> tuple[dict[str, str], dict[str, str]]:
    """Python variable names for each value and each gradient (``x`` -> ``x``, ``dx``)."""
    taken = set(_CODE_RESERVED) | {n.name for n in trace.nodes}
    names: dict[str, str] = {}
    for n in trace.nodes:
        name = n.name
        if name in _CODE_RESERVED:
            while name in taken:
                name += "_"
            taken.add(name)
        names[n.name] = name
    for prefix in ("d", "grad_", "grad__", "grad___"):
        grads = {n: prefix + v for n, v in names.items()}
        if not (set(grads.values()) & (set(names.values()) | _CODE_RESERVED)):
            return names, grads
    grads = {n: f"grad{i}_{v}" for i, (n, v) in enumerate(names.items())}  # pragma: no cover
    return names, grads


def _py_leaf(names: dict[str, str]):
    def leaf(node):
        if isinstance(node, Var):
            return names.get(node.name, node.name), 100
        text = format_const(node.value) if node.value == int(node.value) else repr(node.value)
        return text, (30 if node.value < 0 else 100)
    return leaf


def _functions(exprs: list[Optional[Expr]]) -> set[str]:
    used: set[str] = set()
    for expr in exprs:
        if expr is None:
            used.update(_MATH_FUNCTIONS + _HELPERS)
            continue
        used.update(n.op for n in walk(expr) if isinstance(n, Call))
    return used


def _python_factor(expr: Optional[Expr], text: str) -> str:
    """``text`` (a local derivative in Python) ready to multiply: parenthesised unless it
    binds at least as tightly as ``*``'s right operand."""
    if expr is None:
        return f"({text})"
    if isinstance(expr, Var):
        return text
    if isinstance(expr, Const):
        return text if expr.value >= 0 else f"({text})"
    prim = PRIMITIVES[expr.op]
    return text if prim.py_prec > 20 else f"({text})"


def _code_model(trace: Trace) -> dict[str, Any]:
    names, grads = _code_names(trace)
    leaf = _py_leaf(names)
    gates = [n for n in trace.nodes if n.kind == "gate"]
    forward = [dict(name=names[n.name], expr=to_python(n.expr, leaf), source=n.name,
                    text=to_python(n.expr)) for n in gates]
    used = _functions([n.expr for n in gates])

    locals_py: dict[str, list[tuple[Optional[Expr], str]]] = {}
    for node in gates:
        exprs = _local_exprs(node)
        raw = (_multi_local_python(node.expr, node.operands) if node.op is None
               else [None] * len(exprs))
        row = []
        for expr, text in zip(exprs, raw):
            if expr is not None:
                row.append((expr, to_python(expr, leaf)))
                used |= _functions([expr])
            else:
                # SymPy's text that tracer's parser does not read: used as written, with
                # clashing names renamed.
                fallback = text or "0.0"
                for old, new in names.items():
                    if old != new:
                        fallback = re.sub(rf"\b{re.escape(old)}\b", new, fallback)
                row.append((None, fallback))
                used |= set(_MATH_FUNCTIONS + _HELPERS)
        locals_py[node.name] = row

    groups: list[dict[str, Any]] = []
    for step in trace.backward:
        expr, text = locals_py[step.source][step.slot]
        line = dict(grad=grads[step.node], op="+=" if (step.path or 1) > 1 else "=",
                    upstream=grads[step.source], local=_python_factor(expr, text),
                    node=step.node, path=step.path)
        if not groups or groups[-1]["source"] != step.source:
            groups.append(dict(source=step.source,
                               text=f"{step.source} = {to_python(trace.node(step.source).expr)}",
                               lines=[]))
        groups[-1]["lines"].append(line)
    report = list(trace.inputs) + [n for n in trace.wrt if n not in trace.inputs]
    return dict(
        id=trace.id, rounding=trace.rounding,
        inputs=[dict(name=names[n.name], value=fmt_full(n.value), source=n.name)
                for n in trace.nodes if n.kind == "input"],
        forward=forward, groups=groups,
        seed=grads[trace.output], output=names[trace.output],
        report=[dict(key=json.dumps(n), grad=grads[n], name=names[n]) for n in report],
        retain=[names[n] for n in trace.wrt if n not in trace.inputs],
        math=[f for f in _MATH_FUNCTIONS if f in used or (f == "exp" and "sigmoid" in used)],
        helpers=[h for h in _HELPERS if h in used],
        torch_forward=[dict(name=names[n.name], expr=_torch_expr(n.expr, leaf)) for n in gates],
        torch_helpers=[h for h in ("step", "sign", "heaviside") if h in _functions(
            [n.expr for n in gates])])


def _torch_expr(expr: Expr, leaf) -> str:
    """PyTorch for ``expr``: functions from the table's torch notation, numbers given to a
    torch function as tensors, and the helpers step/sign/heaviside as the generated file
    defines them (constant pieces: their derivative is 0, as in the table)."""
    def tleaf(node):
        text, prec = leaf(node)
        return text, prec, isinstance(node, Const)

    def call(node: Call, args):
        prim = PRIMITIVES[node.op]
        form = prim.python if prim.helper else prim.torch
        parts = []
        for (text, prec, const), need in zip(args, prim.py_parens):
            if const and prim.operator is None:
                text, prec = f"torch.tensor({fmt_full(float(text))})", 100
            parts.append(text if prec >= need else f"({text})")
        return form.format(*parts), prim.py_prec, False

    return fold(expr, tleaf, call)[0]  # type: ignore[index]


def staged_code(trace: Trace) -> str:
    """``staged.py``: the forward and backward pass as plain Python, one line per gate and
    one per chain-rule step (``dx = ...`` then ``dx += ...`` where contributions add up),
    printing the gradients as JSON."""
    return document_environment().get_template("code/staged.py.j2").render(
        code=_code_model(trace))


def torch_code(trace: Trace) -> str:
    """``check_torch.py``: the same function in PyTorch (float64 scalars with
    ``requires_grad``), ``backward()``, and the gradients printed as JSON."""
    return document_environment().get_template("code/check_torch.py.j2").render(
        code=_code_model(trace))


# ============================================================================= documents

def documents(trace: Trace, *, allow_html: bool = False) -> dict[str, str]:
    """File name (relative to the problem's own folder) -> content: ``worksheet.md``,
    ``answers.md``, ``worksheet.tex``, ``answers.tex``, ``staged.py``, ``check_torch.py``.

    The pages refer to the figures of :mod:`tracer.figures` by their file names
    (``graph.svg``, ``values.svg``, ``gradients.svg``, ``step-NN.svg``, ``*.tikz.tex``).
    ``allow_html`` lets raw HTML in the statement through to the Markdown pages.
    """
    model = _model(trace)
    env = document_environment()
    md = dict(model, statement_md=md_statement(trace.statement, allow_html=allow_html))
    tex = dict(model, statement_tex=tex_statement(trace.statement))
    return {
        "worksheet.md": env.get_template("markdown/worksheet.md.j2").render(md),
        "answers.md": env.get_template("markdown/answers.md.j2").render(md),
        "worksheet.tex": env.get_template("latex/worksheet.tex.j2").render(tex),
        "answers.tex": env.get_template("latex/answers.tex.j2").render(tex),
        "staged.py": model["code"]["staged"],
        "check_torch.py": model["code"]["torch"],
    }
