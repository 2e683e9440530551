"""tracer against micrograd and PyTorch: the same random graph, the same gradients.

    python benchmarks/compare.py [--quick] [--sizes 1k,10k,100k] [--shapes dag,chain]

Each (shape, size) runs in one fresh interpreter: the graph is generated once from the
operations all three engines have (micrograd 0.1.0: +, -, *, ** by a number, relu; so the
graphs use add, sub, mul, x * x, x ** 2, x * 0.5 and relu), then

* tracer: ``build_graph`` and ``trace(graph, check=False)`` from a
  Problem built in memory (both stages are counted: the others have no separate check);
* micrograd: ``micrograd.engine.Value`` forward, then ``backward()``; its topological sort
  is recursive, so where the default recursion limit stops it the run says so and is
  repeated with the limit raised (on a thread with a large stack) to get a time;
* PyTorch (if installed): float64 0-d tensors with ``requires_grad``, forward, then
  ``torch.autograd.grad(output, every node)``, the gradient of every node like the others.

The gradient of every input and node is compared with tracer's; the largest relative error
is printed (relative to max(|a|, |b|), floored at 1e-12 of the largest gradient so that
exact cancellations to 0 do not divide by 0).  A disagreement above 1e-9 fails the run:
the script exits 1.  Times are CPU seconds, best of 3 up to 10k nodes, else one run.
"""
from __future__ import annotations

import argparse
import gc
import sys
import threading
from pathlib import Path

import common
from common import emit, run_worker, size_label, table, timed

SCRIPT = Path(__file__).resolve()
TOLERANCE = 1e-9


def rel_error(reference: dict[str, float], other: dict[str, float]) -> float:
    """Largest relative difference over the names of ``reference``."""
    scale = max((abs(v) for v in reference.values()), default=1.0) or 1.0
    floor = 1e-12 * scale
    worst = 0.0
    for name, a in reference.items():
        b = other[name]
        if b != b:  # NaN
            return float("inf")
        worst = max(worst, abs(a - b) / max(abs(a), abs(b), floor))
    return worst


def _cpu(pair):
    return pair[1]


