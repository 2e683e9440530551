"""Hostile inputs that are not single broken files (those are the corpus in tests/broken/):
folders the build and `tracer check` must read alike, output that must not drive a
terminal, HTML that must not run a script, text that must stay one line, small files that
must not grow into huge work, and lines TeX must be able to read."""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest

import tracer.core.source
from tracer.cli import main
from tracer.core.discover import find_problem_files
from tracer.core.engine import MAX_CHECK_WORK, operations, trace
from tracer.core.errors import TracerError
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.core.text import MAX_QUOTE, MAX_STATEMENT_MARKS, quote
from tracer.exporters.base import Options, get
from tracer.exporters.lines import MAX_LINE, wrap_python, wrap_tex
from tracer.safety.html import ALLOWED_SCHEMES, clean_html
from tracer.safety.latex import tex_math_allowed
from tracer.safety.markdown import md_statement
from tracer.safety.terminal import for_terminal, json_for_terminal
from tracer.site.build import find_problems
from tracer.view.solution import solve

from hostile import chain, fan_in, fan_out, long_expression, sine_chain

BROKEN = Path(__file__).parent / "broken"
GOOD = "title: t\ninputs: {x: 2}\nnodes: {y: x * 3}\n"
# The Markdown extensions of the project's mkdocs.yml.
EXTENSIONS = ["toc", "tables", "attr_list", "md_in_html", "admonition", "def_list",
              "pymdownx.details", "pymdownx.superfences", "pymdownx.highlight",
              "pymdownx.arithmatex"]


def site_html(statement: str, allow_html: bool = False) -> str:
    """A statement as the site shows it: tracer's Markdown, MkDocs' Markdown, the cleaning."""
    text = md_statement(statement, allow_html=allow_html)
    return clean_html(markdown.markdown(text, extensions=EXTENSIONS, extension_configs={
        "pymdownx.arithmatex": {"generic": True}}))


# ----------------------------------------------------------------------------- folders

def hostile_folder(folder: Path) -> None:
    folder.mkdir()
    (folder / "a.yaml").write_text(GOOD)
    (folder / "B.YAML").write_text(GOOD.replace("3", "4"))
    (folder / "c d.yml").write_text(GOOD)
    (folder / "c-d.yaml").write_text(GOOD)                  # the same address as "c d.yml"
    (folder / "dangling.yaml").symlink_to(folder / "nowhere.yaml")
    (folder / "loop1.yaml").symlink_to(folder / "loop2.yaml")
    (folder / "loop2.yaml").symlink_to(folder / "loop1.yaml")
    (folder / "dir.yaml").mkdir()
    os.mkfifo(folder / "fifo.yaml")
    (folder / ".#a.yaml").symlink_to("someone@host.1234")   # an editor's lock: left out
    (folder / "notes.txt").write_text("not a problem")
    os.close(os.open(os.fsencode(folder) + b"/bad\xff.yaml", os.O_CREAT | os.O_WRONLY))


EXPECTED_FAULTS = {
    "c-d.yaml": "would go to problems/c-d/",
    "dangling.yaml": "points to nothing",
    "loop1.yaml": "loop of symbolic links",
    "loop2.yaml": "loop of symbolic links",
    "dir.yaml": "this is a folder",
    "fifo.yaml": "not a regular file",
    "bad\udcff.yaml": "not valid UTF-8",
}


