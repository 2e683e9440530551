"""The built site in a real browser: math typeset, figures loaded, step-through working,
search finding problems, and not one request leaving the machine.

Drives Debian's chromium through Playwright (no browser is downloaded); skipped where
/usr/bin/chromium is absent.  Screenshots of the pages visited are written to the folder
named by TRACER_SCREENSHOTS, or to a temporary folder.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tracer.site.build import build

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="needs Debian's chromium at /usr/bin/chromium"),
              pytest.mark.slow]   # whole builds and the browser
sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
PROBLEM_COUNT = len(list(ROOT.joinpath("problems").glob("*.yaml")))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# Visible text of the page's article without the typeset math, code and scripts: any
# math delimiter left in it is math that was not typeset.
VISIBLE_TEXT = """() => {
  const root = (document.querySelector("article") || document.body).cloneNode(true);
  root.querySelectorAll(".katex, pre, code, script, style").forEach(e => e.remove());
  return root.textContent;
}"""


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "tracer-cache"


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared_cache) -> Path:
    """The project's site, built once into a temporary folder: its instructor edition."""
    work = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "site", work / "site")
    shutil.copytree(ROOT / "problems", work / "problems")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"(?m)^(\s+)cache_dir: .*$", rf"\g<1>cache_dir: {shared_cache}", config)
    (work / "mkdocs.yml").write_text(config, encoding="utf-8")
    build(work / "mkdocs.yml", say=lambda message: None)
    # The instructor edition, which has the answer keys (tests/test_check_browser.py
    # drives the student edition).
    return work / "public-instructor"


@pytest.fixture(scope="module")
def base_url(site):
    """The site served over HTTP on 127.0.0.1 by a thread of this process."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = os.environ.get("TRACER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")


class Visit:
    """A page of a fresh browser context that records what must not happen: requests
    leaving localhost (aborted), failed responses, console errors, uncaught exceptions."""

    def __init__(self, browser, base_url: str, **context_options):
        self.base_url = base_url
        self.context = browser.new_context(**{"viewport": {"width": 1280, "height": 900},
                                              **context_options})
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(
            f"{r.status} {r.url}"))
        self.page.on("requestfailed", lambda r: urlparse(r.url).hostname in LOCAL_HOSTS
                     and self.failed.append(f"failed {r.url}"))

    def _route(self, route):
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open(self, path: str):
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def close(self) -> None:
        self.context.close()
        assert self.outside == [], f"requests left localhost: {self.outside}"
        assert self.failed == [], f"requests failed: {self.failed}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture
def visit(browser, base_url):
    visits: list[Visit] = []

    def _visit(**context_options) -> Visit:
        v = Visit(browser, base_url, **context_options)
        visits.append(v)
        return v

    yield _visit
    for v in visits:
        v.close()


def screenshot(page, path: Path, **options) -> None:
    """A screenshot once KaTeX's fonts have arrived (until then its text is invisible)."""
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.screenshot(path=str(path), **options)


def assert_math_typeset(page, minimum: int = 1) -> None:
    # Formulas far from the view are typeset while the browser is idle: wait for them all.
    page.wait_for_function("n => document.querySelectorAll('.katex').length >= n && "
                           "[...document.querySelectorAll('.arithmatex')]"
                           ".every(e => e.querySelector('.katex'))", arg=minimum)
    assert page.locator(".katex-error").count() == 0
    untypeset = page.evaluate("() => [...document.querySelectorAll('.arithmatex')]"
                              ".filter(e => !e.querySelector('.katex')).map(e => e.textContent)")
    assert untypeset == []
    text = page.evaluate(VISIBLE_TEXT)
    for delimiter in ("$$", "\\(", "\\[", "\\)", "\\]"):
        assert delimiter not in text, f"raw {delimiter!r} left in the page"


def assert_images_loaded(page) -> None:
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    broken = page.evaluate("() => [...document.images].filter(i => !(i.naturalWidth > 0))"
                           ".map(i => i.getAttribute('src'))")
    assert broken == []


# ----------------------------------------------------------------------------- the pages

def test_home_page_lists_the_problems(visit, screenshots):
    v = visit()
    page = v.open("index.html")
    cards = page.locator(".tracer-catalogue > ul > li")
    assert cards.count() == PROBLEM_COUNT
    for i in range(PROBLEM_COUNT):
        card = cards.nth(i)
        assert card.locator('a[href$="/worksheet.html"]').count() >= 1
        assert card.locator('a[href$="/answers.html"]').count() == 1
        assert card.locator('a[href$="/answers.tex"]').count() == 1
    assert_images_loaded(page)
    screenshot(page, screenshots / "home.png", full_page=True)


@pytest.mark.parametrize("path", ["problems/03-two-paths/worksheet.html",
                                  "problems/07-staged-gates/worksheet.html"])
def test_worksheet_math_and_figures(visit, screenshots, path):
    v = visit()
    page = v.open(path)
    assert_math_typeset(page)
    assert_images_loaded(page)
    assert page.locator("article img").count() >= 1
    name = path.split("/")[1] + "-worksheet.png"
    screenshot(page, screenshots / name, full_page=True)


@pytest.mark.parametrize("path", ["problems/07-staged-gates/answers.html",
                                  "problems/03-two-paths/answers.html"])
