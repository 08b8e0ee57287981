"""The policy pack on the real plans of the stack files, and on planted violations.

pulumi-policy ships no test helpers: ResourceValidationArgs/StackValidationArgs are built by
hand from what the mock harness records (the same runs `plan.py` prints), props with secrets
unwrapped and unknowns behind pulumi-policy's own unknown-checking proxy, as the analyzer
hands them over. A remote component (the Chart v4) arrives with no props, as the engine sends
it (offline/analyzer.py `engine_resources`): its values are judged on a Helm v3 Release here,
its rendered objects in test_rendered_policies.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from offline import harness
from offline.analyzer import DEFAULT_CONFIG
from offline.harness import Registration
from offline.inputs import ROOT
from offline.program import run_plan
from policy import pack, rules
from tests.support.stacks import AGENT_RUNTIME, CHART, SECRET

POLICIES = {p.name: p for p in pack.policies()}
RELEASE = rules.HELM_VALUES[1]  # a v3 Release: its values reach the pack


def _props(value: Any) -> Any:
    """As the analyzer deserializes inputs: secrets unwrapped, unknowns kept as sentinels."""
    if rpc.is_rpc_secret(value):
        return _props(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _props(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_props(v) for v in value]
    if isinstance(value, Unknown):
        return rpc.UNKNOWN  # the sentinel the analyzer's proxy raises on
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _options(r: Registration) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=r.protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(r.secret_outputs),
        parent=r.parent or None,
    )


def _resources(plan: harness.Plan) -> list[Registration]:
    return [r for r in plan.resources if not r.type.startswith("omnia-agents:")]


def run_policies(
    plan: harness.Plan, config: dict[str, dict[str, Any]] | None = None
) -> dict[str, list[str]]:
    """Every policy over every resource (and the stack): its violations, by policy name."""
    config = config or {}
    found: dict[str, list[str]] = {name: [] for name in POLICIES}
    # What both kinds of arguments carry: type, props, urn, name, options.
    seen = [
        (
            r.type,
            unknown_checking_proxy({} if r.remote else _props(r.inputs)),
            r.urn,
            r.name,
            _options(r),
        )
        for r in _resources(plan)
    ]
    for name, policy in POLICIES.items():

        def report(message: str, urn: str | None = None, name: str = name) -> None:
            found[name].append(message)

        if isinstance(policy, ResourceValidationPolicy):
            for fields in seen:
                try:
                    policy.validate(
                        ResourceValidationArgs(*fields, None, config.get(name, {})), report
                    )
                except UnknownValueError:
                    found[name].append("(unknown at preview)")
        else:
            assert isinstance(policy, StackValidationPolicy)
            resources = [PolicyResource(*fields, None, None, [], {}) for fields in seen]
            policy.validate(StackValidationArgs(resources, config.get(name, {})), report)
    return found


def _stack_raw(stack: str) -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    config: dict[str, Any] = document["config"]
    return config


def _nothing(found: dict[str, list[str]]) -> None:
    # The metrics advisory holds for prod (it runs without the Prometheus operator):
    # test_metrics_policy.py asserts it.
    found = {**found, "omnia-production-redis-metrics": []}
    assert found == {name: [] for name in POLICIES}


def _pack_config() -> dict[str, dict[str, Any]]:
    """policy/config.json, the file the README passes to --policy-pack-config."""
    config: dict[str, dict[str, Any]] = json.loads(DEFAULT_CONFIG.read_text())
    return config


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_policy_passes_on_the_real_stacks(stack) -> None:
    plan = run_plan(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
    assert len(plan.find(AGENT_RUNTIME)) >= 2  # the policies did see agents
    _nothing(run_policies(plan, _pack_config()))


def test_the_prod_stack_is_production_and_dev_is_not(plan_of) -> None:
    """prod holds a memory agent (public/faq) and passes only because of that stack's Redis."""
    dev = _stack_raw("dev")
    assert run_policies(plan_of(dev, "dev"))["omnia-production-sessions"] == []
    found = run_policies(plan_of(dev, "prod-eu"))["omnia-production-sessions"]
    assert (
        found
        == ["spec.context.type is 'memory': production agents must keep sessions in redis"] * 2
    )
    custom = {"omnia-production-sessions": {"productionStacks": ["live-*"]}}
    assert run_policies(plan_of(dev, "prod-eu"), custom)["omnia-production-sessions"] == []
    assert len(run_policies(plan_of(dev, "live-1"), custom)["omnia-production-sessions"]) == 2


