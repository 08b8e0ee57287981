"""Redis for prod sessions: namespace, generated password, its Secret and the Bitnami chart."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.config import RedisConfig

CHART = "oci://registry-1.docker.io/bitnamicharts/redis"
RELEASE = "redis"
PORT = 6379
AUTH_SECRET = "redis-auth"
AUTH_SECRET_KEY = "redis-password"
PASSWORD_LENGTH = 40


def master_host(release: str, namespace: str) -> str:
    """The chart's write Service, `<release>-master`, in standalone and replication alike."""
    return f"{release}-master.{namespace}.svc"


def redis_url(password: str, host: str, port: int) -> str:
    """Percent-encode the password: `# ? / % [ ]` break go-redis's and redis-py's URL parsers."""
    return f"redis://:{quote(password, safe='')}@{host}:{port}"


def chart_values(config: RedisConfig) -> dict[str, Any]:
    """Plain values only: Chart v4 renders in preview and must not see unknown Outputs."""
    values: dict[str, Any] = {
        "architecture": "standalone",
        "auth": {
            "enabled": True,
            # A fixed Secret, not the chart's own: its `lookup` re-generates on every render.
            "existingSecret": AUTH_SECRET,
            "existingSecretPasswordKey": AUTH_SECRET_KEY,
        },
    }
    image = config.image.model_dump(exclude_none=True) if config.image else {}
    if image:
        values["image"] = image
        # The chart refuses images other than its own unless told otherwise.
        values["global"] = {"security": {"allowInsecureImages": True}}
    return values


class RedisStore(pulumi.ComponentResource):
    """One Redis release whose password never passes through the chart's values."""

    namespace: k8s.core.v1.Namespace
    password: random.RandomPassword
    auth_secret: k8s.core.v1.Secret
    chart: k8s.helm.v4.Chart
    host: str
    port: int
    url: pulumi.Output[str]

    def __init__(
        self, name: str, config: RedisConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("omnia-agents:index:RedisStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": config.namespace},
            opts=child,
        )
        self.password = random.RandomPassword(
            f"{name}-password", length=PASSWORD_LENGTH, special=False, opts=child
        )
        self.auth_secret = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata={"name": AUTH_SECRET, "namespace": config.namespace},
            # The Kubernetes SDK sends stringData as a secret.
            string_data={AUTH_SECRET_KEY: self.password.result},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        # The resource name is the release name: v4 prefixes every rendered object with it.
        self.chart = k8s.helm.v4.Chart(
            name,
            chart=CHART,
            version=config.chart_version,
            name=name,
            namespace=config.namespace,
            values=chart_values(config),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, self.auth_secret]),
        )
        self.host = master_host(name, config.namespace)
        self.port = PORT
        url = self.password.result.apply(lambda pw: redis_url(pw, self.host, self.port))
        # Secret already through `result`; said again so no refactor can drop it.
        self.url = pulumi.Output.secret(url)
        self.register_outputs({"host": self.host, "port": self.port, "url": self.url})
