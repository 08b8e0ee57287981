"""`plan.py --from` for agents moving between session stores (docs/stores.md's runbook).

Each move is previewed from one stack file to another, both derived from the real prod stack:
a namespace to a new in-cluster store and back, from an external store back in the cluster, and
a stack-wide `session.store`. What a move changes is the namespace's credentials Secret (another
name: replaced, the new one created first), its client label (the old store's NetworkPolicy
stops admitting it) and its agents (another storeRef, new credentials stamp); nothing of either
Redis changes, unless a store loses its last agents and so is removed: the data guard refuses.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from offline import cli
from offline.program import run_plan
from tests.support.render import need_charts, objects, rendered_plan, write_stack
from tests.support.shared import need_helm
from tests.support.stacks import (
    AGENT_RUNTIME,
    CHART,
    GUARD,
    NAMESPACE,
    PASSWORD,
    PATCH,
    SECRET,
    stack_config,
)
from upstream.redis_volumes import GUARD_SUFFIX

PROD = stack_config("prod")
STORE = "omnia-agents:index:RedisStore"
LABEL = "omnia-agents/redis-client"
TENANT_LABEL = f"{LABEL}-tenant-b"
MOVED = "finance"  # prod's namespace with one redis agent (billing)
SPEC = {"promptPackRef": {"name": "p"}, "facades": [{"type": "websocket"}]}
# The agent's paths a move changes: its Secret's name, and the stamp of the credentials in it.
AGENT_PATHS = [
    "spec.context.storeRef.name",
    "spec.extraPodAnnotations.omnia-agents/credentials-hash",
]


def with_store(
    raw: dict[str, Any], name: str, block: dict[str, Any], *namespaces: str
) -> dict[str, Any]:
    """A copy with store `name` added, and the agents of `namespaces` on it."""
    raw = copy.deepcopy(raw)
    raw.setdefault("stores", {})[name] = block
    for agent in raw["agents"]:
        if agent["namespace"] in namespaces:
            agent["session"] = {**agent.get("session", {}), "store": name}
    return raw


TENANT = {"redis": {**copy.deepcopy(PROD["redis"]), "namespace": "redis-tenant-b"}}
MANAGED = {"url": "rediss://omnia:pw@cache.example.com:6380/0"}


def store_resources(release: str) -> dict[tuple[str, str], str]:
    """What an in-cluster store registers, by (type, name), with the op given."""
    return {
        (STORE, release): "",
        (GUARD, f"{release}{GUARD_SUFFIX}"): "",
        (NAMESPACE, f"{release}-namespace"): "",
        (PASSWORD, f"{release}-password"): "",
        (SECRET, f"{release}-auth"): "",
        (CHART, release): "",
    }


def moved(namespace: str, label: str) -> dict[tuple[str, str], str]:
    """What a namespace's move changes, for a namespace with one agent (finance/billing)."""
    return {
        (SECRET, f"{namespace}-credentials"): "replace",
        (PATCH, f"{namespace}-label"): label,
        (AGENT_RUNTIME, f"{namespace}.billing"): "update",
    }


def preview(
    tmp_path: Path, old: dict[str, Any], new: dict[str, Any], capsys: Any, *extra: str
) -> tuple[int, dict[tuple[str, str], dict[str, Any]], list[str]]:
    """Exit code, the JSON entries by (type, name), and what stderr says besides warnings."""
    for side in ("old", "new"):
        (tmp_path / side).mkdir(parents=True, exist_ok=True)
    before = write_stack(tmp_path / "old" / "Pulumi.prod.yaml", old)
    after = write_stack(tmp_path / "new" / "Pulumi.prod.yaml", new)
    code = cli.main(
        ["prod", "--stack-file", str(after), "--from", str(before), "--format", "json", *extra]
    )
    out, err = capsys.readouterr()
    entries = {(e["type"], e["name"]): e for e in json.loads(out)}
    said = [line for line in err.splitlines() if not line.startswith(("warning: ", "/"))]
    return code, entries, [line for line in said if line != cli.CRD_NOTE]


