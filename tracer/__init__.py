"""tracer: backpropagation problems as complete, correct, step-by-step teaching documents.

The pipeline, one module per stage: :mod:`tracer.load` (YAML -> Problem),
:mod:`tracer.graph` (-> Graph), :mod:`tracer.engine` (-> Trace), :mod:`tracer.render`
(-> documents) and :mod:`tracer.build` (-> site).
"""

__version__ = "0.1.0"
