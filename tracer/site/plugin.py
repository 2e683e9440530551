"""The MkDocs plugin: adds every problem's generated pages and files to the site.

Enable it in mkdocs.yml::

    plugins:
      - search
      - tracer:
          problems: problems      # the folder of problem files (relative to mkdocs.yml)
          pdf: auto               # auto | true | false
          cache_dir: .tracer-cache
          allow_html: false       # raw HTML in problem statements
          course: ""              # course name, term and author: on every page and PDF
          term: ""
          author: ""

The plugin sets what the generated pages need itself: ``use_directory_urls: false`` (the
pages link their figures by relative paths), no web fonts (the site works offline) and
the Markdown extensions of the pages (math, tables, notes).  A hand-written ``index.md``
in the docs folder is the home page, with the list of problems added below it.

Everything generated lives in memory and reaches the site through
``File.generated``: nothing is ever written into the docs folder.  The coupling to MkDocs
stays in this file; the work is done by the build's phases (:mod:`tracer.site.build`),
which hand a ``tracer build``'s prepared pages to the plugin through :meth:`use_pages`.
"""
from __future__ import annotations

import copy
import datetime
import os
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files

from ..core.errors import TracerError
from ..safety.html import clean_html
from .build import check_problems, find_problems, generate, keep_pages
from .cache import ASSETS, Cache
from .config import EDITION_VARIABLE, Site, site_settings
from .editions import (Edition, edition, instructor_only, release_dates, released,
                       withheld_links)
from .pages import SITE_FOLDER, ProblemPages
from .pdf import SOURCE_DATE_EPOCH, compile_pdfs
from .preview import error_pages

__all__ = ["TracerPlugin", "TracerConfig", "NAV_PLACEHOLDER", "ASSET_FOLDER"]

log = get_plugin_logger(__name__)

#: A nav entry with this value is replaced by one section per problem.
NAV_PLACEHOLDER = SITE_FOLDER + "/"
#: Where tracer's own scripts, styles and KaTeX are served from, inside the site.
ASSET_FOLDER = "assets/tracer"
_STYLES = ("katex/katex.min.css", "tracer.css")
_SCRIPTS = ("katex/katex.min.js", "katex/contrib/auto-render.min.js", "tracer.js",
            "tracer-check.js")


class TracerConfig(base.Config):
    """The plugin's options in mkdocs.yml."""

    problems = c.Type(str, default="problems")
    pdf = c.Choice(("auto", True, False), default="auto")
    cache_dir = c.Type(str, default=".tracer-cache")
    allow_html = c.Type(bool, default=False)
    course = c.Type(str, default="")
    term = c.Type(str, default="")
    author = c.Type(str, default="")
    # The classroom: the course salt of the variants, the instructor edition's folder
    # (tracer build), every key released to the student edition, and the edition a plain
    # `mkdocs build` makes.
    salt = c.Type(str, default="")
    instructor_dir = c.Type(str, default="public-instructor")
    release_keys = c.Type(bool, default=False)
    edition = c.Choice(("student", "instructor"), default="student")