def changed(entries: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {key: e["op"] for key, e in entries.items() if e["op"] != "same"}


def refused(entries: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {key: e["refused"] for key, e in entries.items() if "refused" in e}


def assert_moved(entries: dict[tuple[str, str], dict[str, Any]], old: str, new: str) -> None:
    """The Secret under its new name (created before the old one goes: another name), the
    old store's label swapped for the new one's, the agent on the new Secret."""
    secret = entries[(SECRET, f"{MOVED}-credentials")]
    assert secret["paths"] == ["metadata.name", "stringData.url"]
    assert secret["reason"] == "the Kubernetes provider replaces on a change of metadata.name"
    assert entries[(AGENT_RUNTIME, f"{MOVED}.billing")]["paths"] == AGENT_PATHS
    label = entries[(PATCH, f"{MOVED}-label")]
    if label["op"] == "update":
        assert label["paths"] == sorted([f"metadata.labels.{old}", f"metadata.labels.{new}"])


def test_a_namespace_moving_to_a_new_in_cluster_store(tmp_path: Path, capsys: Any) -> None:
    new = with_store(PROD, "tenant-b", TENANT, MOVED)
    code, entries, said = preview(tmp_path, PROD, new, capsys)
    assert (code, said) == (0, [])
    assert changed(entries) == {
        **dict.fromkeys(store_resources("redis-tenant-b"), "create"),
        **moved(MOVED, "update"),
    }
    assert_moved(entries, LABEL, TENANT_LABEL)
    # The default store, its chart included, stays as it is: its sessions with it.
    assert all(entries[key]["op"] == "same" for key in store_resources("redis"))
    # SSA with the patch's own field manager: the old label, no longer applied, is removed
    # (pulumi-kubernetes provider.go fieldManagerName keeps the manager in the state).
    plan = run_plan(tmp_path / "new" / "Pulumi.prod.yaml")
    label = plan.one(PATCH, f"{MOVED}-label").inputs["metadata"]["labels"]
    assert label == {TENANT_LABEL: "true"}
    # The agent moves only once the new Redis is ready: it waits for the new chart.
    agent = plan.one(AGENT_RUNTIME, f"{MOVED}.billing")
    assert plan.one(CHART, "redis-tenant-b").urn in agent.dependencies


def test_moving_back_while_the_store_keeps_other_namespaces(tmp_path: Path, capsys: Any) -> None:
    old = with_store(PROD, "tenant-b", TENANT, MOVED, "team-x")
    old["agents"].append(
        {"name": "ops", "namespace": "team-x", "session": {"store": "tenant-b"}, "spec": SPEC}
    )
    new = copy.deepcopy(old)
    for agent in new["agents"]:
        if agent["namespace"] == MOVED:
            agent["session"].pop("store")
    code, entries, said = preview(tmp_path, old, new, capsys)
    assert (code, said) == (0, [])
    assert changed(entries) == moved(MOVED, "update")
    assert_moved(entries, TENANT_LABEL, LABEL)
    for release in ("redis", "redis-tenant-b"):
        assert all(entries[key]["op"] == "same" for key in store_resources(release))


def test_moving_a_store_s_last_namespace_off_it_is_refused(tmp_path: Path, capsys: Any) -> None:
    """The store loses its last agents, so the program removes it: the data guard (and, with
    protect, its namespace) refuse, as docs/operating-redis.md#removing-redis says."""
    old = with_store(PROD, "tenant-b", TENANT, MOVED)
    code, entries, said = preview(tmp_path, old, PROD, capsys)
    assert code == 1
    gone = store_resources("redis-tenant-b")
    assert changed(entries) == {**dict.fromkeys(gone, "delete"), **moved(MOVED, "update")}
    assert_moved(entries, TENANT_LABEL, LABEL)
    assert sorted(refused(entries)) == [
        (NAMESPACE, "redis-tenant-b-namespace"),
        (GUARD, f"redis-tenant-b{GUARD_SUFFIX}"),
    ]
    assert refused(entries)[(GUARD, f"redis-tenant-b{GUARD_SUFFIX}")].endswith(
        "which this change removes (by hand: docs/operating-redis.md#removing-redis)"
    )
    assert [line for line in said if line.startswith("refused: ")] == [
        f"refused: {t} {n}: {entries[(t, n)]['refused']}" for t, n in refused(entries)
    ]
    assert all(entries[key]["op"] == "same" for key in store_resources("redis"))


def test_a_namespace_moving_back_from_an_external_store(tmp_path: Path, capsys: Any) -> None:
    """Nothing to remove of an external store: the namespace gets its label back (the default
    store's NetworkPolicy admits it again), its Secret the in-cluster URL."""
    old = with_store(PROD, "managed", MANAGED, MOVED)
    code, entries, said = preview(tmp_path, old, PROD, capsys)
    assert (code, said) == (0, [])
    assert changed(entries) == moved(MOVED, "create")
    assert_moved(entries, "", LABEL)
    assert all(entries[key]["op"] == "same" for key in store_resources("redis"))


def test_a_stack_wide_store_change_moves_every_namespace_and_removes_the_old_store(
    tmp_path: Path, capsys: Any
) -> None:
    new = with_store(PROD, "tenant-b", TENANT)
    new["session"]["store"] = "tenant-b"
    code, entries, _ = preview(tmp_path, PROD, new, capsys)
    assert code == 1
    assert changed(entries) == {
        **dict.fromkeys(store_resources("redis-tenant-b"), "create"),
        **dict.fromkeys(store_resources("redis"), "delete"),
        **moved(MOVED, "update"),
        (SECRET, "agents-credentials"): "replace",
        (PATCH, "agents-label"): "update",
        (AGENT_RUNTIME, "agents.support"): "update",
        (AGENT_RUNTIME, "agents.triage"): "update",
    }
    assert sorted(refused(entries)) == [
        (NAMESPACE, "redis-namespace"),
        (GUARD, f"redis{GUARD_SUFFIX}"),
    ]


def test_a_stack_wide_store_change_keeping_the_old_store_in_use(
    tmp_path: Path, capsys: Any
) -> None:
    new = with_store(PROD, "tenant-b", TENANT)
    new["session"]["store"] = "tenant-b"
    for agent in new["agents"]:
        if agent["namespace"] == "agents":
            agent["session"] = {**agent.get("session", {}), "store": "default"}
    code, entries, said = preview(tmp_path, PROD, new, capsys)
    assert (code, said) == (0, [])
    assert changed(entries) == {
        **dict.fromkeys(store_resources("redis-tenant-b"), "create"),
        **moved(MOVED, "update"),
    }


@pytest.mark.parametrize(
    ("old", "new", "admitted"),
    [
        (
            PROD,
            with_store(PROD, "tenant-b", TENANT, MOVED),
            {"redis": ["agents"], "redis-tenant-b": [MOVED]},
        ),
        (with_store(PROD, "managed", MANAGED, MOVED), PROD, {"redis": ["agents", MOVED]}),
    ],
    ids=["to-a-new-store", "back-from-external"],
)
def test_rendered_the_old_store_s_objects_stay_as_they_are(
    tmp_path: Path,
    capsys: Any,
    old: dict[str, Any],
    new: dict[str, Any],
    admitted: dict[str, list[str]],
) -> None:
    """With --render: no object the default store's chart renders changes (its StatefulSet,
    its NetworkPolicy: a namespace is admitted by its label, not by a change of the policy),
    and each store's NetworkPolicy admits exactly the namespaces that use it."""
    need_helm()
    code, entries, said = preview(
        tmp_path, old, new, capsys, "--render", "--charts", str(need_charts())
    )
    assert (code, said) == (0, [])
    assert entries[(CHART, "redis")]["op"] == "same"
    # The chart's children are named `<release>:<namespace>/<name>` (offline/helm.py).
    of_default = [e for e in entries.values() if e["name"].startswith("redis:redis/")]
    assert len(of_default) > 10 and {e["op"] for e in of_default} == {"same"}
    plan = rendered_plan(tmp_path / "new" / "Pulumi.prod.yaml")
    labels = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"] for r in plan.find(PATCH)
    }
    found = {}
    for (kind, name), obj in objects(plan).items():
        if kind != "NetworkPolicy":
            continue
        (rule,) = obj["spec"]["ingress"]
        (selector,) = [
            f["namespaceSelector"]["matchLabels"] for f in rule["from"] if "namespaceSelector" in f
        ]
        found[name] = sorted(ns for ns, has in labels.items() if selector.items() <= has.items())
    assert found == admitted


def test_the_runbook_says_what_the_preview_does(tmp_path: Path, capsys: Any) -> None:
    """docs/stores.md's list, phrase by phrase, against the previews above."""
    from offline.inputs import ROOT

    text = (ROOT / "docs" / "stores.md").read_text()
    section = " ".join(text[text.index("## Moving agents to another store") :].split())
    cases = {
        "to-new": (PROD, with_store(PROD, "tenant-b", TENANT, MOVED)),
        "to-external": (PROD, with_store(PROD, "managed", MANAGED, MOVED)),
        "from-external": (with_store(PROD, "managed", MANAGED, MOVED), PROD),
        "last": (with_store(PROD, "tenant-b", TENANT, MOVED), PROD),
    }
    said = {
        "to-new": [
            ("is **created** in the same `up`", (CHART, "redis-tenant-b"), "create"),
            ("credentials Secret is **replaced**", (SECRET, f"{MOVED}-credentials"), "replace"),
            ("label patch is **updated**", (PATCH, f"{MOVED}-label"), "update"),
            ("its agents are **updated**", (AGENT_RUNTIME, f"{MOVED}.billing"), "update"),
        ],
        "to-external": [("the patch is **deleted**", (PATCH, f"{MOVED}-label"), "delete")],
        "from-external": [("back from one it is **created**", (PATCH, f"{MOVED}-label"), "create")],
        "last": [("is **removed**", (CHART, "redis-tenant-b"), "delete")],
    }
    for case, (old, new) in cases.items():
        code, entries, _ = preview(tmp_path / case, old, new, capsys)
        assert code == (1 if case == "last" else 0), case
        for phrase, key, op in said[case]:
            assert phrase in section, phrase
            assert entries[key]["op"] == op, (case, key)
    assert "refuse that change (exit 1)" in section
