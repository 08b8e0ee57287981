"""Shared fixtures: the real stack files, planned through the same harness as `plan.py`."""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import semver
import yaml
from pulumi.runtime import rpc

import plan as harness
from components.config import PROJECT

AGENT_RUNTIME = "kubernetes:omnia.altairalabs.ai/v1alpha1:AgentRuntime"
SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
CHART = "kubernetes:helm.sh/v4:Chart"
PASSWORD = "random:index/randomPassword:RandomPassword"
PATCH = "kubernetes:core/v1:NamespacePatch"


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


def redis_namespaces(raw: dict[str, Any]) -> set[str]:
    """Namespaces holding at least one redis-session agent, by the brief's rule."""
    return {a["namespace"] for a in raw["agents"] if expected_session(raw, a)["type"] == "redis"}


def context_era(raw: dict[str, Any], version: str = "0.9.0-beta.17") -> dict[str, Any]:
    """A stack file's config moved to a 0.9.0-beta.17+ release (`facade` became `facades`)."""
    raw = copy.deepcopy(raw)
    raw["omniaVersion"] = version
    for agent in raw["agents"]:
        if "facade" in agent.get("spec", {}):
            agent["spec"]["facades"] = [agent["spec"].pop("facade")]
    return raw


def expected_url(raw: dict[str, Any], password: str) -> str:
    host = f"redis-master.{raw['redis']['namespace']}.svc"
    return f"redis://:{quote(password, safe='')}@{host}:6379"


def omnia_era(version: str | None) -> str:
    """../shared/omnia-releases.md's rows, by their boundaries (an unset version: `session`)."""
    if version is None:
        return "unset"
    parsed = semver.Version.parse(version.removeprefix("v"))
    if parsed < semver.Version.parse("0.9.0-beta.1"):
        return "alpha"
    if parsed <= semver.Version.parse("0.9.0-beta.16"):
        return "beta"  # storeRef ignored: the runtime's URL must come as extraEnv
    return "context"  # beta.17 and anything newer


def expected_spec(
    raw: dict[str, Any], agent: dict[str, Any], password: str | None = None
) -> dict[str, Any]:
    """The brief's AgentRuntime spec: the user's spec, the session block under the release's
    key, on beta.1-beta.16 the runtime's OMNIA_SESSION_URL from the credentials Secret after the
    user's env, and (on releases with extraPodAnnotations) a hash of the credentials."""
    era = omnia_era(raw.get("omniaVersion"))
    field = "context" if era == "context" else "session"
    block = expected_session(raw, agent)
    spec = copy.deepcopy({**agent.get("spec", {}), field: block})
    if block["type"] == "redis" and era == "beta":
        runtime = spec.setdefault("runtime", {})
        runtime["extraEnv"] = [
            *runtime.get("extraEnv", []),
            {
                "name": "OMNIA_SESSION_URL",
                "valueFrom": {"secretKeyRef": {"name": "redis-credentials", "key": "url"}},
            },
        ]
    if block["type"] == "redis" and era in ("beta", "context"):
        assert password is not None, "a redis agent's stamp needs the password"
        digest = hashlib.sha256(expected_url(raw, password).encode()).hexdigest()[:16]
        spec["extraPodAnnotations"] = {"omnia-agents/credentials-hash": digest}
    return spec


def session_era(raw: dict[str, Any], version: str = "0.9.0-beta.16") -> dict[str, Any]:
    """A stack file's config moved to a release before 0.9.0-beta.17 (`facades` -> `facade`)."""
    raw = copy.deepcopy(raw)
    raw["omniaVersion"] = version
    for agent in raw["agents"]:
        if "facades" in agent.get("spec", {}):
            agent["spec"]["facade"] = agent["spec"].pop("facades")[0]
    return raw


def planned_password(plan: harness.Plan) -> str:
    """The password the mocked provider generated for this run."""
    inputs = plan.one(PASSWORD, "redis-password").inputs
    return harness.mock_password(f"{plan.stack}/redis-password", inputs)


def need(program: str) -> str:
    """A real-process test's binary; with CI set, missing fails instead of skipping."""
    from tests.redis_procs import MissingBinaryError, binary

    try:
        return binary(program)
    except MissingBinaryError as missing:
        if os.environ.get("CI"):
            pytest.fail(str(missing))  # .ci/run installs it: a skip there would hide the proofs
        pytest.skip(str(missing))
