"""The generated code: staged.py (plain Python) and check_torch.py (PyTorch) run as they are
and print the trace's gradients.

Each file is run in a subprocess, as a student would run it, and its JSON compared with the
trace at a relative tolerance of 1e-9.  PyTorch computes in full precision, so for a
hand-calculation problem (``rounding``) its gradients are compared with the same problem
traced without rounding.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap

import pytest

from conftest import PROBLEMS, SCALAR_PROBLEMS, documents, solve_file, solve_text
from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load, load_text
from tracer.exporters.code import generated_code


def staged_code(solution) -> str:
    return generated_code(solution).staged


def torch_code(solution) -> str:
    return generated_code(solution).torch

# Problems that exercise what the bundled ones do not: every function of the table, kinks,
# helpers in the forward pass, names that clash with the generated code's own.
EXTRA = {
    "functions": """
        title: Every function
        inputs: {x: 0.7, y: 1.3, z: 2.5}
        nodes:
          a: exp(x) * log(z) + sin(y) / cos(x)
          b: tan(x) + tanh(y) - sqrt(z)
          c: sigmoid(a - b) ** 2
          d: abs(x - y) + max(a, z) - min(b, y)
          out: c * d + relu(a - 1) / x + 3 ** x + -c + softplus(b) * softplus(-a)
    """,
    "softplus in a gate of several operations": """
        title: softplus inside a larger gate
        inputs: {x: -0.4, w: 1.5}
        nodes:
          s: softplus(w * x) ** 2 + softplus(x)
    """,
    "multi-operation gates": """
        title: Gates of several operations
        inputs: {w: 0.5, x: -1.5, b: 0.25, t: 1}
        nodes:
          z: w * x + b * w
          a: tanh(z) * sigmoid(w * x) + sqrt(b + x ** 2)
          loss: 0.5 * (t - a) ** 2 + abs(z) + max(w, b) * min(x, t)
    """,
    "kinks": """
        title: Kinks
        inputs: {x: 0, a: 2, b: 2, c: -1}
        nodes:
          r: relu(x)
          m: max(a, b)
          n: min(a, b)
          s: abs(x)
          y: r + m * n + s * c + relu(c)
    """,
    "helpers": """
        title: Helpers in the forward pass
        inputs: {x: 0.5, y: -2}
        nodes:
          h: step(x) * y + sign(y) * x + heaviside(x - 0.5) * y
          out: h * x
    """,
    "clashing names": """
        title: Names the generated code uses itself
        inputs: {print: 2, x: 3, dx: 1.5, json: -1}
        nodes:
          grad: print * x + dx
          round: grad * json + x
          float_: round ** 2 + dx
    """,
    "hand calculation": """
        title: Hand calculation with a gate of several operations
        inputs: {w: 0.3, x: 2, b: -0.1}
        nodes:
          a: sigmoid(w * x + b)
          c: (1 - a) ** 2
        rounding: 3
    """,
    "one input expression": """
        title: An expression
        inputs: {x: 1.5}
        expression: x * x * x + 1 / x
    """,
}


def _solutions():
    cases = [(name, solve_file(name)) for name in SCALAR_PROBLEMS]
    cases += [(name, solve_text(text)) for name, text in EXTRA.items()]
    return cases


CASES = _solutions()


def _run(code: str, tmp_path, name: str, env=None) -> dict:
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _expected(t) -> dict:
    """The gradients the code prints: every input's, then the other names of ``wrt``."""
    names = list(t.inputs) + [n for n in t.wrt if n not in t.inputs]
    return {n: t.gradients[n] for n in names}


def _close(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("name, t", CASES, ids=[c[0] for c in CASES])
def test_staged_code_prints_the_trace_gradients(tmp_path, name, t):
    _close(_run(staged_code(t), tmp_path, "staged.py"), _expected(t.trace))


@pytest.mark.slow
@pytest.mark.parametrize("name, t", CASES, ids=[c[0] for c in CASES])
def test_torch_check_prints_the_same_gradients(tmp_path, name, t):
    pytest.importorskip("torch")
    reference = t.trace
    if t.rounding is not None:
        # PyTorch does not round: compare with the problem traced in full precision.
        problem = load(PROBLEMS / name) if name not in EXTRA else \
            load_text(textwrap.dedent(EXTRA[name]), "inline.yaml")
        reference = trace(build_graph(dataclasses.replace(problem, rounding=None)))
    _close(_run(torch_code(t), tmp_path, "check_torch.py"), _expected(reference))


def test_documents_carry_the_same_code():
    t = solve_file("07-staged-gates.yaml")
    made = documents(t)
    assert made["staged.py"] == staged_code(t)
    assert made["check_torch.py"] == torch_code(t)
    assert made["staged.py"] in made["answers.md"]
    assert made["check_torch.py"] in made["answers.md"]


def test_staged_code_reads_like_the_worked_example():
    """Seed tutorial style: forward lines, then dx = ... and dx += ... in the trace's order."""
    code = staged_code(solve_file("07-staged-gates.yaml"))
    lines = [line for line in code.splitlines() if line and not line.startswith("#")]
    assert "sigy = sigmoid(y)" in lines and "f = num * invden" in lines
    assert "df = 1.0" in lines
    order = [line for line in lines if line.startswith(("dx ", "dy "))]
    assert order == ["dx = dnum * 1",
                     "dy = dsigy * (sigy * (1 - sigy))",
                     "dx += dsigx * (sigx * (1 - sigx))",
                     "dx += dxpy * 1",
                     "dy += dxpy * 1"]
    assert "dden = dinvden * (-1 / den ** 2)" in lines


def test_staged_code_uses_the_trace_local_formulas():
    """The multi-operation gate's local derivative is SymPy's formula, as in the answer key."""
    code = staged_code(solve_file("05-sigmoid-neuron.yaml"))
    assert "da = dC * (a - y)" in code
    assert "dz = da * (a * (1 - a))" in code
    assert "dw1 = dz * x1" in code


def test_hand_calculation_rounds_in_the_code():
    code = staged_code(solve_file("06-sigmoid-neuron-by-hand.yaml"))
    assert "a = hand_round(sigmoid(z), 2)" in code


def test_clashing_names_are_renamed_but_reported_by_their_own_name(tmp_path):
    t = solve_text(EXTRA["clashing names"])
    code = staged_code(t)
    assert "print_ = 2.0" in code and "json_ = -1.0" in code and "round_ =" in code
    got = _run(code, tmp_path, "staged.py")
    assert set(got) == {"print", "x", "dx", "json"}


def test_torch_check_uses_float64_tensors_that_require_grad():
    code = torch_code(solve_file("03-two-paths.yaml"))
    assert "x1 = torch.tensor(-7.0, dtype=torch.float64, requires_grad=True)" in code
    assert "y.backward()" in code


def test_code_is_plain_ascii():
    for _, t in CASES:
        for code in (staged_code(t), torch_code(t)):
            assert code.isascii()
            compile(code, "generated.py", "exec")   # raises SyntaxError if it is not Python