def test_prod_s_stateless_memory_agent_passes_only_as_a_listed_exception(plan_of) -> None:
    prod = _stack_raw("prod")
    assert _pack_config()["omnia-production-sessions"]["memoryAgents"] == ["public/faq"]
    found = run_policies(plan_of(prod, "prod"))  # no config: no exceptions
    assert found["omnia-production-sessions"] == [
        "spec.context.type is 'memory': production agents must keep sessions in redis"
    ]


def _runtime(plan: harness.Plan, name: str) -> Registration:
    (found,) = [r for r in plan.find(AGENT_RUNTIME) if r.inputs["metadata"]["name"] == name]
    return found


def _plant(plan: harness.Plan, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    runtime = _runtime(plan, name)
    inputs = copy.deepcopy(runtime.inputs)
    change(inputs["spec"])
    runtime.inputs = inputs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s.__setitem__("session", {"type": "memory"}),
            "spec.session and spec.context together: each release reads one of them and the API "
            "server prunes the other, so one set of settings is silently lost",
        ),
        (
            lambda s: s["context"].__setitem__("ttl", "7d"),
            "spec.context.ttl: '7d' is not a Go duration (use '168h')",
        ),
        (
            lambda s: s["context"].__setitem__("type", "postgres"),
            "spec.context.type: 'postgres' is not supported: operators before 0.9.0-beta.17 "
            "silently fall back to memory sessions for it and later ones removed it; use "
            "memory or redis",
        ),
        (
            lambda s: s["context"]["storeRef"].__setitem__("key", "uri"),
            "spec.context.storeRef: only `name` (a Secret in the agent's namespace, key `url`): "
            "the CRD has no other field and the API server prunes the rest",
        ),
        (
            lambda s: s["context"].pop("storeRef"),
            "spec.context.storeRef: required for redis sessions (name of a Secret with key `url`, "
            "e.g. redis-credentials)",
        ),
    ],
)
def test_planted_session_block_violations(change, message) -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    _plant(plan, "support", change)
    assert run_policies(plan)["omnia-session-block"] == [message]


def test_planted_credentials_secret_violations() -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    (secret,) = [r for r in plan.find(SECRET) if r.name == "finance-credentials"]
    secret.inputs = {**secret.inputs, "stringData": {"uri": "redis://x"}}
    assert run_policies(plan)["omnia-credentials-secret"] == [
        "finance/billing: Secret finance/redis-credentials has no key `url`, the only key the "
        "operator reads"
    ]
    secret.inputs = {**secret.inputs, "stringData": {"url": "redis://x"}}
    secret.secret_outputs = []
    assert run_policies(plan)["omnia-credentials-secret"] == [
        "finance/billing: Secret finance/redis-credentials holds `url` outside Pulumi secrets: "
        "the password would be stored in clear in the state"
    ]


def as_release(plan: harness.Plan) -> Registration:
    """prod's chart as a Helm v3 Release with the same inputs: a custom resource, whose
    values reach a pack (a Chart v4's never do)."""
    chart = plan.one(CHART, "redis")
    chart.type, chart.remote = RELEASE, False
    return chart


def test_a_chart_v4_s_values_never_reach_the_pack() -> None:
    """The finding: planted in a Chart v4, the clear password and the open policy go unseen,
    as under `pulumi preview`; the same values on a v3 Release are violations."""
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    chart = plan.one(CHART, "redis")
    values = copy.deepcopy(chart.inputs["values"])
    values["auth"]["password"] = "hunter2"
    values["networkPolicy"]["allowExternal"] = True
    chart.inputs = {**chart.inputs, "values": values}
    assert run_policies(plan)["omnia-production-redis-chart"] == []
    as_release(plan)
    assert len(run_policies(plan)["omnia-production-redis-chart"]) == 2


def test_planted_chart_violations_in_production() -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    chart = as_release(plan)
    values = copy.deepcopy(chart.inputs["values"])
    values["auth"]["password"] = "hunter2"
    values["networkPolicy"].pop("allowExternal")
    chart.inputs = {**chart.inputs, "values": values}
    assert run_policies(plan)["omnia-production-redis-chart"] == [
        "values.auth.password is set in clear: it lands in state and in the Helm release; use "
        "auth.existingSecret",
        "values.networkPolicy.allowExternal is not false: the NetworkPolicy admits every pod",
    ]
    values["networkPolicy"]["enabled"] = False
    values["auth"] = {"enabled": False}
    assert run_policies(plan)["omnia-production-redis-chart"] == [
        "values.auth.enabled is false: anyone who reaches Redis reads every session",
        "values.networkPolicy.enabled is false: every pod can reach Redis",
    ]


