"""Network isolation, protection, rotation and HA on the real prod stack (and variants of it)."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
from pulumi.runtime import rpc

from offline import harness
from offline.program import run_plan
from tests.support.stacks import (
    AGENT_RUNTIME,
    CHART,
    GUARD,
    NAMESPACE,
    PASSWORD,
    PATCH,
    SECRET,
    expected_session,
    expected_url,
    planned_password,
    redis_namespaces,
    secret_value,
    stack_config,
)

CLIENT_LABEL = "omnia-agents/redis-client"


def test_network_policy_admits_exactly_the_labelled_agent_namespaces(prod_plan) -> None:
    raw = stack_config("prod")
    policy = prod_plan.one(CHART, "redis").inputs["values"]["networkPolicy"]
    assert policy["enabled"] is True
    assert policy["allowExternal"] is False
    selector = policy["ingressNSMatchLabels"]
    labelled = {}
    for patch in prod_plan.find(PATCH):
        meta = patch.inputs["metadata"]
        assert set(meta) == {"name", "labels"}  # a patch: nothing but the label
        labelled[meta["name"]] = meta["labels"]
    assert set(labelled) == redis_namespaces(raw)
    for labels in labelled.values():
        assert labels == selector == {CLIENT_LABEL: "true"}
    memory_only = {a["namespace"] for a in raw["agents"]} - redis_namespaces(raw)
    assert memory_only and not memory_only & set(labelled)


def test_only_the_data_holder_is_protected_and_kept(prod_plan) -> None:
    """The Redis namespace holds the volumes (deleting it deletes its PVCs): protected and
    retained. The data guard stands for the StatefulSet holding the sessions: protected, holds
    nothing. Password, Secrets and chart are derived: never protected, so rotation,
    upgrades and agent moves run in one `pulumi up`."""
    raw = stack_config("prod")
    assert raw["redis"]["protect"] is True
    protected = {(r.type, r.name) for r in prod_plan.resources if r.protect}
    retained = {(r.type, r.name) for r in prod_plan.resources if r.retain_on_delete}
    assert retained == {(NAMESPACE, "redis-namespace")}
    assert protected == {(NAMESPACE, "redis-namespace"), (GUARD, "redis-data-guard")}
    items = {(i["type"], i["name"]): i for i in prod_plan.items()}
    assert items[(NAMESPACE, "redis-namespace")]["options"]["protect"] is True
    assert items[(NAMESPACE, "redis-namespace")]["options"]["retainOnDelete"] is True
    derived = [(CHART, "redis"), (PASSWORD, "redis-password"), (SECRET, "redis-auth")]
    derived += [(SECRET, f"{ns}-credentials") for ns in redis_namespaces(raw)]
    for key in derived:
        assert "protect" not in items[key].get("options", {}), key


def test_protection_is_a_stack_setting(write_stack, dev_plan) -> None:
    raw = stack_config("prod")
    raw["redis"]["protect"] = False
    plan = run_plan(write_stack(raw))
    # The data guard is protected whatever `protect` says; nothing else is.
    assert [(r.type, r.name) for r in plan.resources if r.protect] == [(GUARD, "redis-data-guard")]
    # Kept on destroy whatever `protect` says: deleting it would delete the volumes.
    assert plan.one(NAMESPACE, "redis-namespace").retain_on_delete is True
    assert not any(r.protect for r in dev_plan.resources)


def test_volumes_are_kept_on_uninstall(prod_plan) -> None:
    values = prod_plan.one(CHART, "redis").inputs["values"]
    keep = {"enabled": True, "whenDeleted": "Retain", "whenScaled": "Retain"}
    for role in ("master", "replica", "sentinel"):  # sentinel mode's StatefulSet reads its own
        assert values[role]["persistentVolumeClaimRetentionPolicy"] == keep


def test_persistence_is_explicit_in_the_prod_chart(prod_plan) -> None:
    values = prod_plan.one(CHART, "redis").inputs["values"]
    lines = values["commonConfiguration"].splitlines()
    assert lines[:3] == ["appendonly yes", "appendfsync everysec", 'save ""']
    size = stack_config("prod")["redis"]["volumeSize"]
    want = {"enabled": True, "size": size}
    assert values["master"]["persistence"] == values["replica"]["persistence"] == want


def _rotated(write_stack, value: str) -> harness.Plan:
    raw = stack_config("prod")
    raw["redis"]["passwordRotation"] = value
    return run_plan(write_stack(raw, name=f"prod-{value}"), stack="prod")


def _view(plan: harness.Plan) -> dict[str, object]:
    """What rotation may change, by resource."""
    view: dict[str, object] = {}
    for r in plan.resources:
        if r.type == SECRET:
            view[r.name] = secret_value(r.inputs["stringData"])
        elif r.type == AGENT_RUNTIME:
            view[r.name] = r.inputs["spec"].get("extraPodAnnotations")
        elif r.type in (PASSWORD, CHART):
            view[r.name] = json.dumps(r.inputs, sort_keys=True)
    return view


def test_rotation_replaces_the_password_and_rolls_every_user(write_stack) -> None:
    before, after = _rotated(write_stack, "2026-11"), _rotated(write_stack, "2026-12")
    raw = stack_config("prod")
    old, new = planned_password(before), planned_password(after)
    assert old != new
    assert before.one(PASSWORD, "redis-password").inputs["keepers"] == {"rotation": "2026-11"}
    assert after.one(PASSWORD, "redis-password").inputs["keepers"] == {"rotation": "2026-12"}
    a, b = _view(before), _view(after)
    redis_agents = {
        f"{x['namespace']}.{x['name']}"
        for x in raw["agents"]
        if expected_session(raw, x)["type"] == "redis"
    }
    changed = {name for name in a if a[name] != b[name]}
    credentials = {f"{ns}-credentials" for ns in redis_namespaces(raw)}
    assert changed == {"redis-password", "redis-auth", "redis", *credentials, *redis_agents}
    assert b["redis-auth"] == {"redis-password": new}
    for name in credentials:
        assert new in b[name]["url"] and old in a[name]["url"]  # type: ignore[index]
    values = after.one(CHART, "redis").inputs["values"]
    assert values["replica"]["podAnnotations"] == {"omnia-agents/password-rotation": "2026-12"}


def test_agent_stamp_is_the_credentials_digest_in_clear(prod_plan) -> None:
    raw = stack_config("prod")
    digest = hashlib.sha256(expected_url(raw, planned_password(prod_plan)).encode()).hexdigest()
    stamped = 0
    for runtime in prod_plan.find(AGENT_RUNTIME):
        annotations = runtime.inputs["spec"].get("extraPodAnnotations")
        if annotations:
            stamp = annotations["omnia-agents/credentials-hash"]
            assert not rpc.is_rpc_secret(stamp)  # plain: reviewable in a diff, not a secret
            assert stamp == digest[:16]
            stamped += 1
    assert stamped == sum(expected_session(raw, a)["type"] == "redis" for a in raw["agents"])


@pytest.mark.parametrize(
    "topology",
    [
        {"architecture": "standalone", "sentinel": False},
        {"architecture": "replication", "sentinel": False},
        {"architecture": "replication", "sentinel": True},
    ],
)
def test_the_url_stays_on_the_master_service_in_every_mode(topology, write_stack) -> None:
    raw = stack_config("prod")
    raw["redis"] = {**copy.deepcopy(raw["redis"]), **topology}
    if topology["architecture"] == "standalone":  # both refused without replicas
        del raw["redis"]["replicas"]
        del raw["redis"]["failover"]["minReplicasToWrite"]
    plan = run_plan(write_stack(raw))
    values = plan.one(CHART, "redis").inputs["values"]
    assert values["architecture"] == topology["architecture"]
    assert ("sentinel" in values) is topology["sentinel"]
    host = f"redis-master.{raw['redis']['namespace']}.svc:6379"
    for ns in redis_namespaces(raw):
        url = secret_value(plan.one(SECRET, f"{ns}-credentials").inputs["stringData"])["url"]
        assert url.endswith(f"@{host}")
    assert plan.outputs["redis"] == {"host": host.rsplit(":", 1)[0], "port": 6379}
