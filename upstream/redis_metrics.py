"""Redis alerts as Prometheus rules, derived from the stack's settings (pure).

The chart's metrics sidecar is oliver006/redis_exporter (Bitnami's `redis-exporter` image); the
rules read only the metrics below, each cited where exporter v1.76.0 (the tag both pinned charts
ship, `metrics.image.tag: 1.76.0-debian-12-r0`) defines it. The real-process tests scrape
Debian's exporter (1.45.0, same names) on real redis-server processes and run every rule through
`promtool test rules` on what it reported (tests/processes/test_alerts.py).

Every series carries the labels the Prometheus operator gives a ServiceMonitor's targets
(`upstream.prometheus_operator.TARGET_LABELS`); the rules select the release's own targets by
`namespace` and `job` (the chart's metrics Service) and report per `namespace` and `pod`.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from upstream.kubernetes import MIB
from upstream.prometheus_operator import UP
from upstream.redis_chart import METRICS_CLIENT_LABEL, Architecture, MaxmemoryPolicy
from upstream.redis_volumes import fullname

if TYPE_CHECKING:  # the settings import this package: types only, no import cycle
    from settings.models import RedisConfig

EXPORTER_VERSION = "1.76.0"  # what the pinned charts' metrics.image.tag runs
# Each metric the rules read, and where redis_exporter v1.76.0 defines it (oliver006/
# redis_exporter at tag v1.76.0). INFO fields map to `redis_<name>` (exporter.go metricMapGauges
# / metricMapCounters); "ok"/"err" become 1/0 (metrics.go:51-54).
METRICS = {
    "redis_up": "exporter/exporter.go:518,590: 1 when the exporter reached Redis, else 0",
    "redis_instance_info": "exporter/info.go:174-197: labels role (master|slave), ...",
    "redis_memory_used_bytes": "exporter/exporter.go:171: INFO used_memory",
    "redis_mem_not_counted_for_eviction_bytes": (
        "exporter/exporter.go:207: INFO mem_not_counted_for_evict (replica and AOF buffers)"
    ),
    "redis_evicted_keys_total": "exporter/exporter.go:354: INFO evicted_keys",
    "redis_errors_total": (
        "exporter/exporter.go:462, info.go:568: INFO errorstats, label err (OOM, NOREPLICAS, "
        "...); a series appears with the first error of its kind"
    ),
    "redis_rejected_connections_total": "exporter/exporter.go:343: INFO rejected_connections",
    "redis_connected_slaves": "exporter/exporter.go:267: INFO connected_slaves",
    "redis_connected_slave_lag_seconds": (
        "exporter/exporter.go:456, info.go:360-366: per replica on the master, labels "
        "slave_ip, slave_port, slave_state"
    ),
    "redis_master_link_up": "exporter/exporter.go:477, info.go:333-338: replicas only",
    "redis_aof_last_write_status": "exporter/exporter.go:252: INFO aof_last_write_status",
    "redis_aof_last_bgrewrite_status": "exporter/exporter.go:251: INFO aof_last_bgrewrite_status",
}
# Counters are read over this window; the chart's ServiceMonitor scrapes every SCRAPE_INTERVAL
# (metrics.serviceMonitor.interval, 30s), so the window holds ten samples.
SCRAPE_INTERVAL = "30s"
WINDOW = "5m"
# A master that was not one this long ago has taken over: the failover alert lasts as long.
FAILOVER_LOOKBACK = "10m"
MEMORY_ALERT_PERCENT = 90
RUNBOOK = "docs/monitoring.md#{anchor}"


class Severity(StrEnum):
    CRITICAL = "critical"
    """Sessions are being lost or writes refused now."""
    WARNING = "warning"
    """Redundancy or visibility is gone: the next fault costs sessions."""
    INFO = "info"
    """Something happened that a person should know of (a failover)."""


class Alert(NamedTuple):
    name: str
    expr: str
    for_seconds: int
    severity: Severity
    summary: str  # a Prometheus template: $labels.namespace, $labels.pod

    def rule(self) -> dict[str, Any]:
        """The rule as Prometheus (and the PrometheusRule's spec.groups[].rules) takes it."""
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": duration(self.for_seconds),
            "labels": {"severity": str(self.severity)},
            "annotations": {
                "summary": self.summary,
                "runbook": RUNBOOK.format(anchor=self.name.lower()),
            },
        }


def duration(seconds: int) -> str:
    """A Prometheus duration: `0s`, `90s`, `2m`, `1h`."""
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def metrics_job(release: str) -> str:
    """The `job` of the exporter's targets: the chart's metrics Service (templates/
    metrics-svc.yaml: `<fullname>-metrics`), which the operator takes as the job name."""
    return f"{fullname(release)}-metrics"


