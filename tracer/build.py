"""Stage 5: problem files -> the published site.

:func:`build` runs the whole chain, one phase after another::

    read_config -> find_problems -> check_problems (and render) -> keep_pages -> compile_pdfs
                -> build_site (MkDocs, into a staging folder) -> swap_in

Nothing is written to the output folder until every problem has been checked, rendered
and compiled and MkDocs has built the complete site beside it; the new site then replaces
the old one in a single rename.  A build that fails or is interrupted leaves the previous
site as it was.

Each problem's generated files are cached by content (the problem file, tracer's own code
and templates, the libraries that shape the output), so a rebuild regenerates only the
problems that changed.  The MkDocs plugin (:mod:`tracer.plugin`) uses the same functions,
so ``mkdocs build`` and ``mkdocs serve`` give the same site as ``tracer build``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Optional, Sequence, Union

from .errors import Diagnostic, TracerError

if TYPE_CHECKING:  # pragma: no cover
    from mkdocs.config.defaults import MkDocsConfig

    from .engine import Trace
    from .plugin import TracerPlugin

__all__ = ["build", "serve", "Site", "ProblemPages", "BuildReport", "Cache", "read_config",
           "find_problems", "check_problems", "keep_pages", "compile_pdfs", "build_site",
           "swap_in", "discard_leftovers", "generate", "home_page", "problems_nav",
           "SITE_FOLDER", "SOURCE_DATE_EPOCH", "PDFLATEX_MISSING"]

#: Where a problem's files go inside the site: ``problems/<id>/``.
SITE_FOLDER = "problems"
#: The date stamped into the sitemap and the PDFs unless SOURCE_DATE_EPOCH is set: a fixed
#: date (1980-01-01, the ZIP epoch) makes two builds of the same problems byte-identical.
SOURCE_DATE_EPOCH = 315532800
#: Said once per build when pdflatex is missing and ``pdf: auto``.
PDFLATEX_MISSING = ("pdflatex not found: PDFs skipped; install TeX Live (Debian/Ubuntu: "
                    "apt-get install texlive-latex-base texlive-latex-recommended "
                    "texlive-pictures) to get them")
#: The generated LaTeX documents that become PDFs.
TEX_DOCUMENTS = ("worksheet.tex", "answers.tex")
#: A published copy of the problem file itself, beside the documents made from it.
SOURCE_NAME = "problem.yaml"
#: The index of a cached problem's files, inside its cache folder.
_INDEX = "index.json"

PACKAGE = Path(__file__).resolve().parent
ASSETS = PACKAGE / "assets"

Say = Callable[[str], None]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- data

@dataclass(frozen=True)
class Site:
    """What a build needs to know, read from mkdocs.yml and the tracer plugin's options."""

    config_file: Path
    problems: Path            # the folder of problem files
    output: Path              # MkDocs' site_dir
    cache_dir: Optional[Path]
    pdf: Union[str, bool]     # "auto", True or False
    allow_html: bool
    mkdocs: Any = field(default=None, compare=False, repr=False)   # the MkDocsConfig
    plugin: Any = field(default=None, compare=False, repr=False)   # the TracerPlugin


@dataclass(frozen=True)
class ProblemPages:
    """Everything generated for one problem: the files of ``problems/<id>/``."""

    id: str
    title: str
    tags: tuple[str, ...]
    source: str                              # the problem file, as the user named it
    # file name -> content, or the cached file holding it (read only when needed: an
    # unchanged course is hundreds of megabytes of figures that MkDocs can copy as files)
    files: Mapping[str, Union[str, bytes, Path]]

    def with_files(self, extra: Mapping[str, Union[str, bytes]]) -> "ProblemPages":
        """A copy with ``extra`` files added."""
        return dataclasses.replace(self, files={**self.files, **extra})

    def content(self, name: str) -> Union[str, bytes]:
        """The content of the file ``name`` (text for the generated text files)."""
        content = self.files[name]
        if isinstance(content, Path):
            data = content.read_bytes()
            return data if name.endswith(".pdf") else data.decode("utf-8")
        return content


