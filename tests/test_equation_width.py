"""No display equation wider than its column, in Chromium at 1280 px and on a 420 px
phone: the answer keys and worksheets of the lecture problems (tests/lecture/) and of a
generated network of about 60 nodes, every ``.katex-display`` measured once KaTeX has
typeset the whole page.

The width measured is the typeset formula's (its boxes, from the left of the first to the
right of the last), against the element that holds the display.  Skipped where
/usr/bin/chromium or Playwright is missing.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import built_course, generated_network, served

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="needs Debian's chromium at /usr/bin/chromium"),
              pytest.mark.slow]
sync_api = pytest.importorskip("playwright.sync_api")

from test_site import browser  # noqa: E402,F401  (the same browser)

LECTURE = Path(__file__).resolve().parent / "lecture"
WIDTHS = (1280, 420)



@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    problems = {path.stem: path.read_text(encoding="utf-8") for path in sorted(LECTURE.glob("*.yaml"))}
    problems["07-generated"] = generated_network()
    return built_course(tmp_path_factory.mktemp("equations") / "course", problems)


@pytest.fixture(scope="module")
def base_url(site):
    with served(site) as url:
        yield url


# Every formula typeset: tracer.js typesets the rest of a long page before printing.
TYPESET = """() => { for (const d of document.querySelectorAll('div.arithmatex'))
    if (!d.querySelector('.katex, .katex-error')) return false;
  return true; }"""

MEASURE = """() => {
  const out = [];
  let count = 0;
  for (const d of document.querySelectorAll('.katex-display')) {
    const holder = d.parentElement.getBoundingClientRect().width;
    if (holder === 0) continue;           // a hidden step of the step-through
    count++;
    let left = Infinity, right = -Infinity;
    for (const b of d.querySelectorAll('.katex-html > .base, .katex-html > .tag')) {
      const r = b.getBoundingClientRect();
      left = Math.min(left, r.left); right = Math.max(right, r.right);
    }
    const width = right > left ? right - left : 0;
    if (width > holder + 1)
      out.push(`${Math.round(width)} px in ${Math.round(holder)} px: ` +
               d.textContent.slice(0, 70));
  }
  return [count, out];
}"""


def pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix()
                  for name in ("answers.html", "worksheet.html")
                  for p in (site / "problems").glob(f"*/{name}"))


def test_the_generated_network_has_about_60_nodes():
    text = generated_network()
    assert 55 <= text.count("\n  ") <= 65       # inputs and gates, one a line


def test_no_display_equation_is_wider_than_its_column(browser, base_url, site):
    offenders: list[str] = []
    measured = 0
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        for path in pages(site):
            page.goto(base_url + path)
            page.wait_for_load_state("load")
            page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
            page.wait_for_function(TYPESET, timeout=120_000)
            count, over = page.evaluate(MEASURE)
            measured += count
            offenders += [f"{width} px, {path}: {o}" for o in over]
        context.close()
    assert measured > 200
    assert offenders == [], "\n".join(offenders)
