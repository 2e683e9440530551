"""A generated course: many small problem files of the kinds a course has.

Kinds, in turn:

* ``chain`` / ``dag``: one-operation gates (the random graphs of :mod:`graphs`, small);
* ``neuron``: gates of several operations whose local derivatives come from SymPy
  (``z: w1*x1 + w2*x2 + b``, ``a: sigmoid(z)``, ``C: 0.5 * (a - t)**2``), with an update step;
* ``network``: two tanh units and a squared error, several operations per gate;
* ``expression``: one ``expression:`` split into nodes by tracer.

Every problem has 5 to 50 nodes and is traced with tracer, as a build traces it, before it
is written: a random problem can leave an operation's domain, and is then drawn again.  A
draft on which tracer itself fails (an internal error, not a TracerError) is drawn again
too, and counted in :data:`INTERNAL_ERRORS`, so that the course builds and the failure is
still reported.
"""
from __future__ import annotations

import random
from pathlib import Path

import graphs

KINDS = ("chain", "dag", "neuron", "network", "expression")
#: Drafts on which tracer raised something other than TracerError: (index, error, text).
INTERNAL_ERRORS: list[tuple[int, str, str]] = []


def _num(rng: random.Random, low: float = -3, high: float = 3) -> float:
    """A number as a teacher writes it: one or two decimals, never 0."""
    while True:
        v = round(rng.uniform(low, high), rng.choice((0, 1, 1, 2)))
        if v != 0:
            return v


def _yaml_value(v: float) -> str:
    return str(int(v)) if v == int(v) else repr(v)


def _graph_problem(rng: random.Random, kind: str, index: int) -> str:
    n = rng.randint(5, 50)
    g = graphs.make(kind, n if kind == "chain" else max(5, n), graphs.ENGINE_OPS,
                    seed=rng.randrange(1 << 30))
    lines = [f"title: Problem {index}, a {kind} of {g.size} nodes",
             "statement: |", "  Run the forward pass, then compute the gradient of the output",
             "  with respect to every input.", f"tags: [{kind}, generated]", "inputs:"]
    lines += [f"  {name}: {round(value, 2) or 0.5}" for name, value in g.inputs]
    lines.append("nodes:")
    lines += [f"  {name}: {graphs.gate_text(op, args)}" for name, op, args in g.gates]
    lines.append(f"output: {g.output}")
    if rng.random() < 0.3:
        lines.append(f"precision: {rng.choice((3, 5, 6))}")
    return "\n".join(lines) + "\n"


def _neuron_problem(rng: random.Random, index: int) -> str:
    k = rng.randint(1, 4)
    act = rng.choice(("sigmoid", "tanh", "relu"))
    inputs = {f"x{i}": _num(rng) for i in range(1, k + 1)}
    inputs.update({f"w{i}": _num(rng, -1, 1) for i in range(1, k + 1)})
    inputs["b"] = _num(rng, -1, 1)
    inputs["t"] = rng.choice((0, 1))
    z = " + ".join(f"w{i}*x{i}" for i in range(1, k + 1)) + " + b"
    lines = [f"title: Problem {index}, one {act} neuron with {k} input{'s' * (k > 1)}",
             "statement: |", "  One gradient-descent step on the weights and the bias.",
             "tags: [neuron, generated]", "inputs:"]
    lines += [f"  {name}: {_yaml_value(v)}" for name, v in inputs.items()]
    lines += ["nodes:", f"  z: {z}", f"  a: {act}(z)", "  C: 0.5 * (a - t)**2",
              "wrt: [" + ", ".join([f"w{i}" for i in range(1, k + 1)] + ["b"]) + "]",
              "update:", f"  learning_rate: {rng.choice((0.1, 0.5, 1.0))}",
              "  params: [" + ", ".join([f"w{i}" for i in range(1, k + 1)] + ["b"]) + "]"]
    if rng.random() < 0.3:
        lines.append("rounding: 4")
    return "\n".join(lines) + "\n"


def _network_problem(rng: random.Random, index: int) -> str:
    names = ["x1", "x2", "w11", "w12", "w21", "w22", "b1", "b2", "v1", "v2", "c", "t"]
    lines = [f"title: Problem {index}, a network of two tanh units", "tags: [network, generated]",
             "inputs:"]
    lines += [f"  {n}: {_yaml_value(_num(rng, -1.5, 1.5))}" for n in names]
    lines += ["nodes:", "  h1: tanh(w11*x1 + w12*x2 + b1)", "  h2: tanh(w21*x1 + w22*x2 + b2)",
              "  y: v1*h1 + v2*h2 + c", "  C: (y - t)**2"]
    return "\n".join(lines) + "\n"


def _expression(rng: random.Random, names: list[str], ops_left: int) -> str:
    if ops_left <= 0 or rng.random() < 0.15:
        return rng.choice(names) if rng.random() < 0.85 else _yaml_value(_num(rng, 1, 4))
    if rng.random() < 0.25:
        fn = rng.choice(("sin", "cos", "exp", "tanh", "sigmoid"))
        inner = _expression(rng, names, ops_left - 1)
        return f"{fn}({inner})"
    op = rng.choice(("+", "-", "*", "*", "/"))
    left_ops = rng.randint(0, ops_left - 1)
    left = _expression(rng, names, left_ops)
    right = _expression(rng, names, ops_left - 1 - left_ops)
    return f"({left} {op} {right})"


def _expression_problem(rng: random.Random, index: int) -> str:
    k = rng.randint(2, 5)
    names = [f"x{i}" for i in range(1, k + 1)]
    text = _expression(rng, names, rng.randint(3, 40))
    lines = [f"title: Problem {index}, one expression", "tags: [expression, generated]",
             "inputs:"]
    lines += [f"  {n}: {_yaml_value(_num(rng, -2, 2))}" for n in names]
    lines.append(f"expression: {text}")
    return "\n".join(lines) + "\n"


def problem_text(index: int, seed: int = 0) -> str:
    """The text of problem ``index`` of the course: valid, 5 to 50 nodes."""
    from tracer.core.engine import trace
    from tracer.core.errors import TracerError
    from tracer.core.graph import build_graph
    from tracer.core.load import load_text

    kind = KINDS[index % len(KINDS)]
    rng = random.Random(seed * 1_000_003 + index)
    for _ in range(100):
        if kind in ("chain", "dag"):
            text = _graph_problem(rng, kind, index)
        elif kind == "neuron":
            text = _neuron_problem(rng, index)
        elif kind == "network":
            text = _network_problem(rng, index)
        else:
            text = _expression_problem(rng, index)
        try:
            graph = build_graph(load_text(text, f"p{index}.yaml"))
            if not 5 <= len(graph.nx) <= 50:
                continue
            trace(graph)
        except TracerError:
            continue
        except Exception as exc:  # a bug in tracer: keep it for the report
            INTERNAL_ERRORS.append((index, f"{type(exc).__name__}: {exc}", text))
            continue
        return text
    raise RuntimeError(f"no valid problem drawn for index {index}")


def write_course(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """Write ``count`` problem files into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(1, count + 1):
        path = folder / f"p{i:04d}-{KINDS[i % len(KINDS)]}.yaml"
        path.write_text(problem_text(i, seed), encoding="utf-8")
        paths.append(path)
    return paths
