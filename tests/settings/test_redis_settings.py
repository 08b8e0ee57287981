"""Sizing and failover settings: bad values refused naming the key; the write guard only
where replicas exist (the real program on the real prod stack, changed per case)."""

from __future__ import annotations

from typing import Any

import pytest

from offline import cli, harness
from offline.program import run_plan
from tests.support.stacks import CHART, prod_with, stack_config
from upstream.redis_chart import MaxmemoryPolicy

_LAG = "min-replicas-max-lag"
_GUARD = "min-replicas-to-write"


def _conf(plan: harness.Plan) -> list[str]:
    values = plan.one(CHART, "redis").inputs["values"]
    return [line.split(" ")[0] for line in values["commonConfiguration"].splitlines()]


def _no_guard_keys(raw: dict[str, Any]) -> dict[str, Any]:
    del raw["redis"]["failover"]["minReplicasToWrite"]
    return raw


def test_the_policies_a_refusal_offers_are_each_accepted(write_stack, capsys) -> None:
    """The allkeys-* refusal names the policies to use instead: each of them must plan."""
    raw = prod_with(maxmemory={"percentOfLimit": 60, "policy": "allkeys-lru"})
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    offered = line.rsplit("; use ", 1)[1].split(", ")
    assert offered == [p.value for p in MaxmemoryPolicy]
    assert not any(p.startswith("allkeys-") for p in offered)
    for policy in offered:
        raw["redis"]["maxmemory"]["policy"] = policy
        values = run_plan(write_stack(raw)).one(CHART, "redis").inputs["values"]
        assert f"maxmemory-policy {policy}\n" in values["commonConfiguration"]


@pytest.mark.parametrize(
    "redis",
    [
        pytest.param({"architecture": "standalone", "sentinel": False}, id="standalone"),
        pytest.param({"sentinel": False, "replicas": 1}, id="replication-with-one-replica"),
        pytest.param({"sentinel": False}, id="replication-without-sentinel"),
    ],
)
def test_no_write_guard_without_replicas_that_fail_over(redis, write_stack) -> None:
    """Where no replica can take over, the guard would only refuse writes: never emitted."""
    raw = _no_guard_keys(prod_with(**redis))
    if raw["redis"]["architecture"] == "standalone":
        del raw["redis"]["replicas"]
    conf = _conf(run_plan(write_stack(raw)))
    assert _GUARD not in conf and _LAG not in conf
    assert conf[:5] == ["appendonly", "appendfsync", "save", "maxmemory", "maxmemory-policy"]


def test_the_prod_stack_has_the_write_guard(prod_plan) -> None:
    assert _GUARD in _conf(prod_plan) and _LAG in _conf(prod_plan)


_PREFIX = "omnia-agents:redis"
BAD = [
    (
        "memory-unit",
        {"resources": {"memory": "1GB"}},
        f"{_PREFIX}.resources.memory: '1GB' is not a memory quantity in Ki, Mi, Gi or Ti "
        "(e.g. '1Gi')",
    ),
    (
        "memory-small",
        {"resources": {"memory": "32Mi"}},
        f"{_PREFIX}.resources.memory: '32Mi' is below 64Mi, too little for a Redis server",
    ),
    (
        "cpu",
        {"resources": {"cpu": "fast"}},
        f"{_PREFIX}.resources.cpu: 'fast' is not a CPU quantity (e.g. '500m' or '1')",
    ),
    (
        "allkeys",
        {"maxmemory": {"policy": "allkeys-lru"}},
        f"{_PREFIX}.maxmemory.policy: 'allkeys-lru' can evict Omnia's index set "
        "promptkit:conversations:index, which has no TTL; use volatile-ttl, volatile-lru, "
        "volatile-lfu, noeviction",
    ),
    (
        "percent",
        {"maxmemory": {"percentOfLimit": 95}},
        f"{_PREFIX}.maxmemory.percentOfLimit: Input should be less than or equal to 90 (got 95)",
    ),
    (
        "volume",
        {"volumeSize": "1Gi"},
        f"{_PREFIX}: volumeSize: 1Gi cannot hold the append-only file of a full maxmemory "
        "(3 x 614Mi); use at least 2Gi on a new stack (a deployed stack: grow its volumes by "
        "hand first, docs/operating-redis.md#growing-the-redis-volumes, or keep resources.memory)",
    ),
    (
        "sentinel-two-nodes",
        {"replicas": 2},
        f"{_PREFIX}: sentinel: true with replicas: 2 runs 2 Sentinels, one per pod, with "
        "quorum 2: after the loss of one pod the rest cannot elect a new master (measured: no "
        "failover, writes refused with READONLY, or NOREPLICAS under the write guard); use "
        "replicas: 3 or more",
    ),
    (
        "sentinel-one-node",
        {"replicas": 1, "failover": {"minReplicasToWrite": None}},
        f"{_PREFIX}: sentinel: true with replicas: 1 runs 1 Sentinel, one per pod, with "
        "quorum 2: after the loss of one pod the rest cannot elect a new master (measured: no "
        "failover, writes refused with READONLY, or NOREPLICAS under the write guard); use "
        "replicas: 3 or more",
    ),
    (
        "guard-no-room",
        {"failover": {"minReplicasToWrite": 2}},
        f"{_PREFIX}: failover.minReplicasToWrite: 2 leaves no room for the loss of a replica: "
        "the master has 2, and once one is lost it refuses every write (NOREPLICAS); use at "
        "most 1",
    ),
    (
        "guard-no-room-without-sentinel",
        {"sentinel": False, "replicas": 1, "failover": {"minReplicasToWrite": 1}},
        f"{_PREFIX}: failover.minReplicasToWrite: 1 leaves no room for the loss of a replica: "
        "the master has 1, and once one is lost it refuses every write (NOREPLICAS); set it "
        "to 0 (off)",
    ),
    (
        "guard-above-replicas",
        {"failover": {"minReplicasToWrite": 3}},
        f"{_PREFIX}: failover.minReplicasToWrite: 3 needs at least 3 replicas of the master, "
        "and this topology has 2: the master would refuse every write",
    ),
    (
        "guard-standalone",
        {"architecture": "standalone", "sentinel": False, "replicas": None},
        f"{_PREFIX}: failover.minReplicasToWrite: 1 needs at least 1 replicas of the master, "
        "and this topology has 0: the master would refuse every write",
    ),
    (
        "down-after",
        {"failover": {"downAfterMilliseconds": 500}},
        f"{_PREFIX}.failover.downAfterMilliseconds: Input should be greater than or equal to "
        "1000 (got 500)",
    ),
    (
        "failover-typo",
        {"failover": {"downAfterMs": 5000}},
        f"{_PREFIX}.failover.downAfterMs: unknown key (known: downAfterMilliseconds, "
        "failoverTimeout, minReplicasToWrite, minReplicasMaxLag)",
    ),
]


@pytest.mark.parametrize(("case", "change", "line"), BAD, ids=[b[0] for b in BAD])
def test_bad_redis_settings_exit_2_naming_file_and_key(
    case, change, line, write_stack, capsys
) -> None:
    raw = stack_config("prod")
    for key, value in change.items():
        if value is None:
            del raw["redis"][key]
        elif isinstance(value, dict):
            raw["redis"][key] = {**raw["redis"].get(key, {}), **value}
        else:
            raw["redis"][key] = value
    path = write_stack(raw, name=case)
    assert cli.main(["--stack-file", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [f"{path}: {line}"]
