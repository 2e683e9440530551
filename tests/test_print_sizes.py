"""No text in a printed PDF is smaller than 7 pt (issue #13): figures are scaled no further
than their smallest font allows, go on a page turned sideways or are cut into parts, or are
left out with a sentence; long formulas are broken over lines, never scaled.

The fast tests check the scale factors the documents are given
(:mod:`tracer.exporters.printfit`); the slow one compiles the PDFs of the lecture problems
and of a generated 57-node one and measures every word with ``pdftotext -bbox``."""
from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import generated_network

from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.exporters.base import Options, get
from tracer.exporters.printfit import (LANDSCAPE, MAX_TILES, MIN_TEXT_PT, OVERLAP_PT,
                                       PORTRAIT, FigureSize, breakable, figure_size,
                                       placement, scale_text, smallest_font)
from tracer.view.solution import solve

LECTURE = Path(__file__).resolve().parent / "lecture"
LECTURE_PROBLEMS = sorted(p.stem for p in LECTURE.glob("*.yaml"))



def solution_of(name: str):
    problem = load_text(generated_network(), "generated.yaml", "generated") \
        if name == "generated" else load(LECTURE / f"{name}.yaml")
    graph = build_graph(problem)
    return solve(graph, trace(graph))


def tex_files(name: str) -> dict[str, str]:
    solution = solution_of(name)
    files: dict = {}
    for exporter in ("latex", "figures", "plots"):
        files.update(get(exporter).files(solution, Options()))
    return {n: c for n, c in files.items() if n.endswith(".tex")}


# ----------------------------------------------------------------------------- fast

def test_script_levels_of_figure_text():
    assert scale_text("$x$") == 0
    assert scale_text("$w_{1}$") == scale_text("$x^{2}$") == scale_text("$x^2$") == 1
    assert scale_text(r"$\mathit{[2]\;{-0.5}}$") == 0
    assert scale_text("$a_{b_{c}}$") == 2
    assert scale_text(r"$\frac{a}{b_{1}}$") == 2


def test_the_smallest_font_of_a_picture():
    tikz = "\n".join([r"\node[tracertext, font=\large, text=a] at (1,2) {$\sigma$};",
                      r"\node[tracertext, font=\normalsize, text=b] at (3,4) {$0.25$};"])
    assert smallest_font(tikz) == 10.95
    tikz += "\n" + r"\node[tracertext, font=\large, text=a] at (1,2) {$x^{2}$};"
    assert smallest_font(tikz) == 8.0


def _sizes():
    for smallest in (7.0, 8.0, 10.95, 12.0):
        for w in (100, 300, 483, 484, 560, 620, 700, 730, 800, 850, 1000, 1300, 1800, 2500):
            for h in (50, 200, 400, 450, 600, 700, 750, 900, 1200, 2000):
                yield FigureSize(float(w), float(h), 0.75, smallest)


def test_no_placement_sets_text_below_the_minimum():
    for size in _sizes():
        p = placement(size)
        if p.mode == "omitted":
            # left out only when it cannot be printed legibly in at most MAX_TILES parts
            assert size.smallest * min(1, PORTRAIT[0] / size.width,
                                       PORTRAIT[1] / size.height) < MIN_TEXT_PT
            continue
        # the factor written into the document is never smaller than the one computed
        assert float(p.scale_s) >= p.scale
        assert p.smallest == pytest.approx(size.smallest * p.scale)
        assert float(p.scale_s) * size.smallest >= MIN_TEXT_PT - 1e-9, (size, p)
        assert p.scale <= 1


def test_a_figure_fits_its_page_or_its_parts_cover_it():
    for size in _sizes():
        p = placement(size)
        if p.mode in ("portrait", "landscape"):
            room = PORTRAIT if p.mode == "portrait" else LANDSCAPE
            assert size.width * p.scale <= room[0] + 0.01
            assert size.height * p.scale <= room[1] + 0.01
            if p.mode == "landscape":      # turned only where the page is too small
                assert size.smallest * min(1, PORTRAIT[0] / size.width,
                                           PORTRAIT[1] / size.height) < MIN_TEXT_PT
        elif p.mode == "tiles":
            assert 2 <= len(p.tiles) <= MAX_TILES == 4
            room = LANDSCAPE if p.turned else PORTRAIT
            boxes = [tuple(float(v) * size.unit for v in re.findall(r"[\d.]+", t.clip))
                     for t in p.tiles]
            for x0, y0, x1, y1 in boxes:
                assert (x1 - x0) * p.scale <= room[0] + 0.05
                assert (y1 - y0) * p.scale <= room[1] + 0.05
            xs = sorted({(b[0], b[2]) for b in boxes})
            ys = sorted({(b[1], b[3]) for b in boxes})
            for edges, length in ((xs, size.width), (ys, size.height)):
                assert edges[0][0] == 0 and edges[-1][1] == pytest.approx(length, abs=0.02)
                for (_, end), (start, _) in zip(edges, edges[1:]):
                    assert end - start >= OVERLAP_PT - 0.02     # neighbours overlap


def test_small_figures_stay_as_they_were():
    p = placement(FigureSize(400, 300, 0.75, 8.0))
    assert (p.mode, p.scale, p.scale_s) == ("portrait", 1.0, "1.0000")
    p = placement(FigureSize(530, 300, 0.75, 8.0))     # shrinks a little, to 7.3 pt
    assert p.mode == "portrait" and p.scale == pytest.approx(483.69 / 530)


