"""Building a course: 500 generated problems, the repository's mkdocs.yml and site/.

    python benchmarks/build_course.py [--problems 500] [--quick] [--pdf config|auto|false]
                                      [--keep DIR] [--no-profile]

Copies mkdocs.yml and the docs folder (site/) into a temporary folder, writes the course
(the repository's own problems, which the hand-written pages link to, and generated ones,
:mod:`course`: 5 to 50 nodes a problem, every kind of gate, up to 500 in all) into the
plugin's problems folder there, and times, each in a fresh interpreter as ``tracer build`` would run:

1. a clean build (no cache, no output);
2. a second build with nothing changed;
3. a build after touching one problem file (its time stamp only);
4. a build after editing one problem (one input value changed);

with the time of each phase of ``tracer.site.build.build`` (its functions wrapped from outside,
nothing changed in tracer) and, inside the check and render phases, of loading, graph,
trace, documents and figures.  Then one more clean build, without PDFs, runs under cProfile
to split the time between tracer's own code and MkDocs and the other libraries (own time
by package; the time of built-ins and of the standard library is given to the package
that called them).

When tracer.site.build or mkdocs.yml is missing it says so and exits 0.
"""
from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import pstats
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

import common
from common import ROOT, emit, run_worker, table

SCRIPT = Path(__file__).resolve()

#: The phases of tracer.site.build.build, in order, and the stages timed inside them.
PHASES = ("read_config", "discard_leftovers", "find_problems", "check_problems",
          "keep_pages", "compile_pdfs", "build_site", "swap_in")
INNER = (("tracer.core.load", "load"), ("tracer.core.graph", "build_graph"),
         ("tracer.core.engine", "trace"),
         ("tracer.site.pages", "solve"), ("tracer.exporters.figures", "figures"))
PACKAGES = ("tracer", "mkdocs", "material", "markdown", "pymdownx", "jinja2", "yaml",
            "networkx", "sympy", "pygraphviz", "pygments", "babel", "markupsafe")


def _has_build() -> str:
    """Why the build cannot be benchmarked, or ''."""
    try:
        mod = importlib.import_module("tracer.site.build")
    except ImportError as exc:
        return f"tracer.site.build cannot be imported ({exc})"
    if not hasattr(mod, "build"):
        return "tracer.site.build has no build()"
    if not (ROOT / "mkdocs.yml").is_file():
        return "the repository has no mkdocs.yml"
    return ""


# ----------------------------------------------------------------------------- the copy

class _AnyTag(yaml.SafeLoader):
    """Reads mkdocs.yml, whose !!python/name tags plain safe loading refuses."""


_AnyTag.add_multi_constructor("", lambda loader, suffix, node: None)
_AnyTag.add_multi_constructor("tag:yaml.org,2002:python/",
                              lambda loader, suffix, node: None)


def plugin_options(config_text: str) -> dict:
    """The tracer plugin's options in mkdocs.yml."""
    import yaml

    data = yaml.load(config_text, Loader=_AnyTag) or {}
    for entry in data.get("plugins") or []:
        if isinstance(entry, dict) and "tracer" in entry:
            return dict(entry["tracer"] or {})
        if entry == "tracer":
            return {}
    return {}


def prepare(folder: Path, count: int, seed: int, pdf: str,
            problems_from: Path | None = None) -> dict:
    """Copy mkdocs.yml and the docs folder into ``folder`` and write the course there (or
    copy it from ``problems_from``)."""
    import course

    config_text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    data = yaml.load(config_text, Loader=_AnyTag) or {}
    docs = data.get("docs_dir", "docs")
    if pdf != "config":
        new, n = re.subn(r"(?m)^(\s+pdf:\s*)\S+", lambda m: m.group(1) + pdf, config_text)
        if n == 0:
            new = re.sub(r"(?m)^(\s+)- tracer:\s*$",
                         lambda m: f"{m.group(0)}\n{m.group(1)}    pdf: {pdf}", config_text)
        config_text = new
    (folder / "mkdocs.yml").write_text(config_text, encoding="utf-8")
    if (ROOT / docs).is_dir():
        shutil.copytree(ROOT / docs, folder / docs, dirs_exist_ok=True)
    options = plugin_options(config_text)
    problems = folder / options.get("problems", "problems")
    started = time.perf_counter()
    if problems_from is not None:
        shutil.copytree(problems_from, problems, dirs_exist_ok=True)
    else:
        # The repository's own problems come too: the hand-written pages link to them.
        problems.mkdir(parents=True, exist_ok=True)
        own = sorted((ROOT / "problems").glob("*.y*ml"))
        for path in own:
            shutil.copy2(path, problems / path.name)
        course.write_course(problems, max(0, count - len(own)), seed)
    paths = sorted(p for p in problems.iterdir() if p.suffix in (".yaml", ".yml"))
    return {"problems": [str(p) for p in paths], "generate_s": time.perf_counter() - started,
            "internal_errors": course.INTERNAL_ERRORS, "pdf": options.get("pdf", "auto"),
            "output": str(folder / data.get("site_dir", "site"))}


