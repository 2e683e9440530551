"""train: several steps of gradient descent, every step checked against a plain Python loop
and PyTorch's SGD (with momentum, and with clip_grad_value_)."""
from __future__ import annotations

import math
import textwrap

import pytest

from conftest import PROBLEMS, trace_file, trace_text
from tracer.core.engine import trace
from tracer.core.errors import TracerError
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text

NEURON = "15-sigmoid-neuron-trained.yaml"


def _neuron_by_hand(w1, w2, b, steps, rate, x1=-1.0, x2=-2.0, y=1.0):
    """The seed's neuron trained with a loop written from its formulas: z = w x + b,
    a = sigmoid(z), C = (y - a)^2 / 2, dC/dz = (a - y) a (1 - a)."""
    rows = []
    for _ in range(steps + 1):
        z = w1 * x1 + w2 * x2 + b
        a = 1 / (1 + math.exp(-z))
        cost = 0.5 * (y - a) ** 2
        delta = (a - y) * a * (1 - a)
        rows.append(((w1, w2, b), cost, (delta * x1, delta * x2, delta)))
        w1, w2, b = w1 - rate * delta * x1, w2 - rate * delta * x2, b - rate * delta
    return rows


def test_the_neuron_trained_for_20_steps_matches_a_plain_python_loop():
    training = trace_file(NEURON).training
    assert len(training.rows) == 21 and training.params == ("w1", "w2", "b")
    by_hand = _neuron_by_hand(2.0, -3.0, -3.0, 20, 1.0)
    for row, (params, cost, grads) in zip(training.rows, by_hand):
        assert row.params == pytest.approx(params, rel=1e-12, abs=1e-12), row.step
        assert row.loss == pytest.approx(cost, rel=1e-12, abs=1e-12), row.step
        assert row.grads == pytest.approx(grads, rel=1e-12, abs=1e-12), row.step
        assert row.used == row.grads and row.velocity == ()


def test_the_first_step_is_the_seeds():
    """The worked example: one step with learning rate 1 gives w2 = -3.106, b = -2.947 and
    a = 0.79."""
    rows = trace_file(NEURON).training.rows
    w1, w2, b = rows[1].params
    assert (round(w2, 3), round(b, 3)) == (-3.106, -2.947)
    z = -w1 - 2 * w2 + b
    assert round(1 / (1 + math.exp(-z)), 2) == 0.79
    assert rows[0].loss > rows[1].loss > rows[20].loss


