"""Every benchmark, one after the other: ``python benchmarks/run.py [--quick]``.

Quick mode is a smoke check (small sizes, a course of 20 problems); the full run takes a
long while (the build of 500 problems with PDFs alone is tens of minutes on two cores).
Nothing is asserted about timings; the exit status is 1 only when something is wrong: an
engine disagrees on a gradient, a worker or a build fails, or a prototype of the profile
gives a different result from tracer.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import build_course
import compare
import documents
import engine_scaling
import page_render
import profile_engine
import whole_process


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke check")
    p.add_argument("--skip", default="",
                   help="comma-separated: whole,scaling,compare,profile,build,pages,documents")
    args = p.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    quick = ["--quick"] if args.quick else []
    status = 0
    # The answer keys are timed in the course just built (or, without it, in a build of the
    # bundled problems, as `tracer build` leaves it in public/).
    course = Path(tempfile.mkdtemp(prefix="tracer-course-")) / "course"
    site = course / "public" if "build" not in skip else Path("public")
    steps = [
        ("whole", "whole processes: start-up, and tracer trace --json beside micrograd and "
         "PyTorch", lambda: whole_process.main(quick + (["--sizes", "1k,10k,100k"]
                                                        if not args.quick else []))),
        ("scaling", "engine scaling (target 1)", lambda: engine_scaling.main(quick)),
        ("compare", "against micrograd and PyTorch (target 2)", lambda: compare.main(quick)),
        ("profile", "where the engine's time goes",
         lambda: profile_engine.main(["--size", "10k"] if args.quick
                                     else ["--size", "100k"])),
        ("build", "building a course (target 3)",
         lambda: build_course.main(quick + ["--keep", str(course)])),
        ("pages", "the largest answer keys in Chromium (target 4)",
         lambda: page_render.main([str(site)])),
        ("documents", "documents at size", lambda: documents.main(quick)),
    ]
    for key, title, step in steps:
        if key in skip:
            continue
        print(f"\n{'#' * 100}\n# {title}\n{'#' * 100}\n", flush=True)
        started = time.perf_counter()
        code = step() or 0
        print(f"\n[{key}: {time.perf_counter() - started:.0f} s, exit {code}]", flush=True)
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main())
