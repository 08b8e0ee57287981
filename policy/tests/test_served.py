"""The pack as the Pulumi CLI runs it: `python -m pulumi.policy` serves the analyzer protocol.

One real process, one gRPC client: the pack starts, lists its policies, and turns a planted
violation in a real prod AgentRuntime into a mandatory diagnostic.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from offline import harness
from offline.inputs import stack_file_for
from offline.program import run_plan
from policy import pack
from tests.support.plugins import served

POLICY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Any]:
    # pulumi-language-python RunPlugin for an analyzer: `python -u -m pulumi.policy <engine>
    # <pack dir>`, in the pack's folder (pulumi/pulumi sdk/python/cmd/pulumi-language-python).
    with served(["-u", "-m", "pulumi.policy", "127.0.0.1:9", str(POLICY)], POLICY) as channel:
        yield analyzer_pb2_grpc.AnalyzerStub(channel)


def test_the_pack_lists_its_policies(analyzer) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
    assert info.name == "omnia-agents"
    assert sorted(p.name for p in info.policies) == [
        "omnia-credentials-secret",
        "omnia-production-redis-auth",
        "omnia-production-redis-chart",
        "omnia-production-redis-metrics",
        "omnia-production-redis-network",
        "omnia-production-sessions",
        "omnia-release-block",
        "omnia-release-ttl",
        "omnia-session-block",
    ]


def test_a_bad_ttl_in_a_real_agent_is_a_mandatory_diagnostic(analyzer) -> None:
    plan = run_plan(stack_file_for("prod"))
    runtime = next(r for r in plan.find(harness.AGENT_RUNTIME) if r.name == "agents.support")
    props = harness.render(runtime.inputs, show_secrets=True)
    props["spec"]["context"]["ttl"] = "7d"
    request = analyzer_pb2.AnalyzeRequest(
        type=runtime.type, urn=runtime.urn, name=runtime.name, properties=struct_pb2.Struct()
    )
    request.properties.update(props)
    diagnostics = analyzer.Analyze(request, timeout=20).diagnostics
    description = next(p for p in pack.policies() if p.name == "omnia-session-block").description
    assert [(d.policyName, d.message, d.enforcementLevel) for d in diagnostics] == [
        (
            "omnia-session-block",
            # pulumi-policy puts the policy's description before the violation's message
            f"{description}\nspec.context.ttl: '7d' is not a Go duration (use '168h')",
            analyzer_pb2.MANDATORY,
        )
    ]
    props["spec"]["context"]["ttl"] = "24h"
    request.properties.Clear()
    request.properties.update(props)
    assert list(analyzer.Analyze(request, timeout=20).diagnostics) == []
