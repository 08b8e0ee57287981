"""`omniaVersion` picks spec.session (before 0.9.0-beta.17) or spec.context (from it on)."""

from __future__ import annotations

import pytest
import yaml

import plan as harness
from tests.conftest import AGENT_RUNTIME, stack_config


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
    config = stack_config("prod")
    if version is None:
        del config["omniaVersion"]
    else:
        config["omniaVersion"] = version
    plan = harness.run_plan(write_stack(config))
    other = {"session": "context", "context": "session"}[field]
    blocks = {}
    for runtime in plan.find(AGENT_RUNTIME):
        assert other not in runtime.inputs["spec"]
        blocks[runtime.inputs["metadata"]["name"]] = runtime.inputs["spec"][field]
    assert blocks["billing"] == {
        "type": "redis",
        "ttl": "24h",
        "storeRef": {"name": "redis-credentials"},
    }
    assert blocks["faq"] == {"type": "memory", "ttl": "1h"}
    assert [set(a) for a in plan.outputs["agents"]] == [{"namespace", "name", field}] * 4


def test_context_era_stack_passes_facades_through(write_stack) -> None:
    path = write_stack(
        {
            "omniaVersion": "0.9.0-beta.17",
            "session": {"type": "memory", "ttl": "45m"},
            "agents": [
                {
                    "name": "bot",
                    "spec": {"promptPackRef": {"name": "p"}, "facades": [{"type": "websocket"}]},
                }
            ],
        }
    )
    plan = harness.run_plan(path)
    (runtime,) = plan.find(AGENT_RUNTIME)
    assert runtime.inputs["metadata"] == {"name": "bot", "namespace": "default"}
    assert runtime.inputs["spec"] == {
        "promptPackRef": {"name": "p"},
        "facades": [{"type": "websocket"}],
        "context": {"type": "memory", "ttl": "45m"},
    }
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document["config"]["omnia-agents:omniaVersion"] == "0.9.0-beta.17"
