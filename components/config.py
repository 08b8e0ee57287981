"""Stack configuration: the one place Pulumi config is read and judged.

Everything downstream takes these models, so a bad stack file fails here, before any resource
is registered, with a message naming the stack file and the key.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple, get_args, get_origin

import pulumi
import semver
from pulumi.runtime.config import (
    CONFIG,
    get_config_env,
    get_config_secret_keys_env,
    is_config_secret,
)
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from components.duration import DurationError, parse_go_duration
from components.releases import (
    NEWEST_KNOWN,
    RELEASES,
    URL_ENV_NAMES,
    Release,
    first_with,
    history_kept,
    parse_version,
    release_for,
)

PROJECT = "omnia-agents"
# The pod annotation the program stamps on redis agents (a digest of the credentials): a changed
# value is what makes the operator roll their pods when the password rotates.
CREDENTIALS_ANNOTATION = "omnia-agents/credentials-hash"
# Namespaces every cluster has: `agentNamespaces: create` must not take them over.
_CLUSTER_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
STACK_CONFIG_DIR = "stacks"  # Pulumi.yaml's stackConfigDir; a test keeps the two in step.

# Bitnami publishes the chart only as OCI.
DEFAULT_CHART = "oci://registry-1.docker.io/bitnamicharts/redis"

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_GO_UNITS = "ns, us, ms, s, m, h"
_HOURS_PER = {"d": 24, "w": 168, "y": 8760}
_FOREIGN_UNIT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([dwy])$")


def _dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )
    return value


def _go_duration(value: str) -> str:
    """Refuse what Go refuses, and point `7d`-style TTLs at the hours the operator needs."""
    try:
        nanoseconds = parse_go_duration(value)
    except DurationError:
        foreign = _FOREIGN_UNIT.match(value)
        if foreign:
            hours = float(foreign.group(1)) * _HOURS_PER[foreign.group(2)]
            hint = f"{int(hours)}h" if hours.is_integer() else f"{hours}h"
            raise ValueError(f"{value!r} is not a Go duration (use {hint!r})") from None
        raise ValueError(
            f"{value!r} is not a Go duration (units {_GO_UNITS}; e.g. 30m, 24h, 1h30m)"
        ) from None
    if nanoseconds <= 0:
        raise ValueError(f"{value!r} must be a positive duration")
    return value


def _chart_source(value: str) -> str:
    if value.startswith("oci://") or value.endswith(".tgz"):
        return value
    raise ValueError(
        f"{value!r} is neither an OCI reference (oci://registry/path/redis) nor a local .tgz"
    )


def _session_type(value: Any) -> Any:
    if value == "postgres":
        raise ValueError(
            "'postgres' is not supported: operators before 0.9.0-beta.17 silently fall back "
            "to memory sessions for it and later ones removed it; use memory or redis"
        )
    return value


def _exact_version(value: str) -> str:
    try:
        semver.Version.parse(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an exact version (x.y.z, e.g. '22.0.7'); pin one"
        ) from None
    return value


def _omnia_version(value: str) -> str:
    try:
        parse_version(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an Omnia release version (e.g. '0.9.0-beta.17')"
        ) from None
    release_for(value)  # ValueError: older than any release the table knows
    return value


DnsLabel = Annotated[StrictStr, AfterValidator(_dns_label)]
GoDuration = Annotated[StrictStr, AfterValidator(_go_duration)]
SessionType = Annotated[Literal["memory", "redis"], BeforeValidator(_session_type)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)  # stack-file spellings only


class SessionConfig(_Model):
    """A complete session block: the stack default, or an agent's after merging."""

    type: SessionType
    ttl: GoDuration = "24h"  # the CRD's own default


class SessionOverride(_Model):
    """Per-agent keys merged over the stack default."""

    type: SessionType | None = None
    ttl: GoDuration | None = None


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


CHART_REPLICA_COUNT = 3  # the chart's replica.replicaCount (both pinned values.yaml files)
# An AOF after a rewrite is at most the dataset (RDB preamble); it grows to 2x before the next
# rewrite (auto-aof-rewrite-percentage 100), and a rewrite writes a new base beside it: 3x.
AOF_VOLUME_FACTOR = 3
_MEMORY = re.compile(r"^([0-9]+)(Ki|Mi|Gi|Ti)?$")
_MEMORY_UNITS = {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}
_CPU = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$")
MIB = 1024**2


