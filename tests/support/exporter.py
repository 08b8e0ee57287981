"""Debian's redis_exporter on real redis-server processes, and promtool on what it reported.

The exporter runs as the chart runs its metrics sidecar (env REDIS_ADDR, REDIS_USER,
REDIS_PASSWORD, REDIS_EXPORTER_WEB_LISTEN_ADDRESS: bitnami/redis templates/sentinel/
statefulset.yaml, container `metrics`). A scrape's samples get the target labels the Prometheus
operator gives a ServiceMonitor's targets, and `up` as Prometheus records it; scrapes laid one
per scrape interval become `promtool test rules` input series, so the rules the program emits
are evaluated on what real processes reported.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.redis_procs import Server, free_port
from tests.support.shared import need
from upstream.prometheus_operator import UP
from upstream.redis_metrics import SCRAPE_INTERVAL

EXPORTER = "prometheus-redis-exporter"  # Debian's name for oliver006/redis_exporter
PROMTOOL = "promtool"
_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Labels
    value: float


def parse_exposition(text: str) -> list[Sample]:
    """Prometheus text format, as the exporter serves it on /metrics."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        found = _LINE.match(line)
        if not found:
            raise ValueError(f"not an exposition line: {line!r}")
        name, labels, value = found.groups()
        pairs = tuple(sorted(_LABEL.findall(labels or "")))
        samples.append(Sample(name, pairs, float(value)))
    return samples


class Exporter:
    """One exporter process for one redis-server, as the chart's sidecar is for its pod."""

    def __init__(self, server: Server, password: str) -> None:
        self.server = server
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> None:
        binary = need(EXPORTER)
        for attempt in range(3):
            self.port = free_port()
            env = {
                "PATH": os.environ.get("PATH", ""),
                "REDIS_ADDR": f"redis://127.0.0.1:{self.server.port}",
                "REDIS_USER": "default",
                "REDIS_PASSWORD": self.password,
                "REDIS_EXPORTER_WEB_LISTEN_ADDRESS": f"127.0.0.1:{self.port}",
            }
            self.proc = subprocess.Popen(
                [binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if self.scrape() is not None:
                    return
                time.sleep(0.05)
            self.kill()
            if attempt == 2:
                raise RuntimeError(f"{EXPORTER} did not start")

    def scrape(self, timeout: float = 2.0) -> list[Sample] | None:
        """One scrape of /metrics; None when it fails (Prometheus then records `up` 0)."""
        url = f"http://127.0.0.1:{self.port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as reply:
                return parse_exposition(reply.read().decode())
        except (urllib.error.URLError, OSError):
            return None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@dataclass(frozen=True)
class Target:
    """A pod's exporter as a ServiceMonitor target (upstream.prometheus_operator)."""

    namespace: str
    job: str
    pod: str
    ip: str

    def labels(self) -> dict[str, str]:
        return {
            "namespace": self.namespace,
            "service": self.job,
            "job": self.job,
            "pod": self.pod,
            "container": "metrics",
            "endpoint": "http-metrics",
            "instance": f"{self.ip}:9121",
        }


# One scrape per target and interval; a target left out is not discovered (no `up` at all).
Step = Mapping[Target, list[Sample] | None]


@dataclass
class Timeline:
    """What Prometheus would have stored: one step per scrape interval."""

    steps: list[Step] = field(default_factory=list)

    def hold(self, step: Step, times: int) -> None:
        self.steps += [step] * times

    def series(self) -> list[dict[str, str]]:
        """promtool input series: values per step, `stale` where a series ends (Prometheus
        writes a staleness marker when a scrape fails or drops the series), `_` where none."""
        values: dict[tuple[str, Labels], list[str | None]] = {}
        for i, step in enumerate(self.steps):
            for target, scrape in step.items():
                own = target.labels()
                up = [Sample(UP, (), 0.0 if scrape is None else 1.0)]
                for sample in up + (scrape or []):
                    labels = tuple(sorted({**dict(sample.labels), **own}.items()))
                    row = values.setdefault((sample.name, labels), [None] * len(self.steps))
                    row[i] = _number(sample.value)
        found = []
        for (name, labels), row in sorted(values.items()):
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            found.append({"series": f"{name}{{{text}}}", "values": _compact(row)})
        return found


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _compact(row: list[str | None]) -> str:
    """Runs as promtool's `axN` (a, N more times); a series' first gap after a value is
    `stale`."""
    words: list[str] = []
    for i, value in enumerate(row):
        if value is None:
            value = "stale" if i and row[i - 1] is not None else "_"
        words.append(value)
    runs: list[tuple[str, int]] = []
    for word in words:
        if runs and runs[-1][0] == word and word != "stale":
            runs[-1] = (word, runs[-1][1] + 1)
        else:
            runs.append((word, 1))
    return " ".join(w if n == 1 else f"{w}x{n - 1}" for w, n in runs)


def _render(template: str, labels: Mapping[str, str]) -> str:
    """Prometheus's `{{ $labels.name }}`, the only template the rules' annotations use."""
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], template)


def expected_alerts(
    rules: Sequence[Mapping[str, Any]], firing: Mapping[str, list[dict[str, str]]]
) -> list[dict[str, Any]]:
    """One promtool alert_rule_test entry per alert of the rules at one eval time: the given
    label sets fire (severity added from the rule, annotations rendered), every other alert
    fires for none."""
    known = {rule["alert"]: rule for rule in rules}
    unknown = set(firing) - set(known)
    assert not unknown, f"not among the program's rules: {sorted(unknown)}"
    tests = []
    for name, rule in known.items():
        alerts = []
        for labels in firing.get(name, []):
            every = {**labels, **rule["labels"]}
            notes = {k: _render(v, every) for k, v in rule["annotations"].items()}
            alerts.append({"exp_labels": every, "exp_annotations": notes})
        tests.append({"alertname": name, "exp_alerts": alerts})
    return tests


def promtool_test(
    workdir: Path,
    groups: Mapping[str, Any],
    timeline: Timeline,
    checks: Mapping[int, Mapping[str, list[dict[str, str]]]],
) -> None:
    """`promtool check rules` on the rules, then `promtool test rules` on the timeline with,
    at each eval time (seconds from the start), exactly the given alerts firing."""
    binary = need(PROMTOOL)
    workdir.mkdir(parents=True, exist_ok=True)
    rules_file = workdir / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(dict(groups), sort_keys=False), encoding="utf-8")
    rules = [rule for group in groups["groups"] for rule in group["rules"]]
    test = {
        "rule_files": [rules_file.name],
        "evaluation_interval": SCRAPE_INTERVAL,
        "tests": [
            {
                "interval": SCRAPE_INTERVAL,
                "input_series": timeline.series(),
                "alert_rule_test": [
                    {"eval_time": f"{at}s", **entry}
                    for at, firing in sorted(checks.items())
                    for entry in expected_alerts(rules, firing)
                ],
            }
        ],
    }
    test_file = workdir / "test.yaml"
    test_file.write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
    for command in (["check", "rules", rules_file.name], ["test", "rules", test_file.name]):
        done = subprocess.run(
            [binary, *command], cwd=workdir, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"promtool {' '.join(command)}:\n{done.stdout}{done.stderr}"


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_CLAUSES = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "on"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers outside strings, matchers,
    ranges and grouping clauses, that are no function, aggregation or keyword."""
    text = _STRINGS.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _CLAUSES.sub(" ", text)
    text = re.sub(r"\boffset\s+\w+", " ", text)
    return {name for name in _IDENTIFIER.findall(text) if name not in _KEYWORDS}


def close(*procs: Exporter | Server) -> None:
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            proc.kill()
