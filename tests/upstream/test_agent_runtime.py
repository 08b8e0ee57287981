"""The session block and the spec it lands in, as pure functions."""

from __future__ import annotations

from settings.models import AgentConfig, SessionConfig
from upstream.agent_runtime import CREDENTIALS_SECRET, agent_spec, session_block, url_env
from upstream.omnia_releases import release_for

BETA16 = release_for("0.9.0-beta.16")


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
    spec = agent_spec(agent, session, release_for("0.9.0-beta.17"))
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


def test_url_env_reads_the_credentials_secret() -> None:
    assert url_env(BETA16) == {
        "name": "OMNIA_SESSION_URL",  # what cmd/runtime/main.go reads on beta.1-beta.16
        "valueFrom": {"secretKeyRef": {"name": "redis-credentials", "key": "url"}},
    }


def test_beta_redis_spec_appends_the_url_env_to_the_user_s_runtime() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    mine = {"replicas": 3, "extraEnv": env}
    agent = AgentConfig(name="a", spec={"facade": {"type": "websocket"}, "runtime": mine})
    spec = agent_spec(agent, SessionConfig(type="redis"), BETA16)
    assert spec["runtime"] == {"replicas": 3, "extraEnv": [*env, url_env(BETA16)]}
    assert agent.spec["runtime"] is mine and len(env) == 2  # not mutated
    memory = agent_spec(agent, SessionConfig(type="memory"), BETA16)
    assert memory["runtime"] == mine


def test_no_url_env_where_the_operator_wires_store_ref() -> None:
    agent = AgentConfig(name="a")
    for version in ("0.2.0-alpha.1", "0.9.0-beta.17", "0.9.0-beta.18"):
        assert "runtime" not in agent_spec(agent, SessionConfig(type="redis"), release_for(version))
