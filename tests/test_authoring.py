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


def run_code(code: str, tmp_path, name: str) -> dict:
    """Run a generated file as a student would; the gradients it prints."""
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def same_gradients(got: dict, solution, names) -> None:
    assert list(got) == list(names)
    for name, value in got.items():
        assert value == pytest.approx(solution.gradients[name], rel=1e-12), name


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
    ("avg(x)", "there is no function 'avg': write mean(v) for a vector v"),
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
    same_gradients(run_code(code.staged, tmp_path, "staged.py"), t, ["e", "pi", "math", "torch"])


@pytest.mark.slow
def test_torch_check_runs_with_names_torch_and_math(tmp_path):
    pytest.importorskip("torch")
    t = solve_text("""
        title: t
        inputs: {torch: 0.5, math: 2}
        nodes:
          e: exp(torch) * math
    """)
    same_gradients(run_code(generated_code(t).torch, tmp_path, "check_torch.py"), t,
                   ["torch", "math"])


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


# ----------------------------------------------------------------------------- hand calculation

@pytest.mark.parametrize("value, digits, expected", [
    (0.25, 1, 0.3),          # round() gives 0.2: halves go to the even digit
    (-0.25, 1, -0.3),
    (0.125, 2, 0.13),        # round() gives 0.12
    (2.675, 2, 2.68),        # the double is just below 2.675; a student sees 2.675
    (0.5, 0, 1.0),
    (1.5, 0, 2.0),
    (2.5, 0, 3.0),           # round() gives 2
    (0.7310585786300049, 2, 0.73),
    (7.38905609893065, 2, 7.39),
    (-1234.5678, 3, -1234.568),
    (1e300, 12, 1e300),
    (1e-9, 4, 0.0),
])
def test_hand_rounding_takes_halves_away_from_zero(value, digits, expected):
    from tracer.core.engine import hand_round

    assert hand_round(value, digits) == expected


HALVES = """
    title: Rounding halves
    inputs: {x: 0.5, w: 0.25}
    nodes:
      u: x * w            # 0.125, rounded to 0.13
      v: exp(u)           # 1.1388..., rounded to 1.14
      s: sqrt(v)          # 1.0677..., rounded to 1.07
      y: s * w
    rounding: 2
"""


def test_hand_calculation_rounds_halves_up_and_reuses_rounded_values():
    t = solve_text(HALVES)
    values = t.values
    assert values["u"] == 0.13 and values["v"] == 1.14 and values["s"] == 1.07
    local = {(n.name, l.operand): l.value for n in t.trace.nodes for l in n.locals}
    # exp's local gradient is its own rounded value, as a student reuses it
    assert local[("v", "u")] == 1.14
    # sqrt's is 1 / (2 sqrt(v)) with the rounded sqrt(v)
    assert local[("s", "v")] == pytest.approx(1 / (2 * 1.07), rel=1e-15)
    # and so are sigmoid's and tanh's
    t2 = solve_text("""
        title: t
        inputs: {z: 1}
        nodes:
          a: sigmoid(z)
          b: tanh(a)
        rounding: 2
    """)
    local2 = {(n.name, l.operand): l.value for n in t2.trace.nodes for l in n.locals}
    assert t2.values["a"] == 0.73 and t2.values["b"] == 0.62
    assert local2[("a", "z")] == pytest.approx(0.73 * (1 - 0.73), rel=1e-15)
    assert local2[("b", "a")] == pytest.approx(1 - 0.62 ** 2, rel=1e-15)


def test_generated_code_rounds_as_the_engine(tmp_path):
    t = solve_text(HALVES)
    code = generated_code(t).staged
    assert "u = hand_round(x * w, 2)" in code
    assert not [line for line in code.splitlines()
                if " round(" in line and not line.lstrip().startswith("#")]
    assert run_code(code, tmp_path, "staged.py") == {"x": t.gradients["x"],
                                                      "w": t.gradients["w"]}


