"""Everything a stack's settings deploy, wired once: for `__main__.py` and for the package.

The program calls it at the top level (no parent, so its resources keep the URNs they have
always had); the `SessionAgents` package component calls it with itself as the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi

from components.agent_namespace import AgentNamespace
from components.cluster import Cluster
from settings.fields import AgentNamespaces
from upstream.agent_runtime import agent_summary

if TYPE_CHECKING:  # imported only when a stack uses Redis
    from components.redis_store import RedisStore
    from settings.models import StackConfig


@dataclass(frozen=True)
class Deployment:
    cluster: Cluster
    store: RedisStore | None
    namespaces: list[AgentNamespace]
    agents: list[dict[str, Any]]  # each agent's namespace, name and session block


def deploy(config: StackConfig, parent: pulumi.Resource | None = None) -> Deployment:
    """Say where the cluster will not do what the settings say, then build it all."""
    for warning in config.warnings():
        pulumi.log.warn(warning, resource=parent)
    opts = pulumi.ResourceOptions(parent=parent) if parent is not None else None
    # Its provider (mutable Secrets) and the CRD the cluster serves, read at preview.
    cluster = Cluster("cluster", config.kube_context, config, opts)
    store = None
    if config.redis and config.redis_namespaces:
        # A memory-only stack never loads Redis.
        from components.redis_store import RedisStore
        from upstream.redis_chart import RELEASE

        store = RedisStore(RELEASE, config.redis, cluster, opts)
    create = config.agent_namespaces == AgentNamespaces.CREATE
    namespaces = [
        AgentNamespace(
            namespace, agents, config.release, store, opts, cluster=cluster, create=create
        )
        for namespace, agents in config.agents_by_namespace().items()
    ]
    agents = [agent_summary(a, s, config.release) for a, s in config.agent_sessions()]
    return Deployment(cluster, store, namespaces, agents)