def memory_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity in binary units (what the stack files use) as bytes."""
    found = _MEMORY.match(quantity)
    if not found:
        raise ValueError(f"{quantity!r} is not a memory quantity in Ki, Mi, Gi or Ti (e.g. '1Gi')")
    return int(found.group(1)) * _MEMORY_UNITS[found.group(2)]


def _memory(value: str) -> str:
    if memory_bytes(value) < 64 * MIB:
        raise ValueError(f"{value!r} is below 64Mi, too little for a Redis server")
    return value


def _cpu(value: str) -> str:
    if not _CPU.match(value) or value in ("0", "0m"):
        raise ValueError(f"{value!r} is not a CPU quantity (e.g. '500m' or '1')")
    return value


Memory = Annotated[StrictStr, AfterValidator(_memory)]
Cpu = Annotated[StrictStr, AfterValidator(_cpu)]
# Policies that never evict a key without a TTL, such as Omnia's global index set
# `promptkit:conversations:index` (README: Memory and eviction).
_POLICIES = ("volatile-ttl", "volatile-lru", "volatile-lfu", "noeviction")


def _maxmemory_policy(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("allkeys-"):
        raise ValueError(
            f"{value!r} can evict Omnia's index set promptkit:conversations:index, which has "
            f"no TTL; use {', '.join(_POLICIES)}"
        )
    return value


MaxmemoryPolicy = Annotated[
    Literal["volatile-ttl", "volatile-lru", "volatile-lfu", "noeviction"],
    BeforeValidator(_maxmemory_policy),
]  # a test keeps _POLICIES and the Literal in step


class ResourcesConfig(_Model):
    """Per Redis container; memory is request and limit alike (README: Sizing)."""

    memory: Memory = "1Gi"
    cpu: Cpu = "500m"  # request
    cpu_limit: Cpu | None = Field(default=None, alias="cpuLimit")


class MaxmemoryConfig(_Model):
    """`maxmemory` as a share of the memory limit, and what Redis does when it is reached."""

    percent_of_limit: StrictInt = Field(default=60, alias="percentOfLimit", ge=10, le=90)
    policy: MaxmemoryPolicy = "volatile-ttl"


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


class RedisConfig(_Model):
    namespace: DnsLabel = "redis"
    chart_version: Annotated[StrictStr, AfterValidator(_exact_version)] = Field(
        alias="chartVersion"
    )
    images: ImagesConfig | None = None
    architecture: Literal["standalone", "replication"] = "standalone"
    # HA: Sentinel failover behind a `<release>-master` Service, so the URL does not change.
    sentinel: StrictBool = False
    replicas: StrictInt | None = Field(default=None, ge=1, le=16)
    # Pulumi `protect` on what holds session data: the Redis namespace (its volumes live there).
    # Derived objects (password, Secrets, chart) stay unprotected, so rotation and upgrades run.
    protect: StrictBool = False
    # Any new value (e.g. "2026-11") generates a new password and rolls every user of it.
    password_rotation: StrictStr | None = Field(
        default=None, alias="passwordRotation", min_length=1, max_length=63
    )
    # How long `pulumi up` waits for each chart object to become ready (every object carries it
    # as `pulumi.com/timeoutSeconds`): a Sentinel rollout restarts the pods one by one.
    ready_timeout: GoDuration = Field(default="30m", alias="readyTimeout")
    # Where Helm pulls the chart from, on the machine running Pulumi: an OCI reference (a
    # mirror of Bitnami's) or a local `.tgz`, relative to the project.
    chart: Annotated[StrictStr, AfterValidator(_chart_source)] = DEFAULT_CHART
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    maxmemory: MaxmemoryConfig = Field(default_factory=MaxmemoryConfig)
    # The chart's own default: volumeClaimTemplates cannot change on a StatefulSet, so a
    # default derived from `resources.memory` would make a memory change fail `pulumi up`.
    volume_size: Memory = Field(default="8Gi", alias="volumeSize")
    failover: FailoverConfig = Field(default_factory=FailoverConfig)

    @model_validator(mode="after")
    def _topology(self) -> RedisConfig:
        if self.sentinel and self.architecture != "replication":
            raise ValueError("sentinel: true needs architecture: replication")
        if self.replicas is not None and self.architecture != "replication":
            raise ValueError("replicas needs architecture: replication")
        wanted = self.failover.min_replicas_to_write
        if wanted and wanted > self.master_replicas:
            raise ValueError(
                f"failover.minReplicasToWrite: {wanted} needs at least {wanted} replicas of the "
                f"master, and this topology has {self.master_replicas}: the master would refuse "
                "every write"
            )
        needed = AOF_VOLUME_FACTOR * self.maxmemory_bytes
        if memory_bytes(self.volume_size) < needed:
            raise ValueError(
                f"volumeSize: {self.volume_size} cannot hold the append-only file of a full "
                f"maxmemory ({AOF_VOLUME_FACTOR} x {self.maxmemory_bytes // MIB}Mi); "
                f"use at least {-(-needed // 1024**3)}Gi"
            )
        return self

    def sentinel_only_settings(self) -> list[str]:
        """Settings given that only a Sentinel deployment reads (the chart ignores the rest)."""
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
            f"omnia-agents:redis: {', '.join(given)} set, but sentinel is off: "
            "only a Sentinel deployment uses them"
        ]

    @property
    def master_replicas(self) -> int:
        """Replicas the master has: Sentinel's replicaCount counts the master among its nodes
        (the chart's one `-node` StatefulSet has `replicas: {{ .Values.replica.replicaCount }}`,
        bitnami/charts bitnami/redis/templates/sentinel/statefulset.yaml)."""
        if self.architecture == "standalone":
            return 0
        nodes = self.replicas if self.replicas is not None else CHART_REPLICA_COUNT
        return nodes - 1 if self.sentinel else nodes

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


def _no_session_in_spec(spec: dict[str, Any]) -> dict[str, Any]:
    for key in ("session", "context"):
        if key in spec:
            raise ValueError(
                f"spec.{key} is not allowed: set the agent's session (or omnia-agents:session)"
                " instead, so the block matches the operator's CRD generation"
            )
    return spec


class AgentConfig(_Model):
    name: DnsLabel
    namespace: DnsLabel = "default"
    session: SessionOverride | None = None
    spec: Annotated[dict[str, Any], AfterValidator(_no_session_in_spec)] = Field(
        default_factory=dict
    )

    def merged_session(self, default: SessionConfig) -> SessionConfig:
        """The agent's own keys win; the rest comes from the stack default."""
        own = self.session.model_dump(exclude_none=True) if self.session else {}
        return SessionConfig.model_validate({**default.model_dump(), **own})


