"""Everything a stack's settings deploy, wired once: for `__main__.py` and for the package.

The program calls it at the top level (no parent, so its resources keep the URNs they have
always had); the `SessionAgents` package component calls it with itself as the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pulumi

from components.agent_namespace import AgentNamespace
from components.cluster import Cluster
from settings.fields import AgentNamespaces
from upstream.agent_runtime import agent_summary
from upstream.stores import DEFAULT_STORE

if TYPE_CHECKING:  # imported only when a stack uses Redis
    from components.external_store import ExternalStore
    from components.redis_store import RedisStore
    from settings.models import StackConfig


@dataclass(frozen=True)
class Deployment:
    cluster: Cluster
    store: RedisStore | None
    namespaces: list[AgentNamespace]
    agents: list[dict[str, Any]]  # each agent's namespace, name and session block
    stores: dict[str, RedisStore | ExternalStore]  # the stores some agent uses, by name


def deploy(config: StackConfig, parent: pulumi.Resource | None = None) -> Deployment:
    """Say where the cluster will not do what the settings say, then build it all."""
    for warning in config.warnings():
        pulumi.log.warn(warning, resource=parent)
    opts = pulumi.ResourceOptions(parent=parent) if parent is not None else None
    # Its provider (mutable Secrets) and the CRD the cluster serves, read at preview.
    cluster = Cluster("cluster", config.kube_context, config, opts)
    stores: dict[str, RedisStore | ExternalStore] = {}
    for name, given in config.stores.items():
        if not config.store_namespaces(name):
            continue  # a store no agent uses deploys nothing
        if given.redis is not None:
            # A memory-only stack never loads Redis.
            from components.redis_store import RedisStore
            from upstream.stores import release_name

            stores[name] = RedisStore(release_name(name), given.redis, cluster, opts, store=name)
        elif given.url is not None:
            from components.external_store import ExternalStore

            stores[name] = ExternalStore(name, given.url)
    create = config.agent_namespaces == AgentNamespaces.CREATE
    namespaces = []
    for namespace, members in config.agents_by_namespace().items():
        used = {s.store for _, s in members if s.store is not None}  # one at most (checks)
        store = stores[used.pop()] if used else None
        namespaces.append(
            AgentNamespace(
                namespace, members, config.release, store, opts, cluster=cluster, create=create
            )
        )
    agents = [agent_summary(a, s, config.release) for a, s in config.agent_sessions()]
    # The stack outputs `redis` and `redisUrl` keep describing the in-cluster default store.
    default = stores.get(DEFAULT_STORE)
    in_cluster = cast("RedisStore", default) if default and default.owned_namespace else None
    return Deployment(cluster, in_cluster, namespaces, agents, stores)