def test_release_ttl_is_advisory_and_follows_the_release(plan_of) -> None:
    prod = _stack_raw("prod")
    prod["omnia-agents:agents"][1]["session"] = {"ttl": "48h"}  # agents/triage
    plan = plan_of(prod, "prod")
    assert POLICIES["omnia-release-ttl"].enforcement_level.value == "advisory"
    beta17 = {"omnia-release-ttl": {"omniaVersion": "0.9.0-beta.17"}}
    assert run_policies(plan, beta17)["omnia-release-ttl"] == [
        "omnia 0.9.0-beta.17 keeps session history 24h (redis), shorter than ttl 48h: clients "
        "can resume sessions whose history is gone"
    ]
    head = {"omnia-release-ttl": {"omniaVersion": "0.9.0-beta.18"}}
    assert run_policies(plan, head)["omnia-release-ttl"] == []
    assert run_policies(plan)["omnia-release-ttl"] == []  # no version configured: no opinion


def test_unknown_values_at_first_preview_are_not_violations() -> None:
    """First preview: the password, hence every credentials URL, is not known yet."""
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml", unknown_computed=True)
    secrets = [r for r in plan.find(SECRET) if r.inputs["metadata"]["name"] == "redis-credentials"]
    assert secrets and all(_props(r.inputs)["stringData"] == rpc.UNKNOWN for r in secrets)
    with pytest.raises(UnknownValueError):  # what the credentials rule meets, and survives
        unknown_checking_proxy(_props(secrets[0].inputs))["stringData"]
    _nothing(run_policies(plan, _pack_config()))


# ---- the gaps issue 16 found: each planted in a real prod plan --------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["context"]["storeRef"].__setitem__("name", ""),
            "spec.context.storeRef.name: '' is not a Secret name (a DNS-1123 subdomain: "
            "Kubernetes ValidateSecretName); the operator reads no Secret",
        ),
        (
            lambda s: s["context"]["storeRef"].__setitem__("name", 7),
            "spec.context.storeRef.name: 7 is not a Secret name (a DNS-1123 subdomain: "
            "Kubernetes ValidateSecretName); the operator reads no Secret",
        ),
        (
            lambda s: s["context"]["storeRef"].__setitem__("name", "Redis_Credentials"),
            "spec.context.storeRef.name: 'Redis_Credentials' is not a Secret name (a DNS-1123 "
            "subdomain: Kubernetes ValidateSecretName); the operator reads no Secret",
        ),
        (
            lambda s: s["context"].__setitem__("url", "redis://:hunter2@redis:6379"),
            "spec.context: unknown keys url (the CRD has only type, ttl and storeRef; the API "
            "server prunes the rest)",
        ),
    ],
)
def test_planted_block_gaps(change, message) -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    _plant(plan, "support", change)
    assert run_policies(plan)["omnia-session-block"] == [message]


def test_patches_and_other_api_versions_are_judged() -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    runtime = _runtime(plan, "support")
    runtime.type = "kubernetes:omnia.altairalabs.ai/v1alpha1:AgentRuntimePatch"
    runtime.inputs = {**runtime.inputs, "spec": {"context": {"type": "redis", "ttl": "7d"}}}
    found = run_policies(plan)["omnia-session-block"]
    assert "spec.context.ttl: '7d' is not a Go duration (use '168h')" in found
    runtime.type = "kubernetes:omnia.altairalabs.ai/v1beta1:AgentRuntime"
    assert (
        "spec.context.ttl: '7d' is not a Go duration (use '168h')"
        in run_policies(plan)["omnia-session-block"]
    )


def test_a_credentials_secret_in_another_namespace_is_a_violation() -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    (secret,) = [r for r in plan.find(SECRET) if r.name == "finance-credentials"]
    secret.inputs = {**secret.inputs, "metadata": {"name": "redis-credentials", "namespace": "ops"}}
    assert run_policies(plan)["omnia-credentials-secret"] == [
        "finance/billing: Secret redis-credentials is made in agents, ops, not in finance: a "
        "storeRef reads the agent's own namespace"
    ]


