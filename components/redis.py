"""Redis for prod sessions: namespace, generated password, its Secret and the Bitnami chart."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.agent import credentials_digest
from components.config import ImagesConfig, RedisConfig
from components.duration import parse_go_duration
from components.session import CLIENT_LABEL

if TYPE_CHECKING:
    from components.cluster import Cluster

RELEASE = "redis"
PORT = 6379
AUTH_SECRET = "redis-auth"
AUTH_SECRET_KEY = "redis-password"
PASSWORD_LENGTH = 40
ROTATION_ANNOTATION = "omnia-agents/password-rotation"
# pulumi-kubernetes reads each object's own await timeout from this annotation when the object
# has no customTimeouts (provider/pkg/metadata TimeoutDuration); a Chart's customTimeouts do not
# reach its children (pulumi/pulumi#9822). The chart puts `commonAnnotations` on "all deployed
# objects" (its values.yaml).
TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds"
# Durability, stated rather than inherited from chart defaults: every write goes to the AOF,
# fsynced once a second, so a crash loses at most the last second. The crash test starts a
# real redis-server with exactly these lines.
PERSISTENCE = (("appendonly", "yes"), ("appendfsync", "everysec"), ("save", '""'))
_KEEP_VOLUMES = {"enabled": True, "whenDeleted": "Retain", "whenScaled": "Retain"}


def master_host(release: str, namespace: str) -> str:
    """The write Service: `<release>-master` in standalone, replication and Sentinel modes."""
    return f"{release}-master.{namespace}.svc"


def redis_url(password: str, host: str, port: int) -> str:
    """Percent-encode the password: `# ? / % [ ]` break go-redis's and redis-py's URL parsers."""
    return f"redis://:{quote(password, safe='')}@{host}:{port}"


def redis_conf() -> str:
    """The chart's `commonConfiguration`: redis.conf lines."""
    return "".join(f"{key} {value}\n" for key, value in PERSISTENCE)


def ready_timeout_seconds(config: RedisConfig) -> int:
    return math.ceil(parse_go_duration(config.ready_timeout) / 1_000_000_000)


def chart_values(config: RedisConfig) -> dict[str, Any]:
    """Plain values only: Chart v4 renders in preview and must not see unknown Outputs."""
    pods: dict[str, Any] = {
        "persistence": {"enabled": True},
        # Volumes outlive the release: uninstalling (or scaling down) never deletes data.
        "persistentVolumeClaimRetentionPolicy": dict(_KEEP_VOLUMES),
    }
    if config.password_rotation:
        # The chart does not watch an existing Secret: a new annotation restarts the pods
        # so they read the rotated password.
        pods["podAnnotations"] = {ROTATION_ANNOTATION: config.password_rotation}
    values: dict[str, Any] = {
        "architecture": config.architecture,
        "auth": {
            "enabled": True,
            # A fixed Secret, not the chart's own: its `lookup` re-generates on every render.
            "existingSecret": AUTH_SECRET,
            "existingSecretPasswordKey": AUTH_SECRET_KEY,
        },
        "commonConfiguration": redis_conf(),
        "master": dict(pods),
        "networkPolicy": {
            "enabled": True,
            "allowExternal": False,
            "ingressNSMatchLabels": {CLIENT_LABEL: "true"},
        },
    }
    if config.architecture == "replication":
        values["replica"] = dict(pods)
        if config.replicas is not None:
            values["replica"]["replicaCount"] = config.replicas
    if config.sentinel:
        # masterService keeps `<release>-master` on the current master: a kubectl sidecar
        # relabels the pods through the Kubernetes API, hence the ServiceAccount, its token
        # and RBAC (the chart refuses to render masterService without all three).
        values["sentinel"] = {
            "enabled": True,
            "masterService": {"enabled": True},
            "persistentVolumeClaimRetentionPolicy": dict(_KEEP_VOLUMES),
        }
        values["replica"]["automountServiceAccountToken"] = True
        values["rbac"] = {"create": True}
        values["serviceAccount"] = {"create": True}
    # Every rendered object waits for readiness at most this long during `pulumi up`.
    values["commonAnnotations"] = {TIMEOUT_ANNOTATION: str(ready_timeout_seconds(config))}
    images = config.images or ImagesConfig()
    overrides = (
        ("redis", images.redis),
        ("sentinel", images.sentinel),
        ("kubectl", images.kubectl),
    )
    for role, image in overrides:
        if image is None or not image.model_dump(exclude_none=True):
            continue
        if role != "redis" and not config.sentinel:
            continue  # only Sentinel mode runs the sentinel and kubectl images
        target = values if role == "redis" else values.setdefault(role, {})
        target["image"] = image.model_dump(exclude_none=True)
        # The chart refuses images other than its own unless told otherwise.
        values["global"] = {"security": {"allowInsecureImages": True}}
    return values


class RedisStore(pulumi.ComponentResource):
    """One Redis release whose password never passes through the chart's values.

    Only the namespace holds data (the volumes' PVCs live and die with it): it is kept on
    delete and, with `protect`, guarded. Everything else is derived and must stay replaceable:
    the engine refuses to replace a protected resource (pulumi pkg/resource/deploy/
    step_generator.go: `new.Protect && old.Protect`) and hands `protect` down to a
    component's children, so a protected chart would block every upgrade that renames,
    drops or must replace one of its objects.
    """

    namespace: k8s.core.v1.Namespace
    password: random.RandomPassword
    auth_secret: k8s.core.v1.Secret
    chart: k8s.helm.v4.Chart
    host: str
    port: int
    url: pulumi.Output[str]
    stamp: pulumi.Output[str]
    config: RedisConfig

    def __init__(
        self,
        name: str,
        config: RedisConfig,
        cluster: Cluster,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        own = pulumi.ResourceOptions(providers=[cluster.provider])
        super().__init__(
            "omnia-agents:index:RedisStore", name, None, pulumi.ResourceOptions.merge(opts, own)
        )

        def child(*needs: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=list(needs))

        # Nothing is created before the cluster is known to run the operator.
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": config.namespace},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[cluster.crd],
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
            opts=child(cluster.crd),
        )
        self.auth_secret = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata={"name": AUTH_SECRET, "namespace": config.namespace},
            # The Kubernetes SDK sends stringData as a secret.
            string_data={AUTH_SECRET_KEY: self.password.result},
            opts=child(self.namespace),
        )
        # The resource name is the release name: v4 prefixes every rendered object with it.
        self.chart = k8s.helm.v4.Chart(
            name,
            chart=config.chart,
            version=config.chart_version,
            name=name,
            namespace=config.namespace,
            values=chart_values(config),
            opts=child(self.namespace, self.auth_secret),
        )
        self.host = master_host(name, config.namespace)
        self.port = PORT
        url = self.password.result.apply(lambda pw: redis_url(pw, self.host, self.port))
        # Secret already through `result`; said again so no refactor can drop it.
        self.url = pulumi.Output.secret(url)
        # One plain digest for every agent's pod annotation (see credentials_digest).
        self.stamp = pulumi.Output.unsecret(url.apply(credentials_digest))
        self.config = config
        self.register_outputs({"host": self.host, "port": self.port, "url": self.url})
