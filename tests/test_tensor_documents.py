"""The documents of problems of vectors and matrices: the rules in matrix form with shapes,
every backward step with the trace's numbers, worksheets with a box per entry and no
answer, the component view linked, Markdown that converts, LaTeX that compiles, code that
runs and prints the trace's gradients."""
from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import PROBLEMS, TENSOR_PROBLEMS, documents, solve_file, to_html
from tracer.core.engine import trace
from tracer.core.graph import build_graph
from tracer.core.load import load
from tracer.exporters.base import Options, get
from tracer.exporters.code import generated_code
from tracer.notation.numbers import fmt_tex
from tracer.notation.tensor_latex import matrix_tex
from tracer.view.solution import solve


@pytest.fixture(scope="module")
def docs():
    made = {}
    for name in TENSOR_PROBLEMS:
        graph = build_graph(load(PROBLEMS / name))
        t = solve(graph, trace(graph))
        made[name] = (graph, t, documents(t))
    return made


def test_the_node_table_gives_each_layer_rule_in_matrix_form_with_shapes(docs):
    _, _, made = docs["17-network-4-2-1.yaml"]
    text = made["answers.md"]
    at = text.splitlines().index(next(line for line in text.splitlines()
                                      if line.startswith("| $z_{1} = W_{1} x")))
    rows = text.splitlines()[at:at + 3]
    assert rows[0] == (r"| $z_{1} = W_{1} x + b_{1}$ | $2{\times}1$ | $\displaystyle \frac{\partial "
                       r"L}{\partial W_{1}} = g x^{\top}$ | $2{\times}1 \;\cdot\; 1{\times}4 "
                       r"\;\to\; 2{\times}4$ |")
    assert rows[1] == (r"|  |  | $\displaystyle \frac{\partial L}{\partial x} = W_{1}^{\top} g$ | "
                       r"$4{\times}2 \;\cdot\; 2{\times}1 \;\to\; 4{\times}1$ |")
    assert rows[2] == (r"|  |  | $\displaystyle \frac{\partial L}{\partial b_{1}} = g$ | "
                       r"$2{\times}1$ |")
    batch = docs["19-batch-mean-loss.yaml"][2]["answers.md"]
    assert r"\frac{\partial L}{\partial b_{1}} = \sum_{\mathrm{rows}} g" in batch
    assert r"\frac{\partial L}{\partial W_{1}} = g^{\top} X" in batch


@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_every_backward_step_shows_rule_numbers_and_result(docs, name):
    _, t, made = docs[name]
    d = t.precision
    for document in ("answers.md", "answers.tex"):
        text = made[document]
        for s in t.steps:
            result = matrix_tex(s.contribution, d)
            at = [m.start() for m in re.finditer(re.escape(result), text)]
            assert at, (document, s.node, s.source)
            grad = r"\frac{\partial " + _sym(t.output) + (f"^{{[{s.path}]}}" if s.path else "") \
                + "}{\\partial " + _sym(s.node) + "}"
            assert grad + " = " in text or grad + " &= " in text, (document, grad)
        for a in t.sums:
            assert " + ".join(matrix_tex(c, d) for c in a.contributions) + " = " + \
                matrix_tex(a.grad, d) in text


def _sym(name):
    from tracer.notation.latex import tex_symbol
    return tex_symbol(name)


def test_a_step_shows_the_upstream_times_the_local_gradient_as_numbers(docs):
    text = docs["17-network-4-2-1.yaml"][2]["answers.md"]
    # relu: dL/dz1 = dL/dh (.) 1[z1 > 0], the step evaluated as the local gradient
    # (the rule, its shapes, each matrix of the numbers and the result on rows of their own)
    assert (r"\frac{\partial L}{\partial z_{1}} &= \frac{\partial L}{\partial h} \odot "
            r"\mathbf{1}[z_{1} > 0] \\") in text
    assert ("\n".join([r"&= \begin{bmatrix} -0.03959 \\ 0.0475 \end{bmatrix} \\",
                       r"&\quad \odot \begin{bmatrix} 1 \\ 0 \end{bmatrix} \\",
                       r"&= \begin{bmatrix} -0.03959 \\ 0 \end{bmatrix}"])) in text
    # dL/dW1 = g x^T: the column times the row
    assert ("\n".join([r"&= \begin{bmatrix} -0.03959 \\ 0 \end{bmatrix} \\",
                       r"&\quad \begin{bmatrix} 0.5 & -1 & 2 & 0.1 \end{bmatrix} \\"])) in text


