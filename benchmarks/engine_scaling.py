"""Engine scaling: time and memory of each stage on random DAGs and long chains.

    python benchmarks/engine_scaling.py [--quick] [--sizes 1k,10k,100k,1M] [--shapes dag,chain]

Each (shape, size) runs in a fresh interpreter twice: once for time (best of a few runs;
peak RSS after each stage), once under tracemalloc for the memory of each stage (tracemalloc
slows Python down, so its run is not timed).  Stages:

* problem: the benchmark's own graph generator and a tracer Problem built directly from
  parsed expressions (no YAML; the YAML table times reading files, and whole_process.py
  the whole command on files up to a million nodes);
* graph: ``tracer.core.graph.build_graph``;
* forward: ``tracer.core.engine.forward``;
* trace: ``tracer.core.engine.trace(graph, check=False)``: forward,
  backward and the full step log; backward+log is trace minus forward;
* walk (a control, not tracer): one pass over the same graph in backward order that reads
  a float from a dict and adds it into another for every edge, and records nothing.  Its
  cost per node grows with the size too (here more than tracer's): that growth is what a
  pass over dicts of this size costs in CPython (caches, memory), not extra work per node.

The YAML table times ``tracer.core.load.load_text`` (YAML text -> Problem) where a file is of a
reasonable size.  Nothing here asserts a timing: the figures are printed, with the targets.
"""
from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import tracemalloc
from pathlib import Path

import common
from common import emit, maxrss_mb, run_worker, size_label, table, timed

SCRIPT = Path(__file__).resolve()
MB = 1024 * 1024
TARGET_NODES = 100_000
TARGET_SECONDS = 1.0
TARGET_MB = 500


def _repeat(n: int) -> int:
    return 5 if n <= 10_000 else (2 if n <= 100_000 else 1)


# ----------------------------------------------------------------------------- workers

def walk(graph) -> None:
    """The control: every edge read and added once, in backward order, nothing recorded."""
    grads = dict.fromkeys(graph.forward_order, 0.0)
    for name in graph.backward_order:
        upstream = grads[name]
        for operand in graph.gates[name].operands:
            grads[operand] += upstream


def work_time(shape: str, n: int) -> dict:
    import graphs
    from tracer.core.engine import forward, trace
    from tracer.core.graph import build_graph

    repeat = _repeat(n)
    res: dict = {"shape": shape, "n": n, "recursion_limit": sys.getrecursionlimit()}
    g, w, c = timed(lambda: graphs.make(shape, n))
    problem, w2, c2 = timed(lambda: graphs.to_problem(g))
    res.update(nodes=g.size, edges=g.edges, depth=g.depth, problem=[w + w2, c + c2],
               rss_problem=maxrss_mb())
    gc.collect()
    try:
        graph, w, c = timed(lambda: build_graph(problem), repeat)
    except RecursionError:
        res["error"] = "RecursionError in build_graph"
        return res
    res["graph"] = [w, c]
    res["rss_graph"] = maxrss_mb()
    values, w, c = timed(lambda: forward(graph, dict(problem.inputs)), repeat)
    res["forward"] = [w, c]
    res["rss_forward"] = maxrss_mb()
    del values
    t, w, c = timed(lambda: (common.clear_engine_caches(),
                             trace(graph, check=False))[1], repeat)
    res["trace"] = [w, c]
    res["rss_trace"] = maxrss_mb()
    res["steps"] = len(t.backward)
    res["sums"] = len(t.sums)
    grads = [abs(v) for v in t.gradients.values()]
    res["grad_max"] = max(grads)
    del t
    _, w, c = timed(lambda: walk(graph), repeat)
    res["walk"] = [w, c]
    return res


def work_memory(shape: str, n: int) -> dict:
    import graphs
    from tracer.core.engine import forward, trace
    from tracer.core.graph import build_graph

    tracemalloc.start()

    def stage(fn):
        gc.collect()
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        current, peak = tracemalloc.get_traced_memory()
        return result, [(peak - before) / MB, (current - before) / MB]

    res: dict = {}
    problem, res["problem"] = stage(lambda: graphs.to_problem(graphs.make(shape, n)))
    graph, res["graph"] = stage(lambda: build_graph(problem))
    values, res["forward"] = stage(lambda: forward(graph, dict(problem.inputs)))
    del values
    t, res["trace"] = stage(lambda: trace(graph, check=False))
    return res


