"""Session rules for any stack's AgentRuntimes, drawn from the project's own modules.

Pure functions over resource properties, as pulumi-policy hands them over (secrets unwrapped,
unknowns raising when read). The knowledge they apply is the project's own: the session
model (type, Go TTL, postgres refused, `settings`), the credentials Secret's key and the release
table (`upstream`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from settings.fields import mask_credentials
from settings.models import SessionConfig
from upstream import agent_runtime, kubernetes
from upstream.agent_runtime import CREDENTIALS_SECRET, URL_KEY
from upstream.kubernetes import DEFAULT_NAMESPACE
from upstream.omnia_releases import SESSION_FIELDS as BLOCKS
from upstream.omnia_releases import SessionType, history_kept, release_for

_BLOCK_KEYS = ("type", "ttl", "storeRef")

# The types the pack judges (pack.py reads them here).
AGENT_RUNTIME = agent_runtime.TYPE
# Every apiVersion of the kind, and its server-side-apply patch (pulumi-kubernetes names a
# CustomResourcePatch `<Kind>Patch`): all carry a session block the operator reads.
_AGENT_TYPES = re.compile(
    rf"^kubernetes:{re.escape(agent_runtime.API_VERSION.split('/')[0])}/[^:]+:"
    rf"{agent_runtime.KIND}(Patch)?$"
)


def is_agent_runtime(resource_type: str) -> bool:
    return bool(_AGENT_TYPES.match(resource_type))


SECRET = kubernetes.SECRET
HELM = (kubernetes.HELM_CHART_V4, "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v3:Release")
PRODUCTION_STACKS = ("prod*",)
# go-redis v9 ParseURL's schemes (../shared/omnia-releases.md: redis, rediss, unix).
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# Bitnami's chart under any source: OCI or repo name, or a packaged `redis-<version>.tgz`.
_REDIS_CHART = re.compile(r"(^|/)redis(-[0-9][^/]*\.tgz)?$")


@dataclass(frozen=True)
class Resource:
    """What a stack rule needs of one resource."""

    type: str
    props: Mapping[str, Any]
    secret_outputs: Sequence[str] = ()


def stack_of(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::...`: the stack a resource belongs to."""
    return urn.split("::", 1)[0].split(":", 2)[2]


def is_production(stack: str, patterns: Iterable[str] | None = None) -> bool:
    return any(fnmatch.fnmatchcase(stack, p) for p in (patterns or PRODUCTION_STACKS))


def session_block(spec: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any] | None]:
    """The block the spec carries and its key; (None, None) when it has none."""
    for key in BLOCKS:
        if key in spec:
            return key, spec[key]
    return None, None


def block_problems(spec: Mapping[str, Any]) -> list[str]:
    """What the operator would not accept, or would silently treat otherwise."""
    present = [key for key in BLOCKS if key in spec]
    if len(present) == 2:
        return [
            "spec.session and spec.context together: each release reads one of them and the "
            "API server prunes the other, so one set of settings is silently lost"
        ]
    key, block = session_block(spec)
    if key is None or block is None:
        return []
    if not isinstance(block, Mapping):
        return [f"spec.{key} must be a mapping"]
    problems = []
    try:
        # The same model stack files go through: type memory|redis, a positive Go duration.
        SessionConfig.model_validate({k: block[k] for k in ("type", "ttl") if k in block})
    except ValidationError as err:
        for error in err.errors():
            field = ".".join(str(p) for p in error["loc"])
            detail = error["ctx"]["error"] if error["type"] == "value_error" else error["msg"]
            problems.append(f"spec.{key}.{field}: {detail}")
    extra = sorted(str(k) for k in block if k not in _BLOCK_KEYS)
    if extra:
        problems.append(
            f"spec.{key}: unknown keys {', '.join(extra)} (the CRD has only type, ttl and "
            "storeRef; the API server prunes the rest)"
        )
    ref = block.get("storeRef")
    if isinstance(ref, Mapping) and "name" in ref:
        name = ref["name"]
        if not isinstance(name, str) or not kubernetes.is_dns_subdomain(name):
            problems.append(
                f"spec.{key}.storeRef.name: {mask_credentials(repr(name))} is not a Secret name "
                "(a DNS-1123 subdomain: Kubernetes ValidateSecretName); the operator reads no "
                "Secret"
            )
    if ref is not None and (not isinstance(ref, Mapping) or set(ref) != {"name"}):
        problems.append(
            f"spec.{key}.storeRef: only `name` (a Secret in the agent's namespace, key "
            f"`{URL_KEY}`): the CRD has no other field and the API server prunes the rest"
        )
    if block.get("type") == SessionType.REDIS and ref is None:
        problems.append(
            f"spec.{key}.storeRef: required for redis sessions (name of a Secret with key "
            f"`{URL_KEY}`, e.g. {CREDENTIALS_SECRET})"
        )
    return problems


