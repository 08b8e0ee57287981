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
from upstream.chart_keys import (
    NON_EMPTY_FREE,
    WHOLE,
    Kind,
    key_tree,
    known_versions,
    tree_for,
)
from upstream.chart_versions import CHECKED
from upstream.redis_chart import (
    CHART_REPLICA_COUNT,
    MASTER_SET,
    PARALLEL_SYNCS,
    QUORUM,
    chart_values,
)

VERSIONS = CHECKED  # the chart versions the project has checked
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
        "images": {"redis": IMAGE, "sentinel": IMAGE, "kubectl": IMAGE, "exporter": IMAGE},
        "resources": {"memory": "2Gi", "cpu": "1", "cpuLimit": "2"},
        "maxmemory": {"percentOfLimit": 50, "policy": "noeviction"},
        "volumeSize": "20Gi",
        "failover": {
            "downAfterMilliseconds": 3000,
            "failoverTimeout": 30000,
            "minReplicasToWrite": 2,
            "minReplicasMaxLag": 5,
        },
        "storageClass": "fast-ssd",
        "metrics": {"enabled": True, "serviceMonitor": True, "prometheusRule": True},
    },
    "replication": {"architecture": "replication", "replicas": 2, "passwordRotation": "x"},
    "standalone": {"passwordRotation": "x", "images": {"redis": IMAGE}},
}


def paths(values: dict[str, Any], tree: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every key, not descending into the chart's free-form maps (`{}` in
    values.yaml: labels, annotations, Kubernetes objects passed through)."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        yield path
        node = tree.get(key) if isinstance(tree, dict) else None
        if isinstance(value, dict) and node != Kind.FREE:
            yield from paths(value, node or {}, f"{path}.")


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


def emitted(version: str) -> set[str]:
    found: set[str] = set()
    _, tree = tree_for(version)
    for raw in CONFIGS.values():
        config = RedisConfig.model_validate({"chartVersion": version, **raw})
        found |= set(paths(chart_values(config), tree))
    return found


@pytest.mark.parametrize("version", VERSIONS)
def test_every_emitted_key_is_a_chart_key(version: str) -> None:
    tree = chart_tree(version)
    unknown = []
    for path in sorted(emitted(version)):
        try:
            known(tree, path)
        except KeyError:
            unknown.append(path)
    assert unknown == [], f"not in bitnami-redis {version} values.yaml: {unknown}"


@pytest.mark.parametrize("version", VERSIONS)
def test_the_program_s_key_trees_are_the_chart_s(version: str) -> None:
    """upstream/redis_chart_keys.json, the trees the program judges `redis.values` by, derived
    again from each version's values.yaml (`python -m upstream.chart_keys`)."""
    checked, tree = tree_for(version)
    assert checked == version
    assert tree == key_tree(chart_tree(version))
    assert known_versions() == list(VERSIONS)


@pytest.mark.parametrize("version", VERSIONS)
def test_free_maps_are_empty_in_the_chart_but_the_listed_ones(version: str) -> None:
    """A map is the user's when values.yaml leaves it empty; the only non-empty one whose keys
    are names (annotations, with `/` or `.`) is listed as such."""
    found: set[tuple[str, ...]] = set()

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, value in node.items():
            if isinstance(value, dict) and value:
                if any("/" in k or "." in k for k in value):
                    found.add((*path, key))
                walk(value, (*path, key))

    walk(chart_tree(version), ())
    assert found == set(NON_EMPTY_FREE)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_subtree_the_program_owns_is_the_chart_s(version: str) -> None:
    """Each is a key of values.yaml, or a key inside one of its free maps (labels)."""
    _, tree = tree_for(version)
    for path in WHOLE:
        node: Any = tree
        for key in path:
            if node == Kind.FREE:
                break
            assert isinstance(node, dict) and key in node, path
            node = node[key]


def test_all_on_emits_every_setting() -> None:
    """The key check above covers the settings that add keys: sizing, failover, images."""
    found = emitted("23.1.1")
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
        "master.persistence.storageClass",
        "replica.podAntiAffinityPreset",
        "replica.topologySpreadConstraints",
        "metrics.image.repository",
        "metrics.serviceMonitor.interval",
        "metrics.prometheusRule.rules",
        "networkPolicy.metrics.ingressNSMatchLabels",
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
