"""The ``tracer`` command: trace, check, build, serve."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from .core.errors import Diagnostic, TracerError

__all__ = ["main"]


def _problem_files(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files.extend(sorted(list(path.glob("*.yaml")) + list(path.glob("*.yml"))))
        else:
            files.append(path)
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
    for path in _problem_files(args.files):
        try:
            graph, trace = _trace_file(path, max_mib=args.max_file_size)
            # The terminal shows numbers only: no formula is derived (nor SymPy imported).
            texts.append(terminal_text(solve(graph, trace, derive(graph, formulas=False))))
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

    single = len(args.files) == 1 and not Path(args.files[0]).is_dir()
    failures: list[TracerError] = []
    out = _Output()
    count = 0
    for path in _problem_files(args.files):
        try:
            graph, trace = _trace_file(path, max_mib=args.max_file_size)
        except TracerError as exc:
            failures.append(exc)
            continue
        if not single:
            out.write(b",\n" if count else b"[\n")
        count += 1
        for chunk in graph_json(graph, trace):
            out.write(chunk)
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
    files = _problem_files(args.paths)
    if not files:
        return _report([TracerError([Diagnostic(", ".join(args.paths), "no problem files "
                                                "(*.yaml) found here")])])
    failures = []
    for path in files:
        try:
            _trace_file(path, check=False, max_mib=args.max_file_size)
        except TracerError as exc:
            failures.append(exc)
    if not failures:
        print(f"{len(files)} problem file{'s' if len(files) != 1 else ''} checked: no errors")
    return _report(failures)


def cmd_build(args: argparse.Namespace) -> int:
    from .site.build import build

    build(Path(args.config))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .site.build import serve

    serve(Path(args.config), args.dev_addr)
    return 0


def _report(failures: Sequence[TracerError]) -> int:
    from .core.errors import shown

    lines = [f"error: {line}\n" for exc in failures for line in shown(exc.diagnostics)]
    sys.stderr.write("".join(lines))
    return 1 if failures else 0


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
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("trace", help="print the forward and backward pass of problem files")
    p.add_argument("files", nargs="+", help="problem files (YAML) or folders of them")
    p.add_argument("--json", action="store_true", help="print the trace as JSON")
    _size_option(p)
    p.set_defaults(run=cmd_trace)

    p = sub.add_parser("check", help="validate problem files without building anything")
    p.add_argument("paths", nargs="*", default=["problems"], help="files or folders "
                   "(default: problems)")
    _size_option(p)
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("build", help="build worksheets, answer keys and the site")
    p.add_argument("-f", "--config", default="mkdocs.yml", help="the site's mkdocs.yml")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("serve", help="preview the site, rebuilding a problem when it changes")
    p.add_argument("-f", "--config", default="mkdocs.yml", help="the site's mkdocs.yml")
    p.add_argument("-a", "--dev-addr", default="127.0.0.1:8000", help="address to serve on")
    p.set_defaults(run=cmd_serve)

    args = parser.parse_args(argv)
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
