"""The MkDocs plugin: adds every problem's generated pages and files to the site.

Enable it in mkdocs.yml::

    plugins:
      - search
      - tracer:
          problems: problems      # the folder of problem files (relative to mkdocs.yml)
          pdf: auto               # auto | true | false
          cache_dir: .tracer-cache
          allow_html: false       # raw HTML in problem statements

Everything generated lives in memory and reaches the site through
``File.generated``: nothing is ever written into the docs folder.  The coupling to MkDocs
stays in this file; the work is done by the build's phases (:mod:`tracer.site.build`),
which hand a ``tracer build``'s prepared pages to the plugin through :meth:`use_pages`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files

from ..core.errors import TracerError
from .build import check_problems, find_problems, generate, keep_pages
from .cache import ASSETS, Cache
from .config import Site, site_settings
from .pages import SITE_FOLDER, ProblemPages, home_page, problems_nav
from .pdf import SOURCE_DATE_EPOCH, compile_pdfs

__all__ = ["TracerPlugin", "TracerConfig", "NAV_PLACEHOLDER", "ASSET_FOLDER"]

log = get_plugin_logger(__name__)

#: A nav entry with this value is replaced by one section per problem.
NAV_PLACEHOLDER = SITE_FOLDER + "/"
#: Where tracer's own scripts, styles and KaTeX are served from, inside the site.
ASSET_FOLDER = "assets/tracer"
_STYLES = ("katex/katex.min.css", "tracer.css")
_SCRIPTS = ("katex/katex.min.js", "katex/contrib/auto-render.min.js", "tracer.js")


class TracerConfig(base.Config):
    """The plugin's options in mkdocs.yml."""

    problems = c.Type(str, default="problems")
    pdf = c.Choice(("auto", True, False), default="auto")
    cache_dir = c.Type(str, default=".tracer-cache")
    allow_html = c.Type(bool, default=False)


class TracerPlugin(BasePlugin[TracerConfig]):
    """Generates the problems' pages, figures, LaTeX and PDFs and the home page."""

    def __init__(self) -> None:
        #: Pages prepared by ``tracer build``; when None the plugin generates them itself.
        self.prepared: Optional[list[ProblemPages]] = None
        #: Files (site paths of the output) the site being built already has: MkDocs' dirty
        #: build neither renders nor writes them.
        self.kept: frozenset[str] = frozenset()
        #: The URLs of the pages of the last build, in the order MkDocs renders them.
        self.page_urls: list[str] = []
        self.command = "build"
        self._cache: Optional[Cache] = None

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
        if config.use_directory_urls:
            # Pages would move to problems/<id>/answers/ and the relative links of their
            # figures (src="step-01.svg") would point one folder too deep.
            raise PluginError("the tracer plugin needs 'use_directory_urls: false' in "
                              "mkdocs.yml (pages at problems/<id>/answers.html)")
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
        site = site_settings(config, self)
        pages = self.prepared if self.prepared is not None else self._generate(site)
        generated: dict[str, Any] = {"index.md": home_page(pages)}
        for problem in pages:
            for name, content in problem.files.items():
                generated[f"{SITE_FOLDER}/{problem.id}/{name}"] = content
        clash = sorted(uri for uri in generated if files.get_file_from_path(uri) is not None)
        if clash:
            raise PluginError(
                "these hand-written files in the docs folder have the names of generated "
                f"ones: {', '.join(clash)}; rename or remove them (tracer never overwrites them)")
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
        config.nav = _expand_nav(config.nav, problems_nav(pages))
        if self.kept:
            for file in files:
                if file.dest_uri in self.kept:
                    file.__class__ = _Kept  # the same file, told unchanged to the dirty build
        return files

    def on_env(self, env: Any, *, config: Any, files: Files) -> Any:
        self.page_urls = [f.url for f in files.documentation_pages()]
        return env

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
            # While previewing, a problem being edited must not take the others down.
            for d in exc.diagnostics:
                log.error(str(d))
            return self._good_problems(site)

    def _good_problems(self, site: Site) -> list[ProblemPages]:
        pages: list[ProblemPages] = []
        try:
            sources = find_problems(site.problems)
        except TracerError:
            return pages
        for path in sources:
            try:
                checked = check_problems([path], self._cache, allow_html=site.allow_html)
                found = keep_pages(checked, self._cache)
                found, _ = compile_pdfs(found, self._cache, site.pdf, say=log.info,
                                               config_file=site.config_file)
            except TracerError:
                continue
            pages.extend(found)
        return pages


class _Kept(File):
    """A file the site being built already holds, unchanged (linked in from the site
    before): a dirty build of MkDocs neither renders nor writes it."""

    def is_modified(self) -> bool:
        return False


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
