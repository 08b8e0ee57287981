"""`make bench`, part two: Sentinel failover on real processes, chart defaults vs the program.

Not a test: it measures and writes its own section of benchmarks/RESULTS.md (between the
markers below; `bench.py` keeps it when it rewrites the rest). The same machinery as the
real-Sentinel tests (tests/redis_procs.py): 1 master, 2 replicas, 3 Sentinels on 127.0.0.1, a
writer at 200 sessions/s that asks the Sentinels for the master after every error.

`python -m benchmarks.failover [RUNS]` (default 3). The chart-default crash cases wait out the
chart's 60 s down-after each: about 12 minutes in all with 3 runs.
"""

from __future__ import annotations

import datetime
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.support.redis_procs import Cluster, SessionWriter, missing_sessions, wait_for
from tests.support.stacks import prod_redis
from upstream.redis_chart import SentinelSetting, ServerSettings, server_settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEGIN = "<!-- failover benchmark: written by benchmarks/failover.py -->"
END = "<!-- end of failover benchmark -->"
CHART_VERSION = "23.1.1"
PASSWORD = "benchBenchBench0123456789benchBench0123"  # letters and digits, as generated


def chart_defaults() -> ServerSettings:
    """What runs when the program sets nothing: the chart's own values.yaml."""
    source = ROOT.parent / "shared" / "bitnami-redis" / CHART_VERSION / "values.yaml"
    values = yaml.safe_load(source.read_text(encoding="utf-8"))
    conf = []
    for line in values["commonConfiguration"].splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split(" ", 1)
            conf.append((key, value))
    sentinel = values["sentinel"]
    return ServerSettings(
        tuple(conf),
        (
            SentinelSetting(
                "down-after-milliseconds",
                "downAfterMilliseconds",
                sentinel["downAfterMilliseconds"],
            ),
            SentinelSetting("failover-timeout", "failoverTimeout", sentinel["failoverTimeout"]),
        ),
    )


def without_guard(settings: ServerSettings) -> ServerSettings:
    conf = tuple((k, v) for k, v in settings.redis_conf if not k.startswith("min-replicas"))
    return ServerSettings(conf, settings.sentinel)


def _kill(cluster: Cluster, port: int) -> None:
    cluster.node(port).kill()


def _term(cluster: Cluster, port: int) -> None:
    cluster.node(port).signal(signal.SIGTERM)  # a pod stop without the chart's preStop hook


def _planned(cluster: Cluster, port: int) -> None:
    cluster.planned_failover(port)


SCENARIOS: dict[str, Callable[[Cluster, int], None]] = {
    "kill -9": _kill,
    "SIGTERM (no preStop)": _term,
    "planned (chart preStop)": _planned,
}


def one_run(
    settings: ServerSettings, scenario: Callable[[Cluster, int], None], timeout: float
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="failover-") as tmp:
        cluster = Cluster(Path(tmp), settings, PASSWORD)
        cluster.start()
        writer = SessionWriter(PASSWORD, cluster.master_port)
        try:
            writer.start()
            time.sleep(2.0)
            old = cluster.master_port()
            assert old is not None
            began = time.monotonic()
            scenario(cluster, old)
            _, named = cluster.new_master(old, timeout)
            wait_for(
                "writes on the new master",
                lambda: sum(at > named for _, at in writer.log.acked) >= 50,
                30,
            )
            time.sleep(0.5)
        finally:
            log = writer.stop()
            new = cluster.master_port()
            lost = -1
            if new is not None and new != old:
                missing, _ = missing_sessions(
                    cluster.node(new).client(), log.acked, time.monotonic()
                )
                lost = len(missing)
            cluster.close()
    acks = [at for _, at in log.acked]
    gaps = [b - a for a, b in itertools.pairwise(acks) if b > began - 1]
    return {
        "new_master_s": named - began,
        "refused_s": log.refused_seconds,
        "longest_gap_s": max(gaps),
        "lost": float(lost),
    }


def frozen_run(settings: ServerSettings, down_after_s: float) -> dict[str, float]:
    """SIGSTOP past down-after, SIGCONT; a client still on the old master keeps writing."""
    with tempfile.TemporaryDirectory(prefix="frozen-") as tmp:
        cluster = Cluster(Path(tmp), settings, PASSWORD)
        cluster.start()
        old = cluster.master_port()
        assert old is not None
        follower = SessionWriter(PASSWORD, cluster.master_port)
        stale = SessionWriter(PASSWORD, lambda: old)
        try:
            follower.start()
            stale.start()
            time.sleep(1.5)
            frozen = cluster.node(old)
            frozen.signal(signal.SIGSTOP)
            time.sleep(down_after_s + 3.0)
            frozen.signal(signal.SIGCONT)
            resumed = time.monotonic()
            wait_for("the old master demoted", lambda: cluster.replica_in_sync(frozen), 60)
        finally:
            stale_log, follower_log = stale.stop(), follower.stop()
            new = cluster.master_port()
            assert new is not None
            acked = stale_log.acked + follower_log.acked
            missing, _ = missing_sessions(cluster.node(new).client(), acked, time.monotonic())
            cluster.close()
    return {
        "stale_acked_after_resume": float(sum(at > resumed for _, at in stale_log.acked)),
        "lost": float(len(missing)),
    }


