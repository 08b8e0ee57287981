"""An external session store (a managed Redis, or one run by another team): no resources.

The program deploys nothing for it: no chart, no password, no namespace, no NetworkPolicy. Its
URL (a Pulumi secret) goes into the credentials Secret of each agent namespace that uses it.
"""

from __future__ import annotations

import pulumi

from upstream.agent_runtime import credentials_digest
from upstream.stores import credentials_secret


class ExternalStore:
    """What an agent namespace needs of a store, for one given by its URL."""

    def __init__(self, store: str, url: pulumi.Input[str]) -> None:
        secret = pulumi.Output.secret(url)  # secret everywhere, whatever the caller passed
        self.url: pulumi.Output[str] = secret
        self.stamp: pulumi.Output[str] = pulumi.Output.unsecret(secret.apply(credentials_digest))
        self.redis_namespace: str | None = None
        self.owned_namespace: pulumi.Resource | None = None
        self.secret_name = credentials_secret(store)
        self.client_label: str | None = None  # nothing in the cluster to admit anyone
        self.ready: list[pulumi.Resource] = []
