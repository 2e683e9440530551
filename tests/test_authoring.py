"""Writing problems: the names an author may use, and error messages that say what to
write instead (only close matches suggested, keywords and Greek letters renamed once)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import solve_text
from tracer.core.errors import TracerError, did_you_mean
from tracer.core.load import load, load_text
from tracer.core.suggest import close_match, name_instead
from tracer.exporters.code import generated_code
from tracer.exporters.figures.text import name_text
from tracer.notation.latex import tex_symbol


def errors(text: str, name: str = "p.yaml") -> list[str]:
    with pytest.raises(TracerError) as info:
        load_text(textwrap.dedent(text), name)
    return [str(d) for d in info.value.diagnostics]


# ----------------------------------------------------------------------------- suggestions

@pytest.mark.parametrize("word, choices, expected", [
    ("sine", ["sin", "tan", "max"], "sin"),
    ("sigmiod", ["sigmoid", "tanh"], "sigmoid"),
    ("wieght", ["weight", "x"], "weight"),
    ("Relu", ["relu", "exp"], "relu"),
    ("input", ["inputs", "nodes"], "inputs"),
    ("learning_rte", ["learning_rate", "params"], "learning_rate"),
    ("x2", ["x1"], "x1"),
    # not close: a different word that shares a few letters
    ("softmax", ["max", "min", "sin", "softplus"], None),
    ("mean", ["tan", "max", "min", "exp"], None),
    ("b", ["a", "c"], None),
    ("exponential", ["exp"], None),
])
def test_only_close_matches_are_suggested(word, choices, expected):
    assert close_match(word, choices) == expected
    assert did_you_mean(word, choices) == (f" - did you mean '{expected}'?" if expected else "")


@pytest.mark.parametrize("expression, fragment", [
    ("softmax(x)", "there is no function 'softmax': write each output out with exp and /"),
    ("mean(x)", "there is no function 'mean': write the mean out, e.g. (a + b + c) / 3"),
    ("ln(x)", "write log(x): log is the natural logarithm"),
    ("pow(x, 2)", "write a ** b"),
    ("sigmod(x)", "unknown function 'sigmod' - did you mean 'sigmoid'?"),
    ("w(x + 1)", "unknown function 'w' (to multiply by w, write w * (...))"),
    ("2(x + 1)", "to multiply, write * between them, e.g. 2 * (x + 1)"),
    ("(x + 1)(x - 1)", "to multiply, write * between them"),
])
def test_unknown_functions_say_what_to_write_instead(expression, fragment):
    found = errors(f"""
        title: t
        inputs: {{x: 1}}
        nodes:
          y: {expression}
    """)
    assert len(found) == 1 and fragment in found[0], found
    assert "did you mean 'max'" not in found[0] and "did you mean 'tan'" not in found[0]


def test_a_number_before_a_name_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "implicit.yaml"
    path.write_text("title: t\ninputs: {x: 1}\nnodes:\n  y: 2x + 1\n", encoding="utf-8")
    with pytest.raises(TracerError) as info:
        load(path)
    (message,) = [str(d) for d in info.value.diagnostics]
    assert message.startswith(f"{path}:4:6: ")
    assert "'2x' is a number written right before a name: write 2*x" in message
    assert "invalid decimal literal" not in message


def test_a_number_before_a_name_on_the_command_line(tmp_path):
    path = tmp_path / "implicit.yaml"
    path.write_text("title: t\ninputs: {x: 1}\nexpression: 3 + 2.5x\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tracer", "check", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path}:3:")
    assert "write 2.5*x" in result.stderr and "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- names

def test_e_pi_math_and_torch_are_names_like_any_other(tmp_path):
    text = """
        title: Names that are also modules and constants
        inputs: {e: 2, pi: 3, math: 0.5, torch: -1}
        nodes:
          a: e * pi + math
          b: a * torch
          g: b + e
    """
    t = solve_text(text)
    assert t.gradients["e"] == pytest.approx(3 * -1 + 1)
    assert t.gradients["pi"] == pytest.approx(2 * -1)
    assert t.gradients["torch"] == pytest.approx(6.5)
    assert tex_symbol("pi") == r"\pi" and tex_symbol("e") == "e"
    # The generated code renames them internally and reports them by their own names.
    code = generated_code(t)
    assert "math_ = 0.5" in code.staged and "torch_ = torch.tensor" in code.torch
    path = tmp_path / "staged.py"
    path.write_text(code.staged, encoding="utf-8")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert set(got) == {"e", "pi", "math", "torch"}
    for name in got:
        assert got[name] == pytest.approx(t.gradients[name], rel=1e-12)


@pytest.mark.slow
def test_torch_check_runs_with_names_torch_and_math(tmp_path):
    pytest.importorskip("torch")
    t = solve_text("""
        title: t
        inputs: {torch: 0.5, math: 2}
        nodes:
          e: exp(torch) * math
    """)
    path = tmp_path / "check_torch.py"
    path.write_text(generated_code(t).torch, encoding="utf-8")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["torch"] == pytest.approx(t.gradients["torch"], rel=1e-12)
    assert got["math"] == pytest.approx(t.gradients["math"], rel=1e-12)


def test_lambda_underscore_is_typeset_as_lambda():
    assert tex_symbol("lambda_") == r"\lambda"
    assert tex_symbol("lambda_1") == r"\lambda_{1}"
    assert name_text("lambda_").plain == "λ"
    t = solve_text("""
        title: t
        inputs: {lambda_: 0.1, w: 2}
        nodes:
          r: lambda_ * w ** 2
    """)
    assert r"\lambda" in tex_symbol(t.wrt[0])


def test_lambda_gets_one_clear_error():
    found = errors("""
        title: t
        inputs:
          lambda: 0.1
          w: 2
        nodes:
          r: lambda * w ** 2
          s: r + lambda
    """)
    assert found == ["p.yaml:4:3: 'lambda' cannot be the name of an input: it is a Python "
                     "keyword; write 'lambda_' instead, which is typeset as λ"]


def test_a_keyword_used_only_in_an_expression_is_named():
    (message,) = errors("""
        title: t
        inputs: {w: 2}
        nodes:
          r: lambda * w
    """)
    assert "'lambda' is a Python keyword, so it cannot be a name; write 'lambda_' instead" \
        in message
    assert "invalid syntax" not in message


@pytest.mark.parametrize("name, instead, tex", [
    ("σ", "sigma", r"\sigma"),
    ("η", "eta", r"\eta"),
    ("λ", "lambda_", r"\lambda"),
    ("σ1", "sigma1", r"\sigma_{1}"),
    ("Σ", "Sigma", r"\Sigma"),
    ("w₁", "w1", "w_{1}"),
    ("µ", "mu", r"\mu"),        # the micro sign, which NFKC makes the Greek letter
])
def test_unicode_names_are_refused_with_the_ascii_name_typeset_alike(name, instead, tex):
    assert name_instead(name) == instead
    assert tex_symbol(instead) == tex
    found = errors(f"""
        title: t
        inputs:
          {name}: 0.5
          x: 2
        nodes:
          y: {name} * x + {name}
    """)
    assert len(found) == 1, found
    assert f"'{name}' cannot be the name of an input" in found[0]
    assert f"write '{instead}' instead" in found[0]


def test_a_unicode_name_only_in_an_expression_is_named_at_its_column():
    (message,) = errors("""
        title: t
        inputs: {x: 2}
        nodes:
          y: x + σ
    """)
    assert message.startswith("p.yaml:5:10: ") and "write 'sigma' instead" in message


def test_names_without_an_ascii_spelling_get_no_suggestion():
    (message,) = errors("""
        title: t
        inputs: {"x-1": 2}
        nodes:
          y: x * 2
    """)
    assert "a name is ASCII letters, digits and underscores" in message
    assert "instead" not in message


# ----------------------------------------------------------------------------- the command

def test_version_is_printed_and_matches_the_package():
    import tomllib
    from pathlib import Path

    import tracer

    result = subprocess.run([sys.executable, "-m", "tracer", "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    version = tomllib.loads(pyproject.read_text())["project"]["version"]
    assert result.stdout == f"tracer {version}\n"
    assert tracer.__version__ == version