def memory_problems(agent: Mapping[str, Any], exceptions: Iterable[str] | None = None) -> list[str]:
    """Production stacks keep sessions in a store; memory loses them with every pod.

    `exceptions`: `namespace/name` patterns (fnmatch) of agents that need no sessions.
    """
    meta = agent.get("metadata") or {}
    who = f"{meta.get('namespace', DEFAULT_NAMESPACE)}/{meta.get('name')}"
    if any(fnmatch.fnmatchcase(who, p) for p in exceptions or ()):
        return []
    key, block = session_block(agent.get("spec") or {})
    kind = block.get("type") if isinstance(block, Mapping) else None
    if kind == SessionType.REDIS:
        return []
    where = f"spec.{key}.type is {kind!r}" if key else "no session block (memory by default)"
    return [f"{where}: production agents must keep sessions in redis"]


def is_redis_chart(props: Mapping[str, Any]) -> bool:
    """Bitnami Redis under any source: its name in the reference (OCI path, repo name, a
    packaged `redis-<version>.tgz`, a tag or digest after it), or values only its chart has."""
    chart = props.get("chart")
    if isinstance(chart, str):
        base = chart.rstrip("/").rsplit("/", 1)[-1]
        base = re.split(r"[:@]", base.removesuffix(".tgz"), maxsplit=1)[0]
        if "redis" in base.lower():
            return True
    values = props.get("values")
    return (
        isinstance(values, Mapping)
        and values.get("architecture")
        in (
            "standalone",
            "replication",
        )
        and "auth" in values
    )


def chart_problems(props: Mapping[str, Any]) -> list[str]:
    """Bitnami Redis values for production: no clear-text password, a closed NetworkPolicy."""
    values = props.get("values") or {}
    auth = values.get("auth") or {}
    network = values.get("networkPolicy") or {}
    problems = []
    if auth.get("enabled") is False:
        problems.append(
            "values.auth.enabled is false: anyone who reaches Redis reads every session"
        )
    if auth.get("password"):
        problems.append(
            "values.auth.password is set in clear: it lands in state and in the Helm release; "
            "use auth.existingSecret"
        )
    glob = values.get("global") or {}
    redis_globals = glob.get("redis") if isinstance(glob, Mapping) else None
    if isinstance(redis_globals, Mapping) and redis_globals.get("password"):
        # values.yaml: "global.redis.password ... overrides auth.password".
        problems.append(
            "values.global.redis.password is set in clear (it overrides auth.password): it "
            "lands in state and in the Helm release; use auth.existingSecret"
        )
    for i, rule in enumerate(network.get("extraIngress") or []):
        sources = rule.get("from") if isinstance(rule, Mapping) else None
        if not sources or any(
            isinstance(s, Mapping) and not any(s.get(k) for k in s) for s in sources
        ):
            problems.append(
                f"values.networkPolicy.extraIngress[{i}] admits every pod (no `from`, or an "
                "empty selector): Redis is open to the cluster"
            )
    # The chart's defaults (22.0.5, 23.1.1): enabled true, allowExternal true (open to all).
    if network.get("enabled") is False:
        problems.append("values.networkPolicy.enabled is false: every pod can reach Redis")
    elif network.get("allowExternal", True) is not False:
        problems.append(
            "values.networkPolicy.allowExternal is not false: the NetworkPolicy admits every pod"
        )
    return problems


