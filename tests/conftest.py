"""Shared fixtures: the real stack files, planned through the same harness as `plan.py`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.runtime import rpc

import plan as harness
from components.config import PROJECT

AGENT_RUNTIME = "kubernetes:omnia.altairalabs.ai/v1alpha1:AgentRuntime"
SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
CHART = "kubernetes:helm.sh/v4:Chart"
PASSWORD = "random:index/randomPassword:RandomPassword"


def stack_config(stack: str) -> dict[str, Any]:
    """The omnia-agents:* keys of a real stack file, prefix removed (what the tests compare to)."""
    document = yaml.safe_load(harness.stack_file_for(stack).read_text(encoding="utf-8"))
    prefix = f"{PROJECT}:"
    return {
        k.removeprefix(prefix): v for k, v in document["config"].items() if k.startswith(prefix)
    }


@pytest.fixture
def dev_plan() -> harness.Plan:
    return harness.run_plan(harness.stack_file_for("dev"))


@pytest.fixture
def prod_plan() -> harness.Plan:
    return harness.run_plan(harness.stack_file_for("prod"))


@pytest.fixture
def write_stack(tmp_path: Path) -> Callable[..., Path]:
    """Write a stack file whose omnia-agents keys are `config` (prefix added)."""

    def write(config: dict[str, Any], name: str = "test", raw: str | None = None) -> Path:
        path = tmp_path / f"Pulumi.{name}.yaml"
        if raw is not None:
            path.write_text(raw, encoding="utf-8")
        else:
            document = {"config": {f"{PROJECT}:{k}": v for k, v in config.items()}}
            path.write_text(yaml.safe_dump(document), encoding="utf-8")
        return path

    return write


def secret_value(value: Any) -> Any:
    """Unwrap a value the monitor received as a secret; fail if it was sent in clear."""
    assert rpc.is_rpc_secret(value), f"not sent as a secret: {value!r}"
    return rpc.unwrap_rpc_secret(value)


def expected_session(raw: dict[str, Any], agent: dict[str, Any]) -> dict[str, Any]:
    """The brief's rule: agent keys over the stack default; storeRef (name only) for redis."""
    block = {"ttl": "24h", **raw["session"], **agent.get("session", {})}
    if block["type"] == "redis":
        block["storeRef"] = {"name": "redis-credentials"}
    return block


def context_era(raw: dict[str, Any], version: str = "0.9.0-beta.17") -> dict[str, Any]:
    """A stack file's config moved to a 0.9.0-beta.17+ release (`facade` became `facades`)."""
    raw = copy.deepcopy(raw)
    raw["omniaVersion"] = version
    for agent in raw["agents"]:
        if "facade" in agent.get("spec", {}):
            agent["spec"]["facades"] = [agent["spec"].pop("facade")]
    return raw
