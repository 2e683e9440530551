"""Variants: the same problem with other input values, drawn reproducibly.

A problem's ``variants:`` block says how its inputs may vary::

    variants:
      x1: {integers: [-5, 5]}            # inclusive; 0 left out unless zero: true
      w1: {uniform: [-1, 1], decimals: 2}
      t:  {choices: [0, 1]}
      avoid: [kinks, tiny-gradients]

A variant's seed is the SHA-256 of a course salt, the problem's id and a key (a student's
id or a variant's number), so the same student always gets the same numbers.  The numbers
are drawn from a stream of SHA-256 blocks of that seed (not from Python's ``random``, whose
algorithms may change between versions).  Tracing a draw and rejecting those that meet
something to avoid is :mod:`tracer.core.drawing`.  The problem's own ``inputs`` stay the
canonical variant.
"""
from __future__ import annotations

import datetime
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from .errors import did_you_mean

__all__ = ["Draw", "VariantSpec", "Tolerance", "AVOIDABLE", "variant_seed", "draw_inputs",
           "Stream", "read_variants", "read_release", "read_tolerance", "TINY_GRADIENT",
           "MAX_ATTEMPTS", "USABLE_SHARE"]

#: What a variant may be asked to avoid; domain errors and overflows are always avoided
#: (such a variant cannot be traced), kinks and tiny gradients unless ``avoid`` leaves
#: them out.
AVOIDABLE = ("kinks", "domain-errors", "overflow", "tiny-gradients")
#: A gradient smaller than this in magnitude (and not exactly 0) is "tiny".
TINY_GRADIENT = 1e-4
#: Draws tried for one variant before giving up.
MAX_ATTEMPTS = 200
#: ``tracer check --variants N`` fails below this share of usable draws.
USABLE_SHARE = 0.9
_KINDS = ("integers", "uniform", "choices")
_DRAW_KEYS = _KINDS + ("decimals", "zero")


@dataclass(frozen=True)
class Draw:
    """How one input varies."""

    name: str
    kind: str                              # "integers", "uniform" or "choices"
    low: float = 0.0
    high: float = 0.0
    decimals: int = 2
    zero: bool = False
    choices: tuple[float, ...] = ()


@dataclass(frozen=True)
class VariantSpec:
    """A problem's ``variants:`` block."""

    draws: tuple[Draw, ...]
    avoid: frozenset = field(default_factory=lambda: frozenset(AVOIDABLE))


@dataclass(frozen=True)
class Tolerance:
    """A checked answer is right within max(rtol * |answer|, atol) of the answer."""

    rtol: float = 1e-2
    atol: float = 1e-8

    def of(self, answer: float) -> float:
        return max(self.rtol * abs(answer), self.atol)


# ----------------------------------------------------------------------------- drawing

def variant_seed(salt: str, problem_id: str, key: str) -> str:
    """SHA-256 of the course salt, the problem's id and the student's (or variant's) key."""
    return hashlib.sha256("\0".join((salt, problem_id, key)).encode("utf-8")).hexdigest()


class Stream:
    """Uniform integers from SHA-256(seed, counter): the same on every platform."""

    def __init__(self, seed: str):
        self.seed = bytes.fromhex(seed)
        self.counter = 0

    def bits64(self) -> int:
        block = hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
        self.counter += 1
        return int.from_bytes(block[:8], "big")

    def below(self, n: int) -> int:
        """An integer in [0, n), without modulo bias."""
        limit = (1 << 64) - (1 << 64) % n
        while True:
            x = self.bits64()
            if x < limit:
                return x % n

    def unit(self) -> float:
        return (self.bits64() >> 11) / float(1 << 53)


def _one(draw: Draw, stream: Stream) -> float:
    for _ in range(1000):
        if draw.kind == "choices":
            value = draw.choices[stream.below(len(draw.choices))]
            return float(value)
        if draw.kind == "integers":
            value = float(int(draw.low) + stream.below(int(draw.high) - int(draw.low) + 1))
        else:
            value = round(draw.low + stream.unit() * (draw.high - draw.low), draw.decimals)
            value = min(max(value, draw.low), draw.high) + 0.0
        if value != 0 or draw.zero:
            return value
    return value  # pragma: no cover - a range of zeros only is refused when read


def draw_inputs(base: Sequence[tuple[str, Any]], spec: VariantSpec,
                stream: Stream) -> tuple[tuple[str, Any], ...]:
    """The canonical inputs with every varying one drawn anew, in the inputs' order; a
    vector or a matrix is drawn entry by entry, row by row, keeping its shape."""
    values = dict(base)
    drawn = {d.name: _like(values.get(d.name), d, stream) for d in spec.draws}
    return tuple((name, drawn.get(name, value)) for name, value in base)


def _like(value: Any, draw: "Draw", stream: Stream) -> Any:
    if isinstance(value, (tuple, list)):
        return tuple(_like(entry, draw, stream) for entry in value)
    return _one(draw, stream)


# ----------------------------------------------------------------------------- reading

