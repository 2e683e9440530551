"""PDFs: every generated LaTeX document compiled with pdflatex, in a fresh folder, with
shell escape off and file access restricted to that folder; cached by content."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
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
        if mode is True:
            raise TracerError([Diagnostic(str(config_file or "mkdocs.yml"),
                                          "the tracer plugin has 'pdf: true' but " +
                                          PDFLATEX_MISSING.replace(": PDFs skipped", "")
                                          + ", or set 'pdf: auto'")])
        say(PDFLATEX_MISSING)
        stats["skipped"] = True
        return list(pages), stats

    remove_dead_tex_folders()       # what builds killed while compiling left behind
    version = _tool_version(pdflatex)
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
            key = digest(version, name, *(f"{n}\0{inputs[n]}" for n in sorted(inputs)))
            pdf = cache.pdf(key)
            if pdf is None:
                jobs.append((index, name, key))
            else:
                found[(index, name)] = pdf
                stats["reused"] += 1

    failures: list[Diagnostic] = []

    def run(job: tuple[int, str, str]) -> None:
        index, name, key = job
        problem = pages[index]
        try:
            pdf = run_pdflatex(pdflatex, name, _tex_inputs(problem))
        except _LatexFailed as exc:
            failures.append(Diagnostic(f"{SITE_FOLDER}/{problem.id}/{name}",
                                       f"pdflatex failed (made from {problem.source}): "
                                       f"{exc}"))
            return
        cache.store_pdf(key, pdf)
        found[(index, name)] = pdf

    workers = max(1, min(len(jobs), os.cpu_count() or 1, 8))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, jobs))
    if failures:
        raise TracerError(sorted(failures, key=lambda d: d.path))
    stats["compiled"] = len(jobs)
    result = []
    for index, problem in enumerate(pages):
        pdfs = {name[:-4] + ".pdf": found[(index, name)]
                for name in TEX_DOCUMENTS if (index, name) in found}
        result.append(problem.with_files(pdfs) if pdfs else problem)
    return result, stats


class _LatexFailed(Exception):
    pass


LatexFailed = _LatexFailed


def run_pdflatex(pdflatex: str, name: str, inputs: Mapping[str, Union[str, bytes]]) -> bytes:
    """Compile ``name`` in a fresh folder holding ``inputs`` (all of a problem's .tex files).

    Runs with shell escape off and file access restricted to that folder, and again while
    LaTeX asks for a rerun (cross-references), at most three times.
    """
    env = dict(os.environ, openin_any="p", openout_any="p", FORCE_SOURCE_DATE="1",
               SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", str(SOURCE_DATE_EPOCH)))
    with tempfile.TemporaryDirectory(prefix=tex_folder_prefix()) as tmp:
        for file_name, text in inputs.items():
            if isinstance(text, bytes):      # a PDF a booklet includes
                Path(tmp, file_name).write_bytes(text)
            else:
                Path(tmp, file_name).write_text(text, encoding="utf-8")
        log_file = Path(tmp, name[:-4] + ".log")
        for _ in range(3):
            try:
                proc = subprocess.run(
                    [pdflatex, "-no-shell-escape", "-interaction=nonstopmode",
                     "-halt-on-error", name],
                    cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, timeout=300,
                    preexec_fn=kill_with_parent)    # it dies with the build
            except subprocess.TimeoutExpired:
                raise _LatexFailed("it ran for more than 5 minutes") from None
            log = log_file.read_text(encoding="latin-1") if log_file.exists() else \
                proc.stdout.decode("latin-1")
            if proc.returncode != 0:
                # Some errors (a line past TeX's buffer) reach the terminal, not the log.
                raise _LatexFailed(_latex_error(log + "\n" + proc.stdout.decode("latin-1")))
            # Cross-references, outlines and longtable's column widths settle on a rerun.
            if not re.search(r"Rerun to get|Rerun LaTeX|Label\(s\) may have changed", log):
                break
        return Path(tmp, name[:-4] + ".pdf").read_bytes()


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

