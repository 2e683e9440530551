"""A course of one's own: `tracer new`, a minimal mkdocs.yml that builds at once and
offline, the course's name, term and author on pages and PDFs, and `tracer serve` showing
a broken problem's errors in the browser until it is fixed."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from tracer.cli import main
from tracer.core.errors import Diagnostic, TracerError
from tracer.core.load import load
from tracer.exporters.base import Course
from tracer.site.new import COURSE_FILES, new_course
from tracer.site.pages import home_page
from tracer.site.plugin import settle_config
from tracer.site.preview import ERROR_PAGES, error_pages

ROOT = Path(__file__).resolve().parent.parent
HAVE_PDFLATEX = shutil.which("pdflatex") is not None
CHROMIUM = Path("/usr/bin/chromium")
#: A resource a page would load from elsewhere: <script src>, <link href>, <img src>.
OUTSIDE = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*[\"'](?:https?:)?//",
                     re.I)


def _mkdocs_config(path: Path):
    from mkdocs.config import load_config

    return load_config(config_file=str(path))


# ----------------------------------------------------------------------------- tracer new

def test_new_writes_a_course_whose_files_are_valid(tmp_path, capsys):
    folder = tmp_path / "dl101"
    name = 'Deep Learning: "Backprop" – Übung'
    assert main(["new", str(folder), "--name", name, "--term", "WS 2025/26",
                 "--author", "Dr. A. Lovelace"]) == 0
    out = capsys.readouterr().out
    assert "cd " in out and "tracer build" in out
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) \
        == sorted(COURSE_FILES)
    config = yaml.safe_load((folder / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["site_name"] == name and config["use_directory_urls"] is False
    assert config["theme"]["font"] is False
    (plugin,) = [p["tracer"] for p in config["plugins"] if isinstance(p, dict)]
    assert plugin["course"] == name and plugin["term"] == "WS 2025/26"
    assert plugin["author"] == "Dr. A. Lovelace"
    problem = load(folder / "problems" / "01-sigmoid-neuron.yaml")   # a valid problem
    assert problem.data == ("x", "t") and problem.update is not None
    assert main(["check", str(folder / "problems")]) == 0
    index = (folder / "site" / "index.md").read_text(encoding="utf-8")
    assert index.startswith("# Deep Learning&#58;") or index.startswith("# Deep Learning:")


def test_new_defaults_the_name_to_the_folder_and_refuses_a_folder_in_use(tmp_path, capsys):
    new_course(tmp_path / "my-course")
    config = yaml.safe_load((tmp_path / "my-course" / "mkdocs.yml").read_text())
    assert config["site_name"] == "my-course"
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    assert main(["new", str(used)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {used}: this folder exists and is not empty")
    assert sorted(p.name for p in used.iterdir()) == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no leftovers
    empty = tmp_path / "empty"
    empty.mkdir()
    new_course(empty)
    assert (empty / "mkdocs.yml").is_file()


# ----------------------------------------------------------------------------- the config

MINIMAL = "site_name: Minimal\ntheme:\n  name: material\nplugins:\n  - tracer\n"


def test_the_plugin_settles_what_a_minimal_config_lacks(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(MINIMAL)
    (tmp_path / "docs").mkdir()
    config = _mkdocs_config(tmp_path / "mkdocs.yml")
    assert config["use_directory_urls"] and config["theme"]["font"] is not False
    changes = settle_config(config)
    assert config["use_directory_urls"] is False
    assert config["theme"]["font"] is False
    assert "pymdownx.arithmatex" in config["markdown_extensions"]
    assert config["mdx_configs"]["pymdownx.arithmatex"] == {"generic": True}
    assert any("use_directory_urls" in c for c in changes)
    assert any("web fonts" in c for c in changes)
    # the project's own config needs nothing
    assert settle_config(_mkdocs_config(ROOT / "mkdocs.yml")) == []


def test_the_home_page_links_only_the_pages_that_exist():
    bare = home_page([])
    assert "backpropagation.md" not in bare and "authoring.md" not in bare
    full = home_page([], present={"backpropagation.md", "authoring.md"})
    assert "(backpropagation.md)" in full and "(authoring.md)" in full
    course = home_page([], course=Course("Deep Learning 101", "Winter", "Ada"))
    assert "# Deep Learning 101" in course and "Winter · Ada" in course
    catalogue = home_page([], catalogue_only=True)
    assert catalogue.lstrip().startswith("## Problems") and "---" not in catalogue


# ----------------------------------------------------------------------------- serve

def test_a_broken_file_has_pages_that_show_its_errors(tmp_path):
    path = tmp_path / "03-broken.yaml"
    diagnostics = [Diagnostic("problems/03-broken.yaml", "the node 'y': '2x' is a number "
                              "written right before a name: write 2*x", 5, 6),
                   Diagnostic("problems/03-broken.yaml", "title is empty", 1)]
    pages = error_pages(path, diagnostics)
    assert pages.id == "03-broken" and pages.title == "03-broken.yaml"
    assert set(pages.files) == set(ERROR_PAGES)
    page = pages.files["answers.md"]
    assert "problems/03-broken.yaml:5:6" in page and "2 errors" in page
    assert "write 2&#42;x" in page or "write 2*x" in page


# ----------------------------------------------------------------------------- whole builds

@pytest.mark.slow
def test_a_new_course_builds_offline_in_one_command(tmp_path):
    folder = tmp_path / "course"
    new_course(folder, name="Deep Learning 101", term="Winter 2025/26", author="Dr. Ada")
    result = subprocess.run([sys.executable, "-m", "tracer", "build"], cwd=folder,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    public = folder / "public"
    index = (public / "index.html").read_text(encoding="utf-8")
    # the hand-written home page, with the list of problems below it
    assert "write what your students should know here" in index
    assert "problems/01-sigmoid-neuron/worksheet.html" in index
    for page in public.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not OUTSIDE.search(text), page
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text
    keys = folder / "public-instructor"     # the answer keys: the instructor edition
    assert not (public / "problems/01-sigmoid-neuron/answers.html").exists()
    answers = (keys / "problems/01-sigmoid-neuron/answers.html").read_text()
    assert "Deep Learning 101 · Winter 2025/26 · Dr. Ada" in answers
    tex = (public / "problems/01-sigmoid-neuron/worksheet.tex").read_text()
    # the header: the course, then the variant note matching the paper to its key
    assert r"\lhead{\small Deep Learning 101, Winter 2025/26 \textperiodcentered{} " \
        r"01-sigmoid-neuron \textperiodcentered{} " in tex
    assert r"Deep Learning 101 \textperiodcentered\ Winter 2025/26" in tex
    if HAVE_PDFLATEX:
        assert (public / "problems/01-sigmoid-neuron/worksheet.pdf").is_file()
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(keys / "problems/01-sigmoid-neuron/"
                                                  "answers.pdf"), "-"],
                                  capture_output=True, text=True).stdout
            assert "Deep Learning 101" in text and "Dr. Ada" in text


@pytest.mark.slow
def test_a_minimal_config_builds_at_once(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(MINIMAL + "  - search\n")
    (tmp_path / "docs").mkdir()
    shutil.copytree(ROOT / "problems", tmp_path / "problems",
                    ignore=lambda d, names: [n for n in names if not n.startswith("03")])
    start = time.monotonic()
    assert main(["build", "-f", str(tmp_path / "mkdocs.yml")]) == 0
    assert time.monotonic() - start < 600
    site = tmp_path / "site"
    # the keys are in the instructor edition, as answers.html (not .../answers/index.html)
    answers = tmp_path / "public-instructor/problems/03-two-paths/answers.html"
    text = answers.read_text(encoding="utf-8")
    assert '<span class="arithmatex">' in text or 'class="arithmatex"' in text
    assert "fonts.googleapis" not in (site / "index.html").read_text()


@pytest.mark.slow
def test_course_settings_reach_the_cache_key(tmp_path):
    folder = tmp_path / "course"
    new_course(folder, name="A", term="first")
    assert main(["build", "-f", str(folder / "mkdocs.yml")]) == 0
    config = folder / "mkdocs.yml"
    config.write_text(config.read_text().replace('term: "first"', 'term: "second"'))
    assert main(["build", "-f", str(config)]) == 0
    page = (folder / "public/problems/01-sigmoid-neuron/worksheet.html").read_text()
    assert "second" in page and "first" not in page


BROKEN = textwrap.dedent("""\
    title: A sigmoid neuron
    inputs: {x: 1.5, w: 0.8}
    nodes:
      z: w * x
      a: sigmoid(2z)
