"""Rules across keys, checked on the raw values so they are reported with every other problem.

A model validator stops at the first error of its block; these see the whole stack file, even
where a model would not build, so a user fixes everything in one round.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from settings.chart_values import values_problems
from settings.errors import Problem, key_path
from settings.fields import AgentNamespaces, has_credentials, mask_credentials
from settings.models import RedisConfig
from upstream.agent_runtime import CREDENTIALS_ANNOTATION, POD_ANNOTATIONS
from upstream.kubernetes import (
    ANNOTATIONS_MAX_BYTES,
    CLUSTER_NAMESPACES,
    DEFAULT_NAMESPACE,
    OBJECT_MAX_BYTES,
    annotations_size,
    qualified_name_problem,
)
from upstream.omnia_releases import (
    NEWEST_KNOWN,
    RELEASES,
    URL_ENV_NAMES,
    Release,
    SessionType,
    first_with,
    release_for,
)
from upstream.pulumi_config import GO_TIME_STRING, MAX_DEPTH
from upstream.store_url import judge_store_url
from upstream.stores import CREDENTIALS_SECRET, DEFAULT_STORE

# An agent's namespace when the stack file leaves it out: the model's own default.


def _duplicates(agents: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    problems = []
    seen: dict[tuple[Any, Any], int] = {}
    for i, agent in agents:
        who = (agent.get("namespace", DEFAULT_NAMESPACE), agent.get("name"))
        if not all(isinstance(part, str) for part in who):
            continue  # the model reports a name or namespace that is not a string
        first = seen.setdefault(who, i)
        if first != i:
            problems.append(
                Problem(
                    key_path(("agents", i, "name")),
                    f"duplicate agent {who[0]}/{who[1]} (first at agents[{first}])",
                )
            )
    return problems


def _flow(value: Any) -> str:
    """A value as one line of YAML, for a hint a user can paste."""
    text: str = yaml.safe_dump(value, default_flow_style=True, width=1 << 16, sort_keys=False)
    return text.strip().removesuffix("...").strip()


def _foreign_facades(
    agents: list[tuple[int, dict[str, Any]]], version: str | None, release: Release
) -> list[Problem]:
    """The other release's facade key: the CRD requires this one's and prunes the other.

    The fix shown is the agent's own facade in this release's shape; omniaVersion is named
    only when it is unset (when set, the user has said which release the cluster runs).
    """
    wrong = "facades" if release.facade == "facade" else "facade"
    since = first_with("context").first
    era = f"{since} or later" if wrong == "facades" else f"releases before {since}"
    problems = []
    for i, agent in agents:
        spec = agent.get("spec")
        if not isinstance(spec, dict) or wrong not in spec:
            continue
        given = spec[wrong]
        if wrong == "facades":  # one object: the first of the list
            first = given[0] if isinstance(given, list) and given else {"type": "websocket"}
            fix = f"`facade: {_flow(first)}` (one object)"
        else:
            fix = f"`facades: {_flow([given])}` (a list)"
        reads = (
            f"omniaVersion {version} reads spec.{release.facade}: write {fix}"
            if version
            else f"omniaVersion is unset, which means a release before {since} (spec."
            f"{release.facade}): set omnia-agents:omniaVersion to the release the cluster runs, "
            f"or write {fix}"
        )
        problems.append(
            Problem(key_path(("agents", i, "spec", wrong)), f"belongs to Omnia {era}; {reads}")
        )
    return problems


def _pod_annotations(agents: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """The program adds its credentials stamp to `spec.extraPodAnnotations`: it must merge."""
    problems = []
    for i, agent in agents:
        spec = agent.get("spec")
        if not isinstance(spec, dict) or POD_ANNOTATIONS not in spec:
            continue
        where = key_path(("agents", i, "spec", POD_ANNOTATIONS))
        annotations = spec[POD_ANNOTATIONS]
        if not isinstance(annotations, dict):
            problems.append(Problem(where, "must be a mapping of annotation names to values"))
            continue
        problems += _annotation_problems(where, annotations)
        if CREDENTIALS_ANNOTATION in annotations:
            problems.append(
                Problem(
                    f"{where}.{CREDENTIALS_ANNOTATION}",
                    "is set by omnia-agents (a digest of the Redis credentials, so pods roll "
                    "when the password rotates): remove it",
                )
            )
    return problems


def _annotation_problems(where: str, annotations: dict[Any, Any]) -> list[Problem]:
    """What the API server refuses of the agent pods' annotations, where the operator puts
    these (the CRD: "additional annotations to add to the agent pods"): k8s.io/apimachinery
    pkg/api/validation/objectmeta.go `ValidateAnnotations`."""
    problems = []
    for key, value in annotations.items():
        if not isinstance(value, str):
            problems.append(
                Problem(f"{where}.{key}", f"must be a string (got {json.dumps(value)}): quote it")
            )
        why = qualified_name_problem(str(key).lower())
        if why:
            problems.append(Problem(f"{where}.{key}", f"is not an annotation name: {why}"))
    size = annotations_size({str(k): str(v) for k, v in annotations.items()})
    # The program adds its credentials stamp (key and 16 hex digits) beside them.
    size += len(CREDENTIALS_ANNOTATION) + 16
    if size > ANNOTATIONS_MAX_BYTES:
        problems.append(
            Problem(
                where,
                f"{size / 1024:.0f} KiB of annotations (with the program's own stamp): "
                f"Kubernetes refuses pods with more than {ANNOTATIONS_MAX_BYTES >> 10} KiB, "
                "so the operator could never start the agent",
            )
        )
    return problems


def _object_sizes(agents: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """An AgentRuntime is stored as JSON in etcd (upstream.kubernetes OBJECT_MAX_BYTES)."""
    problems = []
    for i, agent in agents:
        spec = agent.get("spec")
        if not isinstance(spec, dict):
            continue
        try:
            # UTF-8, as the API server's JSON is: ensure_ascii would count an `é` as 6 bytes.
            size = len(json.dumps(spec, separators=(",", ":"), ensure_ascii=False).encode())
        except (TypeError, ValueError, RecursionError):
            continue  # a value the model refuses on its own
        if size > OBJECT_MAX_BYTES:
            problems.append(
                Problem(
                    key_path(("agents", i, "spec")),
                    f"is {size / (1 << 20):.1f} MiB: an AgentRuntime is stored as JSON in etcd, "
                    f"which refuses objects over {OBJECT_MAX_BYTES / (1 << 20):.1f} MiB",
                )
            )
    return problems


def leaves(raw: Mapping[str, Any]) -> Iterator[tuple[tuple[int | str, ...], Any, int]]:
    """Every value with its key path and depth, in a loop (no input makes this recurse)."""
    stack: list[tuple[tuple[int | str, ...], Any, int]] = [((k,), v, 1) for k, v in raw.items()]
    stack.reverse()
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, dict):
            stack += reversed([((*path, k), v, depth + 1) for k, v in value.items()])
        elif isinstance(value, list):
            stack += reversed([((*path, i), v, depth + 1) for i, v in enumerate(value)])


def _store_url(path: tuple[int | str, ...]) -> bool:
    """`stores.<name>.url`: the one value that holds a password, and is kept secret."""
    return len(path) == 3 and path[0] == "stores" and path[2] == "url"


def value_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """What no value may hold anywhere: a password in a URL, a number JSON cannot carry, more
    nesting than the program reads."""
    problems = []
    deep: set[int | str] = set()
    for path, value, depth in leaves(raw):
        if depth > MAX_DEPTH and path[0] not in deep:
            deep.add(path[0])
            problems.append(
                Problem(
                    key_path(path[:1]),
                    f"is nested deeper than {MAX_DEPTH} levels: omnia-agents reads at most "
                    f"{MAX_DEPTH} (no AgentRuntime field is nested so deep)",
                )
            )
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(
                Problem(
                    key_path(path),
                    f"{value} is not a number JSON can carry (Kubernetes objects are JSON)",
                )
            )
        elif isinstance(value, str) and has_credentials(value) and not _store_url(path):
            problems.append(
                Problem(
                    key_path(path),
                    f"{mask_credentials(value)!r} holds a password in a URL: it would be stored "
                    "in clear in the state and the objects it reaches; omnia-agents settings "
                    "hold no secrets "
                    + (
                        # Helm logs in to OCI registries with `helm registry login` (its
                        # registry config), never from the reference.
                        "(log in with `helm registry login` and drop `user:password@`)"
                        if path[-1] == "chart"
                        else "(reference a Secret instead, e.g. valueFrom.secretKeyRef)"
                    ),
                )
            )
    return problems


def value_warnings(raw: Mapping[str, Any]) -> list[str]:
    """Values that are not what the stack file's author wrote."""
    found = []
    for path, value, _ in leaves(raw):
        if isinstance(value, str) and GO_TIME_STRING.fullmatch(value):
            found.append(
                f"{key_path(path)}: {value!r} is how the Pulumi CLI passes a YAML date or time "
                "written unquoted: quote it in the stack file to keep the text as written"
                + (" (a new value: the password rotates)" if "passwordRotation" in path else "")
            )
    return found


