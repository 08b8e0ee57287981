"""One Omnia agent as an AgentRuntime custom resource."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

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


class Agent(pulumi.ComponentResource):
    """Waits for what its session store needs, so the operator never sees a missing Secret."""

    runtime: k8s.apiextensions.CustomResource
    summary: dict[str, Any]

    def __init__(
        self,
        name: str,
        agent: AgentConfig,
        session: SessionConfig,
        field: SessionField,
        needs: Sequence[pulumi.Resource] = (),
        credentials: pulumi.Output[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`credentials`: the store URL, when the pods should roll as it changes."""
        super().__init__("omnia-agents:index:Agent", name, None, opts)
        stamp = None
        if credentials is not None:
            stamp = pulumi.Output.unsecret(credentials.apply(credentials_digest))
        manifest = runtime_manifest(agent, session, field, stamp)
        self.runtime = k8s.apiextensions.CustomResource(
            f"{name}-runtime",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(needs)),
        )
        self.summary = {
            "namespace": agent.namespace,
            "name": agent.name,
            field: session_block(session),
        }
        self.register_outputs(self.summary)
