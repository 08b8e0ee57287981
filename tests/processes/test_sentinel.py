"""Failover on real processes: Debian's redis-server and redis-sentinel on 127.0.0.1.

One master, the prod stack's replicas and one Sentinel per node, each started from what the
pinned chart renders for the prod stack (its redis.conf, replica.conf and sentinel.conf, the
start scripts' password wiring and quorum; tests.support.render.RenderedConfigs): stack file,
values, real chart, real processes. A writer follows the master Sentinel names, through the
project's URL builder, as the chart's kubectl sidecar makes the `redis-master` Service follow it.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis_procs import (
    Cluster,
    Server,
    SessionWriter,
    as_config_get,
    generated_password,
    missing_sessions,
    wait_for,
)
from tests.support.render import RenderedConfigs, rendered_configs
from tests.support.shared import need
from tests.support.stacks import down_after_s, prod_redis, stack_config

# How much later than down-after a new master must be named (measured ≈ 1.2 s; see
# benchmarks/RESULTS.md): a bound for a hung election, not a timing claim.
ELECTION_SLACK_S = 5.0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    need("redis-server")
    need("redis-sentinel")
    redis = prod_redis()
    assert redis.sentinel
    password = generated_password()
    nodes = redis.master_replicas + 1  # a Sentinel per node, as the chart runs them
    configs = rendered_configs(stack_config("prod"), tmp_path)
    running = Cluster(tmp_path, configs, password, replicas=redis.master_replicas, sentinels=nodes)
    try:
        running.start()
        yield running
    finally:
        running.close()  # every process, by PID, whatever happened


def _follow(cluster: Cluster) -> SessionWriter:
    writer = SessionWriter(cluster.password, cluster.master_port)
    writer.start()
    return writer


def _role(node: Server) -> str:
    return str(node.client().info("replication")["role"])


def _acks_after(writer: SessionWriter, since: float, count: int = 20) -> None:
    wait_for(
        "writes acknowledged by the new master",
        lambda: sum(at > since for _, at in writer.log.acked) >= count,
        15,
    )


def _runs_the_programs_settings(cluster: Cluster) -> None:
    """Every node and Sentinel runs what the chart renders (checked in each case below)."""
    assert isinstance(cluster.configs, RenderedConfigs)
    redis = prod_redis()
    for node in cluster.nodes:
        client = node.client()
        for line in cluster.configs.redis_conf():
            key, value = line.split(" ", 1)
            got = str(client.config_get(key)[key])
            if key == "client-output-buffer-limit":
                # Redis reports the replica class under its old name.
                assert f"slave {as_config_get(value.removeprefix('replica '))}" in got
            else:
                assert got == as_config_get(value), key
    state = cluster.sentinel_client().sentinel_master("mymaster")
    assert isinstance(state, dict)
    # The rendered timings are the stack's.
    assert state["down-after-milliseconds"] == redis.failover.down_after_milliseconds
    assert state["failover-timeout"] == redis.failover.failover_timeout
    assert state["quorum"] == 2


def test_kill_9_of_the_master(cluster: Cluster) -> None:
    _runs_the_programs_settings(cluster)
    writer = _follow(cluster)
    try:
        time.sleep(2.0)
        old = cluster.master_port()
        assert old is not None
        killed = time.monotonic()
        cluster.node(old).kill()
        new, named = cluster.new_master(old, down_after_s() + ELECTION_SLACK_S)
        _acks_after(writer, named)
    finally:
        log = writer.stop()
    promised = [(s, at) for s, at in log.acked if at < killed - 1.0]
    assert len(promised) > 100  # the writer really wrote before the crash
    client = cluster.node(new).client()
    missing, bad_ttl = missing_sessions(client, promised, time.monotonic())
    assert missing == [] and bad_ttl == []


def test_planned_failover_as_the_charts_prestop_does(cluster: Cluster) -> None:
    """CLIENT PAUSE WRITE on the master, SENTINEL FAILOVER, wait, then SIGTERM."""
    _runs_the_programs_settings(cluster)
    writer = _follow(cluster)
    try:
        time.sleep(1.5)
        old = cluster.master_port()
        assert old is not None
        started = time.monotonic()
        named = cluster.planned_failover(old)
        _acks_after(writer, named)
    finally:
        log = writer.stop()
    assert named - started < down_after_s()  # no waiting for a timeout
    new = cluster.master_port()
    assert new is not None
    assert len([at for _, at in log.acked if at < started]) > 100
    missing, bad_ttl = missing_sessions(cluster.node(new).client(), log.acked, time.monotonic())
    assert missing == [] and bad_ttl == []


def test_frozen_master_refuses_what_the_failover_would_discard(cluster: Cluster) -> None:
    """SIGSTOP past down-after: Sentinel fails over; on SIGCONT a client still on the old
    master (as through a Service not yet relabelled) must not get acknowledgements that the
    demotion then throws away. min-replicas-to-write refuses them."""
    _runs_the_programs_settings(cluster)
    old = cluster.master_port()
    assert old is not None
    frozen = cluster.node(old)
    follower = _follow(cluster)
    stale = SessionWriter(cluster.password, lambda: old)
    stale.start()
    try:
        time.sleep(1.5)
        frozen.signal(signal.SIGSTOP)
        # Frozen until Sentinel has promoted a replica (past down-after), and a second more.
        cluster.new_master(old, down_after_s() + ELECTION_SLACK_S)
        time.sleep(1.0)
        frozen.signal(signal.SIGCONT)
        resumed = time.monotonic()
        time.sleep(2.0)  # the stale client keeps writing to the resumed old master
        # Demoted: from here on it answers READONLY (its resync is not needed for the check).
        wait_for("the old master demoted", lambda: _role(frozen) == "slave", 30)
    finally:
        stale_log = stale.stop()
        follower_log = follower.stop()
    after = [e for at, e in stale_log.errors if at > resumed]
    # The stale client did reach the old master after it resumed, and was refused.
    assert any("NOREPLICAS" in e or "ReadOnlyError" in e for e in after), after[:5]
    new = cluster.master_port()
    assert new is not None and new != old
    acked = stale_log.acked + follower_log.acked
    missing, bad_ttl = missing_sessions(cluster.node(new).client(), acked, time.monotonic())
    assert missing == [] and bad_ttl == []
