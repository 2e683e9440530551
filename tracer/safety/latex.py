"""Author text as LaTeX for the printed documents: one escaping function per kind of text.

Titles and tags become escaped text (:func:`tex_text`); the statement becomes paragraphs
(:func:`tex_statement`) in which math passes only if it uses an allowlist of harmless
commands and is well formed (:func:`tex_math_allowed`), so pdflatex neither reads nor
writes files nor loops.  Imports only :mod:`tracer.safety.text` and the standard library.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Optional

from .text import PLACEHOLDER, PLACEHOLDER_END, one_line, segments

__all__ = ["tex_text", "tex_statement", "tex_math_allowed", "TEX_MATH_ALLOWED"]

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
    if PLACEHOLDER <= ord(ch) < PLACEHOLDER_END:
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
    return "".join(_tex_char(ch) for ch in one_line(text))


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
#: Braces nested deeper than this are refused (TeX's limit is 255 groups, and each level
#: costs the checker and KaTeX a level of recursion).
MAX_TEX_DEPTH = 32
#: Sizes that need a delimiter after them.
_TEX_SIZES = {"big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr"}
#: Operators a limit control (\limits, \nolimits) may follow.
_TEX_OPERATORS = {"sum", "prod", "int", "oint", "lim", "limsup", "liminf", "max", "min",
                  "sup", "inf", "det", "arg", "exp", "log", "ln", "sin", "cos", "tan", "cot",
                  "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh"}


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
    of ``%``, ``#``, ``&``, ``^^`` or a line break (``\\\\``); also what pdflatex would
    stop at: ``\\middle`` outside ``\\left``...``\\right``, a size (``\\big``) without a
    delimiter, a limit control (``\\limits``) that does not follow an operator, and
    braces nested more than :data:`MAX_TEX_DEPTH` deep."""
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
            if name in ("left", "right", "middle") or name in _TEX_SIZES:
                if i + 1 >= len(tokens) or tokens[i + 1] not in _TEX_DELIMITERS:
                    return False
                if name == "left":
                    lefts.append(depth)
                elif name == "right" and (not lefts or lefts.pop() != depth):
                    return False
                elif name == "middle" and (not lefts or lefts[-1] != depth):
                    return False
        elif tok == "{":
            depth += 1
            if depth > MAX_TEX_DEPTH:
                return False
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
    operator = False              # the current atom is an operator (\\sum, \\lim, ...)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("\\limits", "\\nolimits"):
            if not operator:
                return False      # pdflatex: "Limit controls must follow a math operator"
            i += 1
            continue
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
        operator = tok.startswith("\\") and tok[1:] in _TEX_OPERATORS
        if tok.startswith("\\"):
            name = tok[1:]
            if name in ("left", "right", "middle") or name in _TEX_SIZES:
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
        key = chr(PLACEHOLDER + 0x800 + len(pieces))
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
        key = chr(PLACEHOLDER + len(pieces))
        pieces[key] = latex
        return key

    flat = []
    for seg in segments(statement):
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