def test_answer_key_math_figures_and_step_through(visit, screenshots, path):
    v = visit()
    page = v.open(path)
    assert_math_typeset(page)

    box = page.locator(".tracer-steps").first
    count = int(box.get_attribute("data-count"))
    frames = box.locator(".tracer-step")
    assert frames.count() == count > 1
    counter = box.locator(".tracer-step-counter")
    previous, following = box.locator(".tracer-prev"), box.locator(".tracer-next")

    def shown() -> list[str]:
        return [frames.nth(i).get_attribute("data-step") for i in range(count)
                if frames.nth(i).is_visible()]

    assert counter.inner_text() == f"1 / {count}"
    assert shown() == ["1"]
    assert previous.is_disabled()
    screenshot(page, screenshots / (path.split("/")[1] + "-answers.png"), full_page=True)
    # Every frame in turn: the counter and the frame change, and each frame's figure loads.
    for k in range(1, count + 1):
        assert counter.inner_text() == f"{k} / {count}"
        assert shown() == [str(k)]
        image = frames.nth(k - 1).locator("img")
        image.scroll_into_view_if_needed()
        page.wait_for_function("i => i.complete && i.naturalWidth > 0",
                               arg=image.element_handle())
        if k < count:
            following.click()
    assert following.is_disabled()
    previous.click()
    assert counter.inner_text() == f"{count - 1} / {count}"
    assert shown() == [str(count - 1)]
    assert_images_loaded(page)
    box.scroll_into_view_if_needed()
    box.screenshot(path=str(screenshots / (path.split("/")[1] + "-step.png")))


def test_formulas_far_from_the_view_are_typeset_on_the_way_or_before_printing(visit):
    # A browser that is never idle: only the view, scrolling and printing typeset math.
    v = visit()
    v.page.add_init_script("window.requestIdleCallback = () => 0;")
    page = v.open("problems/07-staged-gates/answers.html")
    untypeset = ("() => [...document.querySelectorAll('.arithmatex')]"
                 ".filter(e => !e.querySelector('.katex') && e.offsetParent !== null)"
                 ".map(e => e.getBoundingClientRect().top)")
    waiting = page.evaluate(untypeset)
    assert waiting, "the answer key is long enough to leave formulas for later"
    assert min(waiting) > 900, "every formula near the view is typeset at once"

    last = page.locator(".arithmatex").last
    last.scroll_into_view_if_needed()
    page.wait_for_function("e => e.querySelector('.katex')", arg=last.element_handle())

    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("() => [...document.querySelectorAll('.arithmatex')]"
                         ".every(e => e.querySelector('.katex'))")


FIGURE_SIZE = """i => ({shown: i.getBoundingClientRect().width, natural: i.naturalWidth,
    wide: i.parentNode.classList.contains('tracer-wide'),
    scrolls: i.parentNode.scrollWidth > i.parentNode.clientWidth})"""


def test_a_figure_wider_than_the_column_stays_legible_and_scrolls_sideways(visit, screenshots):
    v = visit(viewport={"width": 420, "height": 800})
    page = v.open("problems/07-staged-gates/answers.html")
    graph = page.locator("article img[src='graph.svg']")
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=graph.element_handle())
    size = graph.evaluate(FIGURE_SIZE)
    assert size["natural"] > 420
    assert size["shown"] >= 0.7 * size["natural"] - 1
    assert size["wide"] and size["scrolls"]
    # The figure's box scrolls; the page itself does not.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    graph.scroll_into_view_if_needed()
    screenshot(page, screenshots / "07-narrow.png")

    # A step's figure is fitted when it is shown, also after stepping.
    box = page.locator(".tracer-steps").first
    box.locator(".tracer-next").click()
    image = box.locator(".tracer-step:not([hidden]) img")
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle())
    size = image.evaluate(FIGURE_SIZE)
    assert size["shown"] >= 0.7 * size["natural"] - 1 and size["scrolls"]
    # Its left edge can be scrolled to (the view is scrolled to the step's edge at first):
    # the figure holds it at its start.
    assert image.evaluate("i => { i.parentNode.scrollLeft = 0; "
                          "return i.getBoundingClientRect().left >= "
                          "i.parentNode.getBoundingClientRect().left - 1; }")


def test_a_figure_that_fits_the_column_keeps_its_own_size(visit):
    v = visit()
    page = v.open("problems/01-chain-rule/answers.html")
    graph = page.locator("article img[src='graph.svg']")
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=graph.element_handle())
    size = graph.evaluate(FIGURE_SIZE)
    assert abs(size["shown"] - size["natural"]) <= 1
    assert not size["wide"] and not size["scrolls"]


def test_without_javascript_every_step_shows(visit):
    v = visit(java_script_enabled=False)
    page = v.open("problems/03-two-paths/answers.html")
    box = page.locator(".tracer-steps").first
    count = int(box.get_attribute("data-count"))
    frames = box.locator(".tracer-step")
    assert all(frames.nth(i).is_visible() for i in range(count))
    assert not box.locator(".tracer-steps-controls").is_visible()


def test_math_and_steps_survive_navigation_between_pages(visit):
    # Material may swap pages without a reload: the next page must be initialised too.
    v = visit()
    page = v.open("problems/03-two-paths/worksheet.html")
    page.locator('a[href="answers.html"]').first.click()
    page.wait_for_url("**/answers.html")
    page.wait_for_load_state("networkidle")
    assert_math_typeset(page)
    box = page.locator(".tracer-steps").first
    assert box.locator(".tracer-step-counter").inner_text().startswith("1 / ")


def test_search_finds_a_problem(visit, screenshots):
    v = visit()
    page = v.open("index.html")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    # Material's search listens to key presses, not to a filled-in value.
    page.locator("input.md-search__input").press_sequentially("staged backpropagation",
                                                             delay=20)
    hit = page.locator('.md-search-result__item a[href*="07-staged-gates"]').first
    hit.wait_for(state="visible", timeout=20000)
    screenshot(page, screenshots / "search.png")
    hit.click()
    page.wait_for_url("**/07-staged-gates/**")
