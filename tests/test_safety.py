"""Untrusted author text: titles, tags and statements escaped for Markdown and LaTeX.

Markup in both formats is attacked: nothing an author writes may run script, load a page
or a file, or run a command when pdflatex compiles the documents.
"""
from __future__ import annotations

import html
import re

import pytest

from conftest import to_html, unsafe
from tracer.safety.latex import tex_math_allowed, tex_statement, tex_text
from tracer.safety.markdown import md_statement, md_text

HOSTILE_TITLE = r"A & B 100% _x_ #1 <script>alert(1)</script> \input{/etc/passwd} {: onclick=x} $y$"


@pytest.mark.parametrize("statement", [
    "Hi <script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "*a*{onclick=alert(1)} and *b*{: onclick='alert(1)' } and **c**{style=x}",
    "[link](javascript:alert(1)) [ref][r] <javascript:alert(3)>\n\n[r]: javascript:alert(2)",
    "![pic](data:text/html,hi) [x](JaVaScRiPt:alert(1)) [y]( vbscript:x)",
    "<div markdown>**x**</div>",
    "`code` then <iframe src=x>",
    "$x$ <style>body{}</style> $y <script>z$",
    "# Heading {#id onclick=x}\n\ntext {: .cls onmouseover=alert(1) }",
    "<!-- comment --> &lt;b&gt; <b onclick=1>x</b>",
    "```\n<script>alert(1)</script>\n```",
])
def test_statement_html_is_escaped(statement):
    page = to_html(md_statement(statement))
    assert not unsafe(page), page
    # The attack is real: passed through as written (allow_html), it gets in.
    if "markdown" not in statement and not statement.startswith("```"):
        assert unsafe(to_html(md_statement(statement, allow_html=True)))


def test_statement_keeps_markdown_math_and_code():
    statement = ("The node $u_2 = x_3 x_4$ and $$\\frac{\\partial y}{\\partial u} < 1$$ with "
                 "`a < b` and **bold** *em* [a link](https://example.org/x).")
    page = to_html(md_statement(statement))
    text = html.unescape(page)
    assert "\\(u_2 = x_3 x_4\\)" in text
    assert "\\[\\frac{\\partial y}{\\partial u} < 1\\]" in text
    assert "<code>a < b</code>" in html.unescape(page)
    assert "<strong>bold</strong>" in page and "<em>em</em>" in page
    assert '<a href="https://example.org/x">a link</a>' in page


def test_statement_raw_html_only_when_allowed():
    assert "<b>x</b>" in to_html(md_statement("<b>x</b>", allow_html=True))
    assert "<b>x</b>" not in to_html(md_statement("<b>x</b>"))


def test_md_text_shows_exactly_the_text():
    for text in [HOSTILE_TITLE, "a*b*c", "[x](y)", "`x`", "# h", "| a | b |", "&amp;"]:
        page = to_html("# " + md_text(text))
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page).group(1)
        assert html.unescape(h1) == text


def test_tex_text_escapes_every_special_character():
    assert tex_text(r"\ { } $ & # ^ _ % ~") == (
        r"\textbackslash{} \{ \} \$ \& \# \textasciicircum{} \_ \% \textasciitilde{}")
    assert tex_text("x₁ + σ = ✓") == (r"x\textsubscript{1} + \ensuremath{\sigma} = "
                                      r"\texttt{[U+2713]}")


DANGEROUS = ("input", "include", "write", "openin", "read", "catcode", "def", "csname",
             "immediate", "openout", "newcommand", "special", "usepackage", "endinput")


def _commands(tex: str) -> set[str]:
    """Control words in ``tex`` that TeX would execute (not escaped backslashes)."""
    return set(re.findall(r"(?<!\\)(?:\\\\)*\\([A-Za-z]+)", tex))


@pytest.mark.parametrize("statement", [
    r"$\input{/etc/passwd}$",
    r"$x^^5cinput{/etc/passwd}$",
    r"\input{/etc/passwd} \write18{rm -rf /}",
    r"$\def\x{1}\x$ and $\csname input\endcsname{a}$",
    r"$\immediate\write18{ls}$ $$\openin1=/etc/passwd \read1 to \x$$",
    r"$\text{\catcode`\@=11}$",
    r"$\unknowncommand$",
    r"`\input{x}` **\include{y}** *\usepackage{z}*",
    "$a % comment$ and $a & b$ and $a # b$",
])
def test_tex_statement_never_executes_author_commands(statement):
    latex = tex_statement(statement)
    assert not _commands(latex) & set(DANGEROUS), latex
    assert _commands(latex) <= {"textbackslash", "texttt", "textbf", "emph", "frac", "sqrt",
                                "textasciicircum", "textasciitilde", "textbar", "textless",
                                "textgreater", "ensuremath", "paragraph", "item", "begin",
                                "end"}, latex


def test_tex_statement_minimal_markdown():
    latex = tex_statement("First `code_x` and **bold** and *emph* with "
                          "$\\frac{1}{2}\\sigma(z)$.\n\nSecond paragraph, 100%.")
    assert latex == (r"First \texttt{code\_x} and \textbf{bold} and \emph{emph} with "
                     r"$\frac{1}{2}\sigma(z)$." "\n\n" r"Second paragraph, 100\%.")


@pytest.mark.parametrize("tex", [
    r"\frac{1}{2}", r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"x_1^2", r"\left( x \right)",
    r"\sqrt[3]{x}", r"\mathrm{d}x", r"W = [2\ \ {-3}]", r"\tfrac12 (y - a)^2", r"x'^2",
    r"\partial y/\partial u", r"\sum_{i=1}^{N} x_i", r"\left\lvert x \right\rvert",
    r"\text{loss} = \tfrac{1}{2}(y - a)^2",
])
def test_math_allowlist_accepts_ordinary_math(tex):
    assert tex_math_allowed(tex)


@pytest.mark.parametrize("tex", [
    r"\input{x}", r"\def\a{b}", "x^^5c", r"x^2^3", r"x_1_2", r"x^2'", r"\frac{1}", "{",
    "}{", r"\left( x", r"a % b", r"a & b", r"\\", r"\text{\input{x}}", r"x^{\write18}",
    r"\csname x\endcsname", r"\catcode", r"x^", r"\sqrt[3", r"\right)", "",
    r"\text{a_b}", r"\text{\sigma}", r"\text{x^2}",
])
def test_math_allowlist_refuses_the_rest(tex):
    assert not tex_math_allowed(tex)
