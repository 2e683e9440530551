"""The answer key's step-through in Chromium: every step brings its highlighted edge and
node into the figure's view (scrolled, or zoomed out where the figure is very wide), and
shows its equation in full, on a 1280 px screen and a 420 px phone.

Builds a small course of the RNN (tests/lecture) and a generated 57-node network (7 x 7
gates), without PDFs; skipped where /usr/bin/chromium or Playwright is absent.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import built_course, generated_network as generated_problem, served

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="needs Debian's chromium at /usr/bin/chromium"),
              pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")

from test_site import browser, screenshots  # noqa: E402,F401  (the same browser and folder)

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = {"04-rnn-three-steps": ROOT / "tests" / "lecture" / "04-rnn-three-steps.yaml",
            "05-generated-57": None}


@pytest.fixture(scope="module")
def steps_site(tmp_path_factory) -> Path:
    problems = {name: source.read_text(encoding="utf-8") if source else generated_problem()
                for name, source in PROBLEMS.items()}
    return built_course(tmp_path_factory.mktemp("steps") / "course", problems)


@pytest.fixture(scope="module")
def steps_url(steps_site):
    with served(steps_site) as url:
        yield url


# The shown step: its box (data-box, in the figure's units) on the screen, the visible
# part of its figure's view (intersected with the window), and each equation's widths.
SHOWN = """() => {
  const frame = [...document.querySelectorAll('.tracer-step')].find(f => !f.hidden);
  const image = frame.querySelector('img');
  const view = image.parentNode;
  const box = frame.dataset.box.split(' ').map(Number);
  const size = frame.dataset.size.split(' ').map(Number);
  const r = image.getBoundingClientRect(), c = view.getBoundingClientRect();
  const sx = r.width / size[0], sy = r.height / size[1];
  return {
    step: frame.dataset.step,
    loaded: image.complete && image.naturalWidth > 0,
    isView: view.classList.contains('tracer-step-view'),
    box: {left: r.left + box[0] * sx, top: r.top + box[1] * sy,
          right: r.left + (box[0] + box[2]) * sx, bottom: r.top + (box[1] + box[3]) * sy},
    visible: {left: Math.max(0, c.left + view.clientLeft),
              top: Math.max(0, c.top + view.clientTop),
              right: Math.min(innerWidth, c.left + view.clientLeft + view.clientWidth),
              bottom: Math.min(innerHeight, c.top + view.clientTop + view.clientHeight)},
    equations: [...frame.querySelectorAll('figcaption .katex-display')].map(e => ({
      needed: e.scrollWidth, room: e.clientWidth,
      right: e.getBoundingClientRect().right,
      column: frame.querySelector('figcaption').getBoundingClientRect().right})),
    untypeset: [...frame.querySelectorAll('figcaption .arithmatex')]
      .filter(e => !e.querySelector('.katex')).length,
  };
}"""

NEXT = "() => document.querySelector('.tracer-steps .tracer-next').click()"


def sample(count: int) -> list[int]:
    """Every step of a short step-through; of a long one, at least 10 spread over it,
    the first and the last among them."""
    if count <= 20:
        return list(range(1, count + 1))
    return sorted(set(range(1, count + 1, count // 12)) | {count})


@pytest.mark.parametrize("width", [1280, 420])
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_every_step_shows_its_edge_and_its_whole_equation(browser, steps_url, screenshots,
                                                          name, width):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  reduced_motion="reduce")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{steps_url}problems/{name}/answers.html")
        page.wait_for_load_state("networkidle")
        box = page.locator(".tracer-steps").first
        count = int(box.get_attribute("data-count"))
        steps = sample(count)
        assert steps[0] == 1 and steps[-1] == count and len(steps) >= min(10, count)
        outside, clipped = [], []
        for k in range(1, count + 1):
            if k in steps:
                shown = page.locator(".tracer-step:not([hidden])")
                assert shown.get_attribute("data-step") == str(k)
                image = shown.locator("img")
                page.wait_for_function("i => i.complete && i.naturalWidth > 0",
                                       arg=image.element_handle())
                shown.locator(".tracer-step-view").scroll_into_view_if_needed()
                got = page.evaluate(SHOWN)
                assert got["isView"] and got["loaded"] and got["untypeset"] == 0
                b, v = got["box"], got["visible"]
                if not (b["left"] >= v["left"] - 1 and b["right"] <= v["right"] + 1 and
                        b["top"] >= v["top"] - 1 and b["bottom"] <= v["bottom"] + 1):
                    outside.append((k, b, v))
                if any(e["needed"] > e["room"] + 1 or e["right"] > min(e["column"], width) + 1
                       for e in got["equations"]):
                    clipped.append((k, got["equations"]))
                if k in (1, count):
                    page.screenshot(path=str(screenshots / f"steps-{name}-{width}-{k}.png"))
            if k < count:
                page.evaluate(NEXT)
        assert outside == [], f"steps whose edge is out of view: {outside}"
        assert clipped == [], f"steps whose equation is cut off: {clipped}"
        # The page itself does not scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert errors == []
    finally:
        context.close()


def test_stepping_back_by_keyboard_refocuses_the_step(browser, steps_url):
    context = browser.new_context(viewport={"width": 420, "height": 900},
                                  reduced_motion="reduce")
    try:
        page = context.new_page()
        page.goto(f"{steps_url}problems/04-rnn-three-steps/answers.html")
        page.wait_for_load_state("networkidle")
        steps = page.locator(".tracer-steps").first
        following = steps.locator(".tracer-next")
        following.focus()
        for _ in range(11):
            page.keyboard.press("ArrowRight")
        assert steps.locator(".tracer-step-counter").inner_text() == "12 / 12"
        for _ in range(11):
            page.keyboard.press("ArrowLeft")
        assert steps.locator(".tracer-step-counter").inner_text() == "1 / 12"
        shown = page.locator(".tracer-step:not([hidden])")
        page.wait_for_function("i => i.complete && i.naturalWidth > 0",
                               arg=shown.locator("img").element_handle())
        shown.locator(".tracer-step-view").scroll_into_view_if_needed()
        got = page.evaluate(SHOWN)
        b, v = got["box"], got["visible"]
        assert v["left"] - 1 <= b["left"] and b["right"] <= v["right"] + 1
        assert v["top"] - 1 <= b["top"] and b["bottom"] <= v["bottom"] + 1
    finally:
        context.close()


def test_without_javascript_every_step_and_its_figure_show(browser, steps_url):
    context = browser.new_context(viewport={"width": 420, "height": 900},
                                  java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{steps_url}problems/04-rnn-three-steps/answers.html")
        frames = page.locator(".tracer-step")
        assert frames.count() == 12
        assert all(frames.nth(i).is_visible() for i in range(12))
        assert page.locator(".tracer-step-view").count() == 0
        assert not page.locator(".tracer-steps-controls").is_visible()
        # The figures fit the column, as before.
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    finally:
        context.close()
