"""Publishing: MkDocs builds the site beside the output folder, and the complete site
replaces the old one in one step; one build at a time per output folder."""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

from ..core.errors import Diagnostic, TracerError
from .config import Site
from .pages import ProblemPages

if TYPE_CHECKING:
    from .incremental import Plan

__all__ = ["build_site", "discard_leftovers", "swap_in", "build_lock"]


def build_site(site: Site, pages: Sequence[ProblemPages], plan: Optional[Plan] = None) -> Path:
    """Run MkDocs with the prepared pages into a staging folder beside the output; with a
    ``plan`` that keeps some problems, only the rest is rendered (tracer.site.incremental),
    on every core (tracer.site.parallel)."""
    from .parallel import render_site

    staging = _staging(site.output)
    try:
        render_site(site, pages, plan, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        site.plugin.use_pages(None)
    return staging



# ----------------------------------------------------------------------------- phase 7

def _staging(output: Path) -> Path:
    return output.parent / f".{output.name}.tracer-staging"


def _retired(output: Path) -> Path:
    return output.parent / f".{output.name}.tracer-old"


def discard_leftovers(output: Path) -> None:
    """Remove what an interrupted build left beside the output folder.

    If a build stopped between moving the old site aside and moving the new one in, the
    old site is put back.
    """
    staging, retired = _staging(output), _retired(output)
    if retired.exists():
        if not output.exists():
            os.rename(retired, output)
        else:
            shutil.rmtree(retired)
    if staging.exists():
        shutil.rmtree(staging)


def swap_in(staging: Path, output: Path) -> None:
    """Replace ``output`` by the complete new site in ``staging``, in one step where the
    system allows it (Linux: an atomic exchange of the two folders)."""
    if not output.exists():
        os.rename(staging, output)
        return
    if _exchange(staging, output):
        shutil.rmtree(staging)          # it now holds the previous site
        return
    retired = _retired(output)
    os.rename(output, retired)
    os.rename(staging, output)
    shutil.rmtree(retired)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2(RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False


@contextlib.contextmanager
def build_lock(site: Site) -> Iterator[None]:
    """One build at a time per output folder (two would share the staging folder)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    folder = site.cache_dir or site.output.parent
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "build.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise TracerError([Diagnostic(str(site.config_file), "another tracer build of this "
                                          "site is running: wait for it to finish")]) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


