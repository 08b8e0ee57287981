"""What `redis.values`, `redis.storageClass`, `redis.metrics` and the Sentinel spread render to:
the real program's values through the real Helm on the pinned chart (tests.support.render).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from settings.loader import parse_config
from tests.support.exporter import PROMTOOL
from tests.support.render import objects, rendered_plan, replication, with_redis, write_stack
from tests.support.shared import CHARTS, need
from tests.support.stacks import stack_config
from upstream.redis_chart import METRICS_CLIENT_LABEL, RELEASE
from upstream.redis_metrics import metrics_job, rule_groups

PROD = stack_config("prod")
ALL_ON = {"enabled": True, "serviceMonitor": True, "prometheusRule": True}
DONE_WHEN = {
    "global": {"defaultStorageClass": "fast-ssd"},
    "replica": {"nodeSelector": {"pool": "redis"}},
}


def _render(tmp_path: Path, raw: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return objects(rendered_plan(write_stack(tmp_path / "Pulumi.prod.yaml", raw)))


def _exporter_tag(version: str) -> str:
    values = yaml.safe_load((CHARTS / version / "values.yaml").read_text(encoding="utf-8"))
    return str(values["metrics"]["image"]["tag"])


@pytest.mark.parametrize(
    "raw",
    [
        with_redis(PROD, values=DONE_WHEN),
        replication(PROD, values=DONE_WHEN),
    ],
    ids=["sentinel", "replication"],
)
def test_the_done_when_values_reach_the_statefulsets(tmp_path: Path, raw) -> None:
    """The claim template takes the StorageClass and the pods the nodeSelector."""
    objs = _render(tmp_path, raw)
    sets = {name: obj for (kind, name), obj in objs.items() if kind == "StatefulSet"}
    assert sets
    for name, obj in sets.items():
        (claim,) = obj["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "fast-ssd", name
        selector = obj["spec"]["template"]["spec"].get("nodeSelector")
        # replica.* reaches every Sentinel node and the read replicas, not the plain master.
        wanted = None if name == "redis-master" else {"pool": "redis"}
        assert selector == wanted, name


def test_storage_class_reaches_every_claim(tmp_path: Path) -> None:
    objs = _render(tmp_path, with_redis(PROD, storageClass="fast-ssd"))
    (claim,) = objs[("StatefulSet", "redis-node")]["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    # Unset: no class in the claim, the cluster's default applies.
    (plain,) = _render(tmp_path, PROD)[("StatefulSet", "redis-node")]["spec"][
        "volumeClaimTemplates"
    ]
    assert "storageClassName" not in plain["spec"]


def test_a_sentinel_set_is_spread_over_nodes_and_zones(tmp_path: Path) -> None:
    pod = _render(tmp_path, PROD)[("StatefulSet", "redis-node")]["spec"]["template"]
    labels = pod["metadata"]["labels"]
    anti = pod["spec"]["affinity"]["podAntiAffinity"]
    (required,) = anti["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required["topologyKey"] == "kubernetes.io/hostname"
    assert required["labelSelector"]["matchLabels"].items() <= labels.items()
    assert "preferredDuringSchedulingIgnoredDuringExecution" not in anti
    (zones,) = pod["spec"]["topologySpreadConstraints"]
    assert (zones["topologyKey"], zones["whenUnsatisfiable"], zones["maxSkew"]) == (
        "topology.kubernetes.io/zone",
        "ScheduleAnyway",
        1,
    )
    # It selects exactly this set's pods: the labels the chart gives them.
    assert zones["labelSelector"]["matchLabels"].items() <= labels.items()


@pytest.fixture(scope="module")
def watched(tmp_path_factory) -> tuple[dict[str, Any], dict[tuple[str, str], Any]]:
    raw = with_redis(PROD, metrics=ALL_ON)
    return raw, _render(tmp_path_factory.mktemp("watched"), raw)


def test_metrics_render_the_exporter_its_service_and_the_operator_objects(watched) -> None:
    raw, objs = watched
    version = raw["redis"]["chartVersion"]
    containers = {
        c["name"]: c
        for c in objs[("StatefulSet", "redis-node")]["spec"]["template"]["spec"]["containers"]
    }
    assert containers["metrics"]["image"] == (
        f"docker.io/bitnamilegacy/redis-exporter:{_exporter_tag(version)}"
    )
    service = objs[("Service", metrics_job(RELEASE))]
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"]) == ("http-metrics", 9121)
    monitor = objs[("ServiceMonitor", "redis")]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["interval"]) == ("http-metrics", "30s")
    # It selects the metrics Service: the targets' job is that Service's name.
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [raw["redis"]["namespace"]]}


def test_the_rendered_rules_are_the_program_s_and_promtool_passes_them(tmp_path, watched) -> None:
    """Helm's `tpl` leaves the Prometheus templates as the program wrote them."""
    raw, objs = watched
    spec = objs[("PrometheusRule", "redis")]["spec"]
    redis = parse_config(raw, "s").redis
    assert redis is not None
    assert spec == rule_groups(redis, RELEASE)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    done = subprocess.run(
        [need(PROMTOOL), "check", "rules", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(spec['groups'][0]['rules'])} rules found" in done.stdout


def test_only_the_labelled_namespaces_reach_the_exporter(watched) -> None:
    _, objs = watched
    ingress = objs[("NetworkPolicy", "redis")]["spec"]["ingress"]
    (metrics,) = [rule for rule in ingress if {"port": 9121} in rule["ports"]]
    assert metrics["from"] == [
        {"namespaceSelector": {"matchLabels": {METRICS_CLIENT_LABEL: "true"}}}
    ]
