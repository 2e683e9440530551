"""MkDocs on every core: the problems' pages shared among processes.

MkDocs renders one page after another.  Rendering a page depends on that page, the
navigation and the configuration only, so the problems are dealt out, in turn, to one
process per core (this one and forked children).  Each runs MkDocs' dirty build, told
that the other processes' problem files are already there, each into its own folder;
the children's files then move into the site, and the search index gets every page's
entries in page order.  The site is byte-identical to one rendered by a single process
(a test compares them); with two cores the pages take about half as long.

A dirty build here never means "maybe stale": the files MkDocs is told are unchanged are
exactly the ones another process (or, see :mod:`tracer.site.incremental`, the site
before) provides.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional, Sequence

from ..core.errors import Diagnostic, TracerError
from .config import Site, mkdocs_messages
from .incremental import (SEARCH_INDEX, Plan, link_kept, merge_search_index, output_name,
                          quiet_dirty_build)
from .pages import SITE_FOLDER, ProblemPages

__all__ = ["render_site", "MIN_SHARE"]

#: Problems a process must get for another process to pay (forking, the theme's assets
#: and the hand-written pages are made again in each).
MIN_SHARE = 20


def render_site(site: Site, pages: Sequence[ProblemPages], plan: Optional[Plan],
                staging: Path, workers: Optional[int] = None) -> None:
    """MkDocs renders the site into ``staging``; raises :class:`TracerError` with MkDocs'
    messages when it fails."""
    dirty = plan is not None and plan.dirty
    kept = plan.kept if dirty else frozenset()                     # type: ignore[union-attr]
    kept_files = plan.kept_outputs if dirty else frozenset()       # type: ignore[union-attr]
    if dirty:
        link_kept(plan, staging)  # type: ignore[arg-type]
    for leftover in staging.parent.glob(f"{staging.name}.part*"):   # of a build killed
        shutil.rmtree(leftover, ignore_errors=True)
    todo = [p for p in pages if p.id not in kept]
    count = min(workers or _cores(), max(1, len(todo) // MIN_SHARE))
    shares = [todo[i::count] for i in range(count)]
    children = []
    for i, share in enumerate(shares[1:], 1):
        folder = staging.with_name(f"{staging.name}.part{i}")
        own = {p.id for p in share}
        others = kept_files | _files(p for p in todo if p.id not in own)
        children.append((folder, share, _start(site, pages, others, folder)))
    mine = kept_files | _files(p for share in shares[1:] for p in share)
    failures: list[str] = []
    try:
        failures += _render(site, pages, mine, staging, dirty=bool(mine))
    finally:
        for folder, share, (process, conn) in children:
            failures += _finish(process, conn)
    try:
        if failures:
            raise TracerError([Diagnostic(str(site.config_file), f"the site did not build: {m}")
                               for m in dict.fromkeys(failures)])
        sources = []
        if dirty:
            sources.append((plan.previous / SEARCH_INDEX,  # type: ignore[union-attr]
                            {name for name in kept_files if name.endswith(".html")}))
        for folder, share, _ in children:
            files = _files(share)
            for name in sorted(files):
                _move(folder / name, staging / name)
            sources.append((folder / SEARCH_INDEX, _page_urls(files)))
        if sources:
            merge_search_index(staging, site.plugin.page_urls, sources)
    finally:
        for folder, _, _ in children:
            shutil.rmtree(folder, ignore_errors=True)


def _render(site: Site, pages: Sequence[ProblemPages], kept: frozenset[str], folder: Path,
            dirty: bool) -> list[str]:
    """MkDocs, in this process, into ``folder``, leaving out the files ``kept``: its
    messages if it fails."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.exceptions import Abort, BuildError

    config = site.mkdocs
    config["site_dir"] = str(folder)
    site.plugin.use_pages(pages, kept)
    with mkdocs_messages() as messages, quiet_dirty_build():
        config.plugins.on_startup(command="build", dirty=False)
        try:
            mkdocs_build(config, dirty=dirty)
        except (Abort, BuildError) as exc:
            return messages or [str(exc)]
        finally:
            config.plugins.on_shutdown()
    return []


def _start(site: Site, pages: Sequence[ProblemPages], kept: frozenset[str], folder: Path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(site, pages, kept, folder, send),
                              daemon=True)
    process.start()
    send.close()
    return process, receive


def _child(site: Site, pages: Sequence[ProblemPages], kept: frozenset[str], folder: Path,
           send) -> None:
    try:
        send.send(_render(site, pages, kept, folder, dirty=True))
    except BaseException as exc:  # reported by the parent, as its own would be
        send.send([f"{type(exc).__name__}: {exc}"])


def _finish(process, receive) -> list[str]:
    try:
        failures = receive.recv()
    except EOFError:
        failures = ["a worker process rendering pages stopped without an answer"]
    process.join()
    return list(failures)


def _files(pages) -> frozenset[str]:
    """The files of the site made from ``pages``, as site paths."""
    return frozenset(output_name(f"{SITE_FOLDER}/{p.id}/{name}") for p in pages
                     for name in p.files)


def _page_urls(files: frozenset[str]) -> set[str]:
    return {name for name in files if name.endswith(".html")}


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
