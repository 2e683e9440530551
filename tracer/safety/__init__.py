"""safety: untrusted author text (titles, statements, tags) escaped for each target.

``text`` cleans it and splits a statement into code, math and text; ``markdown`` and
``latex`` escape it for the site and for print, one function per kind of text; ``html``
cleans the HTML of a generated page against an allow-list; ``terminal`` escapes what is
printed.  May import only the standard library and nh3 (the HTML sanitizer).
"""
