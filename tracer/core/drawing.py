"""Drawing variants: a variant's inputs traced, and redrawn from the same stream while they
meet something to avoid (a kink, a domain error, an overflow, a tiny gradient); the stress
test of ``tracer check --variants N``."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .engine import trace
from .errors import Diagnostic, TracerError
from .variants import (MAX_ATTEMPTS, TINY_GRADIENT, USABLE_SHARE, Stream, VariantSpec,
                       draw_inputs, variant_seed)

__all__ = ["Variant", "StressReport", "rejection", "make_variant", "stress"]


@dataclass(frozen=True)
class Variant:
    """One drawn variant: its key, seed, inputs and trace."""

    key: str
    seed: str                              # hex SHA-256
    inputs: tuple[tuple[str, float], ...]
    trace: Any
    attempts: int

    @property
    def short(self) -> str:
        """The seed as printed on paper: enough to match a worksheet to its key."""
        return self.seed[:8]


def rejection(graph: Any, inputs: Mapping[str, float], avoid: frozenset
              ) -> tuple[Optional[str], Optional[str], Any]:
    """Trace ``graph`` at ``inputs``: (None, None, trace) when usable, else (reason, what
    happened, None) with the reason one of :data:`AVOIDABLE`."""
    try:
        result = trace(graph, inputs, check=False)
    except TracerError as exc:
        message = exc.diagnostics[0].message
        return ("overflow" if "overflow" in message else "domain-errors"), message, None
    if "kinks" in avoid:
        for node in result.nodes:
            if _at_kink(node):
                return "kinks", f"the node '{node.name}' ({node.op or 'gate'}) is at a kink", None
    if "tiny-gradients" in avoid:
        for node in result.nodes:
            tiny = _tiny(node.grad)
            if tiny is not None:
                return ("tiny-gradients", f"the gradient of '{node.name}' is "
                        f"{tiny:.3g}, below {TINY_GRADIENT:g}", None)
    return None, None, result


def _written(value: Any) -> str:
    """A drawn value as an example shows it: a number, or a vector or matrix as lists."""
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_written(v) for v in value) + "]"
    return f"{value:g}"


def _at_kink(node: Any) -> bool:
    """A node of a scalar trace with a local gradient at a kink, or a layer whose gate
    found one (its ``kinks``)."""
    locals_ = getattr(node, "locals", None)
    if locals_ is not None:
        return any(local.kink for local in locals_)
    return bool(getattr(node, "kinks", ()))


def _tiny(grad: Any) -> Optional[float]:
    """A gradient (or an entry of one) that is not 0 but below :data:`TINY_GRADIENT`."""
    for g in _entries(grad):
        if g != 0 and abs(g) < TINY_GRADIENT:
            return float(g)
    return None


def _entries(value: Any):
    if hasattr(value, "flat"):      # an array of a layer
        return (float(v) for v in value.flat)
    return (value,)


def make_variant(graph: Any, salt: str, key: str, *, check: bool = True) -> Variant:
    """The variant of ``graph``'s problem for ``key`` (a student's id or ``variant-3``):
    drawn from its seed, redrawn while it meets something to avoid."""
    problem = graph.problem
    spec: Optional[VariantSpec] = problem.variants
    seed = variant_seed(salt, problem.id, key)
    if spec is None:
        raise TracerError([Diagnostic(problem.path, "this problem has no 'variants:' block: "
                                      "say how its inputs may vary to make variants of it")])
    stream = Stream(seed)
    reasons: Counter = Counter()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        inputs = draw_inputs(problem.inputs, spec, stream)
        reason, _, result = rejection(graph, dict(inputs), spec.avoid)
        if reason is None:
            if check:
                result = trace(graph, dict(inputs))
            return Variant(key, seed, inputs, result, attempt)
        reasons[reason] += 1
    common = ", ".join(f"{r} ({n})" for r, n in reasons.most_common())
    raise TracerError([Diagnostic(problem.path, f"no usable variant for '{key}' in "
                                  f"{MAX_ATTEMPTS} draws (rejected: {common}): widen or move "
                                  "the ranges of 'variants:'", problem.line("variants"))])


@dataclass(frozen=True)
class StressReport:
    """What ``tracer check --variants N`` found for one problem."""

    drawn: int
    usable: int
    reasons: tuple[tuple[str, int, str], ...]    # (reason, count, an example), most first
    distinct: int                                # distinct usable input sets

    @property
    def passed(self) -> bool:
        return self.usable >= USABLE_SHARE * self.drawn


def stress(graph: Any, salt: str, count: int) -> StressReport:
    """Draw ``count`` variants (keys ``variant-1`` ...) once each, without redrawing, and
    count how many are usable and why the others were rejected."""
    problem = graph.problem
    spec: VariantSpec = problem.variants
    counts: Counter = Counter()
    examples: dict[str, str] = {}
    seen = set()
    for k in range(1, count + 1):
        stream = Stream(variant_seed(salt, problem.id, f"variant-{k}"))
        inputs = draw_inputs(problem.inputs, spec, stream)
        reason, what, _ = rejection(graph, dict(inputs), spec.avoid)
        if reason is None:
            seen.add(inputs)
        else:
            counts[reason] += 1
            examples.setdefault(reason, f"{what} at " + ", ".join(
                f"{n} = {_written(v)}" for n, v in inputs if any(d.name == n for d in spec.draws)))
    reasons = tuple((r, n, examples[r]) for r, n in counts.most_common())
    return StressReport(count, count - sum(counts.values()), reasons, len(seen))


