"""Several session stores in one stack: in-cluster charts and external Redis, one per namespace.

Planned by the real program (and, for the NetworkPolicies, rendered by the real Helm on the
pinned chart): which releases, namespaces, Secrets, labels and storeRefs each store gets.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from offline import harness
from offline.inputs import ROOT
from offline.program import run_plan
from settings.errors import ConfigError
from tests.support.render import objects, rendered_plan, write_stack
from tests.support.stacks import stack_config
from upstream.kubernetes import NAMESPACE_PATCH, SECRET, type_token

AGENT = type_token("omnia.altairalabs.ai/v1alpha1", "AgentRuntime")
CHART = "kubernetes:helm.sh/v4:Chart"
PASSWORD = "random:index/randomPassword:RandomPassword"
CLIENT_LABEL = "omnia-agents/redis-client"
MANAGED_URL = "rediss://omnia:s3cr%40t@cache.example.com:6380/2"
SPEC = {"promptPackRef": {"name": "p"}, "facades": [{"type": "websocket"}]}


def _stack(**changes: Any) -> dict[str, Any]:
    """Prod's Redis as the `default` store, a managed store, agents in three namespaces."""
    prod = stack_config("prod")
    raw: dict[str, Any] = {
        "omniaVersion": "0.9.0-beta.17",
        "session": {"type": "redis", "ttl": "24h"},
        "redis": copy.deepcopy(prod["redis"]),
        "stores": {"managed": {"url": MANAGED_URL}},
        "agents": [
            {"name": "support", "namespace": "team-a", "spec": SPEC},
            {
                "name": "billing",
                "namespace": "team-b",
                "session": {"store": "managed"},
                "spec": SPEC,
            },
            {"name": "triage", "namespace": "team-c", "spec": SPEC},
            {"name": "faq", "namespace": "team-b", "session": {"store": "managed"}, "spec": SPEC},
        ],
    }
    raw.update(changes)
    return raw


def _plan(tmp_path: Path, raw: dict[str, Any]) -> harness.Plan:
    return run_plan(write_stack(tmp_path / "Pulumi.stores.yaml", raw), "stores")


def _secrets(plan: harness.Plan) -> dict[str, tuple[str, str]]:
    """Each agent namespace's credentials Secret: its name and URL (sent as a secret)."""
    found = {}
    for r in plan.find(SECRET):
        meta = r.inputs["metadata"]
        if r.name.endswith("-credentials"):
            assert harness.render(r.inputs["stringData"]) == harness.SECRET
            url = harness.render(r.inputs["stringData"], show_secrets=True)["url"]
            found[meta["namespace"]] = (meta["name"], url)
    return found


def test_an_external_and_an_in_cluster_store_plan_one_chart_and_a_secret_per_namespace(
    tmp_path: Path,
) -> None:
    plan = _plan(tmp_path, _stack())
    assert [r.name for r in plan.find(CHART)] == ["redis"]  # the external store deploys nothing
    assert len(plan.find(PASSWORD)) == 1  # the in-cluster store's only
    secrets = _secrets(plan)
    assert {ns: name for ns, (name, _) in secrets.items()} == {
        "team-a": "redis-credentials",
        "team-b": "redis-credentials-managed",
        "team-c": "redis-credentials",
    }
    assert secrets["team-b"][1] == MANAGED_URL
    in_cluster = secrets["team-a"][1]
    assert in_cluster.startswith("redis://:") and in_cluster.endswith(
        "@redis-master.redis.svc:6379"
    )
    # Only the in-cluster store's namespaces carry its NetworkPolicy label.
    labelled = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
        for r in plan.find(NAMESPACE_PATCH)
    }
    assert labelled == {"team-a": {CLIENT_LABEL: "true"}, "team-c": {CLIENT_LABEL: "true"}}
    refs = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]["context"]["storeRef"]["name"]
        for r in plan.find(AGENT)
    }
    assert refs == {
        "support": "redis-credentials",
        "billing": "redis-credentials-managed",
        "faq": "redis-credentials-managed",
        "triage": "redis-credentials",
    }