def micrograd_backward(graph_, repeat: int) -> dict:
    """Forward and backward in micrograd, at the default recursion limit and, if that fails,
    with it raised."""
    import graphs

    res: dict = {}
    (env, y), w, c = timed(lambda: graphs.run_micrograd(graph_), repeat)
    res["forward"] = [w, c]
    try:
        _, w, c = timed(y.backward, 1)
        res["backward"] = [w, c]
    except RecursionError:
        res["recursion"] = f"RecursionError at the default limit ({sys.getrecursionlimit()})"
        env, y = graphs.run_micrograd(graph_)
        box: dict = {}

        def work() -> None:
            old = sys.getrecursionlimit()
            sys.setrecursionlimit(3 * graph_.depth + 10_000)
            try:
                _, w, c = timed(y.backward, 1)
                box["t"] = [w, c]
            except BaseException as exc:  # reported, not raised, from the thread
                box["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                sys.setrecursionlimit(old)

        old_stack = threading.stack_size(min(1 << 30, 64 * 1024 * 1024 + 512 * graph_.depth))
        try:
            t = threading.Thread(target=work)
            t.start()
            t.join()
        finally:
            threading.stack_size(old_stack)
        if "error" in box:
            res["error"] = box["error"]
            return res
        res["backward"] = box["t"]
    if repeat > 1 and "recursion" not in res:
        # backward accumulates into .grad: the later runs are timed on fresh graphs
        best = res["backward"]
        for _ in range(repeat - 1):
            env, y = graphs.run_micrograd(graph_)
            _, w, c = timed(y.backward, 1)
            best = [min(best[0], w), min(best[1], c)]
        res["backward"] = best
    res["grads"] = {name: float(v.grad) for name, v in env.items()}
    return res


def torch_backward(graph_, repeat: int) -> dict:
    import graphs
    import torch

    res: dict = {"version": torch.__version__, "threads": torch.get_num_threads()}
    (env, y), w, c = timed(lambda: graphs.run_torch(graph_), repeat)
    res["forward"] = [w, c]
    names = list(env)
    tensors = [env[n] for n in names]
    try:
        grads, w, c = timed(lambda: torch.autograd.grad(y, tensors, retain_graph=True), repeat)
    except RuntimeError as exc:
        res["error"] = f"RuntimeError: {str(exc).splitlines()[0]}"
        return res
    res["backward"] = [w, c]
    res["grads"] = {n: float(g) for n, g in zip(names, grads)}
    del grads, tensors
    _, w, c = timed(lambda: env.clear(), 1)   # freeing a deep autograd graph
    res["free"] = [w, c]
    return res


def work(shape: str, n: int) -> dict:
    import graphs
    from tracer.core.engine import trace
    from tracer.core.graph import build_graph

    repeat = 3 if n <= 10_000 else 1
    g = graphs.make(shape, n, graphs.COMMON_OPS)
    res: dict = {"shape": shape, "n": n, "nodes": g.size, "edges": g.edges, "depth": g.depth}
    problem = graphs.to_problem(g)
    graph, w, c = timed(lambda: build_graph(problem), repeat)
    res["tracer_graph"] = [w, c]
    t, w, c = timed(lambda: (common.clear_engine_caches(),
                             trace(graph, check=False))[1], repeat)
    res["tracer_trace"] = [w, c]
    reference = t.gradients
    del t, graph
    gc.collect()

    try:
        import micrograd  # noqa: F401
    except ImportError:
        res["micrograd"] = {"error": "not installed (pip install micrograd)"}
    else:
        m = micrograd_backward(g, repeat)
        if "grads" in m:
            m["rel_error"] = rel_error(reference, m.pop("grads"))
        res["micrograd"] = m
    gc.collect()
    try:
        import torch  # noqa: F401
    except ImportError:
        res["torch"] = {"error": "not installed"}
    else:
        tt = torch_backward(g, repeat)
        if "grads" in tt:
            tt["rel_error"] = rel_error(reference, tt.pop("grads"))
        res["torch"] = tt
    return res


def micrograd_limit() -> dict:
    """The longest chain ``v = v + x`` whose backward micrograd finishes at the default
    recursion limit (binary search), and the frames already on the stack here."""
    from micrograd.engine import Value

    def works(length: int) -> bool:
        v = Value(1.0)
        for _ in range(length):
            v = v + 1.0
        try:
            v.backward()
            return True
        except RecursionError:
            return False

    lo, hi = 1, 4 * sys.getrecursionlimit()
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if works(mid):
            lo = mid
        else:
            hi = mid - 1
    return {"chain": lo, "limit": sys.getrecursionlimit()}


def run(sizes: list[int], shapes: list[str]) -> int:
    print(common.machine_line())
    print("CPU seconds; tracer = build_graph + trace (forward, backward and the full step "
          "log); 'tracer/x' = tracer's time over the other engine's.\n")
    failures = []
    for shape in shapes:
        rows, errs, notes = [], [], []
        for n in sizes:
            r = run_worker(SCRIPT, ["run", shape, str(n)])
            label = size_label(n)
            if "error" in r:
                rows.append([label] + ["-"] * 9)
                notes.append(f"{label}: {r['error']}")
                failures.append(f"{shape} {label}: {r['error']}")
                continue
            tracer_s = _cpu(r["tracer_graph"]) + _cpu(r["tracer_trace"])
            row = [label, r["nodes"], r["depth"], _cpu(r["tracer_graph"]),
                   _cpu(r["tracer_trace"]), tracer_s]
            err_row = [label]
            for engine in ("micrograd", "torch"):
                e = r[engine]
                if "backward" in e:
                    total = _cpu(e["forward"]) + _cpu(e["backward"])
                    row += [total, tracer_s / total]
                else:
                    row += [None, None]
                if "rel_error" in e:
                    err_row.append(f"{e['rel_error']:.1e}")
                    if not e["rel_error"] <= TOLERANCE:
                        failures.append(f"{shape} {label}: {engine} disagrees with tracer "
                                        f"(relative error {e['rel_error']:.3g})")
                else:
                    err_row.append("-")
                if "recursion" in e:
                    notes.append(f"{label}: micrograd: {e['recursion']}; timed with the limit "
                                 "raised" if "backward" in e else f"{label}: micrograd: "
                                 f"{e['recursion']}")
                if "error" in e:
                    notes.append(f"{label}: {engine}: {e['error']}")
                    if "not installed" not in e["error"]:
                        failures.append(f"{shape} {label}: {engine}: {e['error']}")
            rows.append(row)
            errs.append(err_row)
            m, t = r["micrograd"], r["torch"]
            detail = []
            for engine, e in (("micrograd", m), ("torch", t)):
                if "backward" in e:
                    detail.append(f"{engine} forward {_cpu(e['forward']):.3g} s, backward "
                                  f"{_cpu(e['backward']):.3g} s")
            if "free" in t:
                detail.append(f"torch freeing the graph {_cpu(t['free']):.3g} s")
            if detail:
                notes.append(f"{label}: " + "; ".join(detail))
        print(table(["size", "nodes", "depth", "tracer graph", "tracer trace", "tracer",
                     "micrograd", "tracer/x", "torch", "tracer/x"], rows,
                    f"== {shape}: seconds (same graph, same run) =="))
        print()
        print(table(["size", "micrograd vs tracer", "torch vs tracer"], errs,
                    f"== {shape}: largest relative error of the gradients (every node; "
                    f"fails above {TOLERANCE:g}) =="))
        for note in notes:
            print("  " + note)
        print()
    try:
        import micrograd  # noqa: F401
    except ImportError:
        pass
    else:
        lim = run_worker(SCRIPT, ["limit"])
        if "chain" in lim:
            print(f"micrograd's recursive topological sort: the longest chain whose backward "
                  f"runs at the default recursion limit ({lim['limit']}) is {lim['chain']} "
                  "nodes; tracer and PyTorch have no such limit (every chain above ran at the "
                  "default limit).\n")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("all engines agree on every gradient.")
    return 0


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--worker":
        if argv[1] == "limit":
            emit(micrograd_limit())
        else:
            emit(work(argv[2], int(argv[3])))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="sizes 1k and 10k only")
    p.add_argument("--sizes", help="comma-separated sizes (default 1k,10k,100k; 1M works "
                   "but takes minutes and about 4 GB)")
    p.add_argument("--shapes", default="dag,chain")
    args = p.parse_args(argv)
    sizes = common.parse_sizes(args.sizes or ("1k,10k" if args.quick else "1k,10k,100k"))
    return run(sizes, args.shapes.split(","))


if __name__ == "__main__":
    sys.exit(main())