def test_long_formulas_can_be_broken_inside_parentheses():
    tex = r"\sigma\left(b_{2} + w_{5} \sigma\left(b_{1} + x\right)\right)"
    assert breakable(tex) == r"\sigma\bigl(b_{2} + w_{5} \sigma\bigl(b_{1} + x\bigr)\bigr)"
    # a pair around something tall keeps its growing delimiters
    tall = r"\left(\frac{a}{b} + \left(c\right)\right)"
    assert breakable(tall) == r"\left(\frac{a}{b} + \bigl(c\bigr)\right)"
    assert breakable(r"\left\{ x \right\} + \left. y \right|") \
        == r"\bigl\{ x \bigr\} + \left. y \right|"
    assert breakable(r"\left( x") == r"\left( x"        # unbalanced: left alone
    # a product may break between its factors, with a times sign at the break
    assert breakable(r"\left(1 - y\right)^{2} \sigma\left(x\right) + \left(z\right) \cdot w") \
        == r"\bigl(1 - y\bigr)^{2}\* \sigma\bigl(x\bigr) + \bigl(z\bigr) \cdot w"


@pytest.mark.parametrize("name", LECTURE_PROBLEMS + ["generated"])
def test_the_documents_scale_figures_no_further_than_7_pt(name):
    files = tex_files(name)
    for figure in ("graph", "values", "gradients"):
        tikz = files[f"{figure}.tikz.tex"]
        size = figure_size(tikz)
        assert size is not None
        plan = placement(size)
        # the scale the printed documents use, written into the figure
        scales = re.findall(r"\\ifdefined\\tracerprinted\\def\\tracerscale\{([\d.]+)\}", tikz)
        assert scales == [plan.scale_s]
        assert float(scales[0]) * size.smallest >= MIN_TEXT_PT - 1e-9 or plan.mode == "omitted"
        assert tikz.count(r"\clip ") == len(plan.tiles)
        for doc in ("worksheet.tex", "answers.tex"):
            text = files[doc]
            if doc == "worksheet.tex" and figure != "graph":
                continue
            shown = re.findall(r"\\print(?:scale|part\{\d+\})\\input\{" + figure, text)
            assert len(shown) == (0 if plan.mode == "omitted" else len(plan.tiles) or 1), \
                (doc, figure)
            if plan.mode == "landscape":
                assert "\\begin{landscape}" in text
    for doc in ("worksheet.tex", "answers.tex"):
        assert r"\resizebox" not in files[doc].split(r"\begin{document}")[1]
    # the generated problem's graph cannot be printed legibly in four parts: a sentence
    if name == "generated":
        assert "The graph is left out here" in files["worksheet.tex"]


# ----------------------------------------------------------------------------- slow

#: pdftotext's box of a word is as high as the font's ascender and descender: 0.88 of the
#: font size in Latin Modern, text and math alike (measured on lines set at 7, 10 and
#: 10.95 pt: boxes 6.16, 8.80 and 9.63 pt high).  A word's font size is its box's height
#: divided by this; 1 % is allowed for the rounding of positions and scale factors.
BOX_PER_PT = 0.88
TOLERANCE = 0.01


def words(pdf: Path) -> list[tuple[int, float, str]]:
    """(page, font size in pt, text) of every word of the PDF."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    turned = _turned_pages(pdf)
    found, page = [], 0
    for line in out.splitlines():
        if "<page " in line:
            page += 1
            continue
        m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                      r'yMax="([\d.]+)">(.*)</word>', line)
        if not m:
            continue
        x0, y0, x1, y1 = map(float, m.groups()[:4])
        thickness = y1 - y0
        # A page turned sideways (pdflscape) keeps its head and foot upright on the sheet:
        # pdftotext reports the page turned, so they run down its left and right edges
        # (the foot at x = 25 to 34 pt, the head from 812 pt, outside the text block's
        # 57 to 785 pt), where a word's font size is its box's width.  The parts of a
        # figure cut into parts that are clipped away are reported too, upright, some in
        # those margins: there a word counts by the larger of the two.
        if page in turned and (x1 < 45.0 or x0 > 800.0):
            thickness = max(thickness, x1 - x0)
        found.append((page, thickness / BOX_PER_PT, html.unescape(m.group(5))))
    return found


def _turned_pages(pdf: Path) -> set[int]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], check=True,
                          capture_output=True, text=True).stdout
    return {int(p) for p, r in re.findall(r"Page\s+(\d+) rot:\s+(\d+)", info) if r != "0"}


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in ("pdflatex", "pdftotext", "pdfinfo")),
                    reason="needs pdflatex, pdftotext and pdfinfo")
@pytest.mark.parametrize("name", LECTURE_PROBLEMS + ["generated"])
def test_no_word_in_the_pdfs_is_below_7_pt(name, tmp_path):
    from tracer.site import pdf

    pdflatex = shutil.which("pdflatex")
    fmt = pdf._format(pdflatex, pdf.shared_preamble(), tmp_path)
    inputs = tex_files(name)
    offenders = []
    for doc in ("worksheet.tex", "answers.tex"):
        path = tmp_path / (doc[:-4] + ".pdf")
        path.write_bytes(pdf.run_pdflatex(pdflatex, doc, inputs, fmt))
        measured = words(path)
        assert len(measured) > 100
        offenders += [(doc, page, round(size, 2), text) for page, size, text in measured
                      if size < MIN_TEXT_PT * (1 - TOLERANCE)]
    assert not offenders, f"{len(offenders)} words below {MIN_TEXT_PT} pt: {offenders[:40]}"