def read_variants(ck: Any, node: Any, inputs: Sequence[tuple[str, float]]
                  ) -> Optional[VariantSpec]:
    """The ``variants:`` block, checked by the problem file's checker ``ck`` (which
    collects every mistake with its line)."""
    names = [n for n, _ in inputs]
    draws: list[Draw] = []
    avoid = frozenset(AVOIDABLE)
    entries = ck.mapping(node, "variants")
    for key, key_node, value in entries:
        if key == "avoid":
            items = ck.names(value, "variants: avoid")
            wrong = [i for i in items or () if i not in AVOIDABLE]
            for item in wrong:
                ck.error(f"variants: avoid: unknown '{item}'{did_you_mean(item, AVOIDABLE)} "
                         f"(choose from: {', '.join(AVOIDABLE)})", value)
            # Domain errors and overflows cannot be traced: they are always avoided.
            avoid = frozenset(items or ()) | {"domain-errors", "overflow"}
            continue
        if key not in names:
            ck.error(f"variants: '{key}' is not an input{did_you_mean(key, names)}: only "
                     "inputs vary (the inputs are: " + ", ".join(names) + ")", key_node)
            continue
        draw = _read_draw(ck, key, value)
        if draw is not None:
            draws.append(draw)
    if entries and not draws and not ck.errors:
        ck.error("variants: name at least one input and how it varies, e.g. "
                 "'x: {integers: [-5, 5]}'", node)
    return VariantSpec(tuple(draws), avoid) if draws else None


def _read_draw(ck: Any, name: str, node: Any) -> Optional[Draw]:
    what = f"variants: {name}"
    found = {}
    for key, key_node, value in ck.mapping(node, what):
        if key not in _DRAW_KEYS:
            ck.error(f"{what}: unknown key '{key}'{did_you_mean(key, _DRAW_KEYS)} (the keys "
                     f"are: {', '.join(_DRAW_KEYS)})", key_node)
            continue
        found[key] = value
    kinds = [k for k in _KINDS if k in found]
    if len(kinds) != 1:
        ck.error(f"{what}: give exactly one of integers: [low, high], uniform: [low, high] "
                 "or choices: [a, b, ...]", node)
        return None
    kind = kinds[0]
    values = _numbers(ck, found[kind], f"{what}: {kind}")
    if values is None:
        return None
    zero = False
    if "zero" in found:
        zero_node = found["zero"]
        zero = zero_node.tag.endswith(":bool") and zero_node.value.lower() in ("true", "yes",
                                                                                "on")
        if not zero_node.tag.endswith(":bool"):
            ck.error(f"{what}: zero must be true or false", zero_node)
    decimals = 2
    if "decimals" in found:
        if kind != "uniform":
            ck.error(f"{what}: decimals applies to uniform only", found["decimals"])
        else:
            decimals = ck.integer(found["decimals"], f"{what}: decimals", 0, 12) or 2
    if kind == "choices":
        if not values:
            ck.error(f"{what}: choices is empty: list the values to choose from", found[kind])
            return None
        return Draw(name, kind, choices=tuple(values), zero=True)
    if len(values) != 2 or not values[0] < values[1]:
        ck.error(f"{what}: {kind} takes [low, high] with low < high", found[kind])
        return None
    low, high = values
    if kind == "integers":
        if low != int(low) or high != int(high):
            ck.error(f"{what}: integers takes whole numbers [low, high]", found[kind])
            return None
        if not zero and low == 0 == high:
            return None   # pragma: no cover - refused above (low < high)
    return Draw(name, kind, low, high, decimals, zero)


def _numbers(ck: Any, node: Any, what: str) -> Optional[list[float]]:
    if not ck.plain(node, "tag:yaml.org,2002:seq", f"{what} must be a list of numbers"):
        return None
    values = [ck.number(item, f"each entry of {what}") for item in node.value]
    return None if any(v is None for v in values) else values  # type: ignore[return-value]


def read_release(ck: Any, node: Any) -> Optional[datetime.date]:
    """``release: 2027-01-15``: the day the answer key joins the student edition."""
    text = str(getattr(node, "value", "")).strip()
    try:
        return datetime.date.fromisoformat(text)
    except (ValueError, TypeError):
        ck.error(f"release must be a date written YYYY-MM-DD, not '{text[:40]}'", node)
        return None


def read_tolerance(ck: Any, node: Any) -> Optional[Tolerance]:
    """``tolerance: {rtol: 0.01, atol: 1e-8}``: how close a checked answer must be."""
    found = {}
    for key, key_node, value in ck.mapping(node, "tolerance"):
        if key not in ("rtol", "atol"):
            ck.error(f"unknown key '{key}' in tolerance{did_you_mean(key, ('rtol', 'atol'))} "
                     "(the keys are: rtol, atol)", key_node)
            continue
        number = ck.number(value, f"tolerance: {key}")
        if number is not None and not (0 <= number < (1 if key == "rtol" else math.inf)):
            ck.error(f"tolerance: {key} must be " + ("from 0 to below 1" if key == "rtol"
                                                      else "0 or more"), value)
            number = None
        found[key] = number
    if any(v is None for v in found.values()):
        return None
    tolerance = Tolerance(**{k: v for k, v in found.items()})
    if tolerance.rtol == 0 and tolerance.atol == 0:
        ck.error("tolerance: rtol and atol are both 0: no typed answer could be right", node)
        return None
    return tolerance
