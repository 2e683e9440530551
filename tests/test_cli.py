"""The command line: output formats and exit statuses, as a user meets them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import PROBLEMS
from tracer.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "tracer", *args], capture_output=True,
                          text=True, timeout=120)


def test_trace_json_has_the_documented_keys(capsys):
    assert main(["trace", str(PROBLEMS / "03-two-paths.yaml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"output", "values", "gradients", "backward"} <= set(data)
    assert data["output"] == "y" and data["values"]["y"] == 40
    assert data["gradients"]["x4"] == -120
    step = next(s for s in data["backward"] if s["node"] == "u2" and s["from"] == "u4")
    assert {"node", "from", "upstream", "local", "contribution", "path"} <= set(step)
    assert (step["upstream"], step["local"], step["contribution"], step["path"]) == (10, -4, -40, 2)


def test_trace_prints_forward_backward_and_gradients(capsys):
    assert main(["trace", str(PROBLEMS / "03-two-paths.yaml")]) == 0
    out = capsys.readouterr().out
    assert "u1 = x1 + x2 = -7 + 2 = -5" in out
    assert "dy[2]/du2 = dy/du4 * du4/du2 = 10 * -4 = -40" in out
    assert "dy/du2 = [1] -20 + [2] -40 = -60" in out


def test_check_passes_on_the_bundled_problems(capsys):
    assert main(["check", str(PROBLEMS)]) == 0


@pytest.mark.parametrize("text, fragment", [
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'log(x - 1)'}\n", "log(0) is the logarithm of zero"),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'x / (x - 1)'}\n", "division by zero"),
    ("title: t\ninputs: {x: -4}\nnodes: {y: 'sqrt(x)'}\n", "square root of a negative"),
    ("title: t\ninputs: {x: 0}\nnodes: {y: 'sqrt(x)'}\n", "has no local derivative here"),
    ("title: t\ninputs: {x: 800}\nnodes: {y: 'exp(x)'}\n", "overflow"),
    ("title: t\ninputs: {x: 2}\nnodes: {y: '2 ** 99999999999 * x'}\n", "overflow"),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'x.__class__'}\n", "attribute access"),
    ("title: t\ninputs: {x: 1}\nnodes: {a: b + x, b: a * 2}\n", "cycle"),
])
def test_bad_input_exits_1_with_one_clear_message_and_no_traceback(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = run("trace", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr
    assert result.stderr.startswith(f"error: {path}")
    assert result.stdout == ""