class StackConfig(_Model):
    omnia_version: Annotated[StrictStr, AfterValidator(_omnia_version)] | None = Field(
        default=None, alias="omniaVersion"
    )
    session: SessionConfig
    redis: RedisConfig | None = None
    agents: list[AgentConfig] = Field(min_length=1)
    crd_file: StrictStr | None = Field(default=None, alias="crdFile")
    # `require`: agent namespaces must exist (read at preview, so a typo fails there);
    # `create`: the program creates them (and deletes them on destroy).
    agent_namespaces: Literal["require", "create"] = Field(
        default="require", alias="agentNamespaces"
    )
    # kubeconfig context for the program's Kubernetes provider: `kubernetes:context`, passed
    # through by load_stack_config (not an omnia-agents key).
    kube_context: StrictStr | None = Field(default=None, alias="kubernetes:context", exclude=True)

    @property
    def release(self) -> Release:
        """What the targeted Omnia release does with the session settings."""
        return release_for(self.omnia_version)

    @cached_property
    def _sessions(self) -> list[tuple[AgentConfig, SessionConfig]]:
        # Merged once: the program, the CRD check and the outputs all ask, per agent.
        return [(agent, agent.merged_session(self.session)) for agent in self.agents]

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
        found = [a.namespace for a, s in self._sessions if s.type == "redis"]
        return list(dict.fromkeys(found))

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
            longer.items(), key=lambda item: item[0][1] != "redis"
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
        if self.redis and self.redis_namespaces and not self.redis.sentinel:
            found += self.redis.sentinel_only_settings()
        return found


class Problem(NamedTuple):
    key: str
    message: str


class ConfigError(pulumi.RunError):
    """Bad stack config; RunError so `pulumi preview` prints it without a traceback."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self, source: str | None = None) -> list[str]:
        where = source or self.source
        return [f"{where}: {p.key}: {p.message}" for p in self.problems]


class CrdMismatch(pulumi.RunError):
    """AgentRuntimes the cluster's CRD would prune or reject; RunError: no traceback."""

    def __init__(self, crd_file: str, lines: list[str]) -> None:
        self.lines = lines
        super().__init__(f"AgentRuntimes do not conform to {crd_file}:\n" + "\n".join(lines))


def key_path(loc: Sequence[int | str]) -> str:
    path = f"{PROJECT}:{loc[0]}" if loc else PROJECT
    for part in loc[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = _model_of(arg)
        if found:
            return found
    return None


def _known_keys(loc: Sequence[int | str]) -> list[str]:
    model: type[BaseModel] | None = StackConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if part not in fields:
            return []
        model = _model_of(fields[part].annotation)
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items() if not f.exclude]