@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
@pytest.mark.parametrize("document", ["answers.md", "worksheet.md"])
def test_markdown_converts_and_all_math_is_taken(docs, name, document):
    _check_markdown(docs[name][2][document])


def _check_markdown(text):
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    assert prose.count("$$") % 2 == 0
    page = to_html(text)
    outside = re.sub(r"<(pre|code)\b.*?</\1>", "", page, flags=re.DOTALL)
    assert "$" not in outside
    for formula in re.findall(r'<(?:span|div) class="arithmatex">(.*?)</(?:span|div)>', page,
                              flags=re.DOTALL):
        formula = html.unescape(formula)
        assert formula.count("{") == formula.count("}"), formula
        assert formula.count(r"\begin{bmatrix}") == formula.count(r"\end{bmatrix}")


@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_the_worksheet_has_a_box_per_entry(docs, name):
    _, t, made = docs[name]
    shapes = t.shapes
    entries = sum(int(np.prod(shapes[g.name])) for g in t.gates)
    entries += sum(int(np.prod(shapes[s.node])) for s in t.steps)
    entries += sum(int(np.prod(shapes[a.node])) for a in t.sums)
    entries += sum(int(np.prod(shapes[f.name])) for f in t.final)
    if t.update:
        entries += sum(int(np.prod(shapes[p.name])) for p in t.update.params)
    for document in ("worksheet.md", "worksheet.tex"):
        assert made[document].count(r"\boxed{") == entries, document


def _scrambled(graph, t):
    """The same problem with every answer changed: only the givens are left."""
    tr = t.trace
    gates = {n.name for n in tr.nodes if n.kind == "gate"}
    nodes = tuple(n._replace(value=n.value * 3.7 + 0.1 if n.name in gates else n.value,
                             grad=n.grad * 3.7 + 0.1) for n in tr.nodes)
    backward = tuple(s._replace(upstream=s.upstream + 1, contribution=s.contribution + 1)
                     for s in tr.backward)
    return solve(graph, dataclasses.replace(tr, nodes=nodes, backward=backward))


@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_the_worksheet_depends_on_no_answer(docs, name):
    graph, t, made = docs[name]
    other = documents(_scrambled(graph, t))
    for document in ("worksheet.md", "worksheet.tex"):
        assert other[document] == made[document], document
    assert other["answers.md"] != made["answers.md"]


def test_the_answer_key_links_every_entry_to_the_component_view(docs):
    _, t, made = docs["17-network-4-2-1.yaml"]
    text = made["answers.md"]
    assert "(components/answers.md)" in text and "(components/worksheet.md)" in text
    rows = re.findall(r"^\| \$\\displaystyle (\\left\(.*?)\$ \| \$(.*?)\$ \| \$\\displaystyle "
                      r"(.*?)\$ \| \$(.*?)\$ \|$", text, re.MULTILINE)
    assert len(rows) == sum(int(np.prod(t.shapes[n])) for n in t.wrt) == 13
    for entry, value, scalar, scalar_value in rows:
        assert value == scalar_value
    assert (r"\left(\frac{\partial L}{\partial W_{1}}\right)_{1,3}", "-0.07917",
            r"\frac{\partial L}{\partial (W_{1})_{1,3}}", "-0.07917") in rows
    assert r"(z_{1})_{1} &= (W_{1})_{1,1} x_{1} + (W_{1})_{1,2} x_{2}" in text


