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


def _trace_file(path: Path, check: bool = True):
    from .core.engine import trace
    from .core.graph import build_graph
    from .core.load import load

    graph = build_graph(load(path))
    return graph, trace(graph, check=check)


def cmd_trace(args: argparse.Namespace) -> int:
    from .exporters.terminal import terminal_text
    from .exporters.trace_json import as_dict, to_json
    from .view.solution import solve

    failures: list[TracerError] = []
    solutions = []
    for path in _problem_files(args.files, failures):
        try:
            solutions.append(solve(*_trace_file(path)))
        except TracerError as exc:
            failures.append(exc)
    if args.json:
        import json

        from .safety.terminal import json_for_terminal

        if len(solutions) == 1 and len(args.files) == 1 and not Path(args.files[0]).is_dir():
            sys.stdout.write(json_for_terminal(to_json(solutions[0])))
        elif solutions:
            sys.stdout.write(json_for_terminal(
                json.dumps([as_dict(s) for s in solutions], indent=2) + "\n"))
    else:
        sys.stdout.write("\n".join(terminal_text(s) for s in solutions))
    return _report(failures)


def cmd_check(args: argparse.Namespace) -> int:
    failures: list[TracerError] = []
    files = _problem_files(args.paths, failures)
    graphs = []
    for path in files:
        try:
            graphs.append(_trace_file(path, check=False)[0])
        except TracerError as exc:
            failures.append(exc)
    if args.variants and not failures:
        from .site.classroom import check_variants

        return _report(check_variants(graphs, args.variants, args.salt or ""))
    if not failures:
        print(f"{len(files)} problem file{'s' if len(files) != 1 else ''} checked: no errors")
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

    serve(Path(args.config), args.dev_addr)
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
    for exc in failures:
        for d in exc.diagnostics:
            print(f"error: {d}", file=sys.stderr)
    return 1 if failures else 0


def _version() -> str:
    """The installed version (the package's metadata), else the source's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tracer")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        from . import __version__
        return __version__


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``tracer`` console script; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="tracer", description="Backpropagation problems as step-by-step teaching documents.")
    parser.add_argument("--version", action="version", version=f"tracer {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("trace", help="print the forward and backward pass of problem files")
    p.add_argument("files", nargs="+", help="problem files (YAML) or folders of them")
    p.add_argument("--json", action="store_true", help="print the trace as JSON")
    p.set_defaults(run=cmd_trace)

    p = sub.add_parser("check", help="validate problem files without building anything")
    p.add_argument("paths", nargs="*", default=["problems"], help="files or folders "
                   "(default: problems)")
    p.add_argument("--variants", type=int, default=0, metavar="N", help="also draw N "
                   "variants of each problem and fail where fewer than 90%% are usable")
    p.add_argument("--salt", default=None, help="the course salt variants are drawn with")
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
