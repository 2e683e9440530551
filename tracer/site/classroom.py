"""Variants of a course: the stress test of ``tracer check --variants N``."""
from __future__ import annotations

import sys
from typing import Sequence

from ..core.errors import Diagnostic, TracerError
from ..core.drawing import stress
from ..core.variants import USABLE_SHARE
from ..exporters.base import environment

__all__ = ["check_variants"]


def check_variants(graphs: Sequence, count: int, salt: str) -> list[TracerError]:
    """Draw ``count`` variants of each problem, print what was usable and why the rest
    was rejected; the failures are problems without ``variants:`` or with fewer than
    90% usable draws, naming the most common cause."""
    failures: list[TracerError] = []
    reports = []
    for graph in graphs:
        problem = graph.problem
        if problem.variants is None:
            failures.append(TracerError([Diagnostic(problem.path, "no 'variants:' block: say "
                                                    "how the inputs may vary, e.g. 'variants: "
                                                    "{x: {integers: [-5, 5]}}'")]))
            continue
        report = stress(graph, salt, count)
        reports.append((problem.path, report))
        if not report.passed:
            reason, number, example = report.reasons[0]
            failures.append(TracerError([Diagnostic(
                problem.path, f"only {report.usable} of {report.drawn} variants are usable "
                f"(below {USABLE_SHARE:.0%}); the most common cause is {reason} ({number} "
                f"draws), e.g. {example}: narrow or move the ranges of 'variants:'",
                problem.line("variants"))]))
    sys.stdout.write(environment().get_template("terminal/variants.txt.j2").render(
        reports=reports))
    return failures
