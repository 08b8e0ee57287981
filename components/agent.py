"""An Omnia agent's AgentRuntime object, as pure functions (the component is AgentNamespace)."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

from components.config import AgentConfig, SessionConfig, SessionField, StackConfig
from components.session import agent_spec, session_block

API_VERSION = "omnia.altairalabs.ai/v1alpha1"
KIND = "AgentRuntime"
CREDENTIALS_ANNOTATION = "omnia-agents/credentials-hash"
_STAMP_SHAPE = "0" * 16  # what a stamp looks like before the password exists


def credentials_digest(url: str) -> str:
    """Changes with the password; a truncated SHA-256 of 238 random bits reveals nothing."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def runtime_manifest(
    agent: AgentConfig,
    session: SessionConfig,
    field: SessionField,
    stamp: pulumi.Input[str] | None = None,
) -> dict[str, Any]:
    """The object the API server receives; the CRD check judges exactly this."""
    spec = agent_spec(agent, session, field)
    if stamp is not None:
        # A changed pod annotation is what makes the operator roll the agent's pods.
        spec["extraPodAnnotations"] = {
            **spec.get("extraPodAnnotations", {}),
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
    field = config.session_field
    return [
        runtime_manifest(
            a, s, field, _STAMP_SHAPE if config.stamps_pods and s.type == "redis" else None
        )
        for a, s in config.agent_sessions()
    ]


def agent_summary(
    agent: AgentConfig, session: SessionConfig, field: SessionField
) -> dict[str, Any]:
    """What the stack exports per agent."""
    return {"namespace": agent.namespace, "name": agent.name, field: session_block(session)}
