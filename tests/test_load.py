"""Problem files: what is accepted, and the message for each kind of mistake."""
from __future__ import annotations

import pytest

from tracer.core.errors import TracerError
from tracer.core.load import MAX_FILE_BYTES, load, problem_id

GOOD = """\
title: ok
inputs:
  x: 2
nodes:
  y: x * 3
"""


def messages(path):
    with pytest.raises(TracerError) as info:
        load(path)
    return info.value.diagnostics


def test_vectors_and_matrices_load_as_nested_tuples(write):
    p = load(write("title: t\ninputs:\n  x: [1, -2.5]\n  W: [[1, 2], [3, 4]]\n  s: 3\n"
                   "nodes:\n  y: sum(W @ x) * s\ndata: [x]\ncomponents: operations\n"))
    assert dict(p.inputs) == {"x": (1.0, -2.5), "W": ((1.0, 2.0), (3.0, 4.0)), "s": 3.0}
    assert p.data == ("x",) and p.components == "operations"


def test_a_good_file_loads(write):
    p = load(write(GOOD))
    assert p.title == "ok" and p.inputs == (("x", 2.0),) and p.nodes[0].name == "y"
    assert p.precision == 4 and p.rounding is None and p.wrt is None


@pytest.mark.parametrize("text, fragment, line", [
    ("title: t\nexpresion: x\ninputs: {x: 1}\n", "unknown key 'expresion' - did you mean 'expression'?", 2),
    ("title: t\ninputs:\n  x: 1\n  x: 2\nnodes: {y: x}\n", "duplicate key 'x' in inputs (first at line 3)", 4),
    ("title: a\ntitle: b\ninputs: {x: 1}\nnodes: {y: x}\n", "duplicate key 'title'", 2),
    ("title: t\ninputs: {x: 1}\nnodes: {y: x}\nupdate: {learning_rate: [1], params: [x]}\n",
     "learning_rate must be a number, not a list", 4),
    ("title: t\ninputs:\n  W: [[1, 2], [3]]\nnodes: {y: sum(W)}\n",
     "the input 'W' is not a matrix: row 2 has 1 entry but row 1 has 2", 3),
    ("title: t\ninputs: {x: []}\nnodes: {y: sum(x)}\n", "the input 'x' is an empty list", 2),
    ("title: t\ninputs: {x: [[[1]]]}\nnodes: {y: sum(x)}\n", "at most two levels of brackets", 2),
    ("title: t\ninputs: {x: [1, [2]]}\nnodes: {y: sum(x)}\n", "mixes numbers and lists", 2),
    ("title: t\ninputs: {x: [1, two]}\nnodes: {y: sum(x)}\n",
     "entry 2 of the input 'x' must be a number, not the text 'two'", 2),
    ("title: t\ninputs: {x: abc}\nnodes: {y: x}\n", "not the text 'abc'", 2),
    ("title: t\ninputs: {x: .nan}\nnodes: {y: x}\n", "must be a finite number", 2),
    ("title: t\ninputs: {x: .inf}\nnodes: {y: x}\n", "must be a finite number", 2),
    ("title: t\ninputs: {x: true}\nnodes: {y: x}\n", "not the boolean 'true'", 2),
    ("title: t\ninputs: {x: 1}\n", "neither 'nodes' nor 'expression'", None),
    ("inputs: {x: 1}\nnodes: {y: x}\n", "the key 'title' is missing", None),
    ("title: t\ninputs: {x: 1}\nnodes: {y: x}\nexpression: x\n", "either 'nodes' or 'expression'", 4),
    ("title: t\ninputs: {x: 1}\nnodes: {y: x.real}\n", "attribute access", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'x[0]'}\n", "subscripts", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'open(x)'}\n", "unknown function 'open'", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'lambda: x'}\n", "lambda is not allowed", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: '[x for x in x]'}\n", "comprehensions", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'f\"{x}\"'}\n", "f-strings", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: '(z := x)'}\n", "assignment", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: '\"x\"'}\n", "strings are not numbers", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'sin(x, x)'}\n", "sin() takes 1 argument, got 2", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'max(x)'}\n", "max() takes 2 arguments, got 1", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'x +'}\n", "syntax error", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 'x ^ 2'}\n", "write **", 3),
    ("title: t\ninputs: {x: 1}\nnodes: {y: 3}\n", "bare number", 3),
    ("title: t\ninputs: {lambda: 1}\nnodes: {y: x}\n", "Python keyword", 2),
    ("title: t\ninputs: {sin: 1}\nnodes: {y: x}\n", "name of the function sin()", 2),
    ("title: t\ninputs: {x: 1}\nnodes: {y: x}\nprecision: 0\n", "precision must be a whole number from 1 to 15", 4),
    ("title: t\ninputs: {x: 1}\nnodes: {y: x}\nrounding: 2.5\n", "rounding must be a whole number", 4),
    ("title: t\ninputs: {x: 1}\nnodes: {y: x}\nupdate: {learning_rate: 1}\n", "update needs 'params'", 4),
    ("title: t\ninputs: {x: 1}\nnodes: {y: x}\nupdate: {params: [x], learning_rate: 0}\n", "greater than 0", 4),
    ("title: t\ninputs: {x: 1}\nnodes: {y: x}\ntags: {a: 1}\n", "tags must be a list of names", 4),
    ("title: t\ninputs: {x: 1}\nnodes: {y: x}\ncomponents: rows\n", "components must be one of", 4),
    ("- a\n- b\n", "not a list", 1),
    ("just text\n", "not a single value", 1),
    ("", "the file is empty", None),
    ("title: [unclosed\n", "not valid YAML", None),
    ("title: t\n---\ntitle: u\n", "several YAML documents", None),
    ("title: !!python/object/apply:os.system ['echo hi']\ninputs: {x: 1}\nnodes: {y: x}\n",
     "the tag '!!python/object/apply:os.system' is not allowed", 1),
    ("a: &a [1, 2]\nb: *a\n", "anchors and aliases", 1),
])
def test_mistakes_are_reported_with_file_and_line(write, text, fragment, line):
    path = write(text, raw=True)
    diagnostics = messages(path)
    found = [d for d in diagnostics if fragment in d.message]
    assert found, [str(d) for d in diagnostics]
    assert found[0].path == str(path)
    if line is not None:
        assert found[0].line == line


