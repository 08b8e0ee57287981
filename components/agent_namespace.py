"""Everything the program puts into one agent namespace.

Its AgentRuntimes and, when an agent there uses Redis, the `redis-credentials` Secret (a
SecretKeyRef is namespace-local) and the label the chart's NetworkPolicy admits. One component
per namespace, not per agent: a component costs a registration, and stacks run hundreds of agents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from components.cluster import Existing
from upstream.agent_runtime import URL_KEY, runtime_manifest
from upstream.kubernetes import NAMESPACE
from upstream.omnia_releases import Release, SessionType

if TYPE_CHECKING:  # imported by the program only when a stack uses Redis
    from components.cluster import Cluster
    from components.external_store import ExternalStore
    from components.redis_store import RedisStore
    from settings.models import AgentConfig, SessionConfig


class AgentNamespace(pulumi.ComponentResource):
    """Creates nothing an agent needs after the agent: each AgentRuntime waits for its Secret.

    Children are typed in __init__, not on the class: Pulumi evaluates a resource class's
    annotations when it registers, and naming `k8s.core.v1` there loads that whole module
    (a quarter second) in memory-only stacks that never use it.
    """

    def __init__(
        self,
        namespace: str,
        agents: Sequence[tuple[AgentConfig, SessionConfig]],
        release: Release,
        store: RedisStore | ExternalStore | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        cluster: Cluster,
        create: bool = False,
    ) -> None:
        """`release`: what the targeted Omnia release reads (block, URL wiring, pod stamps).
        `create`: the program creates the namespace; otherwise it must exist (read at preview).
        """
        own = pulumi.ResourceOptions(providers=[cluster.provider])
        super().__init__(
            "omnia-agents:index:AgentNamespace",
            namespace,
            None,
            pulumi.ResourceOptions.merge(opts, own),
        )
        redis_here = any(session.type == SessionType.REDIS for _, session in agents)
        if redis_here and store is None:
            raise ValueError(f"agents in {namespace} use redis sessions but no store exists")
        # What must exist before anything is put into the namespace: one per namespace.
        self.namespace: pulumi.CustomResource | None = None
        first: list[pulumi.Resource]
        labelled = False  # the namespace already carries the Redis client label
        label = store.client_label if store is not None else None  # None: an external store
        if store is not None and store.owned_namespace and store.redis_namespace == namespace:
            first = [store.owned_namespace]  # the store creates (and keeps) that namespace
        elif create:
            # Created with the client label itself: no patch of a namespace we own.
            labelled = redis_here
            self.namespace = k8s.core.v1.Namespace(
                f"{namespace}-namespace",
                metadata={
                    "name": namespace,
                    "labels": {label: "true"} if labelled and label else None,
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster.agents_ready]),
            )
            first = [self.namespace]
        else:
            # Read at preview: a missing namespace fails there, naming it, instead of a
            # NamespacePatch (server-side apply) creating it (pulumi-kubernetes#2194).
            self.namespace = Existing(
                NAMESPACE,
                f"{namespace}-namespace",
                namespace,
                pulumi.ResourceOptions(parent=self),
            )
            first = [self.namespace]
        # The served CRD's verdict (an Output resolving to its read) and the namespace: nothing
        # is sent to the engine before every agent has been judged against the CRD.
        plain: list[pulumi.Input[pulumi.Resource]] = [cluster.agents_ready, *first]
        self.secret: k8s.core.v1.Secret | None = None
        self.label: k8s.core.v1.NamespacePatch | None = None
        with_redis = plain
        if redis_here and store is not None:
            # Derived data, never protected: moving the last redis agent away deletes it.
            self.secret = k8s.core.v1.Secret(
                f"{namespace}-credentials",
                metadata={"name": store.secret_name, "namespace": namespace},
                string_data={URL_KEY: store.url},  # the Kubernetes SDK sends it as a secret
                opts=pulumi.ResourceOptions(parent=self, depends_on=plain),
            )
            with_redis = [*plain, self.secret]
            if not labelled and label:
                # A server-side-apply patch: labels a namespace we do not own, only that label.
                self.label = k8s.core.v1.NamespacePatch(
                    f"{namespace}-label",
                    metadata={"name": namespace, "labels": {label: "true"}},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=plain),
                )
                with_redis.append(self.label)
            with_redis += store.ready
        self.runtimes: dict[str, k8s.apiextensions.CustomResource] = {}
        for agent, session in agents:
            redis = session.type == SessionType.REDIS
            # The stamp lands on redis agents only, where the release has the field.
            manifest = runtime_manifest(agent, session, release, store.stamp if store else None)
            # `<namespace>.<agent>`: a dot cannot occur in either, so names never collide.
            self.runtimes[agent.name] = k8s.apiextensions.CustomResource(
                f"{namespace}.{agent.name}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=with_redis if redis else plain),
            )
        self.register_outputs({"namespace": namespace, "agents": sorted(self.runtimes)})