def _plan_process(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "plan.py", "--stack-file", str(path), "--format", "json", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_a_url_without_a_password_is_not_called_one(tmp_path: Path) -> None:
    """The in-clear advice is for URLs holding a password; one without has nothing to hide."""
    stack = _stack(stores={"managed": {"url": "rediss://cache.internal.example:6380/0"}})
    run = _plan_process(write_stack(tmp_path / "Pulumi.stores.yaml", stack))
    assert run.returncode == 0, run.stderr
    assert "in clear" not in run.stderr


def test_the_external_url_never_reaches_the_plan_output_in_clear(tmp_path: Path) -> None:
    path = write_stack(tmp_path / "Pulumi.stores.yaml", _stack())
    run = _plan_process(path)
    assert run.returncode == 0, run.stderr
    assert "s3cr" not in run.stdout and "cache.example.com" not in run.stdout
    # In clear in the stack file: accepted, with the advice to keep it a secret.
    assert (
        "omnia-agents:stores.managed.url is in clear in the stack file: it holds the store's "
        "password; set it with pulumi config set --secret --path "
        "'omnia-agents:stores.managed.url'"
    ) in run.stderr
    assert "s3cr" not in run.stderr
    assert MANAGED_URL in _plan_process(path, "--show-secrets").stdout


def test_two_in_cluster_stores_get_their_own_release_namespace_label_and_policy(
    tmp_path: Path,
) -> None:
    prod = stack_config("prod")
    tenant = {**copy.deepcopy(prod["redis"]), "namespace": "redis-tenant-b"}
    raw = _stack(stores={"tenant-b": {"redis": tenant}})
    raw["agents"][1]["session"]["store"] = "tenant-b"
    raw["agents"][3]["session"]["store"] = "tenant-b"
    plan = rendered_plan(write_stack(tmp_path / "Pulumi.stores.yaml", raw), "stores")
    charts = {r.name: r.inputs["namespace"] for r in plan.find(CHART)}
    assert charts == {"redis": "redis", "redis-tenant-b": "redis-tenant-b"}
    assert len(plan.find(PASSWORD)) == 2
    tenant_label = f"{CLIENT_LABEL}-tenant-b"
    labelled = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
        for r in plan.find(NAMESPACE_PATCH)
    }
    assert labelled == {
        "team-a": {CLIENT_LABEL: "true"},
        "team-b": {tenant_label: "true"},
        "team-c": {CLIENT_LABEL: "true"},
    }
    objs = objects(plan)
    admitted = {}
    for name in ("redis", "redis-tenant-b"):
        (rule,) = objs[("NetworkPolicy", name)]["spec"]["ingress"]
        admitted[name] = [f["namespaceSelector"] for f in rule["from"] if "namespaceSelector" in f]
    assert admitted == {
        "redis": [{"matchLabels": {CLIENT_LABEL: "true"}}],
        "redis-tenant-b": [{"matchLabels": {tenant_label: "true"}}],
    }
    secrets = _secrets(plan)
    tenant_url = secrets["team-b"][1]
    assert secrets["team-b"][0] == "redis-credentials-tenant-b"
    assert tenant_url.endswith("@redis-tenant-b-master.redis-tenant-b.svc:6379")


def _refused(tmp_path: Path, raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        _plan(tmp_path, raw)
    return [f"{p.key}: {p.message}" for p in refused.value.problems]


def test_a_url_the_runtime_refuses_exits_naming_the_key_and_option_only(tmp_path: Path) -> None:
    raw = _stack(stores={"managed": {"url": "redis://h:6379/?abc=1"}})
    assert _refused(tmp_path, raw) == [
        "omnia-agents:stores.managed.url: the runtime of Omnia 0.9.0-beta.17 (go-redis "
        "v9.21.0) refuses it and exits: redis: unexpected option: abc"
    ]


def test_the_lifetime_jitter_option_depends_on_the_release(tmp_path: Path) -> None:
    url = "rediss://:pw@cache.example.com:6380/?conn_max_lifetime=1h&conn_max_lifetime_jitter=6m"
    raw = _stack(stores={"managed": {"url": url}}, omniaVersion="0.2.0-alpha.12")
    for agent in raw["agents"]:
        agent["spec"] = {"promptPackRef": {"name": "p"}, "facade": {"type": "websocket"}}
    (problem,) = [p for p in _refused(tmp_path, raw) if "stores.managed.url" in p]
    assert problem.endswith("redis: unexpected option: conn_max_lifetime_jitter")
    _plan(tmp_path, _stack(stores={"managed": {"url": url}}))  # beta.17: planned


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda raw: raw["agents"][3]["session"].update(store="default"),
            "omnia-agents:agents[3].session.store: agents[1] in 'team-b' uses store 'managed': "
            "all the redis agents of a namespace use one store",
        ),
        (
            lambda raw: raw["agents"][0].update(session={"store": "elsewhere"}),
            "omnia-agents:agents[0].session.store: 'elsewhere' is not a store (default, managed)",
        ),
        (
            lambda raw: raw["stores"].update(default={"url": MANAGED_URL}),
            "omnia-agents:stores.default: omnia-agents:redis is the in-cluster store named default",
        ),
        (
            lambda raw: raw.update(stores={"managed": {"url": MANAGED_URL, "redis": raw["redis"]}}),
            "omnia-agents:stores.managed: needs exactly one of redis (an in-cluster chart) or url",
        ),
        (
            lambda raw: raw["agents"][0].update(session={"type": "memory", "store": "managed"}),
            "omnia-agents:agents[0].session.store: a store is for redis sessions only",
        ),
    ],
)
def test_store_choices_that_cannot_work_are_refused(
    tmp_path: Path, change: Any, problem: str
) -> None:
    raw = _stack()
    change(raw)
    found = _refused(tmp_path, raw)
    assert [p for p in found if p.startswith(problem)], found


