"""Where the engine's time goes: cProfile per stage, then measured experiments.

    python benchmarks/profile_engine.py [--size 100k] [--shape dag] [--top 12] [--pyinstrument]

Part 1 profiles each stage (YAML load, graph, forward, trace) with cProfile and prints the
functions with the most time of their own.  cProfile roughly doubles the cost of a Python
call, so its totals are not the stage times: part 2 measures without a profiler.

Part 2 times, on the same problem, what a stage does now against a small prototype of a
cheaper way to do the same thing, checks that both give identical results, and prints the
time each would save.  The prototypes live here, not in tracer: they are evidence for a
change, not the change.  Private names of tracer are looked up defensively; an experiment
whose subject no longer exists is reported as skipped.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
from dataclasses import dataclass, make_dataclass
from typing import Any, Callable, Optional

import common
from common import table

MB = 1024 * 1024


def best(fn: Callable[[], Any], repeat: int = 3) -> tuple[Any, float]:
    """(result, best CPU seconds of ``repeat`` runs): CPU time, because wall time on a
    shared machine measures the neighbours too."""
    result, _, cpu = common.timed(fn, repeat)
    return result, cpu


clear_engine_caches = common.clear_engine_caches


# ----------------------------------------------------------------------------- part 1

def _short(key: tuple) -> str:
    path, line, func = key
    if path == "~":
        return func
    for marker in ("/tracer/", "/networkx/", "/yaml/", "/site-packages/", "/lib/python3"):
        if marker in path:
            path = path[path.index(marker) + 1:]
            break
    return f"{path}:{line} {func}"


def profile_stage(label: str, fn: Callable[[], Any], top: int) -> Any:
    """Run ``fn`` under cProfile; print its top functions by own time."""
    prof = cProfile.Profile()
    gc.collect()
    start = time.perf_counter()
    result = prof.runcall(fn)
    total = time.perf_counter() - start
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for key, (cc, nc, tt, ct, _) in sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]:
        rows.append([_short(key), nc, tt, tt / total * 100, ct, tt / nc * 1e6])
    print(table(["function", "calls", "own s", "own %", "cum s", "own us/call"], rows,
                f"-- {label}: {total:.2f} s under cProfile --"))
    print()
    return result


# ----------------------------------------------------------------------------- part 2

def trace_breakdown(problem, graph, trace_s: float) -> None:
    """trace() is forward, local derivatives, backward (steps, sums, gradients), then the
    records: each timed by calling the same engine functions trace() calls, in its order."""
    import tracer.core.engine as engine

    locals_fn, nodes_fn = getattr(engine, "_locals", None), getattr(engine, "_nodes", None)
    if locals_fn is None or nodes_fn is None:
        print("trace breakdown skipped: engine._locals/_nodes not found\n")
        return
    values, f = best(lambda: engine.forward(graph, dict(problem.inputs)))
    locals_, l = best(lambda: (clear_engine_caches(), {
        name: locals_fn(graph, gate, values) for name, gate in graph.gates.items()})[1])
    (steps, _, grads), b = best(lambda: engine.backward(graph, locals_))
    _, r = best(lambda: nodes_fn(graph, values, grads, locals_))
    n = len(graph.forward_order)
    rest = trace_s - f - l - b - r
    rows = [["forward (values)", f],
            ["locals: the value of every edge's local derivative", l],
            ["backward: steps, sums and gradients", b], ["NodeTrace records", r],
            ["the rest: Trace, the collector switched back on", rest]]
    print(table(["part of trace()", "CPU s", "% of trace", "us/node"],
                [[name, t, t / trace_s * 100, t / n * 1e6] for name, t in rows],
                f"-- trace() broken down ({trace_s:.2f} s, {len(steps)} steps) --"))
    print()


@dataclass
class Finding:
    stage: str
    idea: str
    now: Optional[float]
    then: Optional[float]
    same: str
    note: str = ""

    @property
    def gain(self) -> Optional[float]:
        if self.now is None or self.then is None:
            return None
        return self.now - self.then


def exp_forward(problem, graph) -> list[Finding]:
    from tracer.core.engine import forward
    from tracer.core.expr import Const, apply
    from tracer.core.primitives import PRIMITIVES

    def fast():
        values = dict(problem.inputs)
        for name in graph.forward_order:
            gate = graph.gates.get(name)
            if gate is None:
                continue
            call = gate.expr
            values[name] = apply(PRIMITIVES[call.op], tuple(
                a.value if isinstance(a, Const) else values[a.name] for a in call.args))
        return values

    if not all(g.simple for g in graph.gates.values()):
        return [Finding("forward", "simple gates without fold", None, None, "-",
                        "skipped: not all gates simple")]
    v1, now = best(lambda: forward(graph, dict(problem.inputs)))
    v2, then = best(fast)
    return [Finding("forward", "forward() now -> apply(prim, operands) for every "
                    "one-operation gate (no fold)", now, then, "yes" if v1 == v2 else "NO",
                    "tracer already does this" if then >= 0.95 * now else "")]


def exp_records(t) -> list[Finding]:
    """What the trace's records cost against the cheapest containers of the same fields."""
    from tracer.core.engine import BackwardStep

    steps = t.backward
    out = []
    # The records are NamedTuples made with tuple.__new__, as the engine makes them; the
    # prototypes take the same fields, from the records.
    new = tuple.__new__
    fields = [tuple(s) for s in steps]
    Step = make_dataclass("Step", BackwardStep._fields, slots=True)  # not frozen either
    _, now = best(lambda: [new(BackwardStep, f) for f in fields])
    _, then = best(lambda: [Step(*f) for f in fields])
    out.append(Finding("trace", f"BackwardStep x {len(fields)}: NamedTuple -> slots "
                       "dataclass", now, then, "yes"))
    from tracer.core.engine import Local, NodeTrace
    node_fields = [tuple(n) for n in t.nodes]
    local_fields = [tuple(l) for n in t.nodes for l in n.locals]
    for record, rows in ((NodeTrace, node_fields), (Local, local_fields)):
        _, records_now = best(lambda: [new(record, f) for f in rows])
        _, plain = best(lambda: [(*f,) for f in rows])   # tuple(f) would return f itself
        out.append(Finding("trace", f"{record.__name__} x {len(rows)}: NamedTuple -> tuple "
                           "(the lower bound of any record)", records_now, plain, "yes"))
    return out


