"""The production Redis rules on what the engine analyzes: the objects the chart renders.

A Chart v4 reaches a pack with no properties (pulumi-kubernetes' Construct registers it with
none), so the rules judge its children. Each case is a real render: the prod plan's Chart with
planted chart values (raw, as a v3 Release or another program could pass them: this program
refuses most of them at config time), rendered by the pinned Helm on the packaged chart of
../shared/bitnami-redis (offline.helm.add_children, what `plan.py --render` does).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from offline import harness
from offline.helm import add_children
from offline.inputs import ROOT
from offline.program import run_plan
from policy import rules
from policy.tests.test_policies import _pack_config, run_policies
from tests.support.render import (
    need_charts,
    objects,
    replication,
    set_path,
    standalone,
    write_stack,
)
from tests.support.shared import need_helm
from tests.support.stacks import CHART, stack_config
from upstream.chart_versions import CHECKED

PROD = ROOT / "stacks" / "Pulumi.prod.yaml"
AUTH = "omnia-production-redis-auth"
NETWORK = "omnia-production-redis-network"
NODE = "StatefulSet redis/redis-node"
TOPOLOGIES: dict[str, dict[str, Any]] = {
    "sentinel": stack_config("prod"),
    "replication": replication(stack_config("prod")),
    "standalone": standalone(stack_config("prod")),
}
# The Redis workloads each topology renders, with their Redis containers' ports.
WORKLOADS = {
    "sentinel": [(NODE, "ports 6379, 26379")],
    "replication": [
        ("StatefulSet redis/redis-master", "port 6379"),
        ("StatefulSet redis/redis-replicas", "port 6379"),
    ],
    "standalone": [("StatefulSet redis/redis-master", "port 6379")],
}
OPEN = "Redis is open to the cluster, its password the only guard"
CHART_HINT = (
    " (the chart: networkPolicy.allowExternal not false, or an open networkPolicy.extraIngress)"
)


@pytest.fixture(scope="module")
def topology_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("topologies")
    found = {}
    for name, raw in TOPOLOGIES.items():
        (folder / name).mkdir()
        found[name] = write_stack(folder / name / "Pulumi.prod.yaml", raw)
    return found


def planted(
    change: Callable[[dict[str, Any]], None] | None = None,
    *,
    stack_file: Path = PROD,
    version: str | None = None,
    stack: str = "prod",
    **plan_kwargs: Any,
) -> harness.Plan:
    """A stack's plan (`plan_kwargs` to run_plan) with its Chart's values changed, rendered
    into its children."""
    need_helm()
    plan = run_plan(stack_file, stack, **plan_kwargs)
    chart = plan.one(CHART, "redis")
    values = copy.deepcopy(chart.inputs["values"])
    if change is not None:
        change(values)
    chart.inputs = {**chart.inputs, "values": values, "version": version or chart.inputs["version"]}
    return add_children(plan, need_charts())


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change setting one dotted values key (None: removed)."""

    def change(values: dict[str, Any]) -> None:
        set_path(values, path.split("."), value)

    return change


def _both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(values: dict[str, Any]) -> None:
        for one in changes:
            one(values)

    return change


def _found(plan: harness.Plan, config: dict[str, Any] | None = None) -> dict[str, list[str]]:
    found = run_policies(plan, config)
    return {AUTH: found[AUTH], NETWORK: found[NETWORK]}


NOTHING: dict[str, list[str]] = {AUTH: [], NETWORK: []}


# ---- the real renders pass ------------------------------------------------------------------


@pytest.mark.parametrize("version", CHECKED)
@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
def test_every_real_render_passes(topology, version, topology_files) -> None:
    plan = planted(stack_file=topology_files[topology], version=version)
    assert {r.type for r in plan.resources} >= {
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    }
    assert _found(plan, _pack_config()) == NOTHING


def test_metrics_on_passes_though_the_exporter_port_is_open() -> None:
    """The program's metrics values: the exporter's 9121 admits the metrics namespaces. The
    chart's own default (networkPolicy.metrics.allowExternal true) opens 9121 to every source:
    not a Redis port, so no violation either."""
    plan = planted(_set("metrics", {"enabled": True}))
    (policy,) = [o for (kind, _), o in objects(plan).items() if kind == "NetworkPolicy"]
    assert {"ports": [{"port": 9121}]} in policy["spec"]["ingress"]  # open, on the exporter
    assert _found(plan) == NOTHING


