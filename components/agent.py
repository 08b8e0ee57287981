"""One Omnia agent as an AgentRuntime custom resource."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import AgentConfig, SessionConfig, SessionField
from components.session import agent_spec, session_block

API_VERSION = "omnia.altairalabs.ai/v1alpha1"
KIND = "AgentRuntime"


def runtime_manifest(
    agent: AgentConfig, session: SessionConfig, field: SessionField
) -> dict[str, Any]:
    """The object the API server receives; the CRD check judges exactly this."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        # Explicit name and namespace: the operator and its users address agents by them.
        "metadata": {"name": agent.name, "namespace": agent.namespace},
        "spec": agent_spec(agent, session, field),
    }


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
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("omnia-agents:index:Agent", name, None, opts)
        manifest = runtime_manifest(agent, session, field)
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
