"""Check-your-answer data: what a worksheet page needs to tell a typed answer right or
wrong in the browser, without holding the answer.

A blank's answer ``a`` is right for a typed ``x`` when ``|x - a| <= max(rtol |a|, atol)``
(the interval ``[lo, hi]``) or when ``x`` written at the problem's precision is the
answer's text.  The page holds, per blank, a few *items*: each is the interval encrypted
with a key that only a number near the answer leads to.  The key is the SHA-256 of the
blank's salt and a *cell*: the cell of ln|x| on a grid of width 1.25 rtol (with the sign),
the cell of x on a grid of width atol, or x's text at the shown precision.  The browser
computes the cells of the typed number, derives their keys, and finds an item whose tag
matches; decrypting it gives the interval, and the check is exact.  The items of the
cells around the answer are padded with decoys to a fixed count and sorted.

What this protects against: reading the answers off the page, its source or its files
(there are no answers in them, only tags and ciphertexts).  What it does not: someone who
runs the same computation as the browser over every cell (a few thousand per blank) finds
the interval in well under a second; a salted hash cannot hide a number that can be
guessed by trying.  It is a worksheet, not an exam.
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
from dataclasses import dataclass
from typing import Optional, Sequence

from ..core.variants import Tolerance
from ..notation.numbers import fmt
from ..view.solution import Solution

__all__ = ["Blank", "Note", "note", "blanks", "check_data", "canonical_seed", "own_seed", "cells",
           "ITEMS", "LOG_CELL"]

#: Items per blank (real ones and decoys): the count tells nothing about the answer.
ITEMS = 8
#: The width of a log cell, in units of rtol: the interval spans at most three cells.
LOG_CELL = 1.25


@dataclass(frozen=True)
class Blank:
    """One blank of a worksheet that takes a number, and its answer."""

    id: str
    value: float


def blanks(solution: Solution) -> list[Blank]:
    """Every numeric blank of the worksheet, in the order of the page."""
    found = [Blank(f"f-{g.name}", g.value) for g in solution.gates]
    found += [Blank(f"l-{k}", local.value) for k, local in enumerate(
        (local for g in solution.gates for local in g.locals), 1)]
    for step in solution.steps:
        found.append(Blank(f"s-{step.index}", step.contribution))
        if step.sum is not None:
            found.append(Blank(f"sum-{step.node}", step.sum.grad))
    found += [Blank(f"g-{f.name}", f.grad) for f in solution.final]
    if solution.update is not None:
        found += [Blank(f"u-{p.name}", p.new) for p in solution.update.params]
        found += [Blank("before", solution.update.before), Blank("after", solution.update.after)]
    return found


@dataclass(frozen=True)
class Note:
    """The variant note printed on every worksheet and key: the problem's id and a short
    seed, so that a paper copy can be matched to its key; the variant's number and the
    student's name where there are."""

    id: str
    short: str
    number: Optional[int]
    student: str


def note(solution: Solution, seed: str = "", number: Optional[int] = None,
         student: str = "") -> Note:
    """The note of ``solution`` rendered as the variant of ``seed`` (its own inputs when
    empty)."""
    return Note(solution.id, (seed or own_seed(solution))[:8], number, student)


def canonical_seed(problem_id: str, inputs: Sequence[tuple[str, float]]) -> str:
    """The seed of a problem's own inputs (a drawn variant has the seed it was drawn
    from): it names the variant on paper and salts its check data."""
    text = ",".join(f"{name}={value!r}" for name, value in inputs)
    return hashlib.sha256(f"canonical\0{problem_id}\0{text}".encode()).hexdigest()


def own_seed(solution: Solution) -> str:
    """The seed of a solution's own inputs (see :func:`canonical_seed`)."""
    return canonical_seed(solution.id, [(v.name, _as_written(v.value))
                                        for v in solution.inputs])


def _as_written(value):
    """A value as a problem file holds it: a number, or nested tuples of numbers (a layer's
    values are arrays)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(_as_written(v) for v in value)
    return float(value)


def _sha(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def cells(x: float, rtol: float, atol: float, digits: int) -> list[str]:
    """The cells of a typed number ``x``, as the browser computes them (tracer-check.js)."""
    found = []
    if x != 0 and rtol > 0:
        found.append(f"r:{'-' if x < 0 else '+'}:{math.floor(math.log(abs(x)) / (LOG_CELL * rtol))}")
    if atol > 0 and abs(x / atol) < 1e15:
        found.append(f"a:{math.floor(x / atol)}")
    found.append(f"p:{fmt(x, digits)}")
    return found


def _answer_cells(a: float, lo: float, hi: float, rtol: float, atol: float,
                  digits: int) -> list[str]:
    """Every cell a number in [lo, hi] can fall in, with one to spare on each side (the
    browser's logarithm may differ from Python's in the last bit)."""
    found = [f"p:{fmt(a, digits)}"]
    if rtol * abs(a) >= atol and rtol > 0 and lo * hi > 0:
        width = LOG_CELL * rtol
        sign = "-" if a < 0 else "+"
        ends = sorted(math.floor(math.log(abs(v)) / width) for v in (lo, hi))
        found += [f"r:{sign}:{i}" for i in range(ends[0] - 1, ends[1] + 2)]
    elif atol > 0:
        found += [f"a:{j}" for j in range(math.floor(lo / atol) - 1, math.floor(hi / atol) + 2)]
    return found


def _item(salt: str, cell: str, lo: float, hi: float) -> str:
    key = _sha(f"{salt}|{cell}").hex()
    tag = _sha(key + "|tag")[:8]
    pad = _sha(key + "|pad")[:16]
    body = bytes(b ^ p for b, p in zip(struct.pack(">dd", lo, hi), pad))
    return (tag + body).hex()


def _blank_items(salt: str, a: float, rtol: float, atol: float, digits: int) -> list[str]:
    tolerance = max(rtol * abs(a), atol)
    lo, hi = a - tolerance, a + tolerance
    items = sorted({_item(salt, cell, lo, hi)
                    for cell in _answer_cells(a, lo, hi, rtol, atol, digits)})
    k = 0
    while len(items) < ITEMS:
        items.append(_sha(f"{salt}|decoy|{k}").hex()[:48])
        k += 1
    return sorted(items)


def check_data(solution: Solution, seed: Optional[str] = None) -> str:
    """The check data of a worksheet as compact JSON: the tolerances, the precision and,
    per blank, its salt and items."""
    seed = seed or own_seed(solution)
    tolerance = solution.tolerance or Tolerance()
    rtol, atol = tolerance.rtol, tolerance.atol
    digits = solution.precision
    data = {"rtol": rtol, "atol": atol, "digits": digits, "cell": LOG_CELL, "blanks": {}}
    for blank in blanks(solution):
        salt = _sha(f"{seed}|{blank.id}").hex()[:32]
        # The blank's salt, then its items (48 hex digits each), in one string.
        data["blanks"][blank.id] = salt + ":" + "".join(
            _blank_items(salt, blank.value, rtol, atol, digits))
    return json.dumps(data, separators=(",", ":"), sort_keys=True)
