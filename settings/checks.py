"""Rules across keys, checked on the raw values so they are reported with every other problem.

A model validator stops at the first error of its block; these see the whole stack file, even
where a model would not build, so a user fixes everything in one round.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from settings.errors import Problem, key_path
from settings.fields import AgentNamespaces
from settings.models import AgentConfig
from upstream.agent_runtime import CREDENTIALS_ANNOTATION, CREDENTIALS_SECRET
from upstream.kubernetes import CLUSTER_NAMESPACES
from upstream.omnia_releases import (
    NEWEST_KNOWN,
    RELEASES,
    URL_ENV_NAMES,
    Release,
    SessionType,
    first_with,
    release_for,
)

# An agent's namespace when the stack file leaves it out: the model's own default.
_DEFAULT_NAMESPACE = AgentConfig.model_fields["namespace"].default


def _duplicates(agents: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    problems = []
    seen: dict[tuple[Any, Any], int] = {}
    for i, agent in agents:
        who = (agent.get("namespace", _DEFAULT_NAMESPACE), agent.get("name"))
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
    if raw.get("agentNamespaces") != AgentNamespaces.CREATE:
        return []
    return [
        Problem(
            key_path(("agents", i, "namespace")),
            f"{namespace!r} exists in every cluster: agentNamespaces: create would take it over "
            "(and destroy would delete it); put the agent in its own namespace",
        )
        for i, agent in agents
        if (namespace := agent.get("namespace", _DEFAULT_NAMESPACE)) in CLUSTER_NAMESPACES
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
    problems += _created_namespaces(raw, agents)
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
    if "redis" not in raw and uses_redis:
        problems.append(
            Problem(
                key_path(("redis",)),
                "is required when an agent uses redis sessions (set at least chartVersion)",
            )
        )
    return problems
