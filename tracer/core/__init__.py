"""core: problem files, expressions, the table of primitives, the graph and the engine.

``load`` (YAML -> Problem) -> ``graph`` (-> Graph) -> ``engine`` (``(graph, inputs)`` ->
Trace).  Everything here is mathematics and plain frozen data: no LaTeX, no formatting and
no wording (error messages aside).  May import only the standard library, PyYAML and
NetworkX; nothing else of tracer.
"""
