"""An Omnia agent's AgentRuntime object and its session wiring, per release (pure).

The component that registers these objects is `components.agent_namespace.AgentNamespace`; the
CRD judge, the policy pack and the stack outputs read the same functions.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from upstream.kubernetes import type_token
from upstream.omnia_releases import Release, SessionType
from upstream.stores import CREDENTIALS_SECRET as CREDENTIALS_SECRET
from upstream.stores import DEFAULT_STORE, credentials_secret

if TYPE_CHECKING:  # the settings import this package: types only, no import cycle
    import pulumi

    from settings.models import AgentConfig, SessionConfig, StackConfig

API_VERSION = "omnia.altairalabs.ai/v1alpha1"
KIND = "AgentRuntime"
TYPE = type_token(API_VERSION, KIND)
CRD_NAME = "agentruntimes.omnia.altairalabs.ai"  # the CRD the Omnia operator installs
URL_KEY = "url"  # the operator always reads this key; the CRD's storeRef has only `name`
# The pod annotation the program stamps on redis agents (a digest of the credentials): a changed
# value is what makes the operator roll their pods when the password rotates.
CREDENTIALS_ANNOTATION = "omnia-agents/credentials-hash"
POD_ANNOTATIONS = "extraPodAnnotations"  # where the stamp goes, on releases whose pods take it
_STAMP_SHAPE = "0" * 16  # what a stamp looks like before the password exists


def secret_of(session: SessionConfig) -> str:
    """The credentials Secret of the session's store (the stack resolves `store`)."""
    return credentials_secret(session.store or DEFAULT_STORE)


def session_block(session: SessionConfig) -> dict[str, Any]:
    """`storeRef` for redis only: the CRD requires it there (CEL) and has no `key` field."""
    block: dict[str, Any] = {"type": session.type, "ttl": session.ttl}
    if session.type == SessionType.REDIS:
        block["storeRef"] = {"name": secret_of(session)}
    return block


def url_env(release: Release, secret: str = CREDENTIALS_SECRET) -> dict[str, Any]:
    """The runtime's Redis URL, read from the credentials Secret by the kubelet."""
    return {
        "name": release.runtime_url_env,
        "valueFrom": {"secretKeyRef": {"name": secret, "key": URL_KEY}},
    }


def agent_spec(agent: AgentConfig, session: SessionConfig, release: Release) -> dict[str, Any]:
    """The user's spec passed through, with the session block under this release's key.

    Where the operator ignores `storeRef` (beta.1-beta.16) a redis agent also carries the URL
    env itself, after the user's own runtime env; without it the runtime exits at start.
    """
    spec = {**agent.spec, release.block: session_block(session)}
    if session.type == SessionType.REDIS and release.url_wiring == "extra_env":
        runtime = dict(spec.get("runtime") or {})
        env = url_env(release, secret_of(session))
        runtime["extraEnv"] = [*(runtime.get("extraEnv") or []), env]
        spec["runtime"] = runtime
    return spec


def credentials_digest(url: str) -> str:
    """Changes with the password; a truncated SHA-256 of 238 random bits reveals nothing."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def runtime_manifest(
    agent: AgentConfig,
    session: SessionConfig,
    release: Release,
    stamp: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """The object the API server receives; the CRD check judges exactly this.

    `stamp`: the credentials digest, for redis agents on releases with extraPodAnnotations.
    """
    spec = agent_spec(agent, session, release)
    if stamp is not None and session.type == SessionType.REDIS and release.pod_annotations:
        # A changed pod annotation is what makes the operator roll the agent's pods.
        spec[POD_ANNOTATIONS] = {
            **spec.get(POD_ANNOTATIONS, {}),
            CREDENTIALS_ANNOTATION: stamp,
        }
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        # Explicit name and namespace: the operator and its users address agents by them.
        "metadata": {"name": agent.name, "namespace": agent.namespace},
        "spec": spec,
    }


def planned_manifests(config: StackConfig) -> list[dict[str, Any]]:
    """Every agent's manifest as it will be applied, with stamps in their final shape."""
    return [
        runtime_manifest(a, s, config.release, _STAMP_SHAPE) for a, s in config.agent_sessions()
    ]


def agent_summary(agent: AgentConfig, session: SessionConfig, release: Release) -> dict[str, Any]:
    """What the stack exports per agent."""
    return {
        "namespace": agent.namespace,
        "name": agent.name,
        release.block: session_block(session),
    }


# What a plan or a preview says when the cluster lacks what the agents need.
NAMESPACE_HINT = (
    "create it (or fix the agent's namespace), or set omnia-agents:agentNamespaces: create "
    "to have the program create its agent namespaces"
)
INSTALL_HINT = (
    f"the cluster serves no CustomResourceDefinition {CRD_NAME}: install the Omnia operator "
    "(its Helm chart installs the AgentRuntime CRD) before deploying agents"
)
