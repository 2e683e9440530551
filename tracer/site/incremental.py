"""Rebuilding only what changed: the site of the build before, kept where it still holds.

MkDocs renders every page of a site on every build, and each page carries the whole
navigation: a course of 500 problems is a thousand pages and most of a minute.  A build
records, in the cache folder, what made the site it published (the *site key*: mkdocs.yml,
the hand-written pages, the navigation and home page, tracer's code and the versions of
MkDocs and its theme; and one key per problem: its generated files) and what the output
folder then held.  The next build compares:

* nothing changed, and the output is as that build left it: MkDocs does not run at all;
* some problems changed, nothing else: MkDocs runs in its *dirty* mode, in which it
  renders and writes only the files it is told have changed.  The files of the problems
  that did not change are linked into the new site from the old one (hard links: no
  copy), every other file is made afresh, and the search index gets the old entries of
  the pages not rendered again, in page order, so that the site is byte-identical to a
  clean build's;
* anything else (or no record, or an output folder changed by hand): a full build.

The new site is still built beside the old one and swapped in whole; the old site is only
ever read.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence

from .cache import ASSETS, code_fingerprint, digest
from .config import Site
from .pages import SITE_FOLDER, ProblemPages

__all__ = ["Plan", "plan", "link_kept", "merge_search_index", "record", "forget",
           "quiet_dirty_build", "output_name", "SEARCH_INDEX"]

#: What the last build published, in the cache folder.
_STATE = "site.json"
#: The search plugin's index, inside the site.
SEARCH_INDEX = "search/search_index.json"
#: Libraries whose version shapes the HTML.
_LIBRARIES = ("mkdocs", "mkdocs-material", "pymdown-extensions", "markdown", "pygments",
              "jinja2")


@dataclass(frozen=True)
class Plan:
    """What this build must make: ``kind`` is "none" (the site is up to date), "some" (the
    problems not in ``kept`` changed) or "all"."""

    kind: str
    site_key: str
    problem_keys: Mapping[str, str]
    kept: frozenset[str] = frozenset()          # ids of the problems whose files are kept
    kept_files: frozenset[str] = frozenset()    # their source files, as site paths
    copied: frozenset[str] = frozenset()        # the old site's other files, as site paths
    rendered: frozenset[str] = frozenset()      # pages MkDocs renders even so (see plan)
    previous: Optional[Path] = None             # the site they are kept from
    state: Optional[Path] = field(default=None, compare=False)

    @property
    def dirty(self) -> bool:
        return self.kind == "some"

    @property
    def kept_outputs(self) -> frozenset[str]:
        """The files of the new site that MkDocs must leave as they are: the kept
        problems' files and the rest of the old site, but for the pages in ``rendered``."""
        return frozenset(output_name(u) for u in self.kept_files) | self.copied - self.rendered


def plan(site: Site, pages: Sequence[ProblemPages], extra: bytes = b"",
         state: str = _STATE) -> Plan:
    """Compare this build's inputs with those of the site in the output folder: ``pages``
    are the problems' pages the site publishes, ``extra`` what else shapes it (its other
    generated files and navigation), ``state`` the record's file in the cache folder (one
    per site built from the same problems)."""
    site_key = _site_key(site, pages, extra)
    keys = {p.id: _problem_key(p) for p in pages}
    state_file = site.cache_dir / state if site.cache_dir is not None else None
    full = Plan("all", site_key, keys, state=state_file)
    before = _read_state(state_file)
    if before is None or before.get("site") != site_key or \
            before.get("output") != str(site.output) or set(before.get("problems", {})) != set(keys):
        return full
    manifest = before.get("manifest", {})
    if not _intact(site.output, manifest):
        return full
    kept = frozenset(i for i, k in keys.items() if before["problems"].get(i) == k)
    if len(kept) == len(keys):
        return Plan("none", site_key, keys, kept, previous=site.output, state=state_file)
    if site.mkdocs.nav is None:
        # The navigation would take the pages' titles from their content, which a page not
        # rendered again does not give: every page is rendered.
        return full
    files = frozenset(f"{SITE_FOLDER}/{p.id}/{name}" for p in pages if p.id in kept
                      for name in p.files)
    others = frozenset(name for name in manifest if not name.startswith(SITE_FOLDER + "/"))
    return Plan("some", site_key, keys, kept, files, others, _untitled(site.mkdocs.nav),
                previous=site.output, state=state_file)


def _untitled(nav: list) -> frozenset[str]:
    """The pages that the navigation of mkdocs.yml lists without a title: the navigation of
    every page takes their titles from their content, so they are rendered again."""
    found = set()
    stack = list(nav)
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.add(output_name(item))
        elif isinstance(item, dict):
            for value in item.values():
                stack.extend(value if isinstance(value, list) else [])
        elif isinstance(item, list):
            stack.extend(item)
    return frozenset(found)


def output_name(uri: str) -> str:
    """Where MkDocs writes a source file: a page's Markdown becomes its HTML."""
    return uri[:-3] + ".html" if uri.endswith(".md") else uri