def test_several_stores_without_default_need_a_choice(tmp_path: Path) -> None:
    raw = _stack()
    raw["stores"] = {"managed": {"url": MANAGED_URL}, "in-cluster": {"redis": raw.pop("redis")}}
    found = _refused(tmp_path, raw)
    assert found[0].startswith(
        "omnia-agents:agents[0].session: there are several stores (in-cluster, managed) and none "
        "named default: set session.store"
    )
    raw["session"]["store"] = "in-cluster"  # a stack-wide default
    plan = _plan(tmp_path, raw)
    assert [r.name for r in plan.find(CHART)] == ["redis-in-cluster"]


def test_warnings_of_the_url_are_printed_without_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = _stack(stores={"managed": {"url": "redis://:pw@cache.example.com:6379"}})
    _plan(tmp_path, raw)
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith("omnia-agents:stores.managed.url: redis:// to a host outside the cluster")
        for m in messages
    ), messages
    assert not any("cache.example.com" in m or ":pw@" in m for m in messages)


def test_a_refused_url_exits_2_naming_the_key_and_option_without_the_url(tmp_path: Path) -> None:
    """As `plan.py` (and `pulumi preview`) says it: one line, nothing on stdout."""
    raw = _stack(stores={"managed": {"url": "redis://h:6379/?abc=1"}})
    path = write_stack(tmp_path / "Pulumi.stores.yaml", raw)
    run = subprocess.run(
        [sys.executable, "plan.py", "--stack-file", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert (run.returncode, run.stdout) == (2, "")
    errors = [line for line in run.stderr.splitlines() if not line.startswith("warning: ")]
    assert errors == [
        f"{path}: omnia-agents:stores.managed.url: the runtime of Omnia 0.9.0-beta.17 "
        "(go-redis v9.21.0) refuses it and exits: redis: unexpected option: abc"
    ]
    assert "h:6379" not in run.stderr and "abc=1" not in run.stderr


def test_the_in_cluster_store_s_network_policy_admits_only_its_namespaces(tmp_path: Path) -> None:
    """The external and the in-cluster store, agents in three namespaces, rendered: the chart's
    NetworkPolicy admits the label only the in-cluster store's namespaces carry."""
    plan = rendered_plan(write_stack(tmp_path / "Pulumi.stores.yaml", _stack()), "stores")
    ((rule,),) = [
        obj["spec"]["ingress"]
        for (kind, _), obj in objects(plan).items()
        if kind == "NetworkPolicy"
    ]
    (selector,) = [
        f["namespaceSelector"]["matchLabels"] for f in rule["from"] if "namespaceSelector" in f
    ]
    labels = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
        for r in plan.find(NAMESPACE_PATCH)
    }
    admitted = sorted(ns for ns, has in labels.items() if selector.items() <= has.items())
    assert admitted == ["team-a", "team-c"]  # team-b's agents use the external store


def test_a_store_s_warnings_name_its_own_keys() -> None:
    """Each in-cluster store's warnings point at its block, not at omnia-agents:redis."""
    from settings.loader import parse_config

    tenant = {**copy.deepcopy(stack_config("prod")["redis"]), "namespace": "redis-tenant-b"}
    tenant.update(chartVersion="23.0.0", sentinel=False, replicas=2)
    raw = _stack(stores={"tenant-b": {"redis": tenant}})
    raw["agents"][1]["session"] = {"store": "tenant-b"}
    raw["agents"][3]["session"] = {"store": "tenant-b"}
    warnings = parse_config(raw, "stores").warnings()
    here = "omnia-agents:stores.tenant-b.redis"
    assert [w.split(" ")[0] for w in warnings if w.startswith(here)] == [
        f"{here}:",
        f"{here}.chartVersion:",
    ]
    assert not any(w.startswith("omnia-agents:redis") for w in warnings)


def test_a_store_s_chart_values_are_judged_as_redis_values_are() -> None:
    """stores.<name>.redis.values goes through the pinned chart's keys too."""
    tenant = {**copy.deepcopy(stack_config("prod")["redis"]), "namespace": "redis-tenant-b"}
    tenant["values"] = {"nosuchkey": 1}
    raw = _stack(stores={"tenant-b": {"redis": tenant}})
    raw["agents"][1]["session"] = {"store": "tenant-b"}
    raw["agents"][3]["session"] = {"store": "tenant-b"}
    from settings.loader import parse_config

    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "stores")
    assert [p.key for p in caught.value.problems] == [
        "omnia-agents:stores.tenant-b.redis.values.nosuchkey"
    ]
