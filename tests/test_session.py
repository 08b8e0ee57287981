"""The session block and the spec it lands in, as pure functions."""

from __future__ import annotations

from components.config import AgentConfig, SessionConfig
from components.session import CREDENTIALS_SECRET, agent_spec, session_block


def test_memory_block_has_no_store_ref() -> None:
    assert session_block(SessionConfig(type="memory", ttl="1h")) == {"type": "memory", "ttl": "1h"}


def test_redis_block_references_the_credentials_secret_by_name_only() -> None:
    block = session_block(SessionConfig(type="redis", ttl="24h"))
    assert block == {"type": "redis", "ttl": "24h", "storeRef": {"name": "redis-credentials"}}
    assert CREDENTIALS_SECRET == "redis-credentials"


def test_ttl_defaults_to_the_crd_default() -> None:
    assert SessionConfig(type="redis").ttl == "24h"


def test_agent_spec_passes_the_rest_through_under_the_generation_key() -> None:
    agent = AgentConfig(name="support", spec={"promptPackRef": {"name": "cs"}, "facades": []})
    session = SessionConfig(type="redis", ttl="2h")
    spec = agent_spec(agent, session, "context")
    assert spec == {
        "promptPackRef": {"name": "cs"},
        "facades": [],
        "context": {"type": "redis", "ttl": "2h", "storeRef": {"name": "redis-credentials"}},
    }
    assert "session" not in spec
    assert agent.spec == {"promptPackRef": {"name": "cs"}, "facades": []}  # not mutated


def test_agent_override_merges_over_the_default() -> None:
    default = SessionConfig(type="redis", ttl="24h")
    assert AgentConfig(name="a", session={"ttl": "2h"}).merged_session(default) == SessionConfig(
        type="redis", ttl="2h"
    )
    assert AgentConfig(name="a", session={"type": "memory"}).merged_session(
        default
    ) == SessionConfig(type="memory", ttl="24h")
    assert AgentConfig(name="a").merged_session(default) == default
