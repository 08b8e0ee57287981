"""The multi-language component package: the program's units, for any Pulumi language.

`package/` hosts these classes with `component_provider_host`; the SDK infers the schema from
the `args` TypedDicts (`settings.package_args`) and the `pulumi.Output` attributes below, hence
no `from __future__ import annotations` here (the inference reads evaluated annotations).
"""

import inspect
import sys
from typing import Any

import pulumi
from pulumi.provider.experimental.component import ComponentProvider

from components.cluster import Cluster
from components.deployment import deploy
from settings.package_args import (
    RedisSessionStoreArgs,
    SessionAgentsArgs,
    arg_path,
    judge_raw_args,
    redis_store_config,
    session_agents_config,
)
from settings.project import PROJECT


class SessionAgents(pulumi.ComponentResource):
    """Omnia agents (AgentRuntimes) with the session storage their settings call for.

    The whole unit the omnia-agents program deploys for a stack: its own Kubernetes provider
    (mutable Secrets), the served AgentRuntime CRD read and every agent judged against it, and
    for redis sessions the Redis store, each namespace's `redis-credentials` Secret and client
    label, with the Redis URL wired as the targeted Omnia release needs it. One per stack: its
    children keep the program's names.
    """

    agents: pulumi.Output[list[dict[str, Any]]]
    """Each agent's namespace, name and session block."""
    redis_host: pulumi.Output[str | None]
    """The Redis write Service (redis sessions only)."""
    redis_port: pulumi.Output[int | None]
    """The Redis port (redis sessions only)."""
    redis_url: pulumi.Output[str | None]
    """The Redis URL with its password (secret; redis sessions only)."""
    stores: pulumi.Output[dict[str, dict[str, Any]] | None]
    """With `stores`: each store in use (kind, agent namespaces, Secret, in-cluster address)."""
    store_urls: pulumi.Output[dict[str, str] | None]
    """With `stores` given: each such store's URL, as its Secrets hold it (secret)."""

    def __init__(
        self,
        name: str,
        args: SessionAgentsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        config = session_agents_config(args)  # refused before anything is registered
        super().__init__(f"{PROJECT}:index:SessionAgents", name, None, opts)
        for store_name, given in config.stores.items():
            if isinstance(given.url, str):  # an Output says whether it is secret once resolved
                from components.external_store import NOT_SECRET

                where = arg_path(("stores", store_name, "url"))
                pulumi.log.warn(f"{where} {NOT_SECRET}", resource=self)
        deployment = deploy(config, parent=self)
        store = deployment.store
        self.agents = pulumi.Output.from_input(deployment.agents)
        self.redis_host = pulumi.Output.from_input(store.host if store else None)
        self.redis_port = pulumi.Output.from_input(store.port if store else None)
        self.redis_url = store.url if store else pulumi.Output.from_input(None)
        self.stores = pulumi.Output.from_input(deployment.store_summary)
        self.store_urls = deployment.store_urls or pulumi.Output.from_input(None)
        self.register_outputs(
            {
                "agents": self.agents,
                "redisHost": self.redis_host,
                "redisPort": self.redis_port,
                "redisUrl": self.redis_url,
                "stores": self.stores,
                "storeUrls": self.store_urls,
            }
        )


class RedisSessionStore(pulumi.ComponentResource):
    """A Redis for Omnia sessions on its own: namespace, password, chart, as the program makes it.

    Its `url` is what an agent namespace's `redis-credentials` Secret (key `url`) must hold.
    The Helm release is named after the component.
    """

    host: pulumi.Output[str]
    """The write Service: `<name>-master.<namespace>.svc` (`<name>-redis-master` when the
    name does not contain `redis`, as the chart names its objects)."""
    port: pulumi.Output[int]
    """The Redis port."""
    url: pulumi.Output[str]
    """`redis://:<percent-encoded password>@<host>:<port>` (secret)."""

    def __init__(
        self,
        name: str,
        args: RedisSessionStoreArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        config, context = redis_store_config(args)
        super().__init__(f"{PROJECT}:index:RedisSessionStore", name, None, opts)
        from components.redis_store import RedisStore

        own = pulumi.ResourceOptions(parent=self)
        cluster = Cluster(f"{name}-cluster", context, None, own)
        store = RedisStore(name, config, cluster, own)
        self.host = pulumi.Output.from_input(store.host)
        self.port = pulumi.Output.from_input(store.port)
        self.url = store.url
        self.register_outputs({"host": self.host, "port": self.port, "url": self.url})


PACKAGE = PROJECT  # component tokens: omnia-agents:index:<Name>
VERSION = "0.1.0"
COMPONENTS: list[type[pulumi.ComponentResource]] = [SessionAgents, RedisSessionStore]
for _component in COMPONENTS:  # schema descriptions without the source's indentation
    _component.__doc__ = inspect.cleandoc(_component.__doc__ or "")


class PackageProvider(ComponentProvider):
    """The SDK's component provider, judging each construct's raw args first: the SDK maps
    args by the inferred schema and drops keys it does not know, so a misspelt
    `omnia_version` would otherwise deploy the default release."""

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> Any:
        judge_raw_args(resource_type.rsplit(":", 1)[-1], inputs)
        return super().construct(name, resource_type, inputs, options)


def provider() -> PackageProvider:
    return PackageProvider(COMPONENTS, PACKAGE, None, VERSION)


def host() -> None:
    """`component_provider_host`, with the provider above (pulumi/provider/experimental/host.py:
    the CLI passes the engine address and flags as arguments)."""
    from pulumi.provider import main

    main(provider(), sys.argv[1:])
