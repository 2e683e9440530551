"""safety: untrusted author text (titles, statements, tags) escaped for each target.

``text`` cleans it and splits a statement into code, math and text; ``markdown`` and
``latex`` escape it for the site and for print, one function per kind of text.  May import
only the standard library.
"""