def failover_seconds(config: RedisConfig) -> int | None:
    """How long a Sentinel failover may take before it is overdue: the master is declared down
    after down-after-milliseconds, and an attempt is abandoned after failover-timeout."""
    if not config.sentinel:
        return None
    timing = config.failover
    return math.ceil((timing.down_after_milliseconds + timing.failover_timeout) / 1000)


def _who(what: str) -> str:
    return "Redis {{ $labels.namespace }}/{{ $labels.pod }} " + what


def alerts(config: RedisConfig, release: str) -> list[Alert]:
    """The alerts for this Redis, in the order the docs list them."""
    sel = f'namespace="{config.namespace}",job="{metrics_job(release)}"'
    master = f'max by (namespace, pod) (redis_instance_info{{{sel},role="master"}})'
    maxmemory = config.maxmemory_bytes
    threshold = maxmemory * MEMORY_ALERT_PERCENT // 100
    found = [
        Alert(
            "RedisExporterDown",
            f"max by (namespace, pod) ({UP}{{{sel}}}) == 0",
            120,
            Severity.WARNING,
            _who(
                "cannot be scraped: the pod is not running, or the NetworkPolicy does not admit "
                f"Prometheus (its namespace needs the label {METRICS_CLIENT_LABEL}=true)"
            ),
        ),
        Alert(
            "RedisMetricsAbsent",
            f"absent({UP}{{{sel}}})",
            600,
            Severity.WARNING,
            "Redis {{ $labels.namespace }}: Prometheus scrapes no exporter of job "
            f"{metrics_job(release)}: the ServiceMonitor is not selected by any Prometheus",
        ),
        Alert(
            "RedisDown",
            f"max by (namespace, pod) (redis_up{{{sel}}}) == 0",
            60,
            Severity.CRITICAL,
            _who("does not answer its exporter: the Redis container is down or restarting"),
        ),
        Alert(
            "RedisMemoryNearMaxmemory",
            f"max by (namespace, pod) (redis_memory_used_bytes{{{sel}}} - "
            f"redis_mem_not_counted_for_eviction_bytes{{{sel}}}) > {threshold}",
            300,
            Severity.WARNING,
            _who(
                f"holds over {MEMORY_ALERT_PERCENT}% of maxmemory "
                f"({maxmemory // MIB}mb, {config.maxmemory.policy}): "
                + (
                    "at maxmemory it refuses writes"
                    if config.maxmemory.policy == MaxmemoryPolicy.NOEVICTION
                    else "at maxmemory it evicts sessions before their TTL"
                )
            ),
        ),
    ]
    if config.maxmemory.policy != MaxmemoryPolicy.NOEVICTION:
        found.append(
            Alert(
                "RedisEvictingSessions",
                f"sum by (namespace, pod) (increase(redis_evicted_keys_total{{{sel}}}[{WINDOW}]))"
                " > 0",
                0,
                Severity.CRITICAL,
                _who(
                    f"evicted keys in the last {WINDOW} ({config.maxmemory.policy}): sessions "
                    "were dropped before their TTL; raise resources.memory"
                ),
            )
        )
    found.append(
        Alert(
            "RedisOutOfMemory",
            _errors(sel, "OOM"),
            0,
            Severity.CRITICAL,
            _who("refuses writes with OOM: maxmemory is reached and nothing can be evicted"),
        )
    )
    if config.architecture == Architecture.REPLICATION:
        found += _replication(config, sel, master)
    found += [
        Alert(
            "RedisAofWriteFailing",
            f"min by (namespace, pod) (redis_aof_last_write_status{{{sel}}}) == 0",
            60,
            Severity.CRITICAL,
            _who("cannot write its append-only file and refuses writes (MISCONF)"),
        ),
        Alert(
            "RedisAofRewriteFailing",
            f"min by (namespace, pod) (redis_aof_last_bgrewrite_status{{{sel}}}) == 0",
            300,
            Severity.WARNING,
            _who(
                "failed its last append-only file rewrite: the file keeps growing toward the "
                "volume's size"
            ),
        ),
        Alert(
            "RedisRejectingConnections",
            f"sum by (namespace, pod) (increase(redis_rejected_connections_total{{{sel}}}"
            f"[{WINDOW}])) > 0",
            0,
            Severity.CRITICAL,
            _who(f"rejected client connections in the last {WINDOW} (maxclients reached)"),
        ),
    ]
    return found


