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
    assert "dy[2]/du2 = dy/du4 * du4/du2 = 10 * (-4) = -40" in out
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


def test_a_closed_pipe_ends_the_output_quietly(tmp_path):
    lines = ["title: t", "inputs:", "  x: 0.5", "nodes:", "  u1: x * 2"]
    lines += [f"  u{k}: tanh(u{k - 1})" for k in range(2, 3000)]
    path = tmp_path / "long.yaml"
    path.write_text("\n".join(lines) + "\n")
    for extra in (["--json"], []):
        result = subprocess.run(f"'{sys.executable}' -m tracer trace {path} {' '.join(extra)}"
                                " | head -c 100", shell=True, capture_output=True, text=True,
                                timeout=120)
        assert len(result.stdout) == 100
        assert result.stderr == "", result.stderr


def test_errors_of_one_kind_are_shown_twenty_times_then_counted(tmp_path):
    lines = ["title: t", "inputs:", "  x: 1", "nodes:", "  y: x * 2"]
    lines += [f"  d{k}: x + {k}" for k in range(1, 51)]
    unknown = [f"  e{k}: x + y{k}" for k in range(1, 26)]
    path = tmp_path / "dangling.yaml"
    path.write_text("\n".join(lines + unknown + ["output: y"]) + "\n")
    result = run("check", str(path))
    assert result.returncode == 1
    errors = result.stderr.splitlines()   # unknown names stop the check before the rest
    assert len(errors) == 20 + 1
    # 'y' and 'd1' are both one edit away from 'y1': either is a fair suggestion
    assert "the node 'e1' uses 'y1', which is neither an input nor a node - did you mean" \
        in errors[0]
    assert errors[-1].startswith(f"error: {path}: 5 more errors like this one, not shown: "
                                 "the node 'e20' uses 'y20'")
    path.write_text("\n".join(lines + ["output: y"]) + "\n")
    errors = run("check", str(path)).stderr.splitlines()
    assert len(errors) == 20 + 1
    assert all("does not lead to the output 'y'" in e for e in errors)
    assert errors[-1].startswith(f"error: {path}: 30 more errors like this one, not shown: "
                                 "the node 'd20' does not lead")


def test_the_size_limit_is_an_option(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("title: t\ninputs: {x: 1}\nnodes: {y: x * 2}\n# " + "x" * 2_000_000 + "\n")
    assert run("check", str(path)).returncode == 0
    refused = run("check", "--max-file-size", "1", str(path))
    assert refused.returncode == 1 and "larger than 1024 KiB" in refused.stderr
    wrong = run("trace", "--max-file-size", "lots", str(path))
    assert wrong.returncode == 2 and "not a whole number of MiB" in wrong.stderr


def test_a_small_problem_imports_only_what_its_command_needs():
    probe = ("import sys; from tracer.cli import main; main(sys.argv[1:]); "
             "print(' '.join(m for m in ('sympy', 'networkx', 'jinja2', 'pygraphviz', 'mkdocs')"
             " if m in sys.modules), file=sys.stderr)")
    problem = str(PROBLEMS / "07-staged-gates.yaml")
    for args, needed in ((["check", problem], ""), (["trace", problem], ""),
                         (["trace", "--json", str(PROBLEMS / "08-reused-operand.yaml")],
                          "sympy")):
        result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0
        assert result.stderr.strip() == needed, args
