"""How long the heaviest answer keys take to show with their math typeset, in headless
Chromium, and how much each page weighs.

Usage: python benchmarks/page_render.py SITE_FOLDER [--pages N]

SITE_FOLDER is a built site (e.g. the ``public/`` of ``tracer build``, or the course that
``build_course.py --keep DIR`` leaves in DIR/public).  The N largest answer keys are opened
over a local HTTP server in a 1280 x 720 window.  Times are from navigation start, as the
page itself records them (a script added before the page's own watches the document):

* first paint: the browser's first contentful paint;
* view typeset: every formula in the window is typeset (what the reader sees);
* all typeset: every formula on the page is (the rest are typeset while the browser is
  idle, or as the reader scrolls to them).

Needs Playwright and Debian's chromium (/usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
import threading
from pathlib import Path

from common import table

CHROMIUM = "/usr/bin/chromium"
# Checked after every change to the document: when the formulas in the window, then all
# formulas, are typeset.
WATCH = """
(() => {
  const typeset = e => e.querySelector('.katex') !== null;
  const inView = e => { const r = e.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight && r.width > 0; };
  const check = () => {
    const all = [...document.querySelectorAll('.arithmatex')];
    if (!all.length) return;
    if (window.__view === undefined && all.filter(inView).every(typeset))
      window.__view = performance.now();
    if (window.__all === undefined && all.every(typeset)) window.__all = performance.now();
  };
  // Only changes that add typeset math are checked: checking while the page is parsed
  // would slow the very loading it measures.
  const addsMath = records => records.some(r => [...r.addedNodes].some(
    n => n.classList && n.classList.contains('katex')));
  new MutationObserver(records => { if (addsMath(records)) check(); })
    .observe(document, {childList: true, subtree: true});
})();
"""
TIMES = """() => { const p = performance.getEntriesByName('first-contentful-paint')[0];
  return [p ? p.startTime : NaN, window.__view, window.__all]; }"""


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def weight(page: Path, site: Path) -> tuple[int, int]:
    """Bytes of the page itself, and of the page with the figures it shows."""
    import re

    html = page.read_text(encoding="utf-8")
    figures = sum((page.parent / src).stat().st_size
                  for src in set(re.findall(r'<img[^>]+src="([^"]+)"', html))
                  if (page.parent / src).is_file())
    return len(html.encode()), len(html.encode()) + figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--pages", type=int, default=3)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: install Debian's chromium to run this benchmark")
        return 0
    from playwright.sync_api import sync_playwright

    pages = sorted(args.site.glob("problems/*/answers.html"), key=lambda p: -p.stat().st_size)
    pages = pages[: args.pages]
    server, base = serve(args.site)
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        for path in pages:
            url = f"{base}/{path.relative_to(args.site).as_posix()}"
            runs = []
            for _ in range(3):
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.add_init_script(WATCH)
                page.goto(url)
                page.wait_for_function("window.__all !== undefined", timeout=60_000)
                runs.append([t / 1000 for t in page.evaluate(TIMES)])
                formulas = page.evaluate("document.querySelectorAll('.katex').length")
                page.close()
            own, with_figures = weight(path, args.site)
            best = [min(run[k] for run in runs) for k in range(3)]
            rows.append([path.parent.name, f"{own / 1024:.0f}", f"{with_figures / 1024:.0f}",
                         str(formulas)] + [f"{t:.3f}" for t in best])
        browser.close()
    server.shutdown()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(table(["answer key", "HTML KiB", "with figures KiB", "formulas", "first paint s",
                 "view typeset s", "all typeset s"], rows,
                "best of 3 runs, seconds from navigation start"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
