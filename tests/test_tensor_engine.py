"""Problems of vectors and matrices: the trace against the seed's numbers, PyTorch float64
(networks written out by hand here, not generated), central differences over random layer
stacks, and the component view traced by the scalar engine."""
from __future__ import annotations

import dataclasses
import json
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from conftest import PROBLEMS, TENSOR_PROBLEMS, trace_file
from tracer.cli import main
from tracer.core.components import component_view
from tracer.core.engine import trace
from tracer.core.errors import TracerError
from tracer.core.expr import parse, variables
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.core.tensor import array, jacobian
from tracer.core.tensor_engine import TensorTrace, forward_tensor
from tracer.core.tensor_rules import UPSTREAM


def graph_of(text: str):
    return build_graph(load_text(textwrap.dedent(text), "inline.yaml"))


def errors_of(text: str) -> list[str]:
    with pytest.raises(TracerError) as info:
        trace(graph_of(text))
    return [str(d) for d in info.value.diagnostics]


# ----------------------------------------------------------------------------- the seed

def test_the_seed_neuron_in_vector_form_gives_the_seed_numbers():
    """z = Wx + b, a = sigma(z) with W = [2, -3], b = -3, x = [-1, -2], y = 1: a = 0.7311,
    dC/dw1 = 0.0529; one step with learning rate 1 gives w1 = 1.947, w2 = -3.106,
    b = -2.947 (the seed's slips corrected as in the README)."""
    t = trace_file("16-neuron-as-a-layer.yaml")
    assert isinstance(t, TensorTrace)
    assert round(float(t.values["a"][0]), 4) == 0.7311
    assert round(float(t.gradients["W"][0, 0]), 4) == 0.0529
    new = {p.name: p.new for p in t.update.params}
    assert np.round(new["W"], 3).tolist() == [[1.947, -3.106]]
    assert round(float(new["b"]), 3) == -2.947


def test_the_seed_neuron_equals_the_scalar_problem_and_its_component_view():
    layer = trace_file("16-neuron-as-a-layer.yaml")
    scalar = trace_file("05-sigmoid-neuron.yaml")        # traced by the scalar engine
    grads = scalar.gradients
    assert layer.gradients["W"][0].tolist() == pytest.approx([grads["w1"], grads["w2"]],
                                                             rel=1e-12)
    assert float(layer.gradients["b"]) == pytest.approx(grads["b"], rel=1e-12)
    view = component_view(build_graph(load(PROBLEMS / "16-neuron-as-a-layer.yaml")))
    components = trace(build_graph(view.problem))
    assert components.gradients["W_1_1"] == pytest.approx(grads["w1"], rel=1e-12)
    assert components.gradients["W_1_2"] == pytest.approx(grads["w2"], rel=1e-12)


# ----------------------------------------------------------------------------- component view

@pytest.mark.parametrize("mode", ["entries", "operations"])
@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_every_entry_of_every_gradient_equals_the_component_view(name, mode):
    problem = dataclasses.replace(load(PROBLEMS / name), components=mode)
    graph = build_graph(problem)
    layer = trace(graph)
    view = component_view(graph)
    scalar = trace(build_graph(view.problem))
    assert not isinstance(scalar, TensorTrace)
    checked = 0
    for tensor_name, entries in view.names.items():
        grad = layer.gradients[tensor_name]
        value = layer.values[tensor_name]
        for index, scalar_name in entries:
            assert scalar.gradients[scalar_name] == pytest.approx(
                float(grad[index]), rel=1e-10, abs=1e-13), (tensor_name, index)
            assert scalar.values[scalar_name] == pytest.approx(float(value[index]), rel=1e-12)
            checked += 1
    assert checked == sum(int(np.prod(s)) for s in layer.shapes.values())


def test_component_view_names_and_gates():
    view = component_view(build_graph(load(PROBLEMS / "17-network-4-2-1.yaml")))
    names = [n for n, _ in view.problem.inputs]
    assert names[:4] == ["x_1", "x_2", "x_3", "x_4"] and "W1_2_4" in names and "t" in names
    gates = {n.name for n in view.problem.nodes}
    assert gates == {"z1_1", "z1_2", "h_1", "h_2", "z2_1", "y_1", "L"}
    assert view.problem.wrt[0] == "W1_1_1" and "x_1" not in view.problem.wrt