def _errors(sel: str, kind: str) -> str:
    """Replies of one error kind in the window. Redis lists an error kind (and the exporter its
    series) only once it has happened: a series that is new within the window counts too,
    since `increase` cannot see the step from no series to its first value."""
    series = f'redis_errors_total{{{sel},err="{kind}"}}'
    return (
        f"sum by (namespace, pod) (increase({series}[{WINDOW}])) > 0 or "
        f"sum by (namespace, pod) ({series} unless on (namespace, pod, err) {series} "
        f"offset {WINDOW}) > 0"
    )


def _replication(config: RedisConfig, sel: str, master: str) -> list[Alert]:
    replicas = config.master_replicas
    overdue = max(60, failover_seconds(config) or 0)
    found = [
        Alert(
            "RedisReplicasMissing",
            f"max by (namespace, pod) (redis_connected_slaves{{{sel}}} and on (namespace, pod) "
            f"{master}) < {replicas}",
            300,
            Severity.WARNING,
            _who(f"is a master with fewer than the {replicas} replicas the stack configures"),
        ),
        Alert(
            "RedisMasterLinkDown",
            f"max by (namespace, pod) (redis_master_link_up{{{sel}}}) == 0",
            overdue,
            Severity.WARNING,
            _who("is a replica cut off from its master: it no longer receives writes"),
        ),
        Alert(
            "RedisNoMaster",
            # Some pod answers, none is a master, and no replica is linked to one (a master
            # whose exporter alone is down still has linked replicas).
            f"count by (namespace) (redis_up{{{sel}}}) unless on (namespace) count by "
            f'(namespace) (redis_instance_info{{{sel},role="master"}}) unless on (namespace) '
            f"count by (namespace) (redis_master_link_up{{{sel}}} == 1)",
            overdue,
            Severity.CRITICAL,
            "Redis {{ $labels.namespace }} has no master: every write fails",
        ),
        Alert(
            "RedisMultipleMasters",
            f"count by (namespace) ({master}) > 1",
            overdue,
            Severity.CRITICAL,
            "Redis {{ $labels.namespace }} has more than one master: writes to the one that "
            "is demoted are lost",
        ),
        Alert(
            "RedisFailover",
            f"{master} unless on (namespace, pod) max by (namespace, pod) "
            f'(redis_instance_info{{{sel},role="master"}} offset {FAILOVER_LOOKBACK}) '
            f"and on (namespace) count by (namespace) "
            f'(redis_instance_info{{{sel},role="master"}} offset {FAILOVER_LOOKBACK})',
            0,
            Severity.INFO,
            _who(f"became the master within the last {FAILOVER_LOOKBACK}"),
        ),
    ]
    guard = config.min_replicas_to_write
    if guard:
        lag = config.failover.min_replicas_max_lag
        # Redis counts a replica toward min-replicas-to-write while it is online and acked
        # within min-replicas-max-lag seconds (replication.c refreshGoodSlavesCount).
        good = (
            f"count by (namespace, pod) (redis_connected_slave_lag_seconds{{{sel},"
            f'slave_state="online"}} <= {lag})'
        )
        found += [
            Alert(
                "RedisWriteGuardClosed",
                f"({good} or on (namespace, pod) 0 * {master}) < {guard}",
                60,
                Severity.CRITICAL,
                _who(
                    f"has fewer than {guard} replica(s) in sync within {lag}s "
                    "(min-replicas-to-write): it refuses every write"
                ),
            ),
            Alert(
                "RedisWriteGuardRefusing",
                _errors(sel, "NOREPLICAS"),
                0,
                Severity.CRITICAL,
                _who("refused writes with NOREPLICAS (the write guard)"),
            ),
        ]
    return found


def alert_rules(config: RedisConfig, release: str) -> list[dict[str, Any]]:
    return [a.rule() for a in alerts(config, release)]


def rule_groups(config: RedisConfig, release: str) -> dict[str, Any]:
    """A rules file as the chart's PrometheusRule carries it: one group named after the
    release (templates/prometheusrule.yaml: `name: <fullname>`)."""
    return {"groups": [{"name": fullname(release), "rules": alert_rules(config, release)}]}


_TEMPLATE = re.compile(r"\{\{.*?\}\}")


def helm_literal(text: str) -> str:
    """Text that passes Helm's `tpl` unchanged: the chart renders the rules through
    `common.tplvalues.render` (a `tpl` call whenever the value contains `{{`), which would
    evaluate Prometheus's own `{{ $labels.pod }}`; a Go raw string prints it as is."""
    return _TEMPLATE.sub(lambda m: "{{`" + m.group(0) + "`}}", text)


def chart_rules(config: RedisConfig, release: str) -> list[dict[str, Any]]:
    """The rules as the chart's `metrics.prometheusRule.rules` value."""
    rules = alert_rules(config, release)
    for rule in rules:
        rule["annotations"] = {k: helm_literal(v) for k, v in rule["annotations"].items()}
    return rules
