"""Random graphs with shared nodes and reused operands: the backward pass agrees with
central differences, computed independently of the engine by re-running plain Python."""
from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings, strategies as st

from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load_text
from tracer.core.primitives import sigmoid

# Smooth operations only (no kinks, no domain edges) so central differences are reliable.
UNARY = {"sin": math.sin, "cos": math.cos, "tanh": math.tanh, "sigmoid": sigmoid,
         "exp": lambda v: math.exp(max(min(v, 5.0), -5.0))}
BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


@st.composite
def graphs(draw):
    n_inputs = draw(st.integers(1, 3))
    inputs = {f"x{i}": draw(st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3)))
              for i in range(1, n_inputs + 1)}
    names = list(inputs)
    nodes = {}
    for k in range(1, draw(st.integers(1, 7)) + 1):
        if draw(st.booleans()):
            op = draw(st.sampled_from(sorted(BINARY)))
            a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))  # may repeat
            nodes[f"u{k}"] = (op, a, b)
        else:
            fn = draw(st.sampled_from(["sin", "cos", "tanh", "sigmoid"]))
            nodes[f"u{k}"] = (fn, draw(st.sampled_from(names)))
        names.append(f"u{k}")
    # the output sums every node and input so that nothing is unreachable
    nodes["out"] = ("sum", *names)
    return inputs, nodes


def as_yaml(inputs, nodes):
    lines = ["title: random", "inputs:"] + [f"  {k}: {v}" for k, v in inputs.items()]
    lines.append("nodes:")
    for name, (op, *args) in nodes.items():
        if op in BINARY:
            text = f"{args[0]} {op} {args[1]}"
        elif op == "sum":
            text = " + ".join(args)
        else:
            text = f"{op}({args[0]})"
        lines.append(f"  {name}: {text}")
    return "\n".join(lines) + "\n"


def plain_python(inputs, nodes):
    env = dict(inputs)
    for name, (op, *args) in nodes.items():
        vals = [env[a] for a in args]
        if op in BINARY:
            env[name] = BINARY[op](*vals)
        elif op == "sum":
            env[name] = sum(vals)
        else:
            env[name] = UNARY[op](*vals)
    return env["out"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_gradients_match_central_differences(case):
    inputs, nodes = case
    t = trace(build_graph(load_text(as_yaml(inputs, nodes))), check=False)
    assert t.values["out"] == plain_python(inputs, nodes) or math.isclose(
        t.values["out"], plain_python(inputs, nodes), rel_tol=1e-12, abs_tol=1e-12)
    for name, value in inputs.items():
        h = 1e-6
        up = dict(inputs, **{name: value + h})
        down = dict(inputs, **{name: value - h})
        numeric = (plain_python(up, nodes) - plain_python(down, nodes)) / (2 * h)
        assert math.isclose(t.gradients[name], numeric, rel_tol=1e-5, abs_tol=1e-6), name
    # every gradient is the sum of the contributions it received
    for node in t.nodes:
        received = [s.contribution for s in t.backward if s.node == node.name]
        if node.name != t.output:
            assert math.isclose(node.grad, math.fsum(received), rel_tol=1e-12, abs_tol=1e-12)
