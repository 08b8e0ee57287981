"""How Chart v4 turns a render into children, and how the provider diffs them: the rules of
upstream/helm_chart_v4.py and upstream/kubernetes_diff.py on small renders written here, each
case one of the cited source's rules (pulumi-kubernetes chart.go, yaml.go, diff.go, provider.go).
"""

from __future__ import annotations

import pytest

from upstream.helm_chart_v4 import RenderError, chart_children, child_urn
from upstream.kubernetes_diff import delete_before_replace, force_new_paths, replace_keys

CHART = (
    "urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore"
    "$kubernetes:helm.sh/v4:Chart::redis"
)
RENDER = """\
---
# Source: x/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
data:
  when: 2026-11-01
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: placed
  namespace: elsewhere
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-upgrade
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata:
      name: listed
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget}
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
---
apiVersion: other.example.com/v1
kind: Gadget
metadata:
  name: g
"""


@pytest.fixture
def children():
    return {c.name: c for c in chart_children(RENDER, CHART, "redis", "redis")}


def test_names_types_and_namespaces(children) -> None:
    assert list(children) == [
        "redis:redis/plain",  # namespaced, defaulted to the Chart's namespace
        "redis:elsewhere/placed",  # its own namespace kept
        "redis:reader",  # cluster-scoped: no namespace in the name
        "redis:redis/listed",  # a List's items, expanded
        "redis:widgets.example.com",
        "redis:redis/w",  # namespaced by the CRD in the same render
        "redis:g",  # unknown scope: left as rendered
    ]
    assert children["redis:redis/plain"].object["metadata"]["namespace"] == "redis"
    assert "namespace" not in children["redis:g"].object["metadata"]
    assert children["redis:reader"].type == "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
    assert children["redis:redis/listed"].type == "kubernetes:core/v1:Service"
    assert children["redis:redis/w"].type == "kubernetes:example.com/v1:Widget"


def test_hooks_are_dropped(children) -> None:
    assert not [c for c in children.values() if c.kind == "Job"]


def test_timestamps_stay_text(children) -> None:
    assert children["redis:redis/plain"].object["data"] == {"when": "2026-11-01"}


def test_urns_are_the_chart_s_type_chain_plus_the_child() -> None:
    assert child_urn(CHART, "kubernetes:apps/v1:StatefulSet", "redis:redis/redis-node") == (
        "urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$kubernetes:helm.sh/v4:"
        "Chart$kubernetes:apps/v1:StatefulSet::redis:redis/redis-node"
    )


def test_no_prefix_leaves_the_bare_name() -> None:
    (child, *_) = chart_children(RENDER, CHART, "", "redis")
    assert child.name == "redis/plain"


def test_an_object_without_a_name_is_refused() -> None:
    with pytest.raises(RenderError):
        chart_children("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", CHART, "redis", "x")


@pytest.mark.parametrize(
    ("api_version", "kind", "mutable", "changed", "replaced"),
    [
        ("apps/v1", "StatefulSet", {}, "spec.volumeClaimTemplates[0].spec.resources", True),
        ("apps/v1", "StatefulSet", {}, "spec.selector.matchLabels.a", True),
        ("apps/v1", "StatefulSet", {}, "spec.serviceName", True),
        ("apps/v1", "StatefulSet", {}, "spec.replicas", False),
        ("apps/v1", "StatefulSet", {}, "spec.template.spec.containers[0].image", False),
        ("apps/v1", "StatefulSet", {}, "metadata.labels.x", False),
        ("apps/v1", "StatefulSet", {}, "metadata.namespace", True),
        ("v1", "ConfigMap", {}, "data.redis.conf", True),
        ("v1", "ConfigMap", {"configmap_mutable": True}, "data.redis.conf", False),
        ("v1", "ConfigMap", {"configmap_mutable": True, "immutable": True}, "data.x", True),
        ("v1", "Secret", {}, "stringData.x", True),
        ("v1", "Secret", {"secret_mutable": True}, "stringData.x", False),
        ("v1", "Secret", {"secret_mutable": True}, "type", True),
        ("v1", "Service", {}, "spec.clusterIP", True),
        ("v1", "Service", {}, "spec.selector.isMaster", False),
        ("policy/v1", "PodDisruptionBudget", {}, "spec.maxUnavailable", False),
        ("policy/v1beta1", "PodDisruptionBudget", {}, "spec.maxUnavailable", True),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", {}, "roleRef.name", True),
        ("rbac.authorization.k8s.io/v1", "Role", {}, "rules[0].verbs", False),
        ("v1", "Pod", {}, "spec.containers[1].image", True),
        ("v1", "Pod", {}, "spec.containers[1].name", False),
    ],
)
def test_the_provider_s_force_new_table(api_version, kind, mutable, changed, replaced) -> None:
    forced = force_new_paths(api_version, kind, **mutable)
    assert bool(replace_keys([changed], forced)) is replaced


def test_a_prefix_is_not_a_parent_path() -> None:
    """`spec.selectorX` is not under `spec.selector`."""
    assert replace_keys(["spec.selectorX"], ("spec.selector",)) == []


def test_a_replaced_object_keeping_its_name_is_deleted_first() -> None:
    old = {"metadata": {"name": "redis-node", "namespace": "redis"}}
    assert delete_before_replace(old, old) is True
    moved = {"metadata": {"name": "redis-node", "namespace": "sessions"}}
    assert delete_before_replace(old, moved) is False  # created in the new namespace first
    autonamed = {"metadata": {**old["metadata"], "annotations": {"pulumi.com/autonamed": "true"}}}
    assert delete_before_replace(old, autonamed) is False
