"""Variants, seeds, the stress test, rosters and the check-your-answer data."""
from __future__ import annotations

import datetime
import hashlib
import json
import math
import shutil
import struct
import subprocess
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer.cli import main
from tracer.core.drawing import make_variant, stress
from tracer.core.errors import TracerError
from tracer.core.graph import build_graph
from tracer.core.load import load_text
from tracer.core.variants import variant_seed
from tracer.exporters.checking import _blank_items, _sha, cells
from tracer.notation.numbers import fmt
from tracer.site.classroom import read_roster

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tracer" / "assets" / "tracer-check.js"


def graph_of(text: str):
    return build_graph(load_text(textwrap.dedent(text), "inline.yaml"))


NEURON = """
    title: t
    inputs: {w: 0.5, x: 2, b: 0.1}
    variants:
      w: {uniform: [-1, 1], decimals: 2}
      x: {integers: [-3, 3]}
      b: {choices: [0.1, 0.2, 0.3]}
    nodes:
      y: sigmoid(w * x + b)
"""


# ----------------------------------------------------------------------------- reading

def test_every_mistake_in_a_variants_block_is_reported_with_its_line():
    with pytest.raises(TracerError) as caught:
        load_text(textwrap.dedent("""\
            title: t
            inputs: {x: 1, w: 2}
            variants:
              xx: {integers: [-3, 3]}
              w: {uniform: [3, 1]}
              x: {integers: [1, 5], choices: [1]}
              avoid: [kink]
            release: 2027-02-30
            tolerance: {rtol: 1.5, atol: -1}
            nodes: {y: x * w}
            """), "bad.yaml")
    messages = [(d.line, d.message) for d in caught.value.diagnostics]
    assert [line for line, _ in messages] == [4, 5, 6, 7, 8, 9, 9]
    assert "'xx' is not an input" in messages[0][1] and "(the inputs are: x, w)" in messages[0][1]
    assert "low < high" in messages[1][1]
    assert "exactly one of" in messages[2][1]
    assert "did you mean 'kinks'?" in messages[3][1]
    assert "YYYY-MM-DD" in messages[4][1]


def test_a_problem_reads_its_release_date_and_tolerance():
    problem = load_text("title: t\ninputs: {x: 1}\nnodes: {y: x * 2}\nrelease: 2027-01-15\n"
                        "tolerance: {rtol: 0.005}\n")
    assert problem.release == datetime.date(2027, 1, 15)
    assert (problem.tolerance.rtol, problem.tolerance.atol) == (0.005, 1e-8)


# ----------------------------------------------------------------------------- drawing

def test_the_seed_is_the_sha256_of_salt_problem_and_key():
    assert variant_seed("spring", "03-two-paths", "student:s001") == hashlib.sha256(
        b"spring\x0003-two-paths\x00student:s001").hexdigest()


def test_the_same_key_gives_the_same_numbers_and_other_keys_others():
    graph = graph_of(NEURON)
    first = make_variant(graph, "salt", "student:42")
    assert make_variant(graph, "salt", "student:42").inputs == first.inputs
    assert make_variant(graph, "other salt", "student:42").inputs != first.inputs
    drawn = {make_variant(graph, "salt", f"variant-{k}").inputs for k in range(60)}
    assert len(drawn) >= 50
    for inputs in drawn:
        values = dict(inputs)
        assert -1 <= values["w"] <= 1 and round(values["w"], 2) == values["w"]
        assert values["x"] in {-3, -2, -1, 1, 2, 3}            # no 0 without zero: true
        assert values["b"] in {0.1, 0.2, 0.3}


def test_a_variant_traces_the_same_graph_with_its_inputs():
    graph = graph_of(NEURON)
    v = make_variant(graph, "salt", "variant-1")
    values = dict(v.inputs)
    z = values["w"] * values["x"] + values["b"]
    s = 1 / (1 + math.exp(-z))
    assert v.trace.values["y"] == pytest.approx(s, rel=1e-15)
    assert v.trace.gradients["w"] == pytest.approx(s * (1 - s) * values["x"], rel=1e-12)