def test_the_guide_states_the_rounding_rules():
    from pathlib import Path

    guide = (Path(__file__).resolve().parent.parent / "site" / "authoring.md").read_text()
    section = guide[guide.index("## Hand-calculation mode"):]
    section = section[:section.index("\n## ", 5)]
    assert "half away from zero" in section
    assert "0.25" in section and "0.3" in section
    for rule in (r"$u = e^{x}$ it is $u$", r"$u = \sqrt{x}$ it is $1/(2u)$",
                 r"$a = \sigma(z)$ it is $a(1 - a)$"):
        assert rule in section


# ----------------------------------------------------------------------------- powers at zero

@pytest.mark.parametrize("k, dx, dk", [
    (2.0, 0.0, 0.0),
    (3.0, 0.0, 0.0),
    (1.0, 1.0, 0.0),
    (1.5, 0.0, 0.0),
])
def test_a_power_of_zero_has_the_derivatives_pytorch_gives(k, dx, dk):
    t = solve_text(f"""
        title: t
        inputs: {{x: 0, k: {k}}}
        nodes:
          y: x ** k
    """)
    assert t.gradients["x"] == dx and t.gradients["k"] == dk
    # the same inside a gate of several operations
    t = solve_text(f"""
        title: t
        inputs: {{x: 0, k: {k}}}
        nodes:
          y: 3 * x ** k + k
    """)
    assert t.gradients["x"] == 3 * dx and t.gradients["k"] == 3 * dk + 1
    # the answer key does not write log(0), and the staged code runs
    answers = generated_code(t)
    assert "log(0" not in answers.staged


@pytest.mark.slow
def test_powers_of_zero_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    for k in (2.0, 3.0, 1.0, 1.5):
        x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        kk = torch.tensor(k, dtype=torch.float64, requires_grad=True)
        (x ** kk).backward()
        t = solve_text(f"title: t\ninputs: {{x: 0, k: {k}}}\nnodes: {{y: 'x ** k'}}\n")
        assert (t.gradients["x"], t.gradients["k"]) == (x.grad.item(), kk.grad.item())


@pytest.mark.parametrize("inputs, expression, fragment", [
    ("{x: 0}", "sqrt(x)", "the derivative of sqrt(a) is infinite at a = 0"),
    ("{x: 0}", "sqrt(x) + x", "the derivative of sqrt(a) is infinite at a = 0"),
    ("{x: 0, k: 0.5}", "x ** k", "the derivative of a ** 0.5 with respect to a is infinite"),
    ("{x: 0}", "x ** 0.5", "the derivative of a ** 0.5 with respect to a is infinite"),
    ("{x: -2, k: 2}", "x ** k", "log(a) is undefined for the negative base a = -2"),
    ("{x: 0, k: 0}", "x ** k", "does not exist at a = 0, b = 0"),
    ("{x: 1}", "x / (x - 1)", "1 / 0 is a division by zero"),
    ("{x: 1}", "log(x - 1)", "log(0) is the logarithm of zero"),
])
def test_refusals_name_the_real_cause(inputs, expression, fragment):
    with pytest.raises(TracerError) as info:
        solve_text(f"title: t\ninputs: {inputs}\nnodes: {{y: '{expression}'}}\n")
    (message,) = [d.message for d in info.value.diagnostics]
    assert fragment in message, message
    assert "div(" not in message


# ----------------------------------------------------------------------------- uses of a name

@pytest.mark.parametrize("expression", ["a + a", "a + a + 1", "2 * (a + a)"])
def test_every_use_of_a_name_is_one_contribution(expression):
    t = solve_text(f"""
        title: t
        inputs: {{a: 3}}
        nodes:
          b: {expression}
    """)
    into_a = [s for s in t.trace.backward if s.node == "a"]
    assert [s.path for s in into_a] == [1, 2]
    assert [s.slot for s in into_a] == [0, 1]
    (total,) = t.sums
    assert total.node == "a" and total.grad == sum(s.contribution for s in into_a)
    assert [(s.use, s.uses) for s in t.steps] == [(1, 2), (2, 2)]
    answers = generated_code(t)   # the code has a line per use too
    assert answers.staged.count("da = ") == 1 and answers.staged.count("da += ") == 1


