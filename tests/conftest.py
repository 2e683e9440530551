"""Shared helpers: load and trace the bundled problems and small inline ones."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tracer.engine import trace
from tracer.graph import build_graph
from tracer.load import load, load_text

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"


def trace_file(name: str, **kw):
    """Trace a problem from problems/."""
    return trace(build_graph(load(PROBLEMS / name)), **kw)


def trace_text(text: str, **kw):
    """Trace a problem given inline as YAML."""
    return trace(build_graph(load_text(textwrap.dedent(text), "inline.yaml")), **kw)


@pytest.fixture
def write(tmp_path):
    """Write a problem file and return its path."""
    def _write(text, name="problem.yaml", raw=False):
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text if raw else textwrap.dedent(text), encoding="utf-8")
        return path
    return _write
