"""The AgentRuntime session block, and the wiring a release needs to reach its store (pure)."""

from __future__ import annotations

from typing import Any

from components.config import AgentConfig, SessionConfig
from components.releases import Release

CREDENTIALS_SECRET = "redis-credentials"
URL_KEY = "url"  # the operator always reads this key; the CRD's storeRef has only `name`
# Namespaces carrying this label may reach Redis; the chart's NetworkPolicy admits no one else.
CLIENT_LABEL = "omnia-agents/redis-client"


def session_block(session: SessionConfig) -> dict[str, Any]:
    """`storeRef` for redis only: the CRD requires it there (CEL) and has no `key` field."""
    block: dict[str, Any] = {"type": session.type, "ttl": session.ttl}
    if session.type == "redis":
        block["storeRef"] = {"name": CREDENTIALS_SECRET}
    return block


def url_env(release: Release) -> dict[str, Any]:
    """The runtime's Redis URL, read from the credentials Secret by the kubelet."""
    return {
        "name": release.runtime_url_env,
        "valueFrom": {"secretKeyRef": {"name": CREDENTIALS_SECRET, "key": URL_KEY}},
    }


def agent_spec(agent: AgentConfig, session: SessionConfig, release: Release) -> dict[str, Any]:
    """The user's spec passed through, with the session block under this release's key.

    Where the operator ignores `storeRef` (beta.1-beta.16) a redis agent also carries the URL
    env itself, after the user's own runtime env; without it the runtime exits at start.
    """
    spec = {**agent.spec, release.block: session_block(session)}
    if session.type == "redis" and release.url_wiring == "extra_env":
        runtime = dict(spec.get("runtime") or {})
        runtime["extraEnv"] = [*(runtime.get("extraEnv") or []), url_env(release)]
        spec["runtime"] = runtime
    return spec
