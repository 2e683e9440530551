"""exporters: a worked solution written out, one module per format, each registered.

``markdown`` (the site's pages), ``latex`` (print), ``figures`` (SVG and TikZ), ``code``
(staged Python, PyTorch), ``trace_json`` and ``terminal`` (the command line); ``base``
holds the interface, the registry and the templates, ``mathtex`` the LaTeX math that the
Markdown and LaTeX documents share.  A new format is one new module that registers an
:class:`~tracer.exporters.base.Exporter`.  May import :mod:`tracer.core`,
:mod:`tracer.notation`, :mod:`tracer.safety` and :mod:`tracer.view`.
"""
