"""The HTML of a generated page, cleaned against an allow-list before it is published.

A problem's statement is Markdown from an untrusted author.  Checking the Markdown source
for dangerous links cannot be complete (reference definitions may be written across
lines, inside quotes or list items, and Markdown has more ways to make a link than a
pattern can follow), so the HTML that Markdown produces is cleaned as well: only the
elements, attributes and URL schemes below survive, whatever the source was.  The
source-level escaping of :mod:`tracer.safety.markdown` stays as a second wall.

The allow-list is what tracer's own pages and the Markdown a statement may use are made
of: text structure, tables, code, figures, the step-through's button and data
attributes, the check-your-answer box's data, and links to http, https, mailto or
relative addresses.  No script, style, frame, form, object or event handler passes; no
``javascript:`` or ``data:`` address.
Cleaning uses nh3 (the Rust sanitizer ammonia, built on html5ever's parser, so it reads
HTML the way a browser does).  Imports nh3 and the standard library only.
"""
from __future__ import annotations

from functools import lru_cache

__all__ = ["clean_html", "ALLOWED_TAGS", "ALLOWED_ATTRIBUTES", "ALLOWED_SCHEMES"]

ALLOWED_TAGS = frozenset("""
a abbr b blockquote br button caption cite code col colgroup dd del details dfn div dl dt
em figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small
span strong sub summary sup table tbody td tfoot th thead tr u ul var
""".split())
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "button": {"type"},
    # the check-your-answer box of a worksheet (tracer-check.js reads these)
    "div": {"data-count", "hidden", "data-check", "data-right", "data-wrong", "data-unread",
            "data-tally", "data-label"},
    "span": {"data-blank"},
    "figure": {"data-step", "data-box", "data-size"},   # the step-through (tracer.js)
    "details": {"open"},
    "ol": {"start", "type"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "align", "style"},
    "th": {"colspan", "rowspan", "align", "style", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
}
#: Schemes a link or an image may use; addresses without a scheme (relative) pass.
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
#: The one style property Markdown's tables write (column alignment).
_STYLE_PROPERTIES = frozenset({"text-align"})


@lru_cache(maxsize=None)
def _cleaner():
    import nh3

    return nh3.Cleaner(tags=set(ALLOWED_TAGS),
                       attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                       url_schemes=set(ALLOWED_SCHEMES), strip_comments=True,
                       link_rel=None, filter_style_properties=set(_STYLE_PROPERTIES))


def clean_html(html: str) -> str:
    """``html`` with everything outside the allow-list removed (an element not allowed
    is dropped but its text kept; script and style elements go with their content)."""
    return _cleaner().clean(html)