class TracerPlugin(BasePlugin[TracerConfig]):
    """Generates the problems' pages, figures, LaTeX and PDFs and the home page."""

    def __init__(self) -> None:
        #: Pages prepared by ``tracer build``; when None the plugin generates them itself.
        self.prepared: Optional[list[ProblemPages]] = None
        #: An edition prepared by ``tracer build`` (all its files and navigation).
        self.edition: Optional[Edition] = None
        #: Files (site paths of the output) the site being built already has: MkDocs' dirty
        #: build neither renders nor writes them.
        self.kept: frozenset[str] = frozenset()
        #: The URLs of the pages of the last build, in the order MkDocs renders them.
        self.page_urls: list[str] = []
        self.command = "build"
        self._cache: Optional[Cache] = None
        #: The list of problems, added below a hand-written home page (index.md).
        self._catalogue: Optional[str] = None
        self._student = False
        self._withheld: set[str] = set()
        self._generated: set[str] = set()    # the pages this plugin made (src URIs)
        self._nav: Optional[list] = None
        self._made_nav: Optional[list] = None

    def use_edition(self, edition: Optional[Edition]) -> None:
        """Publish this prepared edition in the next build; None to go back."""
        self.edition = edition

    def use_pages(self, pages: Optional[Sequence[ProblemPages]],
                  kept: Iterable[str] = ()) -> None:
        """Publish these prepared pages in the next build instead of generating them
        (``tracer build`` has checked, rendered and compiled them already); None to go
        back to generating them.  ``kept``: the files of the output (site paths) that the
        site being built already holds as they are (see :mod:`tracer.site.incremental`)."""
        self.prepared = None if pages is None else list(pages)
        self.kept = frozenset(kept)

    # Defining on_startup also keeps this instance (and its cache) across the rebuilds of
    # `mkdocs serve`.
    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command

    def on_config(self, config: Any) -> Any:
        for change in settle_config(config):
            log.info(change)
        # The nav as written: each build (one per edition) expands it anew.  MkDocs calls
        # this again on every build of the same configuration, whose nav is then ours.
        if self._nav is None or config.nav is not self._made_nav:
            self._nav = copy.deepcopy(config.nav)
        # The sitemap carries the build date: a fixed one keeps builds byte-identical.
        os.environ.setdefault("SOURCE_DATE_EPOCH", str(SOURCE_DATE_EPOCH))
        for name in _STYLES:
            if f"{ASSET_FOLDER}/{name}" not in config.extra_css:
                config.extra_css.append(f"{ASSET_FOLDER}/{name}")
        scripts = [str(s) for s in config.extra_javascript]
        for name in _SCRIPTS:
            if f"{ASSET_FOLDER}/{name}" not in scripts:
                config.extra_javascript.append(f"{ASSET_FOLDER}/{name}")
        return config

    def on_files(self, files: Files, *, config: Any) -> Files:
        made = self.edition
        if made is None:
            site = site_settings(config, self)
            pages = self.prepared if self.prepared is not None else self._generate(site)
            made = self._edition(site, pages)
        generated: dict[str, Any] = dict(made.files)
        self._catalogue = made.catalogue
        self._student = made.name == "student"
        self._withheld = instructor_only(site_settings(config, self)) if self._student \
            else set()
        for uri in self._withheld:
            files.remove(files.get_file_from_path(uri))
        clash = sorted(uri for uri in generated if files.get_file_from_path(uri) is not None)
        if clash:
            raise PluginError(
                "these hand-written files in the docs folder have the names of generated "
                f"ones: {', '.join(clash)}; rename or remove them (tracer never overwrites them)")
        self._generated = {uri for uri in generated if uri.endswith(".md")}
        for uri, content in generated.items():
            if isinstance(content, Path):   # a cached file: MkDocs reads or copies it
                files.append(File.generated(config, uri, abs_src_path=str(content)))
            else:
                files.append(File.generated(config, uri, content=content))
        for path in sorted(ASSETS.rglob("*")):
            # Notes for maintainers (.md) would become pages; the rest is served as is.
            if path.is_file() and path.suffix != ".md":
                uri = f"{ASSET_FOLDER}/{path.relative_to(ASSETS).as_posix()}"
                files.append(File.generated(config, uri, abs_src_path=str(path)))
        nav = _without(_expand_nav(copy.deepcopy(self._nav), made.problems_nav),
                       self._withheld)
        config.nav = nav + made.students_nav if nav is not None and made.students_nav else nav
        self._made_nav = config.nav
        if self.kept:
            for file in files:
                if file.src_uri in generated and not file.src_uri.endswith(".md") and \
                        not file.src_uri.startswith(NAV_PLACEHOLDER):
                    # a course's file (its quizzes, the booklets): the plan keeps no record
                    # of its content, so the dirty build writes it over the old site's copy
                    file.__class__ = _Fresh
                elif file.dest_uri in self.kept:
                    file.__class__ = _Kept  # the same file, told unchanged to the dirty build
        return files

    def on_env(self, env: Any, *, config: Any, files: Files) -> Any:
        self.page_urls = [f.url for f in files.documentation_pages()]
        return env

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Files
                         ) -> Optional[str]:
        if page.file.generated_by is not None:
            return None
        if self._student:
            markdown = withheld_links(markdown, page.file.src_uri,
                                      lambda uri: files.get_file_from_path(uri) is not None,
                                      self._withheld)
        if self._catalogue is not None and page.file.src_uri == "index.md":
            return markdown.rstrip("\n") + "\n\n" + self._catalogue
        return markdown

    def on_page_content(self, html: str, *, page: Any, config: Any, files: Any) -> str:
        """A generated page's HTML (a statement's Markdown in it) against the allow-list of
        :mod:`tracer.safety.html`; the hand-written pages are the site owner's own."""
        if page.file.generated_by is not None and page.file.src_uri in self._generated:
            return clean_html(html)
        return html

    def _edition(self, site: Site, pages: list[ProblemPages]) -> Edition:
        """The edition of the plugin's ``edition`` option (the student edition unless it
        says otherwise), without variants: what plain ``mkdocs build`` publishes.
        ``tracer serve`` names the edition it previews in :data:`EDITION_VARIABLE`."""
        name = os.environ.get(EDITION_VARIABLE) or self.config.edition
        keys: set[str] = set()
        if name == "student":
            try:
                dates = release_dates(find_problems(site.problems))
            except TracerError:
                dates = {p.id: None for p in pages}
            keys = released(dates, site.release_keys, datetime.date.today())
        return edition(name, pages, [], [], keys, site=site)

    def on_serve(self, server: Any, *, config: Any, builder: Any) -> Any:
        site = site_settings(config, self)
        server.watch(str(site.problems))
        return server

    def _generate(self, site: Site) -> list[ProblemPages]:
        if self._cache is None or self._cache.folder != site.cache_dir:
            self._cache = Cache(site.cache_dir)
        try:
            return generate(site, self._cache, say=log.info)
        except TracerError as exc:
            if self.command != "serve":
                raise PluginError("\n".join(str(d) for d in exc.diagnostics)) from None
            # While previewing, a problem being edited must not take the others down, and
            # its own pages show its errors.
            for d in exc.diagnostics:
                log.error(str(d))
            return self._preview_problems(site)

    def _preview_problems(self, site: Site) -> list[ProblemPages]:
        """Every problem's pages; a broken problem's pages are its errors."""
        pages: list[ProblemPages] = []
        try:
            sources = find_problems(site.problems, [])   # the errors were logged already
        except TracerError:
            return pages
        for path in sources:
            try:
                checked = check_problems([path], self._cache, allow_html=site.allow_html,
                                         course=site.course)
                found = keep_pages(checked, self._cache)
                found, _ = compile_pdfs(found, self._cache, site.pdf, say=log.info,
                                        config_file=site.config_file)
            except TracerError as exc:
                found = [error_pages(path, exc.diagnostics)]
            pages.extend(found)
        return pages


