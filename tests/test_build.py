"""`tracer build`, `tracer serve` and the MkDocs plugin, on copies of the project's site.

Each test works in a temporary folder holding copies of mkdocs.yml, site/ and problems/.
One full build (with PDFs where pdflatex is installed) is shared by the module; tests that
change something copy that built folder first.  Generated files are cached by content in a
folder shared by the test session, so only the first build of a problem pays for it.
"""
from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

import tracer.site.build
import tracer.site.pdf
from tracer.cli import main
from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load
from tracer.site.build import BuildReport, build
from tracer.site.publish import discard_leftovers
from tracer.view.solution import solve

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted(ROOT.joinpath("problems").glob("*.yaml"))
HAVE_PDFLATEX = shutil.which("pdflatex") is not None

pytestmark = pytest.mark.slow  # whole builds and the browser


# ----------------------------------------------------------------------------- helpers

def copy_project(dest: Path, cache: Path | None = None, **options: str) -> Path:
    """Copy mkdocs.yml, site/ and problems/ into ``dest``; return the copied mkdocs.yml.

    ``cache`` points the plugin's cache_dir elsewhere; ``options`` replace plugin options
    (``pdf="false"``)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "site", dest / "site")
    shutil.copytree(ROOT / "problems", dest / "problems")
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    if cache is not None:
        options["cache_dir"] = str(cache)
    for key, value in options.items():
        text, n = re.subn(rf"(?m)^(\s+){key}: .*$", rf"\g<1>{key}: {value}", text)
        assert n == 1, f"mkdocs.yml has no plugin option {key}"
    (dest / "mkdocs.yml").write_text(text, encoding="utf-8")
    return dest / "mkdocs.yml"


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` -> the hash of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tracer-" in p.name)


def problem_trace(path: Path):
    """The worked solution of a problem file."""
    graph = build_graph(load(path))
    return solve(graph, trace(graph))


@dataclass
class Built:
    work: Path
    config: Path
    report: BuildReport
    messages: list[str]
    site_before: dict[str, str]

    @property
    def public(self) -> Path:
        """The student edition."""
        return self.work / "public"

    @property
    def instructor(self) -> Path:
        """The instructor edition: every key."""
        return self.work / "public-instructor"


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "tracer-cache"


@pytest.fixture(scope="module")
def built(tmp_path_factory, shared_cache) -> Built:
    work = tmp_path_factory.mktemp("built")
    config = copy_project(work, cache=shared_cache)
    before = tree(work / "site")
    messages: list[str] = []
    report = build(config, say=messages.append)
    return Built(work, config, report, messages, before)


@pytest.fixture
def rebuilt(built, tmp_path) -> Built:
    """A private copy of the built folder (site, problems, output) to change things in."""
    work = tmp_path / "work"
    shutil.copytree(built.work, work, symlinks=True)
    return Built(work, work / "mkdocs.yml", built.report, [], tree(work / "site"))


# ----------------------------------------------------------------------------- the output

def test_every_problem_has_its_pages_figures_and_sources(built):
    assert built.report.problems == len(PROBLEMS) > 0
    for path in PROBLEMS:
        t = problem_trace(path)
        folder = built.instructor / "problems" / t.id
        names = {p.name for p in folder.iterdir()}
        expected = {"worksheet.html", "answers.html", "worksheet.tex", "answers.tex",
                    "graph.svg", "values.svg", "gradients.svg", "graph.tikz.tex",
                    "values.tikz.tex", "gradients.tikz.tex", "staged.py", "check_torch.py",
                    "problem.yaml"}
        expected |= {f"step-{k:02d}.svg" for k in range(1, len(t.trace.backward) + 1)}
        if HAVE_PDFLATEX:
            expected |= {"worksheet.pdf", "answers.pdf"}
        assert expected <= names, f"{t.id}: missing {sorted(expected - names)}"
        assert (folder / "problem.yaml").read_bytes() == path.read_bytes()
        for name in ("graph.svg", "values.svg", "gradients.svg", "step-01.svg"):
            assert (folder / name).read_text(encoding="utf-8").lstrip().startswith(("<svg", "<?xml"))
        for name in ("worksheet.tex", "answers.tex"):
            for included in re.findall(r"\\input\{([^}]+)\}", (folder / name).read_text()):
                assert (folder / included).is_file() or (folder / f"{included}.tex").is_file(), \
                    f"{t.id}/{name} inputs {included}, which is not beside it"
        for name in ("worksheet.pdf", "answers.pdf"):
            if HAVE_PDFLATEX:
                assert (folder / name).read_bytes().startswith(b"%PDF")
        answers = (folder / "answers.html").read_text(encoding="utf-8")
        assert html.escape(t.title, quote=False) in answers
        assert 'class="tracer-steps"' in answers
        # The page loads KaTeX and tracer's script from the site itself.
        for asset in ("assets/tracer/katex/katex.min.css", "assets/tracer/katex/katex.min.js",
                      "assets/tracer/katex/contrib/auto-render.min.js",
                      "assets/tracer/tracer.js", "assets/tracer/tracer.css"):
            assert f'"../../{asset}"' in answers
            assert (built.public / asset).is_file()


def test_home_page_lists_every_problem_with_links(built):
    home = (built.instructor / "index.html").read_text(encoding="utf-8")
    positions = []
    for path in PROBLEMS:
        t = problem_trace(path)
        base = f"problems/{t.id}/"
        link = re.search(rf'<a href="{re.escape(base)}worksheet.html">(.*?)</a>', home)
        assert link and html.unescape(link.group(1)) == t.title, t.title
        title_at = link.start()
        positions.append(title_at)
        for name in ("worksheet.html", "answers.html", "worksheet.tex", "answers.tex",
                     "staged.py", "check_torch.py", "problem.yaml"):
            assert f'href="{base}{name}"' in home, f"{t.id}: no link to {name}"
        for name in ("worksheet.pdf", "answers.pdf"):
            assert (f'href="{base}{name}"' in home) == HAVE_PDFLATEX
        for tag in t.tags:
            assert f'<span class="tracer-tag">{html.escape(tag)}</span>' in home
    # In problem-file order.
    assert positions == sorted(positions)


def test_navigation_has_one_section_per_problem_in_file_order(built):
    page = (built.instructor / "problems" / "03-two-paths" / "answers.html").read_text()
    nav = page[page.index('class="md-nav md-nav--primary"'):page.index('class="md-content"')]
    order = []
    for path in PROBLEMS:
        t = problem_trace(path)
        worksheet = nav.find(f'href="../{t.id}/worksheet.html"')
        if t.id == "03-two-paths":      # the current page's own links are relative to it
            worksheet, answers = nav.find('href="worksheet.html"'), nav.find('href="answers.html"')
            assert 0 <= worksheet < answers
        # The navigation is pruned: another problem's section links to its first page only.
        assert worksheet >= 0, t.id
        order.append(worksheet)
    assert order == sorted(order)
    for label in ("Worksheet", "Answer key", "Backpropagation in brief", "Writing problems"):
        assert label in nav


def test_the_site_asks_for_nothing_outside_itself(built):
    outside = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)
    for page in built.public.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"<(?:script|link|img)\b[^>]*>", text):
            assert not outside.search(match.group()), f"{page.name}: {match.group()}"
        assert "fonts.googleapis" not in text and "mermaid" not in text
    # Every font KaTeX's stylesheet names is served.
    css = built.public / "assets/tracer/katex/katex.min.css"
    for url in set(re.findall(r"url\(([^)]+)\)", css.read_text())):
        assert (css.parent / url.strip("'\"")).is_file(), url


def test_hand_written_pages_are_never_touched(built):
    assert tree(built.work / "site") == built.site_before
    # ... and become pages of the site.
    for name in ("backpropagation.html", "authoring.html"):
        assert (built.public / name).is_file()


def test_a_hand_written_file_is_never_overwritten_by_a_generated_one(rebuilt, capsys):
    clash = rebuilt.work / "site" / "problems" / "03-two-paths" / "answers.md"
    clash.parent.mkdir(parents=True)
    clash.write_text("# mine\n")
    before = tree(rebuilt.public)
    assert main(["build", "-f", str(rebuilt.config)]) == 1
    assert "problems/03-two-paths/answers.md" in capsys.readouterr().err
    assert clash.read_text() == "# mine\n"
    assert tree(rebuilt.public) == before


def test_two_builds_are_byte_identical(built, tmp_path):
    # A fresh cache: everything, PDFs included, is generated again.
    config = copy_project(tmp_path / "again", cache=tmp_path / "cache")
    report = build(config, say=lambda m: None)
    assert report.reused == 0
    assert tree(tmp_path / "again" / "public") == tree(built.public)
    assert tree(tmp_path / "again" / "public-instructor") == tree(built.instructor)


# ----------------------------------------------------------------------------- failures

BROKEN_SYNTAX = """\
title: Broken syntax
inputs:
  x: 2
