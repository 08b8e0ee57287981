"""The Bitnami Redis chart as this project runs it: values, redis.conf, Sentinel (pure).

One rendering of the tuning: the chart's values and the config files the real-Redis and
real-Sentinel tests start their processes with. Facts about the chart (defaults, keys,
templates) cite bitnami/charts `bitnami/redis` at the pinned versions (../shared/bitnami-redis).
"""

from __future__ import annotations

import copy
import math
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from upstream.go_duration import parse_go_duration
from upstream.kubernetes import MIB, memory_bytes
from upstream.redis_volumes import CHART_NAME, COMPONENT_LABEL, INSTANCE_LABEL, NAME_LABEL

if TYPE_CHECKING:  # the settings import this package: types only, no import cycle
    from settings.models import RedisConfig

RELEASE = "redis"  # the Helm release, and the prefix of every object the chart renders
PORT = 6379
SENTINEL_PORT = 26379  # the chart's sentinel.containerPorts.sentinel (values.yaml)
# Bitnami publishes the chart only as OCI.
DEFAULT_CHART = "oci://registry-1.docker.io/bitnamicharts/redis"
CHART_REPLICA_COUNT = 3  # the chart's replica.replicaCount (both pinned values.yaml files)
# Namespaces carrying this label may reach Redis; the chart's NetworkPolicy admits no one else.
CLIENT_LABEL = "omnia-agents/redis-client"
# ...and this one its exporter's port: the namespace Prometheus runs in.
METRICS_CLIENT_LABEL = "omnia-agents/redis-metrics"
EXPORTER_REPOSITORY = "bitnamilegacy/redis-exporter"
ZONE_LABEL = "topology.kubernetes.io/zone"  # the well-known label (kubernetes.io docs)
# An AOF after a rewrite is at most the dataset (RDB preamble); it grows to 2x before the next
# rewrite (auto-aof-rewrite-percentage 100), and a rewrite writes a new base beside it: 3x.
AOF_VOLUME_FACTOR = 3
AUTH_SECRET = "redis-auth"
AUTH_SECRET_KEY = "redis-password"
PASSWORD_LENGTH = 40
ROTATION_ANNOTATION = "omnia-agents/password-rotation"
# pulumi-kubernetes reads each object's own await timeout from this annotation when the object
# has no customTimeouts (provider/pkg/metadata TimeoutDuration); a Chart's customTimeouts do not
# reach its children (pulumi/pulumi#9822). The chart puts `commonAnnotations` on "all deployed
# objects" (its values.yaml).
TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds"
# Durability, stated rather than inherited from chart defaults: every write goes to the AOF,
# fsynced once a second, so a crash loses at most the last second. The crash test starts a
# real redis-server with exactly these lines.
PERSISTENCE = (("appendonly", "yes"), ("appendfsync", "everysec"), ("save", '""'))
_KEEP_VOLUMES = {"enabled": True, "whenDeleted": "Retain", "whenScaled": "Retain"}
# The memory limit is shared out (README: Sizing): maxmemory (default 60 %), replica output
# buffers (hard 10 %, soft 5 % for 60 s instead of Redis's fixed 256mb/64mb, a quarter of a
# 1Gi pod), and the rest for copy-on-write during an AOF rewrite and allocator overhead.
REPLICA_BUFFER_HARD_PERCENT = 10
REPLICA_BUFFER_SOFT_PERCENT = 5
REPLICA_BUFFER_SOFT_SECONDS = 60
# Sentinel runs one small process; its memory is a few MiB whatever the dataset.
SENTINEL_RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}
# Chart defaults the program leaves in place and the real-Sentinel tests reproduce.
MASTER_SET = "mymaster"  # sentinel.masterSet
QUORUM = 2  # sentinel.quorum
PARALLEL_SYNCS = 1  # sentinel.parallelSyncs


