"""What the chart really renders for every stack: the real program's values through the real Helm
on the pinned chart (tests.support.render), asserted against the stack file by the brief's rules.

The key check (tests/upstream/test_chart_keys.py) catches a misspelt key the render cannot show;
these catch what only the render shows: which StatefulSets run, what redis.conf and
sentinel.conf say, which Service the URL reaches, who the NetworkPolicy admits.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from offline.inputs import stack_file_for
from tests.support.render import (
    objects,
    rendered_plan,
    replication,
    standalone,
    with_redis,
    write_stack,
)
from tests.support.stacks import planned_password, stack_config

CLIENT_LABEL = "omnia-agents/redis-client"
TIMEOUT = "pulumi.com/timeoutSeconds"
IMAGE = {"registry": "r.example", "repository": "mirror/redis", "tag": "8.2.1-debian-12-r0"}
PROD = stack_config("prod")
# Every stack file with Redis, and the edge stacks the other tests plan.
STACKS: dict[str, dict[str, Any]] = {
    "prod": PROD,
    "prod-on-22.0.5": with_redis(PROD, chartVersion="22.0.5"),
    "five-nodes": with_redis(PROD, replicas=5),
    "standalone": standalone(PROD, images={"redis": IMAGE}),
    "replication": replication(PROD),
    "large": with_redis(
        PROD,
        namespace="sessions",
        replicas=4,
        resources={"memory": "4Gi", "cpu": "1", "cpuLimit": "2"},
        maxmemory={"percentOfLimit": 50, "policy": "noeviction"},
        volumeSize="20Gi",
        readyTimeout="45m",
        failover={
            "downAfterMilliseconds": 3000,
            "failoverTimeout": 30000,
            "minReplicasToWrite": 2,
            "minReplicasMaxLag": 5,
        },
    ),
}


def _seconds(duration: str) -> int:
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", duration))


def _mib(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * (1024 if unit == "Gi" else 1)


def _expected_statefulsets(redis: dict[str, Any]) -> dict[str, int]:
    """The chart's topologies: Sentinel runs every node in `<release>-node`; otherwise a
    `-master` of one pod, and with replication `-replicas` (replicaCount, default 3)."""
    if redis.get("sentinel"):
        return {"redis-node": redis.get("replicas", 3)}
    if redis.get("architecture") == "replication":
        return {"redis-master": 1, "redis-replicas": redis.get("replicas", 3)}
    return {"redis-master": 1}


def _guard(redis: dict[str, Any]) -> int:
    wanted = redis.get("failover", {}).get("minReplicasToWrite")
    if wanted is not None:
        return int(wanted)
    return 1 if redis.get("sentinel") else 0


def _conf_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@pytest.fixture(scope="module", params=sorted(STACKS))
def stack(request, tmp_path_factory) -> tuple[dict[str, Any], dict[tuple[str, str], Any], str]:
    raw = STACKS[request.param]
    path: Path = write_stack(tmp_path_factory.mktemp("render") / "Pulumi.prod.yaml", raw)
    plan = rendered_plan(path)
    return raw, objects(plan), planned_password(plan)


def test_the_statefulsets_and_their_volumes(stack) -> None:
    raw, objs, _ = stack
    redis = raw["redis"]
    found = {
        name: obj["spec"]["replicas"] for (kind, name), obj in objs.items() if kind == "StatefulSet"
    }
    assert found == _expected_statefulsets(redis)
    for name in found:
        spec = objs[("StatefulSet", name)]["spec"]
        (template,) = spec["volumeClaimTemplates"]
        assert template["metadata"]["name"] == "redis-data"
        assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert template["spec"]["resources"]["requests"]["storage"] == redis["volumeSize"]
        assert spec["persistentVolumeClaimRetentionPolicy"] == {
            "whenDeleted": "Retain",
            "whenScaled": "Retain",
        }
        assert spec["serviceName"] == "redis-headless"


def test_every_container_gets_its_resources(stack) -> None:
    raw, objs, _ = stack
    wanted = raw["redis"]["resources"]
    limits = {
        "memory": wanted["memory"],
        **({"cpu": wanted["cpuLimit"]} if "cpuLimit" in wanted else {}),
    }
    for (kind, _name), obj in objs.items():
        if kind != "StatefulSet":
            continue
        containers = {c["name"]: c for c in obj["spec"]["template"]["spec"]["containers"]}
        assert containers["redis"]["resources"] == {
            "requests": {"cpu": wanted["cpu"], "memory": wanted["memory"]},
            "limits": limits,
        }
        if raw["redis"].get("sentinel"):
            assert set(containers) == {"redis", "sentinel", "kubectl-shared"}
            assert containers["sentinel"]["resources"] == {
                "requests": {"cpu": "50m", "memory": "64Mi"},
                "limits": {"memory": "128Mi"},
            }
        else:
            assert set(containers) == {"redis"}


def test_redis_conf_as_the_chart_mounts_it(stack) -> None:
    raw, objs, _ = stack
    redis = raw["redis"]
    limit = _mib(redis["resources"]["memory"])
    conf = _conf_lines(objs[("ConfigMap", "redis-configuration")]["data"]["redis.conf"])
    expected = [
        "appendonly yes",
        "appendfsync everysec",
        'save ""',
        f"maxmemory {limit * redis['maxmemory']['percentOfLimit'] // 100}mb",
        f"maxmemory-policy {redis['maxmemory']['policy']}",
    ]
    if redis.get("architecture") == "replication":
        expected.append(f"client-output-buffer-limit replica {limit // 10}mb {limit // 20}mb 60")
    if _guard(redis):
        expected += [
            f"min-replicas-to-write {_guard(redis)}",
            f"min-replicas-max-lag {redis['failover'].get('minReplicasMaxLag', 10)}",
        ]
    assert conf == expected


def test_sentinel_conf_timings(stack) -> None:
    raw, objs, _ = stack
    redis = raw["redis"]
    data = objs[("ConfigMap", "redis-configuration")]["data"]
    if not redis.get("sentinel"):
        assert "sentinel.conf" not in data
        return
    failover = redis["failover"]
    conf = _conf_lines(data["sentinel.conf"])
    ns = redis["namespace"]
    assert (
        f"sentinel monitor mymaster redis-node-0.redis-headless.{ns}.svc.cluster.local 6379 2"
        in conf
    )
    assert f"sentinel down-after-milliseconds mymaster {failover['downAfterMilliseconds']}" in conf
    assert f"sentinel failover-timeout mymaster {failover['failoverTimeout']}" in conf
    assert "sentinel parallel-syncs mymaster 1" in conf
    # The start script sets the same quorum when it writes the monitor line at boot.
    script = objs[("ConfigMap", "redis-scripts")]["data"]["start-sentinel.sh"]
    assert '"mymaster "$REDIS_MASTER_HOST" "$REDIS_MASTER_PORT_NUMBER" 2"' in script


def test_the_url_reaches_the_master_service(stack) -> None:
    raw, objs, _ = stack
    service = objs[("Service", "redis-master")]
    assert service["metadata"]["namespace"] == raw["redis"]["namespace"]
    assert [p["port"] for p in service["spec"]["ports"]] == [6379]
    release = {"app.kubernetes.io/instance": "redis", "app.kubernetes.io/name": "redis"}
    if raw["redis"].get("sentinel"):
        # The kubectl sidecar labels the current master `isMaster: "true"`.
        assert service["spec"]["selector"] == {**release, "isMaster": "true"}
    else:
        assert service["spec"]["selector"] == {**release, "app.kubernetes.io/component": "master"}
        labels = objs[("StatefulSet", "redis-master")]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()


def test_the_network_policy_admits_the_labelled_namespaces_only(stack) -> None:
    raw, objs, _ = stack
    policy = objs[("NetworkPolicy", "redis")]["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    (rule,) = policy["ingress"]
    ports = [6379, 26379] if raw["redis"].get("sentinel") else [6379]
    assert [p["port"] for p in rule["ports"]] == ports
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"redis-client": "true"}}},
        {
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/instance": "redis",
                    "app.kubernetes.io/name": "redis",
                }
            }
        },
        {"namespaceSelector": {"matchLabels": {CLIENT_LABEL: "true"}}},
    ]


def test_a_disruption_budget_per_statefulset(stack) -> None:
    raw, objs, _ = stack
    budgets = {name: obj for (kind, name), obj in objs.items() if kind == "PodDisruptionBudget"}
    assert set(budgets) == set(_expected_statefulsets(raw["redis"]))
    for name, budget in budgets.items():
        assert budget["apiVersion"] == "policy/v1"
        assert budget["spec"]["maxUnavailable"] == 1
        pods = objs[("StatefulSet", name)]["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= pods.items()


def test_the_images_are_the_stack_s(stack) -> None:
    raw, objs, _ = stack
    images = raw["redis"].get("images", {})
    names = {"redis": "redis", "sentinel": "sentinel", "kubectl": "kubectl-shared"}
    for (kind, _), obj in objs.items():
        if kind != "StatefulSet":
            continue
        for container in obj["spec"]["template"]["spec"]["containers"]:
            role = next(r for r, c in names.items() if c == container["name"])
            image = images[role]
            assert container["image"] == f"{image['registry']}/{image['repository']}:{image['tag']}"


def test_every_object_carries_the_ready_timeout(stack) -> None:
    raw, objs, _ = stack
    seconds = str(_seconds(raw["redis"].get("readyTimeout", "30m")))
    for key, obj in objs.items():
        assert obj["metadata"]["annotations"][TIMEOUT] == seconds, key
        assert obj["metadata"]["namespace"] == raw["redis"]["namespace"], key


def test_the_password_is_only_a_secret_reference(stack) -> None:
    _raw, objs, password = stack
    assert not [key for key in objs if key[0] == "Secret"]  # the chart makes no Secret
    assert password not in repr(objs)
    for (kind, _), obj in objs.items():
        if kind != "StatefulSet":
            continue
        pod = obj["spec"]["template"]["spec"]
        volume = next(v for v in pod["volumes"] if v["name"] == "redis-password")
        assert volume["secret"] == {
            "secretName": "redis-auth",
            "items": [{"key": "redis-password", "path": "redis-password"}],
        }
        for container in pod["containers"]:
            env = {e["name"]: e for e in container.get("env", [])}
            assert "REDIS_PASSWORD" not in env
            if "REDIS_PASSWORD_FILE" in env:
                assert env["REDIS_PASSWORD_FILE"]["value"] == (
                    "/opt/bitnami/redis/secrets/redis-password"
                )


def test_rotation_restarts_the_pods(stack) -> None:
    raw, objs, _ = stack
    for (kind, _), obj in objs.items():
        if kind == "StatefulSet":
            annotations = obj["spec"]["template"]["metadata"]["annotations"]
            assert annotations["omnia-agents/password-rotation"] == raw["redis"]["passwordRotation"]


def test_prod_renders_the_thirteen_objects_of_the_issue(capsys) -> None:
    """`plan.py prod --render --charts ../shared/bitnami-redis --format json`."""
    import json

    from offline import cli
    from tests.support.render import need_charts
    from tests.support.shared import need_helm

    need_helm()
    assert cli.main(["prod", "--render", "--charts", str(need_charts()), "--format", "json"]) == 0
    items = json.loads(capsys.readouterr().out)
    chart = next(i for i in items if i["type"] == "kubernetes:helm.sh/v4:Chart")
    children = [i for i in items if i["urn"].startswith(chart["urn"].rsplit("::", 1)[0] + "$")]
    assert sorted(
        (i["type"].rsplit(":", 1)[1], i["inputs"]["metadata"]["name"]) for i in children
    ) == [
        ("ConfigMap", "redis-configuration"),
        ("ConfigMap", "redis-health"),
        ("ConfigMap", "redis-kubectl-scripts"),
        ("ConfigMap", "redis-scripts"),
        ("NetworkPolicy", "redis"),
        ("PodDisruptionBudget", "redis-node"),
        ("Role", "redis"),
        ("RoleBinding", "redis"),
        ("Service", "redis"),
        ("Service", "redis-headless"),
        ("Service", "redis-master"),
        ("ServiceAccount", "redis"),
        ("StatefulSet", "redis-node"),
    ]
    ns = PROD["redis"]["namespace"]
    for child in children:
        name = child["inputs"]["metadata"]["name"]
        assert child["name"] == f"redis:{ns}/{name}"  # <chart resource name>:<namespace>/<name>
        assert child["urn"] == f"{chart['urn'].rsplit('::', 1)[0]}${child['type']}::{child['name']}"
    assert stack_file_for("prod").exists()


def test_a_secret_the_chart_renders_is_printed_masked(tmp_path, capsys) -> None:
    """serviceBindings (which the program lets through) renders `redis-svcbind` with a
    password and a redis:// URI in `data`; pulumi-kubernetes registers a Secret's data as a
    secret (yaml/v2 yaml.go), so the plan masks it unless --show-secrets."""
    import base64
    import json

    from offline import cli
    from tests.support.render import need_charts
    from tests.support.shared import need_helm

    need_helm()
    raw = with_redis(PROD, values={"serviceBindings": {"enabled": True}})
    path = str(write_stack(tmp_path / "Pulumi.prod.yaml", raw))
    args = ["--stack-file", path, "--render", "--charts", str(need_charts()), "--format", "json"]
    assert cli.main(args) == 0
    masked = next(i for i in json.loads(capsys.readouterr().out) if i["name"].endswith("svcbind"))
    assert masked["inputs"]["data"] == "[secret]"
    assert cli.main([*args, "--show-secrets"]) == 0
    shown = next(i for i in json.loads(capsys.readouterr().out) if i["name"].endswith("svcbind"))
    uri = base64.b64decode(shown["inputs"]["data"]["uri"]).decode()
    assert uri.startswith("redis://:") and uri.endswith("@redis:6379")