def test_a_credentials_url_that_is_not_redis_is_a_violation() -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    (secret,) = [r for r in plan.find(SECRET) if r.name == "finance-credentials"]
    secret.inputs = {
        **secret.inputs,
        "stringData": rpc.wrap_rpc_secret({"url": "http://not-redis"}),
    }
    assert run_policies(plan)["omnia-credentials-secret"] == [
        "finance/billing: Secret finance/redis-credentials `url` is not a Redis URL (redis://, "
        "rediss://, unix://: go-redis ParseURL refuses the rest)"
    ]


def test_the_block_the_release_prunes_and_the_missing_url_env() -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    _plant(plan, "support", lambda s: s.__setitem__("session", s.pop("context")))
    beta17 = {"omnia-release-block": {"omniaVersion": "0.9.0-beta.17"}}
    assert run_policies(plan, beta17)["omnia-release-block"] == [
        "spec.session: omnia 0.9.0-beta.17 reads spec.context; the API server prunes "
        "spec.session and the agent runs on memory sessions"
    ]
    beta16 = {"omnia-release-block": {"omniaVersion": "0.9.0-beta.16"}}
    found = run_policies(plan, beta16)["omnia-release-block"]
    assert (
        "spec.runtime.extraEnv: no OMNIA_SESSION_URL: omnia 0.9.0-beta.16 ignores storeRef and "
        "the runtime exits without the Redis URL"
    ) in found  # support, on `session` now, without the env
    assert len(found) == len(plan.find(AGENT_RUNTIME))  # the rest carry `context`: pruned
    assert run_policies(plan)["omnia-release-block"] == []  # no version configured


@pytest.mark.parametrize(
    "chart",
    [
        "./charts/redis-23.1.1.tgz",
        "vendor/bitnami-redis.tgz",
        "oci://mirror.example/x/redis:23.1.1",
    ],
)
def test_redis_charts_from_any_source_are_recognised(chart) -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    release = as_release(plan)
    values = copy.deepcopy(release.inputs["values"])
    values["auth"]["enabled"] = False
    release.inputs = {**release.inputs, "chart": chart, "values": values}
    assert run_policies(plan)["omnia-production-redis-chart"] == [
        "values.auth.enabled is false: anyone who reaches Redis reads every session"
    ]


def test_global_password_and_open_extra_ingress_are_violations() -> None:
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    release = as_release(plan)
    values = copy.deepcopy(release.inputs["values"])
    values["global"] = {"redis": {"password": "hunter2"}}
    values["networkPolicy"]["extraIngress"] = [
        {"ports": [{"port": 6379}]},
        {"from": [{"namespaceSelector": {}}]},
        {"from": [{"ipBlock": {"cidr": "::/0"}}], "ports": [{"port": 26379}]},
        # Not open: pods of Redis' own namespace; another port than Redis' and Sentinel's.
        {"from": [{"podSelector": {}}], "ports": [{"port": 6379}]},
        {"ports": [{"port": 9121}]},
    ]
    release.inputs = {**release.inputs, "values": values}
    assert run_policies(plan)["omnia-production-redis-chart"] == [
        "values.global.redis.password is set in clear (it overrides auth.password): it lands in "
        "state and in the Helm release; use auth.existingSecret",
        "values.networkPolicy.extraIngress[0] admits every source (no `from`): Redis is open "
        "to the cluster",
        "values.networkPolicy.extraIngress[1] admits every pod of every namespace (an empty "
        "namespaceSelector): Redis is open to the cluster",
        "values.networkPolicy.extraIngress[2] admits every address (ipBlock ::/0): Redis is "
        "open to the cluster",
    ]


def test_external_and_second_in_cluster_stores_pass_and_a_clear_store_url_does_not(
    plan_of,
) -> None:
    """docs/snippets/Pulumi.stores.yaml: stores named other than default, their own Secret
    names (redis-credentials-<store>), an external store's URL as the Secret's `url`."""
    config = yaml.safe_load((ROOT / "docs" / "snippets" / "Pulumi.stores.yaml").read_text())
    plan = plan_of(config["config"], "stores")
    names = sorted(
        r.inputs["metadata"]["name"] for r in plan.find(SECRET) if "credentials" in r.name
    )
    assert names == ["redis-credentials", "redis-credentials-managed", "redis-credentials-tenant-b"]
    _nothing(run_policies(plan, _pack_config()))
    (secret,) = [r for r in plan.find(SECRET) if r.name == "team-c-credentials"]
    secret.secret_outputs = []
    assert run_policies(plan)["omnia-credentials-secret"] == [
        "team-c/faq: Secret team-c/redis-credentials-managed holds `url` outside Pulumi "
        "secrets: the password would be stored in clear in the state"
    ]
