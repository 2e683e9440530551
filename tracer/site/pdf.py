"""PDFs: every generated LaTeX document compiled with pdflatex, in a fresh folder, with
shell escape off and file access restricted to that folder; cached by content.

Most of a pdflatex run used to be loading the packages (TikZ above all) and drawing the
figures, and every document ran twice (longtable learns its column widths from the first
run).  So the preamble every document shares is loaded once per build into a format
(``pdflatex -ini``) that each run starts from, and the first run of a document
leaves its figures out: it only has to find the tables' widths, which the figures do not
change.  The PDFs show exactly what they showed before (tests compare the pages as images
and as text); in bytes they differ by a colour reset the format makes once instead of
twice.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from ..core.errors import Diagnostic, TracerError
from ..exporters.latex import TEX_DOCUMENTS
from .cache import Cache, digest
from .children import kill_with_parent, remove_dead_tex_folders, tex_folder_prefix
from .pages import SITE_FOLDER, ProblemPages

__all__ = ["compile_pdfs", "run_pdflatex", "PDFLATEX_MISSING", "SOURCE_DATE_EPOCH"]

#: The date stamped into the sitemap and the PDFs unless SOURCE_DATE_EPOCH is set: a fixed
#: date (1980-01-01, the ZIP epoch) makes two builds of the same problems byte-identical.
SOURCE_DATE_EPOCH = 315532800
#: Said once per build when pdflatex is missing and ``pdf: auto``.
PDFLATEX_MISSING = ("pdflatex not found: PDFs skipped; install TeX Live (Debian/Ubuntu: "
                    "apt-get install texlive-latex-base texlive-latex-recommended "
                    "texlive-pictures) to get them")
#: LaTeX documents larger than this are published without their PDF: pdflatex holds a
#: whole display (an answer key's backward pass) in its main memory of 5 million words,
#: which the answer key of a 10 000-term sum overflows after minutes of work.  The build
#: says which PDFs it left out.
MAX_PDF_TEX_BYTES = 1_000_000
#: What pdflatex says when a document is past TeX's own bounds rather than wrong.
TEX_LIMITS = ("Dimension too large", "TeX capacity exceeded")
#: How the PDFs are made, part of their cache key: the same document compiled another way
#: (without the format) shows the same but differs in bytes.
_METHOD = "shared-preamble format, first run without figures"

Say = Callable[[str], None]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def compile_pdfs(pages: Sequence[ProblemPages], cache: "Cache", mode: Union[str, bool], *,
                 say: Say = _say, config_file: Optional[Path] = None,
                 ) -> tuple[list[ProblemPages], dict[str, Any]]:
    """Compile every worksheet.tex and answers.tex with pdflatex and add the PDFs.

    ``mode``: ``"auto"`` compiles when pdflatex is on PATH and otherwise says so once;
    ``True`` requires pdflatex; ``False`` never compiles.  The .tex sources are published
    either way.  Returns the pages with their PDFs and counts for the report.
    """
    stats: dict[str, Any] = {"compiled": 0, "reused": 0, "skipped": False}
    if mode is False:
        stats["skipped"] = True
        return list(pages), stats
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        _without_pdflatex(mode, say, config_file)
        stats["skipped"] = True
        return list(pages), stats

    remove_dead_tex_folders()       # what builds killed while compiling left behind
    version = _tool_version(pdflatex)
    preamble = shared_preamble()
    jobs: list[tuple[int, str, str]] = []       # (problem index, tex name, cache key)
    found: dict[tuple[int, str], bytes] = {}
    for index, problem in enumerate(pages):
        inputs = _tex_inputs(problem)
        for name in TEX_DOCUMENTS:
            if name not in problem.files:
                continue
            if len(inputs[name].encode("utf-8")) > MAX_PDF_TEX_BYTES:
                say(f"{SITE_FOLDER}/{problem.id}/{name[:-4]}.pdf left out: its LaTeX has "
                    f"{len(inputs[name]) // 1000:,} kB, more than pdflatex is given "
                    f"({MAX_PDF_TEX_BYTES // 1000:,} kB); the .tex is published")
                continue
            key = digest(version, _METHOD, name,
                         *(f"{n}\0{inputs[n]}" for n in sorted(inputs)))
            pdf = cache.pdf(key)
            if pdf is None:
                jobs.append((index, name, key))
            else:
                found[(index, name)] = pdf
                stats["reused"] += 1

    failures: list[Diagnostic] = []
    # named as the runs' folders, so that the next build removes it after a kill -9
    scratch = tempfile.TemporaryDirectory(prefix=tex_folder_prefix() + "format-") \
        if jobs else None
    fmt = _format(pdflatex, preamble, Path(scratch.name)) if scratch is not None else None

    def run(job: tuple[int, str, str]) -> None:
        index, name, key = job
        problem = pages[index]
        try:
            pdf = run_pdflatex(pdflatex, name, _tex_inputs(problem), fmt)
        except _LatexFailed as exc:
            failures.extend(_failure(problem, name, exc, say))
            return
        cache.store_pdf(key, pdf)
        found[(index, name)] = pdf

    workers = max(1, min(len(jobs), os.cpu_count() or 1, 8))
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, jobs))
    finally:
        if scratch is not None:
            scratch.cleanup()
    if failures:
        raise TracerError(sorted(failures, key=lambda d: d.path))
    stats["compiled"] = len(jobs)
    result = []
    for index, problem in enumerate(pages):
        pdfs = {name[:-4] + ".pdf": found[(index, name)]
                for name in TEX_DOCUMENTS if (index, name) in found}
        result.append(problem.with_files(pdfs) if pdfs else problem)
    return result, stats


def _without_pdflatex(mode: Union[str, bool], say: Say, config_file: Optional[Path]) -> None:
    # `pdf: true` asks for the PDFs: without pdflatex that is an error, else a note
    if mode is True:
        raise TracerError([Diagnostic(str(config_file or "mkdocs.yml"),
                                      "the tracer plugin has 'pdf: true' but " +
                                      PDFLATEX_MISSING.replace(": PDFs skipped", "")
                                      + ", or set 'pdf: auto'")])
    say(PDFLATEX_MISSING)


class _LatexFailed(Exception):
    pass


LatexFailed = _LatexFailed


def _failure(problem: ProblemPages, name: str, exc: Exception, say: Say
             ) -> list[Diagnostic]:
    """What a failed run of pdflatex means: past TeX's own bounds (a row of several hundred
    terms is wider than the largest length TeX has), the PDF is left out as one past
    MAX_PDF_TEX_BYTES is; anything else is an error."""
    if any(limit in str(exc) for limit in TEX_LIMITS):
        say(f"{SITE_FOLDER}/{problem.id}/{name[:-4]}.pdf left out: a formula is too long "
            f"for TeX ({str(exc)[:60]}); the .tex is published")
        return []
    return [Diagnostic(f"{SITE_FOLDER}/{problem.id}/{name}",
                       f"pdflatex failed (made from {problem.source}): {exc}")]


def run_pdflatex(pdflatex: str, name: str, inputs: Mapping[str, Union[str, bytes]],
                 fmt: Optional["Format"] = None) -> bytes:
    """Compile ``name`` in a fresh folder holding ``inputs`` (all of a problem's .tex files).

    Runs with shell escape off and file access restricted to that folder, first without
    the figures (``*.tikz.tex``: the run only learns the tables' widths), then with them,
    again while LaTeX asks for a rerun (cross-references), at most three times; from the
    format ``fmt`` of the shared preamble when the document starts with it.
    """
    env = dict(os.environ, openin_any="p", openout_any="p", FORCE_SOURCE_DATE="1",
               SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", str(SOURCE_DATE_EPOCH)))
    with tempfile.TemporaryDirectory(prefix=tex_folder_prefix()) as tmp:
        return _compile(pdflatex, name, inputs, fmt, Path(tmp), env)


def _compile(pdflatex: str, name: str, inputs: Mapping[str, Union[str, bytes]],
             fmt: Optional["Format"], tmp: Path, env: dict) -> bytes:
    command = [pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error"]
    texts = dict(inputs)
    first = texts[name]
    if fmt is not None and isinstance(first, str) and first.startswith(fmt.preamble):
        command.append(f"-fmt={fmt.path}")
        texts[name] = first[len(fmt.preamble):]
    figures = [n for n in texts if n.endswith(".tikz.tex")]
    for file_name, text in texts.items():
        if isinstance(text, bytes):      # a PDF a booklet includes
            (tmp / file_name).write_bytes(text)
        else:
            (tmp / file_name).write_text("" if file_name in figures else text,
                                         encoding="utf-8")
    log = _run(command + [name], tmp, name, env)     # the tables' widths only
    for file_name in figures:
        (tmp / file_name).write_text(texts[file_name], encoding="utf-8")  # type: ignore
    for _ in range(3):
        log = _run(command + [name], tmp, name, env)
        # Cross-references, outlines and longtable's column widths settle on a rerun.
        if not re.search(r"Rerun to get|Rerun LaTeX|Label\(s\) may have changed", log):
            break
    return (tmp / (name[:-4] + ".pdf")).read_bytes()


def _run(command: list[str], tmp: Path, name: str, env: dict) -> str:
    """One pdflatex run in ``tmp``: its log."""
    log_file = tmp / (name[:-4] + ".log")
    try:
        proc = subprocess.run(command, cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300,
                              preexec_fn=kill_with_parent)    # it dies with the build
    except subprocess.TimeoutExpired:
        raise _LatexFailed("it ran for more than 5 minutes") from None
    log = log_file.read_text(encoding="latin-1") if log_file.exists() else \
        proc.stdout.decode("latin-1")
    if proc.returncode != 0:
        # Some errors (a line past TeX's buffer) reach the terminal, not the log.
        raise _LatexFailed(_latex_error(log + "\n" + proc.stdout.decode("latin-1")))
    return log

@dataclass(frozen=True)
class Format:
    """A pdflatex format holding ``preamble``, the start every document shares."""

    path: Path          # without its .fmt, as -fmt= takes it
    preamble: str


def shared_preamble() -> str:
    """The start of every generated LaTeX document (``latex/preamble_shared.tex.j2``)."""
    from ..exporters.base import document_environment

    return document_environment().get_template("latex/preamble_shared.tex.j2").render()


def _format(pdflatex: str, preamble: str, folder: Path) -> Optional[Format]:
    """The shared preamble dumped into a format in ``folder`` (half a second, once per
    build), or None where that fails: the documents are then compiled whole."""
    source = folder / "tracer-preamble.tex"
    source.write_text(preamble + "\\dump\n", encoding="utf-8")
    env = dict(os.environ, openin_any="p", openout_any="p", FORCE_SOURCE_DATE="1",
               SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", str(SOURCE_DATE_EPOCH)))
    try:
        proc = subprocess.run([pdflatex, "-ini", "-jobname=tracer-preamble",
                               "-interaction=nonstopmode", "-halt-on-error", "&pdflatex",
                               source.name], cwd=folder, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    made = folder / "tracer-preamble.fmt"
    if proc.returncode != 0 or not made.is_file():
        return None
    return Format(folder / "tracer-preamble", preamble)


def _latex_error(log: str) -> str:
    """The first error of a pdflatex log, with the line it points at."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            where = next((l.strip() for l in lines[i + 1:i + 8] if re.match(r"l\.\d+", l)), "")
            return line[1:].strip() + (f" (at {where})" if where else "")
    return "see the log: " + " ".join(lines[-5:])[-300:]


def _tex_inputs(problem: ProblemPages) -> dict[str, str]:
    return {n: problem.content(n) for n in problem.files if n.endswith(".tex")}  # type: ignore


def _tool_version(program: str) -> str:
    try:
        out = subprocess.run([program, "--version"], stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return program
    return out.decode("utf-8", "replace").splitlines()[0] if out else program