def link_kept(plan: Plan, staging: Path) -> None:
    """Put the kept problems' files of the old site into the new one, as hard links (a
    copy where the file system has none), and copies of the old site's other files (a few
    hundred: the theme's, the hand-written pages, the home page), which MkDocs leaves as
    they are or writes anew: a copy, so that no write ever reaches the old site."""
    assert plan.previous is not None
    old, new = str(plan.previous), str(staging)
    made: set[str] = set()
    # Strings, not Paths, and each folder made once: a course is tens of thousands of files.
    for name in sorted(output_name(uri) for uri in plan.kept_files):
        target = os.path.join(new, name)
        _folder(os.path.dirname(target), made)
        try:
            os.link(os.path.join(old, name), target)
        except OSError:
            shutil.copy2(os.path.join(old, name), target)
    for name in sorted(plan.copied - plan.rendered):   # a page missing is a page rendered
        target = os.path.join(new, name)
        _folder(os.path.dirname(target), made)
        shutil.copy2(os.path.join(old, name), target)


def _folder(path: str, made: set[str]) -> None:
    if path not in made:
        os.makedirs(path, exist_ok=True)
        made.add(path)


def merge_search_index(staging: Path, page_order: Sequence[str],
                       sources: Sequence[tuple[Path, set[str]]]) -> None:
    """Complete the search index of a dirty build in ``staging`` with the entries of the
    pages it did not render: each of ``sources`` is another search index and the URLs of
    the pages to take from it.  The entries go in the order of the pages (``page_order``,
    their URLs), as a build of the whole site writes them."""
    new_file = staging / SEARCH_INDEX
    if not new_file.is_file():
        return      # no search plugin
    new = json.loads(new_file.read_text(encoding="utf-8"))
    by_page: dict[str, list] = {}
    taken: set[str] = set()
    for path, pages in sources:
        taken |= pages
        for entry in json.loads(path.read_text(encoding="utf-8"))["docs"]:
            page = entry["location"].split("#")[0]
            if page in pages:
                by_page.setdefault(page, []).append(entry)
    for entry in new["docs"]:
        page = entry["location"].split("#")[0]
        if page not in taken:
            by_page.setdefault(page, []).append(entry)
    docs = [entry for page in page_order for entry in by_page.get(page, ())]
    # The search plugin writes its index exactly so (json.dumps, compact).
    text = json.dumps({"config": new["config"], "docs": docs}, separators=(",", ":"),
                      default=str)
    new_file.write_text(text, encoding="utf-8")


def record(plan: Plan, output: Path) -> None:
    """Remember what the published site was made from, and what its folder holds."""
    if plan.state is None:
        return
    state = {"site": plan.site_key, "output": str(output), "problems": dict(plan.problem_keys),
             "manifest": _manifest(output)}
    tmp = plan.state.with_name(f"{plan.state.name}.{os.getpid()}.tmp")
    try:
        plan.state.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        os.replace(tmp, plan.state)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def forget(plan: Plan) -> None:
    """Drop the record (before the output changes: a build that fails halfway leaves no
    record claiming a site that is not there)."""
    if plan.state is not None:
        with contextlib.suppress(OSError):
            plan.state.unlink()


@contextlib.contextmanager
def quiet_dirty_build() -> Iterator[None]:
    """MkDocs warns that a dirty build may be inaccurate (a warning fails a strict build);
    here the files it is told are unchanged are exactly those linked in, so it is not."""
    logger = logging.getLogger("mkdocs.commands.build")

    def keep(record: logging.LogRecord) -> bool:
        return "'dirty' build" not in record.getMessage()

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


# ----------------------------------------------------------------------------- keys

def _site_key(site: Site, pages: Sequence[ProblemPages], extra: bytes) -> str:
    h = hashlib.sha256()
    h.update(code_fingerprint().encode())
    for dist in _LIBRARIES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            h.update(f"\0{dist}={importlib.metadata.version(dist)}".encode())
    h.update(b"\0config\0" + site.config_file.read_bytes())
    for root in (Path(site.mkdocs.docs_dir), ASSETS):
        for path in sorted(root.rglob("*")):
            if path.is_file():
                h.update(f"\0{path.relative_to(root).as_posix()}\0".encode())
                h.update(hashlib.sha256(path.read_bytes()).digest())
    h.update(b"\0site\0" + extra)
    for p in pages:   # which files each problem has (a download link may point to any)
        h.update(f"\0{p.id}\0{p.source}\0".encode() + "\0".join(sorted(p.files)).encode())
    return h.hexdigest()


def _problem_key(pages: ProblemPages) -> str:
    parts = [pages.id]
    for name in sorted(pages.files):
        content = pages.files[name]
        if isinstance(content, Path):     # a cache file, in a folder named by its key
            parts.append(f"{name}\0{content.parent.name}")
        else:
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            parts.append(f"{name}\0{hashlib.sha256(data).hexdigest()}")
    return digest(*parts)


def _read_state(path: Optional[Path]) -> Optional[dict]:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _manifest(output: Path) -> dict[str, list[int]]:
    found = {}
    root = str(output)
    for folder, _, names in os.walk(root):
        prefix = folder[len(root) + 1:].replace(os.sep, "/")
        for name in names:
            st = os.stat(os.path.join(folder, name))
            found[f"{prefix}/{name}" if prefix else name] = [st.st_size, st.st_mtime_ns]
    return found


def _intact(output: Path, manifest: Mapping[str, list]) -> bool:
    """Whether ``output`` holds exactly the files it held after the last build, unchanged
    (by size and time stamp)."""
    if not output.is_dir():
        return False
    try:
        return _manifest(output) == manifest
    except OSError:
        return False
