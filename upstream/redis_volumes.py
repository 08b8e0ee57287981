"""Where the Bitnami chart keeps the sessions: the StatefulSet whose claims hold them (pure).

Every Redis pod writes its append-only file to its own claim, `redis-data-<statefulset>-<i>`,
made from the StatefulSet's `volumeClaimTemplates` (the chart names the template `redis-data`).
The sessions live where the master runs: with Sentinel any `<fullname>-node` pod can be the
master (bitnami/redis templates/sentinel/statefulset.yaml); otherwise only `<fullname>-master`
(templates/master/application.yaml). `<fullname>-replicas` (templates/replicas/application.yaml,
component `replica`) holds copies the master can re-send: losing it loses no session.

Deleting that StatefulSet, replacing it, or moving it (another namespace or release: another
object) starts Redis on other claims or takes every pod down at once. The program refuses it
twice: `plan.py --render --from` from the render, and every `pulumi preview`/`up` through a
protected resource whose inputs are the keys below (`data_keepers`): a change of any of them
makes the engine replace it, and the engine refuses to replace a resource protected before
and after (pulumi/pulumi pkg/resource/deploy/step_generator.go, `new.Protect && old.Protect`:
"unable to replace resource ... as it is currently marked for protection"; in `up` it bails
before any further step). A test renders the chart across the settings and checks the keys
change exactly when the render replaces, deletes or moves that StatefulSet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

CHART_NAME = "redis"  # the chart's Chart.yaml `name`
DATA_TEMPLATE = "redis-data"  # the claim template's name in every chart StatefulSet
REPLICA_COMPONENT = "replica"  # app.kubernetes.io/component of the read-replica StatefulSet
COMPONENT_LABEL = "app.kubernetes.io/component"
NAME_LABEL = "app.kubernetes.io/name"  # the chart's name, or its nameOverride
INSTANCE_LABEL = "app.kubernetes.io/instance"  # the release
RUNBOOK = "docs/operating-redis.md"
GUARD_SUFFIX = "-data-guard"  # the engine guard's resource name: `<release>-data-guard`


def fullname(release: str, chart: str = CHART_NAME) -> str:
    """bitnami/common `common.names.fullname` (no overrides): the release name when it
    contains the chart's name, else `<release>-<chart>`; at most 63 characters."""
    cleaned = re.sub(r"(-?[^a-z\d\-])+-?", "-", release.lower())
    name = cleaned if chart in cleaned else f"{cleaned}-{chart}"
    return name[:63].rstrip("-")


def data_statefulset(release: str, sentinel: bool) -> str:
    """The StatefulSet the master runs in."""
    return f"{fullname(release)}-{'node' if sentinel else 'master'}"


# What else the chart builds the claim templates from (bitnami/redis templates/sentinel/
# statefulset.yaml, master/application.yaml `volumeClaimTemplates`): the StorageClass
# (common.storage.class: global.storageClass, then persistence.storageClass, then
# global.defaultStorageClass) and the data role's persistence keys other than the size. The
# claims' labels are only `app.kubernetes.io/name` and `/instance` (common.labels.matchLabels
# picks those two), which no stack can set (upstream/chart_keys.py).
CLAIM_INPUTS = (("global", "storageClass"), ("global", "defaultStorageClass"))
PERSISTENCE_INPUTS = ("storageClass", "accessModes", "annotations", "selector", "dataSource")


def claim_inputs(values: Mapping[str, Any], sentinel: bool) -> dict[str, Any]:
    """The chart values, other than the size, that the data StatefulSet's claim templates are
    rendered from; with Sentinel also Sentinel's own claim (`sentinel.persistence`)."""
    found: dict[str, Any] = {}
    role = "replica" if sentinel else "master"
    wanted = [*CLAIM_INPUTS, *((role, "persistence", key) for key in PERSISTENCE_INPUTS)]
    for path in wanted:
        node: Any = values
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node not in (None, "", {}, []):
            found[".".join(path)] = node
    sentinel_claim = (values.get("sentinel") or {}).get("persistence") if sentinel else None
    if sentinel_claim:
        found["sentinel.persistence"] = sentinel_claim
    return found


def data_keepers(
    *,
    release: str,
    namespace: str,
    sentinel: bool,
    volume_size: str,
    claims: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """What the data-holding StatefulSet's identity and its immutable fields depend on, as the
    program sets them: its namespace and name (the URN), and its claim template's size (the
    `.spec.volumeClaimTemplates` the provider replaces on, diff.go). Spelled as the stack file
    spells them: the provider compares the rendered text, so `8Gi` → `8192Mi` replaces too.
    `claims`: the rest of what the claim templates are made of (`claim_inputs`), a key only
    when some is set, so a stack that sets none keeps the keepers it always had."""
    keepers = {
        "namespace": namespace,
        "statefulSet": data_statefulset(release, sentinel),
        "volumeSize": volume_size,
    }
    if claims:
        keepers["claims"] = json.dumps(claims, sort_keys=True, separators=(",", ":"))
    return keepers


def holds_sessions(obj: Mapping[str, Any]) -> bool:
    """A rendered StatefulSet whose claims hold sessions: it has claim templates and is not
    the read-replica set."""
    if obj.get("kind") != "StatefulSet":
        return False
    spec = obj.get("spec") or {}
    if not spec.get("volumeClaimTemplates"):
        return False
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(COMPONENT_LABEL) != REPLICA_COMPONENT


def claims(obj: Mapping[str, Any]) -> list[str]:
    """The PVCs a StatefulSet's pods use: `<template>-<statefulset>-<ordinal>` (Kubernetes'
    StatefulSet controller, `getPersistentVolumeClaimName`)."""
    spec = obj.get("spec") or {}
    replicas = spec.get("replicas", 1)
    name = obj["metadata"]["name"]
    return [
        f"{template['metadata']['name']}-{name}-{i}"
        for template in spec.get("volumeClaimTemplates") or []
        for i in range(int(replicas))
    ]


def claim_size(obj: Mapping[str, Any]) -> str | None:
    for template in (obj.get("spec") or {}).get("volumeClaimTemplates") or []:
        if template["metadata"]["name"] == DATA_TEMPLATE:
            return str(template["spec"]["resources"]["requests"]["storage"])
    return None
