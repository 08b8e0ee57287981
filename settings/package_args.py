"""The component package's args: the stack-file keys in the SDK's snake_case, judged by the
very models stack files go through.

The SDK infers the package schema from these TypedDicts (field docstrings become descriptions)
and from the enums they name; it cannot express `Literal`, `Annotated` or unions, hence no
`from __future__ import annotations` here (it reads evaluated annotations). Errors name the arg
path (`agents[1].name`), never a stack file.
"""

import math
from collections.abc import Mapping
from enum import Enum
from typing import Any, NotRequired, TypedDict, get_args, get_origin

import pulumi
from pulumi import Output
from pulumi.errors import InputPropertiesError
from pulumi.output import Unknown
from pulumi.provider.experimental.util import camel_case

from settings.checks import leaves
from settings.errors import ConfigError, Problem, key_path
from settings.fields import AgentNamespaces
from settings.loader import parse_config, parse_redis
from settings.models import RedisConfig, StackConfig
from settings.project import PROJECT
from upstream.omnia_releases import SessionType
from upstream.redis_chart import Architecture, MaxmemoryPolicy


class SessionArgs(TypedDict):
    type: SessionType
    """memory or redis."""
    ttl: NotRequired[str]
    """Inactivity expiry, a Go duration (`30m`, `24h`, `168h`; no `d`). Default 24h."""
    store: NotRequired[str]
    """The store redis agents use (a key of `stores`); default: the only one, or `default`."""


class SessionOverrideArgs(TypedDict, total=False):
    type: SessionType
    """Overrides the default session type for this agent."""
    ttl: str
    """Overrides the default TTL for this agent (a Go duration)."""
    store: str
    """Overrides the default store for this agent (a key of `stores`)."""


class ImageArgs(TypedDict, total=False):
    registry: str
    """Image registry, e.g. docker.io."""
    repository: str
    """Image repository, e.g. bitnamilegacy/redis."""
    tag: str
    """Image tag."""


class ImagesArgs(TypedDict, total=False):
    redis: ImageArgs
    """The Redis image."""
    sentinel: ImageArgs
    """The Sentinel image (Sentinel mode only)."""
    kubectl: ImageArgs
    """The kubectl image that relabels the master (Sentinel mode only)."""
    exporter: ImageArgs
    """The metrics sidecar's image (with metrics.enabled; tag: the chart's)."""


class ResourcesArgs(TypedDict, total=False):
    memory: str
    """Memory request and limit of each Redis container (e.g. 1Gi); maxmemory follows it."""
    cpu: str
    """CPU request of each Redis container (e.g. 500m)."""
    cpu_limit: str
    """CPU limit (none by default)."""


class MaxmemoryArgs(TypedDict, total=False):
    percent_of_limit: int
    """maxmemory as a percentage of the memory limit (10-90, default 60)."""
    policy: MaxmemoryPolicy
    """What Redis does when maxmemory is reached."""


class FailoverArgs(TypedDict, total=False):
    down_after_milliseconds: int
    """Sentinel: how long a master may be silent before failover (default 5000)."""
    failover_timeout: int
    """Sentinel: the retry delay after a failed election is twice this (default 20000)."""
    min_replicas_to_write: int
    """The master refuses writes with fewer in-sync replicas (default 1 with Sentinel)."""
    min_replicas_max_lag: int
    """Seconds a replica may lag and still count as in sync (default 10)."""


class MetricsArgs(TypedDict, total=False):
    enabled: bool
    """The chart's redis_exporter sidecar and its Service."""
    service_monitor: bool
    """A ServiceMonitor (needs the Prometheus operator; needs enabled)."""
    prometheus_rule: bool
    """The program's alert rules as a PrometheusRule (needs service_monitor)."""


