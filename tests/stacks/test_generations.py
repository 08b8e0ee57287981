"""Each era of ../shared/omnia-releases.md: the block, the URL wiring and the pod stamps the
release needs, on the real prod stack moved to that release."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline import cli
from offline.program import run_plan
from settings.errors import ConfigError
from tests.support.shared import crd_path
from tests.support.stacks import (
    AGENT_RUNTIME,
    expected_session,
    expected_spec,
    omnia_era,
    planned_password,
    session_era,
    stack_config,
)

URL_FROM_SECRET = {
    "name": "OMNIA_SESSION_URL",
    "valueFrom": {"secretKeyRef": {"name": "redis-credentials", "key": "url"}},
}


def _prod_on(version: str) -> dict[str, Any]:
    raw = stack_config("prod")  # 0.9.0-beta.17: context and facades
    if omnia_era(version) in ("alpha", "beta"):
        return session_era(raw, version)
    raw["omniaVersion"] = version
    return raw


@pytest.mark.parametrize(
    ("version", "field"),
    [
        ("0.2.0-alpha.1", "session"),  # the operator maps storeRef; no extraPodAnnotations
        ("0.2.0-alpha.12", "session"),
        ("0.9.0-beta.1", "session"),  # storeRef ignored: the URL must come as runtime env
        ("0.9.0-beta.16", "session"),
        ("0.9.0-beta.17", "context"),
        ("0.9.0-beta.18", "context"),  # newer than known: treated like HEAD
        ("1.0.0", "context"),
    ],
)
def test_prod_stack_in_each_era(version, field, write_stack) -> None:
    raw = _prod_on(version)
    plan = run_plan(write_stack(raw))
    other = {"session": "context", "context": "session"}[field]
    specs = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in plan.find(AGENT_RUNTIME)}
    assert len(specs) == len(raw["agents"])
    for agent in raw["agents"]:
        spec = specs[agent["name"]]
        assert other not in spec
        assert spec == expected_spec(raw, agent, planned_password(plan))
    assert [set(a) for a in plan.outputs["agents"]] == [{"namespace", "name", field}] * len(
        raw["agents"]
    )


@pytest.mark.parametrize("version", ["0.9.0-beta.1", "0.9.0-beta.16"])
def test_beta_redis_agents_carry_the_url_env_and_memory_agents_do_not(version, write_stack) -> None:
    raw = _prod_on(version)
    plan = run_plan(write_stack(raw))
    specs = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in plan.find(AGENT_RUNTIME)}
    for agent in raw["agents"]:
        spec = specs[agent["name"]]
        if expected_session(raw, agent)["type"] == "redis":
            assert spec["runtime"] == {"extraEnv": [URL_FROM_SECRET]}, agent["name"]
        else:
            assert "runtime" not in spec, agent["name"]


@pytest.mark.parametrize(
    ("version", "injected"), [("0.9.0-beta.16", True), ("0.9.0-beta.17", False)]
)
def test_user_runtime_settings_are_kept_and_the_url_env_goes_last(
    version, injected, write_stack
) -> None:
    raw = _prod_on(version)
    env = [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "TZ", "value": "UTC"}]
    own: dict[str, Any] = {"replicas": 2, "extraEnv": env}
    raw["agents"][0]["spec"]["runtime"] = own
    plan = run_plan(write_stack(raw))
    name = raw["agents"][0]["name"]
    (runtime,) = [r for r in plan.find(AGENT_RUNTIME) if r.inputs["metadata"]["name"] == name]
    expected = {**own, "extraEnv": [*env, URL_FROM_SECRET]} if injected else own
    assert runtime.inputs["spec"]["runtime"] == expected


def test_beta16_plan_json_shows_the_injected_env(write_stack, capsys) -> None:
    raw = _prod_on("0.9.0-beta.16")
    assert cli.main(["--stack-file", str(write_stack(raw)), "--format", "json"]) == 0
    items = json.loads(capsys.readouterr().out)
    runtimes = {
        i["inputs"]["metadata"]["name"]: i["inputs"]["spec"]
        for i in items
        if i["type"] == AGENT_RUNTIME
    }
    redis = {a["name"] for a in raw["agents"] if expected_session(raw, a)["type"] == "redis"}
    assert redis == {"support", "triage", "billing"}  # what the prod file sets today
    with_env = {
        n
        for n, s in runtimes.items()
        if URL_FROM_SECRET in s.get("runtime", {}).get("extraEnv", [])
    }
    assert with_env == redis
    # ...and beta.16's own CRD keeps all of it (no pruning, no rejection).
    crd = crd_path("v0.9.0-beta.16")
    assert cli.main(["--stack-file", str(write_stack(raw)), "--crd", str(crd)]) == 0
    assert capsys.readouterr().err == ""


def test_context_era_stack_passes_facades_through(write_stack) -> None:
    raw = {
        "omniaVersion": "0.9.0-beta.17",
        "session": {"type": "memory", "ttl": "45m"},
        "agents": [
            {
                "name": "bot",
                "spec": {"promptPackRef": {"name": "p"}, "facades": [{"type": "websocket"}]},
            }
        ],
    }
    (runtime,) = run_plan(write_stack(raw)).find(AGENT_RUNTIME)
    assert runtime.inputs["metadata"] == {"name": "bot", "namespace": "default"}
    assert runtime.inputs["spec"] == {
        "promptPackRef": {"name": "p"},
        "facades": [{"type": "websocket"}],
        "context": {"type": "memory", "ttl": "45m"},
    }


_FACADE = "`facade: {type: websocket, port: 8080}` (one object)"


@pytest.mark.parametrize(
    ("version", "wrong", "fix"),
    [
        (
            "0.9.0-beta.17",
            "facade",
            "belongs to Omnia releases before 0.9.0-beta.17; omniaVersion 0.9.0-beta.17 reads "
            "spec.facades: write `facades: [{type: websocket, port: 8080}]` (a list)",
        ),
        (
            "0.9.0-beta.16",
            "facades",
            "belongs to Omnia 0.9.0-beta.17 or later; omniaVersion 0.9.0-beta.16 reads "
            f"spec.facade: write {_FACADE}",
        ),
        (
            None,
            "facades",
            "belongs to Omnia 0.9.0-beta.17 or later; omniaVersion is unset, which means a "
            "release before 0.9.0-beta.17 (spec.facade): set omnia-agents:omniaVersion to the "
            f"release the cluster runs, or write {_FACADE}",
        ),
    ],
)
def test_spec_fields_of_the_other_release_are_refused_with_the_fix(version, wrong, fix) -> None:
    """A beta.1-16 stack with `facades: [...]` has omniaVersion right: the fix is the one
    object its CRD requires, shown as the user's own facade (issue 16)."""
    from settings.loader import parse_config

    facade = {"type": "websocket", "port": 8080}
    raw = {
        "session": {"type": "memory"},
        "agents": [{"name": "a", "spec": {wrong: [facade] if wrong == "facades" else facade}}],
    }
    if version:
        raw["omniaVersion"] = version
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "stacks/Pulumi.t.yaml")
    assert caught.value.lines() == [
        f"stacks/Pulumi.t.yaml: omnia-agents:agents[0].spec.{wrong}: {fix}"
    ]


def test_memory_only_stack_may_leave_the_version_unset(write_stack) -> None:
    raw = session_era(stack_config("dev"))
    del raw["omniaVersion"]
    plan = run_plan(write_stack(raw))
    specs = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in plan.find(AGENT_RUNTIME)}
    assert specs == {a["name"]: expected_spec(raw, a) for a in raw["agents"]}
    assert all("session" in spec for spec in specs.values())
