"""The stack settings as models: one per block of a stack file, with the rules between keys.

Spellings are the stack file's (aliases); `extra="forbid"` so a typo is an error, not ignored.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from settings.fields import (
    AgentNamespaces,
    ChartSource,
    Cpu,
    DnsLabel,
    DnsSubdomain,
    ExactVersion,
    GoDuration,
    MaxmemoryPolicyField,
    Memory,
    OmniaVersion,
    RotationLabel,
    SessionTypeField,
    StoreName,
    StoreUrl,
)
from settings.project import PROJECT
from upstream.chart_versions import unchecked_warning
from upstream.kubernetes import DEFAULT_NAMESPACE, GIB, MIB, memory_bytes
from upstream.omnia_releases import (
    SESSION_FIELDS,
    Release,
    SessionType,
    first_with,
    history_kept,
    newer_than_known,
    release_for,
)
from upstream.redis_chart import (
    AOF_VOLUME_FACTOR,
    CHART_REPLICA_COUNT,
    DEFAULT_CHART,
    QUORUM,
    READINESS_DELAY_SECONDS,
    Architecture,
    MaxmemoryPolicy,
    ready_timeout_seconds,
    slowest_rollout_seconds,
)
from upstream.stores import DEFAULT_STORE


class _Model(BaseModel):
    # Stack-file spellings only; enum fields hold their plain string value (what Pulumi sends).
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class SessionConfig(_Model):
    """A complete session block: the stack default, or an agent's after merging (then, for a
    redis agent, `store` is the store it uses, resolved by the stack)."""

    type: SessionTypeField
    ttl: GoDuration = "24h"  # the CRD's own default
    store: StoreName | None = None  # a key of omnia-agents:stores; None: the stack decides


class SessionOverride(_Model):
    """Per-agent keys merged over the stack default."""

    type: SessionTypeField | None = None
    ttl: GoDuration | None = None
    store: StoreName | None = None


class ImageConfig(_Model):
    """One image override: Bitnami's versioned images left docker.io/bitnami in Aug 2025."""

    registry: StrictStr | None = None
    repository: StrictStr | None = None
    tag: StrictStr | None = None


class ImagesConfig(_Model):
    """The chart's images this project can run: Redis, and with Sentinel its two helpers."""

    redis: ImageConfig | None = None
    sentinel: ImageConfig | None = None
    kubectl: ImageConfig | None = None  # labels the current master for `<release>-master`
    # The metrics sidecar (with metrics.enabled); its tag defaults to the chart's own.
    exporter: ImageConfig | None = None


class ResourcesConfig(_Model):
    """Per Redis container; memory is request and limit alike (README: Sizing)."""

    memory: Memory = "1Gi"
    cpu: Cpu = "500m"  # request
    cpu_limit: Cpu | None = Field(default=None, alias="cpuLimit")


class MaxmemoryConfig(_Model):
    """`maxmemory` as a share of the memory limit, and what Redis does when it is reached."""

    percent_of_limit: StrictInt = Field(default=60, alias="percentOfLimit", ge=10, le=90)
    policy: MaxmemoryPolicyField = Field(
        default=MaxmemoryPolicy.VOLATILE_TTL, validate_default=True
    )


class FailoverConfig(_Model):
    """Sentinel timings and the stale-master guard (README: Failover)."""

    down_after_milliseconds: StrictInt = Field(
        default=5000, alias="downAfterMilliseconds", ge=1000, le=600_000
    )
    failover_timeout: StrictInt = Field(
        default=20_000, alias="failoverTimeout", ge=5000, le=3_600_000
    )
    # None: 1 where the master has a replica under Sentinel, otherwise off; 0: off.
    min_replicas_to_write: StrictInt | None = Field(
        default=None, alias="minReplicasToWrite", ge=0, le=15
    )
    min_replicas_max_lag: StrictInt = Field(default=10, alias="minReplicasMaxLag", ge=1, le=60)


