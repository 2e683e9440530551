"""Random scalar graphs for the benchmarks, in one neutral form that every engine can build.

A graph is a list of inputs ``(name, value)`` and a list of gates ``(name, op, args)`` in
topological order, ``op`` a name from tracer's table of primitives and each argument a
name or a number.  From it come a tracer :class:`~tracer.core.load.Problem` (built directly, no
YAML), the YAML text of the same problem, and the same computation in micrograd and
PyTorch.

Two shapes:

* ``dag``: wide and layered, like a small network: each layer reads the one before it (and
  now and then two back, or an input), every node is read at least once, many are read
  several times (``a * a`` included), and a tree of sums reduces the last layer to the
  output.  Depth grows slowly (about sqrt(n) / 4 layers).
* ``chain``: one long chain ``u_k = op(u_{k-1}, x_j)``, depth n; the inputs are read over
  and over, so each of them sums about a hundred contributions.

Both are built so that no value and no gradient can overflow at any size: values stay in
[-4, 4] (the output's sum aside), and for the dag the absolute local derivatives an operand
hands to its consumers add up to at most 1.75, which bounds every gradient by 1.75^depth;
for the chain the running product of local derivatives is kept within e^[-30, 30].
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable, Union

Arg = Union[str, float]

#: Operations of the engine benchmark (tracer only).
ENGINE_OPS = ("add", "sub", "mul", "square", "tanh", "sigmoid", "exp")
#: Operations micrograd, PyTorch and tracer all have (micrograd 0.1.0 has no tanh or exp).
COMMON_OPS = ("add", "sub", "mul", "square", "relu", "pow2", "scale")

_BOUND = 4.0          # values of gates stay within [-_BOUND, _BOUND] ...
_LOW = 0.05           # ... and away from 0, where products would vanish
# The absolute local derivatives a name hands to its consumers add up to at most _FIRST_USE
# (+ 0.25 when the fallback sigmoid is needed), which bounds every gradient by 1.75^depth;
# reads as a second operand stop at _SECOND_USE so that the first read nearly always fits.
_FIRST_USE = 1.5
_SECOND_USE = 1.0
_SCALE = 0.5          # the constant of ``u * 0.5``


@dataclass
class Graph:
    """A random graph in neutral form."""

    shape: str
    inputs: list[tuple[str, float]]
    gates: list[tuple[str, str, tuple[Arg, ...]]]
    output: str
    depth: int

    @property
    def size(self) -> int:
        """Inputs plus gates."""
        return len(self.inputs) + len(self.gates)

    @property
    def edges(self) -> int:
        """Operand uses, repeats included: the number of backward steps."""
        return sum(sum(1 for a in args if isinstance(a, str)) for _, _, args in self.gates)


# ----------------------------------------------------------------------------- operations

def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _unary(op: str, a: float) -> tuple[float, float]:
    """(value, local derivative) of a one-operand operation."""
    if op == "tanh":
        v = math.tanh(a)
        return v, 1.0 - v * v
    if op == "sigmoid":
        v = _sigmoid(a)
        return v, v * (1.0 - v)
    if op == "exp":
        v = math.exp(a)
        return v, v
    if op == "relu":
        return (a, 1.0) if a > 0 else (0.0, 0.0)
    if op == "pow2":
        return a * a, 2.0 * a
    if op == "scale":
        return a * _SCALE, _SCALE
    if op == "square":
        return a * a, 2.0 * a
    raise ValueError(op)


def _binary(op: str, a: float, b: float) -> tuple[float, float, float]:
    """(value, local wrt a, local wrt b)."""
    if op == "add":
        return a + b, 1.0, 1.0
    if op == "sub":
        return a - b, 1.0, -1.0
    if op == "mul":
        return a * b, b, a
    raise ValueError(op)


def _gate(name: str, op: str, a: str, b: str = "") -> tuple[str, str, tuple[Arg, ...]]:
    """The neutral gate for ``op``; square is ``a * a``, pow2 ``a ** 2``, scale ``a * 0.5``."""
    if op in ("add", "sub", "mul"):
        return name, op, (a, b)
    if op == "square":
        return name, "mul", (a, a)
    if op == "pow2":
        return name, "pow", (a, 2.0)
    if op == "scale":
        return name, "mul", (a, _SCALE)
    return name, op, (a,)


# ----------------------------------------------------------------------------- shapes

def dag(n: int, ops: tuple[str, ...] = ENGINE_OPS, seed: int = 0) -> Graph:
    """A layered random DAG of about ``n`` nodes (inputs + gates)."""
    rng = random.Random(seed)
    depth = max(4, round(math.sqrt(n) / 4))
    width = max(2, round((n + 1) / (depth + 2)))
    value: dict[str, float] = {}
    spent: dict[str, float] = {}   # sum of |local| handed out by each name so far
    inputs = []
    for i in range(width):
        name = f"x{i + 1}"
        v = rng.uniform(0.2, 1.5) * rng.choice((-1.0, 1.0))
        inputs.append((name, v))
        value[name] = v
        spent[name] = 0.0
    layers = [[name for name, _ in inputs]]
    gates = []
    unary = [o for o in ops if o in ("tanh", "sigmoid", "exp", "relu", "pow2", "scale", "square")]
    binary = [o for o in ops if o in ("add", "sub", "mul")]
    fallback = "sigmoid" if "sigmoid" in ops else "scale"
    count = 0

    def fits(name: str, local: float, cap: float) -> bool:
        return spent[name] + abs(local) <= cap

    for layer in range(1, depth + 1):
        prev = layers[-1]
        older = layers[-2] if len(layers) > 1 else prev
        order = list(range(len(prev)))
        rng.shuffle(order)
        current = []
        for i in range(width):
            count += 1
            name = f"u{count}"
            a = prev[order[i % len(prev)]]
            va = value[a]
            chosen = None
            for _ in range(6):
                if rng.random() < 0.4 and unary:
                    op = rng.choice(unary)
                    if op == "exp" and va > 1.0:
                        continue
                    v, la = _unary(op, va)
                    if op == "relu" and va <= 0:
                        continue
                    if _LOW <= abs(v) <= _BOUND and fits(a, la, _FIRST_USE):
                        chosen = (_gate(name, op, a), v, ((a, la),))
                        break
                else:
                    op = rng.choice(binary)
                    pool = prev if rng.random() < 0.8 else (older if rng.random() < 0.5
                                                           else layers[0])
                    b = pool[rng.randrange(len(pool))]
                    if b == a:
                        continue
                    v, la, lb = _binary(op, va, value[b])
                    if (_LOW <= abs(v) <= _BOUND and fits(a, la, _FIRST_USE)
                            and fits(b, lb, _SECOND_USE)):
                        chosen = (_gate(name, op, a, b), v, ((a, la), (b, lb)))
                        break
            if chosen is None:
                v, la = _unary(fallback, va)
                chosen = (_gate(name, fallback, a), v, ((a, la),))
            gate, v, uses = chosen
            gates.append(gate)
            value[name] = v
            spent[name] = 0.0
            for used, local in uses:
                spent[used] += abs(local)
            current.append(name)
        layers.append(current)

    # A tree of sums from the last layer to the output.
    level = layers[-1]
    while len(level) > 1:
        nxt = []
        for j in range(0, len(level) - 1, 2):
            count += 1
            name = f"u{count}"
            gates.append((name, "add", (level[j], level[j + 1])))
            nxt.append(name)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        depth += 1
    return Graph("dag", inputs, gates, level[0], depth)


def chain(n: int, ops: tuple[str, ...] = ENGINE_OPS, seed: int = 0) -> Graph:
    """A chain of about ``n`` nodes: ``u_k = op(u_{k-1}, x_j)``, depth ``n``."""
    rng = random.Random(seed)
    k = max(2, n // 100)
    inputs = [(f"x{i + 1}", rng.uniform(0.5, 1.5) * rng.choice((-1.0, 1.0))) for i in range(k)]
    value = dict(inputs)
    names = [name for name, _ in inputs]
    gates = [("u1", "add", (names[0], names[1]))]
    v = value[names[0]] + value[names[1]]
    gain = 0.0    # log of the product of the chain's local derivatives so far
    unary = [o for o in ops if o in ("tanh", "sigmoid", "exp", "relu", "pow2", "scale", "square")]
    binary = [o for o in ops if o in ("add", "sub", "mul")]
    for count in range(2, n - k + 1):
        prev, name = f"u{count - 1}", f"u{count}"
        # Every input is read at least once: the first gates take them in turn.
        x = names[count] if count < k else names[rng.randrange(k)]
        chosen = None
        for _ in range(8):
            if rng.random() < 0.4 and unary and count >= k:
                op = rng.choice(unary)
                if (op == "exp" and v > 1.0) or (op == "relu" and v <= 0):
                    continue
                nv, local = _unary(op, v)
                gate = _gate(name, op, prev)
            else:
                op = rng.choice(binary)
                nv, local, _ = _binary(op, v, value[x])
                gate = _gate(name, op, prev, x)
            if _LOW <= abs(nv) <= _BOUND and local != 0 and abs(gain + math.log(abs(local))) <= 30:
                chosen = gate, nv, local
                break
        if chosen is None:  # add or subtract the input so as to move back towards 1
            op = "add" if (v < 0) == (value[x] > 0) else "sub"
            if abs(v) < 0.5:
                op = "sub" if op == "add" else "add"
            nv, local, _ = _binary(op, v, value[x])
            chosen = _gate(name, op, prev, x), nv, local
        gate, v, local = chosen
        gain += math.log(abs(local))
        gates.append(gate)
    return Graph("chain", inputs, gates, gates[-1][0], len(gates))


def make(shape: str, n: int, ops: tuple[str, ...] = ENGINE_OPS, seed: int = 0) -> Graph:
    """``dag`` or ``chain`` of about ``n`` nodes."""
    return {"dag": dag, "chain": chain}[shape](n, ops, seed)


# ----------------------------------------------------------------------------- tracer

def _arg_text(arg: Arg) -> str:
    return arg if isinstance(arg, str) else repr(float(arg))


_INFIX = {"add": "+", "sub": "-", "mul": "*", "pow": "**"}


def gate_text(op: str, args: tuple[Arg, ...]) -> str:
    """The gate as a problem file writes it: ``u1 * x2``, ``tanh(u3)``."""
    if op in _INFIX:
        return f"{_arg_text(args[0])} {_INFIX[op]} {_arg_text(args[1])}"
    return f"{op}({', '.join(_arg_text(a) for a in args)})"


def to_problem(graph: Graph):
    """The tracer Problem of ``graph``, built directly from parsed expressions (no YAML)."""
    from tracer.core.expr import Call, Const, Var
    from tracer.core.load import NodeDef, Problem

    nodes = tuple(
        NodeDef(name, Call(op, tuple(Var(a) if isinstance(a, str) else Const(float(a))
                                     for a in args)), gate_text(op, args), i + 1)
        for i, (name, op, args) in enumerate(graph.gates))
    return Problem(path=f"<{graph.shape} {graph.size}>", id=f"{graph.shape}-{graph.size}",
                   title=f"Random {graph.shape} of {graph.size} nodes",
                   inputs=tuple(graph.inputs), nodes=nodes, output=graph.output)


def to_yaml(graph: Graph) -> str:
    """The problem file of ``graph``."""
    lines = [f"title: Random {graph.shape} of {graph.size} nodes", "inputs:"]
    lines += [f"  {name}: {value!r}" for name, value in graph.inputs]
    lines.append("nodes:")
    lines += [f"  {name}: {gate_text(op, args)}" for name, op, args in graph.gates]
    lines.append(f"output: {graph.output}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- other engines

def _replay(graph: Graph, leaf: Callable, unary: dict[str, Callable], engine: str):
    """The graph's forward pass with another engine's values: ``leaf`` makes an input,
    ``unary`` holds the engine's functions; returns (values by name, output)."""
    env: dict = {name: leaf(v) for name, v in graph.inputs}
    for name, op, args in graph.gates:
        a = env[args[0]]
        if op in ("add", "sub", "mul"):
            b = env[args[1]] if isinstance(args[1], str) else args[1]
            out = a + b if op == "add" else a - b if op == "sub" else a * b
        elif op == "pow":
            out = a ** int(args[1])
        elif op in unary:
            out = unary[op](a)
        else:
            raise ValueError(f"{engine} has no {op}")
        env[name] = out
    return env, env[graph.output]


def run_micrograd(graph: Graph):
    """Forward in micrograd; returns (values by name, output Value)."""
    from micrograd.engine import Value

    return _replay(graph, Value, {"relu": Value.relu}, "micrograd")


def run_torch(graph: Graph):
    """Forward in PyTorch (float64 0-d tensors); returns (tensors by name, output)."""
    import torch

    def leaf(v: float):
        return torch.tensor(v, dtype=torch.float64, requires_grad=True)

    return _replay(graph, leaf, {"relu": torch.relu, "tanh": torch.tanh,
                                 "sigmoid": torch.sigmoid, "exp": torch.exp}, "PyTorch")
