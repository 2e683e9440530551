"""Processes the build starts die with it, and what dead builds left is cleaned up.

A build is stopped any way its user likes, ``kill -9`` included.  Its worker processes
and its pdflatex runs must not outlive it (writing to the cache, holding temporary
folders): on Linux the kernel sends them SIGKILL when the build dies
(``PR_SET_PDEATHSIG``); elsewhere a worker watches its parent and leaves when it is gone.
The temporary folders of pdflatex runs carry the build's process id, so the next build
removes those whose build is dead, and ends any process still working in one.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

__all__ = ["die_with_parent", "kill_with_parent", "TEX_PREFIX", "tex_folder_prefix",
           "remove_dead_tex_folders"]

#: Temporary folders of pdflatex runs: ``tracer-tex-<pid>-<random>``.
TEX_PREFIX = "tracer-tex-"
_PR_SET_PDEATHSIG = 1


def _prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()   # looked up before any fork: a child only calls it


def kill_with_parent() -> None:
    """In a child process: be sent SIGKILL when the parent dies (Linux).  Safe to run
    between fork and exec (it calls one C function)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def die_with_parent(parent: int) -> None:
    """In a worker process (its initializer): end as soon as ``parent`` does."""
    kill_with_parent()
    if os.getppid() != parent:      # the parent died before the line above took effect
        os._exit(1)
    if _PRCTL is None:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="tracer-watch-parent", daemon=True).start()


def tex_folder_prefix() -> str:
    return f"{TEX_PREFIX}{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True       # another user's process: alive, and not ours to judge
    return True


def remove_dead_tex_folders(folder: Optional[Path] = None) -> int:
    """Remove the pdflatex folders of builds that are no longer running; how many."""
    folder = Path(folder or tempfile.gettempdir())
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for path in entries:
        if not path.name.startswith(TEX_PREFIX):
            continue
        pid = path.name[len(TEX_PREFIX):].split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            _kill_working_in(path)
            with contextlib.suppress(OSError):
                shutil.rmtree(path)
                removed += 1
    return removed


def _kill_working_in(folder: Path) -> None:
    """Kill the processes (a pdflatex of a dead build) whose working folder is ``folder``:
    the kernel's parent-death signal is the first wall, this the second."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    target = str(folder.resolve())
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            cwd = os.readlink(entry / "cwd")
            if cwd == target or cwd.startswith(target + os.sep):
                os.kill(int(entry.name), signal.SIGKILL)
