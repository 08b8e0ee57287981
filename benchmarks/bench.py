"""`make bench`: plan time and per-agent cost against the SDK floor, measured in one run.

Not a test: it prints a table (and writes benchmarks/RESULTS.md); the targets are checked and
marked, never asserted.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import failover, sizing

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
MEASURE = str(HERE / "measure.py")
PROCESS_RUNS = 11
SERIES_RUNS = 5
SIZES = (1, 10, 100, 1000)


def run(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{argv} exited with status {status}")
    return wall, usage.ru_maxrss / 1024, out.decode()


def processes() -> dict[str, list[float]]:
    """Whole processes, interleaved so drift hits every candidate alike."""
    candidates = {
        "floor (empty program)": [PY, MEASURE, "floor", "0"],
        "floor + one bare AgentRuntime": [PY, MEASURE, "floor", "1"],
        "plan.py dev": [PY, "plan.py", "dev"],
        "plan.py prod": [PY, "plan.py", "prod"],
        # The pack as its own process (policy/venv), as `pulumi preview --policy-pack` runs it.
        "plan.py prod --policy": [PY, "plan.py", "prod", "--policy"],
    }
    walls: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(PROCESS_RUNS):
        for name, argv in candidates.items():
            walls[name].append(run(argv)[0])
    return walls


def series() -> dict[tuple[str, int], dict[str, float]]:
    """Run time inside a fresh process (imports excluded) and its peak RSS, median of runs."""
    samples: dict[tuple[str, int], list[dict[str, float]]] = {}
    for _ in range(SERIES_RUNS):
        for n in SIZES:
            for mode in ("floor", "project"):
                _, _, out = run([PY, MEASURE, mode, str(n)])
                samples.setdefault((mode, n), []).append(json.loads(out))
    return {
        key: {
            "run_ms": statistics.median(s["run_ms"] for s in runs),
            "rss_mb": max(s["rss_mb"] for s in runs),
        }
        for key, runs in samples.items()
    }


def suite() -> float:
    """CI=true: a missing redis-server fails the real-Redis tests instead of skipping them."""
    env = {**os.environ, "CI": "true"}
    start = time.perf_counter()
    subprocess.run(
        [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def extra_imports() -> dict[str, float]:
    """Top-level imports `plan.py dev` pays that the floor does not, in ms (-X importtime)."""

    def tops(argv: list[str]) -> dict[str, float]:
        done = subprocess.run(
            [PY, "-X", "importtime", *argv], cwd=ROOT, capture_output=True, text=True, check=True
        )
        found = {}  # every module with its own (self) import time
        for line in done.stderr.splitlines():
            parts = line.removeprefix("import time:").split("|")
            if len(parts) == 3 and parts[0].strip().isdigit():
                found[parts[2].strip()] = int(parts[0]) / 1000
        return found

    floor = tops([MEASURE, "floor", "0"])
    dev = tops(["plan.py", "dev"])
    extra = {k: v for k, v in dev.items() if k not in floor and v >= 2.0}
    return dict(sorted(extra.items(), key=lambda kv: -kv[1]))


def mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(
    walls: dict[str, list[float]],
    sizes: dict[tuple[str, int], dict[str, float]],
    suite_s: float,
    profile: dict[str, Any],
    imports: dict[str, float],
) -> str:
    floor = statistics.median(walls["floor (empty program)"])
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by `make bench`, "
        f"all in one run: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.machine()}.",
        "",
        f"## Whole processes (median of {PROCESS_RUNS}, interleaved)",
        "",
        "| process | median s | min s | ratio to floor |",
        "|---|---|---|---|",
    ]
    for name, values in walls.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {median:.3f} | {min(values):.3f} | {median / floor:.2f}x |")
    lines += [
        "",
        "The floor is a fresh Python that imports only `pulumi`, "
        "`pulumi_kubernetes.apiextensions` and the mock harness, and runs an empty program "
        "under the same mocks.",
        "",
        f"## N redis-session agents over 10 namespaces (median of {SERIES_RUNS})",
        "",
        "Run time inside a fresh process after a one-agent warm-up run, imports excluded: the "
        "project plans a generated stack (`plan.run_plan` + rendering); the floor registers N "
        "bare `AgentRuntime` CustomResources carrying the same object under the same mocks "
        "(+ rendering). Per agent = (t(N) - t(1)) / (N - 1): what one more agent costs, the "
        "fixed cost of a one-agent stack (Redis, components) left out.",
        "",
        "| N | project ms | per agent ms | floor ms | floor per agent ms | ratio | "
        "project peak RSS MB | floor peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    per: dict[int, float] = {}
    floor_per: dict[int, float] = {}
    for n in SIZES:
        p, f = sizes[("project", n)], sizes[("floor", n)]
        if n == 1:
            cells = "— | " + f"{f['run_ms']:.0f} | — | —"
        else:
            per[n] = (p["run_ms"] - sizes[("project", 1)]["run_ms"]) / (n - 1)
            floor_per[n] = (f["run_ms"] - sizes[("floor", 1)]["run_ms"]) / (n - 1)
            cells = (
                f"{per[n]:.2f} | {f['run_ms']:.0f} | {floor_per[n]:.2f} | "
                f"{per[n] / floor_per[n]:.2f}x"
            )
        lines.append(
            f"| {n} | {p['run_ms']:.0f} | {cells} | {p['rss_mb']:.0f} | {f['rss_mb']:.0f} |"
        )
    dev = statistics.median(walls["plan.py dev"]) / floor
    ratio = per[1000] / floor_per[1000]
    linear = per[1000] / per[100]
    rss = sizes[("project", 1000)]["rss_mb"]
    lines += [
        "",
        f"Whole test suite (`pytest -n auto`, installed): {suite_s:.1f} s.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| `plan.py dev` <= 1.3x floor | {dev:.2f}x | {mark(dev <= 1.3)} |",
        f"| per agent at N=1000 <= 1.5x bare CR | {ratio:.2f}x | {mark(ratio <= 1.5)} |",
        f"| per agent at 1000 within 1.2x of at 100 | {linear:.2f}x | {mark(linear <= 1.2)} |",
        f"| peak RSS at N=1000 <= 250 MB | {rss:.0f} MB | {mark(rss <= 250)} |",
        f"| `make test` <= 30 s once installed | {suite_s:.1f} s | {mark(suite_s <= 30)} |",
        "",
        "## Imports `plan.py dev` pays and the floor does not (self ms >= 2, -X importtime)",
        "",
        "| module | ms |",
        "|---|---|",
        *(f"| {k} | {v:.1f} |" for k, v in imports.items()),
        "",
        "## Where the time goes at N=1000 (cProfile self time, % of the run)",
        "",
        "| package | % |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in profile["packages"].items()),
        "",
        "| function | % |",
        "|---|---|",
        *(f"| `{k}` | {v} |" for k, v in profile["functions"].items()),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    walls = processes()
    sizes = series()
    suite_s = suite()
    _, _, out = run([PY, MEASURE, "profile", "1000"])
    text = report(walls, sizes, suite_s, json.loads(out), extra_imports())
    notes = HERE / "NOTES.md"
    if notes.is_file():  # the hand-written analysis of the profile, kept with the numbers
        text += "\n" + notes.read_text(encoding="utf-8")
    results = HERE / "RESULTS.md"
    if results.is_file():  # the sections failover.py and sizing.py write, kept
        old = results.read_text(encoding="utf-8")
        text += "\n" + failover.keep(old) + failover.keep(old, sizing.BEGIN, sizing.END)
    results.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