@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_the_component_view_pages(docs, name):
    _, t, _ = docs[name]
    files = get("components").files(t, Options())
    assert {"components/answers.md", "components/worksheet.md", "components/graph.svg",
            "components/staged.py"} <= set(files)
    assert not [f for f in files if f.endswith(".tex")]
    answers = files["components/answers.md"]
    assert "The component view of [the problem with vectors and matrices](../worksheet.md)" \
        in answers
    _check_markdown(answers)
    # the component view's gradients are its own scalar trace's, entry for entry the layer's
    scalar = t.components.solution
    for link in t.components.links:
        assert scalar.gradients[link.scalar] == pytest.approx(link.grad, rel=1e-10, abs=1e-13)
        assert fmt_tex(link.grad, t.precision) in answers


def test_documents_are_deterministic():
    first = documents(solve_file("18-tanh-network-softmax.yaml"))
    second = documents(solve_file("18-tanh-network-softmax.yaml"))
    assert first == second


def test_softmax_cross_entropy_explains_the_one_hot_vector(docs):
    text = docs["18-tanh-network-softmax.yaml"][2]["answers.md"]
    assert r"\frac{\partial L}{\partial z_{2}} = g (\operatorname{softmax}(z_{2}) - " \
           r"\mathbf{e}_{2})" in text
    assert "one-hot vector of class" in text


# ----------------------------------------------------------------------------- code

def _run(code: str, tmp_path, name: str) -> dict:
    path = tmp_path / name
    path.write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _agree(got: dict, t) -> None:
    """The code prints every input's gradient but data's (never differentiated), then the
    other names of ``wrt``."""
    names = [n for n in t.trace.inputs if n not in t.trace.constants] + \
        [n for n in t.wrt if n not in t.trace.inputs]
    assert list(got) == names
    for name in names:
        want = np.asarray(t.gradients[name])
        assert np.asarray(got[name]).shape == want.shape, name
        assert np.allclose(np.asarray(got[name]), want, rtol=1e-9, atol=1e-12), name


@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_staged_numpy_code_prints_the_trace_gradients(docs, tmp_path, name):
    _, t, _ = docs[name]
    code = generated_code(t).staged
    assert "import numpy as np" in code
    _agree(_run(code, tmp_path, "staged.py"), t)


def test_staged_code_reads_as_the_rules():
    code = generated_code(solve_file("17-network-4-2-1.yaml")).staged
    assert "dW1 = np.outer(dz1, x)\n" in code
    assert "dx = " not in code            # x is data: no gradient flows into it
    assert "dh = W2.T @ dz2\n" in code
    assert "dz1 = dh * step(z1)\n" in code


def test_contributions_that_meet_are_added_with_plus_equals(tmp_path):
    from conftest import solve_text

    t = solve_text("""
        title: Two paths
        inputs: {W: [[1, 2], [3, 4]], x: [0.5, -1]}
        nodes:
          h: tanh(W @ x)
          u: h * h
          L: sum(u + h)
    """)
    code = generated_code(t).staged
    assert "dh = dL * np.ones_like(u + h)\n" in code
    assert code.count("dh += du * h\n") == 2          # h * h: one contribution per use
    _agree(_run(code, tmp_path, "staged.py"), t)


@pytest.mark.slow
@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_the_pytorch_check_prints_the_same_gradients(docs, tmp_path, name):
    pytest.importorskip("torch")
    _, t, _ = docs[name]
    _agree(_run(generated_code(t).torch, tmp_path, "check_torch.py"), t)


# ----------------------------------------------------------------------------- LaTeX

@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", TENSOR_PROBLEMS)
def test_latex_compiles_without_errors_or_overfull_lines(docs, tmp_path, name):
    from tracer.exporters.figures import figures

    _, t, made = docs[name]
    for file, content in figures(t).items():
        if file.endswith(".tex"):
            (tmp_path / file).write_text(content, encoding="utf-8")
    for document in ("worksheet.tex", "answers.tex"):
        (tmp_path / document).write_text(made[document], encoding="utf-8")
        for _ in range(2):
            result = subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode",
                                     "-halt-on-error", document], cwd=tmp_path,
                                    capture_output=True, timeout=180)
        log = (tmp_path / document.replace(".tex", ".log")).read_text(encoding="latin-1")
        assert result.returncode == 0, log[-3000:]
        overfull = [float(w) for w in re.findall(r"Overfull \\hbox \((\d+\.?\d*)pt too wide",
                                                 log)]
        assert all(w < 3 for w in overfull), overfull


