"""What pulumi-kubernetes' Helm Chart v4 registers for a rendered chart: its children (pure).

A v4 Chart is a component: the provider renders the chart with the Helm library (as
`helm template --dry-run=server`), then registers every rendered object as a child of the
Chart, one Pulumi resource each. This module turns that render (Helm's manifest text) into the
children: type token, resource name, URN and inputs, as the provider would register them.

Cited from pulumi/pulumi-kubernetes at commit 94977969d64112b04e19945818a7d5d5f38f631d (after
v4.32.0; no tag of the pinned 4.34.2 exists in the mirror, and these files did not change in
the features 4.34.2's SDK documents):
- `provider/pkg/provider/helm/v4/chart.go` `Construct`: `cmd.DisableHooks = true` (hooks,
  tests included, are never registered), `cmd.IncludeCRDs = !chartArgs.SkipCrds` (the chart's
  `crds/` are), the release namespace defaults to the provider's, then
  `provideryamlv2.Normalize(objs, ns, ...)` and registration with `Parent(comp)`; the
  resource prefix defaults to the Chart's own resource name (`chartArgs.ResourcePrefix = &name`).
- `provider/pkg/provider/yaml/v2/yaml.go` `Normalize`: objects with a namespace keep it, other
  namespaced kinds get the default; `*List` kinds are expanded; `register`: the resource name
  is `<prefix>:<namespace>/<name>` (`<prefix>:<name>` for cluster-scoped objects).
- `provider/pkg/kinds/kinds.go` `(Kind).Namespaced()`: which built-in kinds are namespaced.
- `sdk/go/kubernetes/yaml/v2/kinds.go` `RegisterResource`: the type token of each kind
  (`kubernetes:<group>/<version>:<kind>`, core as `core/v1`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from upstream.kubernetes import type_token

HOOK_ANNOTATION = "helm.sh/hook"
# kinds.go `Namespaced()`: built-in kinds, namespaced or not. Any other kind is resolved from
# a CustomResourceDefinition in the same render (its `spec.scope`), else left as rendered.
NAMESPACED_KINDS = frozenset(
    {
        "Binding",
        "ConfigMap",
        "ControllerRevision",
        "CronJob",
        "CSIStorageCapacity",
        "DaemonSet",
        "Deployment",
        "Endpoints",
        "EndpointSlice",
        "Event",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Job",
        "Lease",
        "LimitRange",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "Pod",
        "PodDisruptionBudget",
        "PodTemplate",
        "ReplicaSet",
        "ReplicationController",
        "ResourceQuota",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
        "StatefulSet",
    }
)
CLUSTER_KINDS = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "FlowSchema",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PodSecurityPolicy",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "StorageClass",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
    }
)


class RenderError(ValueError):
    """A render the provider would refuse (an object without kind, apiVersion or name)."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML; timestamps stay text, as the provider's JSON conversion keeps them."""


_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),
)


@dataclass(frozen=True)
class Child:
    """One rendered object as the Chart registers it."""

    type: str  # Pulumi type token
    name: str  # Pulumi resource name: `<prefix>:<namespace>/<name>`
    urn: str
    object: dict[str, Any]  # the inputs: the object after namespace defaulting

    @property
    def kind(self) -> str:
        return str(self.object["kind"])

    @property
    def namespace(self) -> str:
        return str(self.object["metadata"].get("namespace") or "")

    @property
    def object_name(self) -> str:
        return str(self.object["metadata"]["name"])


def manifest_objects(text: str) -> list[dict[str, Any]]:
    """The objects of Helm's manifest text, in order, without hooks (dropped by the provider:
    chart.go `DisableHooks`) and with `*List` kinds expanded (yaml.go `Normalize`)."""
    found: list[dict[str, Any]] = []
    for document in yaml.load_all(text, Loader=_Loader):
        if document is None:
            continue
        if not isinstance(document, dict):
            raise RenderError(f"a rendered document is not an object: {document!r:.80}")
        for obj in _expand(document):
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            if HOOK_ANNOTATION in annotations:
                continue
            found.append(obj)
    return found


def _expand(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind = obj.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list):
        for item in obj["items"]:
            yield from _expand(item)
        return
    yield obj


def _crd_scopes(objects: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], bool]:
    """(group, kind) -> namespaced, for the CRDs the render itself carries."""
    scopes = {}
    for obj in objects:
        if obj.get("kind") == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            names = spec.get("names") or {}
            scopes[(spec.get("group", ""), names.get("kind", ""))] = (
                spec.get("scope") == "Namespaced"
            )
    return scopes


def is_namespaced(obj: Mapping[str, Any], crds: Mapping[tuple[str, str], bool]) -> bool | None:
    """Namespaced, cluster-scoped, or None where the provider would need a cluster to know."""
    kind = str(obj.get("kind"))
    api_version = str(obj.get("apiVersion"))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    if (group, kind) in crds:
        return crds[(group, kind)]
    if kind in NAMESPACED_KINDS:
        return True
    if kind in CLUSTER_KINDS:
        return False
    return None


def child_urn(parent_urn: str, type_: str, name: str) -> str:
    """A child's URN: the parent's URN up to its name, `$`, the child's type, `::`, its name
    (pulumi SDK `pulumi/runtime/resource.py` `create_urn`: `u[0 : u.rfind("::")] + "$"`)."""
    return f"{parent_urn[: parent_urn.rfind('::')]}${type_}::{name}"


def chart_children(
    manifest: str, chart_urn: str, prefix: str, default_namespace: str
) -> list[Child]:
    """Every object the Chart registers, in render order.

    `prefix`: the Chart's resource prefix (its resource name unless set); `default_namespace`:
    the Chart's `namespace` (else the provider's), given to namespaced objects without one.
    """
    objects = manifest_objects(manifest)
    crds = _crd_scopes(objects)
    children = []
    for obj in objects:
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        metadata = obj.get("metadata") or {}
        if not kind or not api_version or not metadata.get("name"):
            raise RenderError(f"a rendered object lacks kind, apiVersion or metadata.name: {obj}")
        if api_version.startswith("core/"):  # Normalize: the core group is spelled ""
            obj = {**obj, "apiVersion": api_version.removeprefix("core/")}
        if not metadata.get("namespace") and is_namespaced(obj, crds):
            obj = {**obj, "metadata": {**metadata, "namespace": default_namespace}}
        namespace = obj["metadata"].get("namespace")
        name = f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
        if prefix:
            name = f"{prefix}:{name}"
        token = type_token(str(obj["apiVersion"]), str(kind))
        children.append(Child(token, name, child_urn(chart_urn, token, name), obj))
    return children