@pytest.mark.parametrize("expression", [
    "a * a * b", "a * sigmoid(a) + a * b", "(a - b) ** 2 + a * b", "exp(a) / (b + exp(a))",
    "max(a, 2 * a) + b * a", "log(a * a + b) - a / b",
])
def test_local_gradients_per_use_agree_with_their_formulas_and_sum_to_the_gradient(expression):
    from tracer.core.engine import central_difference
    from tracer.core.expr import evaluate
    from tracer.core.graph import build_graph

    text = f"""
        title: t
        inputs: {{a: 0.7, b: 1.9}}
        nodes:
          y: {expression}
    """
    t = solve_text(text)
    (gate,) = t.gates
    from tracer.core.expr import parse, variables

    assert len(gate.locals) == len(variables(parse(expression)))
    for local in gate.locals:
        # the formula shown is the one that gives the number
        assert evaluate(local.formula.expr, t.values) == pytest.approx(local.value, rel=1e-12)
    graph = build_graph(load_text(textwrap.dedent(text), "t.yaml"))
    for name in ("a", "b"):
        total = sum(l.value for l in gate.locals if l.operand == name)
        assert t.gradients[name] == pytest.approx(total, rel=1e-12)
        assert t.gradients[name] == pytest.approx(central_difference(graph, name), rel=1e-6)


def test_uses_are_labelled_in_the_local_gradient_tables():
    from conftest import documents

    t = solve_text("""
        title: swish
        inputs: {x: 0.5}
        nodes:
          y: x * sigmoid(x)
    """)
    made = documents(t)
    for name in ("answers.md", "worksheet.md", "answers.tex", "worksheet.tex"):
        assert r"\text{(use 1 of 2)}" in made[name] and r"\text{(use 2 of 2)}" in made[name]
    assert r"\frac{\partial y}{\partial x}\;\text{(use 1 of 2)} = \sigma\left(x\right)" \
        in made["answers.md"]


# ----------------------------------------------------------------------------- data

MAZUR = """
    title: Mazur's 2-2-2 network
    inputs: {i1: 0.05, i2: 0.10, w1: 0.15, w2: 0.20, w3: 0.25, w4: 0.30, b1: 0.35,
             w5: 0.40, w6: 0.45, w7: 0.50, w8: 0.55, b2: 0.60, t1: 0.01, t2: 0.99}
    data: [i1, i2, t1, t2]
    nodes:
      h1: sigmoid(w1 * i1 + w2 * i2 + b1)
      h2: sigmoid(w3 * i1 + w4 * i2 + b1)
      o1: sigmoid(w5 * h1 + w6 * h2 + b2)
      o2: sigmoid(w7 * h1 + w8 * h2 + b2)
      E: 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
    update: {learning_rate: 0.5, params: [w1, w2, w3, w4, w5, w6, w7, w8]}
"""
DATA = ("i1", "i2", "t1", "t2")


def test_data_gets_no_gradient_steps_and_is_not_asked_for():
    t = solve_text(MAZUR)
    trace = t.trace
    assert t.data == DATA and trace.constants == frozenset(DATA)
    assert not [s for s in trace.backward if s.node in DATA]
    assert trace.wrt == ("w1", "w2", "w3", "w4", "b1", "w5", "w6", "w7", "w8", "b2")
    assert not [l for g in t.gates for l in g.locals if l.operand in DATA]
    # Mazur's published numbers (his worked example rounds to 9 digits)
    g = trace.gradients
    assert g["w5"] == pytest.approx(0.082167041, abs=1e-9)
    assert g["w1"] == pytest.approx(0.000438568, abs=1e-9)
    new = {p.name: p.new for p in trace.update.params}
    assert new["w5"] == pytest.approx(0.35891648, abs=1e-8)
    assert new["w1"] == pytest.approx(0.149780716, abs=1e-9)
    # and the independent check agrees
    for name, estimate in trace.numeric:
        assert estimate == pytest.approx(g[name], rel=1e-6)


