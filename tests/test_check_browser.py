"""Check-your-answer worksheets in Chromium: right and wrong answers typed into the boxes,
the keyboard alone, a 420 px phone, dark mode, no JavaScript, and no answer in the page
source or in any file the page fetched.

The student edition of the bundled problems (one numbered variant, no PDFs) is built once
and served on 127.0.0.1; skipped where /usr/bin/chromium is absent.
"""
from __future__ import annotations

import datetime
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import served

from tracer.core.drawing import make_variant
from tracer.core.graph import build_graph
from tracer.core.load import load
from tracer.exporters.checking import blanks
from tracer.notation.numbers import fmt
from tracer.site.build import Classroom, build
from tracer.view.solution import solve

from test_build import copy_project
from test_site import browser, screenshots  # noqa: F401  (the same browser and folder)

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="needs Debian's chromium at /usr/bin/chromium"),
              pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
SALT = "browser course"


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "tracer-cache"


@pytest.fixture(scope="module")
def student_site(tmp_path_factory, shared_cache) -> Path:
    work = tmp_path_factory.mktemp("check")
    config = copy_project(work, cache=shared_cache, pdf="false")
    build(config, say=lambda m: None, classroom=Classroom(
        variants=1, salt=SALT, today=datetime.date(2026, 12, 1)))
    return work / "public"


@pytest.fixture(scope="module")
def base_url(student_site):
    with served(student_site) as url:
        yield url


def variant_answers(name: str) -> dict[str, float]:
    """Blank id -> answer of the numbered variant 1 of a problem, from its trace."""
    graph = build_graph(load(ROOT / "problems" / f"{name}.yaml"))
    v = make_variant(graph, SALT, "variant-1")
    return {b.id: b.value for b in blanks(solve(graph, v.trace))}


class Page:
    """A page in a fresh context: every request kept on 127.0.0.1, every response body
    kept (to look for answers in), console errors collected."""

    def __init__(self, browser, url: str, **options):
        self.context = browser.new_context(**{"viewport": {"width": 1280, "height": 900},
                                              **options})
        self.page = self.context.new_page()
        self.bodies: dict[str, bytes] = {}
        self.errors: list[str] = []
        self.page.route("**/*", lambda route: route.continue_()
                        if urlparse(route.request.url).hostname == "127.0.0.1"
                        else route.abort())
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("response", self._keep)
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")

    def _keep(self, response):
        try:
            self.bodies[response.url] = response.body()
        except Exception:   # a redirect or an aborted request has no body
            pass

    def box(self, blank: str):
        return self.page.locator(f'[data-blank="{blank}"] input')

    def mark(self, blank: str) -> str:
        return self.page.locator(f'[data-blank="{blank}"]').get_attribute("class")

    def close(self):
        self.context.close()
        assert self.errors == []


@pytest.fixture
def open_page(browser, base_url):
    pages: list[Page] = []

    def _open(path: str, **options) -> Page:
        page = Page(browser, base_url + path, **options)
        pages.append(page)
        return page

    yield _open
    for page in pages:
        page.close()


PAGE = "problems/05-sigmoid-neuron/variant-01/worksheet.html"


def test_right_and_wrong_answers_are_marked_and_counted(open_page, screenshots):
    answers = variant_answers("05-sigmoid-neuron")
    p = open_page(PAGE)
    total = p.page.locator(".tracer-answer").count()
    assert total == len(answers)
    tally = p.page.locator(".tracer-tally")
    assert tally.inner_text() == f"0 of {total} right"
    gate = next(b for b in answers if b.startswith("f-"))
    grad = next(b for b in answers if b.startswith("g-"))
    # The value as the key shows it, a value within 1%, and one just outside it.
    p.box(gate).fill(fmt(answers[gate], 4))
    p.box(gate).press("Enter")
    assert "tracer-right" in p.mark(gate)
    inside = answers[grad] * 1.009
    p.box(grad).fill(repr(inside))
    p.box(grad).press("Enter")
    assert "tracer-right" in p.mark(grad)
    assert tally.inner_text() == f"2 of {total} right"
    outside = answers[grad] * 1.02 + 1e-7
    p.box(grad).fill(repr(outside))
    p.box(grad).press("Enter")
    assert "tracer-wrong" in p.mark(grad)
    assert tally.inner_text() == f"1 of {total} right"
    p.box(grad).fill("what")
    p.box(grad).press("Enter")
    assert "tracer-wrong" in p.mark(grad)
    p.box(grad).scroll_into_view_if_needed()
    p.page.screenshot(path=str(screenshots / "check-05-variant.png"), full_page=True)


def test_fractions_and_e_notation_are_numbers(open_page):
    answers = variant_answers("08-reused-operand")
    p = open_page("problems/08-reused-operand/variant-01/worksheet.html")
    # b = a + a: its local gradients are 1 and 1; s = b * b.
    local = next(b for b, v in answers.items() if b.startswith("l-") and v == 1)
    p.box(local).fill("3/3")
    p.box(local).press("Enter")
    assert "tracer-right" in p.mark(local)
    p.box(local).fill("1e0")
    p.box(local).press("Enter")
    assert "tracer-right" in p.mark(local)
    p.box(local).fill("-3/4")
    p.box(local).press("Enter")
    assert "tracer-wrong" in p.mark(local)


