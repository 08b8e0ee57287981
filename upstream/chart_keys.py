"""The pinned charts' values keys, and how a stack's own chart values are judged (pure).

Helm ignores a key the chart does not know and the chart's values.schema.json admits any extra
key, so a misspelt key deploys without effect: every key of `redis.values` must be one of the
pinned version's values.yaml (bitnami/charts bitnami/redis, ../shared/bitnami-redis/<version>).
The trees are kept in `redis_chart_keys.json` beside this module (the program runs where
../shared is not); tests/upstream/test_chart_keys.py derives them again from values.yaml.

Keys the program sets are its own: a stack that sets one is refused with the setting to use.
Which they are is derived from `program_values` itself (every key it emits for any setting),
plus the subtrees below, which the program does not emit but which would override what it
derives.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import semver

from upstream.redis_chart import (
    AUTH_SECRET,
    CLIENT_LABEL,
    MASTER_SET,
    METRICS_CLIENT_LABEL,
    PARALLEL_SYNCS,
    PORT,
    QUORUM,
    RELEASE,
)
from upstream.redis_volumes import INSTANCE_LABEL, NAME_LABEL

KEYS_FILE = Path(__file__).with_name("redis_chart_keys.json")
Path_ = tuple[str, ...]


class Kind(StrEnum):
    """What a values.yaml key holds."""

    FREE = "free"
    """A map whose keys are the user's: `{}` in values.yaml (labels, annotations, Kubernetes
    objects passed through), or one of NON_EMPTY_FREE."""
    LIST = "list"
    """Replaced as a whole by a stack's value (Helm does not merge lists)."""
    SCALAR = "scalar"


# Maps with defaults whose keys are still the user's (annotations).
NON_EMPTY_FREE = frozenset({("metrics", "podAnnotations")})
# Subtrees the program owns though it does not emit them, each with what to do instead.
WHOLE: dict[Path_, str] = {
    ("auth",): f"the password is generated into the Secret {AUTH_SECRET}; use "
    "redis.passwordRotation",
    ("global", "redis"): "global.redis.password overrides auth.password; use "
    "redis.passwordRotation",
    ("networkPolicy",): "the NetworkPolicy admits only namespaces labelled "
    f"{CLIENT_LABEL}=true (metrics: {METRICS_CLIENT_LABEL}=true); label them",
    ("tls",): "the agents' URL is redis://, without TLS",
    ("fullnameOverride",): "the object names are the release's: the agents' URL names them",
    ("nameOverride",): "the object names are the release's: the agents' URL names them",
    ("namespaceOverride",): "use redis.namespace",
    ("existingConfigmap",): "replaces the redis.conf the program derives; use redis.resources, "
    "redis.maxmemory and redis.failover",
    ("image",): "use redis.images.redis",
    ("sentinel", "image"): "use redis.images.sentinel",
    ("kubectl", "image"): "use redis.images.kubectl",
    ("metrics", "image"): "use redis.images.exporter",
    ("global", "imageRegistry"): "moves every image; use redis.images",
    ("diagnosticMode",): "replaces every container's command: Redis would not run",
    ("master", "kind"): "a StatefulSet holds the volumes",
    ("master", "count"): "one master: use redis.architecture and redis.replicas",
    ("replica", "autoscaling"): "changes the replica count; use redis.replicas",
    ("sentinel", "quorum"): f"the topology checks assume the chart's quorum of {QUORUM}",
    ("sentinel", "masterSet"): f"the chart's `{MASTER_SET}`, as the program and its tests use it",
    ("sentinel", "parallelSyncs"): f"the chart's {PARALLEL_SYNCS}, as the failover tests run it",
    ("sentinel", "containerPorts"): "the chart's Sentinel port, as the NetworkPolicy opens it",
    ("sentinel", "configuration"): "use redis.failover",
    ("sentinel", "resourcesPreset"): "Sentinel gets fixed resources (a Sentinel holds no data)",
    ("sentinel", "resources"): "Sentinel gets fixed resources (a Sentinel holds no data)",
    ("replica", "podAntiAffinityPreset"): "a Sentinel set's pods each get a node of their own "
    "(docs/operating-redis.md#spreading); choose the nodes with nodeSelector, "
    "nodeAffinityPreset or tolerations",
    ("replica", "topologySpreadConstraints"): "a Sentinel set's pods are spread across zones "
    "(docs/operating-redis.md#spreading)",
    ("metrics", "serviceMonitor", "metricRelabelings"): "the alert rules read the exporter's "
    "metrics as it names them",
}
_DATA = ("master", "replica")  # the roles that run Redis itself
# The same key, owned for the same reason, under several roles (or spellings).
for _roles, _key, _why in (
    (("replica", "sentinel"), "externalMaster", "the program's Redis is its own master"),
    (_DATA, "containerPorts", f"the agents' URL uses port {PORT}"),
    (
        (*_DATA, "sentinel"),
        "service",
        f"the agents' URL names {RELEASE}-master:{PORT} (a ClusterIP Service)",
    ),
    (
        _DATA,
        "configuration",
        "redis.conf lines after the program's could undo them; use redis.resources, "
        "redis.maxmemory and redis.failover",
    ),
    (_DATA, "extraFlags", "command-line flags override the program's redis.conf"),
    ((*_DATA, "sentinel"), "command", "replaces the chart's start script"),
    ((*_DATA, "sentinel"), "args", "replaces the chart's start script"),
    (
        _DATA,
        "lifecycleHooks",
        "replaces the chart's preStop hook (a stopping master fails over first)",
    ),
    (_DATA, "resourcesPreset", "the chart's presets cap Redis at 192Mi; use redis.resources"),
    (
        _DATA,
        "affinity",
        "replaces the chart's presets, so the spread the program sets; use nodeSelector, "
        "nodeAffinityPreset or tolerations",
    ),
):
    for _role in _roles:
        WHOLE[(_role, _key)] = _why
