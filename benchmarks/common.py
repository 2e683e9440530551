"""Helpers shared by the benchmark scripts: timing, memory, workers, tables."""
from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run from anywhere without installing
    sys.path.insert(0, str(ROOT))


def machine_line() -> str:
    """Python, cores and load: timings on a busy machine are not comparable to a quiet one."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load} "
            "(a load above the core count slows every figure)")


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float, float]:
    """Run ``fn`` ``repeat`` times; (last result, best wall seconds, best CPU seconds)."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return result, best_wall, best_cpu


def clear_engine_caches() -> None:
    """Empty the engine's memo caches: a build of many different problems sees them cold,
    and a benchmark that repeats one problem must not time its own cache hits."""
    import tracer.core.engine as engine

    for name in dir(engine):
        fn = getattr(engine, name)
        if callable(fn) and hasattr(fn, "cache_clear") and name != "_local_expr":
            fn.cache_clear()


def maxrss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_worker(script: Path, args: Sequence[str], timeout: float = 3600) -> dict:
    """Run ``script --worker args`` in a fresh interpreter; its last stdout line is JSON."""
    cmd = [sys.executable, str(script), "--worker", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        return {"error": f"worker ran past {timeout:.0f} s"}
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"worker failed ({proc.returncode}): {tail}"}
    return json.loads(lines[-1])


def emit(result: dict) -> None:
    """A worker's answer: one JSON line on stdout."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    """A plain text table, numbers right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: list[str]) -> str:  # the first column names the row, the others are figures
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    out = [title] if title else []
    out += [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 1:
            return f"{v:.2f}"
        if abs(v) >= 0.01:
            return f"{v:.3f}"
        return f"{v:.2g}"
    return str(v)


def size_label(n: int) -> str:
    """1000 -> 1k, 1000000 -> 1M."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def parse_sizes(text: str) -> list[int]:
    """``1k,10k,1M`` -> [1000, 10000, 1000000]."""
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        mult = 1
        if part.endswith("k"):
            mult, part = 1000, part[:-1]
        elif part.endswith("m"):
            mult, part = 1_000_000, part[:-1]
        out.append(int(float(part) * mult))
    return out
