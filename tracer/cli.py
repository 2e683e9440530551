"""The ``tracer`` command: trace, check, build, serve, new."""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Iterator, Optional, Sequence

from .core.errors import Diagnostic, TracerError

__all__ = ["main"]


def _problem_files(paths: Sequence[str], failures: list[TracerError]) -> list[Path]:
    """The problem files of ``paths``, found as the build finds them; what is wrong with a
    folder's entries is added to ``failures``."""
    from .core.discover import find_problem_files

    files, errors = find_problem_files(paths)
    if errors:
        failures.append(TracerError(errors))
    return files


#: The largest problem file `tracer trace` and `tracer check` read by default, in MiB
#: (`--max-file-size`): a limit against hostile input that a generated problem of a million
#: nodes (24 MiB of YAML) stays within.  The site's build keeps the smaller limit of
#: :data:`tracer.core.load.MAX_FILE_BYTES`: a problem there is a page.
MAX_FILE_MIB = 64


def _trace_file(path: Path, check: bool = True, max_mib: int = MAX_FILE_MIB):
    from .core.engine import trace
    from .core.graph import build_graph
    from .core.load import load

    graph = build_graph(load(path, max_bytes=max_mib * 1024 * 1024))
    return graph, trace(graph, check=check)


def cmd_trace(args: argparse.Namespace) -> int:
    if args.json:
        return _trace_json(args)
    from .exporters.terminal import terminal_text
    from .view.derive import derive
    from .view.solution import solve

    failures: list[TracerError] = []
    texts = []
    for path in _problem_files(args.files, failures):
        try:
            graph, trace = _trace_file(path, max_mib=args.max_file_size)
            # The terminal shows numbers only: no formula is derived (nor SymPy imported).
            texts.append(terminal_text(solve(graph, trace, derive(graph, formulas=False),
                                             whole=True)))
        except TracerError as exc:
            failures.append(exc)
    out = _Output()
    out.write("\n".join(texts).encode("utf-8"))
    out.flush()
    return _report(failures)


def _trace_json(args: argparse.Namespace) -> int:
    """One JSON object, or a list of them for several files or a folder, written as each
    problem is traced, a chunk at a time."""
    from .exporters.trace_json import graph_json

    from .safety.terminal import json_for_terminal

    single = len(args.files) == 1 and not Path(args.files[0]).is_dir()
    failures: list[TracerError] = []
    out = _Output()
    count = 0
    for path in _problem_files(args.files, failures):
        try:
            graph, trace = _trace_file(path, max_mib=args.max_file_size)
        except TracerError as exc:
            failures.append(exc)
            continue
        if not single:
            out.write(b",\n" if count else b"[\n")
        count += 1
        for chunk in graph_json(graph, trace):
            # Control characters in names or titles as JSON escapes, not raw to the terminal.
            out.write(json_for_terminal(chunk.decode("utf-8")).encode("utf-8"))
        del graph, trace
    if count and not single:
        out.write(b"]\n")
    out.flush()
    return _report(failures)


class _Output:
    """Standard output as bytes, written in large pieces (a write per record made a
    100k-node trace ten times slower).  A reader that stops reading (``| head``) ends the
    output quietly: a closed pipe is a normal end."""

    SIZE = 1 << 20

    def __init__(self) -> None:
        sys.stdout.flush()
        self.stream = getattr(sys.stdout, "buffer", None)
        self.pending: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.pending.append(data)
        self.size += len(data)
        if self.size >= self.SIZE:
            self.flush()

    def flush(self) -> None:
        data = b"".join(self.pending)
        self.pending, self.size = [], 0
        if self.stream is None:  # a text stream without bytes underneath (tests)
            sys.stdout.write(data.decode("utf-8"))
        else:
            self.stream.write(data)
            self.stream.flush()


