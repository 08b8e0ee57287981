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
    # Per store (only a stack that names omnia-agents:stores: today's stacks export as before).
    store_summary: dict[str, dict[str, Any]] | None = None  # plain: no URL, no password
    store_urls: pulumi.Output[dict[str, str]] | None = None  # secret as a whole


def store_outputs(
    config: StackConfig, stores: dict[str, RedisStore | ExternalStore]
) -> tuple[dict[str, dict[str, Any]], pulumi.Output[dict[str, str]]]:
    """What a stack with `omnia-agents:stores` exports about each store some agent uses: its
    kind (the stack-file key: `redis` or `url`), the agent namespaces that use it, their
    credentials Secret and label; an in-cluster store's release, namespace, host and port.
    The URLs (what each Secret holds) apart, one secret map."""
    from upstream.stores import release_name

    summary: dict[str, dict[str, Any]] = {}
    for name, store in stores.items():
        given = config.stores[name]
        entry: dict[str, Any] = {
            "kind": "redis" if given.redis is not None else "url",
            "agentNamespaces": config.store_namespaces(name),
            "secret": store.secret_name,
        }
        if given.redis is not None:
            in_cluster = cast("RedisStore", store)
            entry.update(
                release=release_name(name),
                namespace=given.redis.namespace,
                host=in_cluster.host,
                port=in_cluster.port,
                label=store.client_label,
            )
        summary[name] = entry
    urls: pulumi.Output[dict[str, str]] = pulumi.Output.secret(
        pulumi.Output.all(**{n: s.url for n, s in stores.items()})
    )
    return summary, urls


def deploy(config: StackConfig, parent: pulumi.Resource | None = None) -> Deployment:
    """Say where the cluster will not do what the settings say, then build it all."""
    for warning in config.warnings():
        pulumi.log.warn(warning, resource=parent)
    opts = pulumi.ResourceOptions(parent=parent) if parent is not None else None
    later: dict[str, pulumi.Output[str]] = {}
    gates: list[pulumi.Output[Any]] = []
    if any(isinstance(s.url, pulumi.Output) for s in config.stores.values()):
        from components.external_store import later_urls

        later, gates = later_urls(config, parent)  # the package's: judged once known
    # Its provider (mutable Secrets) and the CRD the cluster serves, read at preview.
    cluster = Cluster("cluster", config.kube_context, config, opts, gates)
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

            stores[name] = ExternalStore(name, later.get(name, given.url))
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
    if config.stores_given is None:  # today's stacks: their outputs exactly as before
        return Deployment(cluster, in_cluster, namespaces, agents, stores)
    summary, urls = store_outputs(config, stores)
    return Deployment(cluster, in_cluster, namespaces, agents, stores, summary, urls)