class Architecture(StrEnum):
    """Bitnami Redis topologies (the chart's `architecture`)."""

    STANDALONE = "standalone"
    """One Redis pod."""
    REPLICATION = "replication"
    """A master and read replicas (with `sentinel`: automatic failover)."""


class MaxmemoryPolicy(StrEnum):
    """What Redis does at maxmemory: only policies that never evict a key without a TTL, such
    as Omnia's global index set `promptkit:conversations:index` (docs: operating Redis)."""

    VOLATILE_TTL = "volatile-ttl"
    """Evict the sessions closest to expiry first (default)."""
    VOLATILE_LRU = "volatile-lru"
    """Evict the least recently used sessions first."""
    VOLATILE_LFU = "volatile-lfu"
    """Evict the least frequently used sessions first."""
    NOEVICTION = "noeviction"
    """Refuse writes instead: an outage rather than a lost conversation."""


class SentinelSetting(NamedTuple):
    directive: str  # in sentinel.conf: `sentinel <directive> <masterSet> <value>`
    chart_key: str  # under `sentinel:` in the chart's values
    value: int


class ServerSettings(NamedTuple):
    """What the Redis and Sentinel processes run with: the chart gets it, the tests start it."""

    redis_conf: tuple[tuple[str, str], ...]
    sentinel: tuple[SentinelSetting, ...]


def _mb(size: int) -> str:
    return f"{size // MIB}mb"


def server_settings(config: RedisConfig) -> ServerSettings:
    """One rendering of the tuning: the chart's commonConfiguration and sentinel values, and
    the config files the real-Sentinel tests start redis-server and redis-sentinel with."""
    limit = memory_bytes(config.resources.memory)
    conf = [
        *PERSISTENCE,
        ("maxmemory", _mb(config.maxmemory_bytes)),
        ("maxmemory-policy", config.maxmemory.policy),
    ]
    if config.architecture == Architecture.REPLICATION:
        hard = limit * REPLICA_BUFFER_HARD_PERCENT // 100
        soft = limit * REPLICA_BUFFER_SOFT_PERCENT // 100
        buffers = f"replica {_mb(hard)} {_mb(soft)} {REPLICA_BUFFER_SOFT_SECONDS}"
        conf.append(("client-output-buffer-limit", buffers))
    if config.min_replicas_to_write:
        # A master cut off from its replicas (frozen, partitioned) refuses writes instead of
        # acknowledging what the failover will discard.
        conf.append(("min-replicas-to-write", str(config.min_replicas_to_write)))
        conf.append(("min-replicas-max-lag", str(config.failover.min_replicas_max_lag)))
    sentinel: tuple[SentinelSetting, ...] = ()
    if config.sentinel:
        timing = config.failover
        sentinel = (
            SentinelSetting(
                "down-after-milliseconds", "downAfterMilliseconds", timing.down_after_milliseconds
            ),
            SentinelSetting("failover-timeout", "failoverTimeout", timing.failover_timeout),
        )
    return ServerSettings(tuple(conf), sentinel)


def conf_text(lines: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"{key} {value}\n" for key, value in lines)


def redis_conf(config: RedisConfig) -> str:
    """The chart's `commonConfiguration`: redis.conf lines."""
    return conf_text(server_settings(config).redis_conf)


def resources(config: RedisConfig) -> dict[str, Any]:
    """Memory request = limit: the node reserves all Redis may use and never takes it back."""
    wanted = config.resources
    limits = {"memory": wanted.memory}
    if wanted.cpu_limit:
        limits["cpu"] = wanted.cpu_limit
    return {"requests": {"cpu": wanted.cpu, "memory": wanted.memory}, "limits": limits}


def ready_timeout_seconds(config: RedisConfig) -> int:
    return math.ceil(parse_go_duration(config.ready_timeout) / 1_000_000_000)


