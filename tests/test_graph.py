"""Graph checks: names, cycles, reachability, the output, and the orders of the passes."""
from __future__ import annotations

import textwrap

import pytest

from tracer.core.errors import TracerError
from tracer.core.graph import build_graph
from tracer.core.load import load_text


def graph(text):
    return build_graph(load_text(textwrap.dedent(text), "g.yaml"))


def errors(text):
    with pytest.raises(TracerError) as info:
        graph(text)
    return [str(d) for d in info.value.diagnostics]


@pytest.mark.parametrize("text, fragment", [
    ("""
     title: t
     inputs: {x: 1}
     nodes:
       a: b + x
       b: a * 2
     """, "the graph has a cycle: a -> b -> a"),
    ("""
     title: t
     inputs: {x1: 1}
     nodes:
       y: x2 * 2
     """, "uses 'x2', which is neither an input nor a node - did you mean 'x1'?"),
    ("""
     title: t
     inputs: {x: 1}
     nodes:
       x: x * 2
     """, "has the name of an input"),
    ("""
     title: t
     inputs: {x: 1}
     nodes:
       y: x * 2
       z: x + 1
     """, "several nodes are used by no other node (y, z)"),
    ("""
     title: t
     inputs: {x: 1}
     nodes:
       y: x * 2
       z: x + 1
     output: y
     """, "the node 'z' does not lead to the output 'y'"),
    ("""
     title: t
     inputs: {x: 1, unused: 2}
     nodes:
       y: x * 2
     """, "the input 'unused' is not used"),
    ("""
     title: t
     inputs: {x: 1}
     nodes:
       y: x * 2
     output: q
     """, "output: there is no node 'q'"),
    ("""
     title: t
     inputs: {x: 1}
     nodes:
       y: x * 2
     output: x
     """, "'x' is an input"),
    ("""
     title: t
     inputs: {x: 1}
     nodes:
       y: x * 2
     wrt: [x, zz]
     """, "wrt: there is no input or node 'zz'"),
    ("""
     title: t
     inputs: {x: 1}
     nodes:
       y: x * 2
     update: {params: [y]}
     """, "update: 'y' is not an input"),
    ("""
     title: t
     inputs: {x: 1}
     nodes:
       c: 2 * 3
       y: x * c
     """, "it is a constant"),
    ("""
     title: t
     inputs: {x: 1}
     expression: 2 + 3
     """, "uses no input"),
])
def test_graph_errors(text, fragment):
    found = errors(text)
    assert any(fragment in e for e in found), found
    assert all(e.startswith("g.yaml") for e in found)


def test_repeated_operands_are_distinct_keyed_edges():
    g = graph("""
        title: t
        inputs: {a: 1}
        nodes:
          b: a + a
    """)
    assert g.nx.number_of_edges("a", "b") == 2
    assert sorted(k for _, _, k in g.nx.edges(keys=True)) == [0, 1]
    assert g.fan_out("a") == 2


def test_backward_order_follows_one_path_before_the_next():
    g = graph("""
        title: t
        inputs: {x1: 1, x2: 1, x3: 1, x4: 1}
        nodes:
          u1: x1 + x2
          u2: x3 * x4
          u3: u1 * u2
          u4: u2 ** 2
          y: u3 * u4
    """)
    assert g.forward_order == ("x1", "x2", "x3", "x4", "u1", "u2", "u3", "u4", "y")
    assert g.backward_order == ("y", "u3", "u1", "u4", "u2")


def test_backward_order_is_networkx_lexicographic_order_of_the_reversed_graph():
    import random

    import networkx as nx

    rng = random.Random(7)
    for _ in range(40):
        n_inputs, n_gates = rng.randint(1, 4), rng.randint(1, 30)
        names = [f"x{i}" for i in range(n_inputs)]
        lines = []
        for k in range(n_gates):
            a, b = rng.choice(names), rng.choice(names)
            lines.append(f"  u{k}: {a} * {b}")
            names.append(f"u{k}")
        used = " + ".join(names)
        if rng.random() < 0.5:  # definitions out of topological order
            rng.shuffle(lines)
        text = ("title: t\ninputs:\n" + "".join(f"  x{i}: 1\n" for i in range(n_inputs))
                + "nodes:\n" + "\n".join(lines) + f"\n  out: {used}\n")
        g = graph(text)
        order = {name: i for i, name in enumerate(list(g.inputs) + list(g.gates))}
        expected = tuple(n for n in nx.lexicographical_topological_sort(
            g.nx.reverse(copy=False), key=order.__getitem__) if n in g.gates)
        assert g.backward_order == expected
        assert g.forward_order == tuple(nx.lexicographical_topological_sort(
            g.nx, key=order.__getitem__))
