"""`omnia-agents:crdFile`: judge the stack's AgentRuntimes against a CRD file, before anything
is registered (for previews that must not depend on the cluster they run against)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from settings.errors import ConfigError, CrdMismatch, Problem, key_path
from settings.loader import stack_file
from settings.models import StackConfig

if TYPE_CHECKING:
    from upstream.crd_judge import Crd

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # where `pulumi up` runs the program


def require_conformance(config: StackConfig) -> None:
    """Stop the program when the CRD file would prune or reject an agent; no-op without one."""
    if config.crd_file is None:
        return
    from upstream.crd_judge import Crd, CrdFileError  # jsonschema and CEL only when asked for

    path = Path(config.crd_file)
    try:
        crd = Crd.from_file(path if path.is_absolute() else PROJECT_ROOT / path, config.crd_file)
    except CrdFileError as err:
        raise ConfigError(stack_file(), [Problem(key_path(("crdFile",)), str(err))]) from None
    require_fit(crd, config.crd_file, config)


def require_fit(crd: Crd, label: str, config: StackConfig) -> None:
    """Raise CrdMismatch, under `label`, when the CRD would prune or reject an agent."""
    from upstream.agent_runtime import planned_manifests
    from upstream.crd_judge import check_manifests

    lines = check_manifests(crd, planned_manifests(config))
    if lines:
        raise CrdMismatch(label, lines)
