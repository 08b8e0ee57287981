"""Config parsing, and the table of bad stack files `plan.py` must refuse (exit 2)."""

from __future__ import annotations

import copy
import runpy
from typing import Any

import pytest
import yaml

import plan as harness
from components.config import STACK_CONFIG_DIR, ConfigError, parse_config
from harness import run_program
from tests.conftest import stack_config


def test_stack_config_dir_matches_pulumi_yaml() -> None:
    project = yaml.safe_load((harness.ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert project["name"] == "omnia-agents"
    assert project["stackConfigDir"] == STACK_CONFIG_DIR


def test_real_prod_config_parses_to_its_values() -> None:
    raw = stack_config("prod")
    config = parse_config(raw, "stacks/Pulumi.prod.yaml")
    assert config.omnia_version == raw["omniaVersion"]
    assert config.session.type == raw["session"]["type"] == "redis"
    assert config.session.ttl == raw["session"]["ttl"]
    assert config.redis is not None
    assert config.redis.chart_version == raw["redis"]["chartVersion"]
    assert config.redis.namespace == raw["redis"]["namespace"]
    assert [(a.namespace, a.name) for a in config.agents] == [
        (a["namespace"], a["name"]) for a in raw["agents"]
    ]
    by_type = {a.name: s.type for a, s in config.agent_sessions()}
    expected = {a["name"]: a.get("session", {}).get("type", "redis") for a in raw["agents"]}
    assert by_type == expected
    # Only namespaces with a redis agent, in first-use order.
    wanted = [a["namespace"] for a in raw["agents"] if expected[a["name"]] == "redis"]
    assert config.redis_namespaces == list(dict.fromkeys(wanted))
    assert "public" not in config.redis_namespaces


def test_defaults() -> None:
    config = parse_config(
        {
            "session": {"type": "redis"},
            "redis": {"chartVersion": "22.0.5"},
            "agents": [{"name": "a"}],
        },
        "s",
    )
    assert config.agents[0].namespace == "default"
    assert config.redis is not None and config.redis.namespace == "redis"
    assert config.session.ttl == "24h"
    assert config.omnia_version is None and config.session_field == "session"


@pytest.mark.parametrize(
    ("version", "field"),
    [
        (None, "session"),
        ("0.2.0-alpha.1", "session"),
        ("0.9.0-beta.9", "session"),  # numeric pre-release order: beta.9 < beta.17
        ("0.9.0-beta.16", "session"),
        ("0.9.0-beta.17", "context"),
        ("0.9.0-beta.100", "context"),
        ("0.9.0-rc.1", "context"),
        ("0.9.0", "context"),
        ("v0.10.2", "context"),
        ("0.8.5", "session"),
    ],
)
def test_omnia_version_selects_the_crd_generation(version: str | None, field: str) -> None:
    raw: dict[str, Any] = {"session": {"type": "memory"}, "agents": [{"name": "a"}]}
    if version is not None:
        raw["omniaVersion"] = version
    assert parse_config(raw, "s").session_field == field


def test_all_problems_are_reported_together() -> None:
    raw = {
        "session": {"type": "redis", "ttl": "7d"},
        "agents": [{"name": "A"}, {"name": "b"}, {"name": "b"}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "stacks/Pulumi.x.yaml")
    assert [p.key for p in caught.value.problems] == [
        "omnia-agents:session.ttl",
        "omnia-agents:agents[0].name",
        "omnia-agents:agents[2].name",  # duplicate, found beside the model's own errors
        "omnia-agents:redis",
    ]


def test_secret_keys_are_refused_and_never_echoed() -> None:
    refused = (
        "s: omnia-agents:redis: is set as a secret, but its value would be written in clear "
        "into resources and outputs: omnia-agents settings hold no secrets; set it without --secret"
    )
    raw = {
        "session": {"type": "memory"},
        "agents": [{"name": "a"}],
        "redis": {"chartVersion": "1.0.0"},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "s", secret_keys=frozenset({"redis"}))
    assert caught.value.lines() == [refused]
    raw["redis"] = {"chartVersion": "hunter2-pw"}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "s", secret_keys=frozenset({"redis"}))
    assert "hunter2" not in str(caught.value)
    assert caught.value.lines() == [
        refused,
        "s: omnia-agents:redis.chartVersion: [secret] is not an exact version (x.y.z, e.g. '22.0.7'); pin one",
    ]
    with pytest.raises(ConfigError) as caught:
        parse_config({**raw, "redis": {"chartVersion": 22}}, "s", secret_keys=frozenset({"redis"}))
    assert caught.value.lines()[1] == (
        "s: omnia-agents:redis.chartVersion: Input should be a valid string (got [secret])"
    )


def test_secret_config_reaching_the_program_is_refused(write_stack) -> None:
    """As `pulumi config set --secret` hands a key to the program: listed as a secret key."""
    config = harness.read_stack_config(write_stack(_base()), "omnia-agents")
    plan = harness.Plan(stack="t")

    def program() -> None:
        runpy.run_path(str(harness.ROOT / "__main__.py"), run_name="__main__")

    with pytest.raises(ConfigError) as caught:
        run_program(
            program,
            config,
            project="omnia-agents",
            stack="t",
            into=plan,
            secret_keys=["omnia-agents:redis"],
        )
    assert [(p.key, p.message.split(",")[0]) for p in caught.value.problems] == [
        ("omnia-agents:redis", "is set as a secret")
    ]
    assert caught.value.source == "stacks/Pulumi.t.yaml"
    assert plan.resources == []


def test_snake_case_spellings_are_unknown_keys() -> None:
    raw = {"session": {"type": "memory"}, "agents": [{"name": "a"}], "omnia_version": "0.9.0"}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "s")
    assert caught.value.lines() == [
        "s: omnia-agents:omnia_version: unknown key (known: omniaVersion, session, redis, agents, crdFile, agentNamespaces)"
    ]


def _base() -> dict[str, Any]:
    return {
        "omniaVersion": "0.9.0-beta.16",
        "session": {"type": "redis", "ttl": "24h"},
        "redis": {"namespace": "redis", "chartVersion": "22.0.5"},
        "agents": [
            {
                "name": "support",
                "namespace": "agents",
                "spec": {"promptPackRef": {"name": "cs"}, "facade": {"type": "websocket"}},
            },
        ],
    }


def _set(path: str, value: Any) -> Any:
    def change(config: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = config
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


_DELETE = object()
_DNS = "is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)"
_NOT_GO = "is not a Go duration (units ns, us, ms, s, m, h; e.g. 30m, 24h, 1h30m)"
_SPEC_KEY = "is not allowed: set the agent's session (or omnia-agents:session) instead, so the block matches the operator's CRD generation"

BAD = [
    (
        "ttl-days",
        _set("session.ttl", "7d"),
        "omnia-agents:session.ttl: '7d' is not a Go duration (use '168h')",
    ),
    (
        "ttl-weeks",
        _set("session.ttl", "2w"),
        "omnia-agents:session.ttl: '2w' is not a Go duration (use '336h')",
    ),
    (
        "ttl-zero",
        _set("session.ttl", "0s"),
        "omnia-agents:session.ttl: '0s' must be a positive duration",
    ),
    (
        "ttl-negative",
        _set("session.ttl", "-30m"),
        "omnia-agents:session.ttl: '-30m' must be a positive duration",
    ),
    ("ttl-no-unit", _set("session.ttl", "3600"), f"omnia-agents:session.ttl: '3600' {_NOT_GO}"),
    ("ttl-word", _set("session.ttl", "forever"), f"omnia-agents:session.ttl: 'forever' {_NOT_GO}"),
    (
        "ttl-number",
        _set("session.ttl", 3600),
        "omnia-agents:session.ttl: Input should be a valid string (got 3600)",
    ),
    (
        "type-postgres",
        _set("session.type", "postgres"),
        "omnia-agents:session.type: 'postgres' is not supported: operators before 0.9.0-beta.17 "
        "silently fall back to memory sessions for it and later ones removed it; use memory or redis",
    ),
    (
        "type-unknown",
        _set("session.type", "disk"),
        "omnia-agents:session.type: Input should be 'memory' or 'redis' (got 'disk')",
    ),
    ("type-missing", _set("session.type", _DELETE), "omnia-agents:session.type: is required"),
    (
        "store-ref-in-session",
        _set("session.storeRef", {"name": "x", "key": "url"}),
        "omnia-agents:session.storeRef: unknown key (known: type, ttl)",
    ),
    ("session-missing", _set("session", _DELETE), "omnia-agents:session: is required"),
    (
        "session-not-a-map",
        _set("session", "redis"),
        "omnia-agents:session: Input should be a valid dictionary or instance of SessionConfig "
        "(got 'redis')",
    ),
    ("agents-missing", _set("agents", _DELETE), "omnia-agents:agents: is required"),
    (
        "agents-empty",
        _set("agents", []),
        "omnia-agents:agents: List should have at least 1 item after validation, not 0 (got [])",
    ),
    (
        "name-uppercase",
        _set("agents.0.name", "Support"),
        f"omnia-agents:agents[0].name: 'Support' {_DNS}",
    ),
    (
        "name-too-long",
        _set("agents.0.name", "a" * 64),
        f"omnia-agents:agents[0].name: '{'a' * 64}' {_DNS}",
    ),
    ("name-missing", _set("agents.0.name", _DELETE), "omnia-agents:agents[0].name: is required"),
    (
        "namespace-underscore",
        _set("agents.0.namespace", "my_ns"),
        f"omnia-agents:agents[0].namespace: 'my_ns' {_DNS}",
    ),
    (
        "spec-session",
        _set("agents.0.spec.session", {"type": "memory"}),
        f"omnia-agents:agents[0].spec: spec.session {_SPEC_KEY}",
    ),
    (
        "spec-context",
        _set("agents.0.spec.context", {"type": "redis"}),
        f"omnia-agents:agents[0].spec: spec.context {_SPEC_KEY}",
    ),
    (
        "spec-not-a-map",
        _set("agents.0.spec", "x"),
        "omnia-agents:agents[0].spec: Input should be a valid dictionary (got 'x')",
    ),
    (
        "agent-unknown-key",
        _set("agents.0.replicas", 2),
        "omnia-agents:agents[0].replicas: unknown key (known: name, namespace, session, spec)",
    ),
    (
        "agent-postgres",
        _set("agents.0.session", {"type": "postgres"}),
        "omnia-agents:agents[0].session.type: 'postgres' is not supported: operators before "
        "0.9.0-beta.17 silently fall back to memory sessions for it and later ones removed it; "
        "use memory or redis",
    ),
    (
        "agent-ttl-days",
        _set("agents.0.session", {"ttl": "30d"}),
        "omnia-agents:agents[0].session.ttl: '30d' is not a Go duration (use '720h')",
    ),
    (
        "duplicate-agent",
        lambda c: c["agents"].append(copy.deepcopy(c["agents"][0])),
        "omnia-agents:agents[1].name: duplicate agent agents/support (first at agents[0])",
    ),
    (
        "redis-missing",
        _set("redis", _DELETE),
        "omnia-agents:redis: is required when an agent uses redis sessions (set at least chartVersion)",
    ),
    (
        "chart-version-missing",
        _set("redis.chartVersion", _DELETE),
        "omnia-agents:redis.chartVersion: is required",
    ),
    (
        "chart-version-range",
        _set("redis.chartVersion", "^22.0"),
        "omnia-agents:redis.chartVersion: '^22.0' is not an exact version (x.y.z, e.g. '22.0.7'); pin one",
    ),
    (
        "redis-namespace-bad",
        _set("redis.namespace", "Redis"),
        f"omnia-agents:redis.namespace: 'Redis' {_DNS}",
    ),
    (
        "omnia-version-bad",
        _set("omniaVersion", "latest"),
        "omnia-agents:omniaVersion: 'latest' is not an Omnia release version (e.g. '0.9.0-beta.16')",
    ),
    (
        "unknown-top-key",
        _set("sesion", {"type": "memory"}),
        "omnia-agents:sesion: unknown key (known: omniaVersion, session, redis, agents, crdFile, agentNamespaces)",
    ),
]


def test_the_base_of_the_bad_table_is_good() -> None:
    parse_config(_base(), "s")


@pytest.mark.parametrize(("case", "change", "line"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_exits_2_naming_file_and_key(case, change, line, write_stack, capsys) -> None:
    config = _base()
    change(config)
    path = write_stack(config, name=case)
    assert harness.main(["--stack-file", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"{path}: {line}"]


def test_bad_config_registers_nothing(write_stack) -> None:
    config = _base()
    config["agents"].append({"name": "BAD"})
    plan = harness.Plan(stack="t")
    with pytest.raises(ConfigError):
        harness.run_plan(write_stack(config), into=plan)
    assert plan.resources == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("config: [1, 2]\n", "expected a mapping with a `config:` mapping"),
        (
            "config:\n  omnia-agents:redis:\n    chartVersion:\n      secure: AAAB\n",
            "omnia-agents:redis: encrypted values cannot be read offline",
        ),
        ("config: {omnia-agents:session: [\n", "not valid YAML"),
        (
            "config:\n  omnia-agents:session:\n    secure: AAAB\n",
            "omnia-agents:session: encrypted values cannot be read offline",
        ),
    ],
)
def test_unreadable_stack_files_exit_2(raw, message, write_stack, capsys) -> None:
    path = write_stack({}, raw=raw)
    assert harness.main(["--stack-file", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{path}: {message}")


def test_missing_stack_exits_2_naming_the_file(capsys) -> None:
    assert harness.main(["nosuchstack"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == (
        "",
        "stacks/Pulumi.nosuchstack.yaml: cannot read the stack file (No such file or directory)\n",
    )