def exp_gc(problem, graph) -> list[Finding]:
    """The cyclic collector's own time during trace(), read from gc.callbacks."""
    from tracer.core.engine import trace

    spent = {"t": 0.0, "full": 0, "all": 0}
    began = [0.0]

    def callback(phase, info):
        if phase == "start":
            began[0] = time.process_time()
        else:
            spent["t"] += time.process_time() - began[0]
            spent["all"] += 1
            spent["full"] += info["generation"] == 2

    def run():
        clear_engine_caches()
        return trace(graph, check=False)

    def measured(setup=None):
        gc.collect()
        if setup:
            setup()
        spent.update(t=0.0, full=0, all=0)
        gc.callbacks.append(callback)
        try:
            _, total = best(run, 1)
        finally:
            gc.callbacks.remove(callback)
        return total, dict(spent)

    total, normal = measured()
    frozen_total, frozen = measured(gc.freeze)
    gc.unfreeze()
    gc.disable()
    try:
        _, off = best(run, 1)
    finally:
        gc.enable()
    return [Finding("trace", f"cyclic GC during trace: {normal['all']} collections, "
                    f"{normal['full']} of them full, {normal['t']:.2f} s in the collector -> "
                    "gc.disable() around it", total, off, "yes"),
            Finding("trace", f"  or gc.freeze() once the graph is built: {frozen['full']} full "
                    f"collections, {frozen['t']:.2f} s in the collector", total, frozen_total,
                    "yes")]


def exp_yaml(text: str) -> list[Finding]:
    import yaml

    import tracer.core.load as load_mod
    from tracer.core.expr import parse

    loader_cls = yaml.SafeLoader

    def compose(cls):
        loader = cls(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()

    out = []
    _, now = best(lambda: compose(loader_cls), 1)
    if getattr(yaml, "__with_libyaml__", False):
        _, then = best(lambda: compose(yaml.CSafeLoader), 1)
        used = getattr(load_mod, "_FAST_LOADER", None)
        out.append(Finding("load", "YAML composition: pure-Python SafeLoader -> libyaml "
                           "CSafeLoader (anchors then refused by a walk of the node tree)",
                           now, then, "-", "tracer.core.load already uses CSafeLoader"
                           if used is getattr(yaml, "CSafeLoader", object()) else ""))
    node = compose(yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False)
                   else yaml.SafeLoader)
    texts = []
    for key, value in node.value:
        if key.value == "nodes":
            texts = [v.value for _, v in value.value]
    _, parse_all = best(lambda: [parse(t) for t in texts], 1)
    out.append(Finding("load", f"parse() of the {len(texts)} node texts (ast.parse + "
                       "whitelist walk): its share of load, for scale", parse_all, None, "-"))
    return out


