"""Publishing: MkDocs builds the site beside the output folder, and the complete site
replaces the old one in one step; one build at a time per output folder."""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
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


def _trash(output: Path, n: int) -> Path:
    return output.parent / f".{output.name}.tracer-trash-{n}"


def discard_leftovers(output: Path) -> None:
    """Remove what an interrupted or failed build left beside the output folder.

    If a build stopped between moving the old site aside and moving the new one in, the
    old site is put back.  What cannot be removed (a read-only copy of an old site) is
    made writable first (tracer made it, so it may), and failing that moved out of the
    way, so that it never stops a build."""
    staging, retired = _staging(output), _retired(output)
    if retired.exists():
        if not output.exists():
            os.rename(retired, output)
        else:
            _discard(retired, output)
    if staging.exists():
        _discard(staging, output)
    for n in range(100):
        if _trash(output, n).exists():
            _remove_tree(_trash(output, n))


def _discard(path: Path, output: Path) -> None:
    if _remove_tree(path):
        return
    for n in range(100):
        if not _trash(output, n).exists():
            with contextlib.suppress(OSError):
                os.rename(path, _trash(output, n))
                return
    raise TracerError([Diagnostic(str(path), "a previous build left this folder and it cannot "
                                  "be removed: remove it by hand")])


def _remove_tree(path: Path) -> bool:
    """Remove a folder tracer made, making read-only parts writable on the way; whether
    it is gone."""
    def writable(function, name, info) -> None:
        parent = os.path.dirname(name)
        for target in (parent, name):
            with contextlib.suppress(OSError):
                os.chmod(target, stat.S_IRWXU)
        with contextlib.suppress(OSError):
            if os.path.isdir(name) and not os.path.islink(name):
                shutil.rmtree(name, ignore_errors=True)
            else:
                os.unlink(name)

    with contextlib.suppress(OSError):
        os.chmod(path, stat.S_IRWXU)
    try:
        shutil.rmtree(path, onerror=writable)
    except OSError:
        pass
    return not os.path.lexists(path)


def swap_in(staging: Path, output: Path) -> None:
    """Replace ``output`` by the complete new site in ``staging``, in one step where the
    system allows it (Linux: an atomic exchange of the two folders).

    All or nothing: either the new site is in place (then removing the old one is only
    tidying: what cannot be removed now is moved aside and removed by the next build),
    or the old one is, untouched, and the build fails."""
    if not output.exists():
        os.rename(staging, output)
        return
    if _exchange(staging, output):
        _tidy(staging, output)         # it now holds the previous site
        return
    retired = _retired(output)
    os.rename(output, retired)
    try:
        os.rename(staging, output)
    except OSError:
        os.rename(retired, output)     # the old site back: nothing changed
        raise
    _tidy(retired, output)


def _tidy(old_site: Path, output: Path) -> None:
    with contextlib.suppress(TracerError):
        _discard(old_site, output)


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
    fd = _lock_target(site)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise TracerError([Diagnostic(str(site.config_file), "another tracer build of this "
                                          "site is running: wait for it to finish")]) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _lock_target(site: Site) -> int:
    """What the build lock is taken on: a file in the cache folder, or where the cache
    cannot be written (a read-only cache costs time, it does not stop the build) the
    folder that holds the output, which the build must be able to write anyway."""
    folder = site.cache_dir or site.output.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(folder / "build.lock", os.O_WRONLY | os.O_CREAT, 0o644)
    except OSError:
        pass
    parent = site.output.parent
    try:
        return os.open(parent, os.O_RDONLY)
    except OSError as exc:
        raise TracerError([Diagnostic(str(parent), f"cannot open the folder of the output: "
                                      f"{exc.strerror}")]) from None