def test_no_component_view_when_the_problem_says_none():
    problem = dataclasses.replace(load(PROBLEMS / "17-network-4-2-1.yaml"), components="none")
    assert component_view(build_graph(problem)) is None


# ----------------------------------------------------------------------------- PyTorch

def _torch_gradients(name: str) -> dict:
    """The networks of the issue written out in PyTorch, float64."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    inputs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in load(PROBLEMS / name).inputs}
    v = inputs
    if name == "17-network-4-2-1.yaml":
        y = torch.sigmoid(v["W2"] @ torch.relu(v["W1"] @ v["x"] + v["b1"]) + v["b2"])
        loss = 0.5 * torch.sum((y - v["t"]) ** 2)
    elif name == "18-tanh-network-softmax.yaml":
        h = torch.tanh(v["W1"] @ v["x"] + v["b1"])
        loss = F.cross_entropy((v["W2"] @ h + v["b2"]).unsqueeze(0), torch.tensor([2]))
    elif name == "19-batch-mean-loss.yaml":
        hidden = torch.tanh(v["X"] @ v["W1"].T + v["b1"])
        loss = F.mse_loss(hidden @ v["w2"] + v["b2"], v["t"])
    else:
        a = torch.sigmoid(v["W"] @ v["x"] + v["b"])
        loss = 0.5 * torch.sum((v["y"] - a) ** 2)
    loss.backward()
    return {k: t.grad.numpy() for k, t in inputs.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_every_entry_of_every_gradient_agrees_with_pytorch(name):
    want = _torch_gradients(name)
    t = trace_file(name)
    got = t.gradients
    for key, value in want.items():
        if key in t.constants:     # data (x, targets): the problem asks no gradient of it
            continue
        assert np.asarray(got[key]).shape == value.shape, key
        assert np.max(np.abs(np.asarray(got[key]) - value), initial=0.0) <= 1e-9, key


# ----------------------------------------------------------------------------- random layers

_ACTIVATIONS = ["tanh", "sigmoid", "softplus", "relu", "sin"]


@st.composite
def layer_stacks(draw):
    """A random network: 1 to 3 layers of random widths, on one example (a vector) or a
    batch (rows of a matrix, the bias added to every row), a random activation per layer
    and a random loss; random values."""
    batch = draw(st.one_of(st.none(), st.integers(2, 3)))
    widths = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    values = st.floats(-1.5, 1.5, allow_nan=False).map(lambda f: round(f, 3))
    lines, nodes = [], []
    x_shape = (batch, widths[0]) if batch else (widths[0],)
    lines.append(f"  x: {json.dumps(draw(_array(x_shape, values)))}")
    current = "x"
    for k, (n_in, n_out) in enumerate(zip(widths, widths[1:]), 1):
        lines.append(f"  W{k}: {json.dumps(draw(_array((n_out, n_in), values)))}")
        lines.append(f"  b{k}: {json.dumps(draw(_array((n_out,), values)))}")
        act = draw(st.sampled_from(_ACTIVATIONS))
        product = f"{current} @ transpose(W{k})" if batch else f"W{k} @ {current}"
        nodes.append(f"  z{k}: {product} + b{k}")
        nodes.append(f"  h{k}: {act}(z{k})")
        current = f"h{k}"
    out_shape = (batch, widths[-1]) if batch else (widths[-1],)
    lines.append(f"  t: {json.dumps(draw(_array(out_shape, values)))}")
    losses = ["0.5 * sum(({h} - t) ** 2)", "mse({h}, t)", "mean({h} * t) + sum({h}) ** 2"]
    if not batch and widths[-1] > 1:
        losses += ["cross_entropy({h}, 0) + dot({h}, t)", "-sum(log_softmax({h}) * t)",
                   "sum(outer({h}, t)) + sum(softmax({h}) * t)"]
    nodes.append("  L: " + draw(st.sampled_from(losses)).format(h=current))
    return "title: random\ninputs:\n" + "\n".join(lines) + "\ndata: [x, t]\nnodes:\n" + \
        "\n".join(nodes) + "\n"


def _array(shape, values):
    if len(shape) == 1:
        return st.lists(values, min_size=shape[0], max_size=shape[0])
    return st.lists(st.lists(values, min_size=shape[1], max_size=shape[1]),
                    min_size=shape[0], max_size=shape[0])


def _central(graph, given, name, index, h=1e-6):
    def output(delta):
        moved = np.array(given[name])
        moved[index] += delta
        return float(forward_tensor(graph, dict(given, **{name: array(moved)}))[graph.output])

    return (output(h) - output(-h)) / (2 * h)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(layer_stacks())
def test_random_layer_stacks_agree_with_central_differences_and_their_components(text):
    graph = build_graph(load_text(text, "random.yaml"))
    given_values = {n: array(v) for n, v in graph.problem.inputs}
    values = forward_tensor(graph, given_values)
    for name, gate in graph.gates.items():   # away from relu's kink
        if "relu" in str(gate.expr):
            assume(np.min(np.abs(values[name.replace("h", "z")])) > 1e-3)
    t = trace(graph, check=False)
    for name in graph.inputs:
        if name in graph.constants:     # data: given, never differentiated
            continue
        grad = t.gradients[name]
        for index in np.ndindex(grad.shape):
            estimate = _central(graph, given_values, name, index)
            assert float(grad[index]) == pytest.approx(estimate, rel=1e-5, abs=1e-6), \
                (name, index, text)
    view = component_view(graph)
    scalar = trace(build_graph(view.problem), check=False)
    for name, entries in view.names.items():
        for index, scalar_name in entries:
            assert scalar.gradients[scalar_name] == pytest.approx(
                float(t.gradients[name][index]), rel=1e-9, abs=1e-12), (name, index, text)


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("nodes, message", [
    ("L: sum(W @ x)", "the node 'L': W @ x: W is 2x3, x has 2 entries: the columns of W (3) "
                      "must match the entries of x (2)"),
    ("L: sum(v @ W)", "v @ W: v has 3 entries, W is 2x3: the entries of v (3) must match "
                      "the rows of W (2)"),
    ("L: sum(W @ W)", "the columns of W (3) must match the rows of W (2); did you mean "
                      "transpose(W) @ W?"),
    ("L: sum(W + x)", "W is 2x3, x has 2 entries: '+' works entry by entry and needs equal "
                      "shapes, a scalar, or a vector with one entry per column"),
    ("L: dot(x, v)", "dot() needs vectors of the same length; x has 2 entries, v has 3"),
    ("L: sum(softmax(W))", "softmax() takes a vector of scores; W is 2x3"),
    ("L: cross_entropy(x, 2)", "the class index 2 is out of range: x has 2 entries, so the "
                               "classes are 0 to 1"),
    ("L: cross_entropy(x, s)", "the class index must be a whole number written in the "
                               "expression"),
    ("L: W @ v", "the output 'L' is not a scalar: L has 2 entries"),
    ("L: sum(s @ x)", "s is a scalar: '@' multiplies vectors and matrices"),
])
def test_shape_errors_name_the_node_both_shapes_and_the_fix(nodes, message):
    available = {"x": "[1, 2]", "v": "[1, 2, 3]", "W": "[[1, 2, 3], [4, 5, 6]]", "s": "2"}
    used = {v.name for v in variables(parse(nodes.split(":", 1)[1]))}
    inputs = "".join(f"  {k}: {available[k]}\n" for k in available if k in used)
    found = errors_of(f"title: t\ninputs:\n{inputs}nodes:\n  {nodes}\n")
    assert any(message in m for m in found), found
    line = 3 + len(used) + 1
    assert all(m.startswith(f"inline.yaml:{line}:") for m in found), found


def test_every_shape_error_is_reported_at_once():
    found = errors_of("""
        title: t
        inputs:
          x: [1, 2]
          W: [[1, 2, 3], [4, 5, 6]]
        nodes:
          a: W @ x
          b: x + W
          L: sum(a) + sum(b)
    """)
    assert len(found) == 2 and ":7:" in found[0] and ":8:" in found[1], found


def test_an_entry_outside_a_domain_is_named():
    found = errors_of("""
        title: t
        inputs: {x: [1, -2, 3]}
        nodes:
          L: sum(log(x))
    """)
    assert "the node 'L' cannot be computed at entry 2: log(-2) is the logarithm" in found[0]


def test_transpose_suggested_when_it_would_fit():
    found = errors_of("""
        title: t
        inputs: {X: [[1, 2], [3, 4], [5, 6]], W: [[1, 2], [3, 4], [5, 6]]}
        nodes:
          L: sum(X @ W)
    """)
    assert "did you mean transpose(X) @ W?" in found[0]


# ----------------------------------------------------------------------------- the trace

def test_json_has_nested_lists_under_the_scalar_keys_and_jacobians(capsys):
    assert main(["trace", "--json", str(PROBLEMS / "17-network-4-2-1.yaml")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["values"]["W1"] == [[0.1, -0.2, 0.3, 0.0], [0.2, 0.1, -0.1, 0.4]]
    assert len(data["gradients"]["W1"]) == 2 and len(data["gradients"]["W1"][0]) == 4
    assert data["shapes"]["x"] == [4] and data["shapes"]["L"] == []
    for step in data["backward"]:
        # local is d(from)/d(node): the contribution is the upstream times it
        local = np.array(step["local"])
        upstream = np.array(step["upstream"])
        axes = upstream.ndim
        got = np.tensordot(upstream, local, axes=axes) if axes else upstream * local
        assert np.allclose(got, np.array(step["contribution"]), rtol=1e-12, atol=1e-15)
        assert step["local_tex"]
    step = next(s for s in data["backward"] if s["node"] == "W1")
    assert step["local_tex"] == r"g x^{\top}"


def test_jacobian_of_a_rule():
    graph = build_graph(load(PROBLEMS / "17-network-4-2-1.yaml"))
    t = trace(graph)
    rule = next(r.rule for r in graph.tensor.rules["z1"] if r.operand == "x")
    j = jacobian(rule, t.values, UPSTREAM, (2,), (4,))
    assert j.tolist() == np.array(load(PROBLEMS / "17-network-4-2-1.yaml").inputs[1][1]).tolist()


def test_tracing_again_with_other_inputs_derives_nothing_again():
    graph = build_graph(load(PROBLEMS / "17-network-4-2-1.yaml"))
    rules = graph.tensor.rules
    other = dict(graph.problem.inputs)
    other["x"] = [1.0, 2.0, 3.0, 4.0]
    t = trace(graph, other)
    assert graph.tensor.rules is rules
    assert t.values["z1"].tolist() == pytest.approx([0.6, 1.8])


def test_hand_calculation_rounds_every_entry():
    graph = graph_of("""
        title: t
        inputs: {W: [[0.123, 0.456]], x: [1, 1]}
        nodes:
          z: sigmoid(W @ x)
          L: sum(z)
        rounding: 2
    """)
    t = trace(graph)
    assert t.values["z"].tolist() == [0.64]


def test_tracer_check_accepts_the_bundled_problems(capsys):
    assert main(["check", str(PROBLEMS)]) == 0
    assert "no errors" in capsys.readouterr().out


def test_a_variant_has_its_own_component_view():
    """Traced with other inputs (a variant), the layer view and its component view keep
    agreeing: the component view takes the variant's values."""
    from tracer.view.solution import solve

    graph = build_graph(load(PROBLEMS / "17-network-4-2-1.yaml"))
    other = dict(graph.problem.inputs)
    other["x"] = [1.0, -2.0, 0.5, 3.0]
    other["W1"] = [[0.3, 0.1, -0.2, 0.2], [-0.1, 0.4, 0.2, 0.1]]
    t = solve(graph, trace(graph, other))
    assert t.components.links and all(
        link.scalar_grad == pytest.approx(link.grad, rel=1e-10, abs=1e-13)
        for link in t.components.links)
    assert any(abs(link.grad) > 1e-3 for link in t.components.links if link.name == "W1")
    assert dict(t.components.solution.trace.values)["x_4"] == 3.0