def cmd_check(args: argparse.Namespace) -> int:
    from .safety.terminal import for_terminal
    from .view.solution import MAX_WRITTEN, measure

    failures: list[TracerError] = []
    files = _problem_files(args.paths, failures)
    graphs, overviews = [], []
    for path in files:
        try:
            graph, traced = _trace_file(path, check=False, max_mib=args.max_file_size)
        except TracerError as exc:
            failures.append(exc)
            continue
        graphs.append(graph)
        size = measure(traced) if graph.tensor is None else None
        if size is not None and not size.written_out:
            overviews.append(f"{for_terminal(str(path))}: {size.total:,} lines of work (inputs, "
                             f"gates, backward steps and operations), more than the "
                             f"{MAX_WRITTEN:,} a worksheet and key work step by step: its "
                             "pages will give an overview (split it to have it worked)")
    if args.variants and not failures:
        from .site.classroom import check_variants

        return _report(check_variants(graphs, args.variants, args.salt or ""))
    if not failures:
        print(f"{len(files)} problem file{'s' if len(files) != 1 else ''} checked: no errors")
        print("\n".join(overviews), end="\n" if overviews else "")
    return _report(failures)


def cmd_build(args: argparse.Namespace) -> int:
    import datetime

    from .site.build import Classroom, build

    try:
        today = datetime.date.fromisoformat(args.today) if args.today else None
    except ValueError:
        return _report([TracerError([Diagnostic("--today", "give the day as YYYY-MM-DD")])])
    build(Path(args.config), classroom=Classroom(
        students=Path(args.students) if args.students else None, variants=args.variants,
        salt=args.salt, release_keys=args.release_keys, today=today))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .core.variants import Tolerance
    from .exporters.quiz import QuizSettings
    from .site.quizzes import export

    failures: list[TracerError] = []
    files = _problem_files(args.problems, failures)
    if failures:
        return _report(failures)
    tolerance = None
    if args.rtol is not None or args.atol is not None:
        tolerance = Tolerance(1e-2 if args.rtol is None else args.rtol,
                              1e-8 if args.atol is None else args.atol)
    size = export(args.format, files, Path(args.output), variants=args.variants,
                  salt=args.salt or "", settings=QuizSettings(
                      blanks=args.blanks, points=args.points, tolerance=tolerance,
                      cloze=args.cloze))
    print(f"wrote {args.output} ({size // 1024} KiB, {len(files)} problem"
          f"{'s' if len(files) != 1 else ''})", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .site.build import serve

    serve(Path(args.config), args.dev_addr, "student" if args.student else "instructor")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from .site.new import new_course

    written = new_course(Path(args.folder), name=args.name, term=args.term, author=args.author)
    folder = Path(args.folder)
    print(f"created the course {folder}/: " + ", ".join(
        p.relative_to(folder).as_posix() for p in written))
    print(f"build it with: cd {folder} && tracer build   (preview: tracer serve)")
    return 0


def _report(failures: Sequence[TracerError]) -> int:
    from .core.errors import shown

    lines = [f"error: {line}\n" for exc in failures for line in shown(exc.diagnostics)]
    sys.stderr.write("".join(lines))
    return 1 if failures else 0


def _version() -> str:
    """The installed version (the package's metadata), else the source's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tracer")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        from . import __version__
        return __version__
def _closed_pipe() -> int:
    """The reader of standard output has gone: point the output at /dev/null so that
    Python's last flush does not fail again, and end as a finished command does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no file descriptor (tests)
        pass
    return 0


def _size_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-file-size", type=_mib, default=MAX_FILE_MIB, metavar="MIB",
                        help=f"read problem files of up to MIB mebibytes (default "
                        f"{MAX_FILE_MIB})")


