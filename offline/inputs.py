"""What the offline plan reads: Pulumi.yaml, stack files as the Pulumi CLI hands them over,
and cluster descriptions (the namespaces and CRD a mock cluster answers reads with)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml

from offline.harness import Cluster
from upstream.agent_runtime import CRD_NAME

ROOT = Path(__file__).resolve().parents[1]  # the project: Pulumi.yaml and __main__.py
# libyaml when present (safe variants either way): a stack of 1000 agents parses 20x faster.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StackFileError(Exception):
    """A stack file (or cluster description) that cannot be read."""


@functools.cache
def project_settings() -> tuple[str, Path]:
    """Project name and stackConfigDir, from Pulumi.yaml as the CLI reads them (read once)."""
    project = yaml.load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"), Loader=LOADER)
    return project["name"], ROOT / project.get("stackConfigDir", ".")


def read_stack_config(path: Path, project: str) -> dict[str, str]:
    """Config as the Pulumi CLI hands it to a program: structured values as JSON text."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)
    except OSError as err:
        raise StackFileError(f"cannot read the stack file ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise StackFileError(f"not valid YAML ({err})") from None
    document = document or {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise StackFileError("expected a mapping with a `config:` mapping")
    config: dict[str, str] = {}
    for key, value in (document.get("config") or {}).items():
        full = str(key) if ":" in str(key) else f"{project}:{key}"
        if _has_secure(value):
            raise StackFileError(f"{full}: encrypted values cannot be read offline")
        config[full] = value if isinstance(value, str) else json.dumps(value)
    return config


def _has_secure(value: Any) -> bool:
    """`secure:` values are ciphertext only the Pulumi CLI can open, at any depth."""
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def stack_file_for(stack: str) -> Path:
    _, config_dir = project_settings()
    return config_dir / f"Pulumi.{stack}.yaml"


def stack_name_of(path: Path) -> str:
    match = re.fullmatch(r"Pulumi\.(.+)\.ya?ml", path.name)
    return match.group(1) if match else "offline"


def crd_cluster(crd_file: Path, base: Cluster | None = None) -> Cluster:
    """A cluster serving the CRD in this file (raises CrdFileError)."""
    from upstream.crd_judge import read_crd

    crd = read_crd(crd_file, str(crd_file))
    namespaces = base.namespaces if base else None
    return Cluster(namespaces=namespaces, crds={CRD_NAME: crd})


def read_cluster(path: Path) -> Cluster:
    """A cluster description: `namespaces:` (the ones that exist; omitted: all do) and `crd:`
    (a CRD file, relative to the description; null: not installed; omitted: present, not
    judged). Raises StackFileError."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER) or {}
    except (OSError, yaml.YAMLError) as err:
        raise StackFileError(f"cannot read the cluster description ({err})") from None
    if not isinstance(document, dict) or set(document) - {"namespaces", "crd"}:
        raise StackFileError("a cluster description has only `namespaces:` and `crd:`")
    names = document.get("namespaces")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise StackFileError("namespaces: expected a list of names")
    cluster = Cluster(namespaces=None if names is None else frozenset(names))
    if "crd" not in document:
        return cluster
    if document["crd"] is None:
        return Cluster(namespaces=cluster.namespaces, crds={})
    from upstream.crd_judge import CrdFileError

    try:
        return crd_cluster(path.parent / str(document["crd"]), cluster)
    except CrdFileError as err:
        raise StackFileError(f"crd: {err}") from None


def display_path(path: Path) -> str:
    """A path as messages name it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
