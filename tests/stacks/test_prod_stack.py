"""The real prod stack: Redis, its Secrets, the chart, and redis-session agents.

Expected values come from stacks/Pulumi.prod.yaml and the brief's rules, not from the code.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

from offline import cli, harness
from offline.inputs import stack_file_for
from offline.program import run_plan
from tests.support.stacks import (
    AGENT_RUNTIME,
    CHART,
    NAMESPACE,
    PASSWORD,
    PATCH,
    SECRET,
    expected_session,
    expected_spec,
    expected_url,
    planned_password,
    redis_namespaces,
    secret_value,
    stack_config,
)

_password = planned_password


def _host(raw: dict[str, Any]) -> str:
    return f"redis-master.{raw['redis']['namespace']}.svc"


def test_the_prod_file_exercises_both_session_types() -> None:
    raw = stack_config("prod")
    types = {expected_session(raw, a)["type"] for a in raw["agents"]}
    assert types == {"redis", "memory"}
    memory_only = {a["namespace"] for a in raw["agents"]} - redis_namespaces(raw)
    assert memory_only  # a namespace that must get no credentials Secret


def test_redis_namespace_and_password(prod_plan) -> None:
    raw = stack_config("prod")
    assert prod_plan.one(NAMESPACE, "redis-namespace").inputs["metadata"] == {
        "name": raw["redis"]["namespace"]
    }
    inputs = prod_plan.one(PASSWORD, "redis-password").inputs
    assert inputs["length"] >= 32
    assert inputs["special"] is False
    password = _password(prod_plan)
    assert len(password) == inputs["length"] and password.isalnum()


def test_redis_auth_secret_holds_the_generated_password(prod_plan) -> None:
    raw = stack_config("prod")
    secret = prod_plan.one(SECRET, "redis-auth").inputs
    assert secret["metadata"] == {"name": "redis-auth", "namespace": raw["redis"]["namespace"]}
    assert secret_value(secret["stringData"]) == {"redis-password": _password(prod_plan)}


def test_chart_reference_version_release_and_values(prod_plan) -> None:
    raw = stack_config("prod")
    chart = prod_plan.one(CHART, "redis")
    assert chart.inputs["chart"] == "oci://registry-1.docker.io/bitnamicharts/redis"
    assert chart.inputs["version"] == raw["redis"]["chartVersion"]
    assert chart.inputs["name"] == "redis"
    assert chart.inputs["namespace"] == raw["redis"]["namespace"]
    values = chart.inputs["values"]
    assert values["auth"] == {
        "enabled": True,
        "existingSecret": "redis-auth",
        "existingSecretPasswordKey": "redis-password",
    }
    assert values["architecture"] == raw["redis"]["architecture"]
    assert values["sentinel"]["enabled"] is raw["redis"]["sentinel"] is True
    assert values["sentinel"]["masterService"] == {"enabled": True}
    assert values["replica"]["replicaCount"] == raw["redis"]["replicas"]
    assert values["image"] == raw["redis"]["images"]["redis"]
    assert values["sentinel"]["image"] == raw["redis"]["images"]["sentinel"]
    assert values["kubectl"]["image"] == raw["redis"]["images"]["kubectl"]
    assert values["global"] == {"security": {"allowInsecureImages": True}}
    assert _password(prod_plan) not in json.dumps(chart.inputs)


def test_credentials_secret_only_where_a_redis_agent_lives(prod_plan) -> None:
    raw = stack_config("prod")
    creds = [
        r for r in prod_plan.find(SECRET) if r.inputs["metadata"]["name"] == "redis-credentials"
    ]
    namespaces = [r.inputs["metadata"]["namespace"] for r in creds]
    assert sorted(namespaces) == sorted(redis_namespaces(raw))
    password = _password(prod_plan)
    for secret in creds:
        data = secret_value(secret.inputs["stringData"])
        assert set(data) == {"url"}
        url = urlsplit(data["url"])
        assert (url.scheme, url.hostname, url.port) == ("redis", _host(raw), 6379)
        assert unquote(url.password or "") == password
        assert data["url"] == expected_url(raw, password)


def test_every_agent_runtime_and_its_session_block(prod_plan) -> None:
    raw = stack_config("prod")
    runtimes = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs
        for r in prod_plan.find(AGENT_RUNTIME)
    }
    assert sorted(runtimes) == sorted((a["namespace"], a["name"]) for a in raw["agents"])
    for agent in raw["agents"]:
        inputs = runtimes[(agent["namespace"], agent["name"])]
        assert inputs["apiVersion"] == "omnia.altairalabs.ai/v1alpha1"
        assert inputs["kind"] == "AgentRuntime"
        # omniaVersion 0.9.0-beta.17: the context era, with extraPodAnnotations.
        assert inputs["spec"] == expected_spec(raw, agent, _password(prod_plan))


def test_redis_agents_wait_for_their_secret_and_the_chart(prod_plan) -> None:
    raw = stack_config("prod")
    chart = prod_plan.one(CHART, "redis").urn
    password = prod_plan.one(PASSWORD, "redis-password").urn  # through the credentials stamp
    secrets = {
        r.inputs["metadata"]["namespace"]: r.urn
        for r in prod_plan.find(SECRET)
        if r.inputs["metadata"]["name"] == "redis-credentials"
    }
    labels = {r.inputs["metadata"]["name"]: r.urn for r in prod_plan.find(PATCH)}
    reads = {r.id: r.urn for r in prod_plan.reads}  # the CRD and each agent namespace
    deps = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): sorted(r.dependencies)
        for r in prod_plan.find(AGENT_RUNTIME)
    }
    for agent in raw["agents"]:
        ns = agent["namespace"]
        redis = expected_session(raw, agent)["type"] == "redis"
        wanted = [secrets[ns], labels[ns], chart, password] if redis else []
        wanted += [reads["agentruntimes.omnia.altairalabs.ai"], reads[ns]]
        assert deps[(ns, agent["name"])] == sorted(wanted)


def test_chart_waits_for_its_namespace_and_password_secret(prod_plan) -> None:
    namespace = prod_plan.one(NAMESPACE, "redis-namespace").urn
    auth = prod_plan.one(SECRET, "redis-auth")
    assert sorted(prod_plan.one(CHART, "redis").dependencies) == sorted([namespace, auth.urn])
    assert namespace in auth.dependencies


def test_apply_order_puts_dependencies_first(prod_plan) -> None:
    position = {r.urn: i for i, r in enumerate(prod_plan.resources)}
    checked = 0
    for r in prod_plan.resources:
        for urn in [r.parent, *r.dependencies]:
            if urn in position:
                assert position[urn] < position[r.urn], (r.name, urn)
                checked += 1
    assert checked >= len(prod_plan.resources) - 1


def test_stack_outputs(prod_plan) -> None:
    raw = stack_config("prod")
    outputs = prod_plan.outputs
    assert outputs["redis"] == {"host": _host(raw), "port": 6379}
    password = _password(prod_plan)
    assert secret_value(outputs["redisUrl"]) == f"redis://:{password}@{_host(raw)}:6379"
    assert outputs["agents"] == [
        {"namespace": a["namespace"], "name": a["name"], "context": expected_session(raw, a)}
        for a in raw["agents"]
    ]


def test_first_preview_chart_values_are_fully_known() -> None:
    """Chart v4 renders in preview: an unknown value would blank the whole chart there."""
    plan = run_plan(stack_file_for("prod"), unknown_computed=True)
    chart = harness.render(plan.one(CHART, "redis").inputs, show_secrets=True)
    assert harness.UNKNOWN not in json.dumps(chart)
    creds = plan.one(SECRET, "agents-credentials").inputs
    assert harness.render(creds, show_secrets=True)["stringData"] == harness.UNKNOWN


def test_plan_json_has_no_clear_text_secret(capsys) -> None:
    plan = run_plan(stack_file_for("prod"))
    password = _password(plan)
    assert cli.main(["prod", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    items = json.loads(out)
    assert password not in out and password not in err
    secrets = [i for i in items if i["type"] == SECRET]
    assert len(secrets) == 1 + len(redis_namespaces(stack_config("prod")))
    assert all(i["inputs"]["stringData"] == "[secret]" for i in secrets)
    assert cli.main(["prod", "--format", "json", "--show-secrets"]) == 0
    shown, _ = capsys.readouterr()
    assert password in shown


def test_agents_in_the_redis_namespace_wait_for_it(write_stack) -> None:
    """Only where the program creates agent namespaces: under `require` they exist, and the
    store's create of one would fail (tests/settings/test_bad_inputs.py)."""
    raw = stack_config("prod")
    raw["agentNamespaces"] = "create"
    redis_ns = raw["redis"]["namespace"]
    raw["agents"] += [
        {"name": "ops", "namespace": redis_ns},
        {"name": "ops-cache", "namespace": redis_ns, "session": {"type": "memory"}},
    ]
    plan = run_plan(write_stack(raw))
    namespace = plan.one(NAMESPACE, "redis-namespace").urn
    same = plan.one(SECRET, f"{redis_ns}-credentials")
    assert same.inputs["metadata"] == {"name": "redis-credentials", "namespace": redis_ns}
    assert namespace in same.dependencies
    deps = {r.inputs["metadata"]["name"]: r.dependencies for r in plan.find(AGENT_RUNTIME)}
    assert namespace in deps["ops"] and namespace in deps["ops-cache"]
    assert namespace not in plan.one(SECRET, "agents-credentials").dependencies
    assert all(namespace not in deps[a["name"]] for a in stack_config("prod")["agents"])