def test_the_keyboard_alone_fills_and_checks_every_box(open_page, screenshots):
    answers = variant_answers("03-two-paths")
    p = open_page("problems/03-two-paths/variant-01/worksheet.html")
    order = [b.get_attribute("data-blank") for b in
             p.page.locator(".tracer-blank").all()]
    assert order == list(answers)
    for _ in range(200):   # Tab from the top of the page to the first box
        p.page.keyboard.press("Tab")
        if p.page.evaluate("document.activeElement.classList.contains('tracer-answer')"):
            break
    for k, blank in enumerate(order):
        focused = p.page.evaluate("document.activeElement.closest('.tracer-blank')"
                                  ".getAttribute('data-blank')")
        assert focused == blank
        p.page.keyboard.type(fmt(answers[blank], 4))
        p.page.keyboard.press("Enter")       # checks, and moves on when right
    assert p.page.locator(".tracer-tally").inner_text() == f"{len(order)} of {len(order)} right"
    p.page.screenshot(path=str(screenshots / "check-03-keyboard.png"), full_page=True)


def test_on_a_420_px_phone_the_boxes_fit_and_work(open_page, screenshots):
    answers = variant_answers("07-staged-gates")
    p = open_page("problems/07-staged-gates/variant-01/worksheet.html",
                  viewport={"width": 420, "height": 860}, is_mobile=True, has_touch=True)
    assert p.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    blank = next(b for b in answers if b.startswith("g-"))
    box = p.box(blank)
    box.scroll_into_view_if_needed()
    width = box.evaluate("e => e.getBoundingClientRect().width")
    assert 60 <= width <= 420
    box.tap()
    p.page.keyboard.type(fmt(answers[blank], 4))
    p.page.keyboard.press("Enter")
    assert "tracer-right" in p.mark(blank)
    assert box.get_attribute("inputmode") == "decimal"
    p.page.screenshot(path=str(screenshots / "check-07-phone.png"))
    p.page.locator(".tracer-blank").first.scroll_into_view_if_needed()
    p.page.screenshot(path=str(screenshots / "check-07-phone-forward.png"))


def test_dark_mode_keeps_the_boxes_readable(open_page, screenshots):
    answers = variant_answers("03-two-paths")
    p = open_page("problems/03-two-paths/variant-01/worksheet.html",
                  color_scheme="dark")
    p.page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
    blank = next(b for b in answers if b.startswith("f-"))
    p.box(blank).fill(fmt(answers[blank], 4))
    p.box(blank).press("Enter")
    colours = p.box(blank).evaluate("""e => [getComputedStyle(e).color,
        getComputedStyle(e).backgroundColor, getComputedStyle(document.body).backgroundColor]""")
    text, background, page = colours
    assert text != background and background == page
    p.box(blank).scroll_into_view_if_needed()
    p.page.screenshot(path=str(screenshots / "check-03-dark.png"))


def test_without_javascript_the_blanks_are_plain_blanks(open_page):
    p = open_page("problems/03-two-paths/variant-01/worksheet.html", java_script_enabled=False)
    assert p.page.locator(".tracer-answer").count() == 0
    assert p.page.locator(".tracer-blank").count() > 10
    assert not p.page.locator(".tracer-check-intro").is_visible()
    assert p.page.locator(".tracer-blank").first.evaluate(
        "e => e.getBoundingClientRect().width") >= 60      # room to write in


@pytest.mark.parametrize("name", ["03-two-paths", "05-sigmoid-neuron", "07-staged-gates"])
def test_no_answer_is_in_the_page_source_or_any_fetched_file(open_page, name):
    answers = variant_answers(name)
    p = open_page(f"problems/{name}/variant-01/worksheet.html")
    gate = next(b for b in answers if b.startswith("g-"))
    p.box(gate).fill("1")
    p.box(gate).press("Enter")          # checking fetches nothing
    texts = set()
    for value in answers.values():
        for text in (fmt(abs(value), 4), repr(abs(value))):
            if len(re.sub(r"e.*$", "", text).replace(".", "").strip("0")) >= 3:
                texts.add(text)
    assert texts
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, texts)) + r")(?![\w])")
    source = p.page.content()
    assert not pattern.search(re.sub(r"<svg\b.*?</svg>", "", source, flags=re.S))
    assert len(p.bodies) > 5
    for url, body in p.bodies.items():
        text = body.decode("utf-8", "replace")
        if url.endswith(".svg"):
            text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", text))
        if url.endswith((".html", "/")):
            text = re.sub(r"<svg\b.*?</svg>", "", text, flags=re.S)
        if url.endswith((".woff2", ".js", ".css")) and "/assets/" in url:
            continue   # the theme's and tracer's own files, the same in every build
        found = pattern.search(text)
        assert found is None, f"{url}: {found.group() if found else ''}"
