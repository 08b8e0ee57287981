"""Every chart values key the program can emit exists in the chart's own values.yaml.

Helm ignores an unknown key and the chart's values.schema.json allows extra keys, so a misspelt
key (`networkPolicy.allowExternall`) deploys without effect. The reference is the `values.yaml`
tree of each chart version in ../shared/bitnami-redis (Bitnami's files, unmodified).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from settings.models import RedisConfig
from tests.support.shared import CHARTS, shared_file
from tests.support.stacks import stack_config
from upstream.chart_versions import CHECKED
from upstream.redis_chart import (
    CHART_REPLICA_COUNT,
    MASTER_SET,
    PARALLEL_SYNCS,
    QUORUM,
    chart_values,
)

VERSIONS = CHECKED  # the chart versions the project has checked
# Maps whose keys are the user's (labels, annotations, Kubernetes resource lists): the map
# itself must exist in values.yaml (as `{}`), its contents are not chart keys.
FREE_FORM = frozenset(
    {
        "commonAnnotations",  # annotations on every object the chart renders
        "master.podAnnotations",
        "replica.podAnnotations",
        "networkPolicy.ingressNSMatchLabels",
        "master.resources",
        "replica.resources",
        "sentinel.resources",
    }
)
IMAGE = {"registry": "r.example", "repository": "mirror/x", "tag": "8.2.1-debian-12-r0"}
# Every setting on, and the topologies that emit keys the others do not.
CONFIGS: dict[str, dict[str, Any]] = {
    "all-on": {
        "namespace": "store",
        "architecture": "replication",
        "sentinel": True,
        "replicas": 4,
        "protect": True,
        "passwordRotation": "2026-11",
        "images": {"redis": IMAGE, "sentinel": IMAGE, "kubectl": IMAGE},
        "resources": {"memory": "2Gi", "cpu": "1", "cpuLimit": "2"},
        "maxmemory": {"percentOfLimit": 50, "policy": "noeviction"},
        "volumeSize": "20Gi",
        "failover": {
            "downAfterMilliseconds": 3000,
            "failoverTimeout": 30000,
            "minReplicasToWrite": 2,
            "minReplicasMaxLag": 5,
        },
    },
    "replication": {"architecture": "replication", "replicas": 2, "passwordRotation": "x"},
    "standalone": {"passwordRotation": "x", "images": {"redis": IMAGE}},
}


def paths(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every key, not descending into free-form maps."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict) and path not in FREE_FORM:
            yield from paths(value, f"{path}.")


def known(tree: Any, path: str) -> Any:
    node = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def chart_tree(version: str) -> dict[str, Any]:
    source = shared_file(CHARTS / version / "values.yaml", "Bitnami's chart files")
    tree: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    return tree


def emitted() -> set[str]:
    found: set[str] = set()
    for raw in CONFIGS.values():
        found |= set(
            paths(chart_values(RedisConfig.model_validate({"chartVersion": "1.0.0", **raw})))
        )
    return found


@pytest.mark.parametrize("version", VERSIONS)
def test_every_emitted_key_is_a_chart_key(version: str) -> None:
    tree = chart_tree(version)
    unknown = []
    for path in sorted(emitted()):
        try:
            known(tree, path)
        except KeyError:
            unknown.append(path)
    assert unknown == [], f"not in bitnami-redis {version} values.yaml: {unknown}"


@pytest.mark.parametrize("version", VERSIONS)
def test_free_form_exceptions_are_empty_maps_in_the_chart(version: str) -> None:
    tree = chart_tree(version)
    for path in FREE_FORM:
        assert known(tree, path) == {}, path


def test_all_on_emits_every_setting() -> None:
    """The key check above covers the settings that add keys: sizing, failover, images."""
    found = emitted()
    for path in (
        "master.resources",
        "master.resourcesPreset",
        "master.persistence.size",
        "replica.resources",
        "replica.replicaCount",
        "sentinel.downAfterMilliseconds",
        "sentinel.failoverTimeout",
        "sentinel.resources",
        "sentinel.image.tag",
        "kubectl.image.registry",
        "image.repository",
        "global.security.allowInsecureImages",
        "master.podAnnotations",
    ):
        assert path in found, path


@pytest.mark.parametrize("version", VERSIONS)
def test_chart_defaults_the_program_relies_on(version: str) -> None:
    """Defaults the program leaves in place but reasons with (the write guard's replica count,
    and the Sentinel settings the real-Sentinel tests reproduce) are the chart's own."""
    tree = chart_tree(version)
    assert known(tree, "replica.replicaCount") == CHART_REPLICA_COUNT
    assert known(tree, "sentinel.masterSet") == MASTER_SET
    assert known(tree, "sentinel.quorum") == QUORUM
    assert known(tree, "sentinel.parallelSyncs") == PARALLEL_SYNCS


def test_prod_images_are_the_tags_its_chart_lists() -> None:
    """The prod stack's image overrides move the registry (bitnamilegacy), not the versions:
    each tag is the one the pinned chart's Chart.yaml names for that image."""
    redis = stack_config("prod")["redis"]
    chart = yaml.safe_load(
        (CHARTS / redis["chartVersion"] / "Chart.yaml").read_text(encoding="utf-8")
    )
    listed = {i["name"]: i["image"] for i in yaml.safe_load(chart["annotations"]["images"])}
    names = {"redis": "redis", "sentinel": "redis-sentinel", "kubectl": "kubectl"}
    for role, image in redis["images"].items():
        upstream = listed[names[role]]
        assert upstream.endswith(f"/{names[role]}:{image['tag']}"), (role, upstream)
        assert image["repository"] == f"bitnamilegacy/{names[role]}"
