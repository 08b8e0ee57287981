"""What an agent namespace needs to use Redis: the credentials Secret and the client label.

A SecretKeyRef is namespace-local, so each such namespace gets its own `redis-credentials`;
the label is what the chart's NetworkPolicy admits.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.redis import CLIENT_LABEL
from components.session import CREDENTIALS_SECRET, URL_KEY


class SessionCredentials(pulumi.ComponentResource):
    """Holds the store URL under the key the operator reads, and opens the NetworkPolicy."""

    secret: k8s.core.v1.Secret
    label: k8s.core.v1.NamespacePatch

    def __init__(
        self,
        name: str,
        namespace: str,
        url: pulumi.Input[str],
        needs: Sequence[pulumi.Resource] = (),
        protect: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("omnia-agents:index:SessionCredentials", name, None, opts)
        self.secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": CREDENTIALS_SECRET, "namespace": namespace},
            string_data={URL_KEY: url},  # the Kubernetes SDK sends stringData as a secret
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(needs), protect=protect),
        )
        # A server-side-apply patch: labels a namespace we do not own, and only that label.
        self.label = k8s.core.v1.NamespacePatch(
            f"{name}-label",
            metadata={"name": namespace, "labels": {CLIENT_LABEL: "true"}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(needs)),
        )
        self.register_outputs({"namespace": namespace, "name": CREDENTIALS_SECRET})
