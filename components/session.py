"""The AgentRuntime session block, built the way the CRD's schema defines it."""

from __future__ import annotations

from typing import Any

from components.config import AgentConfig, SessionConfig, SessionField

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


def agent_spec(agent: AgentConfig, session: SessionConfig, field: SessionField) -> dict[str, Any]:
    """The user's spec passed through, with the session block under this release's key."""
    return {**agent.spec, field: session_block(session)}