def test_dev_and_non_production_stacks_are_not_judged() -> None:
    assert _found(run_plan(ROOT / "stacks" / "Pulumi.dev.yaml")) == NOTHING
    staging = planted(
        _both(_set("auth", {"enabled": False}), _set("networkPolicy", {"enabled": False})),
        stack="staging",
    )
    assert _found(staging) == NOTHING
    config = {name: {"productionStacks": ["stag*"]} for name in (AUTH, NETWORK)}
    assert [len(found) for found in _found(staging, config).values()] == [1, 1]


# ---- omnia-production-redis-auth ----------------------------------------------------------


def _no_password(where: str, containers: list[str]) -> str:
    listed = ", ".join(f"{c} (ALLOW_EMPTY_PASSWORD=yes)" for c in containers)
    return (
        f"{where}: {listed} start without a password (no REDIS_PASSWORD or "
        "REDIS_PASSWORD_FILE: the chart's auth.enabled is false): anyone who reaches Redis "
        "reads every session"
    )


@pytest.mark.parametrize("version", CHECKED)
@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
def test_auth_off_in_every_topology(topology, version, topology_files) -> None:
    plan = planted(
        _set("auth", {"enabled": False}), stack_file=topology_files[topology], version=version
    )
    containers = ["redis", "sentinel"] if topology == "sentinel" else ["redis"]
    assert _found(plan) == {
        AUTH: [_no_password(where, containers) for where, _ in WORKLOADS[topology]],
        NETWORK: [],
    }


SECRET_MESSAGE = (
    "Secret redis/redis is the chart's own password Secret (secret.yaml, key redis-password): "
    "its password comes from the values (auth.password or global.redis.password, in clear in "
    "the program) or is made up by the chart at render; give the chart auth.existingSecret, a "
    "Secret the stack makes from a generated password"
)
NO_EXISTING = _both(_set("auth.existingSecret", None), _set("auth.existingSecretPasswordKey", None))


@pytest.mark.parametrize("version", CHECKED)
@pytest.mark.parametrize(
    "change",
    [
        _both(NO_EXISTING, _set("auth.password", "hunter2")),
        _both(NO_EXISTING, _set("global.redis", {"password": "hunter2"})),
        NO_EXISTING,  # the chart makes one up: randAlphaNum 10
    ],
    ids=["auth.password", "global.redis.password", "generated"],
)
def test_the_chart_s_own_password_secret(change, version) -> None:
    plan = planted(change, version=version)
    secret = plan.one(rules.SECRET, "redis:redis/redis")
    # The provider registers a Secret's data as a secret (yaml.go); the policy reads it.
    assert rpc.is_rpc_secret(secret.inputs["data"])
    assert _found(plan) == {AUTH: [SECRET_MESSAGE], NETWORK: []}


def test_a_password_given_with_existing_secret_renders_nowhere() -> None:
    """global.redis.password beside auth.existingSecret: the chart reads the existing Secret
    and renders the given password in no object; under a Chart v4 it reaches no policy at all
    (the v3 values rule still refuses it: test_policies.py)."""
    plan = planted(_set("global.redis", {"password": "hunter2"}))
    assert "hunter2" not in repr(list(objects(plan).values()))
    assert _found(plan) == NOTHING


REF = {"secretKeyRef": {"name": "redis-auth", "key": "redis-password"}}


def test_passwords_in_clear_in_the_pods_env() -> None:
    plan = planted(
        _both(
            _set("replica.extraEnvVars", [{"name": "REDIS_PASSWORD", "value": "hunter2"}]),
            _set(
                "sentinel.extraEnvVars",
                [
                    {"name": "REDIS_SENTINEL_PASSWORD", "value": ""},  # empty: no password
                    {"name": "REDISCLI_AUTH", "valueFrom": REF},  # from a Secret
                    # A literal the kubelet overrides with the later entry: still in the spec.
                    {"name": "REDIS_MASTER_PASSWORD", "value": "hunter3"},
                    {"name": "REDIS_MASTER_PASSWORD", "valueFrom": REF},
                ],
            ),
            _set(
                "metrics",
                {"enabled": True, "extraEnvVars": [{"name": "REDISCLI_AUTH", "value": "pw"}]},
            ),
        )
    )
    clear = (
        "holds a password in clear (a literal `value`): whoever may read the workload reads it, "
        "and the state keeps it unencrypted; use valueFrom.secretKeyRef"
    )
    assert _found(plan) == {
        AUTH: [
            f"{NODE}: container redis env REDIS_PASSWORD {clear}",
            f"{NODE}: container sentinel env REDIS_MASTER_PASSWORD {clear}",
            f"{NODE}: container metrics env REDISCLI_AUTH {clear}",
        ],
        NETWORK: [],
    }