def cell(values: list[float], digits: int) -> str:
    if min(values) < 0:
        return "n/a"
    median = statistics.median(values)
    return f"{median:.{digits}f} ({min(values):.{digits}f} to {max(values):.{digits}f})"


def measure(runs: int) -> tuple[list[str], float]:
    started = time.monotonic()
    program_config = prod_redis()
    candidates = {"chart defaults": chart_defaults(), "program": server_settings(program_config)}
    timing = {
        name: next(s.value for s in settings.sentinel if s.directive == "down-after-milliseconds")
        for name, settings in candidates.items()
    }
    rows = []
    for scenario_name, scenario in SCENARIOS.items():
        for name, settings in candidates.items():
            timeout = timing[name] / 1000 + 30
            samples = [one_run(settings, scenario, timeout) for _ in range(runs)]
            series: dict[str, list[float]] = {key: [s[key] for s in samples] for key in samples[0]}
            rows.append(
                f"| {scenario_name} | {name} ({timing[name]} ms) "
                f"| {cell(series['new_master_s'], 1)} | {cell(series['refused_s'], 1)} "
                f"| {cell(series['longest_gap_s'], 1)} | {cell(series['lost'], 0)} |"
            )
            print(rows[-1], flush=True)
    program = candidates["program"]
    down_after_s = timing["program"] / 1000
    frozen_rows = []
    for name, settings in (
        ("program (min-replicas-to-write on)", program),
        ("program without min-replicas-to-write", without_guard(program)),
    ):
        samples = [frozen_run(settings, down_after_s) for _ in range(runs)]
        stale = [s["stale_acked_after_resume"] for s in samples]
        lost = [s["lost"] for s in samples]
        frozen_rows.append(f"| {name} | {cell(stale, 0)} | {cell(lost, 0)} |")
        print(frozen_rows[-1], flush=True)
    lines = [
        "| event | settings (down-after) | s until a new master | s of refused writes "
        "| longest s without an ack | acknowledged writes lost |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Frozen master (SIGSTOP for down-after + 3 s = {down_after_s + 3:.0f} s, then "
        "SIGCONT) with a second client that stays on the old master's address, as a client "
        "does through a Service not yet relabelled:",
        "",
        "| settings | stale client's writes acknowledged after SIGCONT "
        "| acknowledged writes lost |",
        "|---|---|---|",
        *frozen_rows,
    ]
    return lines, time.monotonic() - started


def section(lines: list[str], runs: int, seconds: float) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        BEGIN,
        "## Sentinel failover on real processes",
        "",
        f"Measured {now} by `benchmarks/failover.py` ({runs} runs per row, median (min to max); "
        f"{seconds / 60:.1f} min in all, {os.cpu_count()} cores): Debian's {redis_version()} "
        "redis-server and redis-sentinel on 127.0.0.1, 1 master, "
        "2 replicas, 3 Sentinels; a writer at 200 sessions/s (a MULTI/EXEC of two keys with "
        "TTLs and the index SADD) that asks the Sentinels for the master after every error. "
        "`chart defaults`: chart "
        f"{CHART_VERSION}'s values.yaml (commonConfiguration, sentinel.downAfterMilliseconds, "
        "failoverTimeout); `program`: `server_settings` of the prod stack. Seconds are "
        "measured from the event (kill, SIGTERM, CLIENT PAUSE); `refused` sums the spans from "
        "a failing write to the next acknowledged one; a write paused by CLIENT PAUSE waits "
        "before it fails, so the longest gap between acknowledgements is shown too. Lost "
        "= acknowledged sessions not whole on the new master afterwards.",
        "",
    ]
    return "\n".join([*head, *lines, "", END]) + "\n"


def redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    return next((w.replace("v=", "Redis ") for w in out.split() if w.startswith("v=")), "Redis")


def keep(old: str, begin: str = BEGIN, end: str = END) -> str:
    """One generated section of an existing RESULTS.md ('' if none)."""
    if begin in old and end in old:
        return old[old.index(begin) : old.index(end) + len(end)] + "\n"
    return ""


def write(text: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace (or append) this section; the rest of RESULTS.md stays as it is."""
    results = HERE / "RESULTS.md"
    old = results.read_text(encoding="utf-8") if results.exists() else ""
    current = keep(old, begin, end)
    body = old.replace(current, "") if current else old
    results.write_text(body.rstrip("\n") + "\n\n" + text, encoding="utf-8")


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else 3
    lines, seconds = measure(runs)
    text = section(lines, runs, seconds)
    write(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