def chart_values(
    config: RedisConfig, release: str = RELEASE, client_label: str = CLIENT_LABEL
) -> dict[str, Any]:
    """The chart's values: the stack's own `redis.values` merged over the program's (maps
    merged, lists replaced; settings/chart_values.py refuses keys the program sets).
    Plain values only: Chart v4 renders in preview and must not see unknown Outputs.
    `client_label`: the namespace label the NetworkPolicy admits (one per store)."""
    from upstream.chart_keys import merged

    return merged(program_values(config, release, client_label), config.values)


def program_values(
    config: RedisConfig, release: str = RELEASE, client_label: str = CLIENT_LABEL
) -> dict[str, Any]:
    """What the program's settings make of the chart's values."""
    settings = server_settings(config)
    pods: dict[str, Any] = {
        "persistence": {"enabled": True, "size": config.volume_size},
        # Volumes outlive the release: uninstalling (or scaling down) never deletes data.
        "persistentVolumeClaimRetentionPolicy": dict(_KEEP_VOLUMES),
        # The chart's preset (`nano`: 192Mi) is what runs unless told otherwise. Both roles get
        # it: under Sentinel every Redis container reads `replica.resources` (chart template
        # sentinel/statefulset.yaml), and any of them may become the master.
        "resourcesPreset": "none",
        "resources": resources(config),
    }
    if config.storage_class:
        pods["persistence"]["storageClass"] = config.storage_class
    if config.password_rotation:
        # The chart does not watch an existing Secret: a new annotation restarts the pods
        # so they read the rotated password.
        pods["podAnnotations"] = {ROTATION_ANNOTATION: config.password_rotation}
    values: dict[str, Any] = {
        "architecture": config.architecture,
        "auth": {
            "enabled": True,
            # A fixed Secret, not the chart's own: its `lookup` re-generates on every render.
            "existingSecret": AUTH_SECRET,
            "existingSecretPasswordKey": AUTH_SECRET_KEY,
        },
        "commonConfiguration": conf_text(settings.redis_conf),
        "master": copy.deepcopy(pods),
        "networkPolicy": {
            "enabled": True,
            "allowExternal": False,
            "ingressNSMatchLabels": {client_label: "true"},
        },
    }
    if config.architecture == Architecture.REPLICATION:
        values["replica"] = copy.deepcopy(pods)
        if config.replicas is not None:
            values["replica"]["replicaCount"] = config.replicas
    if config.sentinel:
        # masterService keeps `<release>-master` on the current master: a kubectl sidecar
        # relabels the pods through the Kubernetes API, hence the ServiceAccount, its token
        # and RBAC (the chart refuses to render masterService without all three).
        values["sentinel"] = {
            "enabled": True,
            "masterService": {"enabled": True},
            "persistentVolumeClaimRetentionPolicy": dict(_KEEP_VOLUMES),
            **{s.chart_key: s.value for s in settings.sentinel},
            "resourcesPreset": "none",
            "resources": copy.deepcopy(SENTINEL_RESOURCES),
        }
        values["replica"]["automountServiceAccountToken"] = True
        values["rbac"] = {"create": True}
        values["serviceAccount"] = {"create": True}
        values["replica"].update(spread(release))
        if config.storage_class:
            values["sentinel"]["persistence"] = {"storageClass": config.storage_class}
    # Every rendered object waits for readiness at most this long during `pulumi up`.
    values["commonAnnotations"] = {TIMEOUT_ANNOTATION: str(ready_timeout_seconds(config))}
    if config.metrics.enabled:
        values["metrics"] = metrics_values(config, release)
        # The exporter answers /scrape?target=<any host> with the Redis password and
        # ?check-keys= with key contents (redis_exporter v1.76.0 exporter/http.go
        # scrapeHandler copies its options, password included): only the namespaces that
        # carry the metrics label may reach it. An empty `from` would admit every pod.
        values["networkPolicy"]["metrics"] = {
            "allowExternal": False,
            "ingressNSMatchLabels": {METRICS_CLIENT_LABEL: "true"},
        }
    images = config.images
    overrides = (
        ("redis", images.redis if images else None),
        ("sentinel", images.sentinel if images else None),
        ("kubectl", images.kubectl if images else None),
    )
    overridden = False
    for role, image in overrides:
        if image is None or not image.model_dump(exclude_none=True):
            continue
        if role != "redis" and not config.sentinel:
            continue  # only Sentinel mode runs the sentinel and kubectl images
        target = values if role == "redis" else values.setdefault(role, {})
        target["image"] = image.model_dump(exclude_none=True)
        overridden = True
    if overridden or config.metrics.enabled:
        # The chart refuses images other than its own unless told otherwise.
        values["global"] = {"security": {"allowInsecureImages": True}}
    return values


