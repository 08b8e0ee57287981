"""Component conventions, checked on what the real stacks register."""

from __future__ import annotations

import re

import pytest

import plan as harness
from tests.conftest import expected_session, stack_config

TOKEN = re.compile(r"^omnia-agents:index:[A-Z][A-Za-z]+$")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_component_registers_outputs(stack) -> None:
    plan = harness.run_plan(harness.stack_file_for(stack))
    components = [r for r in plan.resources if r.type.startswith("omnia-agents:")]
    assert components
    assert {r.type for r in components} <= {
        "omnia-agents:index:Agent",
        "omnia-agents:index:RedisStore",
        "omnia-agents:index:SessionCredentials",
    }
    for component in components:
        assert TOKEN.match(component.type)
        assert component.urn in plan.completed, component.name


def test_children_are_parented_and_named_after_their_component(prod_plan) -> None:
    components = {r.urn: r for r in prod_plan.resources if r.type.startswith("omnia-agents:")}
    for r in prod_plan.resources:
        if r.urn in components:
            continue
        parent = components[r.parent]  # every resource lives in one of our components
        if r.type == "kubernetes:helm.sh/v4:Chart":
            assert r.name == parent.name == "redis"  # the Helm release name
        else:
            assert r.name.startswith(f"{parent.name}-"), (r.name, parent.name)


def test_runs_are_isolated_and_deterministic() -> None:
    first = harness.run_plan(harness.stack_file_for("prod")).items(show_secrets=True)
    harness.run_plan(harness.stack_file_for("dev"))
    again = harness.run_plan(harness.stack_file_for("prod")).items(show_secrets=True)
    assert first == again
    raw = stack_config("prod")
    redis_namespaces = {
        a["namespace"] for a in raw["agents"] if expected_session(raw, a)["type"] == "redis"
    }
    # RedisStore and its 4 children; per redis namespace the component, Secret and label;
    # per agent the component and its AgentRuntime.
    assert len(first) == 5 + 3 * len(redis_namespaces) + 2 * len(raw["agents"])