def credentials_problems(agents: Sequence[Resource], secrets: Sequence[Resource]) -> list[str]:
    """Each redis agent's Secret, when this stack makes it: key `url`, held as a secret."""
    by_name: dict[tuple[Any, Any], Resource] = {}
    for made in secrets:
        meta = made.props.get("metadata") or {}
        by_name[(meta.get("namespace", DEFAULT_NAMESPACE), meta.get("name"))] = made
    problems = []
    for agent in agents:
        _, block = session_block(agent.props.get("spec") or {})
        if not isinstance(block, Mapping) or block.get("type") != SessionType.REDIS:
            continue
        ref = block.get("storeRef")
        if not isinstance(ref, Mapping):
            continue
        meta = agent.props.get("metadata") or {}
        namespace = meta.get("namespace", DEFAULT_NAMESPACE)
        who = f"{namespace}/{meta.get('name')}"
        secret = by_name.get((namespace, ref.get("name")))
        if secret is None:
            elsewhere = sorted(ns for ns, name in by_name if name == ref.get("name"))
            if elsewhere:
                # A SecretKeyRef (and the operator's storeRef) reads the agent's namespace only.
                problems.append(
                    f"{who}: Secret {ref.get('name')} is made in {', '.join(map(str, elsewhere))}, "
                    f"not in {namespace}: a storeRef reads the agent's own namespace"
                )
            continue  # made elsewhere: nothing here to judge
        held = [p for p in ("stringData", "data") if URL_KEY in (secret.props.get(p) or {})]
        url = (secret.props.get("stringData") or {}).get(URL_KEY)
        if isinstance(url, str) and not url.startswith(_REDIS_SCHEMES):
            problems.append(
                f"{who}: Secret {namespace}/{ref.get('name')} `{URL_KEY}` is not a Redis URL "
                f"({', '.join(_REDIS_SCHEMES)}: go-redis ParseURL refuses the rest)"
            )
        if not held:
            problems.append(
                f"{who}: Secret {namespace}/{ref.get('name')} has no key `{URL_KEY}`, the only "
                "key the operator reads"
            )
        elif not all(p in secret.secret_outputs for p in held):
            problems.append(
                f"{who}: Secret {namespace}/{ref.get('name')} holds `{URL_KEY}` outside Pulumi "
                "secrets: the password would be stored in clear in the state"
            )
    return problems


def ttl_advisories(spec: Mapping[str, Any], omnia_version: str) -> list[str]:
    """TTLs longer than the history the targeted release keeps."""
    _, block = session_block(spec)
    if not isinstance(block, Mapping) or block.get("type") not in list(SessionType):
        return []
    ttl = block.get("ttl", "24h")
    try:
        period = history_kept(release_for(omnia_version), block["type"], ttl)
    except ValueError:
        return []  # a bad ttl is the mandatory policy's to report
    if period is None:
        return []
    return [
        f"omnia {omnia_version} keeps session history {period} ({block['type']}), shorter than "
        f"ttl {ttl}: clients can resume sessions whose history is gone"
    ]


def release_problems(spec: Mapping[str, Any], omnia_version: str) -> list[str]:
    """What the targeted release does with the block: the other release's key is pruned (the
    agent then runs on memory), and beta.1-beta.16 need the Redis URL as runtime env."""
    key, block = session_block(spec)
    if key is None or not isinstance(block, Mapping):
        return []
    try:
        release = release_for(omnia_version)
    except ValueError:
        return []
    if key != release.block:
        return [
            f"spec.{key}: omnia {omnia_version} reads spec.{release.block}; the API server "
            f"prunes spec.{key} and the agent runs on memory sessions"
        ]
    if block.get("type") != SessionType.REDIS or release.url_wiring != "extra_env":
        return []
    runtime = spec.get("runtime")
    env = runtime.get("extraEnv") if isinstance(runtime, Mapping) else None
    names = {e.get("name") for e in env or [] if isinstance(e, Mapping)}
    if release.runtime_url_env in names:
        return []
    return [
        f"spec.runtime.extraEnv: no {release.runtime_url_env}: omnia {omnia_version} ignores "
        "storeRef and the runtime exits without the Redis URL"
    ]


def metrics_advisories(props: Mapping[str, Any]) -> list[str]:
    """A production Redis someone watches: the exporter on, and the program's alert rules
    (docs/monitoring.md). Advisory: a cluster without the Prometheus operator cannot."""
    values = props.get("values") or {}
    metrics = values.get("metrics") or {}
    if metrics.get("enabled") is not True:
        return [
            "values.metrics.enabled is not true: nobody sees this Redis reach maxmemory, evict "
            "sessions, refuse writes or lose its replicas; set omnia-agents:redis.metrics "
            "{enabled: true, serviceMonitor: true, prometheusRule: true}"
        ]
    if (metrics.get("prometheusRule") or {}).get("enabled") is not True:
        return [
            "values.metrics.prometheusRule.enabled is not true: no alert fires when this Redis "
            "loses sessions; set omnia-agents:redis.metrics.prometheusRule: true"
        ]
    return []