def test_every_mistake_is_reported_at_once(write):
    path = write("title: t\nexpresion: x\ninputs: {x: yes, z: [[1], [2, 3]]}\nnodes: {y: 'foo(x)'}\n",
                 raw=True)
    text = [d.message for d in messages(path)]
    assert len(text) == 4, text


def test_billion_laughs_is_refused_quickly(write):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        lines.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [{','.join(['*' + prev] * 9)}]")
    diagnostics = messages(write("\n".join(lines) + "\n", raw=True))
    assert "anchors and aliases" in diagnostics[0].message


@pytest.mark.parametrize("data, fragment", [
    (b"\x00\x01\x02binary", "not a text file"),
    (b"title: caf\xe9\n", "not valid UTF-8"),
    (b"x" * (MAX_FILE_BYTES + 1), "larger than"),
])
def test_files_that_are_not_problem_text(write, data, fragment):
    assert fragment in messages(write(data))[0].message


def test_numbers_written_in_e_notation_are_numbers(write):
    p = load(write("title: t\ninputs: {x: 1e-3, y: 0x10, z: 1_000}\nnodes: {s: x + y + z}\n",
                   raw=True))
    assert dict(p.inputs) == {"x": 0.001, "y": 16.0, "z": 1000.0}


def test_a_missing_file_is_a_clean_error(tmp_path):
    assert "cannot read the file" in messages(tmp_path / "nope.yaml")[0].message


@pytest.mark.parametrize("name, expected", [
    ("two-paths.yaml", "two-paths"),
    ("../../etc/passwd.yaml", "passwd"),
    ("Weird Name!.yml", "weird-name"),
    ("....yaml", "problem"),
])
def test_problem_ids_are_safe_path_parts(name, expected):
    assert problem_id(name) == expected
