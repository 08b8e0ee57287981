"""`plan.py STACK --from OLD_STACK_FILE`: what `pulumi up` would do, on the real prod stack."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import cli, harness
from offline.change_preview import OPS, compare, replace_reason
from offline.harness import Registration
from offline.inputs import ROOT, stack_file_for
from offline.program import run_plan
from tests.support.stacks import (
    AGENT_RUNTIME,
    CHART,
    NAMESPACE,
    PASSWORD,
    PATCH,
    SECRET,
    expected_session,
    redis_namespaces,
    stack_config,
)

PROD = stack_file_for("prod")


def preview(new: Path, capsys) -> tuple[int, dict[tuple[str, str], dict[str, Any]]]:
    """Exit code and the JSON entries by (type, name); the stack name is prod for both."""
    code = cli.main(["prod", "--stack-file", str(new), "--from", str(PROD), "--format", "json"])
    out, err = capsys.readouterr()
    entries = json.loads(out)
    stops = []
    for e in entries:
        if "refused" in e:  # each refusal said on stderr, with the command that gets through
            stops.append(f"refused: {e['type']} {e['name']}: {e['refused']}")
            stops += [f"  fix: {e['fix']}"] if "fix" in e else []
    said = [line for line in err.splitlines() if not line.startswith("warning: ")]
    assert said == [cli.CRD_NOTE, *stops]  # each refusal said on stderr too
    keys = {"type", "name", "urn", "op", "paths", "reason", "refused", "children", "warnings"}
    assert all(set(e) <= keys | {"fix"} for e in entries)
    assert {e["op"] for e in entries} <= {"create", "update", "replace", "delete", "same"}
    return code, {(e["type"], e["name"]): e for e in entries}


def changed(entries: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {key: e["op"] for key, e in entries.items() if e["op"] != "same"}


def redis_agents(raw: dict[str, Any]) -> list[str]:
    return [
        f"{a['namespace']}.{a['name']}"
        for a in raw["agents"]
        if expected_session(raw, a)["type"] == "redis"
    ]


def test_no_change_is_all_same(capsys) -> None:
    code, entries = preview(PROD, capsys)
    assert code == 0
    assert changed(entries) == {}
    assert len(entries) == len(run_plan(PROD).resources)


def test_rotation_is_one_up_with_secrets_updated_in_place(write_stack, capsys) -> None:
    raw = stack_config("prod")
    raw["redis"]["passwordRotation"] = raw["redis"]["passwordRotation"] + "-rotated"
    code, entries = preview(write_stack(raw, name="prod"), capsys)
    assert code == 0
    assert not [e for e in entries.values() if "refused" in e]
    credentials = {(SECRET, f"{ns}-credentials") for ns in redis_namespaces(raw)}
    assert changed(entries) == {
        (PASSWORD, "redis-password"): "replace",
        (SECRET, "redis-auth"): "update",
        **dict.fromkeys(credentials, "update"),
        (CHART, "redis"): "update",
        **{(AGENT_RUNTIME, name): "update" for name in redis_agents(raw)},
    }
    assert entries[(PASSWORD, "redis-password")]["paths"] == ["keepers.rotation"]
    assert entries[(SECRET, "redis-auth")]["paths"] == ["stringData.redis-password"]
    for key in credentials:
        assert entries[key]["paths"] == ["stringData.url"]
    assert "re-rendered" in entries[(CHART, "redis")]["reason"]
    for name in redis_agents(raw):
        assert entries[(AGENT_RUNTIME, name)]["paths"] == [
            "spec.extraPodAnnotations.omnia-agents/credentials-hash"
        ]


def test_moving_an_agent_to_another_namespace(write_stack, capsys) -> None:
    raw = stack_config("prod")
    # The only agent of a redis namespace moves to a namespace that already has redis agents.
    namespaces = [a["namespace"] for a in raw["agents"]]
    alone = [a for a in raw["agents"] if namespaces.count(a["namespace"]) == 1]
    mover = next(a for a in alone if expected_session(raw, a)["type"] == "redis")
    old_ns, new_ns = mover["namespace"], "agents"
    assert old_ns != new_ns and new_ns in redis_namespaces(raw)
    mover["namespace"] = new_ns
    code, entries = preview(write_stack(raw, name="prod"), capsys)
    assert code == 0
    name = mover["name"]
    assert changed(entries) == {
        (AGENT_RUNTIME, f"{new_ns}.{name}"): "create",
        (AGENT_RUNTIME, f"{old_ns}.{name}"): "delete",
        (SECRET, f"{old_ns}-credentials"): "delete",  # derived data: not protected
        (PATCH, f"{old_ns}-label"): "delete",
        ("omnia-agents:index:AgentNamespace", old_ns): "delete",
    }
    assert not [e for e in entries.values() if "refused" in e]


def test_switching_the_last_redis_agent_of_a_namespace_to_memory(write_stack, capsys) -> None:
    raw = stack_config("prod")
    counts = {ns: sum(a["namespace"] == ns for a in raw["agents"]) for ns in redis_namespaces(raw)}
    namespace = next(ns for ns, n in counts.items() if n == 1)
    agent = next(a for a in raw["agents"] if a["namespace"] == namespace)
    agent["session"] = {**agent.get("session", {}), "type": "memory"}
    code, entries = preview(write_stack(raw, name="prod"), capsys)
    assert code == 0
    key = (AGENT_RUNTIME, f"{namespace}.{agent['name']}")
    assert changed(entries) == {
        key: "update",
        (SECRET, f"{namespace}-credentials"): "delete",
        (PATCH, f"{namespace}-label"): "delete",
    }
    field = "session" if "session" in run_plan(PROD).one(*key).inputs["spec"] else "context"
    assert entries[key]["paths"] == sorted(
        ["spec.extraPodAnnotations", f"spec.{field}.storeRef", f"spec.{field}.type"]
    )
    assert not [e for e in entries.values() if "refused" in e]


def test_changing_the_chart_version_updates_only_the_chart(write_stack, capsys) -> None:
    raw = stack_config("prod")
    other = {"22.0.5": "23.1.1", "23.1.1": "22.0.5"}  # the two charts in ../shared
    old_version = raw["redis"]["chartVersion"]
    raw["redis"]["chartVersion"] = other[old_version]
    code, entries = preview(write_stack(raw, name="prod"), capsys)
    assert code == 0
    assert changed(entries) == {(CHART, "redis"): "update"}
    assert entries[(CHART, "redis")]["paths"] == ["version"]
    # A major version either way is called out; going down to 22.0.5 also loses two named fixes.
    new_version = raw["redis"]["chartVersion"]
    notes = entries[(CHART, "redis")]["warnings"]
    assert notes[0].startswith(f"chart {old_version} -> {new_version} changes the major version")
    losses = [n.split(" fix: ")[1] for n in notes[1:]]
    if old_version == "23.1.1":
        assert losses == [
            "Sentinel with one replica (22.0.6/22.0.7)",
            "Sentinel failover on a graceful shutdown of the master",
        ]
    else:
        assert losses == []
    # ...on stderr too, as `warning:` lines (checked apart from refusals by `preview`).


def test_moving_redis_to_another_namespace_is_refused_while_protected(write_stack, capsys) -> None:
    raw = stack_config("prod")
    assert raw["redis"]["protect"] is True
    raw["redis"]["namespace"] = "sessions"
    code, entries = preview(write_stack(raw, name="prod"), capsys)
    assert code == 1  # the engine would stop: the data stays where it is
    namespace = entries[(NAMESPACE, "redis-namespace")]
    assert namespace["op"] == "replace"
    assert namespace["paths"] == ["metadata.name"]
    assert "metadata.name" in namespace["reason"]
    assert namespace["refused"] == "cannot replace a protected resource (protect: true)"
    # The derived objects follow the namespace without any refusal.
    assert entries[(SECRET, "redis-auth")]["op"] == "replace"
    assert "refused" not in entries[(SECRET, "redis-auth")]
    refusals = [e["name"] for e in entries.values() if "refused" in e]
    assert refusals == ["redis-data-guard", "redis-namespace"]
    raw["redis"]["protect"] = False  # ...in both files: unprotecting is no way around it
    old = stack_config("prod")
    old["redis"]["protect"] = False
    code = cli.main(
        [
            "prod",
            "--stack-file",
            str(write_stack(raw, name="prod")),
            "--from",
            str(write_stack(old, name="old")),
            "--format",
            "json",
        ]
    )
    assert code == 1  # the data guard is protected whatever `protect` says
    out = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert (out["redis-namespace"]["op"], "refused" in out["redis-namespace"]) == (
        "replace",
        False,
    )
    guard = out["redis-data-guard"]
    assert (guard["op"], guard["paths"]) == ("replace", ["keepers.namespace"])
    assert guard["refused"].startswith("cannot replace a protected resource (protect: true)")
    assert "namespace: redis -> sessions" in guard["refused"]
    assert "docs/operating-redis.md#moving-redis-to-another-namespace" in guard["refused"]


def _secret(plan: harness.Plan) -> Registration:
    return plan.one(SECRET, "redis-auth")


@pytest.mark.parametrize(
    ("mutable", "expected"),
    [
        ("true", None),
        ("false", "the Kubernetes provider replaces on a change of stringData.redis-password"),
    ],
)
def test_secret_data_replaces_unless_the_provider_makes_secrets_mutable(
    prod_plan, mutable: str, expected: str | None
) -> None:
    provider = prod_plan.one("pulumi:providers:kubernetes", "cluster-provider")
    provider.inputs["enableSecretMutable"] = mutable
    assert replace_reason(prod_plan, _secret(prod_plan), ["stringData.redis-password"]) == expected
    # A type change replaces even a mutable Secret (diff_test.go).
    assert replace_reason(prod_plan, _secret(prod_plan), ["type"]) is not None


def test_deleting_a_protected_resource_is_refused(prod_plan) -> None:
    empty = harness.Plan(stack="prod")
    entries = {e["name"]: e for e in compare(prod_plan, empty)}
    assert all(e["op"] == "delete" for e in entries.values())
    refused = {n for n, e in entries.items() if "refused" in e}
    assert refused == {"redis-namespace", "redis-data-guard"}
    assert "retainOnDelete" in entries["redis-namespace"]["reason"]


def test_a_bad_old_stack_file_exits_2_naming_it(write_stack, capsys) -> None:
    old: Callable[..., Path] = write_stack
    path = old({}, name="old", raw="config: [1]\n")
    assert cli.main(["prod", "--from", str(path)]) == 2
    assert capsys.readouterr().err == f"{path}: expected a mapping with a `config:` mapping\n"


def test_a_new_kubernetes_context_is_flagged_on_the_provider(tmp_path, capsys) -> None:
    document = yaml.safe_load(PROD.read_text(encoding="utf-8"))
    document["config"]["kubernetes:context"] = "other-cluster"
    new = tmp_path / "Pulumi.prod.yaml"
    new.write_text(yaml.safe_dump(document), encoding="utf-8")
    code, entries = preview(new, capsys)
    assert code == 0
    assert changed(entries) == {("pulumi:providers:kubernetes", "cluster-provider"): "update"}
    provider = entries[("pulumi:providers:kubernetes", "cluster-provider")]
    assert provider["paths"] == ["context"]
    assert "replaces every object" in provider["reason"]


def test_a_new_api_version_is_a_delete_and_a_create(prod_plan) -> None:
    """apiVersion and kind are part of the type token, hence of the URN."""
    moved = run_plan(PROD)
    old_type = AGENT_RUNTIME
    new_type = old_type.replace("/v1alpha1:", "/v1beta1:")
    for r in moved.find(old_type):
        r.type = new_type
        r.urn = r.urn.replace(old_type, new_type)
    ops = {(e["type"], e["name"]): e["op"] for e in compare(prod_plan, moved)}
    for r in prod_plan.find(old_type):
        assert ops[(old_type, r.name)] == "delete"
        assert ops[(new_type, r.name)] == "create"
    assert {op for (t, _), op in ops.items() if t not in (old_type, new_type)} == {"same"}


def test_yaml_lists_changes_only_and_counts_them_by_op(write_stack, capsys) -> None:
    """For people: unchanged resources only with --all; the last document counts every op."""
    raw = stack_config("prod")
    raw["redis"]["passwordRotation"] = raw["redis"]["passwordRotation"] + "-rotated"
    new = write_stack(raw, name="prod")
    _, entries = preview(new, capsys)
    ops = Counter(e["op"] for e in entries.values())
    assert ops["same"] > 0 and ops["replace"] == 1
    for extra, shown in (([], len(entries) - ops["same"]), (["--all"], len(entries))):
        assert cli.main(["prod", "--stack-file", str(new), "--from", str(PROD), *extra]) == 0
        *items, last = yaml.safe_load_all(capsys.readouterr().out)
        assert len(items) == shown
        assert all("urn" not in i for i in items)
        assert last == {"summary": {"by op": {op: ops[op] for op in OPS if ops[op]}}}
    assert list(last["summary"]["by op"]) == ["update", "replace", "same"]


def test_an_unchanged_file_says_so_in_one_summary(capsys) -> None:
    assert cli.main(["prod", "--stack-file", str(PROD), "--from", str(PROD)]) == 0
    (only,) = yaml.safe_load_all(capsys.readouterr().out)
    assert only == {"summary": {"by op": {"same": len(run_plan(PROD).resources)}}}


def test_require_to_create_on_existing_namespaces_is_refused_with_the_import(
    write_stack, capsys
) -> None:
    """The old stack read the agent namespaces (they exist); `create` would create them and
    fail with AlreadyExists: refused, with the `pulumi import` that adopts each (issue 16)."""
    raw = stack_config("prod")
    raw["agentNamespaces"] = "create"
    code, entries = preview(write_stack(raw, name="prod"), capsys)
    assert code == 1
    refused = {k: e for k, e in entries.items() if "refused" in e}
    namespaces = sorted({a["namespace"] for a in raw["agents"]} - {raw["redis"]["namespace"]})
    assert sorted(name for _, name in refused) == [f"{ns}-namespace" for ns in namespaces]
    agents = refused[(NAMESPACE, "agents-namespace")]
    assert agents["refused"] == (
        "namespace agents exists (the old stack read it): creating it fails (AlreadyExists)"
    )
    parent = next(
        r
        for r in run_plan(PROD).resources
        if r.name == "agents" and r.type.endswith("AgentNamespace")
    )
    assert agents["fix"].startswith(
        f"adopt it first: pulumi import kubernetes:core/v1:Namespace agents-namespace agents "
        f"--parent 'agents={parent.urn}' --provider 'cluster-provider="
    )


def test_deleting_the_protected_namespace_says_how_to_proceed(write_stack, capsys) -> None:
    raw = stack_config("prod")
    for agent in raw["agents"]:
        agent["session"] = {"type": "memory"}  # no redis agent left: the store goes
    code, entries = preview(write_stack(raw, name="prod"), capsys)
    assert code == 1
    gone = entries[(NAMESPACE, "redis-namespace")]
    assert gone["op"] == "delete" and "protected" in gone["refused"]
    assert gone["fix"] == (
        f"pulumi state unprotect '{gone['urn']}', then pulumi up (set redis.protect: false in "
        "the same change so it stays off)"
    )


def test_moving_a_namespace_to_an_external_store(write_stack, capsys) -> None:
    """A new Secret (another name: replaced), the agent updated, no label any more; nothing of
    the in-cluster Redis changes, so the sessions written there stay there (docs/stores.md)."""
    raw = stack_config("prod")
    namespace = "finance"
    movers = [a for a in raw["agents"] if a["namespace"] == namespace]
    assert movers and all(expected_session(raw, a)["type"] == "redis" for a in movers)
    raw["stores"] = {"managed": {"url": "rediss://omnia:pw@cache.example.com:6380/0"}}
    for agent in movers:
        agent["session"] = {**agent.get("session", {}), "store": "managed"}
    code, entries = preview(write_stack(raw, name="prod"), capsys)
    assert code == 0
    assert changed(entries) == {
        (SECRET, f"{namespace}-credentials"): "replace",
        (PATCH, f"{namespace}-label"): "delete",
        **{(AGENT_RUNTIME, f"{namespace}.{a['name']}"): "update" for a in movers},
    }
    secret = entries[(SECRET, f"{namespace}-credentials")]
    assert secret["paths"] == ["metadata.name", "stringData.url"]
    assert secret["reason"] == "the Kubernetes provider replaces on a change of metadata.name"
    for a in movers:
        assert entries[(AGENT_RUNTIME, f"{namespace}.{a['name']}")]["paths"] == [
            "spec.context.storeRef.name",
            "spec.extraPodAnnotations.omnia-agents/credentials-hash",
        ]
    assert not [e for e in entries.values() if "refused" in e]


def test_the_remove_redis_runbook_unprotects_what_the_preview_refuses(write_stack, capsys) -> None:
    """docs/operating-redis.md#removing-redis: every resource the change refuses, no other."""
    raw = stack_config("prod")
    for agent in raw["agents"]:
        agent["session"] = {"type": "memory"}
    code, entries = preview(write_stack(raw, name="prod"), capsys)
    assert code == 1
    runbook = (ROOT / "docs" / "snippets" / "runbook-remove-redis.sh").read_text()
    unprotected = re.findall(r"pulumi state unprotect '([^']+)'", runbook)
    assert sorted(unprotected) == sorted(e["urn"] for e in entries.values() if "refused" in e)
