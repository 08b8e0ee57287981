"""One measurement in a fresh process: `measure.py floor|project N` prints JSON.

floor:   N bare AgentRuntime CustomResources under the harness's mocks (the SDK's own cost),
         carrying the same object the project applies for such an agent (session block,
         storeRef, pod annotation), so payload size is not counted against the program; no
         component, no dependencies, no config. N = 0 is an empty program. Imports only pulumi,
         pulumi_kubernetes.apiextensions and the harness.
project: the real program (`plan.run_plan`) on a generated stack of N redis-session agents over
         10 namespaces, rendered as `plan.py --format json` renders it.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


SPEC = {"promptPackRef": {"name": "pack"}, "facades": [{"type": "websocket"}]}


def generated_stack(n: int, directory: Path) -> Path:
    """N redis-session agents over 10 namespaces, as JSON (valid YAML) to avoid a yaml import."""
    config = {
        "omnia-agents:omniaVersion": "0.9.0-beta.17",  # the prod stack's release
        "omnia-agents:session": {"type": "redis", "ttl": "24h"},
        "omnia-agents:redis": {"chartVersion": "22.0.5"},
        "omnia-agents:agents": [
            {
                "name": f"agent-{i}",
                "namespace": f"team-{i % 10}",
                "spec": SPEC,
            }
            for i in range(n)
        ],
    }
    path = directory / f"Pulumi.bench-{n}.yaml"
    path.write_text(json.dumps({"config": config}), encoding="utf-8")
    return path


def floor(n: int) -> float:
    import pulumi_kubernetes.apiextensions as apiextensions

    from offline import harness

    def program(count: int) -> None:
        for i in range(count):
            apiextensions.CustomResource(
                f"agent-{i}",
                api_version="omnia.altairalabs.ai/v1alpha1",
                kind="AgentRuntime",
                metadata={"name": f"agent-{i}", "namespace": f"team-{i % 10}"},
                spec={
                    **SPEC,
                    "context": {
                        "type": "redis",
                        "ttl": "24h",
                        "storeRef": {"name": "redis-credentials"},
                    },
                    "extraPodAnnotations": {"omnia-agents/credentials-hash": "0123456789abcdef"},
                },
            )

    if n:  # warm-up: first-use imports and type-hint evaluation are not per-agent cost
        harness.run_program(lambda: program(1), {}, project="omnia-agents", stack="bench")
    start = time.perf_counter()
    plan = harness.run_program(lambda: program(n), {}, project="omnia-agents", stack="bench")
    json.dumps(plan.items())
    return time.perf_counter() - start


def project(n: int) -> float:
    from offline import program as planner

    with tempfile.TemporaryDirectory() as tmp:
        planner.run_plan(generated_stack(1, Path(tmp)))  # warm-up, as for the floor
        path = generated_stack(n, Path(tmp))
        start = time.perf_counter()
        result = planner.run_plan(path)
        json.dumps(result.items())
        return time.perf_counter() - start


def profile(n: int) -> dict[str, Any]:
    """Where a project run of N agents spends its time: by package, and the top functions
    (cProfile self time, % of the run)."""
    import cProfile
    import pstats

    from offline import program as planner  # imported before profiling: start-up apart

    with tempfile.TemporaryDirectory() as tmp:
        planner.run_plan(generated_stack(1, Path(tmp)))  # warm-up, as for the measurements
        path = generated_stack(n, Path(tmp))
        profiler = cProfile.Profile()
        profiler.enable()
        json.dumps(planner.run_plan(path).items())
        profiler.disable()
    groups: dict[str, float] = {}
    functions: dict[str, float] = {}
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, line, name), (_, _, self_time, _, _) in stats.items():
        groups[_group(filename)] = groups.get(_group(filename), 0.0) + self_time
        where = filename.split("site-packages/")[-1].split("lib/python3")[-1]
        functions[f"{where}:{line} {name}"] = self_time
    total = sum(groups.values())

    def top(table: dict[str, float], count: int) -> dict[str, float]:
        ranked = sorted(table.items(), key=lambda kv: -kv[1])[:count]
        return {k: round(100 * v / total, 1) for k, v in ranked}

    return {"packages": top(groups, 8), "functions": top(functions, 10)}


def _group(filename: str) -> str:
    if "site-packages" in filename:
        package = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        return package.removesuffix(".py")
    if filename.startswith(str(ROOT)) and "/venv/" not in filename:
        return "project (plan, harness, components)"
    for part in ("asyncio", "concurrent", "threading", "traceback", "linecache", "pathlib"):
        if f"/{part}" in filename:
            return f"stdlib {part}"
    return "builtins (C) and other stdlib"


def main() -> None:
    mode, n = sys.argv[1], int(sys.argv[2])
    if mode == "profile":
        print(json.dumps(profile(n)))
        return
    seconds = floor(n) if mode == "floor" else project(n)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"run_ms": seconds * 1000, "rss_mb": rss_mb}))


if __name__ == "__main__":
    main()