class RedisArgs(TypedDict):
    chart_version: str
    """Exact Bitnami Redis chart version (x.y.z)."""
    namespace: NotRequired[str]
    """Namespace created for Redis (default `redis`)."""
    chart: NotRequired[str]
    """Chart source: an `oci://` reference or a local `.tgz` (default oci://registry-1.docker.io/bitnamicharts/redis)."""
    images: NotRequired[ImagesArgs]
    """Image overrides (Bitnami's versioned images moved to bitnamilegacy)."""
    architecture: NotRequired[Architecture]
    """standalone (default) or replication."""
    sentinel: NotRequired[bool]
    """Sentinel failover (needs replication); the URL stays on `<release>-master`."""
    replicas: NotRequired[int]
    """Replica count (needs replication)."""
    protect: NotRequired[bool]
    """Protect the Redis namespace, the only resource that holds session data."""
    password_rotation: NotRequired[str]
    """Any new value generates a new password and rolls its users."""
    ready_timeout: NotRequired[str]
    """How long `pulumi up` waits for each chart object to be ready (Go duration, 30m)."""
    resources: NotRequired[ResourcesArgs]
    """Memory and CPU of the Redis pods (not the chart's 192Mi preset)."""
    maxmemory: NotRequired[MaxmemoryArgs]
    """maxmemory share of the limit and the eviction policy."""
    volume_size: NotRequired[str]
    """Each Redis volume (default 8Gi; at least 3x maxmemory, for the AOF)."""
    failover: NotRequired[FailoverArgs]
    """Sentinel timings and the stale-master write guard."""
    storage_class: NotRequired[str]
    """The volumes' StorageClass (the cluster's default when unset; fixed once created)."""
    metrics: NotRequired[MetricsArgs]
    """The exporter, ServiceMonitor and alert rules (docs: monitoring)."""
    values: NotRequired[dict[str, Any]]
    """Chart values merged over the program's: keys of the pinned chart it does not set."""


class StoreArgs(TypedDict, total=False):
    redis: RedisArgs
    """An in-cluster store: the Bitnami chart, with its own release and namespace."""
    # The one arg typed Input: the schema marks the rest `plain` (the SDK's analyzer), so the
    # generated SDKs take an Output here only (pulumi/provider/experimental/analyzer.py).
    url: pulumi.Input[str]
    """Its Redis URL, a secret; may be another resource's output (judged once known)."""


class AgentArgs(TypedDict):
    name: str
    """AgentRuntime name (DNS-1123 label), unique per namespace."""
    namespace: NotRequired[str]
    """The agent's namespace (default `default`)."""
    session: NotRequired[SessionOverrideArgs]
    """Session settings merged over the default."""
    spec: NotRequired[dict[str, Any]]
    """The rest of AgentRuntime.spec, passed through (not session/context)."""


class SessionAgentsArgs(TypedDict):
    session: SessionArgs
    """Every agent's default session settings."""
    agents: list[AgentArgs]
    """The agents (at least one)."""
    omnia_version: NotRequired[str]
    """The Omnia release the cluster runs (required with redis sessions), e.g. 0.9.0-beta.17."""
    redis: NotRequired[RedisArgs]
    """The Redis that holds sessions: the in-cluster store named `default`."""
    stores: NotRequired[dict[str, StoreArgs]]
    """Session stores by name (DNS labels), each in-cluster (`redis`) or external (`url`)."""
    agent_namespaces: NotRequired[AgentNamespaces]
    """require (default) or create."""
    kube_context: NotRequired[str]
    """kubeconfig context for the component's own Kubernetes provider."""


class RedisSessionStoreArgs(RedisArgs):
    kube_context: NotRequired[str]
    """kubeconfig context for the component's own Kubernetes provider."""


