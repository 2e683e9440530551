"""Documents at size: every file of a problem, for long chains, in a fresh process per size.

    python benchmarks/documents.py [--quick] [--sizes 50,1k,2k,4k] [--shapes simple,layers]

Two chains of gates (each gate reads the one before it and a shared weight):

* **simple**: one operation per gate (``u_k = u_{k-1} * w``, ``sigmoid(u_{k-1})``, ...);
* **layers**: gates of several operations, as lecture problems write a layer
  (``u_k = sigmoid(w * u_{k-1} + 0.1)``): their local derivatives come from SymPy.

For each size the worker loads, checks and traces the problem, makes its worked solution
(formulas derived once per graph) and runs every exporter that publishes on the site
(Markdown, LaTeX, figures, code), and prints the CPU seconds of each stage.  The target:
all documents of a 4,000-gate chain in under 10 s, the time per gate flat as the chain
grows.  At 50 gates the figures column is the layout and every figure with its step-through
frames; past 120 nodes it is what the figures exporter does at that size.  Nothing is
asserted.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import common
from common import emit, machine_line, parse_sizes, run_worker, size_label, table

SCRIPT = Path(__file__).resolve()
TARGET_SIZE, TARGET_SECONDS = 4000, 10.0


def chain_yaml(n: int, shape: str) -> str:
    """A chain of ``n`` gates of the given shape, as a problem file."""
    ops = (["{p} * w", "sigmoid({p})", "{p} + w", "tanh({p})"] if shape == "simple"
           else ["sigmoid(w * {p} + 0.1)", "tanh({p} * w - 0.2)"])
    lines = [f"title: A chain of {n} gates", "inputs:", "  x: 0.3", "  w: 0.9", "nodes:"]
    previous = "x"
    for k in range(1, n + 1):
        lines.append(f"  u{k}: " + ops[k % len(ops)].format(p=previous))
        previous = f"u{k}"
    return "\n".join(lines) + "\n"


def work(n: int, shape: str) -> dict:
    """One problem, stage by stage (runs in a fresh interpreter)."""
    sys.setrecursionlimit(10_000)
    from tracer.core.engine import trace
    from tracer.core.graph import build_graph
    from tracer.core.load import load_text
    from tracer.exporters.base import Options, exporters
    from tracer.view.derive import derive
    from tracer.view.solution import solve

    text = chain_yaml(n, shape)
    times: dict[str, float] = {}

    def stage(name, fn):
        started = time.process_time()
        result = fn()
        times[name] = time.process_time() - started
        return result

    graph = stage("graph", lambda: build_graph(load_text(text, "chain.yaml")))
    traced = stage("trace", lambda: trace(graph))
    derivation = stage("derive", lambda: derive(graph))
    # whole: past MAX_WRITTEN the site gives an overview; this measures the documents
    solution = stage("solve", lambda: solve(graph, traced, derivation, whole=True))
    size = 0
    for exporter in exporters():
        if exporter.site:
            files = stage(exporter.name, lambda: exporter.files(solution, Options()))
            size += sum(len(c) for c in files.values())
    times["documents"] = sum(times[k] for k in times if k not in ("graph", "trace"))
    return {"times": times, "bytes": size, "rss": common.maxrss_mb()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="sizes 50, 250 and 500 only")
    p.add_argument("--sizes", default="50,1k,2k,4k")
    p.add_argument("--shapes", default="simple,layers")
    p.add_argument("--worker", nargs=2, metavar=("N", "SHAPE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        emit(work(int(args.worker[0]), args.worker[1]))
        return 0
    sizes = [50, 250, 500] if args.quick else parse_sizes(args.sizes)
    print(machine_line())
    status = 0
    stages = ("graph", "trace", "derive", "solve", "markdown", "latex", "figures", "code")
    for shape in args.shapes.split(","):
        rows = []
        for n in sizes:
            result = run_worker(SCRIPT, [str(n), shape])
            if "error" in result:
                print(f"{shape} {n}: {result['error']}")
                status = 1
                continue
            t = result["times"]
            rows.append([size_label(n)] + [t.get(s) for s in stages] +
                        [t["documents"], t["documents"] / n * 1e3, result["bytes"] / 1e6,
                         result["rss"]])
        print()
        print(table(["gates"] + list(stages) + ["documents s", "ms/gate", "MB out", "RSS MB"],
                    rows, title=f"== {shape} chain: CPU seconds per stage =="))
        done = [r for r, n in zip(rows, sizes) if n == TARGET_SIZE]
        if done:
            verdict = "met" if done[0][-4] < TARGET_SECONDS else "NOT met"
            print(f"target: all documents of a {TARGET_SIZE}-gate chain in under "
                  f"{TARGET_SECONDS:.0f} s: {done[0][-4]:.1f} s, {verdict}")
    return status


if __name__ == "__main__":
    sys.exit(main())
