"""An Omnia agent's AgentRuntime object, as pure functions (the component is AgentNamespace)."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

from components.config import CREDENTIALS_ANNOTATION, AgentConfig, SessionConfig, StackConfig
from components.releases import Release
from components.session import agent_spec, session_block

API_VERSION = "omnia.altairalabs.ai/v1alpha1"
KIND = "AgentRuntime"
_STAMP_SHAPE = "0" * 16  # what a stamp looks like before the password exists


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
    if stamp is not None and session.type == "redis" and release.pod_annotations:
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