# A Redis pod is Ready no sooner than its readiness probe's first run: `initialDelaySeconds:
# 20` for master, replica and sentinel in both pinned charts' values.yaml (Kubernetes: "the
# default state of readiness before the initial delay is Failure"). The chart leaves
# `podManagementPolicy` unset, so a StatefulSet starts its pods one after another
# (OrderedReady, the Kubernetes default), each once the one before is Ready.
READINESS_DELAY_SECONDS = 20


def slowest_rollout_seconds(config: RedisConfig) -> tuple[int, int]:
    """(pods the largest StatefulSet starts in order, the least time they can take)."""
    # Sentinel: one `-node` set of `replicaCount`; otherwise replicas beside a master.
    pods = 1 if config.architecture == Architecture.STANDALONE else config.replica_count
    return pods, pods * READINESS_DELAY_SECONDS


def spread(release: str) -> dict[str, Any]:
    """A Sentinel set's pods on different nodes (hard), and across zones where it can.

    Two of the three pods on one node make that node a single point of failure for writes:
    its loss leaves one Sentinel, short of the quorum of 2, so no failover; and a master left
    alone refuses writes under the guard (measured on real processes, issue 15). A pod that
    cannot get a node of its own stays Pending, in sight (the rollout waits, the replica alert
    fires), instead of running where the next node loss takes two. Zones are a preference
    (ScheduleAnyway): a cluster with fewer zones than pods, or nodes without the zone label,
    must still schedule them.
    """
    return {
        # The chart's preset (common.affinities.pods.hard): required anti-affinity on
        # kubernetes.io/hostname against the pods of this release's `node` component.
        "podAntiAffinityPreset": "hard",
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": ZONE_LABEL,
                "whenUnsatisfiable": "ScheduleAnyway",
                # The labels the chart's node pods carry (templates/sentinel/statefulset.yaml).
                "labelSelector": {
                    "matchLabels": {
                        NAME_LABEL: CHART_NAME,
                        INSTANCE_LABEL: release,
                        COMPONENT_LABEL: "node",
                    }
                },
            }
        ],
    }


def metrics_values(config: RedisConfig, release: str) -> dict[str, Any]:
    """The exporter sidecar and its Service, and the Prometheus operator's objects."""
    from upstream.redis_metrics import SCRAPE_INTERVAL, chart_rules

    wanted = config.metrics
    own = config.images.exporter if config.images and config.images.exporter else None
    # The tag stays the chart's (metrics.image.tag, as its Chart.yaml lists it); the
    # repository moves where Bitnami's versioned images went in Aug 2025.
    image = {"registry": "docker.io", "repository": EXPORTER_REPOSITORY}
    image.update(own.model_dump(exclude_none=True) if own else {})
    metrics: dict[str, Any] = {"enabled": True, "image": image}
    if wanted.service_monitor:
        # The alert windows count on this interval (upstream.redis_metrics).
        metrics["serviceMonitor"] = {"enabled": True, "interval": SCRAPE_INTERVAL}
    if wanted.prometheus_rule:
        metrics["prometheusRule"] = {"enabled": True, "rules": chart_rules(config, release)}
    return metrics