def _mib(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of MiB (1 or more)")
    return value


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``tracer`` console script; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="tracer", description="Backpropagation problems as step-by-step teaching documents.")
    parser.add_argument("--version", action="version", version=f"tracer {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("trace", help="print the forward and backward pass of problem files")
    p.add_argument("files", nargs="+", help="problem files (YAML) or folders of them")
    p.add_argument("--json", action="store_true", help="print the trace as JSON")
    _size_option(p)
    p.set_defaults(run=cmd_trace)

    p = sub.add_parser("check", help="validate problem files without building anything")
    p.add_argument("paths", nargs="*", default=["problems"], help="files or folders "
                   "(default: problems)")
    p.add_argument("--variants", type=int, default=0, metavar="N", help="also draw N "
                   "variants of each problem and fail where fewer than 90%% are usable")
    p.add_argument("--salt", default=None, help="the course salt variants are drawn with")
    _size_option(p)
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("build", help="build worksheets, answer keys and the site")
    p.add_argument("-f", "--config", default="mkdocs.yml", help="the site's mkdocs.yml")
    p.add_argument("--students", metavar="ROSTER.csv", help="a worksheet and key of every "
                   "problem for each student of the roster (columns id, name)")
    p.add_argument("--variants", type=int, default=0, metavar="N", help="N numbered variants "
                   "of every problem")
    p.add_argument("--salt", help="the course salt variants are drawn with (default: the "
                   "tracer plugin's salt in mkdocs.yml)")
    p.add_argument("--release-keys", action="store_true", help="publish every answer key in "
                   "the student edition")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="the day release dates are compared "
                   "with (default: today)")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("export", help="export problems as a Moodle XML or QTI 1.2 quiz")
    p.add_argument("format", choices=("moodle", "qti"), help="moodle: Moodle XML; qti: an "
                   "IMS QTI 1.2 package (Canvas, Blackboard)")
    p.add_argument("problems", nargs="*", default=["problems"], help="problem files or "
                   "folders (default: problems)")
    p.add_argument("-o", "--output", required=True, help="the file to write (quiz.xml, "
                   "quiz.zip)")
    p.add_argument("--variants", type=int, default=0, metavar="N", help="also N numbered "
                   "variants of each problem (the site's variants 1 to N)")
    p.add_argument("--salt", help="the course salt variants are drawn with")
    p.add_argument("--blanks", choices=("final", "all"), default="final", help="final: the "
                   "final gradients; all: every forward value and local gradient too")
    p.add_argument("--points", type=float, default=1.0, help="points of a question")
    p.add_argument("--rtol", type=float, help="relative tolerance (default: the problem's)")
    p.add_argument("--atol", type=float, help="absolute tolerance (default: the problem's)")
    p.add_argument("--cloze", action="store_true", help="Moodle: one cloze question per "
                   "variant instead of one numerical question per blank")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("serve", help="preview the site, rebuilding a problem when it changes")
    p.add_argument("-f", "--config", default="mkdocs.yml", help="the site's mkdocs.yml")
    p.add_argument("-a", "--dev-addr", default="127.0.0.1:8000", help="address to serve on")
    p.add_argument("--student", action="store_true", help="preview the student edition "
                   "(default: the instructor edition, with every answer key)")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("new", help="create a course of your own: mkdocs.yml, problems/, site/")
    p.add_argument("folder", help="the course's folder (new, or empty)")
    p.add_argument("--name", default="", help="the course's name (default: the folder's)")
    p.add_argument("--term", default="", help="the term, e.g. 'Winter 2025/26'")
    p.add_argument("--author", default="", help="the lecturer")
    p.set_defaults(run=cmd_new)

    args = parser.parse_args(argv)
    with _escaped_output():
        return _run(args)


@contextlib.contextmanager
def _escaped_output() -> Iterator[None]:
    """Everything printed goes through for_terminal: no control character from a title, a
    file name or an input reaches the terminal, and a character the terminal's encoding
    lacks is written as an escape instead of ending the command."""
    from .safety.terminal import EscapingStream

    saved = sys.stdout, sys.stderr
    for stream in saved:
        with contextlib.suppress(AttributeError, ValueError, io.UnsupportedOperation):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    sys.stdout, sys.stderr = EscapingStream(sys.stdout), EscapingStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _run(args: argparse.Namespace) -> int:
    try:
        return args.run(args)
    except TracerError as exc:
        return _report([exc])
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in tracer, not in the input: say so without a traceback
        if os.environ.get("TRACER_DEBUG"):
            raise
        print(f"error: internal error ({type(exc).__name__}: {exc}); run again with "
              "TRACER_DEBUG=1 for details and report it", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
