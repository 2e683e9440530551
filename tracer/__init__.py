"""tracer: backpropagation problems as complete, correct, step-by-step teaching documents.

The layers, each importing only those before it (ARCHITECTURE.md):
:mod:`tracer.core` (problem file -> graph -> Trace), :mod:`tracer.notation` (how
primitives, names and numbers are written), :mod:`tracer.safety` (author text escaped),
:mod:`tracer.view` (Trace -> worked solution), :mod:`tracer.exporters` (worked solution ->
files) and :mod:`tracer.site` (files -> the published site); :mod:`tracer.cli` on top.
"""

__version__ = "0.1.0"