def _agent_namespaces(raw: Mapping[str, Any]) -> Any:
    return raw.get("agentNamespaces", AgentNamespaces.REQUIRE)


def redis_namespace_problems(
    redis: Mapping[str, Any],
    agent_namespaces: Any,
    agents: list[tuple[int, dict[str, Any]]],
    block: tuple[str, ...] = ("redis",),
) -> list[Problem]:
    """The program creates an in-cluster store's namespace (`block`: the store's raw settings'
    key path): one that exists already fails `pulumi up` (AlreadyExists), and deleting the
    stack's would take a cluster namespace with it."""
    namespace = redis.get("namespace", RedisConfig.model_fields["namespace"].default)
    where = key_path((*block, "namespace"))
    if namespace in CLUSTER_NAMESPACES:
        return [
            Problem(
                where,
                f"{namespace!r} exists in every cluster: the program creates (and keeps) the Redis "
                "namespace, so creating it fails (AlreadyExists); give Redis a namespace of its "
                "own (default 'redis')",
            )
        ]
    if agent_namespaces != AgentNamespaces.REQUIRE:
        return []
    sharing = [i for i, a in agents if a.get("namespace", DEFAULT_NAMESPACE) == namespace]
    if not sharing:
        return []
    return [
        Problem(
            where,
            f"{namespace!r} is also agents[{sharing[0]}]'s namespace, which agentNamespaces: "
            "require says exists: the program creates the Redis namespace, and creating one that "
            "exists fails (AlreadyExists); give Redis a namespace of its own",
        )
    ]


