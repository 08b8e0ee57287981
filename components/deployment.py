"""Everything a stack's settings deploy, wired once: for `__main__.py` and for the package.

The program calls it at the top level (no parent, so its resources keep the URNs they have
always had); the `SessionAgents` package component calls it with itself as the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi

from components.agent import agent_summary
from components.agent_namespace import AgentNamespace
from components.cluster import Cluster
from components.config import StackConfig

if TYPE_CHECKING:  # imported only when a stack uses Redis
    from components.redis import RedisStore


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
        from components.redis import RELEASE, RedisStore  # a memory-only stack never loads Redis

        store = RedisStore(RELEASE, config.redis, cluster, opts)
    create = config.agent_namespaces == "create"
    namespaces = [
        AgentNamespace(
            namespace, agents, config.release, store, opts, cluster=cluster, create=create
        )
        for namespace, agents in config.agents_by_namespace().items()
    ]
    agents = [agent_summary(a, s, config.release) for a, s in config.agent_sessions()]
    return Deployment(cluster, store, namespaces, agents)