def work_yaml(n: int) -> dict:
    import graphs
    from tracer.cli import MAX_FILE_MIB
    from tracer.core.load import load, load_text

    text = graphs.to_yaml(graphs.make("dag", n))
    res: dict = {"n": n, "bytes": len(text.encode())}
    repeat = _repeat(n)
    problem, w, c = timed(lambda: load_text(text, "bench.yaml"), repeat)
    res["load_text"] = [w, c]
    res["nodes"] = len(problem.inputs) + len(problem.nodes)
    limit = MAX_FILE_MIB * 1024 * 1024      # what tracer trace and tracer check read
    if res["bytes"] <= limit:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "bench.yaml")
            path.write_text(text, encoding="utf-8")
            _, w, c = timed(lambda: load(path, max_bytes=limit), repeat)
            res["load"] = [w, c]
    del problem
    gc.collect()
    tracemalloc.start()
    load_text(text, "bench.yaml")
    res["peak_mb"] = tracemalloc.get_traced_memory()[1] / MB
    return res


# ----------------------------------------------------------------------------- tables

CPU = 1  # [wall, cpu]: the tables show CPU seconds, which the neighbours inflate less


def _s(pair):
    return None if pair is None else pair[CPU]


def _us(pair, n):
    return None if pair is None else pair[CPU] / n * 1e6


def run(sizes: list[int], shapes: list[str], yaml_sizes: list[int], memory: bool = True,
        memory_max: int = 100_000) -> list[dict]:
    """Run every worker, print the tables; returns the raw results."""
    print(common.machine_line())
    print("Times are CPU seconds of the process, best of 5 (<= 10k nodes), 2 (100k) or 1 run "
          "(1M); wall times are in the JSON (--json) and, for the target, below. On a quiet "
          "machine the two agree (one thread).\n")
    results = []
    for shape in shapes:
        rows, mem_rows, per_node = [], [], []
        for n in sizes:
            r = run_worker(SCRIPT, ["time", shape, str(n)])
            r.setdefault("shape", shape)
            r.setdefault("n", n)
            if memory and "error" not in r and n <= memory_max:
                m = run_worker(SCRIPT, ["memory", shape, str(n)])
                r["memory"] = m
            results.append(r)
            label = size_label(n)
            if "error" in r and "trace" not in r:
                rows.append([label] + ["-"] * 8 + [r["error"]])
                continue
            nodes = r["nodes"]
            fwd_bwd = r["trace"][CPU]
            rows.append([label, nodes, r["steps"], r["depth"], _s(r["graph"]),
                         _s(r["forward"]), _s(r["trace"]), r["trace"][CPU] - r["forward"][CPU],
                         r["rss_trace"], r.get("error", "")])
            per_node.append([label, _us(r["graph"], nodes), _us(r["forward"], nodes),
                             (r["trace"][CPU] - r["forward"][CPU]) / nodes * 1e6,
                             fwd_bwd / nodes * 1e6, fwd_bwd / r["steps"] * 1e6,
                             _us(r["walk"], nodes)])
            m = r.get("memory", {})
            if m and "error" not in m:
                mem_rows.append([label, m["problem"][1], m["graph"][0], m["graph"][1],
                                 m["forward"][0], m["trace"][0], m["trace"][1],
                                 m["trace"][1] * MB / nodes / 1024])
            elif m:
                mem_rows.append([label] + ["-"] * 7 + [m["error"]])
        print(table(["size", "nodes", "steps", "depth", "graph s", "forward s",
                     "trace s", "bwd+log s", "peak RSS MB", "note"], rows,
                    f"== {shape}: time per stage (trace = forward + backward + step log) =="))
        print()
        print(table(["size", "graph", "forward", "bwd+log", "trace", "trace/step",
                     "walk (control)"],
                    per_node, f"== {shape}: microseconds per node (flat = linear scaling) =="))
        if len(per_node) > 1:
            first, last = per_node[0], per_node[-1]
            print(f"from {first[0]} to {last[0]} the cost per node of the trace grew "
                  f"{last[4] / first[4]:.1f}x, and of the control walk, which does a fixed "
                  f"amount of work per edge, {last[6] / first[6]:.1f}x")
        print()
        if mem_rows:
            print(table(["size", "problem MB", "graph peak", "graph kept", "forward peak",
                         "trace peak", "trace kept", "trace KiB/node"], mem_rows,
                        f"== {shape}: memory per stage (tracemalloc, MB) =="))
            print()
    if yaml_sizes:
        rows = []
        for n in yaml_sizes:
            r = run_worker(SCRIPT, ["yaml", str(n)])
            results.append({"yaml": r})
            if "error" in r:
                rows.append([size_label(n)] + ["-"] * 6 + [r["error"]])
                continue
            rows.append([size_label(n), r["nodes"], r["bytes"] / 1024, _s(r["load_text"]),
                         _us(r["load_text"], r["nodes"]),
                         _s(r.get("load")) if "load" in r else "refused (> 64 MiB)",
                         r["peak_mb"], ""])
        print(table(["size", "nodes", "YAML KiB", "load_text s", "us/node", "load(path) s",
                     "peak MB", "note"], rows,
                    "== YAML text -> Problem (tracer.core.load), dag problems =="))
        per_node = [r["yaml"]["load_text"][CPU] / r["yaml"]["nodes"] for r in results
                    if "yaml" in r and "load_text" in r["yaml"]]
        guess = (f" (at the last rate, about {per_node[-1] * 1e6:.0f} s)" if per_node else "")
        print("tracer trace and tracer check read problem files of up to 64 MiB (about 2.6M "
              "nodes; a site's build keeps 1 MiB); load_text has no cap. 1M nodes (~24 MB of "
              f"YAML) is not timed here{guess}: whole_process.py times the whole command on "
              "it.\n")
    _verdict(results)
    return results