def _created_namespaces(
    raw: Mapping[str, Any], agents: list[tuple[int, dict[str, Any]]]
) -> list[Problem]:
    """`agentNamespaces: create` owns what it creates: destroy deletes it with its contents."""
    if raw.get("agentNamespaces") != AgentNamespaces.CREATE:
        return []
    return [
        Problem(
            key_path(("agents", i, "namespace")),
            f"{namespace!r} exists in every cluster: agentNamespaces: create would take it over "
            "(and destroy would delete it); put the agent in its own namespace",
        )
        for i, agent in agents
        if (namespace := agent.get("namespace", DEFAULT_NAMESPACE)) in CLUSTER_NAMESPACES
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
                        f"{CREDENTIALS_SECRET} Secret; remove it and set the agent's session "
                        "instead",
                    )
                )
    return problems


def cross_checks(raw: Mapping[str, Any]) -> list[Problem]:
    """Checks across keys, on the raw values so they are reported with every other problem."""
    agents = [(i, a) for i, a in enumerate(raw.get("agents") or []) if isinstance(a, dict)]
    problems = _duplicates(agents) + _runtime_env(agents) + _pod_annotations(agents)
    problems += _created_namespaces(raw, agents) + _object_sizes(agents)
    if isinstance(raw.get("redis"), dict):
        problems += values_problems(raw["redis"])
    version = raw.get("omniaVersion")
    version = version if isinstance(version, str) else None
    with contextlib.suppress(ValueError):  # a bad omniaVersion is reported by the model
        problems += _foreign_facades(agents, version, release_for(version))
    default = raw.get("session")
    default_type = default.get("type") if isinstance(default, dict) else None
    uses_redis = any(
        ((a.get("session") or {}).get("type") or default_type) == SessionType.REDIS
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
    if uses_redis:
        if isinstance(raw.get("redis"), dict):
            problems += redis_namespace_problems(raw["redis"], _agent_namespaces(raw), agents)
        problems += store_problems(raw, agents)
    if "redis" not in raw and "stores" not in raw and uses_redis:
        problems.append(
            Problem(
                key_path(("redis",)),
                "is required when an agent uses redis sessions (set at least chartVersion), "
                "or name the stores under omnia-agents:stores",
            )
        )
    return problems


SECRET_KEY = "stores"  # the one key that may be set with --secret: store URLs hold passwords


def clear_store_urls(raw: Mapping[str, Any]) -> list[str]:
    """Key paths of external stores' URLs that hold a password, given in clear by the stack
    file (a URL without one, such as a store in a private network, has nothing to hide)."""
    return [
        key_path(("stores", name, "url"))
        for name, store in _stores(raw).items()
        if isinstance(store, dict)
        and isinstance(store.get("url"), str)
        and has_credentials(store["url"])
    ]


def _stores(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Store names to their raw blocks, `omnia-agents:redis` as `default`."""
    given = raw.get("stores")
    found: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    if isinstance(raw.get("redis"), dict):
        found = {DEFAULT_STORE: {"redis": raw["redis"]}, **found}
    return found


def _choice(session: Any) -> Any:
    return session.get("store") if isinstance(session, dict) else None


def store_problems(
    raw: Mapping[str, Any], agents: list[tuple[int, dict[str, Any]]]
) -> list[Problem]:
    """Which store each redis agent uses, and that the stores can be told apart."""
    stores = _stores(raw)
    problems = []
    if isinstance(raw.get("stores"), dict) and DEFAULT_STORE in raw["stores"] and "redis" in raw:
        problems.append(
            Problem(
                key_path(("stores", DEFAULT_STORE)),
                "omnia-agents:redis is the in-cluster store named default: keep one of them",
            )
        )
    given = raw.get("session")
    default: dict[str, Any] = given if isinstance(given, dict) else {}
    default_type, default_store = default.get("type"), _choice(default)
    if default_store is not None and default_store not in stores and isinstance(default_store, str):
        problems.append(
            Problem(
                key_path(("session", "store")),
                f"{default_store!r} is not a store ({', '.join(stores) or 'none set'})",
            )
        )
    used: dict[str, tuple[str, int]] = {}  # namespace -> (store, first agent)
    for i, agent in agents:
        own_block = agent.get("session")
        session: dict[str, Any] = own_block if isinstance(own_block, dict) else {}
        kind = session.get("type") or default_type
        own = _choice(session)
        where: tuple[int | str, ...] = ("agents", i, "session")
        if own is not None:
            where = (*where, "store")
        if kind != SessionType.REDIS:
            if own is not None:
                problems.append(Problem(key_path(where), "a store is for redis sessions only"))
            continue
        chosen = own if own is not None else default_store
        if chosen is None:
            chosen = next(iter(stores)) if len(stores) == 1 else DEFAULT_STORE
            if len(stores) > 1 and DEFAULT_STORE not in stores:
                problems.append(
                    Problem(
                        key_path(where),
                        f"there are several stores ({', '.join(stores)}) and none named "
                        "default: set session.store (here or in omnia-agents:session)",
                    )
                )
                continue
        if not isinstance(chosen, str) or chosen not in stores:
            if own is not None and stores:
                problems.append(
                    Problem(key_path(where), f"{own!r} is not a store ({', '.join(stores)})")
                )
            continue
        namespace = agent.get("namespace", DEFAULT_NAMESPACE)
        if not isinstance(namespace, str):
            continue
        earlier = used.setdefault(namespace, (chosen, i))
        if earlier[0] != chosen:
            problems.append(
                Problem(
                    key_path(where),
                    f"agents[{earlier[1]}] in {namespace!r} uses store {earlier[0]!r}: all the "
                    "redis agents of a namespace use one store (any pod of a namespace can read "
                    "its Secrets, so two stores there isolate nothing); give this agent a "
                    "namespace of its own",
                )
            )
    namespaces: dict[str, str] = {}
    for name, store in stores.items():
        redis = store.get("redis") if isinstance(store, dict) else None
        if not isinstance(redis, dict):
            continue
        if not (name == DEFAULT_STORE and "redis" in raw):  # that one is checked already
            block = ("stores", name, "redis")
            problems += redis_namespace_problems(redis, _agent_namespaces(raw), agents, block)
            problems += values_problems(redis, block)
        namespace = redis.get("namespace", RedisConfig.model_fields["namespace"].default)
        other = namespaces.setdefault(namespace, name)
        if other != name and isinstance(namespace, str):
            at: tuple[str, ...] = ("stores", name, "redis", "namespace")
            if name == DEFAULT_STORE and "redis" in raw:
                at = ("redis", "namespace")
            problems.append(
                Problem(
                    key_path(at),
                    f"{namespace!r} is store {other!r}'s namespace too: each in-cluster store "
                    "has a namespace of its own (it holds that store's volumes)",
                )
            )
    return problems


def store_url_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """External stores' URLs as the targeted release's runtime reads them. The messages never
    quote the URL (upstream/store_url.py), so they are safe where the value is a secret."""
    version = raw.get("omniaVersion")
    if not isinstance(version, str):
        return []  # required with redis sessions: reported already
    problems = []
    for name, store in _stores(raw).items():
        url = store.get("url") if isinstance(store, dict) else None
        if not isinstance(url, str):
            continue
        try:
            verdict = judge_store_url(url, version)
        except ValueError:
            return []  # a bad omniaVersion: the model reports it
        problems += [Problem(key_path(("stores", name, "url")), p) for p in verdict.problems]
    return problems
