"""What the offline plan reads: Pulumi.yaml, stack files as the Pulumi CLI hands them over,
and cluster descriptions (the namespaces and CRD a mock cluster answers reads with)."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

from offline.harness import Cluster
from settings.project import PROJECT, STACK_CONFIG_DIR
from upstream.agent_runtime import CRD_NAME

ROOT = Path(__file__).resolve().parents[1]  # the project: Pulumi.yaml and __main__.py
OFFLINE_STACK = "offline"  # what a file not named Pulumi.<stack>.yaml is planned as
MAX_READ = (1 << 20) + 1  # a byte past offline.yaml_v3.MAX_FILE_BYTES: enough to refuse it


OPERATOR = "prometheusOperator"  # a cluster description's key


class StackFileError(Exception):
    """A stack file (or cluster description) that cannot be read: one line per problem, each
    naming the key (or the line) it is about."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


def project_settings() -> tuple[str, Path]:
    """Project name and stackConfigDir, as Pulumi.yaml says (settings.project, kept in step
    with it by a test)."""
    return PROJECT, ROOT / STACK_CONFIG_DIR


def read_stack_config(path: Path, project: str) -> dict[str, str]:
    """Config as the Pulumi CLI hands it to a program (offline.yaml_v3: yaml.v3's reading, the
    CLI's round trip, structured values as Go's JSON). What the CLI would only warn about is
    logged as a warning; what it refuses, and encrypted values, raise StackFileError."""
    from offline.yaml_v3 import YamlProblemsError, key_text, read_stack, too_big

    try:
        with path.open("rb") as file:
            data = file.read(MAX_READ)
            if len(data) == MAX_READ:
                raise StackFileError(too_big(path.stat().st_size))
    except OSError as err:
        raise StackFileError(f"cannot read the stack file ({err.strerror})") from None
    try:
        read = read_stack(data, project)
    except YamlProblemsError as err:
        raise StackFileError(
            *(f"{key_text(p.path)}: {p.message}" if p.path else p.message for p in err.problems)
        ) from None
    for warning in read.warnings:
        logging.getLogger().warning(f"{display_path(path)}: {warning}")
    return read.config


def stack_file_for(stack: str) -> Path:
    _, config_dir = project_settings()
    return config_dir / f"Pulumi.{stack}.yaml"


def stack_name_of(path: Path) -> str:
    match = re.fullmatch(r"Pulumi\.(.+)\.ya?ml", path.name)
    return match.group(1) if match else OFFLINE_STACK


def crd_cluster(crd_file: Path, base: Cluster | None = None) -> Cluster:
    """A cluster serving the CRD in this file (raises CrdFileError)."""
    from upstream.crd_judge import read_crd

    crd = read_crd(crd_file, str(crd_file))
    return dataclasses.replace(base or Cluster(), crds={CRD_NAME: crd})


def read_cluster(path: Path) -> Cluster:
    """A cluster description: `namespaces:` (the ones that exist; omitted: all do), `crd:`
    (a CRD file, relative to the description; null: not installed; omitted: present, not
    judged) and `prometheusOperator:` (false: its CRDs are not served). Raises
    StackFileError."""
    from offline.yaml_v3 import YamlProblemsError, load

    try:
        with path.open("rb") as file:
            document = load(file.read(MAX_READ)) or {}
    except OSError as err:
        raise StackFileError(f"cannot read the cluster description ({err.strerror})") from None
    except YamlProblemsError as err:
        raise StackFileError(f"cannot read the cluster description ({err})") from None
    if not isinstance(document, dict) or set(document) - {"namespaces", "crd", OPERATOR}:
        raise StackFileError(
            f"a cluster description has only `namespaces:`, `crd:` and `{OPERATOR}:`"
        )
    if not isinstance(document.get(OPERATOR, True), bool):
        raise StackFileError(f"{OPERATOR}: expected true or false")
    names = document.get("namespaces")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise StackFileError("namespaces: expected a list of names")
    cluster = Cluster(
        namespaces=None if names is None else frozenset(names),
        prometheus_operator=document.get(OPERATOR, True),
    )
    if "crd" not in document:
        return cluster
    if document["crd"] is None:
        return dataclasses.replace(cluster, crds={})
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
