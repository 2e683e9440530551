"""view: a trace as a worked solution, typed and in no format.

``derive`` (Graph -> Derivation: the formulas, once per graph) and ``solution``
(Graph, Trace, Derivation -> Solution: the worked solution, numbers as numbers).  May
import :mod:`tracer.core` and :mod:`tracer.notation` (the SymPy bridge).
"""
from .derive import Derivation, LocalFormula, derive
from .solution import Solution, solve

__all__ = ["Derivation", "LocalFormula", "derive", "Solution", "solve"]
