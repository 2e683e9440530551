"""`tracer build` of small files that ask for a lot of work: how long the whole process takes.

    python benchmarks/hostile_build.py [--quick] [--pdf auto|false] [--keep DIR]

Each shape of tests/hostile.py (a fan-in, a fan-out, a chain of sines, one long expression,
a closed form that doubles per gate) and the generated lecture network of tests/conftest.py
is built twice as a course of its own (``tracer new``, the problem, ``tracer build``), each
time in a fresh process with no cache:

* **at 1 MiB**: the largest problem of that shape a file of 1 MiB holds (the loader's
  limit); such a problem is far past what a worksheet works step by step
  (``tracer.view.solution.MAX_WRITTEN``), so its pages give an overview;
* **at the bound**: the largest problem of that shape still worked step by step, the
  slowest a problem's pages can be.

Target (the reliability issue's): no file of up to 1 MiB keeps ``tracer build`` busy for
more than 30 s on this machine. Wall seconds of the whole process and its peak RSS
(children included: the PDFs and MkDocs' workers) are printed; it asserts nothing.
``--quick`` builds the 1 MiB shapes only.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
from common import ROOT, table

sys.path.insert(0, str(ROOT / "tests"))
from conftest import generated_network  # noqa: E402
from hostile import chain, fan_in, fan_out, long_expression, sine_chain  # noqa: E402

ONE_MIB = 1024 * 1024
TARGET_SECONDS = 30
SHAPES = {"fan-in": fan_in, "fan-out": fan_out, "chain of sines": sine_chain,
          "long expression": long_expression}


def largest(make, fits) -> int:
    """The largest n for which ``fits(make(n))`` (doubling, then halving the gap)."""
    low, high = 1, 2
    while fits(make(high)):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(make(middle)) else (low, middle)
    return low


def written_out(text: str) -> bool:
    from tracer.core.engine import trace
    from tracer.core.graph import build_graph
    from tracer.core.load import load_text
    from tracer.view.solution import measure

    return measure(trace(build_graph(load_text(text)))).written_out


def build(folder: Path, text: str, pdf: str) -> dict:
    """A course of this one problem, built by ``tracer build`` in a fresh process."""
    tracer = [str(Path(sys.executable).with_name("tracer"))]
    subprocess.run(tracer + ["new", str(folder), "--name", "Hostile"], check=True,
                   capture_output=True)
    for old in (folder / "problems").glob("*.yaml"):
        old.unlink()
    (folder / "problems" / "01-problem.yaml").write_text(text, encoding="utf-8")
    config = folder / "mkdocs.yml"
    config.write_text(config.read_text().replace("pdf: auto", f"pdf: {pdf}"))
    started = time.perf_counter()
    proc = subprocess.Popen(tracer + ["build"], cwd=folder, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    error = proc.stderr.read().decode() if proc.stderr else ""
    pages = folder / "public-instructor" / "problems" / "01-problem" / "answers.html"
    overview = pages.exists() and "Too large to work step by step" in pages.read_text()
    return {"wall": wall, "rss_mib": usage.ru_maxrss / 1024, "status": status,
            "overview": overview, "error": error.strip().splitlines()[-1:] if status else []}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 1 MiB shapes only")
    parser.add_argument("--pdf", default="auto", choices=("auto", "false"))
    parser.add_argument("--keep", type=Path, help="keep the courses in this folder")
    args = parser.parse_args()
    print(common.machine_line())
    cases = []
    for name, make in SHAPES.items():
        cases.append((name, "1 MiB", make(largest(make, lambda t: len(t.encode()) <= ONE_MIB))))
    cases.append(("closed form doubling", "30 gates", chain(30)))
    if not args.quick:
        for name, make in SHAPES.items():
            cases.append((name, "at the bound", make(largest(make, written_out))))
        cases.append(("lecture network", "151 nodes", generated_network(10, 14)))
    root = args.keep or Path(tempfile.mkdtemp(prefix="tracer-hostile-"))
    rows, failed = [], False
    try:
        for k, (name, size, text) in enumerate(cases):
            made = build(root / f"course-{k}", text, args.pdf)
            failed |= made["status"] != 0
            rows.append([name, size, f"{len(text.encode()) / 1024:.0f}",
                         "overview" if made["overview"] else "step by step",
                         f"{made['wall']:.1f}", f"{made['rss_mib']:.0f}",
                         "ok" if made["status"] == 0 else " ".join(made["error"])])
            print(f"  {name}, {size}: {made['wall']:.1f} s", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\n`tracer build` of one problem, PDFs {args.pdf}; target: under {TARGET_SECONDS} s")
    print(table(["shape", "size", "file kB", "pages", "wall s", "peak RSS MiB", "build"],
                rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
