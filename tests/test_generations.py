"""`omniaVersion` picks spec.session (before 0.9.0-beta.17) or spec.context (from it on)."""

from __future__ import annotations

import pytest

import plan as harness
from components.config import ConfigError
from tests.conftest import AGENT_RUNTIME, context_era, expected_spec, planned_password, stack_config


@pytest.mark.parametrize(
    ("version", "field"),
    [
        (None, "session"),
        ("0.9.0-beta.16", "session"),
        ("0.9.0-beta.17", "context"),
        ("1.0.0", "context"),
    ],
)
def test_prod_stack_in_each_generation(version, field, write_stack) -> None:
    raw = stack_config("prod")
    if field == "context":
        raw = context_era(raw, version)
    elif version is None:
        del raw["omniaVersion"]
    else:
        raw["omniaVersion"] = version
    plan = harness.run_plan(write_stack(raw))
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
    (runtime,) = harness.run_plan(write_stack(raw)).find(AGENT_RUNTIME)
    assert runtime.inputs["metadata"] == {"name": "bot", "namespace": "default"}
    assert runtime.inputs["spec"] == {
        "promptPackRef": {"name": "p"},
        "facades": [{"type": "websocket"}],
        "context": {"type": "memory", "ttl": "45m"},
    }


@pytest.mark.parametrize(
    ("version", "wrong", "field"),
    [
        ("0.9.0-beta.17", "facade", "context"),
        ("0.9.0-beta.16", "facades", "session"),
        (None, "facades", "session"),
    ],
)
def test_spec_fields_of_the_other_release_are_refused(version, wrong, field) -> None:
    from components.config import parse_config

    raw = {
        "session": {"type": "memory"},
        "agents": [{"name": "a", "spec": {wrong: {"type": "websocket"}}}],
    }
    if version:
        raw["omniaVersion"] = version
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "stacks/Pulumi.t.yaml")
    era = "0.9.0-beta.17 or later" if wrong == "facades" else "releases before 0.9.0-beta.17"
    assert caught.value.lines() == [
        f"stacks/Pulumi.t.yaml: omnia-agents:agents[0].spec.{wrong}: spec.{wrong} belongs to "
        f"Omnia {era}, but omniaVersion {version or '(unset)'} selects spec.{field}: "
        "set omnia-agents:omniaVersion to the release the cluster runs"
    ]
