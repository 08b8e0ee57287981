"""The `redis-credentials` Secret an agent namespace needs: a SecretKeyRef is namespace-local."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.session import CREDENTIALS_SECRET, URL_KEY


class SessionCredentials(pulumi.ComponentResource):
    """Holds the store URL under the key the operator reads."""

    secret: k8s.core.v1.Secret

    def __init__(
        self,
        name: str,
        namespace: str,
        url: pulumi.Input[str],
        needs: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("omnia-agents:index:SessionCredentials", name, None, opts)
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": CREDENTIALS_SECRET, "namespace": namespace},
            string_data={URL_KEY: url},  # the Kubernetes SDK sends stringData as a secret
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(needs)),
        )
        self.register_outputs({"namespace": namespace, "name": CREDENTIALS_SECRET})
