"""What each session store is called in the cluster: Helm release, namespace label, Secret.

`default` keeps the names a stack with `omnia-agents:redis` has always had (`redis`,
`omnia-agents/redis-client`, `redis-credentials`): its resources keep their URNs. Any other
store derives its own, so two stores never share a Secret or a NetworkPolicy label.
"""

from __future__ import annotations

from upstream.redis_chart import CLIENT_LABEL, RELEASE

DEFAULT_STORE = "default"
CREDENTIALS_SECRET = "redis-credentials"  # the default store's Secret in each agent namespace
# Longest store name: `redis-<store>` must stay a Helm release name (at most 53 characters,
# helm/pkg/chartutil) and `redis-client-<store>` a label name (at most 63).
STORE_NAME_MAX = 40


def release_name(store: str) -> str:
    """The Helm release (and the prefix of every object the chart renders)."""
    return RELEASE if store == DEFAULT_STORE else f"{RELEASE}-{store}"


def client_label(store: str) -> str:
    """The namespace label the store's NetworkPolicy admits (`ingressNSMatchLabels`)."""
    return CLIENT_LABEL if store == DEFAULT_STORE else f"{CLIENT_LABEL}-{store}"


def credentials_secret(store: str) -> str:
    """The Secret (key `url`) in each agent namespace of the store; `storeRef.name`."""
    return CREDENTIALS_SECRET if store == DEFAULT_STORE else f"{CREDENTIALS_SECRET}-{store}"
