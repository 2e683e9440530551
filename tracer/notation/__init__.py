"""notation: how primitives, names, numbers and formulas are written, one table per backend.

``latex``, ``svg`` (figure labels), ``python``, ``torch`` and ``sympy`` (the SymPy bridge)
each hold a ``TABLE`` with one entry per primitive of :mod:`tracer.core.primitives`
(tests/test_notation.py names any entry missing); ``names`` reads variable names (Greek
letters, subscripts) for all of them, ``numbers`` writes numbers.  May import only
:mod:`tracer.core`.
"""