@dataclass
class BuildReport:
    """What a build did, for the summary line and for tests."""

    output: Path
    problems: int = 0
    reused: int = 0            # problems whose files came from the cache
    pdfs: int = 0
    pdfs_reused: int = 0
    pdf_skipped: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class _Checked:
    """A problem file that passed every check, with its pages (PDFs not included)."""

    key: str
    pages: ProblemPages
    cached: bool


# ----------------------------------------------------------------------------- the build

def build(config_file: Path, *, strict: bool = True, say: Say = _say) -> BuildReport:
    """Build the whole site described by ``config_file`` (an mkdocs.yml) into its site_dir.

    Raises :class:`TracerError` naming every broken problem file (or whatever else stops
    the build); the output folder is then left exactly as it was.
    """
    started = time.monotonic()
    with _reproducible_dates():
        site = read_config(config_file, strict=strict)
        with _build_lock(site):
            discard_leftovers(site.output)
            sources = find_problems(site.problems)
            cache = Cache(site.cache_dir)
            checked = check_problems(sources, cache, allow_html=site.allow_html,
                                     workers=_workers())
            pages = keep_pages(checked, cache)
            pages, pdf_stats = compile_pdfs(pages, cache, site.pdf, say=say,
                                            config_file=site.config_file)
            staging = build_site(site, pages)
            swap_in(staging, site.output)
            cache.prune()
    report = BuildReport(output=site.output, problems=len(pages),
                         reused=sum(c.cached for c in checked),
                         pdfs=pdf_stats["compiled"] + pdf_stats["reused"],
                         pdfs_reused=pdf_stats["reused"], pdf_skipped=pdf_stats["skipped"],
                         seconds=time.monotonic() - started)
    say(f"built {report.problems} problem{'s' if report.problems != 1 else ''} "
        f"({report.reused} unchanged, from the cache) and {report.pdfs} PDFs into "
        f"{_shown(site.output)} in {report.seconds:.1f} s")
    return report


def serve(config_file: Path, dev_addr: str = "127.0.0.1:8000") -> None:
    """Preview the site at ``dev_addr``, rebuilding a problem's pages when its file changes."""
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.exceptions import Abort, ConfigurationError

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logger = logging.getLogger("mkdocs")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)      # MkDocs' progress messages, as `mkdocs serve` shows
    try:
        with _reproducible_dates():
            mkdocs_serve(config_file=str(config_file), dev_addr=dev_addr, livereload=True)
    except ConfigurationError as exc:
        raise TracerError([Diagnostic(str(config_file), f"the configuration is invalid: {exc}")])
    except Abort as exc:
        raise TracerError([Diagnostic(str(config_file), f"the site did not build: {exc}")])
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# ----------------------------------------------------------------------------- phase 1