def test_data_is_shown_as_given_without_blanks():
    from conftest import documents

    made = documents(solve_text(MAZUR))
    for name in ("worksheet.md", "answers.md"):
        page = made[name]
        assert "| Data | Value |" in page and r"| $t_{1}$ | $0.01$ |" in page
        assert r"\partial i_{1}}" not in page and r"\partial t_{2}}" not in page
    for name in ("worksheet.tex", "answers.tex"):
        assert "Data & Value" in made[name] and r"\partial t_{1}}" not in made[name]
    assert "t1 = 0.01  # data: given, no gradient" in made["staged.py"]
    assert "t1 = torch.tensor(0.01, dtype=torch.float64, requires_grad=False)" \
        in made["check_torch.py"]


def test_data_edges_carry_values_but_no_gradients_in_the_figures():
    from tracer.exporters.figures import figures

    t = solve_text(MAZUR)
    svg = figures(t)["gradients.svg"]
    # one gradient label per backward step and one for the output's stub
    assert svg.count('class="grad"') == len(t.trace.backward) + 1
    assert svg.count('class="value"') == sum(len(n.operands) for n in t.trace.nodes) + 1
    import re

    totals = re.findall(r'<text class="grad-total"[^>]* data-node="(\w+)"', svg)
    assert "w1" in totals and not set(DATA) & set(totals)


def test_generated_code_reports_the_parameters_only(tmp_path):
    t = solve_text(MAZUR)
    same_gradients(run_code(generated_code(t).staged, tmp_path, "staged.py"), t, t.trace.wrt)


def test_trace_json_has_no_gradient_for_data():
    import json

    from tracer.exporters.trace_json import to_json

    data = json.loads(to_json(solve_text(MAZUR)))
    assert data["data"] == list(DATA)
    assert data["gradients"]["t1"] is None and data["gradients"]["w1"] is not None
    assert not [s for s in data["backward"] if s["node"] in DATA]


def test_gates_computed_from_data_alone_are_given_too():
    t = solve_text("""
        title: t
        inputs: {x: -2, t: 3, s: 1}
        data: [t, s]
        nodes:
          k: t - s           # from data alone
          y: x ** k          # x < 0: the exponent's derivative would need log(x)
    """)
    assert t.trace.constants == {"t", "s", "k"}
    assert [(s.node, s.source) for s in t.trace.backward] == [("x", "y")]
    assert t.gradients["x"] == 2 * (-2.0)


@pytest.mark.parametrize("extra, fragment", [
    ("data: [w]\nupdate: {params: [w]}\n", "update: 'w' is listed under 'data'"),
    ("data: [x]\nwrt: [x, w]\n", "wrt: 'x' is listed under 'data', so it has no gradient"),
    ("data: [x, w]\n", "the output 'y' is computed from data alone"),
    ("data: [z]\n", "data: there is no input 'z'"),
    ("data: [W]\n", "data: there is no input 'W' - did you mean 'w'?"),
    ("data: [u]\n", "data: 'u' is a node"),
    ("data: 3\n", "data must be a list of names"),
])
def test_data_mistakes_are_named(extra, fragment):
    text = "title: t\ninputs: {x: 1, w: 2}\nnodes:\n  u: w * x\n  y: u + 1\n" + extra
    with pytest.raises(TracerError) as info:
        from tracer.core.graph import build_graph
        build_graph(load_text(text, "d.yaml"))
    messages = [str(d) for d in info.value.diagnostics]
    assert any(fragment in m for m in messages), messages
    assert all(m.startswith("d.yaml:") for m in messages)


@pytest.mark.slow
def test_torch_check_of_a_problem_with_data(tmp_path):
    pytest.importorskip("torch")
    t = solve_text(MAZUR)
    same_gradients(run_code(generated_code(t).torch, tmp_path, "check_torch.py"), t,
                   t.trace.wrt)
