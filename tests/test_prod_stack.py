"""The real prod stack: Redis, its Secrets, the chart, and redis-session agents."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

import plan as harness
from components.config import parse_config
from components.redis import CHART, chart_values
from tests.conftest import (
    AGENT_RUNTIME,
    NAMESPACE,
    PASSWORD,
    SECRET,
    secret_value,
    stack_config,
)
from tests.conftest import (
    CHART as CHART_TYPE,
)


def _password(plan: harness.Plan) -> str:
    """The password the mocked provider generated for this run."""
    password = harness.mock_password(
        f"{plan.stack}/redis-password", plan.one(PASSWORD, "redis-password").inputs
    )
    assert len(password) >= 32
    return password


def test_redis_namespace_and_password(prod_plan) -> None:
    raw = stack_config("prod")
    assert prod_plan.one(NAMESPACE, "redis-namespace").inputs["metadata"] == {
        "name": raw["redis"]["namespace"]
    }
    inputs = prod_plan.one(PASSWORD, "redis-password").inputs
    assert inputs["length"] >= 32
    assert inputs["special"] is False


def test_redis_auth_secret_holds_the_generated_password(prod_plan) -> None:
    raw = stack_config("prod")
    secret = prod_plan.one(SECRET, "redis-auth").inputs
    assert secret["metadata"] == {"name": "redis-auth", "namespace": raw["redis"]["namespace"]}
    assert secret_value(secret["stringData"]) == {"redis-password": _password(prod_plan)}


def test_chart_reference_version_release_and_values(prod_plan) -> None:
    raw = stack_config("prod")
    chart = prod_plan.one(CHART_TYPE, "redis")
    assert chart.inputs["chart"] == CHART == "oci://registry-1.docker.io/bitnamicharts/redis"
    assert chart.inputs["version"] == raw["redis"]["chartVersion"]
    assert chart.inputs["name"] == "redis"
    assert chart.inputs["namespace"] == raw["redis"]["namespace"]
    values = chart.inputs["values"]
    assert values == chart_values(parse_config(raw, "prod").redis)  # type: ignore[arg-type]
    assert values["auth"] == {
        "enabled": True,
        "existingSecret": "redis-auth",
        "existingSecretPasswordKey": "redis-password",
    }
    assert values["image"] == raw["redis"]["image"]
    assert values["global"] == {"security": {"allowInsecureImages": True}}
    assert _password(prod_plan) not in json.dumps(values)


def test_credentials_secret_only_where_a_redis_agent_lives(prod_plan) -> None:
    raw = stack_config("prod")
    redis_namespaces = {
        a["namespace"]
        for a in raw["agents"]
        if a.get("session", {}).get("type", raw["session"]["type"]) == "redis"
    }
    creds = [
        r for r in prod_plan.find(SECRET) if r.inputs["metadata"]["name"] == "redis-credentials"
    ]
    assert (
        {r.inputs["metadata"]["namespace"] for r in creds}
        == redis_namespaces
        == {"agents", "finance"}
    )
    assert len(creds) == 2
    password = _password(prod_plan)
    for secret in creds:
        data = secret_value(secret.inputs["stringData"])
        assert set(data) == {"url"}
        url = urlsplit(data["url"])
        assert (url.scheme, url.hostname, url.port) == ("redis", "redis-master.redis.svc", 6379)
        assert unquote(url.password or "") == password
        assert data["url"] == f"redis://:{password}@redis-master.redis.svc:6379"


def test_agent_session_blocks(prod_plan) -> None:
    blocks = {r.name: r.inputs["spec"]["session"] for r in prod_plan.find(AGENT_RUNTIME)}
    redis = {"type": "redis", "storeRef": {"name": "redis-credentials"}}
    assert blocks == {
        "agents.support-runtime": {**redis, "ttl": "24h"},
        "agents.triage-runtime": {**redis, "ttl": "2h"},
        "finance.billing-runtime": {**redis, "ttl": "24h"},
        "public.faq-runtime": {"type": "memory", "ttl": "1h"},
    }
    for runtime in prod_plan.find(AGENT_RUNTIME):
        assert "context" not in runtime.inputs["spec"]  # 0.9.0-beta.16: the session era


def test_redis_agents_wait_for_their_secret_and_the_chart(prod_plan) -> None:
    chart = prod_plan.one(CHART_TYPE, "redis").urn
    secrets = {
        r.inputs["metadata"]["namespace"]: r.urn
        for r in prod_plan.find(SECRET)
        if r.inputs["metadata"]["name"] == "redis-credentials"
    }
    deps = {
        r.inputs["metadata"]["name"]: (r.inputs["metadata"]["namespace"], sorted(r.dependencies))
        for r in prod_plan.find(AGENT_RUNTIME)
    }
    assert deps == {
        "support": ("agents", sorted([secrets["agents"], chart])),
        "triage": ("agents", sorted([secrets["agents"], chart])),
        "billing": ("finance", sorted([secrets["finance"], chart])),
        "faq": ("public", []),
    }


def test_chart_waits_for_its_namespace_and_password_secret(prod_plan) -> None:
    namespace = prod_plan.one(NAMESPACE, "redis-namespace").urn
    auth = prod_plan.one(SECRET, "redis-auth")
    assert sorted(prod_plan.one(CHART_TYPE, "redis").dependencies) == sorted([namespace, auth.urn])
    assert namespace in auth.dependencies


def test_apply_order_puts_dependencies_first(prod_plan) -> None:
    position = {r.urn: i for i, r in enumerate(prod_plan.resources)}
    for r in prod_plan.resources:
        for urn in [r.parent, *r.dependencies]:
            if urn in position:
                assert position[urn] < position[r.urn], (r.name, urn)


def test_stack_outputs(prod_plan) -> None:
    outputs = prod_plan.outputs
    assert outputs["redis"] == {"host": "redis-master.redis.svc", "port": 6379}
    password = _password(prod_plan)
    assert secret_value(outputs["redisUrl"]) == f"redis://:{password}@redis-master.redis.svc:6379"
    assert [(a["namespace"], a["name"], a["session"]["type"]) for a in outputs["agents"]] == [
        ("agents", "support", "redis"),
        ("agents", "triage", "redis"),
        ("finance", "billing", "redis"),
        ("public", "faq", "memory"),
    ]


def test_first_preview_chart_values_are_fully_known() -> None:
    """Chart v4 renders in preview: an unknown value would blank the whole chart there."""
    plan = harness.run_plan(harness.stack_file_for("prod"), unknown_computed=True)
    values = harness.render(plan.one(CHART_TYPE, "redis").inputs, show_secrets=True)
    assert harness.UNKNOWN not in json.dumps(values)
    creds = plan.one(SECRET, "agents-credentials-secret").inputs
    assert harness.render(creds, show_secrets=True)["stringData"] == harness.UNKNOWN


def test_plan_json_has_no_clear_text_secret(capsys) -> None:
    plan = harness.run_plan(harness.stack_file_for("prod"))
    password = _password(plan)
    assert harness.main(["prod", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    items = json.loads(out)
    assert password not in out and password not in err
    secrets = [i for i in items if i["type"] == SECRET]
    assert len(secrets) == 3
    assert all(i["inputs"]["stringData"] == "[secret]" for i in secrets)
    assert harness.main(["prod", "--format", "json", "--show-secrets"]) == 0
    shown, _ = capsys.readouterr()
    assert password in shown