def test_one_discovery_for_check_and_build(tmp_path, capsys):
    folder = tmp_path / "problems"
    hostile_folder(folder)
    files, errors = find_problem_files([folder])
    assert [p.name for p in files] == ["B.YAML", "a.yaml", "c d.yml"]
    assert {Path(d.path).name: d.message for d in errors}.keys() == EXPECTED_FAULTS.keys()
    for d in errors:
        assert EXPECTED_FAULTS[Path(d.path).name] in d.message

    # The build finds the same files and the same faults.
    found: list = []
    assert [p.name for p in find_problems(folder, found)] == [p.name for p in files]
    assert sorted(Path(d.path).name for d in found) == sorted(EXPECTED_FAULTS)
    with pytest.raises(TracerError):
        find_problems(folder)

    # `tracer check` reports each fault (with the name escaped), checks the good files,
    # and never waits on the FIFO.
    result = subprocess.run([sys.executable, "-m", "tracer", "check", str(folder)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    for name, fragment in EXPECTED_FAULTS.items():
        shown = name.replace("\udcff", "\\udcff")
        assert any(shown in line and fragment in line for line in result.stderr.splitlines()), \
            (name, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_a_fifo_named_on_the_command_line_is_refused_at_once(tmp_path):
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    for command in (["check"], ["trace"], ["trace", "--json"]):
        result = subprocess.run([sys.executable, "-m", "tracer", *command, str(fifo)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert "not a regular file" in result.stderr


def test_every_loader_follows_the_same_rules(monkeypatch):
    """The corpus gives the same verdict and line with libyaml's loader and PyYAML's own."""
    def verdicts():
        out = {}
        for path in sorted(BROKEN.glob("*.yaml")):
            try:
                load(path)
                out[path.name] = None
            except TracerError as exc:
                out[path.name] = exc.diagnostics[0].line
        return out

    fast = verdicts()
    monkeypatch.setattr(tracer.core.source, "LOADER", __import__("yaml").SafeLoader)
    monkeypatch.setattr(tracer.core.load, "LOADER", __import__("yaml").SafeLoader)
    slow = verdicts()
    assert fast == slow
    refused = {name for name, line in fast.items() if line is not None}
    assert {"lone-surrogate.yaml", "surrogate-after-brackets.yaml", "deep-yaml.yaml"} <= refused


# ----------------------------------------------------------------------------- text

@pytest.mark.parametrize("escape", ["\\e", "\\a", "\\x9b", "\\x7f", "\\N", "\\L", "\\0"])
def test_control_characters_are_refused_in_every_kind_of_text(escape):
    for text in (f'title: "a{escape}b"\n' + GOOD.split("\n", 1)[1],
                 f'title: t\ntags: ["a{escape}"]\n' + GOOD.split("\n", 1)[1],
                 f'title: t\nstatement: "a{escape}b"\n' + GOOD.split("\n", 1)[1]):
        with pytest.raises(TracerError) as info:
            load_text(text)
        assert "control character" in str(info.value) or "line break" in str(info.value)


def test_titles_and_tags_are_one_line_and_emoji_are_text():
    p = load_text('title: "First\\n# Not a heading\\t\\n\\nlast \U0001F600"\n'
                  'tags: ["a\\nb", "c"]\n' + GOOD.split("\n", 1)[1])
    assert p.title == "First # Not a heading last \U0001F600"
    assert p.tags == ("a b", "c")
    solution = solve(*(lambda g: (g, trace(g)))(build_graph(p)))
    home = get("markdown").files(solution, __import__("tracer.exporters.base",
                                                      fromlist=["Options"]).Options())
    for page in home.values():
        assert not re.search(r"^#+ Not a heading", page, re.M)
    assert "\U0001F600" in get("terminal").files(solution, None)["trace.txt"]


def test_numbers_as_a_person_reads_them():
    p = load_text("title: yes\ninputs: {x: 010, y: -007, z: 0x10, w: 1_000}\nprecision: 010\n"
                  "nodes: {s: x + y + z + w}\n")
    assert dict(p.inputs) == {"x": 10.0, "y": -7.0, "z": 16.0, "w": 1000.0}
    assert p.precision == 10 and p.title == "yes"


def test_an_error_quotes_a_huge_input_briefly(tmp_path, capsys):
    path = tmp_path / "huge.yaml"
    path.write_text("title: t\ninputs:\n  x: " + "v" * 500_000 + "\nnodes:\n  y: x * 2\n"
                    "? " + "k" * 500_000 + "\n: 1\n")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 2 and all(len(line) < 400 for line in err.splitlines())
    assert len(quote("q" * 10_000)) < MAX_QUOTE + 30


def test_nothing_printed_drives_a_terminal(tmp_path, capsys):
    name = tmp_path / "\x1b[2J\x07.yaml"
    name.write_text(GOOD)
    assert main(["trace", str(name), str(tmp_path / "gone\x1b]0;x\x07.yaml")]) == 1
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "\\x1b]0;x\\x07" in err
    assert for_terminal("a\x9b31mb\u202ec\td\n") == "a\\x9b31mb\\u202ec\td\n"
    document = json.dumps({"t": "a\x9b\x7f\u2028"}, ensure_ascii=False)
    assert json.loads(json_for_terminal(document)) == {"t": "a\x9b\x7f\u2028"}
    assert "\x9b" not in json_for_terminal(document)


# ----------------------------------------------------------------------------- HTML

STORED_XSS = [
    "[a][r]\n\n[r]:\n  javascript:alert(1)",                    # address on the next line
    "> [a][r]\n>\n> [r]: javascript:alert(1)",                  # inside a quote
    "- item [a][r]\n\n    [r]: javascript:alert(1)",            # indented in a list item
    "- [r]: javascript:alert(1)\n\n[a][r]",                     # after a list marker
    "![i][r]\n\n[r]: javascript:alert(1)",                      # an image reference
    "> ![i][r]\n>\n> [r]:\n>   javascript:alert(1)",
    "[a][r]\n\n[r]: JaVaScRiPt:alert(1)",
    "[a][r]\n\n[r]: <javascript:alert(1)>",
    "[a](javascript:alert(1))",
    "[a](jav&#x61;script:alert(1))",
    "[a][]\n\n[a]: data:text/html,<script>alert(1)</script>",
    "[a](vbscript:msgbox(1))",
    "<a href='javascript:alert(1)'>raw</a>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src='javascript:alert(1)'></iframe>",
]


class _Attributes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.found.extend((tag, k, v or "") for k, v in attrs)
        self.found.append((tag, "", ""))


def assert_harmless(html: str) -> None:
    parser = _Attributes()
    parser.feed(html)
    for tag, name, value in parser.found:
        assert tag not in ("script", "iframe", "object", "embed", "svg", "style", "form"), html
        assert not name.startswith("on"), html
        if name in ("href", "src"):
            scheme = re.match(r"\s*([A-Za-z][A-Za-z0-9+.-]*):", value)
            assert scheme is None or scheme.group(1).lower() in ALLOWED_SCHEMES, html


@pytest.mark.parametrize("statement", STORED_XSS)
@pytest.mark.parametrize("allow_html", [False, True])
def test_no_statement_makes_a_link_or_image_that_runs_a_script(statement, allow_html):
    assert_harmless(site_html(statement, allow_html))


def test_the_cleaning_keeps_what_pages_are_made_of():
    html = ('<h2 id="x">T<a class="headerlink" href="#x" title="Permanent link">&para;</a></h2>'
            '<div class="tracer-steps" data-count="2"><figure class="tracer-step" data-step="1" '
            'data-box="1 2 3 4" data-size="5 6"><img alt="a" loading="lazy" src="step-01.svg"><figcaption>c</figcaption></figure>'
            '<button class="tracer-next" type="button">Next</button></div>'
            '<table><thead><tr><th style="text-align: left;">h</th></tr></thead></table>'
            '<p><a href="https://example.org/x?a=1">e</a> <a href="answers.html">r</a> '
            '<a href="mailto:a@b.c">m</a> <span class="arithmatex">\\(x\\)</span></p>'
            '<p><span class="tracer-blank" data-blank="b1"></span></p>'
            '<div class="tracer-check" hidden data-check="{&quot;v&quot;: 1}" data-right="r" '
            'data-wrong="w" data-unread="u" data-tally="t" data-label="l"></div>')
    cleaned = clean_html(html)
    for kept in ('data-blank="b1"', "hidden", 'data-check="{&quot;v&quot;: 1}"',
                 'data-right="r"', 'data-wrong="w"', 'data-unread="u"', 'data-tally="t"',
                 'data-label="l"',
                 'id="x"', 'data-count="2"', 'data-step="1"', 'data-box="1 2 3 4"',
                 'data-size="5 6"', 'src="step-01.svg"',
                 'type="button"', 'href="https://example.org/x?a=1"', 'href="answers.html"',
                 'href="mailto:a@b.c"', 'class="arithmatex"', "text-align:left"):
        assert kept in cleaned.replace("text-align: left", "text-align:left"), kept
    assert clean_html(cleaned) == cleaned


# ----------------------------------------------------------------------------- statements

def test_a_statement_at_every_bound_is_rendered_without_recursion():
    n = MAX_STATEMENT_MARKS
    statements = ["*a " * n + "b", "_a " * n + "b", "[a " * n, "`a " * n,
                  "*" * 5000 + "a" + "*" * 5000, "_" * 5000 + "a" + "_" * 5000,
                  "".join("    " * i + "- a\n" for i in range(8))]
    for statement in statements:
        load_text(GOOD + "statement: |\n" + "".join(f"  {line}\n"
                                                    for line in statement.split("\n")))
        site_html(statement)      # no RecursionError


@pytest.mark.parametrize("tex, allowed", [
    (r"\middle| x", False), (r"\left( a \middle| b \right)", True),
    (r"\big x", False), (r"\big( x \big)", True), (r"\Bigl", False),
    (r"x\limits_0", False), (r"\sum\limits_{i=1}^{n} x_i", True), (r"\sum_i\limits", True),
    (r"{\sum}\limits", False), ("{" * 300 + "x" + "}" * 300, False),
    ("{" * 2000 + "x" + "}" * 2000, False), ("{" * 32 + "x" + "}" * 32, True),
])
def test_statement_math_that_pdflatex_would_refuse_is_not_given_to_it(tex, allowed):
    assert tex_math_allowed(tex) is allowed


# ----------------------------------------------------------------------------- work

def test_the_central_difference_budget_counts_operations():
    graph = build_graph(load_text(fan_in(1000)))
    assert len(graph.gates) == 1 and operations(graph) == 999
    assert len(graph.wrt) * operations(graph) > MAX_CHECK_WORK
    assert trace(graph).numeric == ()             # 1000 x 999 steps: skipped
    small = build_graph(load_text(fan_in(50)))
    assert len(trace(small).numeric) == 50


def test_a_fan_in_is_explained_step_by_step(tmp_path):
    # (whole: as `tracer trace` explains it; the site's pages give an overview at this size)
    graph = build_graph(load_text(fan_in(3000)))
    solution = solve(graph, trace(graph), whole=True)
    assert len(solution.steps) == 3000 and all(s.uses == 1 for s in solution.steps)
    # The generated file, run, on a gate SymPy still derives (up to 200 operations) whose
    # line is longer than the limit.
    graph = build_graph(load_text(fan_in(150, "weight_of_input_")))
    solution = solve(graph, trace(graph))
    code = get("code").files(solution, None)["staged.py"]
    assert max(map(len, code.splitlines())) <= MAX_LINE
    (tmp_path / "staged.py").write_text(code)     # the generated file, run
    out = subprocess.run([sys.executable, str(tmp_path / "staged.py")], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert all(g == 1 for g in json.loads(out).values()) and len(json.loads(out)) == 150


def test_closed_forms_that_would_be_huge_are_left_out_with_a_sentence():
    graph = build_graph(load_text(chain(14)))
    solution = solve(graph, trace(graph))
    assert solution.closed_too_large and solution.closed == () and solution.function is None
    answers = get("markdown").files(solution, Options())["answers.md"]
    assert "The closed form is left out" in answers
    assert "The closed form is left out" in get("latex").files(solution, Options())["answers.tex"]
    small = solve(*(lambda g: (g, trace(g)))(build_graph(load_text(chain(3)))))
    assert not small.closed_too_large and small.closed and small.function is not None


# ----------------------------------------------------------------------------- lines

def test_long_latex_lines_are_broken_where_tex_reads_no_difference():
    line = r"\[ s = " + " + ".join(f"x_{{{i}}}" for i in range(20_000)) + r" \] % a comment"
    text = "\\begin{lstlisting}\n" + "q" * 3000 + "\n\\end{lstlisting}\n" + line + "\n"
    wrapped = wrap_tex(text)
    lines = wrapped.split("\n")
    assert max(len(l) for l in lines if not l.startswith("q")) <= MAX_LINE + 1
    assert "q" * 3000 in lines                        # verbatim left alone
    assert wrapped.replace("%\n", "") == text          # TeX skips a % and the line end


def test_long_python_lines_stay_the_same_python():
    expr = " + ".join(f"weight_{i} * input_{i}" for i in range(300))
    text = f"# backprop s = {expr}\ns = {expr}\n    ds += 1.0 * ({expr})\n"
    wrapped = wrap_python(text)
    assert max(map(len, wrapped.splitlines())) <= MAX_LINE
    original = ast.dump(ast.parse(text.replace("    ds", "ds")))
    assert ast.dump(ast.parse(wrapped.replace("\n    ds", "\nds").replace("\n    )", "\n)")
                              .replace("\n        ", "\n    "))) == original


# ----------------------------------------------------------------------------- the time bound

#: No command may run longer than this on a problem file of up to 1 MiB.
COMMAND_SECONDS = 30
ONE_MIB = 1024 * 1024


def _fit(text: str) -> str:
    return text if len(text.encode("utf-8")) <= ONE_MIB else text[:ONE_MIB // 4]


def _families():
    from hypothesis import strategies as st

    def statement(body: str) -> str:
        return "title: s\nstatement: |\n" + "".join(f"  {line}\n" for line in
                                                   body.split("\n")) + GOOD.split("\n", 1)[1]

    marks = st.sampled_from(["[", "[a](", "`", "*a ", "_a ", "\\(", "![", "> ", "- ", "$$",
                             "<", "&#", "{", "\\left(", "**", "~~~\n"])
    return st.one_of(
        st.integers(1000, 45_000).map(fan_in),
        st.integers(1000, 30_000).map(fan_out),
        st.integers(5, 30).map(chain),
        st.integers(1000, 25_000).map(sine_chain),
        st.integers(10, 100_000).map(long_expression),
        st.tuples(marks, st.integers(1, 20_000)).map(lambda m: statement(m[0] * m[1])),
        st.integers(1, 200_000).map(lambda n: "# " + "[" * n + "\n" + GOOD),
        st.integers(1, 200_000).map(lambda n: GOOD + "tags: " + "[" * n + "]" * n + "\n"),
        st.integers(1, 300_000).map(lambda n: "title: " + "t" * n + "\n" + GOOD.split("\n", 1)[1]),
        st.text(min_size=1, max_size=2000).map(lambda t: _fit(t * (ONE_MIB // (4 * len(t)) + 1))),
        st.integers(1, 100_000).map(lambda n: "title: s\nstatement: '$" + "{" * n + "x" + "}" * n
                                    + "$'\n" + GOOD.split("\n", 1)[1]),
    ).map(_fit)


def _each_family(examples: int, case) -> None:
    """``case(text)`` on ``examples`` files of the families, the same ones every run."""
    from hypothesis import HealthCheck, given, settings

    settings(max_examples=examples, deadline=None, derandomize=True,
             suppress_health_check=list(HealthCheck))(given(_families())(case))()


@pytest.mark.slow
def test_no_file_of_up_to_1_mib_keeps_a_command_busy_for_30_seconds(tmp_path_factory):
    def case(text):
        path = tmp_path_factory.mktemp("fuzz") / "p.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        assert path.stat().st_size <= ONE_MIB
        for command in (["check"], ["trace"], ["trace", "--json"]):
            result = subprocess.run([sys.executable, "-m", "tracer", *command, str(path)],
                                    capture_output=True, text=True, timeout=COMMAND_SECONDS)
            assert result.returncode in (0, 1), result.stderr[-2000:]
            assert "Traceback" not in result.stderr and "internal error" not in result.stderr, \
                result.stderr[-2000:]

    _each_family(24, case)


def _largest(make, limit: int = ONE_MIB) -> str:
    """The largest problem ``make(n)`` gives in a file of at most ``limit`` bytes."""
    low, high = 1, 2
    while len(make(high).encode()) <= limit:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(make(middle).encode()) <= limit else (low, middle)
    return make(low)


def _build_within_bound(folder: Path, text: str) -> str:
    """`tracer build` of a course of this one problem, as a whole process, PDFs as the
    machine allows: it ends within the bound, cleanly.  The answer key's HTML."""
    from tracer.site.new import new_course

    new_course(folder)
    for old in (folder / "problems").glob("*.yaml"):
        old.unlink()
    (folder / "problems" / "p.yaml").write_text(text, encoding="utf-8",
                                                errors="surrogatepass")
    assert (folder / "problems" / "p.yaml").stat().st_size <= ONE_MIB
    result = subprocess.run([sys.executable, "-m", "tracer", "build"], cwd=folder,
                            capture_output=True, text=True, timeout=COMMAND_SECONDS)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, \
        result.stderr[-2000:]
    key = folder / "public-instructor" / "problems" / "p" / "answers.html"
    return key.read_text(encoding="utf-8") if result.returncode == 0 else ""


@pytest.mark.slow
@pytest.mark.parametrize("make", [fan_in, fan_out, sine_chain, long_expression])
def test_the_largest_problems_a_1_mib_file_holds_build_within_30_seconds(make, tmp_path):
    """Before, a 10,000-term sum (200 kB) took 135 s to build and 45,000 terms much longer:
    the pages wrote out every step.  Past MAX_WRITTEN lines of work they give an overview,
    and nothing the build does grows faster than the file."""
    key = _build_within_bound(tmp_path / "course", _largest(make))
    assert "Too large to work step by step" in key


@pytest.mark.slow
def test_no_file_of_up_to_1_mib_keeps_the_build_busy_for_30_seconds(tmp_path_factory):
    def case(text):
        _build_within_bound(tmp_path_factory.mktemp("course"), text)

    _each_family(8, case)


def test_an_emoji_title_reaches_the_navigation_whole():
    from tracer.site.pages import ProblemPages, problems_nav

    title = "Smile \U0001F600 <b>&amp;</b>"
    nav = problems_nav([ProblemPages("p", title, (), "p.yaml", {})])
    (label, _), = nav[0].items()
    assert "\U0001F600" in label and not any(0xD800 <= ord(c) <= 0xDFFF for c in label)
    label.encode("utf-8")