# ----------------------------------------------------------------------------- the guide

def test_the_guide_quotes_the_numbers_of_the_traces():
    """site/layers.md ("From scalars to layers") is written by hand: its numbers are the
    traces' (and the seed's), not typed in from elsewhere."""
    from conftest import ROOT, trace_file
    from tracer.notation.numbers import fmt

    guide = " ".join((ROOT / "site" / "layers.md").read_text(encoding="utf-8").split())
    neuron = trace_file("16-neuron-as-a-layer.yaml")
    for value in (neuron.values["a"][0], neuron.gradients["a"][0], neuron.gradients["z"][0],
                  neuron.gradients["W"][0, 1], neuron.gradients["b"]):
        assert fmt(float(value)) in guide
    assert matrix_tex(neuron.gradients["W"], 4) in guide
    assert "0.0529" in guide            # the seed's dC/dw1
    network = trace_file("17-network-4-2-1.yaml")
    assert matrix_tex(network.gradients["W1"], 4) in guide
    assert matrix_tex(network.gradients["h"], 4) in guide
    assert fmt(float(network.values["z1"][1])) in guide
    softmax = trace_file("18-tanh-network-softmax.yaml")
    assert matrix_tex(softmax.gradients["z2"], 4) in guide
    z = softmax.values["z2"]
    assert matrix_tex(np.exp(z) / np.exp(z).sum(), 4) in guide
    batch = trace_file("19-batch-mean-loss.yaml")
    assert matrix_tex(batch.gradients["b1"], 4, row=True) in guide
    view = documents(solve_file("17-network-4-2-1.yaml"))["answers.md"]
    assert "18 scalar inputs" in view and "18 inputs and 7 gates" in guide


def test_a_kink_in_a_layer_is_announced():
    from conftest import solve_text

    t = solve_text("""
        title: A relu exactly at zero
        inputs: {W: [[1, -1], [2, 1]], x: [1, 1]}
        nodes:
          h: relu(W @ x)
          L: sum(h * h)
    """)
    assert t.kink_ops == ("relu",) and any(s.kink for s in t.steps)
    made = documents(t)
    assert "At a kink" in made["answers.md"] and "At a kink" in made["answers.tex"]
    assert r"\operatorname{relu}'(0) = 0" in made["worksheet.md"]


def test_hand_calculation_with_layers_is_announced_and_used():
    from conftest import solve_text

    t = solve_text("""
        title: A rounded layer
        inputs: {W: [[0.123, 0.456]], x: [1, 1]}
        nodes:
          z: sigmoid(W @ x)
          L: sum((z - 1) ** 2)
        rounding: 2
        precision: 6
    """)
    made = documents(t)
    assert "rounded to 2 decimals" in made["answers.md"]
    assert r"\approx \begin{bmatrix} 0.64 \end{bmatrix}" in made["answers.md"]
    _check_markdown(made["answers.md"])


def test_author_text_of_a_layer_problem_is_escaped():
    from conftest import unsafe

    hostile = r"A & B 100% _x_ <script>alert(1)</script> \input{/etc/passwd} $y$"
    t = dataclasses.replace(solve_file("16-neuron-as-a-layer.yaml"), title=hostile,
                            statement=r"Attack: \input{/etc/passwd} <b>x</b> $W x$",
                            tags=("<i>a</i>",))
    made = documents(t)
    for document in ("answers.md", "worksheet.md"):
        page = to_html(made[document])
        assert not unsafe(page.split("<h2", 1)[0])
    assert re.findall(r"\\input\{([^}]*)\}", made["worksheet.tex"]) == ["graph.tikz.tex"]
    assert re.findall(r"\\input\{([^}]*)\}", made["answers.tex"]) == [
        "graph.tikz.tex", "values.tikz.tex", "gradients.tikz.tex"]
