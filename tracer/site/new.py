"""``tracer new COURSE``: a course of one's own, ready to build.

Writes a folder with ``mkdocs.yml`` (the tracer plugin with the course's name, term and
author), ``problems/`` with one example problem, ``site/index.md`` (the home page, the
list of problems added below it) and a ``.gitignore``, from ``templates/new/``.  The folder
is assembled beside its place and renamed into it, so a failure leaves nothing behind.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..core.errors import Diagnostic, TracerError
from ..exporters.base import environment

__all__ = ["new_course", "COURSE_FILES"]

#: The files of a new course and the template each comes from.
COURSE_FILES = {
    "mkdocs.yml": "new/mkdocs.yml.j2",
    "problems/01-sigmoid-neuron.yaml": "new/problem.yaml.j2",
    "site/index.md": "new/index.md.j2",
    ".gitignore": "new/gitignore.j2",
}


def new_course(folder: Path, *, name: str = "", term: str = "", author: str = ""
               ) -> list[Path]:
    """Create the course ``folder`` (which must not exist, or be empty); ``name`` defaults
    to the folder's name.  Returns the files written."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise TracerError([Diagnostic(str(folder), "this folder exists and is not empty: "
                                      "give the name of a new folder for the course")])
    name = name.strip() or folder.resolve().name
    values = {"name": name, "term": term.strip(), "author": author.strip()}
    quoted = {key: json.dumps(value, ensure_ascii=False) for key, value in values.items()}
    env = environment()
    parent = folder.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    except OSError as exc:
        raise TracerError([Diagnostic(str(folder), f"cannot create the folder: "
                                      f"{exc.strerror}")]) from None
    try:
        for relative, template in COURSE_FILES.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(env.get_template(template).render(yaml=quoted, **values),
                            encoding="utf-8")
        os.chmod(staging, 0o777 & ~_umask())
        if folder.exists():
            folder.rmdir()          # empty, checked above
        staging.rename(folder)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise TracerError([Diagnostic(str(folder), f"cannot write the course: "
                                      f"{exc.strerror}")]) from None
    return [folder / relative for relative in COURSE_FILES]


def _umask() -> int:
    # mkdtemp makes a private folder (0700); the course gets the usual permissions.
    mask = os.umask(0)
    os.umask(mask)
    return mask
