"""The build cache: generated pages and PDFs by content hash, in memory and on disk.

A problem's key hashes its file, tracer's own code and templates and the libraries that
shape the output, so a rebuild regenerates only what changed.  Entries are written whole
(to a temporary name, then renamed): an interrupted build never leaves half an entry.
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

    Entries are written whole (to a temporary file, then renamed), so an interrupted build
    never leaves a half-written entry behind; an unreadable entry is a miss.
    """

    def __init__(self, folder: Optional[Path]):
        self.folder = folder
        self._pages: dict[str, ProblemPages] = {}
        self._pdfs: dict[str, bytes] = {}
        self.used: set[str] = set()
        self._kinds_used: set[str] = set()

    def pages(self, key: str) -> Optional[ProblemPages]:
        """The pages stored under ``key``, or None.  Their files stay on disk: the pages
        name them, and they are read only if something needs their content."""
        self.used.add(key)
        self._kinds_used.add("pages")
        if key in self._pages:
            return self._pages[key]
        folder = self._path("pages", key)
        if folder is None or not (folder / _INDEX).is_file():
            return None
        try:
            data = json.loads((folder / _INDEX).read_text(encoding="utf-8"))
            files = {name: folder / name for name in data["files"]}
            pages = ProblemPages(id=data["id"], title=data["title"], tags=tuple(data["tags"]),
                                 source=data["source"], files=files)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not all(path.is_file() for path in files.values()):
            return None
        self._pages[key] = pages
        return pages

    def store_pages(self, key: str, pages: ProblemPages) -> ProblemPages:
        """Keep ``pages`` under ``key``: a folder of its files and an index.  Returns the
        pages as kept: on disk, they name the stored files instead of holding the content."""
        self.used.add(key)
        folder = self._path("pages", key)
        if folder is not None and not folder.is_dir():
            self._write_pages(folder, pages)
        if folder is not None and folder.is_dir():
            pages = dataclasses.replace(pages, files={n: folder / n for n in pages.files})
        self._pages[key] = pages
        return pages

    def _write_pages(self, folder: Path, pages: ProblemPages) -> None:
        tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for name in pages.files:
                content = pages.content(name)
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)  # components/...
                (tmp / name).write_bytes(content if isinstance(content, bytes)
                                         else content.encode("utf-8"))
            index = {"id": pages.id, "title": pages.title, "tags": list(pages.tags),
                     "source": pages.source, "files": sorted(pages.files)}
            (tmp / _INDEX).write_text(json.dumps(index, sort_keys=True, ensure_ascii=False),
                                      encoding="utf-8")
            os.replace(tmp, folder)   # whole or not at all: a half-written entry never counts
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)   # a cache that cannot be written costs time

    def pdf(self, key: str) -> Optional[bytes]:
        """The PDF stored under ``key``, or None."""
        self.used.add(key)
        self._kinds_used.add("pdf")
        if key in self._pdfs:
            return self._pdfs[key]
        path = self._path("pdf", key + ".pdf")
        if path is None or not path.is_file():
            return None
        data = path.read_bytes()
        if not data.startswith(b"%PDF"):
            return None
        self._pdfs[key] = data
        return data

    def store_pdf(self, key: str, data: bytes) -> None:
        """Keep a PDF under ``key``."""
        self.used.add(key)
        self._pdfs[key] = data
        self._write(("pdf", key + ".pdf"), data)

    def prune(self) -> None:
        """Forget every entry this build did not use (and temporary files left behind).

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
                if path.name.split(".")[0] not in self.used or path.name.endswith(".tmp"):
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        with contextlib.suppress(OSError):
                            path.unlink()

    def _path(self, kind: str, name: str) -> Optional[Path]:
        return None if self.folder is None else self.folder / kind / name

    def _write(self, parts: tuple[str, str], data: bytes) -> None:
        if self.folder is None:
            return
        path = self.folder.joinpath(*parts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError:
            pass    # a cache that cannot be written only costs time


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

