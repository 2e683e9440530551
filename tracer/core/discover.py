"""Which files are problem files: one function for every command that takes a folder.

``tracer check FOLDER``, ``tracer trace FOLDER`` and the build read a folder the same way:
the entries whose names end in ``.yaml`` or ``.yml`` (in any case: ``X.YAML`` too), in
file-name order, hidden ones (``.name``, such as an editor's lock files) left out.  An
entry with such a name that cannot be a problem file is an error, not silence: a
symbolic link to nothing or a loop of links, a folder, a FIFO or a device, a name that
is not UTF-8 (the name becomes the page's address).  Two files whose pages would go to
the same address (``a b.yaml`` and ``a-b.yaml``) are an error too.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Optional, Sequence, Union

from .errors import Diagnostic
from .load import problem_id

__all__ = ["find_problem_files", "is_problem_name", "SUFFIXES"]

#: The endings of a problem file's name (compared without case).
SUFFIXES = (".yaml", ".yml")


def is_problem_name(name: str) -> bool:
    """Whether a folder's entry called ``name`` is taken for a problem file."""
    return name.lower().endswith(SUFFIXES) and not name.startswith(".")


def find_problem_files(paths: Sequence[Union[str, Path]], *, folder_name: str = "problems"
                       ) -> tuple[list[Path], list[Diagnostic]]:
    """The problem files named by ``paths`` (files, or folders of them) and what is wrong
    with the folders' entries.  A file named directly is taken as it is: reading it says
    what is wrong with it.  An empty folder is an error."""
    files: list[Path] = []
    errors: list[Diagnostic] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            files.append(path)
            continue
        found, wrong = _folder(path, folder_name)
        if not found and not wrong:
            wrong.append(Diagnostic(str(path), "no problem files (*.yaml) found here"))
        files.extend(found)
        errors.extend(wrong)
    return files, errors


def _folder(folder: Path, folder_name: str) -> tuple[list[Path], list[Diagnostic]]:
    files: list[Path] = []
    errors: list[Diagnostic] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return [], [Diagnostic(str(folder), f"cannot read the folder: {exc.strerror}")]
    owners: dict[str, Path] = {}
    for name in names:
        if not is_problem_name(name):
            continue
        path = folder / name
        fault = _not_a_problem_file(path, name)
        if fault:
            errors.append(Diagnostic(str(path), fault))
            continue
        id = problem_id(name)
        if id in owners:
            errors.append(Diagnostic(str(path), f"this file's pages would go to "
                                     f"{folder_name}/{id}/, like those of {owners[id]}: "
                                     "rename one of the two files"))
            continue
        owners[id] = path
        files.append(path)
    return files, errors


def _not_a_problem_file(path: Path, name: str) -> Optional[str]:
    if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in name):
        # os.listdir hands back undecodable bytes as lone surrogates.
        return ("the file name is not valid UTF-8: rename the file (its name becomes the "
                "address of its pages)")
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "this is a loop of symbolic links: remove it or point it at a file"
        if os.path.islink(path):
            return "this symbolic link points to nothing: remove it or fix its target"
        return f"cannot read the file: {exc.strerror}"
    if stat.S_ISDIR(info.st_mode):
        return "this is a folder, named like a problem file: a problem is a file"
    if not stat.S_ISREG(info.st_mode):
        return "this is not a regular file (a FIFO or a device): a problem is a file"
    return None