def read_config(config_file: Path, *, strict: bool = True) -> Site:
    """Load mkdocs.yml (validated by MkDocs) and the tracer plugin's options."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    config_file = Path(config_file)
    if not config_file.is_file():
        raise TracerError([Diagnostic(str(config_file), "no such file: run tracer build in the "
                                      "folder that holds mkdocs.yml, or give its path with -f")])
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    with _mkdocs_messages() as messages:
        try:
            config = load_config(config_file=str(config_file), strict=strict)
        except (ConfigurationError, Abort) as exc:
            raise TracerError([Diagnostic(str(config_file), f"the configuration is invalid: {m}")
                               for m in (messages or [str(exc)])]) from None
    plugin = config.plugins.get("tracer")
    if plugin is None:
        raise TracerError([Diagnostic(str(config_file), "the tracer plugin is not enabled: add "
                                      "'- tracer' under 'plugins:'")])
    if config.use_directory_urls:
        raise TracerError([Diagnostic(str(config_file), "set 'use_directory_urls: false': the "
                                      "pages link their figures by relative paths")])
    return site_settings(config, plugin)


def site_settings(config: "MkDocsConfig", plugin: "TracerPlugin") -> Site:
    """The :class:`Site` of a loaded MkDocs configuration (paths relative to mkdocs.yml)."""
    root = Path(config.config_file_path or ".").resolve().parent
    options = plugin.config
    cache = options.cache_dir
    return Site(config_file=Path(config.config_file_path or "mkdocs.yml"),
                problems=root / options.problems, output=Path(config.site_dir).resolve(),
                cache_dir=(root / cache) if cache else None, pdf=options.pdf,
                allow_html=bool(options.allow_html), mkdocs=config, plugin=plugin)


# ----------------------------------------------------------------------------- phase 2

def find_problems(folder: Path) -> list[Path]:
    """The problem files of ``folder`` (``*.yaml``, ``*.yml``), in file-name order."""
    if not folder.is_dir():
        raise TracerError([Diagnostic(str(folder), "no such folder: the tracer plugin's "
                                      "'problems' option names the folder of problem files")])
    files = sorted((p for p in folder.iterdir()
                    if p.is_file() and p.suffix.lower() in (".yaml", ".yml")),
                   key=lambda p: p.name)
    if not files:
        raise TracerError([Diagnostic(str(folder), "no problem files (*.yaml) found here")])
    return files


# ----------------------------------------------------------------------------- phase 3

def check_problems(sources: Sequence[Path], cache: "Cache", *, allow_html: bool = False,
                   workers: int = 1) -> list[_Checked]:
    """Load, check, trace and render every problem file; report every broken one at once.

    A problem is only known to be good once it has been traced (a value can fall outside
    an operation's domain), so tracing is part of the check, and the pages are rendered
    while the trace is at hand.  A file whose content is already in the cache passed this
    check before and is not traced again; a new one's pages are stored there as soon as
    they are made, so a build that fails on one problem keeps the work done on the others.
    With ``workers`` > 1 the problems are traced in that many processes.
    """
    from .load import problem_id

    fingerprint = code_fingerprint()
    diagnostics: list[Diagnostic] = []
    done: dict[int, _Checked] = {}
    jobs: list[tuple[int, str, Path, str, bool, Optional[Path]]] = []
    owners: dict[str, Path] = {}
    for index, path in enumerate(sources):
        shown = _shown(path)
        id = problem_id(path)
        if id in owners:
            diagnostics.append(Diagnostic(shown, f"this file's pages would go to "
                                          f"{SITE_FOLDER}/{id}/, like those of "
                                          f"{_shown(owners[id])}: rename one of the two files"))
            continue
        owners[id] = path
        try:
            data = path.read_bytes()
        except OSError as exc:
            diagnostics.append(Diagnostic(shown, f"cannot read the file: {exc.strerror}"))
            continue
        key = _digest(fingerprint, "problem", id, str(allow_html), data)
        cached = cache.pages(key)
        if cached is not None:
            done[index] = _Checked(key, cached, cached=True)
        else:
            jobs.append((index, key, path, data.decode("utf-8", errors="replace"), allow_html,
                         cache.folder))
    for (index, key, path, *_), (pages, errors) in zip(jobs, _run(_make_pages, jobs, workers)):
        if errors:
            diagnostics.extend(_relative(d, path) for d in errors)
        else:
            done[index] = _Checked(key, pages, cached=False)
    if diagnostics:
        raise TracerError(diagnostics)
    return [done[i] for i in sorted(done)]


def _make_pages(job: tuple[int, str, Path, str, bool, Optional[Path]]
                ) -> tuple[Optional[ProblemPages], list[Diagnostic]]:
    """One problem, start to finish (runs in a worker process): its pages or its errors.

    The pages go into the cache folder here, in the worker: the files of a problem run to
    megabytes (a figure per backward step), and writing them in the workers shares the work
    and hands back only their names."""
    from .engine import trace
    from .graph import build_graph
    from .load import load

    _, key, path, source_text, allow_html, cache_folder = job
    try:
        # load() reads the file again: it owns the checks on size and encoding.
        result = trace(build_graph(load(path)))
    except TracerError as exc:
        return None, list(exc.diagnostics)
    pages = render_problem(result, path, source_text, allow_html=allow_html)
    return Cache(cache_folder).store_pages(key, pages), []


def _run(function: Callable, jobs: Sequence, workers: int) -> list:
    """``[function(job) for job in jobs]``, in ``workers`` processes when that pays."""
    import multiprocessing

    if workers <= 1 or len(jobs) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers start with tracer already imported (spawn would import it again).
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                             mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(function, jobs, chunksize=max(1, len(jobs) // (8 * workers))))


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


# ----------------------------------------------------------------------------- phase 4

def keep_pages(checked: Sequence[_Checked], cache: "Cache") -> list[ProblemPages]:
    """Every problem's pages, the new ones recorded in the cache (on disk, the workers
    stored them as they were made)."""
    for item in checked:
        if not item.cached:
            cache.store_pages(item.key, item.pages)
    return [item.pages for item in checked]


def render_problem(trace: "Trace", path: Path, source_text: str, *,
                   allow_html: bool = False) -> ProblemPages:
    """The files of ``problems/<id>/`` for one traced problem (PDFs not included)."""
    from .figures import figures
    from .render import documents

    files: dict[str, Union[str, bytes]] = {}
    for part in (documents(trace, allow_html=allow_html), figures(trace)):
        clash = sorted(set(files) & set(part))
        if clash:
            raise RuntimeError(f"two generators wrote the same file: {', '.join(clash)}")
        files.update(part)
    files[SOURCE_NAME] = source_text
    return ProblemPages(id=trace.id, title=trace.title, tags=tuple(trace.tags),
                        source=path.name, files=dict(sorted(files.items())))


# ----------------------------------------------------------------------------- phase 5

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

    version = _tool_version(pdflatex)
    jobs: list[tuple[int, str, str]] = []       # (problem index, tex name, cache key)
    found: dict[tuple[int, str], bytes] = {}
    for index, problem in enumerate(pages):
        inputs = _tex_inputs(problem)
        for name in TEX_DOCUMENTS:
            if name not in problem.files:
                continue
            key = _digest(version, name, *(f"{n}\0{inputs[n]}" for n in sorted(inputs)))
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


def run_pdflatex(pdflatex: str, name: str, inputs: Mapping[str, str]) -> bytes:
    """Compile ``name`` in a fresh folder holding ``inputs`` (all of a problem's .tex files).

    Runs with shell escape off and file access restricted to that folder, and again while
    LaTeX asks for a rerun (cross-references), at most three times.
    """
    env = dict(os.environ, openin_any="p", openout_any="p", FORCE_SOURCE_DATE="1",
               SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", str(SOURCE_DATE_EPOCH)))
    with tempfile.TemporaryDirectory(prefix="tracer-tex-") as tmp:
        for file_name, text in inputs.items():
            Path(tmp, file_name).write_text(text, encoding="utf-8")
        log_file = Path(tmp, name[:-4] + ".log")
        for _ in range(3):
            try:
                proc = subprocess.run(
                    [pdflatex, "-no-shell-escape", "-interaction=nonstopmode",
                     "-halt-on-error", name],
                    cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, timeout=300)
            except subprocess.TimeoutExpired:
                raise _LatexFailed("it ran for more than 5 minutes") from None
            log = log_file.read_text(encoding="latin-1") if log_file.exists() else \
                proc.stdout.decode("latin-1")
            if proc.returncode != 0:
                raise _LatexFailed(_latex_error(log))
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


# ----------------------------------------------------------------------------- phase 6

def build_site(site: Site, pages: Sequence[ProblemPages]) -> Path:
    """Run MkDocs with the prepared pages into a staging folder beside the output."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.exceptions import Abort, BuildError

    staging = _staging(site.output)
    config = site.mkdocs
    config["site_dir"] = str(staging)
    site.plugin.prepared = list(pages)
    try:
        with _mkdocs_messages() as messages:
            config.plugins.on_startup(command="build", dirty=False)
            try:
                mkdocs_build(config)
            except (Abort, BuildError) as exc:
                raise TracerError([Diagnostic(str(site.config_file),
                                              f"the site did not build: {m}")
                                   for m in (messages or [str(exc)])]) from None
            finally:
                config.plugins.on_shutdown()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        site.plugin.prepared = None
    return staging


@contextlib.contextmanager
def _mkdocs_messages() -> Iterator[list[str]]:
    """Collect MkDocs' warnings and errors, to report them as tracer's own errors."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


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
def _build_lock(site: Site) -> Iterator[None]:
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


# ----------------------------------------------------------------------------- the cache

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
    from .render import TEMPLATES

    h = hashlib.sha256()
    for root in (PACKAGE, TEMPLATES):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and \
                    ASSETS not in path.parents and path.suffix != ".pyc":
                h.update(path.relative_to(root).as_posix().encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
    for dist in ("sympy", "networkx", "pygraphviz", "jinja2"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            h.update(f"{dist}={importlib.metadata.version(dist)}\0".encode())
    return h.hexdigest()


def _digest(*parts: Union[str, bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:32]


# ----------------------------------------------------------------------------- for the plugin

def generate(site: Site, cache: "Cache", *, say: Say = _say) -> list[ProblemPages]:
    """Phases 2 to 5 at once: what the plugin needs under plain ``mkdocs build``/``serve``."""
    sources = find_problems(site.problems)
    checked = check_problems(sources, cache, allow_html=site.allow_html)
    pages = keep_pages(checked, cache)
    pages, _ = compile_pdfs(pages, cache, site.pdf, say=say, config_file=site.config_file)
    return pages


def home_page(pages: Sequence[ProblemPages]) -> str:
    """The home page: every problem with its title, tags and links (templates/site/)."""
    return _site_template("site/index.md.j2").render(problems=_catalogue(pages),
                                                     folder=SITE_FOLDER)


def problems_nav(pages: Sequence[ProblemPages]) -> list:
    """The navigation entries of the problems, in problem-file order (templates/site/)."""
    import yaml

    text = _site_template("site/nav.yml.j2").render(problems=_catalogue(pages),
                                                    folder=SITE_FOLDER)
    return yaml.safe_load(text) or []


def _catalogue(pages: Sequence[ProblemPages]) -> list[dict[str, Any]]:
    return [{"id": p.id, "title": p.title, "tags": list(p.tags), "source": p.source,
             "files": sorted(p.files)} for p in pages]


def _site_template(name: str):
    from .render import environment

    env = environment().overlay()
    env.filters["md"] = _markdown_text
    return env.get_template(name)


def _markdown_text(text: str) -> str:
    """Plain text made safe inside Markdown: no markup, no HTML, no math delimiters.

    Characters are written as HTML character references rather than backslash escapes,
    since ``\\(`` and ``\\[`` open math for arithmatex.
    """
    return re.sub(r"[&<>\\`*_{}\[\]|$]", lambda m: f"&#{ord(m.group())};", text)


# ----------------------------------------------------------------------------- helpers

@contextlib.contextmanager
def _reproducible_dates() -> Iterator[None]:
    """Fix the build date (sitemap, PDFs) unless the user chose one with SOURCE_DATE_EPOCH."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(SOURCE_DATE_EPOCH)
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def _shown(path: Path) -> str:
    """A path as the user would write it: relative to the current folder where possible."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


def _relative(diagnostic: Diagnostic, path: Path) -> Diagnostic:
    return dataclasses.replace(diagnostic, path=_shown(path)) \
        if diagnostic.path == str(path) else diagnostic