# ----------------------------------------------------------------------------- workers

def _wrap(owner, name: str, spent: dict, calls: dict) -> None:
    fn = getattr(owner, name, None)
    if fn is None:
        return

    def timed_call(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
            calls[name] = calls.get(name, 0) + 1

    setattr(owner, name, timed_call)


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def work_build(config: str) -> dict:
    """One timed build, its phases wrapped."""
    started = time.perf_counter()
    import tracer.site.build as tb  # MkDocs and the rest are imported inside the phases

    spent: dict = {}
    calls: dict = {}
    for name in PHASES:
        _wrap(tb, name, spent, calls)
    _wrap(tb.Cache, "prune", spent, calls)
    for module, name in INNER:
        try:
            _wrap(importlib.import_module(module), name, spent, calls)
        except ImportError:
            pass
    imported = time.perf_counter() - started
    fingerprint = getattr(tb, "code_fingerprint", lambda: "")()
    cpu0 = _cpu()
    began = time.perf_counter()
    report = tb.build(Path(config), say=lambda message: None)
    total = time.perf_counter() - began
    return {"total": total, "cpu": _cpu() - cpu0, "import": imported, "spent": spent,
            "fingerprint": fingerprint,
            "calls": calls, "problems": getattr(report, "problems", None),
            "reused": getattr(report, "reused", None), "pdfs": getattr(report, "pdfs", None),
            "pdfs_reused": getattr(report, "pdfs_reused", None),
            "pdf_skipped": getattr(report, "pdf_skipped", None),
            "site": getattr(report, "site", None)}


def _package(path: str) -> str:
    if path == "~":
        return "~"
    if path.startswith(str(ROOT / "tracer")):
        return "tracer"
    for name in PACKAGES[1:]:
        if f"/site-packages/{name}/" in path:
            return name
    if "/site-packages/" in path:
        return "other libraries"
    return "Python standard library"


def _attribute(stats: dict) -> dict[str, float]:
    """Own time by package, where the own time of the standard library and of built-ins is
    handed up the callers (in proportion to the time spent from each) to the first package
    that is neither: json.dumps called by tracer counts as tracer's."""
    memo: dict = {}

    def shares(key, seen: frozenset) -> dict[str, float]:
        if key in memo:
            return memo[key]
        pkg = _package(key[0])
        if pkg not in ("~", "Python standard library"):
            return {pkg: 1.0}
        callers = stats[key][4] if key in stats else {}
        weights = {c: v[3] for c, v in callers.items() if c != key and c not in seen}
        total = sum(weights.values())
        if not total or len(seen) > 40:
            result = {pkg: 1.0}
        else:
            result = {}
            for caller, w in weights.items():
                for p, f in shares(caller, seen | {key}).items():
                    result[p] = result.get(p, 0.0) + f * w / total
        memo[key] = result
        return result

    by_package: dict[str, float] = {}
    for key, entry in stats.items():
        for pkg, f in shares(key, frozenset()).items():
            by_package[pkg] = by_package.get(pkg, 0.0) + entry[2] * f
    return by_package


def work_profile(config: str) -> dict:
    """A clean build under cProfile: own time by package, tracer's plugin hooks inside
    MkDocs, and tracer's hottest functions."""
    import tracer.site.build as tb

    prof = cProfile.Profile()
    started = time.perf_counter()
    prof.runcall(tb.build, Path(config), say=lambda message: None)
    total = time.perf_counter() - started
    stats = pstats.Stats(prof).stats
    hot = sorted(((tt, ct, nc, f"{Path(path).name}:{line} {func}")
                  for (path, line, func), (cc, nc, tt, ct, _) in stats.items()
                  if _package(path) == "tracer"), reverse=True)[:12]
    phases: dict[str, float] = {}
    hooks = 0.0
    for (path, line, func), (cc, nc, tt, ct, _) in stats.items():
        if path.endswith("tracer/build.py") and func in PHASES:
            phases[func] = phases.get(func, 0.0) + ct
        if path.endswith("tracer/plugin.py") and func.startswith("on_"):
            hooks += ct
    return {"total": total, "by_package": _attribute(stats), "hot": hot, "phases": phases,
            "hooks": hooks}


# ----------------------------------------------------------------------------- main

def _folder_mb(folder: Path) -> "float | None":
    """Size of the built site: every file under ``folder``."""
    if not folder.is_dir():
        return None
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / (1024 * 1024)


def run(count: int, seed: int, pdf: str, keep: str = "", profile: bool = True) -> int:
    why = _has_build()
    if why:
        print(f"build benchmark skipped: {why}. It times tracer.site.build.build(Path(mkdocs_yml)) "
              "and runs once that exists.")
        return 0
    print(common.machine_line())
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="tracer-course-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        info = prepare(folder, count, seed, pdf)
        config = str(folder / "mkdocs.yml")
        paths = [Path(p) for p in info["problems"]]
        print(f"course: {len(paths)} problems written to {folder} in {info['generate_s']:.1f} s "
              f"(pdf: {info['pdf']})")
        if info["internal_errors"]:
            first = info["internal_errors"][0]
            print(f"WARNING: {len(info['internal_errors'])} drafted problems made tracer fail "
                  f"with an internal error and were drawn again; the first: {first[1]}")
        print()
        runs = []
        labels = ["clean build", "nothing changed", "one file touched (mtime)",
                  "one problem edited"]
        for label in labels:
            if label == "one file touched (mtime)":
                os.utime(paths[len(paths) // 2])
            elif label == "one problem edited":
                target = paths[len(paths) // 3]
                text = target.read_text(encoding="utf-8")
                # The first input's value, nudged: a new problem as far as any cache knows.
                text = re.sub(r"(?m)^(inputs:\n  \w+: )(-?[\d.]+)",
                              lambda m: m.group(1) + repr(float(m.group(2)) + 0.25), text,
                              count=1)
                target.write_text(text, encoding="utf-8")
            r = run_worker(SCRIPT, ["build", config], timeout=7200)
            r["site_mb"] = _folder_mb(Path(info["output"]))
            runs.append((label, r))
        rows = []
        previous = None
        for label, r in runs:
            if "error" in r:
                rows.append([label] + ["-"] * 8 + [r["error"][:100]])
                continue
            changed = previous is not None and r.get("fingerprint") != previous
            previous = r.get("fingerprint")
            rows.append([label, r["total"], r["cpu"], r["import"], r["site_mb"], r["problems"],
                         r["reused"], r.get("site") or "-",
                         f"{r['pdfs']} ({r['pdfs_reused']} reused)" if r["pdfs"] is not None
                         else "-", "; ".join(filter(None, [
                             "PDFs skipped: no pdflatex" if r.get("pdf_skipped") else "",
                             "tracer's code changed since the build before: its cache keys "
                             "changed" if changed else ""]))])
        print(table(["build", "wall s", "CPU s (+children)", "import s", "site MB",
                     "problems", "from cache", "pages rendered", "PDFs", "note"], rows,
                    "== tracer build: whole builds (each in a fresh interpreter) =="))
        print()
        phase_names = [p for p in PHASES] + ["prune"]
        inner_names = [name for _, name in INNER]
        rows = []
        for name in phase_names + inner_names:
            row = [name if name in phase_names else f"  {name} (inside)"]
            for label, r in runs:
                s = r.get("spent", {}).get(name)
                row.append(s)
            if any(v is not None for v in row[1:]):
                rows.append(row)
        rows.append(["whole build"] + [r.get("total") for _, r in runs])
        print(table(["phase (wall s)"] + [l for l, _ in runs], rows,
                    "== where each build's time goes (phases of tracer.site.build.build) =="))
        first = runs[0][1]
        if "spent" in first and first["total"]:
            s = first["spent"]
            mk = s.get("build_site", 0.0)
            pdf_s = s.get("compile_pdfs", 0.0)
            own = first["total"] - mk - pdf_s
            print(f"\nclean build: tracer's own phases {own:.1f} s "
                  f"({own / first['total'] * 100:.0f}%), pdflatex (compile_pdfs) {pdf_s:.1f} s "
                  f"({pdf_s / first['total'] * 100:.0f}%), MkDocs (build_site, with tracer's "
                  f"plugin hooks) {mk:.1f} s ({mk / first['total'] * 100:.0f}%)")
        print()
        targets(runs, len(paths))
        print()
        if profile:
            pfolder = folder / "profiled"
            pfolder.mkdir(exist_ok=True)
            prepare(pfolder, count, seed, "false", problems_from=paths[0].parent)
            p = run_worker(SCRIPT, ["profile", str(pfolder / "mkdocs.yml")], timeout=7200)
            if "error" in p:
                print(f"profiled build failed: {p['error']}")
            else:
                total_own = sum(p["by_package"].values())
                rows = sorted(([pkg, t, t / total_own * 100] for pkg, t in
                               p["by_package"].items()), key=lambda r: -r[1])
                print(table(["package", "own s", "%"], rows,
                            f"== clean build without PDFs under cProfile ({p['total']:.1f} s; "
                            "own time by package) =="))
                print()
                order = {name: i for i, name in enumerate(PHASES)}
                rows = [[k, v, v / p["total"] * 100] for k, v in
                        sorted(p["phases"].items(), key=lambda kv: order.get(kv[0], 99))]
                rows.append(["  of build_site: tracer's plugin hooks", p["hooks"],
                             p["hooks"] / p["total"] * 100])
                site = p["phases"].get("build_site", 0.0)
                rows.append(["  of build_site: MkDocs and its theme", site - p["hooks"],
                             (site - p["hooks"]) / p["total"] * 100])
                print(table(["phase", "cum s", "%"], rows,
                            "-- the same build's phases, cumulative under cProfile --"))
                print()
                print(table(["tracer function", "own s", "cum s", "calls"],
                            [[name, tt, ct, nc] for tt, ct, nc, name in p["hot"]],
                            "-- tracer's functions with the most own time in that build --"))
                print()
        errors = [label for label, r in runs if "error" in r]
        if errors:
            print("FAILED builds: " + ", ".join(errors))
            return 1
        return 0
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


#: Targets: (build, seconds); the clean build's is for a course without PDFs.
TARGETS = {"clean build": 30.0, "nothing changed": 3.0, "one file touched (mtime)": 3.0,
           "one problem edited": 5.0}
PDF_TARGET = 180.0
FULL_COURSE = 500


def targets(runs: list, count: int) -> None:
    """The target lines: each build's wall time against its target; with PDFs, the clean
    build extrapolated to a 500-problem course when this one is smaller."""
    for label, r in runs:
        if "error" in r:
            continue
        with_pdfs = bool(r.get("pdfs")) and not r.get("pdf_skipped")
        if label == "clean build" and with_pdfs:
            scale = FULL_COURSE / count
            total = r["total"] * scale
            how = (f"{r['total']:.1f} s for {count} problems, x {scale:.3g} = {total:.0f} s "
                   "(extrapolated: every phase grows with the problems)" if count < FULL_COURSE
                   else f"{total:.1f} s")
            print(f"TARGET clean build with PDFs of {FULL_COURSE} problems: {how}; target < "
                  f"{PDF_TARGET:.0f} s: {'met' if total < PDF_TARGET else 'NOT met'}")
            continue
        if label not in TARGETS or (label == "clean build" and count < FULL_COURSE):
            continue
        goal = TARGETS[label]
        print(f"TARGET {label}: {r['total']:.1f} s wall ({r['cpu']:.1f} s CPU); target < "
              f"{goal:.0f} s: {'met' if r['total'] < goal else 'NOT met'}"
              f"{' (MkDocs rendered: ' + r['site'] + ')' if r.get('site') else ''}")


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--worker":
        kind, config = argv[1], argv[2]
        os.chdir(Path(config).parent)
        emit(work_build(config) if kind == "build" else work_profile(config))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--problems", type=int, help="problems in the course (default 500; "
                   "quick: 20)")
    p.add_argument("--quick", action="store_true", help="20 problems")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pdf", default="config", choices=["config", "auto", "false", "true"],
                   help="the plugin's pdf option for the timed builds (default: as in "
                   "mkdocs.yml)")
    p.add_argument("--keep", help="build in this folder and keep it")
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile build")
    args = p.parse_args(argv)
    count = args.problems or (20 if args.quick else 500)
    return run(count, args.seed, args.pdf, args.keep or "", not args.no_profile)


if __name__ == "__main__":
    sys.exit(main())