def _torch_neuron(steps, rate, momentum=0.0):
    torch = pytest.importorskip("torch")
    w = torch.tensor([2.0, -3.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-3.0, dtype=torch.float64, requires_grad=True)
    x = torch.tensor([-1.0, -2.0], dtype=torch.float64)
    optimiser = torch.optim.SGD([w, b], lr=rate, momentum=momentum)
    rows = []
    for _ in range(steps + 1):
        optimiser.zero_grad()
        cost = 0.5 * (1.0 - torch.sigmoid(w @ x + b)) ** 2
        cost.backward()
        rows.append(((*w.tolist(), b.item()), cost.item(), (*w.grad.tolist(), b.grad.item())))
        optimiser.step()
    return rows


@pytest.mark.slow
def test_the_neuron_trained_for_20_steps_matches_pytorch_sgd():
    training = trace_file(NEURON).training
    for row, (params, cost, grads) in zip(training.rows, _torch_neuron(20, 1.0)):
        assert row.params == pytest.approx(params, rel=1e-12, abs=1e-12), row.step
        assert row.loss == pytest.approx(cost, rel=1e-12, abs=1e-12), row.step
        assert row.grads == pytest.approx(grads, rel=1e-12, abs=1e-12), row.step


@pytest.mark.slow
def test_momentum_matches_pytorch_sgd():
    text = (PROBLEMS / NEURON).read_text(encoding="utf-8").replace(
        "  learning_rate: 1\n", "  learning_rate: 0.5\n  momentum: 0.9\n")
    training = trace(build_graph(load_text(text, "momentum.yaml"))).training
    assert training.momentum == 0.9
    for row, (params, cost, _) in zip(training.rows, _torch_neuron(20, 0.5, 0.9)):
        assert row.params == pytest.approx(params, rel=1e-12, abs=1e-12), row.step
        assert row.loss == pytest.approx(cost, rel=1e-12, abs=1e-12), row.step


@pytest.mark.slow
def test_clipped_training_matches_pytorch_clip_grad_value():
    torch = pytest.importorskip("torch")
    graph = build_graph(load(PROBLEMS / "14-rnn-clipped.yaml"))
    training = trace(graph).training
    given = dict(graph.problem.inputs)
    w = torch.tensor(given["w"], dtype=torch.float64, requires_grad=True)
    u = torch.tensor(given["u"], dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.SGD([w, u], lr=0.1)
    for row in training.rows:
        optimiser.zero_grad()
        h = torch.tensor(given["h0"], dtype=torch.float64)
        for t in range(1, 11):
            h = torch.tanh(w * h + u * given[f"x{t}"])
        loss = 0.5 * (h - given["y"]) ** 2
        loss.backward()
        assert row.loss == pytest.approx(loss.item(), rel=1e-12)
        assert row.grads == pytest.approx((w.grad.item(), u.grad.item()), rel=1e-12)
        torch.nn.utils.clip_grad_value_([w, u], 5.0)
        assert row.used == pytest.approx((w.grad.item(), u.grad.item()), rel=1e-12)
        assert row.params == pytest.approx((w.item(), u.item()), rel=1e-12)
        optimiser.step()
    assert training.rows[0].used == (5.0, -5.0)      # both gradients were clipped


def test_a_dead_relu_gets_no_gradient_after_the_first_step():
    rows = trace_file("10-dying-relu.yaml").training.rows
    assert rows[0].grads != (0.0, 0.0)
    assert all(r.grads == (0.0, 0.0) and r.params == rows[1].params for r in rows[1:])
    assert all(r.loss == 0.5 for r in rows[1:])


def test_a_leaky_relu_recovers():
    rows = trace_file("11-leaky-relu.yaml").training.rows
    z = [w * 2 + b for w, b in (r.params for r in rows)]
    assert z[1] < 0 and all(r.grads != (0.0, 0.0) for r in rows)
    assert next(k for k, v in enumerate(z) if k and v > 0) == 8
    assert rows[-1].loss < 1e-6


def test_training_leaves_update_and_the_traced_first_pass_alone():
    t = trace_file(NEURON)
    assert t.update is None
    first = t.training.rows[0]
    assert first.loss == t.values["C"] and first.grads == tuple(t.gradients[p]
                                                                for p in ("w1", "w2", "b"))


# ----------------------------------------------------------------------------- mistakes

BASE = """
    title: t
    inputs: {w: 1, x: 2}
    nodes:
      y: log(w * x)
"""


def errors(extra: str) -> list[str]:
    with pytest.raises(TracerError) as info:
        trace_text(BASE + textwrap.indent(textwrap.dedent(extra), "    "))
    return [str(d) for d in info.value.diagnostics]


@pytest.mark.parametrize("extra, expected", [
    ("train: {steps: 3, params: [w], rate: 1}", "unknown key 'rate' in train"),
    ("train: {params: [w]}", "train needs 'steps'"),
    ("train: {steps: 3}", "train needs 'params'"),
    ("train: {steps: 0, params: [w]}", "train: steps must be a whole number from 1 to 1000"),
    ("train: {steps: 3, params: [w], learning_rate: -1}", "learning_rate must be greater"),
    ("train: {steps: 3, params: [w], momentum: 1}", "momentum must be at least 0 and below 1"),
    ("train: {steps: 3, params: [w], clip: 0}", "clip must be greater than 0"),
    ("train: {steps: 3, params: []}", "params is empty"),
    ("train: {steps: 3, params: [v]}", "train: 'v' is not an input"),
    ("train: {steps: 3, params: [w]}\nupdate: {params: [w]}", "either 'update'"),
    ("train: {steps: 3, params: [w], learning_rate: 10}",
     "t.yaml:6: train: after 1 step, the node 'y' cannot be computed: log(-18)"),
])
def test_mistakes_in_train_are_reported(extra, expected):
    found = errors(extra)
    assert any(expected in m.replace("inline.yaml", "t.yaml") for m in found), found