nodes:
  y: (x + 1
"""

BROKEN_DOMAIN = """\
title: Logarithm of zero
inputs:
  x: 0
nodes:
  u: x * 2
  y: log(u)
"""


def test_broken_problems_are_all_reported_and_nothing_is_written(rebuilt, capsys):
    before = tree(rebuilt.public)
    (rebuilt.work / "problems" / "20-syntax.yaml").write_text(BROKEN_SYNTAX)
    (rebuilt.work / "problems" / "21-domain.yaml").write_text(BROKEN_DOMAIN)
    (rebuilt.work / "problems" / "22-unknown-key.yaml").write_text(
        "title: t\ninputs:\n  x: 1\nnodez:\n  y: x * 2\n")
    assert main(["build", "-f", str(rebuilt.config)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"20-syntax\.yaml:5(:\d+)?: .*syntax", err), err
    assert re.search(r"21-domain\.yaml:6: .*'y'.*log", err), err
    assert re.search(r"22-unknown-key\.yaml:4:1: unknown key 'nodez' - did you mean 'nodes'", err)
    assert all(line.startswith("error: ") for line in err.strip().splitlines())
    assert tree(rebuilt.public) == before
    assert leftovers(rebuilt.work) == []
    assert tree(rebuilt.work / "site") == rebuilt.site_before


def test_a_site_that_fails_to_build_leaves_the_previous_one(rebuilt, capsys):
    before = tree(rebuilt.public)
    # A broken link is a warning, and the build is strict.
    (rebuilt.work / "site" / "extra.md").write_text("# Extra\n\n[gone](missing.md)\n")
    assert main(["build", "-f", str(rebuilt.config)]) == 1
    err = capsys.readouterr().err
    assert "missing.md" in err
    assert tree(rebuilt.public) == before
    assert leftovers(rebuilt.work) == []


def test_leftovers_of_an_interrupted_build_are_cleaned_up(rebuilt):
    staging = rebuilt.work / ".public.tracer-staging"
    staging.mkdir()
    (staging / "half.html").write_text("half a site")
    build(rebuilt.config, say=lambda m: None)
    assert leftovers(rebuilt.work) == []
    assert not (rebuilt.public / "half.html").exists()


def test_a_swap_interrupted_half_way_is_undone(tmp_path):
    # The old site was moved aside and the process died before the new one moved in.
    output = tmp_path / "public"
    retired = tmp_path / ".public.tracer-old"
    retired.mkdir()
    (retired / "index.html").write_text("previous site")
    (tmp_path / ".public.tracer-staging").mkdir()
    discard_leftovers(output)
    assert (output / "index.html").read_text() == "previous site"
    assert leftovers(tmp_path) == []


def test_build_reports_a_missing_config(tmp_path, capsys):
    assert main(["build", "-f", str(tmp_path / "mkdocs.yml")]) == 1
    assert "mkdocs.yml: no such file" in capsys.readouterr().err


WITHOUT_PLUGIN = """\
site_name: no plugin
docs_dir: site
site_dir: public
use_directory_urls: false
plugins:
  - search
"""


@pytest.mark.parametrize("edit, message", [
    (lambda t: WITHOUT_PLUGIN, "the tracer plugin is not enabled"),
    (lambda t: t.replace("pdf: auto", "pdf: sometimes"), "the configuration is invalid"),
])
def test_a_config_tracer_cannot_work_with_is_refused(rebuilt, capsys, edit, message):
    text = rebuilt.config.read_text()
    assert edit(text) != text
    rebuilt.config.write_text(edit(text))
    before = tree(rebuilt.public)
    assert main(["build", "-f", str(rebuilt.config)]) == 1
    assert message in capsys.readouterr().err
    assert tree(rebuilt.public) == before


def test_without_pdflatex_the_rest_is_built_and_the_build_says_so(rebuilt, monkeypatch,
                                                                  tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    messages: list[str] = []
    report = build(rebuilt.config, say=messages.append)
    notes = [m for m in messages if m.startswith("pdflatex")]
    assert notes == [tracer.site.pdf.PDFLATEX_MISSING]
    assert "PDFs skipped" in notes[0] and "TeX Live" in notes[0]
    assert report.pdf_skipped and report.pdfs == 0
    assert list(rebuilt.public.rglob("*.pdf")) == []
    assert list(rebuilt.instructor.rglob("*.pdf")) == []
    for path in PROBLEMS:
        folder = rebuilt.instructor / "problems" / problem_trace(path).id
        for name in ("worksheet.html", "answers.html", "worksheet.tex", "answers.tex"):
            assert (folder / name).is_file()
    assert ".pdf" not in (rebuilt.public / "index.html").read_text()
    assert ".pdf" not in (rebuilt.instructor / "index.html").read_text()

    # The PDFs of earlier builds stay in the cache for when pdflatex is back.
    if HAVE_PDFLATEX:
        monkeypatch.undo()
        monkeypatch.setattr(tracer.site.pdf, "run_pdflatex", _forbidden)
        report = build(rebuilt.config, say=lambda m: None)
        assert report.pdfs == report.pdfs_reused == 2 * len(PROBLEMS)


def test_pdf_true_without_pdflatex_is_an_error(rebuilt, monkeypatch, tmp_path, capsys):
    config = rebuilt.config
    config.write_text(config.read_text().replace("pdf: auto", "pdf: true"))
    monkeypatch.setenv("PATH", str(tmp_path))
    before = tree(rebuilt.public)
    assert main(["build", "-f", str(config)]) == 1
    assert "pdflatex not found" in capsys.readouterr().err
    assert tree(rebuilt.public) == before


# ----------------------------------------------------------------------------- the cache

def _forbidden(*args, **kwargs):
    raise AssertionError("an unchanged problem was generated again")


def test_a_second_build_reuses_the_cache(rebuilt, monkeypatch):
    before = tree(rebuilt.public)
    monkeypatch.setattr(tracer.site.build, "render_problem", _forbidden)
    monkeypatch.setattr(tracer.site.pdf, "run_pdflatex", _forbidden)
    report = build(rebuilt.config, say=lambda m: None)
    assert report.reused == report.problems == len(PROBLEMS)
    assert report.pdfs_reused == report.pdfs == (2 * len(PROBLEMS) if HAVE_PDFLATEX else 0)
    assert tree(rebuilt.public) == before


def test_only_a_changed_problem_is_generated_again(rebuilt, monkeypatch):
    calls: list[str] = []
    real = tracer.site.build.render_problem

    def counting(graph, *args, **kwargs):
        calls.append(graph.problem.id)
        return real(graph, *args, **kwargs)

    monkeypatch.setattr(tracer.site.build, "render_problem", counting)
    path = rebuilt.work / "problems" / "02-sum-then-product.yaml"
    path.write_text(path.read_text().replace("x3: -5", "x3: -6"))
    report = build(rebuilt.config, say=lambda m: None)
    assert calls == ["02-sum-then-product"]
    assert report.reused == len(PROBLEMS) - 1
    answers = (rebuilt.public / "problems/02-sum-then-product/answers.html").read_text()
    assert "-36" in answers or "−36" in answers        # y = 6 * -6


def test_a_failed_build_keeps_the_work_done_on_the_good_problems(rebuilt, monkeypatch, capsys):
    problems = rebuilt.work / "problems"
    (problems / "20-new.yaml").write_text(
        "title: Kept although the build failed\ninputs:\n  x: 3\nnodes:\n  y: x * x\n")
    (problems / "21-domain.yaml").write_text(BROKEN_DOMAIN)
    assert main(["build", "-f", str(rebuilt.config)]) == 1
    assert "21-domain.yaml" in capsys.readouterr().err

    (problems / "21-domain.yaml").unlink()
    calls: list[str] = []
    real = tracer.site.build.render_problem
    monkeypatch.setattr(tracer.site.build, "render_problem", lambda graph, *args, **kwargs:
                        calls.append(graph.problem.id) or real(graph, *args, **kwargs))
    report = build(rebuilt.config, say=lambda m: None)
    assert calls == []
    assert report.reused == report.problems == len(PROBLEMS) + 1
    assert "Kept although" in (rebuilt.instructor / "problems/20-new/answers.html").read_text()


# ----------------------------------------------------------------------------- other ways in

def test_titles_and_tags_cannot_inject_markup(tmp_path, shared_cache):
    config = copy_project(tmp_path / "w", cache=shared_cache, pdf="false")
    (tmp_path / "w" / "problems" / "99-hostile.yaml").write_text(
        "title: '<script>alert(1)</script> $x$ *b* [l](u)'\n"
        "tags: ['<img src=x onerror=alert(1)>']\n"
        "inputs:\n  x: 1\nnodes:\n  y: x * 2\n")
    build(config, say=lambda m: None)
    public = tmp_path / "w" / "public"
    for page in (public / "index.html", public / "problems/99-hostile/worksheet.html"):
        text = page.read_text()
        assert "<script>alert" not in text and "<img src=x" not in text, page.name


def test_plain_mkdocs_build_gives_the_same_site(built, tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env.pop("SOURCE_DATE_EPOCH", None)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                           "-f", str(built.config), "-d", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert tree(out) == tree(built.public)
    assert tree(built.work / "site") == built.site_before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, OSError):
        return None


def _wait_for(predicate, timeout: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.3)
    return False


def test_serve_rebuilds_a_problem_when_its_file_changes(rebuilt, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/problems/03-two-paths/worksheet.html"
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracer", "serve", "-f", str(rebuilt.config),
         "-a", f"127.0.0.1:{port}"],
        cwd=rebuilt.work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: "Two paths" in (_get(url) or ""), 180, proc), \
            (tmp_path / "serve.log").read_text()
        path = rebuilt.work / "problems" / "03-two-paths.yaml"
        path.write_text(path.read_text().replace("Two paths into one node",
                                                 "Two roads into one node"))
        assert _wait_for(lambda: "Two roads" in (_get(url) or ""), 120, proc), \
            (tmp_path / "serve.log").read_text()
        # A problem broken while previewing is reported; the others stay on show.
        (rebuilt.work / "problems" / "30-broken.yaml").write_text(BROKEN_SYNTAX)
        assert _wait_for(lambda: "30-broken.yaml:5" in (tmp_path / "serve.log").read_text(),
                         120, proc), (tmp_path / "serve.log").read_text()
        assert _wait_for(lambda: "Two roads" in (_get(url) or ""), 60, proc)
        assert not list((rebuilt.work / "site").rglob("*.html"))
        assert tree(rebuilt.work / "site") == rebuilt.site_before
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# ----------------------------------------------------------------------------- faults

def private_cache(rebuilt: Built, shared_cache: Path) -> Path:
    """The rebuilt site pointed at its own copy of the cache, to damage without harm."""
    cache = rebuilt.work / "cache"
    shutil.copytree(shared_cache, cache)
    text = rebuilt.config.read_text()
    rebuilt.config.write_text(text.replace(str(shared_cache), str(cache)))
    return cache


def test_a_read_only_old_site_is_replaced_all_at_once(rebuilt):
    before = tree(rebuilt.public)
    for path in [rebuilt.public, *rebuilt.public.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)
    build(rebuilt.config, say=lambda m: None)
    assert tree(rebuilt.public) == before
    assert leftovers(rebuilt.work) == []


def test_an_old_site_that_cannot_be_removed_never_stops_a_build(rebuilt, monkeypatch):
    import tracer.site.publish as publish

    real = publish._remove_tree
    monkeypatch.setattr(publish, "_remove_tree", lambda path: False)  # owned by someone else
    path = rebuilt.work / "problems" / "02-sum-then-product.yaml"
    path.write_text(path.read_text().replace("x3: -5", "x3: -6"))
    build(rebuilt.config, say=lambda m: None)
    answers = (rebuilt.public / "problems/02-sum-then-product/answers.html").read_text()
    assert "-36" in answers or "−36" in answers                  # the new site, whole
    # the old sites (both editions), aside
    assert leftovers(rebuilt.work) == [".public-instructor.tracer-trash-0",
                                       ".public.tracer-trash-0"]
    again = tree(rebuilt.public)
    build(rebuilt.config, say=lambda m: None)                     # still unremovable
    assert tree(rebuilt.public) == again
    monkeypatch.setattr(publish, "_remove_tree", real)
    build(rebuilt.config, say=lambda m: None)                     # removable again
    assert leftovers(rebuilt.work) == [] and tree(rebuilt.public) == again


def test_a_swap_that_fails_half_way_puts_the_old_site_back(rebuilt, monkeypatch, capsys):
    import tracer.site.publish as publish

    before = tree(rebuilt.public)
    real_rename = os.rename

    def rename(src, dst):
        if str(src).endswith(".public.tracer-staging"):
            raise PermissionError(13, "Permission denied", str(dst))
        real_rename(src, dst)

    monkeypatch.setattr(publish, "_exchange", lambda a, b: False)   # no atomic exchange
    monkeypatch.setattr(publish.os, "rename", rename)
    path = rebuilt.work / "problems" / "02-sum-then-product.yaml"
    path.write_text(path.read_text().replace("x3: -5", "x3: -6"))
    assert main(["build", "-f", str(rebuilt.config)]) == 1
    err = capsys.readouterr().err
    assert "cannot write the site here: Permission denied" in err and "internal" not in err
    assert tree(rebuilt.public) == before
    monkeypatch.undo()
    build(rebuilt.config, say=lambda m: None)
    assert leftovers(rebuilt.work) == []


def test_a_cache_that_cannot_be_written_only_costs_time(rebuilt, monkeypatch, shared_cache):
    before = tree(rebuilt.public)
    # A cache below a file: nothing can be created there, not even the build's lock.
    (rebuilt.work / "blocker").write_text("a file")
    text = rebuilt.config.read_text().replace(str(shared_cache), str(rebuilt.work / "blocker/c"))
    rebuilt.config.write_text(text)
    report = build(rebuilt.config, say=lambda m: None)
    assert report.reused == 0 and tree(rebuilt.public) == before

    # A cache that can be read but not written: its entries are used.
    import tracer.site.cache

    rebuilt.config.write_text(text.replace(str(rebuilt.work / "blocker/c"), str(shared_cache)))
    private_cache(rebuilt, shared_cache)
    build(rebuilt.config, say=lambda m: None)       # every entry there

    class ReadOnly:
        """The cache module's view of the system: every rename into the cache refused."""

        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def replace(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tracer.site.cache, "os", ReadOnly())
    report = build(rebuilt.config, say=lambda m: None)
    assert report.reused == report.problems and tree(rebuilt.public) == before


def _entry(cache: Path, id: str) -> Path:
    for folder in (cache / "pages").iterdir():
        index = folder / "index.json"
        if index.is_file() and f'"id": "{id}"' in index.read_text():
            return folder
    raise AssertionError(f"no cache entry for {id}")


@pytest.mark.parametrize("damage", ["garbage", "garbage and index", "deleted and index",
                                    "truncated index", "truncated pdf"])
def test_a_damaged_cache_is_never_published(rebuilt, shared_cache, monkeypatch, damage):
    cache = private_cache(rebuilt, shared_cache)
    before = tree(rebuilt.public)
    entry = _entry(cache, "03-two-paths")
    if "garbage" in damage:
        (entry / "worksheet.md").write_text("# GARBAGE\n")
    if "deleted" in damage:
        (entry / "graph.svg").unlink()
    if "and index" in damage:
        (entry / "index.json").write_text("{not json")
    if damage == "truncated index":
        index = entry / "index.json"
        index.write_bytes(index.read_bytes()[:40])
    if damage == "truncated pdf":
        if not HAVE_PDFLATEX:
            pytest.skip("pdflatex is not installed")
        for blob in (cache / "pdf").iterdir():
            blob.write_bytes(blob.read_bytes()[:200] + b"%PDF-1.5 cut")   # head kept
    build(rebuilt.config, say=lambda m: None)
    assert tree(rebuilt.public) == before
    assert "GARBAGE" not in (rebuilt.public / "problems/03-two-paths/worksheet.html").read_text()
    # Repaired: the next build takes everything from the cache.
    monkeypatch.setattr(tracer.site.build, "render_problem", _forbidden)
    monkeypatch.setattr(tracer.site.pdf, "run_pdflatex", _forbidden)
    report = build(rebuilt.config, say=lambda m: None)
    assert report.reused == report.problems and tree(rebuilt.public) == before


def _children(pid: int) -> dict[int, str]:
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            name = fields[0].split("(", 1)[1]
            if int(fields[1].split()[1]) == pid:
                found[int(stat.parent.name)] = name
        except (OSError, IndexError, ValueError):
            continue
    return found


def _gone(pids, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{p}").exists() and "Z" not in
                   (Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
                    if Path(f"/proc/{p}/stat").exists() else "Z") for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("phase", ["workers", "pdflatex"])
def test_kill_9_takes_the_build_s_processes_along(tmp_path, phase):
    if phase == "pdflatex" and not HAVE_PDFLATEX:
        pytest.skip("pdflatex is not installed")
    config = copy_project(tmp_path / "w", cache=tmp_path / "cache")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp))
    if phase == "pdflatex":   # the pages from the cache: straight to the PDFs
        subprocess.run([sys.executable, "-m", "tracer", "build", "-f", str(config)], env=env,
                       capture_output=True, timeout=600, check=True)
        shutil.rmtree(tmp_path / "cache" / "pdf")
    proc = subprocess.Popen([sys.executable, "-m", "tracer", "build", "-f", str(config)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wanted = "pdflatex" if phase == "pdflatex" else "python"
    deadline = time.monotonic() + 300
    children: dict[int, str] = {}
    while time.monotonic() < deadline and proc.poll() is None:
        children = _children(proc.pid)
        if any(wanted in name or (phase == "workers" and "tracer" in name)
               for name in children.values()):
            break
        time.sleep(0.02)
    assert proc.poll() is None and children, "the build ended before the phase was seen"
    proc.kill()
    proc.wait()
    assert _gone(children), f"still running after the build was killed: {children}"
    if phase == "pdflatex":
        assert list(temp.glob(f"tracer-tex-{proc.pid}-*"))     # left by the dead build ...
        subprocess.run([sys.executable, "-m", "tracer", "build", "-f", str(config)], env=env,
                       capture_output=True, timeout=600, check=True)
        assert list(temp.glob(f"tracer-tex-{proc.pid}-*")) == []   # ... removed by the next
