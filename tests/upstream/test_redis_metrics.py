"""The alert rules as pure functions of the stack's settings, and the exporter they are for.

What each rule does on real processes is tests/processes/test_alerts.py; here: the numbers and
durations each rule takes from the settings, which rules a topology gets, the exporter version
the pinned charts ship, and the rule file `promtool check rules` accepts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from settings.models import RedisConfig
from tests.support.exporter import PROMTOOL
from tests.support.shared import CHARTS, need, shared_file
from tests.support.stacks import prod_redis
from upstream.chart_versions import CHECKED
from upstream.kubernetes import MIB
from upstream.redis_metrics import (
    EXPORTER_VERSION,
    Alert,
    alerts,
    chart_rules,
    duration,
    helm_literal,
    metrics_job,
    rule_groups,
)
from upstream.redis_volumes import fullname

VERSIONS = CHECKED
ALWAYS = [
    "RedisExporterDown",
    "RedisMetricsAbsent",
    "RedisDown",
    "RedisMemoryNearMaxmemory",
    "RedisEvictingSessions",
    "RedisOutOfMemory",
]
PERSISTENCE = ["RedisAofWriteFailing", "RedisAofRewriteFailing", "RedisRejectingConnections"]
REPLICATION = [
    "RedisReplicasMissing",
    "RedisMasterLinkDown",
    "RedisNoMaster",
    "RedisMultipleMasters",
    "RedisFailover",
]
GUARD = ["RedisWriteGuardClosed", "RedisWriteGuardRefusing"]


def redis(**raw: Any) -> RedisConfig:
    return RedisConfig.model_validate({"chartVersion": "23.1.1", **raw})


def by_name(config: RedisConfig, release: str = "redis") -> dict[str, Alert]:
    return {a.name: a for a in alerts(config, release)}


def test_prod_gets_every_alert_with_its_own_numbers() -> None:
    found = by_name(prod_redis())
    assert list(found) == ALWAYS + REPLICATION + GUARD + PERSISTENCE
    # maxmemory 60 % of 1Gi in whole MiB (614mb); the alert at 90 % of it.
    assert found["RedisMemoryNearMaxmemory"].expr.endswith(f"> {614 * MIB * 90 // 100}")
    assert "614mb, volatile-ttl" in found["RedisMemoryNearMaxmemory"].summary
    # replicas: 3 under Sentinel: a master and two replicas.
    assert found["RedisReplicasMissing"].expr.endswith("< 2")
    # minReplicasToWrite 1, minReplicasMaxLag 10: Redis's own rule for a good replica.
    guard = found["RedisWriteGuardClosed"].expr
    assert 'slave_state="online"} <= 10)' in guard and guard.endswith("< 1")
    # Every rule selects the release's own exporter targets.
    for alert in found.values():
        assert 'namespace="redis",job="redis-metrics"' in alert.expr, alert.name


def test_failover_durations_follow_the_sentinel_timings() -> None:
    """A failover is overdue after down-after + failover-timeout, and never sooner than 1m."""
    fast = by_name(prod_redis())  # 5000 + 20000 ms
    assert fast["RedisNoMaster"].for_seconds == 60
    slow = by_name(
        redis(
            architecture="replication",
            sentinel=True,
            failover={"downAfterMilliseconds": 60_000, "failoverTimeout": 180_000},
        )
    )
    for name in ("RedisNoMaster", "RedisMultipleMasters", "RedisMasterLinkDown"):
        assert slow[name].rule()["for"] == "4m", name
    # Without Sentinel nothing fails over: the link alert waits the minute.
    assert by_name(redis(architecture="replication"))["RedisMasterLinkDown"].for_seconds == 60


def test_what_a_topology_and_policy_leave_out() -> None:
    standalone = by_name(redis())
    assert list(standalone) == ALWAYS + PERSISTENCE  # no replicas, no failover
    plain = by_name(redis(architecture="replication", replicas=2))
    assert (
        list(plain) == ALWAYS + REPLICATION + PERSISTENCE
    )  # no write guard by default without Sentinel
    assert plain["RedisReplicasMissing"].expr.endswith("< 2")
    refusing = by_name(redis(maxmemory={"policy": "noeviction"}))
    assert "RedisEvictingSessions" not in refusing  # it never evicts: it refuses (OOM)
    assert "at maxmemory it refuses writes" in refusing["RedisMemoryNearMaxmemory"].summary


def test_every_alert_has_a_duration_a_severity_and_a_runbook() -> None:
    rules = rule_groups(prod_redis(), "redis")["groups"][0]["rules"]
    docs = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"
    text = docs.read_text(encoding="utf-8")
    for rule in rules:
        assert rule["for"] and rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["runbook"] == f"docs/monitoring.md#{rule['alert'].lower()}"
        assert f"### {rule['alert']}\n" in text, rule["alert"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (25, "25s"), (60, "1m"), (90, "90s"), (600, "10m"), (3600, "1h")],
)
def test_durations(seconds: int, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("release", "name"),
    [
        ("redis", "redis"),
        ("my-redis", "my-redis"),
        ("store", "store-redis"),
        ("Store_1", "store-1-redis"),
    ],
)
def test_the_metrics_job_is_the_charts_metrics_service(release: str, name: str) -> None:
    """bitnami/common `common.names.fullname`: the release when it contains `redis`."""
    assert fullname(release) == name
    assert metrics_job(release) == f"{name}-metrics"


def test_rules_pass_helm_tpl_as_prometheus_templates() -> None:
    """The chart renders `metrics.prometheusRule.rules` through `tpl`: each Prometheus
    template is wrapped as a Go raw string, which `tpl` prints back unchanged."""
    assert helm_literal("pod {{ $labels.pod }} in {{ $labels.namespace }}") == (
        "pod {{`{{ $labels.pod }}`}} in {{`{{ $labels.namespace }}`}}"
    )
    plain = rule_groups(prod_redis(), "redis")["groups"][0]["rules"]
    escaped = chart_rules(prod_redis(), "redis")
    assert [r["expr"] for r in escaped] == [r["expr"] for r in plain]  # no `{{` in PromQL
    assert escaped[0]["annotations"]["summary"].startswith(
        "Redis {{`{{ $labels.namespace }}`}}/{{`{{ $labels.pod }}`}} "
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_the_pinned_charts_ship_the_exporter_the_rules_were_checked_against(version: str) -> None:
    """METRICS cites redis_exporter v1.76.0; a chart that ships another exporter needs the
    citations read again."""
    folder = CHARTS / version
    values = yaml.safe_load(shared_file(folder / "values.yaml", "Bitnami's chart").read_text())
    assert values["metrics"]["image"]["tag"].startswith(f"{EXPORTER_VERSION}-")
    chart = yaml.safe_load((folder / "Chart.yaml").read_text(encoding="utf-8"))
    images = {i["name"]: i["image"] for i in yaml.safe_load(chart["annotations"]["images"])}
    assert images["redis-exporter"].endswith(f"/redis-exporter:{values['metrics']['image']['tag']}")


@pytest.mark.parametrize(
    "raw",
    [
        {"architecture": "replication", "sentinel": True, "replicas": 3},
        {"architecture": "replication", "failover": {"minReplicasToWrite": 1}, "replicas": 2},
        {},
    ],
    ids=["sentinel", "guarded-replication", "standalone"],
)
def test_promtool_accepts_the_rules(tmp_path: Path, raw: dict[str, Any]) -> None:
    binary = need(PROMTOOL)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rule_groups(redis(**raw), "redis")), encoding="utf-8")
    done = subprocess.run([binary, "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alerts(redis(**raw), 'redis'))} rules found" in done.stdout