def test_passwords_in_clear_in_the_config_files() -> None:
    def change(values: dict[str, Any]) -> None:
        values["commonConfiguration"] += "requirepass hunter2\nuser app on >hunter3 ~* +@all\n"
        values["auth"]["acl"] = {
            "enabled": True,
            "sentinel": True,
            "users": [{"username": "app", "password": "hunter4", "commands": "+@all"}],
        }

    where = "ConfigMap redis/redis-configuration"
    tail = (
        "holds a password in clear: whoever may read ConfigMaps there reads it, and the state "
        "keeps it unencrypted"
    )
    assert _found(planted(change)) == {
        AUTH: [
            f"{where} redis.conf: `requirepass` {tail}",
            f"{where} redis.conf: `user ... >` {tail}",
            f"{where} sentinel.conf: `sentinel sentinel-pass` {tail}",
        ],
        NETWORK: [],
    }


def test_the_chart_is_recognised_by_its_labels_whatever_its_name() -> None:
    """nameOverride renames every object and its name label; `helm.sh/chart: redis-<version>`
    still names the chart. Labels stripped, the same object is no Redis of the chart's."""
    plan = planted(_both(_set("nameOverride", "sessions"), _set("auth", {"enabled": False})))
    node = objects(plan)[("StatefulSet", "redis-sessions-node")]
    assert node["metadata"]["labels"]["app.kubernetes.io/name"] == "sessions"
    assert _found(plan)[AUTH] == [
        _no_password("StatefulSet redis/redis-sessions-node", ["redis", "sentinel"])
    ]
    labels = node["metadata"]["labels"]
    assert rules.is_redis_object(node)
    bare = {**node, "metadata": {**node["metadata"], "labels": {}}}
    assert not rules.is_redis_object(bare) and rules.redis_auth_problems(bare) == []
    named = {"app.kubernetes.io/name": "redis", "app.kubernetes.io/managed-by": "Helm"}
    assert rules.is_redis_object({"metadata": {"labels": named}})
    assert not rules.is_redis_object({"metadata": {"labels": {"app.kubernetes.io/name": "redis"}}})
    assert labels["helm.sh/chart"].startswith("redis-")


# ---- omnia-production-redis-network ---------------------------------------------------------


@pytest.mark.parametrize("version", CHECKED)
@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
def test_no_network_policy(topology, version, topology_files) -> None:
    plan = planted(
        _set("networkPolicy", {"enabled": False}),
        stack_file=topology_files[topology],
        version=version,
    )
    assert _found(plan) == {
        AUTH: [],
        NETWORK: [
            f"{where}: no NetworkPolicy of the stack selects its pods in redis: every pod of the "
            "cluster reaches Redis (the chart renders one unless networkPolicy.enabled is false)"
            for where, _ in WORKLOADS[topology]
        ],
    }


@pytest.mark.parametrize("version", CHECKED)
@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
def test_allow_external(topology, version, topology_files) -> None:
    """The chart's default: its first ingress rule then has no `from`."""
    plan = planted(
        _set("networkPolicy.allowExternal", True),
        stack_file=topology_files[topology],
        version=version,
    )
    hits = "; ".join(f"{where} {ports}" for where, ports in WORKLOADS[topology])
    assert _found(plan) == {
        AUTH: [],
        NETWORK: [
            f"NetworkPolicy redis/redis spec.ingress[0] opens {hits} to every source (no "
            f"`from`): {OPEN}{CHART_HINT}"
        ],
    }


