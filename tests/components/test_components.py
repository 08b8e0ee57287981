"""Component conventions, checked on what the real stacks register."""

from __future__ import annotations

import re

import pytest

from offline import harness
from offline.inputs import stack_file_for
from offline.program import run_plan
from tests.support.stacks import AGENT_RUNTIME, redis_namespaces, stack_config

TOKEN = re.compile(r"^omnia-agents:index:[A-Z][A-Za-z]+$")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_component_registers_outputs(stack) -> None:
    plan = run_plan(stack_file_for(stack))
    components = [r for r in plan.resources if r.type.startswith("omnia-agents:")]
    assert components
    assert {r.type for r in components} <= {
        "omnia-agents:index:AgentNamespace",
        "omnia-agents:index:Cluster",
        "omnia-agents:index:RedisStore",
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
        elif r.type == AGENT_RUNTIME:
            # `<namespace>.<agent>`: a dot occurs in neither, so no two agents collide.
            assert r.name == f"{parent.name}.{r.inputs['metadata']['name']}"
            assert parent.name == r.inputs["metadata"]["namespace"]
        else:
            assert r.name.startswith(f"{parent.name}-"), (r.name, parent.name)


def test_runs_are_isolated_and_deterministic() -> None:
    first = run_plan(stack_file_for("prod")).items(show_secrets=True)
    run_plan(stack_file_for("dev"))
    again = run_plan(stack_file_for("prod")).items(show_secrets=True)
    assert first == again
    raw = stack_config("prod")
    namespaces = {a["namespace"] for a in raw["agents"]}
    # Cluster and its provider, the CRD read; RedisStore and its 5 children (the data guard,
    # namespace, password, Secret, chart); a component and a namespace read per agent
    # namespace; the Secret and label in each redis one; an AgentRuntime per agent.
    assert len(first) == (
        3 + 6 + 2 * len(namespaces) + 2 * len(redis_namespaces(raw)) + len(raw["agents"])
    )


def test_harness_knows_the_program_s_agent_runtime_token() -> None:
    from upstream.agent_runtime import API_VERSION, KIND

    assert f"kubernetes:{API_VERSION}:{KIND}" == harness.AGENT_RUNTIME == AGENT_RUNTIME