""")


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_serve_shows_a_broken_problem_in_the_open_page_and_reloads_when_fixed(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    import socket

    folder = tmp_path / "course"
    new_course(folder, name="Preview")
    problem = folder / "problems" / "01-sigmoid-neuron.yaml"
    good = problem.read_text()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "tracer", "serve", "-a", f"127.0.0.1:{port}"],
                            cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/problems/01-sigmoid-neuron/answers.html"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            deadline = time.monotonic() + 300
            while True:
                try:
                    if page.goto(url).ok:
                        break
                except sync_api.Error:
                    pass
                assert time.monotonic() < deadline and proc.poll() is None, \
                    (tmp_path / "serve.log").read_text()
                time.sleep(1)
            page.wait_for_selector("text=Answer key: A sigmoid neuron")
            # Saved broken: the open page reloads by itself and shows file, line, message.
            problem.write_text(BROKEN)
            page.wait_for_selector("text=01-sigmoid-neuron.yaml does not build",
                                   timeout=180_000)
            body = page.inner_text("article")
            assert "01-sigmoid-neuron.yaml:5:" in body and "write 2*z" in body
            # Fixed: it reloads again and shows the problem.
            problem.write_text(good)
            page.wait_for_selector("text=Answer key: A sigmoid neuron", timeout=180_000)
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