def test_kinks_domain_errors_and_tiny_gradients_are_rejected_and_counted():
    kinked = graph_of("""
        title: t
        inputs: {x: 1}
        variants:
          x: {integers: [-1, 1], zero: true}
        nodes:
          y: relu(x) * 3
    """)
    report = stress(kinked, "s", 300)
    assert dict((r, n) for r, n, _ in report.reasons)["kinks"] == 300 - report.usable
    assert 60 < 300 - report.usable < 140          # a third of the draws are x = 0
    assert not report.passed
    logs = graph_of("""
        title: t
        inputs: {x: 1}
        variants:
          x: {integers: [-4, 4]}
        nodes:
          y: log(x)
    """)
    report = stress(logs, "s", 200)
    assert report.reasons[0][0] == "domain-errors" and "log" in report.reasons[0][2]
    for k in range(20):
        assert dict(make_variant(logs, "s", f"variant-{k}").inputs)["x"] > 0
    tiny = graph_of("""
        title: t
        inputs: {x: 1}
        variants:
          x: {uniform: [-20, 20], decimals: 1}
          avoid: [tiny-gradients]
        nodes:
          y: sigmoid(x)
    """)
    report = stress(tiny, "s", 400)
    assert report.reasons[0][0] == "tiny-gradients"
    allowed = graph_of("""
        title: t
        inputs: {x: 1}
        variants:
          x: {uniform: [-20, 20], decimals: 1}
          avoid: []
        nodes:
          y: sigmoid(x)
    """)
    assert stress(allowed, "s", 400).usable == 400


def test_check_variants_fails_below_90_percent_naming_the_cause(tmp_path, capsys):
    path = tmp_path / "kinked.yaml"
    path.write_text("title: t\ninputs: {x: 1}\nvariants:\n  x: {integers: [-1, 1], zero: "
                    "true}\nnodes: {y: relu(x)}\n", encoding="utf-8")
    assert main(["check", str(path), "--variants", "200"]) == 1
    captured = capsys.readouterr()
    assert "variants usable" in captured.out and "rejected" in captured.out
    assert "the most common cause is kinks" in captured.err
    assert main(["check", str(ROOT / "problems"), "--variants", "100"]) == 0


def test_bundled_problems_pass_a_thousand_variants():
    for path in sorted((ROOT / "problems").glob("*.yaml")):
        graph = build_graph(load_text(path.read_text(encoding="utf-8"), str(path)))
        report = stress(graph, "", 1000)
        assert report.passed, (path.name, report.usable, report.reasons[:1])


# ----------------------------------------------------------------------------- rosters

