"""What the tests expect of a stack, derived from the stack file by the brief's rules (an
oracle written apart from the program), and the planned resources' type tokens."""

from __future__ import annotations

import copy
import hashlib
from typing import Any
from urllib.parse import quote

import semver
import yaml
from pulumi.runtime import rpc

from offline import harness
from offline.inputs import stack_file_for
from settings.loader import parse_config
from settings.models import RedisConfig
from settings.project import PROJECT
from upstream.agent_runtime import TYPE as AGENT_RUNTIME
from upstream.kubernetes import HELM_CHART_V4 as CHART
from upstream.kubernetes import NAMESPACE, SECRET
from upstream.kubernetes import NAMESPACE_PATCH as PATCH

PASSWORD = harness.PASSWORD
# The engine's data guard (components/redis_store.py), as pulumi-random types a RandomId.
GUARD = "random:index/randomId:RandomId"
__all__ = ["AGENT_RUNTIME", "CHART", "GUARD", "NAMESPACE", "PASSWORD", "PATCH", "SECRET"]


def stack_config(stack: str) -> dict[str, Any]:
    """The omnia-agents:* keys of a real stack file, prefix removed (what the tests compare to)."""
    document = yaml.safe_load(stack_file_for(stack).read_text(encoding="utf-8"))
    prefix = f"{PROJECT}:"
    return {
        k.removeprefix(prefix): v for k, v in document["config"].items() if k.startswith(prefix)
    }


def prod_redis() -> RedisConfig:
    """The prod stack's Redis settings, parsed as the program parses them."""
    redis = parse_config(stack_config("prod"), "stacks/Pulumi.prod.yaml").redis
    assert redis is not None
    return redis


def down_after_s() -> float:
    """The prod stack's Sentinel down-after, in seconds: what a failover waits for."""
    return prod_redis().failover.down_after_milliseconds / 1000


def prod_with(**redis: Any) -> dict[str, Any]:
    """The prod stack's config with these `redis.*` keys set over its own."""
    raw = stack_config("prod")
    raw["redis"] = {**copy.deepcopy(raw["redis"]), **redis}
    return raw


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