for _spelling in ("relabelings", "relabellings"):  # values.yaml: the second is deprecated
    WHOLE[("metrics", "serviceMonitor", _spelling)] = (
        "the alert rules select the targets by their namespace and job labels"
    )


# The chart selects its pods and claims by these two labels (common.labels.matchLabels picks
# them from every map of labels it is given): the StatefulSets' selectors would change.
for _labels in (
    ("commonLabels",),
    ("master", "podLabels"),
    ("replica", "podLabels"),
    ("master", "persistence", "labels"),
    ("replica", "persistence", "labels"),
    ("sentinel", "persistence", "labels"),
):
    for _key in (NAME_LABEL, INSTANCE_LABEL):
        WHOLE[(*_labels, _key)] = "the chart selects its pods and volumes by it"


def dotted(path: Path_) -> str:
    return ".".join(path)


def key_tree(values: Mapping[str, Any], path: Path_ = ()) -> dict[str, Any]:
    """values.yaml as a tree of its keys: nested maps, leaves a Kind."""
    tree: dict[str, Any] = {}
    for key, value in values.items():
        here = (*path, str(key))
        if isinstance(value, dict) and value and here not in NON_EMPTY_FREE:
            tree[str(key)] = key_tree(value, here)
        elif isinstance(value, dict):
            tree[str(key)] = Kind.FREE.value
        elif isinstance(value, list):
            tree[str(key)] = Kind.LIST.value
        else:
            tree[str(key)] = Kind.SCALAR.value
    return tree


@functools.cache
def _trees() -> dict[str, dict[str, Any]]:
    trees: dict[str, dict[str, Any]] = json.loads(KEYS_FILE.read_text(encoding="utf-8"))
    return trees


def known_versions() -> list[str]:
    return sorted(_trees(), key=semver.Version.parse)


def tree_for(version: str) -> tuple[str, dict[str, Any]]:
    """The key tree of this chart version, or of the newest known one before it (an unknown
    version is judged by the nearest the project has checked)."""
    trees = _trees()
    if version in trees:
        return version, trees[version]
    wanted = semver.Version.parse(version)
    older = [v for v in known_versions() if semver.Version.parse(v) <= wanted]
    nearest = older[-1] if older else known_versions()[0]
    return nearest, trees[nearest]


def leaves(values: Mapping[str, Any], path: Path_ = ()) -> Iterator[Path_]:
    """The path of every non-map value (and of every empty map)."""
    for key, value in values.items():
        here = (*path, key)
        if isinstance(value, dict) and value:
            yield from leaves(value, here)
        else:
            yield here


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's rule for values files: maps merged key by key, anything else (lists) replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def _mergeable(path: Path_) -> bool:
    """Maps of names (labels, annotations): a stack adds its own keys beside the program's."""
    return path[-1].endswith(("Annotations", "Labels"))


