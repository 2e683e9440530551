"""The PDFs are made faster and show the same: a first run without the figures gives the
same PDF, byte for byte, as two whole runs; starting from the format of the shared
preamble gives the same pages (as images, and as text)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import PROBLEMS
from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load
from tracer.exporters.base import Options, get
from tracer.site import pdf
from tracer.view.solution import solve

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (shutil.which("pdflatex") and shutil.which("pdftoppm")
                                      and shutil.which("pdftotext")),
                                 reason="needs pdflatex, pdftoppm and pdftotext")]
PDFLATEX = shutil.which("pdflatex") or "pdflatex"


def sources(name: str) -> dict[str, str]:
    graph = build_graph(load(PROBLEMS / f"{name}.yaml"))
    solution = solve(graph, trace(graph))
    files = {}
    for exporter in ("latex", "figures", "plots"):
        files.update(get(exporter).files(solution, Options()))
    return {n: c for n, c in files.items() if n.endswith(".tex")}  # type: ignore[misc]


def twice_whole(name: str, inputs: dict[str, str]) -> bytes:
    """The document compiled as it was before: whole, twice (longtable's widths)."""
    env = pdf.os.environ.copy()
    env.update(openin_any="p", openout_any="p", FORCE_SOURCE_DATE="1",
               SOURCE_DATE_EPOCH=str(pdf.SOURCE_DATE_EPOCH))
    with tempfile.TemporaryDirectory() as tmp:
        for n, text in inputs.items():
            Path(tmp, n).write_text(text, encoding="utf-8")
        for _ in range(2):
            subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", name],
                           cwd=tmp, env=env, check=True, capture_output=True)
        return Path(tmp, name[:-4] + ".pdf").read_bytes()


def pages_and_text(data: bytes, folder: Path, tag: str) -> tuple[list[bytes], str]:
    path = folder / f"{tag}.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "72", "-png", str(path), str(folder / tag)], check=True)
    images = [p.read_bytes() for p in sorted(folder.glob(f"{tag}-*.png"))]
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return images, text


@pytest.mark.parametrize("problem", ["03-two-paths", "06-sigmoid-neuron-by-hand"])
def test_a_first_run_without_figures_gives_the_same_pdf(problem):
    inputs = sources(problem)
    for name in ("worksheet.tex", "answers.tex"):
        assert pdf.run_pdflatex(PDFLATEX, name, inputs) == twice_whole(name, inputs), name


@pytest.mark.parametrize("problem", ["03-two-paths", "07-staged-gates"])
def test_the_format_of_the_shared_preamble_shows_the_same_pages(problem, tmp_path):
    inputs = sources(problem)
    preamble = pdf.shared_preamble()
    fmt = pdf._format(PDFLATEX, preamble, tmp_path)
    assert fmt is not None
    for name in ("worksheet.tex", "answers.tex"):
        assert inputs[name].startswith(preamble)
        with_format = pages_and_text(pdf.run_pdflatex(PDFLATEX, name, inputs, fmt), tmp_path,
                                     f"fmt-{name}")
        whole = pages_and_text(pdf.run_pdflatex(PDFLATEX, name, inputs), tmp_path,
                               f"whole-{name}")
        assert with_format[1] == whole[1]
        assert len(with_format[0]) == len(whole[0]) > 0
        assert with_format[0] == whole[0], name


def test_a_document_past_texs_own_bounds_is_left_out_and_the_build_goes_on(tmp_path):
    """A sum of 600 inputs is still worked step by step, but its row in the forward pass
    is wider than the largest length TeX has ("Dimension too large"): that PDF is left out,
    the build says so and publishes the .tex, as for a document past MAX_PDF_TEX_BYTES,
    instead of failing the whole site."""
    from hostile import fan_in
    from tracer.site.build import build
    from tracer.site.new import new_course

    new_course(tmp_path / "course")
    for old in (tmp_path / "course" / "problems").glob("*.yaml"):
        old.unlink()
    (tmp_path / "course" / "problems" / "wide.yaml").write_text(fan_in(600))
    said: list[str] = []
    build(tmp_path / "course" / "mkdocs.yml", say=said.append)
    folder = tmp_path / "course" / "public-instructor" / "problems" / "wide"
    assert (folder / "worksheet.tex").exists() and not (folder / "worksheet.pdf").exists()
    assert any("worksheet.pdf left out: a formula is too long for TeX (Dimension too large"
               in line for line in said), said