#: The Markdown extensions the generated pages are written for, and the settings they need.
_EXTENSIONS: dict[str, dict[str, Any]] = {
    "toc": {}, "tables": {}, "attr_list": {}, "md_in_html": {}, "admonition": {},
    "pymdownx.details": {}, "pymdownx.superfences": {}, "pymdownx.highlight": {},
    "pymdownx.arithmatex": {"generic": True},
}


def settle_config(config: Any) -> list[str]:
    """Set what the generated pages need in a loaded mkdocs.yml, rather than fail on it
    late; returns what was changed, to be said."""
    changes = []
    if config["use_directory_urls"]:
        # Pages would move to problems/<id>/answers/ and the relative links of their
        # figures (src="step-01.svg") would point one folder too deep.
        config["use_directory_urls"] = False
        changes.append("tracer: use_directory_urls set to false (the problems' pages link "
                       "their figures by relative paths)")
    theme = config["theme"]
    if getattr(theme, "name", None) == "material" and theme.get("font") is not False:
        theme["font"] = False     # Material loads Roboto from Google Fonts otherwise
        changes.append("tracer: web fonts turned off (theme font: false): the site must "
                       "work offline")
    present = {name.removeprefix("markdown.extensions.")
               for name in config["markdown_extensions"]}
    for name, settings in _EXTENSIONS.items():
        if name not in present:
            config["markdown_extensions"].append(name)
            changes.append(f"tracer: Markdown extension {name} added")
        current = config["mdx_configs"].setdefault(name, {})
        for key, value in settings.items():
            if current.get(key) != value:
                current[key] = value
                changes.append(f"tracer: {name}: {key} set to {value}")
    return changes


class _Kept(File):
    """A file the site being built already holds, unchanged (linked in from the site
    before): a dirty build of MkDocs neither renders nor writes it."""

    def is_modified(self) -> bool:
        return False


class _Fresh(File):
    """A generated file that the dirty build writes whatever the time stamps say."""

    def is_modified(self) -> bool:
        return True


def _without(nav: Optional[list], pages: set[str]) -> Optional[list]:
    """The nav without the entries of these pages (and without sections left empty)."""
    if nav is None or not pages:
        return nav
    kept = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) and len(item) == 1 \
            else item
        if isinstance(value, list):
            inner = _without(value, pages)
            if inner:
                kept.append({next(iter(item)): inner})
        elif value not in pages:
            kept.append(item)
    return kept


def _expand_nav(nav: Optional[list], problems: list) -> Optional[list]:
    """Replace the entry ``Problems: problems/`` of the nav by the problems' sections."""
    if nav is None:
        return None
    expanded = []
    for item in nav:
        if isinstance(item, dict) and len(item) == 1:
            (title, value), = item.items()
            if value == NAV_PLACEHOLDER:
                expanded.append({title: problems})
                continue
            if isinstance(value, list):
                expanded.append({title: _expand_nav(value, problems)})
                continue
        expanded.append(item)
    return expanded
