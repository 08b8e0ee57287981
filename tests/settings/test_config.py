"""Config parsing, and the table of bad stack files `plan.py` must refuse (exit 2)."""

from __future__ import annotations

import copy
import runpy
from typing import Any

import pytest
import yaml

from offline import cli, harness
from offline.harness import run_program
from offline.inputs import ROOT, read_stack_config
from offline.program import run_plan
from settings.errors import ConfigError
from settings.loader import parse_config
from settings.project import STACK_CONFIG_DIR
from tests.support.stacks import stack_config


def test_stack_config_dir_matches_pulumi_yaml() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
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
    config = parse_config({"session": {"type": "memory"}, "agents": [{"name": "a"}]}, "s")
    assert config.agents[0].namespace == "default"
    assert config.session.ttl == "24h"
    assert config.omnia_version is None and config.release.block == "session"
    redis = parse_config(
        {
            "omniaVersion": "0.9.0-beta.17",
            "session": {"type": "redis"},
            "redis": {"chartVersion": "22.0.5"},
            "agents": [{"name": "a"}],
        },
        "s",
    )
    assert redis.redis is not None and redis.redis.namespace == "redis"


# From ../shared/omnia-releases.md's release table: spec block, facade key, how the Redis URL
# reaches the runtime, extraPodAnnotations, and how long history is kept (None: `ttl`).
_ALPHA = ("session", "facade", "operator", False, {"redis": "24h", "memory": "1h"})
_BETA = ("session", "facade", "extra_env", True, {"redis": "24h", "memory": "1h"})
_BETA17 = ("context", "facades", "operator", True, {"redis": "24h", "memory": "1h"})
_HEAD = ("context", "facades", "operator", True, None)


@pytest.mark.parametrize(
    ("version", "row"),
    [
        ("0.2.0-alpha.1", _ALPHA),
        ("0.2.0-alpha.12", _ALPHA),
        ("0.8.5", _ALPHA),  # not a release: behaves like the newest release before it
        ("0.9.0-beta.1", _BETA),
        ("0.9.0-beta.9", _BETA),  # numeric pre-release order: beta.9 < beta.17
        ("0.9.0-beta.16", _BETA),
        ("v0.9.0-beta.16", _BETA),  # the tag spelling
        ("0.9.0-beta.17", _BETA17),
        ("0.9.0-beta.18", _HEAD),  # newer than the newest known release: like HEAD
        ("0.9.0-beta.100", _HEAD),
        ("0.9.0-rc.1", _HEAD),
        ("0.9.0", _HEAD),
        ("v0.10.2", _HEAD),
    ],
)
def test_omnia_version_selects_its_row_of_the_release_table(version: str, row: Any) -> None:
    raw: dict[str, Any] = {
        "omniaVersion": version,
        "session": {"type": "memory"},
        "agents": [{"name": "a"}],
    }
    release = parse_config(raw, "s").release
    got = (release.block, release.facade, release.url_wiring, release.pod_annotations)
    assert (*got, release.history) == row
    assert release.extra_env is (row[1] == "facades" or row[2] == "extra_env")


