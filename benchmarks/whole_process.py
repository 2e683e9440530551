"""tracer as a user runs it: whole processes, start to finish, beside micrograd and PyTorch.

    python benchmarks/whole_process.py [--quick] [--sizes 1k,10k,100k,1M] [--others-max 100k]
                                       [--repeat 3] [--startup-runs 20] [--keep DIR]

Two parts.

* **Start-up**: ``tracer trace``, ``tracer check`` and ``tracer trace --json`` on one
  bundled problem, and ``python -c pass`` as the floor, timed over repeated runs (with
  hyperfine where it is installed, else here). Target: ``tracer trace`` and ``tracer
  check`` under 0.15 s.
* **A random DAG file** (``graphs.dag`` with the operations all three engines have, every
  node leading to the output) at each size, and three commands on it, each reading the
  file, computing every value and gradient and writing JSON to a file:
  ``tracer trace FILE --json`` (every backward step too), and the scripts of
  ``benchmarks/by_hand/`` for micrograd and PyTorch (PyYAML's C loader, the expressions
  evaluated by Python over the engine's values). The commands take turns, so that each
  round sees the same load; each figure is the best of ``--repeat`` rounds (one round
  from 1M nodes). Every gradient of every input and node of the other engines' output is
  compared with tracer's (relative error as in compare.py); above 1e-9 the script exits 1.
  Target at 100k nodes: tracer no slower than micrograd (ratio <= 1.0), peak RSS at most
  512 MiB, and tracer's cost per node flat from 1k to 1M.

Times are wall seconds and CPU seconds (user + system) of the child process, from
``os.wait4``; peak RSS is the child's ``ru_maxrss``. The machine is shared: the load
average is printed, and CPU time is the steadier figure.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
from common import ROOT, parse_sizes, size_label, table

HERE = Path(__file__).resolve().parent
TOLERANCE = 1e-9
RSS_TARGET_MIB = 512
STARTUP_TARGET = 0.15
STARTUP_PROBLEM = ROOT / "problems" / "03-two-paths.yaml"


def _tracer_command() -> list[str]:
    """The installed console script beside this Python, as a user runs it."""
    script = Path(sys.executable).with_name("tracer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tracer"]


def run_once(cmd: list[str], out: Path) -> dict:
    """Run ``cmd`` with its output into ``out``: wall, CPU (user + system), peak RSS."""
    with open(out, "wb") as fh:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.PIPE, cwd=str(ROOT))
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
              "rss_mib": usage.ru_maxrss / 1024, "status": proc.returncode}
    if proc.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        result["error"] = f"exit {proc.returncode}: {lines[-1]}"
    return result


# ----------------------------------------------------------------------------- start-up

def startup(runs: int) -> list[list]:
    tracer = _tracer_command()
    problem = str(STARTUP_PROBLEM.relative_to(ROOT))
    commands = [
        ("python -c pass (the floor)", [sys.executable, "-c", "pass"]),
        (f"tracer check {problem}", tracer + ["check", problem]),
        (f"tracer trace {problem}", tracer + ["trace", problem]),
        (f"tracer trace --json {problem}", tracer + ["trace", "--json", problem]),
    ]
    rows = []
    hyperfine = shutil.which("hyperfine")
    for label, cmd in commands:
        if hyperfine:
            rows.append([label] + _hyperfine(hyperfine, cmd, runs) + ["hyperfine"])
        else:
            rows.append([label] + _repeated(cmd, runs) + ["repeated runs"])
    return rows


def _hyperfine(hyperfine: str, cmd: list[str], runs: int) -> list:
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run([hyperfine, "--warmup", "3", "--runs", str(runs), "-N", "--export-json",
                        f.name, " ".join(cmd)], capture_output=True, check=True,
                       cwd=str(ROOT))
        data = json.loads(Path(f.name).read_text())["results"][0]
    return [data["min"], data["median"], data["user"] + data["system"]]


def _repeated(cmd: list[str], runs: int) -> list:
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as d:
        for i in range(runs + 3):
            r = run_once(cmd, Path(d) / "out")
            if i >= 3:  # warm-up runs first, as hyperfine does
                walls.append(r["wall"])
                cpus.append(r["cpu"])
    walls.sort()
    return [walls[0], walls[len(walls) // 2], sum(cpus) / len(cpus)]


# ----------------------------------------------------------------------------- a DAG file

def engines(others: bool) -> list[tuple[str, list[str]]]:
    found = [("tracer", _tracer_command() + ["trace", "{file}", "--json"])]
    if not others:
        return found
    for name, module, script in (("micrograd", "micrograd", "micrograd_trace.py"),
                                 ("PyTorch", "torch", "torch_trace.py")):
        if _installed(module):
            found.append((name, [sys.executable, str(HERE / "by_hand" / script), "{file}"]))
    return found


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def gradients(path: Path) -> dict[str, float]:
    import orjson

    data = orjson.loads(path.read_bytes())
    return data["gradients"]


def rel_error(reference: dict[str, float], other: dict[str, float]) -> float:
    scale = max((abs(v) for v in reference.values()), default=1.0) or 1.0
    floor = 1e-12 * scale
    worst = 0.0
    for name, a in reference.items():
        b = other.get(name)
        if b is None or b != b:
            return float("inf")
        worst = max(worst, abs(a - b) / max(abs(a), abs(b), floor))
    return worst


def dag_file(n: int, folder: Path) -> tuple[Path, int]:
    import graphs

    g = graphs.make("dag", n, graphs.COMMON_OPS)
    path = folder / f"dag-{size_label(n)}.yaml"
    path.write_text(graphs.to_yaml(g), encoding="utf-8")
    return path, g.size


def measure(n: int, folder: Path, repeat: int, others: bool) -> dict:
    path, nodes = dag_file(n, folder)
    result: dict = {"n": n, "nodes": nodes, "mb": path.stat().st_size / 1e6, "engines": {}}
    commands = engines(others)
    rounds = repeat if n < 1_000_000 else 1
    for _ in range(rounds):
        for name, cmd in commands:   # the engines take turns: each round sees the same load
            out = folder / f"{name}.json"
            r = run_once([c.replace("{file}", str(path)) for c in cmd], out)
            best = result["engines"].setdefault(name, r)
            if "error" in r:
                result["engines"][name] = r
                continue
            for key in ("wall", "cpu", "rss_mib"):
                best[key] = min(best[key], r[key])
    reference = None
    for name, _ in commands:
        r = result["engines"][name]
        if "error" in r:
            continue
        got = gradients(folder / f"{name}.json")
        if name == "tracer":
            reference = got
            r["out_mb"] = (folder / f"{name}.json").stat().st_size / 1e6
        elif reference is not None:
            r["rel_error"] = rel_error(reference, got)
        (folder / f"{name}.json").unlink()
    path.unlink()
    return result


def report(results: list[dict]) -> tuple[list[str], list[str]]:
    rows, notes, failures = [], [], []
    names = ["tracer", "micrograd", "PyTorch"]
    for r in results:
        label = size_label(r["n"])
        row = [label, r["nodes"], r["mb"]]
        t = r["engines"].get("tracer", {})
        for name in names:
            e = r["engines"].get(name)
            if e is None or "error" in e:
                row += [None, None, None]
                if e is not None:
                    notes.append(f"{label}: {name}: {e['error']}")
                    failures.append(f"{label}: {name} failed: {e['error']}")
                continue
            row += [e["wall"], e["cpu"], e["rss_mib"]]
            if "rel_error" in e and not e["rel_error"] <= TOLERANCE:
                failures.append(f"{label}: {name} disagrees with tracer (relative error "
                                f"{e['rel_error']:.3g})")
        m = r["engines"].get("micrograd", {})
        ok = "cpu" in t and "cpu" in m and "error" not in t and "error" not in m
        row += [t["cpu"] / m["cpu"] if ok else None, t["wall"] / m["wall"] if ok else None]
        row += [1e6 * t["cpu"] / r["nodes"] if "cpu" in t and "error" not in t else None]
        rows.append(row)
    headers = ["size", "nodes", "file MB"]
    for name in names:
        headers += [f"{name} wall", "CPU", "RSS MiB"]
    headers += ["tracer/mg CPU", "tracer/mg wall", "tracer us/node"]
    print(table(headers, rows, "== a random DAG file, whole process: seconds, peak RSS =="))
    print()
    errs = [[size_label(r["n"])] + [
        f"{r['engines'][n]['rel_error']:.1e}" if "rel_error" in r["engines"].get(n, {})
        else "-" for n in names[1:]] for r in results]
    print(table(["size", "micrograd vs tracer", "PyTorch vs tracer"], errs,
                f"== largest relative error of every gradient (fails above {TOLERANCE:g}) =="))
    for r in results:
        if "out_mb" in r["engines"].get("tracer", {}):
            notes.append(f"{size_label(r['n'])}: tracer wrote {r['engines']['tracer']['out_mb']:.1f}"
                         " MB of JSON (every backward step); the others their values and "
                         "gradients")
    return notes, failures


def targets(results: list[dict]) -> None:
    at = {r["n"]: r for r in results}
    r = at.get(100_000)
    if r is not None:
        t, m = r["engines"].get("tracer", {}), r["engines"].get("micrograd", {})
        if "cpu" in t and "cpu" in m and "error" not in t and "error" not in m:
            cpu, wall = t["cpu"] / m["cpu"], t["wall"] / m["wall"]
            print(f"TARGET 100k: tracer/micrograd {cpu:.2f} (CPU), {wall:.2f} (wall); "
                  f"target <= 1.0: {'met' if max(cpu, wall) <= 1.0 else 'NOT met'}")
        if "rss_mib" in t:
            print(f"TARGET 100k: tracer peak RSS {t['rss_mib']:.0f} MiB; target <= "
                  f"{RSS_TARGET_MIB}: {'met' if t['rss_mib'] <= RSS_TARGET_MIB else 'NOT met'}")
    per_node = [(r["n"], 1e6 * r["engines"]["tracer"]["cpu"] / r["nodes"]) for r in results
                if "cpu" in r["engines"].get("tracer", {})
                and "error" not in r["engines"]["tracer"] and r["n"] >= 10_000]
    if len(per_node) >= 2:
        low, high = min(v for _, v in per_node), max(v for _, v in per_node)
        print(f"TARGET per node from 10k up: {', '.join(f'{size_label(n)} {v:.1f}' for n, v in per_node)}"
              f" us CPU; largest / smallest {high / low:.2f} (flat: about 1; below 10k the "
              "start-up of about 0.1 s dominates)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1k and 10k nodes, fewer runs")
    p.add_argument("--sizes", default="1k,10k,100k,1M")
    p.add_argument("--others-max", default="100k",
                   help="largest size micrograd and PyTorch run at (default 100k)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--startup-runs", type=int, default=20)
    p.add_argument("--keep", help="write the DAG files and outputs here (default: a temporary "
                   "folder, removed)")
    args = p.parse_args(argv)
    sizes = parse_sizes("1k,10k" if args.quick else args.sizes)
    others_max = parse_sizes(args.others_max)[0]
    print(common.machine_line())
    print()
    rows = startup(5 if args.quick else args.startup_runs)
    print(table(["command", "best wall", "median wall", "mean CPU", "timed by"], rows,
                "== start-up: one bundled problem, whole process, seconds =="))
    for label, best, median, cpu, _ in rows:
        if label.startswith(("tracer trace problems", "tracer check")):
            print(f"TARGET start-up: {label}: median {median:.3f} s wall, best {best:.3f} s, "
                  f"{cpu:.3f} s CPU; target < {STARTUP_TARGET}: "
                  f"{'met' if median < STARTUP_TARGET else 'NOT met'} by the median wall time, "
                  f"{'met' if cpu < STARTUP_TARGET else 'NOT met'} by CPU time (the steadier "
                  "figure on a loaded machine)")
    print("(tracer trace --json of a problem this small writes its closed forms, which SymPy "
          "derives: importing SymPy is most of that figure)\n")

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tracer-whole-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for n in sizes:
            results.append(measure(n, folder, 2 if args.quick else args.repeat,
                                   n <= others_max))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    notes, failures = report(results)
    for note in notes:
        print("  " + note)
    print()
    targets(results)
    for f in failures:
        print("FAILED: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
