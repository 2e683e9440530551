"""A gate of one operation written out, once per shape.

A large problem is mostly gates of one operation on names and numbers (``u1 * x2``,
``tanh(u3)``), and a hundred thousand of them come in a handful of shapes.  Each shape is
printed once, with markers in place of the names, by the same printers as any formula
(:func:`~tracer.notation.latex.to_tex`, :func:`~tracer.notation.python.to_python`, the
local derivatives of :func:`~tracer.core.rules.local_formula`); each gate then only puts
its names in.  The text is the same as printing the gate alone (a test compares them).
Imports only :mod:`tracer.core` and the rest of notation.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable, NamedTuple, Union

from ..core.expr import Call, Const, Expr, Var
from ..core.rules import local_formula
from .latex import tex_leaf, tex_symbol, to_tex
from .python import py_leaf, to_python

__all__ = ["GateText", "GateTexts", "gate_text"]

_new = tuple.__new__   # a NamedTuple made without its Python-level constructor


class GateText(NamedTuple):
    """A gate of one operation as text: its expression in Python and in LaTeX, and its
    local derivatives in LaTeX, one per operand that is a name (in slot order)."""

    python: str
    tex: str
    local_tex: tuple[str, ...]


# Markers never met in a name or a number (names are ASCII letters, digits and _), and
# whose first and last characters are neither digits nor signs, as the printers' choices
# (parentheses, an explicit product) look at the neighbouring characters.
def _marker(i: int) -> str:
    return f"\x00{i}\x00"


def _marked(leaf: Union[Const, Var], numbers) -> tuple[str, int]:
    return (leaf.name, 100) if isinstance(leaf, Var) else numbers(leaf)


def _template(text: str, count: int) -> str:
    """Printed text with markers -> a ``str.format`` template over the names."""
    text = text.replace("{", "{{").replace("}", "}}")
    for i in range(count):
        text = text.replace(_marker(i), "{%d}" % i)
    return text


@lru_cache(maxsize=4096)
def _templates(op: str, shape: tuple) -> tuple[str, str, tuple[str, ...]]:
    """The templates of one shape: each operand is the index of a distinct name or a
    number (its ``repr``, so that -0.0 is not 0.0); the gate's own name is the last."""
    names = 1 + max((a for a in shape if isinstance(a, int)), default=-1)
    args = tuple(Var(_marker(a)) if isinstance(a, int) else Const(float(a)) for a in shape)
    call = Call(op, args)
    out = _marker(names)
    python = to_python(call, lambda leaf: _marked(leaf, py_leaf))
    tex = to_tex(call, lambda leaf: _marked(leaf, tex_leaf))
    local = tuple(to_tex(local_formula(call, i, out), lambda leaf: _marked(leaf, tex_leaf))
                  for i, arg in enumerate(args) if isinstance(arg, Var))
    return (_template(python, names + 1), _template(tex, names + 1),
            tuple(_template(t, names + 1) for t in local))


class GateTexts:
    """The texts of the gates of one graph, whose names are ``names``: calling it with a
    gate of one operation (``call``) and the gate's name gives its :class:`GateText`.
    Each name's LaTeX symbol is written once."""

    def __init__(self, names: Iterable[str]):
        self.symbols = {name: tex_symbol(name) for name in names}
        # Two names written alike (x1 and x_1) change the printers' choices, which look at
        # the text: the gates using both are then printed on their own.
        self.alike = len(set(self.symbols.values())) < len(self.symbols)

    def __call__(self, call: Call, name: str) -> GateText:
        # The shapes of one or two operands, which are nearly all gates, are told apart
        # without a loop: this runs once per gate.
        args = call.args
        if len(args) == 2:
            a, b = args
            if type(a) is Var:
                if type(b) is Var:
                    if a.name == b.name:
                        shape: tuple = (0, 0)
                        names: tuple[str, ...] = (a.name, name)
                    else:
                        shape, names = (0, 1), (a.name, b.name, name)
                else:
                    shape, names = (0, repr(b.value)), (a.name, name)  # type: ignore
            elif type(b) is Var:
                shape, names = (repr(a.value), 0), (b.name, name)  # type: ignore
            else:
                shape, names = (repr(a.value), repr(b.value)), (name,)  # type: ignore
        elif len(args) == 1 and type(args[0]) is Var:
            shape, names = (0,), (args[0].name, name)
        else:
            shape, names = self._shape(args, name)
        python, tex, local = _templates(call.op, shape)
        symbols = list(map(self.symbols.__getitem__, names))
        if self.alike and len(set(symbols)) < len(symbols):
            return _alone(call, name)
        return _new(GateText, (python.format(*names), tex.format(*symbols),
                               tuple([t.format(*symbols) for t in local])))

    @staticmethod
    def _shape(args: tuple[Expr, ...], name: str) -> tuple[tuple, tuple[str, ...]]:
        distinct: list[str] = []
        shape: list[Union[int, str]] = []
        for arg in args:
            if type(arg) is Var:
                if arg.name not in distinct:
                    distinct.append(arg.name)
                shape.append(distinct.index(arg.name))
            else:
                shape.append(repr(arg.value))  # type: ignore[union-attr]
        return tuple(shape), (*distinct, name)


def gate_text(call: Call, name: str) -> GateText:
    """The texts of one gate of one operation, ``name = call``."""
    return GateTexts([a.name for a in call.args if isinstance(a, Var)] + [name])(call, name)


def _alone(call: Call, name: str) -> GateText:
    expr: Expr = call
    return GateText(to_python(expr), to_tex(expr),
                    tuple(to_tex(local_formula(call, i, name))
                          for i, arg in enumerate(call.args) if isinstance(arg, Var)))