class Ownership:
    """Which value paths the program sets, and the settings each is derived from."""

    def __init__(self, owners: Mapping[Path_, frozenset[str]]) -> None:
        self.owners = dict(owners)
        # Maps the program puts keys in.
        self.maps = {path[:i] for path in owners for i in range(1, len(path))}

    def owned(self, path: Path_) -> str | None:
        """Why `path` (or a map above it) is the program's, as a message; or None."""
        for i in range(1, len(path) + 1):
            if path[:i] in WHOLE:
                return f"is set by omnia-agents: {WHOLE[path[:i]]}"
            if path[:i] in self.owners:
                return self.setting(path[:i])
        return None

    def fills(self, path: Path_) -> bool:
        """A free map the program fills as a whole (resources), not one of names."""
        return path in self.maps and not _mergeable(path)

    def setting(self, head: Path_) -> str:
        found = {
            s
            for path, settings in self.owners.items()
            if path[: len(head)] == head
            for s in settings
        }
        if not found:
            return "is set by omnia-agents, and no setting changes it: the program relies on it"
        settings = ", ".join(f"redis.{s}" for s in sorted(found))
        which = "that" if len(found) == 1 else "those"
        return f"is set by omnia-agents from {settings}: set {which} instead"


def nearest(key: str, siblings: list[str], tree: Mapping[str, Any], path: Path_) -> str | None:
    """The closest known key, as a full path: a sibling spelt alike, else the same key
    elsewhere in the tree, else the sibling most alike."""
    close = difflib.get_close_matches(key, siblings, n=1, cutoff=0.6)
    if close:
        return dotted((*path, close[0]))
    elsewhere = [p for p in _tree_paths(tree) if p[-1].lower() == key.lower()]
    if elsewhere:
        return dotted(min(elsewhere, key=len))
    close = difflib.get_close_matches(key, siblings, n=1, cutoff=0.0)
    return dotted((*path, close[0])) if close else None


def _tree_paths(tree: Mapping[str, Any], path: Path_ = ()) -> Iterator[Path_]:
    for key, node in tree.items():
        here = (*path, key)
        yield here
        if isinstance(node, dict):
            yield from _tree_paths(node, here)


def problems(
    values: Mapping[str, Any], version: str, ownership: Ownership
) -> list[tuple[Path_, str]]:
    """Each key of a stack's chart values that the chart does not know or the program sets."""
    checked, tree = tree_for(version)
    which = f"chart {checked}'s values.yaml" + (
        "" if checked == version else f" (the nearest version checked to {version})"
    )
    found: list[tuple[Path_, str]] = []

    def walk(given: Mapping[str, Any], node: Mapping[str, Any], path: Path_) -> None:
        for key, value in given.items():
            here = (*path, str(key))
            if key not in node:
                hint = nearest(str(key), list(node), tree, path)
                found.append(
                    (here, f"not a key of {which}" + (f" (nearest: {hint})" if hint else ""))
                )
                continue
            why = ownership.owned(here)
            kind = node[key]
            if why is None and kind == Kind.FREE and ownership.fills(here):
                why = ownership.setting(here)
            if why is not None:
                found.append((here, why))
                continue
            if isinstance(kind, dict):
                if isinstance(value, dict):
                    walk(value, kind, here)
                else:
                    found.append((here, f"is a map in {which}"))
            elif kind == Kind.FREE:
                if not isinstance(value, dict):
                    found.append((here, f"is a map in {which}"))
                    continue
                for child in value:
                    why = ownership.owned((*here, str(child)))
                    if why is not None:
                        found.append(((*here, str(child)), why))
            elif kind == Kind.LIST and not isinstance(value, list):
                found.append((here, f"is a list in {which}"))
            elif kind == Kind.SCALAR and isinstance(value, dict | list):
                found.append((here, f"is a single value in {which}"))

    walk(values, tree, ())
    return found


def write_keys_file(charts: Path, versions: list[str]) -> None:
    """Derive the key trees again from each version's values.yaml (../shared/bitnami-redis):
    `python -m upstream.chart_keys ../shared/bitnami-redis 22.0.5 23.1.1`."""
    import yaml

    trees = {
        version: key_tree(yaml.safe_load((charts / version / "values.yaml").read_text("utf-8")))
        for version in versions
    }
    KEYS_FILE.write_text(json.dumps(trees, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import sys

    write_keys_file(Path(sys.argv[1]), sys.argv[2:])
