"""When pulumi-kubernetes replaces an object instead of updating it, and in which order (pure).

pulumi/pulumi-kubernetes at commit 94977969d64112b04e19945818a7d5d5f38f631d (post-4.32.0):
- `provider/pkg/provider/diff.go` `forceNewProperties` and `var forceNew`: the fields whose
  change forces a replacement, per group/version/kind, `.metadata.name` and
  `.metadata.namespace` for every kind; a Secret's `.type/.stringData/.data` unless the
  provider has `enableSecretMutable` (and the Secret is not `immutable`), a ConfigMap's
  `.binaryData/.data` unless it has `enableConfigMapMutable` (same proviso). Both settings
  default to false (`provider.go`: "Default to false.").
- `provider/pkg/openapi/match.go` `PatchPropertiesChanged`: a change anywhere under a listed
  path counts (a claim template's `storage` under `.spec.volumeClaimTemplates`).
- `provider/pkg/provider/provider.go` `Diff`: `deleteBeforeReplace` when the object must be
  replaced, is named (not autonamed) and keeps its name and namespace: the old object is
  deleted before the new one is created.

Paths here are dotted, without the leading dot, `[i]` for list items (`spec.ports[0].port`);
`[*]` in a rule matches any item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

METADATA = ("metadata.name", "metadata.namespace")
AUTONAMED_ANNOTATION = "pulumi.com/autonamed"
# `labelSelectorForceNewProperties(".spec.selector")` adds paths under `.spec.selector`:
# already covered by the selector itself.
_STATEFUL_SET = (
    "spec.podManagementPolicy",
    "spec.revisionHistoryLimit",
    "spec.selector",
    "spec.serviceName",
    "spec.volumeClaimTemplates",
)
_SELECTOR = ("spec.selector",)
_JOB = ("spec.completions", "spec.parallelism", "spec.selector", "spec.template")
_CONTAINER = (
    "args",
    "command",
    "env",
    "image",
    "imagePullPolicy",
    "lifecycle",
    "livenessProbe",
    "ports",
    "readinessProbe",
    "resources",
    "securityContext",
    "stdin",
    "stdinOnce",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "tty",
    "volumeDevices",
    "volumeMounts",
    "workingDir",
)
_POD = (
    *(
        f"spec.{field}"
        for field in (
            "affinity",
            "automountServiceAccountToken",
            "dnsConfig",
            "dnsPolicy",
            "enableServiceLinks",
            "hostAliases",
            "hostIPC",
            "hostNetwork",
            "hostPID",
            "hostname",
            "imagePullSecrets",
            "nodeName",
            "nodeSelector",
            "overhead",
            "preemptionPolicy",
            "priority",
            "priorityClassName",
            "readinessGates",
            "restartPolicy",
            "runtimeClassName",
            "schedulerName",
            "securityContext",
            "serviceAccount",
            "serviceAccountName",
            "shareProcessNamespace",
            "subdomain",
            "terminationGracePeriodSeconds",
            "volumes",
        )
    ),
    *(f"spec.{c}[*].{f}" for c in ("containers", "initContainers") for f in _CONTAINER),
)
_PV_SOURCES = tuple(
    f"spec.{source}"
    for source in (
        "awsElasticBlockStore",
        "azureDisk",
        "azureFile",
        "cephfs",
        "cinder",
        "csi",
        "fc",
        "flexVolume",
        "flocker",
        "gcePersistentDisk",
        "glusterfs",
        "hostPath",
        "iscsi",
        "local",
        "nfs",
        "photonPersistentDisk",
        "portworxVolume",
        "quobyte",
        "rbd",
        "scaleIO",
        "storageos",
        "vsphereVolume",
    )
)
_ROLE_BINDING = ("roleRef",)
_CORE_V1: dict[str, tuple[str, ...]] = {
    "PersistentVolume": _PV_SOURCES,
    "PersistentVolumeClaim": (
        "spec.accessModes",
        "spec.selector",
        "spec.storageClassName",
        "spec.volumeName",
    ),
    "Pod": _POD,
    "ResourceQuota": ("spec.scopes",),
    "Secret": ("type",),
    "Service": ("spec.clusterIP",),
}
# group -> version -> kind -> paths: diff.go `forceNew` (core under "" as the provider lists it).
FORCE_NEW: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "apps": {
        "v1beta1": {"StatefulSet": _STATEFUL_SET},
        "v1beta2": {"DaemonSet": _SELECTOR, "Deployment": _SELECTOR, "StatefulSet": _STATEFUL_SET},
        "v1": {"DaemonSet": _SELECTOR, "Deployment": _SELECTOR, "StatefulSet": _STATEFUL_SET},
    },
    "": {"v1": _CORE_V1},
    "policy": {"v1beta1": {"PodDisruptionBudget": ("spec",)}},
    "rbac.authorization.k8s.io": {
        version: {"ClusterRoleBinding": _ROLE_BINDING, "RoleBinding": _ROLE_BINDING}
        for version in ("v1alpha1", "v1beta1", "v1")
    },
    "storage.k8s.io": {"v1": {"StorageClass": ("parameters", "provisioner")}},
    "batch": {version: {"Job": _JOB} for version in ("v1beta1", "v1", "v2alpha1")},
}


def _group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return ("" if group == "core" else group), version


def force_new_paths(
    api_version: str,
    kind: str,
    *,
    immutable: bool = False,
    secret_mutable: bool = False,
    configmap_mutable: bool = False,
) -> tuple[str, ...]:
    """The paths whose change replaces an object of this kind (diff.go `forceNewProperties`).
    `immutable`: the object's top-level `immutable: true` (clients.go `IsImmutable`)."""
    group, version = _group_version(api_version)
    table = FORCE_NEW.get(group, {}).get(version)
    if table is None:
        return METADATA
    core = group == "" and version == "v1"
    if core and kind == "Secret" and (not secret_mutable or immutable):
        return (*METADATA, "type", "stringData", "data")
    if kind in table:
        return (*METADATA, *table[kind])
    if core and kind == "ConfigMap" and (not configmap_mutable or immutable):
        return (*METADATA, "binaryData", "data")
    return METADATA


def kind_of(type_token: str) -> tuple[str, str] | None:
    """(apiVersion, kind) of a `kubernetes:<group/version>:<kind>` type token."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    return parts[1], parts[2]


def _pattern(rule: str) -> re.Pattern[str]:
    escaped = re.escape(rule).replace(r"\[\*\]", r"\[[0-9]+\]")
    return re.compile(rf"^{escaped}(?:$|[.\[])")


def replace_keys(changed: list[str], forced: tuple[str, ...]) -> list[str]:
    """The changed paths that fall under a force-new path (match.go: any change below one)."""
    patterns = [_pattern(rule) for rule in forced]
    return [path for path in changed if any(p.match(path) for p in patterns)]


def delete_before_replace(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """provider.go `Diff`: a replaced object that keeps its name and namespace (and was named,
    not autonamed) is deleted before its replacement is created."""
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    autonamed = (new_meta.get("annotations") or {}).get(AUTONAMED_ANNOTATION) == "true"
    return (
        bool(new_meta.get("name"))
        and not autonamed
        and new_meta.get("name") == old_meta.get("name")
        and (new_meta.get("namespace") or "") == (old_meta.get("namespace") or "")
    )