_BINARY = {"Mi": 1024**2, "Gi": 1024**3}


def _bytes(quantity: str) -> int:
    return int(quantity[:-2]) * _BINARY[quantity[-2:]]


def test_redis_sizing_and_failover_come_from_the_stack_file(prod_plan) -> None:
    """README rules: memory request = limit, no preset; maxmemory = percentOfLimit of the
    limit in whole MiB; replica buffers 10 % / 5 %; Sentinel timings and the write guard as set."""
    redis = stack_config("prod")["redis"]
    values = prod_plan.one(CHART, "redis").inputs["values"]
    memory, cpu = redis["resources"]["memory"], redis["resources"]["cpu"]
    for role in ("master", "replica"):
        assert values[role]["resourcesPreset"] == "none"
        assert values[role]["resources"] == {
            "requests": {"cpu": cpu, "memory": memory},
            "limits": {"memory": memory},
        }
    limit_mib = _bytes(memory) // 1024**2
    maxmemory = limit_mib * redis["maxmemory"]["percentOfLimit"] // 100
    failover = redis["failover"]
    assert values["commonConfiguration"].splitlines()[3:] == [
        f"maxmemory {maxmemory}mb",
        f"maxmemory-policy {redis['maxmemory']['policy']}",
        f"client-output-buffer-limit replica {limit_mib // 10}mb {limit_mib // 20}mb 60",
        f"min-replicas-to-write {failover['minReplicasToWrite']}",
        f"min-replicas-max-lag {failover['minReplicasMaxLag']}",
    ]
    # An AOF of a full maxmemory fits, three times over (base, growth, rewrite).
    assert _bytes(redis["volumeSize"]) >= 3 * maxmemory * 1024**2
    assert values["sentinel"]["downAfterMilliseconds"] == failover["downAfterMilliseconds"]
    assert values["sentinel"]["failoverTimeout"] == failover["failoverTimeout"]
    assert values["sentinel"]["resourcesPreset"] == "none"
    # Sentinel's nodes include the master: the write guard needs replicas - 1 >= its count.
    assert redis["replicas"] - 1 >= failover["minReplicasToWrite"]
