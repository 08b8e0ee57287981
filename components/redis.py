"""Redis for prod sessions: namespace, generated password, its Secret and the Bitnami chart."""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.agent import credentials_digest
from components.config import MIB, ImagesConfig, RedisConfig, memory_bytes
from components.duration import parse_go_duration
from components.session import CLIENT_LABEL

if TYPE_CHECKING:
    from components.cluster import Cluster

RELEASE = "redis"
PORT = 6379
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


class SentinelSetting(NamedTuple):
    directive: str  # in sentinel.conf: `sentinel <directive> <masterSet> <value>`
    chart_key: str  # under `sentinel:` in the chart's values
    value: int


class ServerSettings(NamedTuple):
    """What the Redis and Sentinel processes run with: the chart gets it, the tests start it."""

    redis_conf: tuple[tuple[str, str], ...]
    sentinel: tuple[SentinelSetting, ...]


def master_host(release: str, namespace: str) -> str:
    """The write Service: `<release>-master` in standalone, replication and Sentinel modes."""
    return f"{release}-master.{namespace}.svc"


def redis_url(password: str, host: str, port: int) -> str:
    """Percent-encode the password: `# ? / % [ ]` break go-redis's and redis-py's URL parsers."""
    return f"redis://:{quote(password, safe='')}@{host}:{port}"


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
    if config.architecture == "replication":
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


def chart_values(config: RedisConfig) -> dict[str, Any]:
    """Plain values only: Chart v4 renders in preview and must not see unknown Outputs."""
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
            "ingressNSMatchLabels": {CLIENT_LABEL: "true"},
        },
    }
    if config.architecture == "replication":
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
    # Every rendered object waits for readiness at most this long during `pulumi up`.
    values["commonAnnotations"] = {TIMEOUT_ANNOTATION: str(ready_timeout_seconds(config))}
    images = config.images or ImagesConfig()
    overrides = (
        ("redis", images.redis),
        ("sentinel", images.sentinel),
        ("kubectl", images.kubectl),
    )
    for role, image in overrides:
        if image is None or not image.model_dump(exclude_none=True):
            continue
        if role != "redis" and not config.sentinel:
            continue  # only Sentinel mode runs the sentinel and kubectl images
        target = values if role == "redis" else values.setdefault(role, {})
        target["image"] = image.model_dump(exclude_none=True)
        # The chart refuses images other than its own unless told otherwise.
        values["global"] = {"security": {"allowInsecureImages": True}}
    return values


class RedisStore(pulumi.ComponentResource):
    """One Redis release whose password never passes through the chart's values.

    Only the namespace holds data (the volumes' PVCs live and die with it): it is kept on
    delete and, with `protect`, guarded. Everything else is derived and must stay replaceable:
    the engine refuses to replace a protected resource (pulumi pkg/resource/deploy/
    step_generator.go: `new.Protect && old.Protect`) and hands `protect` down to a
    component's children, so a protected chart would block every upgrade that renames,
    drops or must replace one of its objects.
    """

    namespace: k8s.core.v1.Namespace
    password: random.RandomPassword
    auth_secret: k8s.core.v1.Secret
    chart: k8s.helm.v4.Chart
    host: str
    port: int
    url: pulumi.Output[str]
    stamp: pulumi.Output[str]
    config: RedisConfig

    def __init__(
        self,
        name: str,
        config: RedisConfig,
        cluster: Cluster,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        own = pulumi.ResourceOptions(providers=[cluster.provider])
        super().__init__(
            "omnia-agents:index:RedisStore", name, None, pulumi.ResourceOptions.merge(opts, own)
        )

        def child(*needs: pulumi.Input[pulumi.Resource]) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=list(needs))

        # Nothing is created before the cluster is known to run the operator and to keep every
        # agent as the stack writes it (the served CRD's verdict).
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": config.namespace},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[cluster.agents_ready],
                protect=config.protect,
                # Deleting a Namespace deletes its PVCs, whatever the StatefulSets'
                # persistentVolumeClaimRetentionPolicy says: destroy leaves it in the cluster.
                retain_on_delete=True,
            ),
        )
        self.password = random.RandomPassword(
            f"{name}-password",
            length=PASSWORD_LENGTH,
            special=False,
            keepers={"rotation": config.password_rotation or ""},
            opts=child(cluster.agents_ready),
        )
        self.auth_secret = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata={"name": AUTH_SECRET, "namespace": config.namespace},
            # The Kubernetes SDK sends stringData as a secret.
            string_data={AUTH_SECRET_KEY: self.password.result},
            opts=child(self.namespace),
        )
        # The resource name is the release name: v4 prefixes every rendered object with it.
        self.chart = k8s.helm.v4.Chart(
            name,
            chart=config.chart,
            version=config.chart_version,
            name=name,
            namespace=config.namespace,
            values=chart_values(config),
            opts=child(self.namespace, self.auth_secret),
        )
        self.host = master_host(name, config.namespace)
        self.port = PORT
        url = self.password.result.apply(lambda pw: redis_url(pw, self.host, self.port))
        # Secret already through `result`; said again so no refactor can drop it.
        self.url = pulumi.Output.secret(url)
        # One plain digest for every agent's pod annotation (see credentials_digest).
        self.stamp = pulumi.Output.unsecret(url.apply(credentials_digest))
        self.config = config
        self.register_outputs({"host": self.host, "port": self.port, "url": self.url})