def test_a_roster_is_read_and_its_mistakes_reported(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Name,ID\nAda,s1\nAlan,s2\n,\n", encoding="utf-8")
    assert [(s.id, s.name, s.slug) for s in read_roster(roster)] == [
        ("s1", "Ada", "s1"), ("s2", "Alan", "s2")]
    roster.write_text("id\ns1\ns1\n\nS-1\n,x\n", encoding="utf-8")
    with pytest.raises(TracerError) as caught:
        read_roster(roster)
    lines = [(d.line, d.message) for d in caught.value.diagnostics]
    assert lines[0][0] == 3 and "already on line 2" in lines[0][1]
    roster.write_text("name\nAda\n", encoding="utf-8")
    with pytest.raises(TracerError, match="'id' column"):
        read_roster(roster)


# ----------------------------------------------------------------------------- checking

def python_check(x: float, entry: str, rtol: float, atol: float, digits: int) -> bool:
    """What tracer-check.js does, in Python: derive the keys of x's cells, find an item
    with the key's tag, decrypt its interval and compare."""
    salt, items = entry.split(":")
    for cell in cells(x, rtol, atol, digits):
        key = _sha(f"{salt}|{cell}").hex()
        tag = _sha(key + "|tag")[:8].hex()
        pad = _sha(key + "|pad")[:16]
        for k in range(0, len(items), 48):
            if items[k:k + 16] != tag:
                continue
            if cell.startswith("p:"):
                return True
            body = bytes(b ^ p for b, p in zip(bytes.fromhex(items[k + 16:k + 48]), pad))
            low, high = struct.unpack(">dd", body)
            if low <= x <= high:
                return True
    return False


def entry(a: float, rtol: float = 1e-2, atol: float = 1e-8, digits: int = 4) -> str:
    salt = _sha(repr(a)).hex()[:32]
    return salt + ":" + "".join(_blank_items(salt, a, rtol, atol, digits))


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(
    lambda v: v == 0 or abs(v) > 1e-12)


@settings(max_examples=300, deadline=None)
@given(a=finite, t=st.floats(min_value=-3, max_value=3))
def test_a_typed_value_is_right_exactly_within_the_tolerance(a, t):
    tolerance = max(1e-2 * abs(a), 1e-8)
    x = a + t * tolerance
    # The interval [a - tol, a + tol] in floating point, as the quizzes export it.
    expected = a - tolerance <= x <= a + tolerance or fmt(x, 4) == fmt(a, 4)
    assert python_check(x, entry(a), 1e-2, 1e-8, 4) == expected


def test_the_check_data_holds_no_answer_and_a_fixed_number_of_items():
    for a in (36.0, -0.7310585786300049, 0.0, 1e-9, 123456.789):
        text = entry(a)
        assert len(text.split(":")[1]) == 8 * 48
        for shown in (fmt(abs(a), 4), repr(abs(a)), fmt(abs(a), 4).replace(".", "")):
            if shown not in ("0", "0.0"):
                assert shown not in text.split(":")[1] or len(shown) < 3


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_the_pages_script_checks_as_python_does(tmp_path):
    cases, blanks, expected = [], {}, []
    for k, a in enumerate([0.0, 36.0, -60.0, 0.7310585786300049, -1.2345e-9, 5e-9,
                           1234567.0, -0.053217, -0.75, 1e-3]):
        blanks[str(k)] = entry(a)
        tolerance = max(1e-2 * abs(a), 1e-8)
        for x in (a, a + 0.999 * tolerance, a - 0.999 * tolerance, a + 1.001 * tolerance,
                  a - 1.001 * tolerance, -a + 1e-7, a * 1.5 + 1e-7):
            cases.append({"id": str(k), "text": repr(x)})
            expected.append(python_check(x, blanks[str(k)], 1e-2, 1e-8, 4))
    blanks["q"] = entry(-0.75)
    for text, right in (("-3/4", True), ("\u22120,75", True), ("3/4", False),
                        ("-75e-2", True), ("abc", None), ("1/0", None)):
        cases.append({"id": "q", "text": text})
        expected.append(right)
    data = {"rtol": 1e-2, "atol": 1e-8, "digits": 4, "cell": 1.25, "blanks": blanks}
    runner = tmp_path / "run.js"
    runner.write_text(
        "global.window = {}; global.document = {readyState: 'complete', querySelector: () => "
        "null};\nrequire(process.argv[2]);\nconst input = JSON.parse(require('fs')"
        ".readFileSync(0, 'utf8'));\nconsole.log(JSON.stringify({sha: window.tracerCheck"
        ".sha256('abc'), out: input.cases.map(c => window.tracerCheck.check(c.text, "
        "input.data.blanks[c.id], input.data))}));\n", encoding="utf-8")
    result = subprocess.run(["node", str(runner), str(JS)], capture_output=True, text=True,
                            input=json.dumps({"data": data, "cases": cases}), timeout=60)
    out = json.loads(result.stdout)
    assert out["sha"] == hashlib.sha256(b"abc").hexdigest()
    assert out["out"] == expected
