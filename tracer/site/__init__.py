"""site: the build (phases, cache, parallel workers), pdflatex, publishing, and the MkDocs
plugin.  May import every layer below: :mod:`tracer.core`, :mod:`tracer.notation`,
:mod:`tracer.safety`, :mod:`tracer.view` and :mod:`tracer.exporters`.
"""