class MetricsConfig(_Model):
    """The chart's exporter sidecar, and the Prometheus operator's objects (docs: monitoring)."""

    enabled: StrictBool = False
    service_monitor: StrictBool = Field(default=False, alias="serviceMonitor")
    prometheus_rule: StrictBool = Field(default=False, alias="prometheusRule")

    @model_validator(mode="after")
    def _needs(self) -> MetricsConfig:
        if (self.service_monitor or self.prometheus_rule) and not self.enabled:
            raise ValueError(
                "metrics.serviceMonitor and metrics.prometheusRule need metrics.enabled: true "
                "(the exporter they scrape)"
            )
        if self.prometheus_rule and not self.service_monitor:
            raise ValueError(
                "metrics.prometheusRule needs metrics.serviceMonitor: true: the rules select the "
                "targets by the labels the ServiceMonitor gives them"
            )
        return self

    @property
    def operator_objects(self) -> bool:
        """Whether the chart renders kinds only the Prometheus operator serves."""
        return self.service_monitor or self.prometheus_rule


class RedisConfig(_Model):
    namespace: DnsLabel = "redis"  # created for Redis, and kept (it holds the volumes)
    chart_version: ExactVersion = Field(alias="chartVersion")
    images: ImagesConfig | None = None
    architecture: Architecture = Field(default=Architecture.STANDALONE, validate_default=True)
    # HA: Sentinel failover behind a `<release>-master` Service, so the URL does not change.
    sentinel: StrictBool = False
    replicas: StrictInt | None = Field(default=None, ge=1, le=16)
    # Pulumi `protect` on what holds session data: the Redis namespace (its volumes live there).
    # Derived objects (password, Secrets, chart) stay unprotected, so rotation and upgrades run.
    protect: StrictBool = False
    # Any new value (e.g. "2026-11") generates a new password and rolls every user of it.
    password_rotation: RotationLabel | None = Field(
        default=None, alias="passwordRotation", min_length=1, max_length=63
    )
    # How long `pulumi up` waits for each chart object to become ready (every object carries it
    # as `pulumi.com/timeoutSeconds`): a Sentinel rollout restarts the pods one by one.
    ready_timeout: GoDuration = Field(default="30m", alias="readyTimeout")
    # Where Helm pulls the chart from, on the machine running Pulumi: an OCI reference (a
    # mirror of Bitnami's) or a local `.tgz`, relative to the project.
    chart: ChartSource = DEFAULT_CHART
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    maxmemory: MaxmemoryConfig = Field(default_factory=MaxmemoryConfig)
    # The chart's own default: volumeClaimTemplates cannot change on a StatefulSet, so a
    # default derived from `resources.memory` would make a memory change fail `pulumi up`.
    volume_size: Memory = Field(default="8Gi", alias="volumeSize")
    failover: FailoverConfig = Field(default_factory=FailoverConfig)
    # The volumes' StorageClass (the cluster's default when unset): it decides whether they
    # can grow in place (allowVolumeExpansion); a StatefulSet's claims never change class.
    storage_class: DnsSubdomain | None = Field(default=None, alias="storageClass")
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    # Chart values merged over the program's (maps merged, lists replaced): keys of the pinned
    # chart's values.yaml the program does not set (upstream.chart_keys judges them).
    values: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _topology(self) -> RedisConfig:
        if self.sentinel and self.architecture != Architecture.REPLICATION:
            raise ValueError("sentinel: true needs architecture: replication")
        if self.replicas is not None and self.architecture != Architecture.REPLICATION:
            raise ValueError("replicas needs architecture: replication")
        if self.sentinel:
            # One Sentinel per pod (the chart's sentinel/statefulset.yaml), quorum 2: a
            # failover needs the quorum and a majority of all Sentinels; both must survive the
            # loss of one pod. Measured (tests/processes/test_pod_loss.py): with 2 nodes no
            # failover happens and writes get READONLY, or NOREPLICAS when the replica goes.
            nodes = self.replica_count
            if nodes - 1 < max(QUORUM, nodes // 2 + 1):
                sentinels = f"{nodes} Sentinel" + ("s" if nodes > 1 else "")
                raise ValueError(
                    f"sentinel: true with replicas: {nodes} runs {sentinels}, one per pod, "
                    f"with quorum {QUORUM}: after the loss of one pod the rest cannot elect "
                    "a new master (measured: no failover, writes refused with READONLY, or "
                    "NOREPLICAS under the write guard); use replicas: 3 or more"
                )
        wanted = self.failover.min_replicas_to_write
        if wanted and wanted > self.master_replicas:
            raise ValueError(
                f"failover.minReplicasToWrite: {wanted} needs at least {wanted} replicas of the "
                f"master, and this topology has {self.master_replicas}: the master would refuse "
                "every write"
            )
        if wanted and wanted == self.master_replicas:
            fix = f"use at most {wanted - 1}" if wanted > 1 else "set it to 0 (off)"
            raise ValueError(
                f"failover.minReplicasToWrite: {wanted} leaves no room for the loss of a "
                f"replica: the master has {self.master_replicas}, and once one is lost it "
                f"refuses every write (NOREPLICAS); {fix}"
            )
        needed = AOF_VOLUME_FACTOR * self.maxmemory_bytes
        if memory_bytes(self.volume_size) < needed:
            # The claim template cannot change in place: a deployed stack grows its volumes by
            # hand, never by this setting alone (a replace of the StatefulSet, refused).
            raise ValueError(
                f"volumeSize: {self.volume_size} cannot hold the append-only file of a full "
                f"maxmemory ({AOF_VOLUME_FACTOR} x {self.maxmemory_bytes // MIB}Mi); "
                f"use at least {-(-needed // GIB)}Gi on a new stack (a deployed stack: grow its "
                "volumes by hand first, docs/operating-redis.md#growing-the-redis-volumes, or keep "
                "resources.memory)"
            )
        return self

    @model_validator(mode="after")
    def _ready_timeout(self) -> RedisConfig:
        """A timeout the rollout can never meet fails every `pulumi up` after the chart."""
        pods, least = slowest_rollout_seconds(self)
        if ready_timeout_seconds(self) < least:
            raise ValueError(
                f"readyTimeout: {self.ready_timeout} is shorter than the Redis pods can become "
                f"ready: each waits {READINESS_DELAY_SECONDS}s for its first readiness probe "
                f"(the chart's initialDelaySeconds)"
                + (f" and the StatefulSet starts its {pods} pods one after another" * (pods > 1))
                + f"; use at least {least}s (default 30m)"
            )
        return self

    def sentinel_only_settings(self) -> list[str]:
        """Settings given that only a Sentinel deployment reads (the chart ignores the rest);
        reasons without the block's key, which the stack's warnings add."""
        timings = {"downAfterMilliseconds", "failoverTimeout"}
        given = sorted(
            f"failover.{FailoverConfig.model_fields[f].alias}"
            for f in self.failover.model_fields_set
            if FailoverConfig.model_fields[f].alias in timings
        )
        images = self.images.model_fields_set & {"sentinel", "kubectl"} if self.images else set()
        given += sorted(f"images.{name}" for name in images)
        if not given:
            return []
        return [
            f"{', '.join(given)} set, but sentinel is off: only a Sentinel deployment uses them"
        ]

    def metrics_only_settings(self) -> list[str]:
        """Settings given that only the metrics sidecar reads."""
        if self.metrics.enabled or not (self.images and self.images.exporter):
            return []
        return ["images.exporter set, but metrics.enabled is off: only the metrics sidecar uses it"]

    @property
    def master_replicas(self) -> int:
        """Replicas the master has: Sentinel's replicaCount counts the master among its nodes
        (the chart's one `-node` StatefulSet has `replicas: {{ .Values.replica.replicaCount }}`,
        bitnami/charts bitnami/redis/templates/sentinel/statefulset.yaml)."""
        if self.architecture == Architecture.STANDALONE:
            return 0
        return self.replica_count - 1 if self.sentinel else self.replica_count

    @property
    def replica_count(self) -> int:
        """The chart's replica.replicaCount: the replica set's pods (with Sentinel, every node)."""
        return self.replicas if self.replicas is not None else CHART_REPLICA_COUNT

    @property
    def maxmemory_bytes(self) -> int:
        """Whole MiB: redis.conf gets `<n>mb`."""
        limit = memory_bytes(self.resources.memory)
        return limit * self.maxmemory.percent_of_limit // 100 // MIB * MIB

    @property
    def min_replicas_to_write(self) -> int:
        """The write guard in force: on by default only where Sentinel can fail over."""
        wanted = self.failover.min_replicas_to_write
        if wanted is not None:
            return wanted
        return 1 if self.sentinel and self.master_replicas >= 1 else 0


class StoreConfig(_Model):
    """One session store: the Bitnami chart in the cluster (`redis`, every key
    omnia-agents:redis has) or a Redis run elsewhere (`url`, a Pulumi secret)."""

    redis: RedisConfig | None = None
    # A stack file gives a string, judged with the stack (settings.checks.store_url_problems).
    # The package's SessionAgents may give an Output of another resource (a managed cache made
    # in the same program): judged once known (components/external_store.py `later_urls`).
    url: StoreUrl | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _one_kind(self) -> StoreConfig:
        if (self.redis is None) == (self.url is None):
            raise ValueError("needs exactly one of redis (an in-cluster chart) or url")
        return self


def _no_session_in_spec(spec: dict[str, Any]) -> dict[str, Any]:
    for key in SESSION_FIELDS:
        if key in spec:
            raise ValueError(
                f"spec.{key} is not allowed: set the agent's session (or omnia-agents:session)"
                " instead, so the block matches the operator's CRD generation"
            )
    return spec


class AgentConfig(_Model):
    name: DnsLabel
    namespace: DnsLabel = DEFAULT_NAMESPACE
    session: SessionOverride | None = None
    spec: Annotated[dict[str, Any], AfterValidator(_no_session_in_spec)] = Field(
        default_factory=dict
    )

    def merged_session(self, default: SessionConfig) -> SessionConfig:
        """The agent's own keys win; the rest comes from the stack default."""
        own = self.session.model_dump(exclude_none=True) if self.session else {}
        return SessionConfig.model_validate({**default.model_dump(), **own})


class StackConfig(_Model):
    omnia_version: OmniaVersion | None = Field(default=None, alias="omniaVersion")
    session: SessionConfig
    redis: RedisConfig | None = None
    # Named stores; omnia-agents:redis is the in-cluster store named `default`.
    stores_given: dict[StoreName, StoreConfig] | None = Field(default=None, alias="stores")
    agents: list[AgentConfig] = Field(min_length=1)
    crd_file: StrictStr | None = Field(default=None, alias="crdFile")
    # `require`: agent namespaces must exist (read at preview, so a typo fails there);
    # `create`: the program creates them (and deletes them on destroy).
    agent_namespaces: AgentNamespaces = Field(
        default=AgentNamespaces.REQUIRE, alias="agentNamespaces", validate_default=True
    )
    # kubeconfig context for the program's Kubernetes provider: `kubernetes:context`, passed
    # through by load_stack_config (not an omnia-agents key).
    kube_context: StrictStr | None = Field(default=None, alias="kubernetes:context", exclude=True)

    @cached_property
    def release(self) -> Release:
        """What the targeted Omnia release does with the session settings (asked per agent)."""
        return release_for(self.omnia_version)

    @cached_property
    def stores(self) -> dict[str, StoreConfig]:
        """Every store by name, `omnia-agents:redis` as `default` (in stack-file order)."""
        found = dict(self.stores_given or {})
        if self.redis is not None:
            found = {DEFAULT_STORE: StoreConfig(redis=self.redis), **found}
        return found

    def store_for(self, session: SessionConfig) -> str | None:
        """The store a redis session uses: its own choice, else the only store, else
        `default`; None where that leaves no choice (checks.store_problems says so)."""
        if session.type != SessionType.REDIS:
            return None
        if session.store is not None:
            return session.store if session.store in self.stores else None
        if len(self.stores) == 1:
            return next(iter(self.stores))
        return DEFAULT_STORE if DEFAULT_STORE in self.stores else None

    @cached_property
    def _sessions(self) -> list[tuple[AgentConfig, SessionConfig]]:
        # Merged once: the program, the CRD check and the outputs all ask, per agent.
        merged = [(agent, agent.merged_session(self.session)) for agent in self.agents]
        return [
            (agent, session.model_copy(update={"store": self.store_for(session)}))
            for agent, session in merged
        ]

    def store_namespaces(self, store: str) -> list[str]:
        """Agent namespaces whose agents use `store`, in first-use order."""
        found = [a.namespace for a, s in self._sessions if s.store == store]
        return list(dict.fromkeys(found))

    def agent_sessions(self) -> list[tuple[AgentConfig, SessionConfig]]:
        return list(self._sessions)

    def agents_by_namespace(self) -> dict[str, list[tuple[AgentConfig, SessionConfig]]]:
        """Agents grouped by namespace, namespaces and agents in stack-file order."""
        groups: dict[str, list[tuple[AgentConfig, SessionConfig]]] = {}
        for agent, session in self._sessions:
            groups.setdefault(agent.namespace, []).append((agent, session))
        return groups

    @cached_property
    def redis_namespaces(self) -> list[str]:
        """Agent namespaces that need the credentials Secret, in first-use order."""
        found = [a.namespace for a, s in self._sessions if s.type == SessionType.REDIS]
        return list(dict.fromkeys(found))

    def store_url_warnings(self) -> list[str]:
        """External stores' URLs that work, but not as a user expects (never quoting them)."""
        from upstream.store_url import judge_store_url

        found = []
        for name, store in self.stores.items():
            # An Output is judged, and warned about, once known (components/external_store.py).
            known = isinstance(store.url, str)
            if known and self.omnia_version and self.store_namespaces(name):
                where = f"omnia-agents:stores.{name}.url"
                found += [
                    f"{where}: {w}"
                    for w in judge_store_url(str(store.url), self.omnia_version).warnings
                ]
        return found

    def warnings(self) -> list[str]:
        """Where the cluster will not do what the stack file says: one line each, per stack."""
        found = []
        if self.redis and not self.redis_namespaces:
            found.append(
                "omnia-agents:redis is set, but no agent uses redis sessions: no Redis deployed"
            )
        release = self.release
        target = (
            f"omnia {self.omnia_version}"
            if self.omnia_version
            else f"omnia (omniaVersion unset: a release before {first_with('context').first})"
        )
        longer: dict[tuple[str, str], list[str]] = {}
        for a, s in self._sessions:
            period = history_kept(release, s.type, s.ttl)
            if period is not None:
                longer.setdefault((period, s.type), []).append(f"{a.namespace}/{a.name} ({s.ttl})")
        for (period, kind), agents in sorted(
            longer.items(), key=lambda item: item[0][1] != SessionType.REDIS
        ):
            # The facade resumes such a session after the store has dropped its history.
            found.append(
                f"{target} keeps session history {period} ({kind}), shorter than ttl: "
                + ", ".join(agents)
            )
        if self.redis_namespaces and not release.pod_annotations:
            found.append(
                f"{target} has no spec.extraPodAnnotations: redis agents' pods do not restart "
                "when the Redis password rotates; restart them by hand after a rotation"
            )
        for name, store in self.stores.items():
            redis = store.redis
            if redis is None or not self.store_namespaces(name):
                continue
            here = f"{PROJECT}:" + ("redis" if redis is self.redis else f"stores.{name}.redis")
            unused = redis.metrics_only_settings()
            if not redis.sentinel:
                unused = redis.sentinel_only_settings() + unused
            found += [f"{here}: {reason}" for reason in unused]
            unchecked = unchecked_warning(redis.chart_version)
            if unchecked:
                found.append(f"{here}.chartVersion: {unchecked}")
        found += self.store_url_warnings()
        newer = newer_than_known(self.omnia_version)
        if newer:
            found.insert(0, f"{PROJECT}:omniaVersion {newer}")
        return found