def _problem(error: Any, secret_keys: frozenset[str]) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        message = "unknown key" + (f" (known: {', '.join(known)})" if known else "")
    elif kind == "missing":
        message = "is required"
    elif kind == "value_error":
        message = str(error["ctx"]["error"])
    else:
        message = f"{error['msg']} (got {error['input']!r})"
    if loc and loc[0] in secret_keys:  # set with --secret: never echo the value
        message = message.replace(repr(error["input"]), "[secret]")
    return Problem(key_path(loc), message)


def _duplicates(agents: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    problems = []
    seen: dict[tuple[Any, Any], int] = {}
    for i, agent in agents:
        who = (agent.get("namespace", "default"), agent.get("name"))
        first = seen.setdefault(who, i)
        if first != i and isinstance(who[1], str):
            problems.append(
                Problem(
                    key_path(("agents", i, "name")),
                    f"duplicate agent {who[0]}/{who[1]} (first at agents[{first}])",
                )
            )
    return problems


def _foreign_facades(
    agents: list[tuple[int, dict[str, Any]]], version: str | None, release: Release
) -> list[Problem]:
    """The other release's facade key: the CRD requires this one's and prunes the other."""
    wrong = "facades" if release.facade == "facade" else "facade"
    since = first_with("context").first
    era = f"{since} or later" if wrong == "facades" else f"releases before {since}"
    return [
        Problem(
            key_path(("agents", i, "spec", wrong)),
            f"spec.{wrong} belongs to Omnia {era}, but omniaVersion {version or '(unset)'} "
            f"selects spec.{release.block}: set omnia-agents:omniaVersion to the release the "
            "cluster runs",
        )
        for i, agent in agents
        if isinstance(agent.get("spec"), dict) and wrong in agent["spec"]
    ]


def _pod_annotations(agents: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """The program adds its credentials stamp to `spec.extraPodAnnotations`: it must merge."""
    problems = []
    for i, agent in agents:
        spec = agent.get("spec")
        if not isinstance(spec, dict) or "extraPodAnnotations" not in spec:
            continue
        where = key_path(("agents", i, "spec", "extraPodAnnotations"))
        annotations = spec["extraPodAnnotations"]
        if not isinstance(annotations, dict):
            problems.append(Problem(where, "must be a mapping of annotation names to values"))
        elif CREDENTIALS_ANNOTATION in annotations:
            problems.append(
                Problem(
                    f"{where}.{CREDENTIALS_ANNOTATION}",
                    "is set by omnia-agents (a digest of the Redis credentials, so pods roll "
                    "when the password rotates): remove it",
                )
            )
    return problems


def _created_namespaces(
    raw: Mapping[str, Any], agents: list[tuple[int, dict[str, Any]]]
) -> list[Problem]:
    """`agentNamespaces: create` owns what it creates: destroy deletes it with its contents."""
    if raw.get("agentNamespaces") != "create":
        return []
    return [
        Problem(
            key_path(("agents", i, "namespace")),
            f"{namespace!r} exists in every cluster: agentNamespaces: create would take it over "
            "(and destroy would delete it); put the agent in its own namespace",
        )
        for i, agent in agents
        if (namespace := agent.get("namespace", "default")) in _CLUSTER_NAMESPACES
    ]


def _runtime_env(agents: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """`spec.runtime.extraEnv` must be mergeable, and must not set the Redis URL itself."""
    problems = []
    for i, agent in agents:
        spec = agent.get("spec")
        runtime = spec.get("runtime") if isinstance(spec, dict) else None
        where: tuple[int | str, ...] = ("agents", i, "spec", "runtime")
        if runtime is None:
            continue
        if not isinstance(runtime, dict):
            problems.append(Problem(key_path(where), "must be a mapping (AgentRuntime runtime)"))
            continue
        env = runtime.get("extraEnv")
        if env is None:
            continue
        if not isinstance(env, list):
            problems.append(
                Problem(key_path((*where, "extraEnv")), "must be a list of {name, value}")
            )
            continue
        for j, entry in enumerate(env):
            name = entry.get("name") if isinstance(entry, dict) else None
            if name in URL_ENV_NAMES:
                problems.append(
                    Problem(
                        key_path((*where, "extraEnv", j, "name")),
                        f"{name} is the Redis URL the runtime reads: the operator (or this "
                        "program, on releases whose operator does not) sets it from the "
                        "redis-credentials Secret; remove it and set the agent's session instead",
                    )
                )
    return problems


def _cross_checks(raw: Mapping[str, Any]) -> list[Problem]:
    """Checks across keys, on the raw values so they are reported with every other problem."""
    agents = [(i, a) for i, a in enumerate(raw.get("agents") or []) if isinstance(a, dict)]
    problems = _duplicates(agents) + _runtime_env(agents) + _pod_annotations(agents)
    problems += _created_namespaces(raw, agents)
    version = raw.get("omniaVersion")
    version = version if isinstance(version, str) else None
    with contextlib.suppress(ValueError):  # a bad omniaVersion is reported by the model
        problems += _foreign_facades(agents, version, release_for(version))
    default = raw.get("session")
    default_type = default.get("type") if isinstance(default, dict) else None
    uses_redis = any(
        ((a.get("session") or {}).get("type") or default_type) == "redis"
        for _, a in agents
        if isinstance(a.get("session") or {}, dict)
    )
    if uses_redis and "omniaVersion" not in raw:
        ignoring = ", ".join(f"{r.first}..{r.last}" for r in RELEASES if r.url_wiring != "operator")
        problems.append(
            Problem(
                key_path(("omniaVersion",)),
                "is required when an agent uses redis sessions: Omnia releases differ in how "
                f"the Redis URL reaches the agent ({ignoring} ignore storeRef and need it as "
                f"runtime env), so set the release the cluster runs (e.g. '{NEWEST_KNOWN}')",
            )
        )
    if "redis" not in raw and uses_redis:
        problems.append(
            Problem(
                key_path(("redis",)),
                "is required when an agent uses redis sessions (set at least chartVersion)",
            )
        )
    return problems


def parse_config(
    raw: Mapping[str, Any],
    source: str,
    secret_keys: frozenset[str] = frozenset(),
    kube_context: str | None = None,
) -> StackConfig:
    """Validate omnia-agents:* keys (prefix removed); raise ConfigError listing every problem.

    `secret_keys`: keys set with `--secret`. They are refused: nothing here is a secret, and the
    program writes these values in clear into resource inputs and stack outputs. Messages
    never repeat their values. `kube_context`: the context the program's own Kubernetes
    provider uses (`kubernetes:context`, or the package's `kubeContext`).
    """
    problems = [
        Problem(
            key_path((key,)),
            "is set as a secret, but its value would be written in clear into resources and "
            "outputs: omnia-agents settings hold no secrets; set it without --secret",
        )
        for key in sorted(secret_keys)
    ]
    config = None
    try:
        config = StackConfig.model_validate(dict(raw))
    except ValidationError as err:
        problems += [_problem(e, secret_keys) for e in err.errors()]
    problems += _cross_checks(raw)
    if problems or config is None:
        raise ConfigError(source, problems)
    return config.model_copy(update={"kube_context": kube_context}) if kube_context else config


def parse_redis(raw: Mapping[str, Any], source: str) -> RedisConfig:
    """A `redis` block on its own (the package's RedisSessionStore): keys as in a stack file."""
    try:
        return RedisConfig.model_validate(dict(raw))
    except ValidationError as err:
        errors = [{**e, "loc": ("redis", *e["loc"])} for e in err.errors()]
        raise ConfigError(source, [_problem(e, frozenset()) for e in errors]) from None


def _decode(text: str) -> Any:
    """Pulumi hands structured values over as JSON text and plain strings as they are."""
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def stack_file() -> str:
    """The running stack's config file, as error messages name it."""
    return f"{STACK_CONFIG_DIR}/Pulumi.{pulumi.get_stack()}.yaml"


def load_stack_config() -> StackConfig:
    """Read this stack's omnia-agents:* config (every key, so typos are caught), and the
    `kubernetes:context` the program's own Kubernetes provider must use."""
    source = stack_file()
    prefix = f"{PROJECT}:"
    every = {*CONFIG.get(), *get_config_env()}
    keys = {k for k in every if k.startswith(prefix)}
    secret = set(get_config_secret_keys_env())
    config = pulumi.Config(PROJECT)
    raw = {}
    for key in sorted(keys):
        name = key.removeprefix(prefix)
        text = config.get(name)
        if text is not None:
            raw[name] = _decode(text)
    hidden = frozenset(k.removeprefix(prefix) for k in keys if k in secret or is_config_secret(k))
    # An explicit provider does not read `kubernetes:*` stack config itself: pass it through,
    # and say which other provider settings the cluster will not see.
    ignored = sorted(k for k in every if k.startswith("kubernetes:") and k != "kubernetes:context")
    if ignored:
        pulumi.log.warn(
            f"{source}: {', '.join(ignored)} not used: the program's own "
            "Kubernetes provider reads only kubernetes:context"
        )
    return parse_config(raw, source, hidden, pulumi.Config("kubernetes").get("context"))
