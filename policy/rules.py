"""Session rules for any stack's AgentRuntimes, drawn from the project's own modules.

Pure functions over resource properties, as pulumi-policy hands them over (secrets unwrapped,
unknowns raising when read). The knowledge they apply is the project's own: the session
model (type, Go TTL, postgres refused, `settings`), the credentials Secret's key and the release
table (`upstream`); and, for production Redis, what the Bitnami chart renders (its templates,
cited below) and whom a NetworkPolicy admits (`upstream.network_policy`).
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
from upstream import network_policy as netpol
from upstream.agent_runtime import CREDENTIALS_SECRET, URL_KEY
from upstream.kubernetes import DEFAULT_NAMESPACE
from upstream.omnia_releases import SESSION_FIELDS as BLOCKS
from upstream.omnia_releases import SessionType, history_kept, release_for
from upstream.redis_chart import AUTH_SECRET_KEY, PORT, SENTINEL_PORT, Architecture
from upstream.redis_volumes import CHART_NAME, NAME_LABEL

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
NETWORK_POLICY = kubernetes.type_token("networking.k8s.io/v1", "NetworkPolicy")
# The Helm resources whose values reach a pack. A Chart v4 never does: pulumi-kubernetes'
# Construct registers it with no properties (provider/pkg/provider/helm/v4/chart.go
# `Construct` -> the Go SDK's RegisterComponentResource, `nil /*props*/`; pulumi-kubernetes @
# 94977969d6, pulumi/pulumi @ 1b5949891b sdk/go/pulumi/context.go). A v3 Release is a custom
# resource, its values its inputs. A v3 Chart is a component of the SDK: the Node.js SDK sends
# its ChartOpts (pulumi sdk/nodejs/resource.ts ComponentResource passes `args`), Python
# (`__props__ = dict()`), Go (RegisterComponentResource) and .NET send none. What the engine
# analyzes of every chart are the objects it renders: the `redis_*` rules below judge those.
HELM_VALUES = tuple(kubernetes.type_token("helm.sh/v3", kind) for kind in ("Chart", "Release"))
PRODUCTION_STACKS = ("prod*",)
# go-redis v9 ParseURL's schemes (../shared/omnia-releases.md: redis, rediss, unix).
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class Resource:
    """What a stack rule needs of one resource."""

    type: str
    props: Mapping[str, Any]
    secret_outputs: Sequence[str] = ()
    urn: str = ""


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
        and values.get("architecture") in tuple(Architecture)
        and "auth" in values
    )


def _chart_ports(values: Mapping[str, Any]) -> list[netpol.ContainerPort]:
    """The Redis and Sentinel ports the chart's containers get (values.yaml's, unless set)."""
    found = []
    for role, key, name, default in (
        ("master", "redis", "redis", PORT),
        ("sentinel", "sentinel", "redis-sentinel", SENTINEL_PORT),
    ):
        section = values.get(role)
        ports = section.get("containerPorts") if isinstance(section, Mapping) else None
        number = ports.get(key, default) if isinstance(ports, Mapping) else default
        found.append(netpol.ContainerPort(int(number), name))
    return found


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
    ports = _chart_ports(values)
    for i, rule in enumerate(network.get("extraIngress") or []):
        reason = netpol.open_to_all(rule) if isinstance(rule, Mapping) else None
        if reason and netpol.ports_admitted(rule, ports):
            problems.append(
                f"values.networkPolicy.extraIngress[{i}] admits {reason}: Redis is open to "
                "the cluster"
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
    ttl = block.get("ttl", SessionConfig.model_fields["ttl"].default)
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


_UNWATCHED = (
    "nobody sees this Redis reach maxmemory, evict sessions, refuse writes or lose its "
    "replicas; set omnia-agents:redis.metrics {enabled: true, serviceMonitor: true, "
    "prometheusRule: true}"
)


def metrics_advisories(props: Mapping[str, Any]) -> list[str]:
    """A production Redis someone watches: the exporter on, and the program's alert rules
    (docs/monitoring.md). Advisory: a cluster without the Prometheus operator cannot."""
    values = props.get("values") or {}
    metrics = values.get("metrics") or {}
    if metrics.get("enabled") is not True:
        return [f"values.metrics.enabled is not true: {_UNWATCHED}"]
    if (metrics.get("prometheusRule") or {}).get("enabled") is not True:
        return [
            "values.metrics.prometheusRule.enabled is not true: no alert fires when this Redis "
            "loses sessions; set omnia-agents:redis.metrics.prometheusRule: true"
        ]
    return []


# ---- Bitnami Redis as its chart renders it (any source) ---------------------------------------
# Read in bitnami/charts bitnami/redis at 22.0.5 (338d02f510) and 23.1.1 (e3296a8314), the
# packaged charts of ../shared/bitnami-redis; the templates named below say the same in both.
# Every object carries bitnami/common's `common.labels.standard` (_labels.tpl):
# `helm.sh/chart: <Chart.Name>-<Chart.Version>`, `app.kubernetes.io/name: <Chart.Name, or
# nameOverride>`, `app.kubernetes.io/managed-by: <Release.Service>` (Helm).
CHART_LABEL = "helm.sh/chart"
MANAGED_LABEL = ("app.kubernetes.io/managed-by", "Helm")
_CHART_LABEL_VALUE = re.compile(rf"^{CHART_NAME}-[0-9]")
# master/application.yaml, replicas/application.yaml, sentinel/statefulset.yaml: the Redis
# server's container is `redis`, Sentinel's `sentinel`; their ports are the data's.
REDIS_CONTAINERS = ("redis", "sentinel")
# How those templates hand the password to a container (with auth.enabled): a file from the
# password Secret or a secretKeyRef. Without auth they set ALLOW_EMPTY_PASSWORD "yes" instead.
PASSWORD_ENV = ("REDIS_PASSWORD", "REDIS_PASSWORD_FILE")
EMPTY_PASSWORD_ENV = "ALLOW_EMPTY_PASSWORD"
# secret.yaml: the chart's own password Secret, its one key (the program's redis-auth has it too).
CHART_PASSWORD_KEY = AUTH_SECRET_KEY
# redis.conf / sentinel.conf directives that take a password, and ACL `user` rules with a
# clear `>password` (redis.io ACL docs; `#<sha256>` is the hashed form).
_CONF_PASSWORD = re.compile(
    r"^\s*(requirepass|masterauth|sentinel\s+auth-pass\s+\S+|sentinel\s+sentinel-pass)\s+\S",
    re.IGNORECASE,
)
_ACL_CLEAR = re.compile(r"^\s*user\s+\S+\s.*(^|\s)>\S", re.IGNORECASE)


def is_redis_object(obj: Mapping[str, Any]) -> bool:
    """An object the Bitnami Redis chart rendered, by its labels: whatever the chart's source
    (OCI, a repository, a local .tgz, a vendored copy) or the resource that rendered it (Chart
    v4 or v3, a Release's manifest applied as YAML)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    chart = labels.get(CHART_LABEL)
    if isinstance(chart, str) and _CHART_LABEL_VALUE.match(chart):
        return True
    return labels.get(NAME_LABEL) == CHART_NAME and labels.get(MANAGED_LABEL[0]) == MANAGED_LABEL[1]


def _where(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')} {meta.get('namespace', DEFAULT_NAMESPACE)}/{meta.get('name')}"


def _pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    template = (obj.get("spec") or {}).get("template")
    spec = template.get("spec") if isinstance(template, Mapping) else None
    return spec if isinstance(spec, Mapping) and "containers" in spec else None


def _containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return [c for c in found if isinstance(c, Mapping)]


def password_secret_problems(obj: Mapping[str, Any]) -> list[str]:
    """The chart's own password Secret: templates/secret.yaml renders it (key `redis-password`)
    only with auth.enabled and no auth.existingSecret; its password is then auth.password or
    global.redis.password from the values, in clear in the program, or one the chart makes up
    (`redis.password` -> common.secrets.passwords.manage: randAlphaNum 10, again at every
    render whose `lookup` cannot read the live Secret, as at a preview before it exists)."""
    if obj.get("kind") != "Secret" or not is_redis_object(obj):
        return []
    keys = {*(obj.get("data") or {}), *(obj.get("stringData") or {})}
    if CHART_PASSWORD_KEY not in keys:
        return []
    return [
        f"{_where(obj)} is the chart's own password Secret (secret.yaml, key "
        f"{CHART_PASSWORD_KEY}): its password comes from the values (auth.password or "
        "global.redis.password, in clear in the program) or is made up by the chart at render; "
        "give the chart auth.existingSecret, a Secret the stack makes from a generated password"
    ]


def _env(container: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """A container's env by name: the kubelet keeps the last of duplicate names
    (kubernetes pkg/kubelet/kubelet_pods.go `makeEnvironmentVariables` fills a map in order)."""
    return {str(e.get("name")): e for e in container.get("env") or [] if isinstance(e, Mapping)}


def _clear_password_env(name: str, entry: Mapping[str, Any]) -> bool:
    if name == EMPTY_PASSWORD_ENV or not (name.endswith("PASSWORD") or name == "REDISCLI_AUTH"):
        return False
    value = entry.get("value")
    return isinstance(value, str) and value != ""


def redis_auth_problems(obj: Mapping[str, Any]) -> list[str]:
    """A Redis workload's containers: the server and Sentinel without a password (auth.enabled
    false: master/application.yaml, replicas/application.yaml and sentinel/statefulset.yaml
    then render ALLOW_EMPTY_PASSWORD "yes" and neither REDIS_PASSWORD nor REDIS_PASSWORD_FILE,
    and scripts-configmap.yaml no `--requirepass`), and a password written into any
    container's env as a literal `value` (extraEnvVars): the pod spec is readable to whoever may
    read the workload, and the state keeps it unencrypted."""
    spec = _pod_spec(obj)
    if spec is None or not is_redis_object(obj):
        return []
    problems = []
    open_ = []
    for container in _containers(spec):
        env = _env(container)
        if container.get("name") in REDIS_CONTAINERS and not any(n in env for n in PASSWORD_ENV):
            empty = env.get(EMPTY_PASSWORD_ENV, {}).get("value")
            shown = f" ({EMPTY_PASSWORD_ENV}={empty})" if empty is not None else ""
            open_.append(f"{container.get('name')}{shown}")
        # Every entry, not only the one the kubelet keeps: a literal is in the spec either way.
        for entry in container.get("env") or []:
            name = str(entry.get("name")) if isinstance(entry, Mapping) else ""
            if name and _clear_password_env(name, entry):
                problems.append(
                    f"{_where(obj)}: container {container.get('name')} env {name} holds a "
                    "password in clear (a literal `value`): whoever may read the workload reads "
                    "it, and the state keeps it unencrypted; use valueFrom.secretKeyRef"
                )
    if open_:
        problems.insert(
            0,
            f"{_where(obj)}: {', '.join(open_)} start without a password (no "
            f"{' or '.join(PASSWORD_ENV)}: the chart's auth.enabled is false): anyone who "
            "reaches Redis reads every session",
        )
    return problems


def redis_config_problems(obj: Mapping[str, Any]) -> list[str]:
    """Passwords in clear in the chart's rendered config files (configmap.yaml: redis.conf from
    commonConfiguration, master/replica configuration, sentinel.conf with auth.acl users'
    `sentinel sentinel-pass`): a ConfigMap is readable to whoever may read ConfigMaps in the
    namespace, and the state keeps it unencrypted."""
    if obj.get("kind") != "ConfigMap" or not is_redis_object(obj):
        return []
    problems = []
    for key, text in sorted((obj.get("data") or {}).items()):
        if not isinstance(text, str) or not key.endswith((".conf", ".acl")):
            continue
        for line in text.splitlines():
            found = _CONF_PASSWORD.match(line)
            if found or _ACL_CLEAR.match(line):
                directive = " ".join(found.group(1).split()[:2]) if found else "user ... >"
                problems.append(
                    f"{_where(obj)} {key}: `{directive}` holds a password in clear: whoever may "
                    "read ConfigMaps there reads it, and the state keeps it unencrypted"
                )
    return problems


def rendered_redis_problems(obj: Mapping[str, Any]) -> list[str]:
    """Every password rule above on one rendered object."""
    return [
        *password_secret_problems(obj),
        *redis_auth_problems(obj),
        *redis_config_problems(obj),
    ]


@dataclass(frozen=True)
class _RedisPods:
    where: str
    urn: str
    namespace: str
    labels: Mapping[str, Any]
    ports: list[netpol.ContainerPort]


def _redis_pods(resources: Sequence[Resource]) -> list[_RedisPods]:
    found = []
    for r in resources:
        spec = _pod_spec(r.props)
        if spec is None or not is_redis_object(r.props):
            continue
        ports = [
            port
            for c in _containers(spec)
            if c.get("name") in REDIS_CONTAINERS
            for port in netpol.container_ports(c)
        ]
        if not ports:
            continue
        meta = r.props.get("metadata") or {}
        template = (r.props.get("spec") or {}).get("template") or {}
        found.append(
            _RedisPods(
                _where(r.props),
                r.urn,
                str(meta.get("namespace", DEFAULT_NAMESPACE)),
                (template.get("metadata") or {}).get("labels") or {},
                ports,
            )
        )
    return found


def redis_network_problems(resources: Sequence[Resource]) -> list[tuple[str, str]]:
    """(urn, message): Redis pods no NetworkPolicy isolates, and ingress rules that open their
    Redis or Sentinel port to every source. The chart's networkpolicy.yaml renders one policy
    for its pods unless networkPolicy.enabled is false; its first ingress rule has no `from`
    unless networkPolicy.allowExternal is false, and networkPolicy.extraIngress is appended
    as given. Any other NetworkPolicy of the stack that selects the pods counts too (rules of
    all the policies selecting a pod add up)."""
    policies = [
        r for r in resources if r.props.get("kind") == "NetworkPolicy" and r.props.get("spec")
    ]
    problems: list[tuple[str, str]] = []
    opened: dict[tuple[str, int], tuple[Resource, int, str, list[str]]] = {}
    for pods in _redis_pods(resources):
        isolating = []
        for policy in policies:
            meta = policy.props.get("metadata") or {}
            spec = policy.props["spec"]
            if (
                str(meta.get("namespace", DEFAULT_NAMESPACE)) == pods.namespace
                and netpol.isolates_ingress(spec)
                and netpol.selects(spec.get("podSelector"), pods.labels)
            ):
                isolating.append(policy)
        if not isolating:
            problems.append(
                (
                    pods.urn,
                    f"{pods.where}: no NetworkPolicy of the stack selects its pods in "
                    f"{pods.namespace}: every pod of the cluster reaches Redis (the chart "
                    "renders one unless networkPolicy.enabled is false)",
                )
            )
            continue
        for policy in isolating:
            for i, rule in enumerate(policy.props["spec"].get("ingress") or []):
                if not isinstance(rule, Mapping):
                    continue
                reason = netpol.open_to_all(rule)
                ports = netpol.ports_admitted(rule, pods.ports) if reason else []
                if reason and ports:
                    hits = opened.setdefault((policy.urn, i), (policy, i, reason, []))[3]
                    numbers = ", ".join(map(str, ports))
                    hits.append(f"{pods.where} port{'s' if len(ports) > 1 else ''} {numbers}")
    for policy, index, reason, hits in opened.values():
        hint = (
            " (the chart: networkPolicy.allowExternal not false, or an open "
            "networkPolicy.extraIngress)"
            if is_redis_object(policy.props)
            else ""
        )
        problems.append(
            (
                policy.urn,
                f"{_where(policy.props)} spec.ingress[{index}] opens {'; '.join(hits)} to "
                f"{reason}: Redis is open to the cluster, its password the only guard{hint}",
            )
        )
    return problems


# master/application.yaml, replicas/application.yaml, sentinel/statefulset.yaml: the exporter
# sidecar, rendered with metrics.enabled only.
EXPORTER_CONTAINER = "metrics"


def rendered_metrics_advisories(obj: Mapping[str, Any]) -> list[str]:
    """A Redis workload the chart renders without its exporter sidecar."""
    spec = _pod_spec(obj)
    if spec is None or not is_redis_object(obj):
        return []
    names = {c.get("name") for c in _containers(spec)}
    if not names & set(REDIS_CONTAINERS) or EXPORTER_CONTAINER in names:
        return []
    return [
        f"{_where(obj)}: no `{EXPORTER_CONTAINER}` exporter container (the chart's "
        f"metrics.enabled is not true): {_UNWATCHED}"
    ]