def _plain(value: Any, hint: Any) -> Any:
    """Args as the models read stack files: stack-file keys, Enum values, whole numbers as int.

    The engine sends every number as a double, and SDK 3.272's `map_input_properties` converts
    integers to `int` and then stores the original float anyway; free-form maps (`spec`) come
    through untouched. A whole float becomes an int everywhere, so `replicas: 3` and a facade
    `port: 8080` reach the models and the CRD as integers; 2.5 stays a float and is refused.
    """
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        fields = _typed_fields(hint)
        if fields is None:  # free-form keys: as given (a map of typed values: each mapped)
            item_hint = get_args(hint)[1] if get_origin(hint) is dict else None
            return {k: _plain(v, item_hint) for k, v in value.items()}
        return {camel_case(k): _plain(v, fields.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        item_hint = get_args(hint)[0] if get_origin(hint) is list else None
        return [_plain(v, item_hint) for v in value]
    return value


def _typed_fields(hint: Any) -> dict[str, Any] | None:
    """A TypedDict's fields (NotRequired unwrapped), or None for anything else."""
    if not (isinstance(hint, type) and issubclass(hint, dict) and hasattr(hint, "__total__")):
        return None
    # Its evaluated annotations (bases' included): get_type_hints would try to resolve the
    # forward reference `Output[T]` inside pulumi.Input, and fail.
    return {k: _unwrap(v) for k, v in hint.__annotations__.items()}


def _unwrap(hint: Any) -> Any:
    return get_args(hint)[0] if get_origin(hint) is NotRequired else hint


def arg_path(loc: tuple[int | str, ...]) -> str:
    """A key path as the package's args spell it (`stores.managed.url`), never a stack file's."""
    return key_path(loc).removeprefix(f"{PROJECT}:")


class InvalidArgsError(InputPropertiesError):
    """Invalid args, one `path: reason` line each, and no property errors for the engine.

    The engine looks each property error's path up in the consumer's args and prints the value
    it finds, a secret's in clear (pulumi/pulumi pkg/resource/deploy/source_eval.go
    `errorToMessage`: "property %v with value '%v' has a problem", the value printed by
    PropertyValue.String, which prints a secret's element; an empty path prints every arg). A
    refused arg may hold a Redis password (a store's URL, redis.values), so the paths go in the
    message alone; the provider server still reports invalid properties, without a traceback
    (sdk/python/lib/pulumi/provider/server.py `Construct`).
    """

    def __init__(self, component: str, problems: list[tuple[str, str]]) -> None:
        lines = [f"{path or '(args)'}: {reason}" for path, reason in problems]
        super().__init__(f"{component}: invalid args:\n" + "\n".join(lines), None)
        self.problems = problems


def _refuse(component: str, error: ConfigError) -> InvalidArgsError:
    """Problems as the component's arg paths: `omnia-agents:agents[0].name` -> `agents[0].name`."""
    return InvalidArgsError(
        component, [(p.key.removeprefix(f"{PROJECT}:"), p.message) for p in error.problems]
    )


def _later_url(path: tuple[int | str, ...], raw: Mapping[str, Any]) -> bool:
    """`stores.<name>.url` of a store given as an object: the one arg that may be an Output."""
    stores = raw.get("stores")
    return (
        len(path) == 3
        and path[0] == "stores"
        and path[2] == "url"
        and isinstance(stores, Mapping)
        and isinstance(stores.get(path[1]), Mapping)
    )


def later_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Args the program cannot know when it runs: an Output of another resource, or a value
    unknown at preview. The engine hands a component an Output wherever the consuming program
    passed one (pulumi/pulumi sdk/nodejs/runtime/resource.ts: output values are kept for remote
    components; sdk/python/lib/pulumi/provider/server.py `_construct_inputs`), and a whole arg
    as one Output when it carries secrets or dependencies otherwise. Only an external store's
    URL may be one: every other arg decides which resources the component registers."""
    return sorted(
        Problem(
            key_path(path),
            "is an output of another resource (or unknown at preview): only "
            "stores.<name>.url may be one, every other arg decides what the "
            "component registers and must be a plain value",
        )
        for path, value, _ in leaves(raw)
        if isinstance(value, Output | Unknown) and not _later_url(path, raw)
    )


def _known_args(component: str, args: Mapping[str, Any], hint: Any) -> tuple[dict[str, Any], Any]:
    """The args as stack-file keys, refused if one the program must know is an Output; and
    the kube context, which is no stack-file key."""
    raw = _plain(dict(args), hint)
    later = later_problems(raw)
    if later:
        raise _refuse(component, ConfigError(component, later))
    return raw, raw.pop("kubeContext", None)


def session_agents_config(args: Mapping[str, Any]) -> StackConfig:
    """SessionAgents args through the stack-file validation (raises InputPropertiesError).

    An external store's URL may stay an Output: the config holds it as is, and the component
    judges it once known (components/external_store.py `later_urls`)."""
    raw, context = _known_args("SessionAgents", args, SessionAgentsArgs)
    try:
        return parse_config(raw, "SessionAgents", kube_context=context)
    except ConfigError as err:
        raise _refuse("SessionAgents", err) from None


def later_refusal(component: str, path: tuple[int | str, ...], reasons: list[str]) -> Exception:
    """What an arg judged once known raises: the same invalid properties as a refusal before
    anything is registered (raised in an apply, it reaches the provider server's Construct,
    which reports InputPropertiesError as invalid properties, without a traceback)."""
    where = key_path(path)
    return _refuse(component, ConfigError(component, [Problem(where, r) for r in reasons]))


def redis_store_config(args: Mapping[str, Any]) -> tuple[RedisConfig, str | None]:
    """RedisSessionStore args through the same RedisConfig model (raises InputPropertiesError)."""
    raw, context = _known_args("RedisSessionStore", args, RedisSessionStoreArgs)
    try:
        return parse_redis(raw, "RedisSessionStore"), context
    except ConfigError as err:
        # Paths in the store's own args: `redis.sentinel` is `sentinel`, `redis` the whole.
        bare = [
            p._replace(key=p.key.removeprefix(f"{PROJECT}:redis").lstrip(".")) for p in err.problems
        ]
        raise _refuse("RedisSessionStore", ConfigError(err.source, bare)) from None


def _unknown_args(value: Any, hint: Any, path: str) -> list[tuple[str, str]]:
    """Keys no arg type has, at any depth of the typed args: the SDK drops them silently
    (component.py `map_input_properties` reads only the schema's properties)."""
    fields = _typed_fields(hint)
    found: list[tuple[str, str]] = []
    if fields is not None and isinstance(value, Mapping):
        known = {camel_case(k): v for k, v in fields.items()}
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in known:
                found.append((where, f"unknown arg (known: {', '.join(known)})"))
            else:
                found += _unknown_args(item, known[key], where)
    elif isinstance(value, list) and get_origin(hint) is list:
        for i, item in enumerate(value):
            found += _unknown_args(item, get_args(hint)[0], f"{path}[{i}]")
    return found


def judge_raw_args(component: str, inputs: Mapping[str, Any]) -> None:
    """The args as the engine sent them, before the SDK maps (and drops) anything: unknown
    keys, kubeContext and every value through the stack-file validation. Raises
    InputPropertiesError, which the SDK's provider server reports as invalid properties (an
    error raised inside a component's __init__ reaches the engine as an exception with a
    traceback instead)."""
    hint = SessionAgentsArgs if component == "SessionAgents" else RedisSessionStoreArgs
    found = _unknown_args(dict(inputs), hint, "")
    context = inputs.get("kubeContext")
    if context is not None and not isinstance(context, str | Output | Unknown):
        found.append(("kubeContext", f"must be a string (got {context!r})"))
    if found:
        raise InvalidArgsError(component, found)
    try:
        if component == "SessionAgents":
            session_agents_config(inputs)
        else:
            redis_store_config(inputs)
    except InputPropertiesError:
        raise
    except Exception as err:
        raise InvalidArgsError(component, [("", f"invalid args ({err})")]) from None
