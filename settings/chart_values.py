"""A stack's own chart values (`redis.values`), judged against the pinned chart and the program.

What the program owns is derived from `program_values` itself: every settings variant below is
applied to each topology, and each values key it emits belongs to the settings whose change
changes it. A key the program emits but no setting changes is fixed. The variants cover every
RedisConfig setting (tests/settings/test_chart_values.py keeps them in step).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from settings.errors import Problem, key_path
from settings.models import RedisConfig
from upstream.chart_keys import Ownership, Path_, leaves, merged, problems
from upstream.chart_versions import CHECKED
from upstream.redis_chart import RELEASE, program_values

_IMAGE = {"registry": "r.example", "repository": "mirror/x", "tag": "0.0.1"}
# The topologies every variant is applied to (and what a variant may need first).
BASES: tuple[dict[str, Any], ...] = (
    {},
    {"architecture": "replication"},
    {"architecture": "replication", "sentinel": True},
    {"architecture": "replication", "sentinel": True, "metrics": {"enabled": True}},
)
# Each setting, as a stack file spells it, and another value for it.
VARIANTS: dict[str, Any] = {
    "namespace": "other",
    "chartVersion": "23.1.1",
    "chart": "charts/redis-23.1.1.tgz",
    "images.redis": _IMAGE,
    "images.sentinel": _IMAGE,
    "images.kubectl": _IMAGE,
    "images.exporter": _IMAGE,
    "architecture": "replication",
    "sentinel": True,
    "replicas": 5,
    "protect": True,
    "passwordRotation": "x",
    "readyTimeout": "1h",
    "resources.memory": "2Gi",
    "resources.cpu": "2",
    "resources.cpuLimit": "4",
    "maxmemory.percentOfLimit": 50,
    "maxmemory.policy": "noeviction",
    "volumeSize": "20Gi",
    "failover.downAfterMilliseconds": 3000,
    "failover.failoverTimeout": 30000,
    "failover.minReplicasToWrite": 1,
    "failover.minReplicasMaxLag": 5,
    "storageClass": "fast",
    "metrics.enabled": True,
    "metrics.serviceMonitor": True,
    "metrics.prometheusRule": True,
}
# Settings whose variant needs others (the model refuses them alone).
NEEDS: dict[str, dict[str, Any]] = {
    "metrics.serviceMonitor": {"metrics": {"enabled": True}},
    "metrics.prometheusRule": {"metrics": {"enabled": True, "serviceMonitor": True}},
}
# Not a chart value: what the stack's own values are.
NOT_DERIVED = frozenset({"values"})


def _nested(dotted: str, value: Any) -> dict[str, Any]:
    head, _, rest = dotted.partition(".")
    return {head: _nested(rest, value) if rest else value}


def _values(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        config = RedisConfig.model_validate({"chartVersion": CHECKED[0], **raw})
    except ValidationError:
        return None  # a combination the model refuses: no values to compare
    return program_values(config, RELEASE)


def _at(values: Mapping[str, Any], path: Path_) -> Any:
    node: Any = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return KeyError
        node = node[key]
    return node


@functools.cache
def ownership() -> Ownership:
    """Every values path the program emits, with the settings that change its value (or, for
    a path no setting changes but some make appear, those)."""
    changes: dict[Path_, set[str]] = {}
    appears: dict[Path_, set[str]] = {}
    for base in BASES:
        for setting, value in VARIANTS.items():
            start = merged(base, NEEDS.get(setting, {}))
            before = _values_cached(_frozen(start))
            after = _values(merged(start, _nested(setting, value)))
            if before is None or after is None:
                continue
            old, new = set(leaves(before)), set(leaves(after))
            for path in old | new:
                changes.setdefault(path, set())
                if path in old and path in new:
                    if _at(before, path) != _at(after, path):
                        changes[path].add(setting)
                else:
                    appears.setdefault(path, set()).add(setting)
    return Ownership(
        {path: frozenset(found or appears.get(path, set())) for path, found in changes.items()}
    )


def _frozen(raw: Mapping[str, Any]) -> str:
    return json.dumps(raw, sort_keys=True)


@functools.cache
def _values_cached(raw: str) -> dict[str, Any] | None:
    return _values(json.loads(raw))


def values_problems(redis: Mapping[str, Any], where: tuple[str, ...] = ("redis",)) -> list[Problem]:
    """Each key of `redis.values` the pinned chart does not know or the program sets; and a
    StorageClass given twice. Raw values: reported with every other problem of the stack."""
    values = redis.get("values")
    version = redis.get("chartVersion")
    if not isinstance(values, dict) or not values or not isinstance(version, str):
        return []  # absent, or a type the model reports
    try:
        found = problems(values, version, ownership())
    except ValueError:
        return []  # a chartVersion the model reports
    lines = [Problem(key_path((*where, "values", *path)), message) for path, message in found]
    given = [
        ("global", key)
        for key in ("defaultStorageClass", "storageClass")
        if isinstance(values.get("global"), dict) and key in values["global"]
    ]
    if "storageClass" in redis and given:
        lines += [
            Problem(
                key_path((*where, "values", *path)),
                "and redis.storageClass both set: set one (the chart takes global.storageClass, "
                "then redis.storageClass, then global.defaultStorageClass)",
            )
            for path in given
        ]
    return lines
