"""The build cache: generated pages and PDFs by content hash, in memory and on disk.

A problem's key hashes its file, tracer's own code and templates and the libraries that
shape the output, so a rebuild regenerates only what changed.  Entries are written whole
(to a temporary name, then renamed): an interrupted build never leaves half an entry.
Each entry holds the SHA-256 of its content and is checked before use, so a damaged
cache is never published: it is a miss, and the entry is written again.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import json
import os
import shutil
from pathlib import Path
from typing import Optional, Union

from ..exporters.base import TEMPLATES
from .pages import ProblemPages

__all__ = ["Cache", "code_fingerprint", "digest", "PACKAGE", "ASSETS"]

#: The index of a cached problem's files, inside its cache folder.
_INDEX = "index.json"
#: tracer's own code, and the scripts, styles and fonts the site serves.
PACKAGE = Path(__file__).resolve().parent.parent
ASSETS = PACKAGE / "assets"


class Cache:
    """Generated pages and PDFs by content hash: in memory and, given a folder, on disk.

    Entries are written whole (to a temporary name, then renamed), so an interrupted build
    never leaves a half-written entry behind.  Every entry carries the SHA-256 of what it
    holds and is checked against it before use: a file changed, cut short or removed on
    disk, or an unreadable index, makes the entry a miss, and storing it again replaces
    it.  A cache that cannot be written only costs time.
    """

    def __init__(self, folder: Optional[Path]):
        self.folder = folder
        self._pages: dict[str, ProblemPages] = {}
        self._pdfs: dict[str, bytes] = {}
        self.used: set[str] = set()
        self._kinds_used: set[str] = set()

    def pages(self, key: str) -> Optional[ProblemPages]:
        """The pages stored under ``key``, or None.  Their files stay on disk (the pages
        name them; MkDocs copies them), after each has been checked against its hash."""
        self.used.add(key)
        self._kinds_used.add("pages")
        if key in self._pages:
            return self._pages[key]
        folder = self._path("pages", key)
        if folder is None:
            return None
        pages = _read_entry(folder)
        if pages is not None:
            self._pages[key] = pages
        return pages

    def store_pages(self, key: str, pages: ProblemPages) -> ProblemPages:
        """Keep ``pages`` under ``key``: a folder of its files and an index of their hashes.
        Returns the pages as kept: on disk, they name the stored files instead of holding
        the content."""
        self.used.add(key)
        folder = self._path("pages", key)
        if folder is not None:
            stored = all(isinstance(c, Path) and c.parent == folder for c in pages.files.values())
            if not stored and self._write_pages(folder, pages):
                pages = dataclasses.replace(pages, files={n: folder / n for n in pages.files})
        self._pages[key] = pages
        return pages

    def _write_pages(self, folder: Path, pages: ProblemPages) -> bool:
        tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
        old = folder.with_name(f"{folder.name}.{os.getpid()}.old.tmp")
        try:
            _remove(tmp)
            tmp.mkdir(parents=True)
            hashes = {}
            for name in pages.files:
                content = pages.content(name)
                data = content if isinstance(content, bytes) else content.encode("utf-8")
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)  # components/...
                (tmp / name).write_bytes(data)
                hashes[name] = hashlib.sha256(data).hexdigest()
            entry = {"id": pages.id, "title": pages.title, "tags": list(pages.tags),
                     "source": pages.source, "files": hashes}
            (tmp / _INDEX).write_text(json.dumps({"entry": entry, "sha256": _sealed(entry)},
                                                 sort_keys=True, ensure_ascii=False),
                                      encoding="utf-8")
            if folder.exists():      # a damaged entry (it was a miss): replaced whole
                os.replace(folder, old)
            os.replace(tmp, folder)   # whole or not at all: a half-written entry never counts
            _remove(old)
            return True
        except OSError:
            _remove(tmp)   # a cache that cannot be written costs time
            return False

    def pdf(self, key: str) -> Optional[bytes]:
        """The PDF stored under ``key`` (checked against its hash), or None."""
        self.used.add(key)
        self._kinds_used.add("pdf")
        if key in self._pdfs:
            return self._pdfs[key]
        path = self._path("pdf", key + _BLOB)
        if path is None:
            return None
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        head, _, data = blob.partition(b"\n")
        if head != b"sha256=" + hashlib.sha256(data).hexdigest().encode() or \
                not data.startswith(b"%PDF"):
            return None
        self._pdfs[key] = data
        return data

    def store_pdf(self, key: str, data: bytes) -> None:
        """Keep a PDF under ``key``, with its hash."""
        self.used.add(key)
        self._pdfs[key] = data
        self._write(("pdf", key + _BLOB),
                    b"sha256=" + hashlib.sha256(data).hexdigest().encode() + b"\n" + data)

    def prune(self) -> None:
        """Forget every entry this build did not use (and what dead builds left behind).

        Only kinds of entries this build looked up are pruned: a build without pdflatex
        keeps the PDFs of the last build that had it.
        """
        if "pages" in self._kinds_used:
            self._pages = {k: v for k, v in self._pages.items() if k in self.used}
        if "pdf" in self._kinds_used:
            self._pdfs = {k: v for k, v in self._pdfs.items() if k in self.used}
        if self.folder is None:
            return
        for kind in sorted(self._kinds_used):
            folder = self.folder / kind
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.endswith(".tmp"):
                    stale = not _alive(_pid_of(path.name))   # another build's, while it runs
                else:
                    stale = path.name.split(".")[0] not in self.used or \
                        (kind == "pdf" and not path.name.endswith(_BLOB))
                if stale:
                    _remove(path)

    def _path(self, kind: str, name: str) -> Optional[Path]:
        return None if self.folder is None else self.folder / kind / name

    def _write(self, parts: tuple[str, str], data: bytes) -> None:
        if self.folder is None:
            return
        path = self.folder.joinpath(*parts)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError:
            _remove(tmp)    # a cache that cannot be written only costs time


#: A stored PDF's file: its hash on the first line, then the PDF.
_BLOB = ".entry"


def _sealed(entry: dict) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def _read_entry(folder: Path) -> Optional[ProblemPages]:
    """A stored entry whose index and every file match their hashes, or None."""
    try:
        sealed = json.loads((folder / _INDEX).read_text(encoding="utf-8"))
        entry = sealed["entry"]
        if sealed["sha256"] != _sealed(entry):
            return None
        files = {}
        for name, expected in entry["files"].items():
            # A file of the problem's folder or of a folder in it (components/), never
            # one outside it.
            parts = name.split("/")
            if name == _INDEX or name.startswith("/") or any(p in ("", ".", "..")
                                                             for p in parts):
                return None
            path = folder / name
            if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
                return None
            files[name] = path
        return ProblemPages(id=entry["id"], title=entry["title"], tags=tuple(entry["tags"]),
                            source=entry["source"], files=files)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def _pid_of(name: str) -> int:
    """The process id in a temporary name ``<key>.<pid>[.old].tmp`` (0 if none)."""
    for part in name.split(".")[1:]:
        if part.isdigit():
            return int(part)
    return 0


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return False          # this build's own leftovers: it is done with them
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True           # someone else's process
    return True


def code_fingerprint() -> str:
    """A hash of everything besides the problem file that shapes the generated files."""

    h = hashlib.sha256()
    for root in (PACKAGE, TEMPLATES):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and \
                    ASSETS not in path.parents and path.suffix != ".pyc":
                h.update(path.relative_to(root).as_posix().encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
    for dist in ("sympy", "networkx", "pygraphviz", "jinja2", "numpy"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            h.update(f"{dist}={importlib.metadata.version(dist)}\0".encode())
    return h.hexdigest()


def digest(*parts: Union[str, bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:32]

