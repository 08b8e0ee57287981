"""The data in ../shared beside the clone, and the real programs the process tests start.

Missing with `CI` set fails the test (`.ci/run` provides both); without it, the test skips
with the hint, so a developer without them still runs the rest.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from offline.inputs import ROOT

if TYPE_CHECKING:
    from offline.analyzer import PackProject

SHARED = ROOT.parent / "shared"
CRDS = SHARED / "omnia-crds"
CRD_FILE = "agentruntimes.omnia.altairalabs.ai.yaml"
CHARTS = SHARED / "bitnami-redis"
DURATION_VECTORS = SHARED / "go-duration-vectors.json"


def _missing(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)  # .ci/run provides it: a skip there would hide the proof
    pytest.skip(message)


def shared_file(path: Path, origin: str) -> Path:
    """A file of ../shared; `origin` says where it comes from, for the message."""
    if not path.exists():
        _missing(f"{path} is missing: {origin} (shared/ must sit beside the clone)")
    return path


def crd_path(release: str) -> Path:
    """The AgentRuntime CRD of an Omnia release tag."""
    return shared_file(
        CRDS / release / CRD_FILE,
        "the Omnia CRDs come from github.com/AltairaLabs/Omnia "
        f"(config/crd/bases/omnia.altairalabs.ai_agentruntimes.yaml at tag {release})",
    )


def need(program: str) -> str:
    """A real-process test's binary; with CI set, missing fails instead of skipping."""
    from tests.support.redis_procs import MissingBinaryError, binary

    try:
        return binary(program)
    except MissingBinaryError as missing:
        _missing(str(missing))
        raise


def need_helm() -> str:
    """The Helm CLI the render tests use (`make helm`); with CI set, missing fails."""
    from offline.helm import HelmError, helm_binary

    try:
        return helm_binary()
    except HelmError as err:
        _missing(str(err))
        raise


def need_policy_pack() -> PackProject:
    """The policy pack and its venv (`make install` builds policy/venv); with CI set, missing
    fails."""
    from offline.analyzer import PolicyError, read_pack

    try:
        return read_pack()
    except PolicyError as err:
        _missing(str(err))
        raise