# ----------------------------------------------------------------------------- main

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="100k", help="nodes (default 100k)")
    p.add_argument("--shape", default="dag", choices=["dag", "chain"])
    p.add_argument("--top", type=int, default=12, help="functions shown per stage")
    p.add_argument("--pyinstrument", action="store_true",
                   help="also print a pyinstrument call tree of trace")
    args = p.parse_args(argv)
    n = common.parse_sizes(args.size)[0]

    import graphs
    from tracer.core.engine import forward, trace
    from tracer.core.graph import build_graph
    from tracer.core.load import load_text

    print(common.machine_line())
    g = graphs.make(args.shape, n)
    problem = graphs.to_problem(g)
    text = graphs.to_yaml(g)
    print(f"{args.shape}: {g.size} nodes, {g.edges} edges, depth {g.depth}, "
          f"YAML {len(text) / MB:.1f} MB\n")

    print("== part 1: cProfile, top functions by own time ==\n")
    profile_stage("load: load_text (YAML -> Problem)", lambda: load_text(text, "bench.yaml"),
                  args.top)
    graph = profile_stage("graph: build_graph", lambda: build_graph(problem), args.top)
    profile_stage("forward", lambda: forward(graph, dict(problem.inputs)), args.top)
    clear_engine_caches()
    t = profile_stage("trace (check=False)",
                      lambda: trace(graph, check=False), args.top)

    if args.pyinstrument:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("pyinstrument is not installed: pip install pyinstrument\n")
        else:
            clear_engine_caches()
            prof = Profiler(interval=0.001)
            prof.start()
            trace(graph, check=False)
            prof.stop()
            print(prof.output_text(unicode=False, color=False, show_all=False))

    print("== part 2: measured experiments (no profiler; best of 3; prototypes here, "
          "not in tracer) ==\n")
    clear_engine_caches()
    _, trace_s = best(lambda: (clear_engine_caches(),
                               trace(graph, check=False)))
    _, graph_s = best(lambda: build_graph(problem))
    _, forward_s = best(lambda: forward(graph, dict(problem.inputs)))
    from tracer.core.load import load_text as lt
    _, load_s = best(lambda: lt(text, "bench.yaml"), 1)
    stage_s = {"load": load_s, "graph": graph_s, "forward": forward_s, "trace": trace_s}
    print(f"stage times without profiler: load {load_s:.2f} s, graph {graph_s:.2f} s, "
          f"forward {forward_s:.2f} s, trace {trace_s:.2f} s (cold caches)\n")

    trace_breakdown(problem, graph, trace_s)
    findings: list[Finding] = []
    for exp in (lambda: exp_forward(problem, graph),
                lambda: exp_records(t),
                lambda: exp_gc(problem, graph),
                lambda: exp_yaml(text)):
        try:
            findings += exp()
        except Exception as exc:  # an experiment broken by an engine change: say which
            findings.append(Finding("?", f"experiment failed: {type(exc).__name__}: {exc}",
                                    None, None, "-"))
    rows = []
    for f in findings:
        share = (f.gain / stage_s[f.stage] * 100
                 if f.gain is not None and f.stage in stage_s else None)
        if f.gain is not None and f.gain <= 0.05 * f.now and not f.note:
            f.note = "no measurable gain at this size"
        rows.append([f.idea, f.stage, f.now, f.then, f.gain, share, f.same])
        if f.note:
            rows.append(["  (" + f.note + ")"] + [""] * 6)
    print(table(["what (now -> prototype)", "stage", "now s", "then s", "saves s",
                 "% of stage", "same"], rows))
    print("\n'% of stage' is the saving over the stage's time without profiler; savings of "
          "one stage overlap only where they touch the same code.")
    bad = [f for f in findings if f.same.startswith("NO")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