def _verdict(results: list[dict]) -> None:
    for r in results:
        if r.get("n") == TARGET_NODES and "trace" in r:
            mem = r.get("memory", {})
            peak = mem.get("trace", [None])[0] if "error" not in mem else None
            wall, cpu = r["trace"]
            print(f"target ({r['shape']}, 100k nodes): forward + backward + step log "
                  f"{cpu:.2f} s CPU, {wall:.2f} s wall (target < {TARGET_SECONDS:.0f} s: "
                  f"{'met' if cpu < TARGET_SECONDS else 'NOT met'}); process peak "
                  f"RSS {r['rss_trace']:.0f} MB, trace stage peak "
                  f"{'not measured (--no-memory)' if peak is None else f'{peak:.0f} MB'} "
                  f"(target < {TARGET_MB} MB: "
                  f"{'met' if r['rss_trace'] < TARGET_MB else 'NOT met'})")
    errors = [r for r in results if "error" in r]
    deepest = max((r.get("depth", 0) for r in results if "trace" in r), default=0)
    print(f"recursion: the deepest graph traced was {deepest} levels deep with the default "
          f"recursion limit (1000); " + (f"{len(errors)} run(s) failed: "
                                         + "; ".join(r["error"] for r in errors)
                                         if errors else "no RecursionError anywhere."))


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--worker":
        kind, *rest = argv[1:]
        if kind == "time":
            emit(work_time(rest[0], int(rest[1])))
        elif kind == "memory":
            emit(work_memory(rest[0], int(rest[1])))
        else:
            emit(work_yaml(int(rest[0])))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="sizes 1k and 10k only")
    p.add_argument("--sizes", help="comma-separated sizes, e.g. 1k,10k,100k,1M")
    p.add_argument("--shapes", default="dag,chain")
    p.add_argument("--yaml-sizes", help="sizes for the YAML table (default 1k,10k,100k)")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    p.add_argument("--memory-max", default="100k", help="largest size measured with "
                   "tracemalloc (default 100k: at 1M it needs about 6 GB and half an hour; "
                   "the peak RSS column still covers every size)")
    p.add_argument("--json", help="also write the raw results to this file")
    args = p.parse_args(argv)
    sizes = common.parse_sizes(args.sizes or ("1k,10k" if args.quick else "1k,10k,100k,1M"))
    yaml_sizes = common.parse_sizes(args.yaml_sizes or ("1k" if args.quick else "1k,10k,100k"))
    results = run(sizes, args.shapes.split(","), yaml_sizes, not args.no_memory,
                  common.parse_sizes(args.memory_max)[0])
    if args.json:
        import json

        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