def test_unset_omnia_version_means_session_and_nothing_release_specific() -> None:
    release = parse_config({"session": {"type": "memory"}, "agents": [{"name": "a"}]}, "s").release
    assert (release.block, release.facade, release.pod_annotations, release.extra_env) == (
        "session",
        "facade",
        False,
        False,
    )


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
        "omnia-agents:omniaVersion",  # redis sessions need the release
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
    config = read_stack_config(write_stack(_base()), "omnia-agents")
    plan = harness.Plan(stack="t")

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

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
        "s: omnia-agents:omnia_version: unknown key (known: omniaVersion, session, redis, stores, agents, crdFile, agentNamespaces)"
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
        "omnia-agents:session.storeRef: unknown key (known: type, ttl, store)",
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
        "omnia-agents:redis: is required when an agent uses redis sessions (set at least chartVersion), or name the stores under omnia-agents:stores",
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
        "omnia-agents:omniaVersion: 'latest' is not an Omnia release version (e.g. '0.9.0-beta.17')",
    ),
    (
        "omnia-version-too-old",
        _set("omniaVersion", "0.1.0"),
        "omnia-agents:omniaVersion: '0.1.0' is older than the oldest Omnia release known (0.2.0-alpha.1)",
    ),
    (
        "omnia-version-missing-for-redis",
        _set("omniaVersion", _DELETE),
        "omnia-agents:omniaVersion: is required when an agent uses redis sessions: Omnia releases "
        "differ in how the Redis URL reaches the agent (0.9.0-beta.1..0.9.0-beta.16 ignore storeRef "
        "and need it as runtime env), so set the release the cluster runs (e.g. '0.9.0-beta.17')",
    ),
    (
        "extra-env-session-url",
        _set(
            "agents.0.spec.runtime",
            {
                "extraEnv": [
                    {"name": "LOG_LEVEL", "value": "debug"},
                    {"name": "OMNIA_SESSION_URL", "value": "redis://x"},
                ]
            },
        ),
        "omnia-agents:agents[0].spec.runtime.extraEnv[1].name: OMNIA_SESSION_URL is the Redis URL "
        "the runtime reads: the operator (or this program, on releases whose operator does not) "
        "sets it from the redis-credentials Secret; remove it and set the agent's session instead",
    ),
    (
        "extra-env-context-url",
        _set("agents.0.spec.runtime", {"extraEnv": [{"name": "OMNIA_CONTEXT_URL", "value": "x"}]}),
        "omnia-agents:agents[0].spec.runtime.extraEnv[0].name: OMNIA_CONTEXT_URL is the Redis URL "
        "the runtime reads: the operator (or this program, on releases whose operator does not) "
        "sets it from the redis-credentials Secret; remove it and set the agent's session instead",
    ),
    (
        "pod-annotations-not-a-map",
        _set("agents.0.spec.extraPodAnnotations", "x"),
        "omnia-agents:agents[0].spec.extraPodAnnotations: must be a mapping of annotation names "
        "to values",
    ),
    (
        "pod-annotations-credentials-stamp",
        _set("agents.0.spec.extraPodAnnotations", {"omnia-agents/credentials-hash": "0"}),
        "omnia-agents:agents[0].spec.extraPodAnnotations.omnia-agents/credentials-hash: is set by "
        "omnia-agents (a digest of the Redis credentials, so pods roll when the password "
        "rotates): remove it",
    ),
    (
        "create-default-namespace",
        lambda c: c.update(agentNamespaces="create") or c["agents"][0].pop("namespace"),
        "omnia-agents:agents[0].namespace: 'default' exists in every cluster: agentNamespaces: "
        "create would take it over (and destroy would delete it); put the agent in its own "
        "namespace",
    ),
    (
        "runtime-not-a-map",
        _set("agents.0.spec.runtime", ["x"]),
        "omnia-agents:agents[0].spec.runtime: must be a mapping (AgentRuntime runtime)",
    ),
    (
        "extra-env-not-a-list",
        _set("agents.0.spec.runtime", {"extraEnv": {"A": "b"}}),
        "omnia-agents:agents[0].spec.runtime.extraEnv: must be a list of {name, value}",
    ),
    (
        "unknown-top-key",
        _set("sesion", {"type": "memory"}),
        "omnia-agents:sesion: unknown key (known: omniaVersion, session, redis, stores, agents, crdFile, agentNamespaces)",
    ),
]


def test_the_base_of_the_bad_table_is_good() -> None:
    parse_config(_base(), "s")


@pytest.mark.parametrize(("case", "change", "line"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_exits_2_naming_file_and_key(case, change, line, write_stack, capsys) -> None:
    config = _base()
    change(config)
    path = write_stack(config, name=case)
    assert cli.main(["--stack-file", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"{path}: {line}"]


def test_bad_config_registers_nothing(write_stack) -> None:
    config = _base()
    config["agents"].append({"name": "BAD"})
    plan = harness.Plan(stack="t")
    with pytest.raises(ConfigError):
        run_plan(write_stack(config), into=plan)
    assert plan.resources == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("config: [1, 2]\n", "expected a mapping with a `config:` mapping"),
        (
            "config:\n  omnia-agents:redis:\n    chartVersion:\n      secure: AAAB\n",
            "omnia-agents:redis.chartVersion: encrypted values cannot be read offline",
        ),
        (
            "config: {omnia-agents:session: [\n",
            "line 2, column 1: did not find expected node content: not valid YAML",
        ),
        (
            "config:\n  omnia-agents:session:\n    secure: AAAB\n",
            "omnia-agents:session: encrypted values cannot be read offline",
        ),
    ],
)
def test_unreadable_stack_files_exit_2(raw, message, write_stack, capsys) -> None:
    path = write_stack({}, raw=raw)
    assert cli.main(["--stack-file", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{path}: {message}")


def test_missing_stack_exits_2_naming_the_file(capsys) -> None:
    assert cli.main(["nosuchstack"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == (
        "",
        "stacks/Pulumi.nosuchstack.yaml: cannot read the stack file (No such file or directory)\n",
    )
