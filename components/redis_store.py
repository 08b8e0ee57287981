"""Redis for prod sessions: namespace, generated password, its Secret and the Bitnami chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from settings.models import RedisConfig  # a class annotation: Pulumi evaluates those
from upstream.agent_runtime import credentials_digest
from upstream.redis_chart import (
    AUTH_SECRET,
    AUTH_SECRET_KEY,
    PASSWORD_LENGTH,
    PORT,
    chart_values,
)
from upstream.redis_url import master_host, redis_url
from upstream.redis_volumes import GUARD_SUFFIX, claim_inputs, data_keepers
from upstream.stores import DEFAULT_STORE, client_label, credentials_secret

if TYPE_CHECKING:
    from components.cluster import Cluster


class RedisStore(pulumi.ComponentResource):
    """One Redis release whose password never passes through the chart's values.

    Only the namespace holds data (the volumes' PVCs live and die with it): it is kept on
    delete and, with `protect`, guarded. Everything else is derived and must stay replaceable:
    the engine refuses to replace a protected resource (pulumi pkg/resource/deploy/
    step_generator.go: `new.Protect && old.Protect`) and hands `protect` down to a
    component's children, so a protected chart would block every upgrade that renames,
    drops or must replace one of its objects. The one protected resource besides it, the
    data guard, holds nothing: it stands for the StatefulSet whose claims hold the sessions.
    """

    data_guard: random.RandomId
    namespace: k8s.core.v1.Namespace
    password: random.RandomPassword
    auth_secret: k8s.core.v1.Secret
    chart: k8s.helm.v4.Chart
    monitoring_crds: list[pulumi.Resource]
    host: str
    port: int
    url: pulumi.Output[str]
    stamp: pulumi.Output[str]
    config: RedisConfig
    redis_namespace: str | None
    owned_namespace: pulumi.Resource | None
    secret_name: str
    client_label: str | None
    ready: list[pulumi.Resource]

    def __init__(
        self,
        name: str,
        config: RedisConfig,
        cluster: Cluster,
        opts: pulumi.ResourceOptions | None = None,
        store: str = DEFAULT_STORE,
    ) -> None:
        """`name`: the Helm release; `store`: the store's name in the stack (its label and
        the agents' Secret name derive from it)."""
        own = pulumi.ResourceOptions(providers=[cluster.provider])
        super().__init__(
            "omnia-agents:index:RedisStore", name, None, pulumi.ResourceOptions.merge(opts, own)
        )

        def child(*needs: pulumi.Input[pulumi.Resource]) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=list(needs))

        label = client_label(store)
        values = chart_values(config, name, label)
        # The engine's own refusal of what would lose the sessions: keyed on the StatefulSet
        # that holds them (upstream/redis_volumes.py) and always protected, whatever
        # `protect` says, so a change that deletes, replaces or moves that StatefulSet makes
        # the engine replace this protected resource, which it refuses: `pulumi preview`
        # fails, and `up` stops at this step. Everything of Redis waits for it, so `up`
        # changes nothing before. Escape hatch (docs/operating-redis.md): `pulumi state unprotect`.
        self.data_guard = random.RandomId(
            f"{name}{GUARD_SUFFIX}",
            byte_length=4,
            keepers=data_keepers(
                release=name,
                namespace=config.namespace,
                sentinel=config.sentinel,
                volume_size=config.volume_size,
                claims=claim_inputs(values, config.sentinel),
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[cluster.agents_ready], protect=True
            ),
        )
        # Nothing is created before the cluster is known to run the operator and to keep every
        # agent as the stack writes it (the served CRD's verdict).
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": config.namespace},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[cluster.agents_ready, self.data_guard],
                protect=config.protect,
                # Deleting a Namespace deletes its PVCs, whatever the StatefulSets'
                # persistentVolumeClaimRetentionPolicy says: destroy leaves it in the cluster.
                retain_on_delete=True,
            ),
        )
        self.password = random.RandomPassword(
            f"{name}-password",
            length=PASSWORD_LENGTH,
            special=False,
            keepers={"rotation": config.password_rotation or ""},
            opts=child(cluster.agents_ready, self.data_guard),
        )
        self.auth_secret = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata={"name": AUTH_SECRET, "namespace": config.namespace},
            # The Kubernetes SDK sends stringData as a secret.
            string_data={AUTH_SECRET_KEY: self.password.result},
            opts=child(self.namespace),
        )
        # A cluster without the Prometheus operator fails the preview here, not `up` later.
        self.monitoring_crds = monitoring_crds(name, config, cluster, self)
        # The resource name is the release name: v4 prefixes every rendered object with it.
        self.chart = k8s.helm.v4.Chart(
            name,
            chart=config.chart,
            version=config.chart_version,
            name=name,
            namespace=config.namespace,
            values=values,
            opts=child(self.namespace, self.auth_secret, *self.monitoring_crds),
        )
        self.host = master_host(name, config.namespace)
        self.port = PORT
        url = self.password.result.apply(lambda pw: redis_url(pw, self.host, self.port))
        # Secret already through `result`; said again so no refactor can drop it.
        self.url = pulumi.Output.secret(url)
        # One plain digest for every agent's pod annotation (see credentials_digest).
        self.stamp = pulumi.Output.unsecret(url.apply(credentials_digest))
        self.config = config
        self.redis_namespace = config.namespace
        self.owned_namespace = self.namespace
        self.secret_name = credentials_secret(store)
        self.client_label = label
        self.ready = [self.chart]
        self.register_outputs({"host": self.host, "port": self.port, "url": self.url})


def monitoring_crds(
    name: str, config: RedisConfig, cluster: Cluster, parent: pulumi.Resource
) -> list[pulumi.Resource]:
    """Reads, at preview, of the CRDs of the Prometheus operator kinds the chart will render."""
    from components.cluster import Existing
    from upstream.kubernetes import CRD
    from upstream.prometheus_operator import PROMETHEUS_RULE_CRD, SERVICE_MONITOR_CRD

    wanted = (
        (SERVICE_MONITOR_CRD, config.metrics.service_monitor),
        (PROMETHEUS_RULE_CRD, config.metrics.prometheus_rule),
    )
    reads: list[pulumi.Resource] = []
    for crd, on in wanted:
        if on:
            # One after the other, so a cluster without the operator is always reported by
            # the same (first) read.
            opts = pulumi.ResourceOptions(
                parent=parent, provider=cluster.provider, depends_on=reads[-1:]
            )
            reads.append(Existing(CRD, f"{name}-{crd.split('.')[0]}-crd", crd, opts))
    return reads
