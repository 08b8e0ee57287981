"""What the loss of one pod does, on real processes started from the chart's render.

The chart runs one Redis and one Sentinel per pod (`<release>-node-<i>`), quorum 2. A pod lost
is both killed at once (`Cluster.lose_pod`). The topologies the settings refuse are rendered
from the prod stack's chart values with the refused value put back (the chart would run them
if asked) and shown failing: a 2-node Sentinel set never elects a new master after the
master's pod is lost and its survivor answers writes with READONLY; after its replica's pod is
lost the master refuses writes (NOREPLICAS); a write guard of 2 with 2 replicas does the same.
The accepted prod topology fails over and keeps writing through either loss.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.redis_procs import Cluster, Server, generated_password, wait_for
from tests.support.render import RenderedConfigs, configs_of_values
from tests.support.shared import need
from tests.support.stacks import down_after_s, prod_redis
from upstream.redis_chart import chart_values

# A bound for a hung election, not a timing claim (a new master is named ≈ 1.2 s after
# down-after, benchmarks/RESULTS.md); the refused topologies get half as long again.
ELECTION_SLACK_S = 5.0


def _values(**change: Any) -> dict[str, Any]:
    """The prod stack's chart values, with what the settings would refuse put back."""
    prod = prod_redis()
    assert prod.sentinel
    values = copy.deepcopy(chart_values(prod))
    if "nodes" in change:
        values["replica"]["replicaCount"] = change["nodes"]
    if "guard" in change:
        values["commonConfiguration"] = values["commonConfiguration"].replace(
            "min-replicas-to-write 1\n", f"min-replicas-to-write {change['guard']}\n"
        )
    return values


def _start(tmp: Path, configs: RenderedConfigs, nodes: int) -> Cluster:
    need("redis-server")
    need("redis-sentinel")
    cluster = Cluster(tmp, configs, generated_password(), replicas=nodes - 1, sentinels=nodes)
    cluster.start()
    return cluster


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Cluster]]:
    clusters: list[Cluster] = []
    try:
        yield clusters
    finally:
        for cluster in clusters:
            cluster.close()  # every process, by PID, whatever happened


def _cluster(started: list[Cluster], tmp: Path, nodes: int, **change: Any) -> Cluster:
    configs = configs_of_values(_values(nodes=nodes, **change), prod_redis().chart_version)
    assert configs.replica_script.count("--replicaof") >= 1 and configs.quorum == 2
    started.append(_start(tmp, configs, nodes))
    return started[-1]


def _write(node: Server) -> None:
    node.client().set(f"promptkit:conversation:{secrets.token_hex(8)}:meta", "{}", px=600_000)


def _refusal(node: Server) -> str:
    """Redis's error code for a write, or OK (redis-py raises READONLY as ReadOnlyError)."""
    try:
        _write(node)
    except redis.ReadOnlyError:
        return "READONLY"
    except redis.ResponseError as err:
        return str(err).split(" ", 1)[0]
    return "OK"


def test_two_nodes_master_pod_lost_no_failover_writes_readonly(started, tmp_path) -> None:
    cluster = _cluster(started, tmp_path, nodes=2)
    old = cluster.master_port()
    assert old is not None
    survivor = next(n for n in cluster.nodes if n.port != old)
    cluster.lose_pod(old)
    lost_at = time.monotonic()
    bound = 1.5 * (down_after_s() + ELECTION_SLACK_S)
    # The one Sentinel left sees the master down (subjectively) but cannot reach quorum 2.
    with pytest.raises(TimeoutError):
        cluster.new_master(old, bound)
    assert time.monotonic() - lost_at >= bound
    assert survivor.client().info("replication")["role"] == "slave"
    assert _refusal(survivor) == "READONLY"


def test_two_nodes_replica_pod_lost_master_refuses_writes(started, tmp_path) -> None:
    cluster = _cluster(started, tmp_path, nodes=2)
    old = cluster.master_port()
    assert old is not None
    master = cluster.node(old)
    assert _refusal(master) == "OK"
    replica = next(n for n in cluster.nodes if n.port != old)
    cluster.lose_pod(replica.port)
    wait_for("the master refuses writes", lambda: _refusal(master) == "NOREPLICAS", 15)


def test_a_write_guard_without_room_stops_writes_when_a_replica_pod_is_lost(
    started, tmp_path
) -> None:
    cluster = _cluster(started, tmp_path, nodes=3, guard=2)
    old = cluster.master_port()
    assert old is not None
    master = cluster.node(old)
    assert _refusal(master) == "OK"
    cluster.lose_pod(next(n for n in cluster.nodes if n.port != old).port)
    wait_for("the master refuses writes", lambda: _refusal(master) == "NOREPLICAS", 15)


def test_prod_fails_over_when_the_master_pod_is_lost(started, tmp_path) -> None:
    nodes = prod_redis().master_replicas + 1
    cluster = _cluster(started, tmp_path, nodes=nodes)
    old = cluster.master_port()
    assert old is not None
    cluster.lose_pod(old)
    new, _ = cluster.new_master(old, down_after_s() + ELECTION_SLACK_S)
    # The new master has a replica left to satisfy min-replicas-to-write 1: it takes writes.
    wait_for("writes on the new master", lambda: _refusal(cluster.node(new)) == "OK", 15)


def test_prod_keeps_writing_when_a_replica_pod_is_lost(started, tmp_path) -> None:
    nodes = prod_redis().master_replicas + 1
    cluster = _cluster(started, tmp_path, nodes=nodes)
    old = cluster.master_port()
    assert old is not None
    master = cluster.node(old)
    cluster.lose_pod(next(n for n in cluster.nodes if n.port != old).port)
    wait_for(
        "the master sees the replica gone",
        lambda: master.client().info("replication")["connected_slaves"] == nodes - 2,
        15,
    )
    for _ in range(20):
        assert _refusal(master) == "OK"
    assert cluster.master_port() == old  # no failover for a replica's loss
