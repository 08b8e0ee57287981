"""The real dev stack: memory sessions, and no Redis at all."""

from __future__ import annotations

from offline import harness
from offline.program import run_plan
from tests.support.stacks import AGENT_RUNTIME, expected_session, stack_config
from upstream.agent_runtime import API_VERSION, KIND

CRD = "agentruntimes.omnia.altairalabs.ai"


def test_every_agent_is_an_agent_runtime_with_a_memory_session(dev_plan) -> None:
    raw = stack_config("dev")
    default = raw["session"]
    runtimes = {r.inputs["metadata"]["name"]: r for r in dev_plan.find(AGENT_RUNTIME)}
    assert sorted(runtimes) == sorted(a["name"] for a in raw["agents"])
    for agent in raw["agents"]:
        inputs = runtimes[agent["name"]].inputs
        assert inputs["apiVersion"] == API_VERSION == "omnia.altairalabs.ai/v1alpha1"
        assert inputs["kind"] == KIND == "AgentRuntime"
        assert inputs["metadata"] == {"name": agent["name"], "namespace": agent["namespace"]}
        session = {**default, **agent.get("session", {})}
        assert session["type"] == "memory"
        assert inputs["spec"] == {**agent["spec"], "context": session}  # 0.9.0-beta.17


def test_dev_session_blocks_are_memory_with_their_ttls(dev_plan) -> None:
    raw = stack_config("dev")
    blocks = {r.name: r.inputs["spec"]["context"] for r in dev_plan.find(AGENT_RUNTIME)}
    assert blocks == {
        f"{a['namespace']}.{a['name']}": expected_session(raw, a) for a in raw["agents"]
    }
    assert {b["type"] for b in blocks.values()} == {"memory"}
    assert raw["session"] == {"type": "memory", "ttl": "1h"}  # the brief's dev default


# The program's own cluster access: the component, its provider; no Redis type at all.
NO_REDIS = {
    "omnia-agents:index:Cluster",
    "pulumi:providers:kubernetes",
    "omnia-agents:index:AgentNamespace",
    AGENT_RUNTIME,
}


def _waits_only_for_the_cluster(plan: harness.Plan) -> None:
    """Each agent waits for the served CRD and for its namespace's read, nothing else."""
    reads = {(r.type, r.id): r.urn for r in plan.reads}
    crd = reads[("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", CRD)]
    for runtime in plan.find(AGENT_RUNTIME):
        namespace = reads[("kubernetes:core/v1:Namespace", runtime.inputs["metadata"]["namespace"])]
        assert sorted(runtime.dependencies) == sorted([crd, namespace])


def test_dev_registers_no_redis_resource(dev_plan) -> None:
    assert {r.type for r in dev_plan.resources} == NO_REDIS
    _waits_only_for_the_cluster(dev_plan)


def test_dev_outputs_list_each_agent_and_no_redis(dev_plan) -> None:
    raw = stack_config("dev")
    assert set(dev_plan.outputs) == {"agents"}
    assert dev_plan.outputs["agents"] == [
        {"namespace": a["namespace"], "name": a["name"], "context": expected_session(raw, a)}
        for a in raw["agents"]
    ]


def test_redis_settings_without_redis_agents_deploy_nothing_and_say_so(write_stack, caplog) -> None:
    raw = stack_config("dev")
    raw["redis"] = {"chartVersion": "22.0.5"}
    plan = run_plan(write_stack(raw))
    assert {r.type for r in plan.resources} == NO_REDIS
    _waits_only_for_the_cluster(plan)
    assert "omnia-agents:redis is set, but no agent uses redis sessions" in caplog.text