def test_open_extra_ingress_rules() -> None:
    extra = [
        {"from": [{"namespaceSelector": {}}]},  # 1: every namespace, every port
        {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": "redis"}]},  # 2
        {"ports": [{"port": 6000, "endPort": 7000}]},  # 3: a range holding 6379
        # Not open to every source, or not on a Redis port:
        {"from": [{"podSelector": {}}]},  # the pods of Redis' own namespace
        {"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"a": "b"}}}]},
        {"ports": [{"port": 6379, "protocol": "UDP"}]},
        {"ports": [{"port": "http-metrics"}, {"port": 8080}]},
    ]
    plan = planted(_set("networkPolicy.extraIngress", extra))
    assert _found(plan) == {
        AUTH: [],
        NETWORK: [
            f"NetworkPolicy redis/redis spec.ingress[1] opens {NODE} ports 6379, 26379 to every "
            f"pod of every namespace (an empty namespaceSelector): {OPEN}{CHART_HINT}",
            f"NetworkPolicy redis/redis spec.ingress[2] opens {NODE} port 6379 to every address "
            f"(ipBlock 0.0.0.0/0): {OPEN}{CHART_HINT}",
            f"NetworkPolicy redis/redis spec.ingress[3] opens {NODE} port 6379 to every source "
            f"(no `from`): {OPEN}{CHART_HINT}",
        ],
    }


def _extra_policy(spec: dict[str, Any], name: str = "extra") -> dict[str, Any]:
    """A NetworkPolicy of the release's namespace, through the chart's extraDeploy (rendered
    as given: no chart labels)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def test_other_network_policies_of_the_stack_count() -> None:
    """Policies selecting a pod add up: a second one opens what the chart's closes. One that
    does not select the pods, or only isolates egress, isolates nothing."""
    anywhere: dict[str, Any] = {"ingress": [{}]}
    plan = planted(
        _set(
            "extraDeploy",
            [
                _extra_policy({"podSelector": {}, **anywhere}, "all-pods"),
                _extra_policy(
                    {
                        "podSelector": {
                            "matchExpressions": [
                                {
                                    "key": "app.kubernetes.io/name",
                                    "operator": "In",
                                    "values": ["redis"],
                                }
                            ]
                        },
                        **anywhere,
                    },
                    "by-expression",
                ),
                _extra_policy(
                    {
                        "podSelector": {
                            "matchExpressions": [
                                {
                                    "key": "app.kubernetes.io/name",
                                    "operator": "NotIn",
                                    "values": ["redis"],
                                }
                            ]
                        },
                        **anywhere,
                    },
                    "others",
                ),
                _extra_policy({"podSelector": {"matchLabels": {"app": "web"}}, **anywhere}, "web"),
            ],
        )
    )
    assert _found(plan)[NETWORK] == [
        f"NetworkPolicy redis/{name} spec.ingress[0] opens {NODE} ports 6379, 26379 to every "
        f"source (no `from`): {OPEN}"
        for name in ("all-pods", "by-expression")
    ]
    egress_only = _extra_policy({"podSelector": {}, "policyTypes": ["Egress"]})
    plan = planted(
        _both(_set("networkPolicy", {"enabled": False}), _set("extraDeploy", [egress_only]))
    )
    assert _found(plan)[NETWORK] == [
        f"{NODE}: no NetworkPolicy of the stack selects its pods in redis: every pod of the "
        "cluster reaches Redis (the chart renders one unless networkPolicy.enabled is false)"
    ]
    elsewhere = {
        **_extra_policy({"podSelector": {}, **anywhere}),
        "metadata": {"name": "x", "namespace": "agents"},
    }
    plan = planted(
        _both(_set("networkPolicy", {"enabled": False}), _set("extraDeploy", [elsewhere]))
    )
    assert _found(plan)[NETWORK] == [  # a policy selects pods of its own namespace only
        f"{NODE}: no NetworkPolicy of the stack selects its pods in redis: every pod of the "
        "cluster reaches Redis (the chart renders one unless networkPolicy.enabled is false)"
    ]
    deny_all = _extra_policy({"podSelector": {}})  # isolates, admits nothing
    plan = planted(
        _both(_set("networkPolicy", {"enabled": False}), _set("extraDeploy", [deny_all]))
    )
    assert _found(plan)[NETWORK] == []


def test_a_policy_not_known_at_preview_gives_no_verdict() -> None:
    plan = planted(_set("networkPolicy.allowExternal", True))
    policy = plan.one(rules.NETWORK_POLICY, "redis:redis/redis")
    policy.inputs = {**policy.inputs, "spec": rpc.UNKNOWN}
    assert _found(plan)[NETWORK] == []


def test_the_first_preview_is_judged_though_the_password_is_unknown() -> None:
    """At a first preview the password, hence every credentials Secret, is unknown; the chart's
    objects are known (the Chart renders only known values) and judged all the same."""
    found = _found(planted(_set("networkPolicy.allowExternal", True), unknown_computed=True))
    assert found[AUTH] == [] and len(found[NETWORK]) == 1
