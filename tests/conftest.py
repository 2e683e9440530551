"""Shared helpers: load, trace and solve the bundled problems and small inline ones."""
from __future__ import annotations

import functools
import http.server
import re
import shutil
import textwrap
import threading
from contextlib import contextmanager
from typing import Iterator
from html.parser import HTMLParser
from pathlib import Path

import markdown

import pytest

from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.exporters.base import Options, get
from tracer.view.derive import derive
from tracer.view.solution import solve

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"


def _of_scalars(path: Path) -> bool:
    return build_graph(load(path)).tensor is None


#: The bundled problems of scalars, and those of vectors and matrices (tests/test_tensor_*).
SCALAR_PROBLEMS = sorted(p.name for p in PROBLEMS.glob("*.yaml") if _of_scalars(p))
TENSOR_PROBLEMS = sorted(p.name for p in PROBLEMS.glob("*.yaml") if not _of_scalars(p))
#: The files of the document exporters (the site's pages, print, generated code).
DOCUMENT_NAMES = ("worksheet.md", "answers.md", "worksheet.student.md", "worksheet.tex",
                  "answers.tex", "staged.py",
                  "check_torch.py")


EXTENSIONS = ["pymdownx.arithmatex", "md_in_html", "tables", "attr_list", "admonition",
              "pymdownx.details", "pymdownx.superfences", "pymdownx.highlight", "toc"]


class _Tags(HTMLParser):
    """Every element and attribute of an HTML page, as a browser would see them."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def unsafe(page: str) -> list[str]:
    """What in ``page`` could run script or load something: script-like elements, event
    handler attributes, addresses with a scheme other than http(s) or mailto."""
    found = []
    for tag, attrs in _Tags(page).tags:
        if tag in ("script", "style", "iframe", "object", "embed", "img", "svg", "form",
                   "input", "link", "meta", "base", "b", "i"):
            found.append(tag)
        for key, value in attrs.items():
            if key.startswith("on") or key in ("style", "markdown"):
                found.append(f"{tag} {key}")
            if key in ("href", "src") and value and re.match(r"\s*[a-z][a-z0-9+.-]*:", value,
                                                              re.IGNORECASE) and \
                    not re.match(r"(https?|mailto):", value):
                found.append(f"{tag} {key}={value}")
    return found


def to_html(text: str) -> str:
    md = markdown.Markdown(extensions=EXTENSIONS,
                           extension_configs={"pymdownx.arithmatex": {"generic": True}})
    return md.convert(text)


def trace_file(name: str, **kw):
    """Trace a problem from problems/."""
    return trace(build_graph(load(PROBLEMS / name)), **kw)


def trace_text(text: str, **kw):
    """Trace a problem given inline as YAML."""
    return trace(build_graph(load_text(textwrap.dedent(text), "inline.yaml")), **kw)


def _solve(graph, closed_forms: bool = True, **kw):
    return solve(graph, trace(graph, **kw), derive(graph, closed_forms=closed_forms))


def solve_file(name: str, **kw):
    """The worked solution of a problem from problems/ (``closed_forms``, ``check``)."""
    return _solve(build_graph(load(PROBLEMS / name)), **kw)


def solve_text(text: str, **kw):
    """The worked solution of a problem given inline as YAML."""
    return _solve(build_graph(load_text(textwrap.dedent(text), "inline.yaml")), **kw)


def documents(solution, *, allow_html: bool = False) -> dict:
    """The Markdown pages, the LaTeX documents and the generated code of a solution."""
    options = Options(allow_html=allow_html)
    files = {}
    for name in ("markdown", "latex", "code"):
        files.update(get(name).files(solution, options))
    return files


@pytest.fixture
def write(tmp_path):
    """Write a problem file and return its path."""
    def _write(text, name="problem.yaml", raw=False):
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text if raw else textwrap.dedent(text), encoding="utf-8")
        return path
    return _write


def generated_network(width: int = 7, layers: int = 7) -> str:
    """A lecture-sized network: ``width`` inputs, ``layers`` layers of ``width`` gates each
    mixing two neighbouring units of the layer before (sigmoid and tanh taking turns), and
    their sum L: width * (layers + 1) + 1 nodes (57 by default)."""
    lines = ["title: A generated network", "inputs:"]
    lines += [f"  x{i}: {i / 10}" for i in range(1, width + 1)]
    lines.append("nodes:")
    previous, k = [f"x{i}" for i in range(1, width + 1)], 0
    for _ in range(layers):
        current = []
        for j in range(width):
            k += 1
            a, b = previous[j], previous[(j + 1) % width]
            lines.append(f"  n{k}: {'sigmoid' if k % 2 else 'tanh'}({a} * {b} + 0.5 * {a})")
            current.append(f"n{k}")
        previous = current
    lines.append("  L: " + " + ".join(previous))
    return "\n".join(lines) + "\n"


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """A built site served over HTTP on a free local port, quietly: its base URL."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def built_course(folder: Path, problems: dict) -> Path:
    """A course made by ``tracer new`` in ``folder`` holding exactly ``problems`` (file
    stem -> YAML text), built without PDFs: its instructor edition."""
    from tracer.site.build import build
    from tracer.site.new import new_course

    new_course(folder)
    shutil.rmtree(folder / "problems")
    (folder / "problems").mkdir()
    for name, text in problems.items():
        (folder / "problems" / f"{name}.yaml").write_text(text, encoding="utf-8")
    config = folder / "mkdocs.yml"
    config.write_text(re.sub(r"(?m)^(\s+)pdf: .*$", r"\g<1>pdf: false",
                             config.read_text(encoding="utf-8")), encoding="utf-8")
    build(config, say=lambda m: None)
    return folder / "public-instructor"
