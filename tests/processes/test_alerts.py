"""The program's alert rules on real processes: Debian's redis_exporter scrapes real
redis-server processes (a master and its replicas, started with the stack's redis.conf lines),
the tests provoke each failure, and `promtool test rules` evaluates the rules the program emits
for that stack on what the exporter reported.

Each scrape stands for one scrape interval (30 s, the chart's ServiceMonitor): a healthy pair
for 12 minutes, then what the scenario recorded, then its last scrape held for 15 minutes. The
`for:` durations are the program's own; promtool's clock, not the test's, waits them out. At
each check exactly the listed alerts fire, every other rule of the stack fires for none.
"""

from __future__ import annotations

import resource
import secrets
import signal
import socket
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from settings.models import RedisConfig
from tests.support.exporter import (
    Exporter,
    Sample,
    Step,
    Target,
    Timeline,
    close,
    metric_names,
    promtool_test,
)
from tests.support.redis_procs import (
    Server,
    auth_lines,
    quick_first_sync,
    replicas_online,
    wait_for,
)
from tests.support.shared import need
from upstream.prometheus_operator import UP
from upstream.redis_chart import RELEASE, server_settings
from upstream.redis_metrics import METRICS, alert_rules, alerts, metrics_job, rule_groups

HEALTHY_STEPS = 24  # 12 min: longer than the failover rule's look-back
TAIL_STEPS = 30
STEP_S = 30
START = HEALTHY_STEPS * STEP_S  # when the scenario's first scrape is taken, in promtool time
# A master and one replica, plain replication: no write guard (it needs Sentinel to default on).
PAIR: dict[str, Any] = {
    "architecture": "replication",
    "replicas": 1,
    "resources": {"memory": "64Mi"},  # maxmemory 38mb: filled in a second
}
# A master and two replicas under the write guard: one replica in sync within 2 s.
GUARDED: dict[str, Any] = {
    **PAIR,
    "replicas": 2,
    "failover": {"minReplicasToWrite": 1, "minReplicasMaxLag": 2},
}
VALUE = 64 * 1024  # bytes per key the fills write
BATCH = 32


def stack(raw: dict[str, Any]) -> RedisConfig:
    return RedisConfig.model_validate({"chartVersion": "23.1.1", **raw})


def at(offset: int) -> int:
    """An eval time `offset` seconds after the scenario's first scrape."""
    return START + offset


@dataclass
class Node:
    server: Server
    exporter: Exporter
    target: Target


class Monitored:
    """A master and `config.master_replicas` replicas, each with its exporter, named as the
    chart names the pods of a replication release."""

    def __init__(
        self,
        workdir: Path,
        config: RedisConfig,
        master_limit: int | None = None,
        master_conf: str = "",
    ) -> None:
        need("redis-server")
        self.config = config
        self.password = "".join(secrets.choice(string.ascii_letters) for _ in range(24))
        self.workdir = workdir
        self.master_limit = master_limit
        self.master_conf = master_conf
        self.nodes: list[Node] = []

    def _conf(self, master_port: int | None) -> str:
        lines = [f"{k} {v}" for k, v in server_settings(self.config).redis_conf]
        lines += auth_lines(self.password, master_port)
        if master_port is None:
            lines.append(self.master_conf)
        return "\n".join(lines) + "\n"

    def _node(self, name: str, ip: str, master_port: int | None) -> Node:
        server = Server(self.workdir / name, self._conf(master_port))
        server.password = self.password
        if master_port is None and self.master_limit:
            limit = self.master_limit

            def files_up_to_the_limit() -> None:
                # A file write past RLIMIT_FSIZE fails (EFBIG) as on a full volume; ignoring
                # SIGXFSZ (kept across exec) leaves Redis to handle the failed write itself.
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

            server.preexec = files_up_to_the_limit
        server.first_start()
        target = Target(self.config.namespace, metrics_job(RELEASE), name, ip)
        node = Node(server, Exporter(server, self.password), target)
        self.nodes.append(node)
        node.exporter.start()
        return node

    def start(self) -> Monitored:
        try:
            master = self._node("redis-master-0", "10.0.0.1", None)
            wanted = self.config.master_replicas
            with quick_first_sync(master.server.client()):
                for i in range(wanted):
                    self._node(f"redis-replicas-{i}", f"10.0.0.{i + 2}", master.server.port)
                wait_for("replicas in sync", lambda: replicas_online(master.server, wanted), 20)
        except BaseException:
            self.close()
            raise
        return self

    @property
    def master(self) -> Server:
        return self.nodes[0].server

    def replica(self, i: int) -> Node:
        return self.nodes[i + 1]

    def snapshot(self, timeout: float = 2.0) -> Step:
        return {node.target: node.exporter.scrape(timeout) for node in self.nodes}

    def close(self) -> None:
        for node in self.nodes:
            close(node.exporter, node.server)


@pytest.fixture
def monitored(tmp_path: Path) -> Iterator[Callable[..., Monitored]]:
    started: list[Monitored] = []

    def start(raw: dict[str, Any], **kwargs: Any) -> Monitored:
        running = Monitored(tmp_path / f"set-{len(started)}", stack(raw), **kwargs)
        started.append(running)
        return running.start()

    yield start
    for running in started:
        running.close()


def sessions(client: redis.Redis, count: int, prefix: str = "s") -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.set(f"promptkit:conversation:{prefix}{i}:meta", "{}", ex=600)
    pipe.execute()


def fill(
    running: Monitored, ttl: bool, done: Callable[[redis.Redis], bool], limit: int = 200
) -> None:
    """Write random 64 KiB values in batches, each acknowledged by every replica (a faster
    fill would overrun the replica output buffer the stack caps), until `done`."""
    client = running.master.client(5.0)
    refusals: set[str] = set()
    for batch in range(limit):
        pipe = client.pipeline(transaction=False)
        for i in range(BATCH):
            key = f"promptkit:conversation:fill{batch}-{i}:messages"
            pipe.set(key, secrets.token_bytes(VALUE), ex=3600 if ttl else None)
        refusals |= {str(r) for r in pipe.execute(raise_on_error=False) if isinstance(r, Exception)}
        client.execute_command("WAIT", running.config.master_replicas, 5000)
        if done(client):
            return
    memory = client.info("memory")
    raise AssertionError(
        f"the fill never reached its goal: used_memory {memory['used_memory']} of maxmemory "
        f"{memory['maxmemory']}, writes refused with {sorted(refusals)}"
    )


def evicted(client: redis.Redis) -> int:
    return int(client.info("stats")["evicted_keys"])


# redis-py strips the prefix of the error kinds it has a class for.
REFUSALS: dict[str, tuple[type[redis.ResponseError], str]] = {
    "OOM": (redis.OutOfMemoryError, "command not allowed when used memory > 'maxmemory'"),
    "NOREPLICAS": (redis.ResponseError, "^NOREPLICAS"),
}


def refused(client: redis.Redis, error: str, count: int = 3, value: bytes = b"{}") -> None:
    """Writes of `value` that the master must refuse with `error`."""
    kind, message = REFUSALS[error]
    for i in range(count):
        with pytest.raises(kind, match=message):
            client.set(f"promptkit:conversation:refused{i}:meta", value, ex=600)


def run(
    tmp_path: Path,
    running: Monitored,
    healthy: Step,
    scenario: list[Step],
    checks: dict[int, dict[str, list[dict[str, str]]]],
) -> None:
    timeline = Timeline()
    timeline.hold(healthy, HEALTHY_STEPS)
    for step in scenario:
        timeline.hold(step, 1)
    timeline.hold(scenario[-1], TAIL_STEPS)
    # Before the scenario: a healthy set fires nothing, from the first minute on.
    every = {60: {}, at(-60): {}, **checks}
    promtool_test(tmp_path / "promtool", rule_groups(running.config, RELEASE), timeline, every)


def pod(running: Monitored, node: Node) -> dict[str, str]:
    return {"namespace": running.config.namespace, "pod": node.target.pod}


def whole(running: Monitored) -> dict[str, str]:
    return {"namespace": running.config.namespace}


# ---- the metric names ---------------------------------------------------------------------


def test_every_metric_the_rules_read_is_one_the_real_exporter_emits(monitored) -> None:
    """A rule on a metric the exporter does not emit never fires; Debian's exporter scrapes a
    real master and replica (and an error reply, which only then gets its series)."""
    running = monitored(GUARDED)
    with pytest.raises(redis.ReadOnlyError):
        running.replica(0).server.client().set("k", "v")
    emitted = {UP} | {
        sample.name
        for scrape in running.snapshot().values()
        for sample in scrape or pytest.fail("a scrape failed")
    }
    used: set[str] = set()
    for rules in (rule_groups(stack(GUARDED), RELEASE), rule_groups(stack({}), RELEASE)):
        for group in rules["groups"]:
            for rule in group["rules"]:
                used |= metric_names(rule["expr"])
    assert used - emitted == set()
    # And each is one whose definition in the chart's exporter (v1.76.0) the module cites.
    assert used - {UP} == set(METRICS)


# ---- a healthy pair, and each failure -----------------------------------------------------


def test_a_healthy_pair_fires_nothing(tmp_path: Path, monitored) -> None:
    running = monitored(PAIR)
    sessions(running.master.client(), 200)
    healthy = running.snapshot()
    later = running.snapshot()
    run(tmp_path, running, healthy, [later], {at(90): {}, at(360): {}, at(720): {}})


def test_filling_to_maxmemory_evicts_sessions(tmp_path: Path, monitored) -> None:
    running = monitored(PAIR)
    healthy = running.snapshot()
    fill(running, ttl=True, done=lambda c: evicted(c) >= 10)
    first = running.snapshot()
    fill(running, ttl=True, done=lambda c: evicted(c) >= 40)  # and it goes on evicting
    second = running.snapshot()
    threshold = running.config.maxmemory_bytes * 90 // 100
    for node in running.nodes:  # both hold about maxmemory (the replica does not evict)
        assert _value(second[node.target], "redis_memory_used_bytes") > threshold
    master, replica = pod(running, running.nodes[0]), pod(running, running.replica(0))
    run(
        tmp_path,
        running,
        healthy,
        [first, second],
        {
            at(90): {"RedisEvictingSessions": [master]},
            at(420): {"RedisMemoryNearMaxmemory": [master, replica]},
        },
    )


def test_writes_refused_once_nothing_is_evictable(tmp_path: Path, monitored) -> None:
    """Keys without a TTL (like Omnia's index set) fill maxmemory: volatile-ttl has nothing to
    evict and Redis refuses writes with OOM."""
    running = monitored(PAIR)
    healthy = running.snapshot()
    client = running.master.client(5.0)

    def out_of_memory(c: redis.Redis) -> bool:
        # A write's own argument counts against maxmemory while Redis judges it: a pipelined
        # batch is refused while its query buffer is full, and once that is freed a tiny probe
        # fits, batch after batch, on a loaded machine. A full-size write alone, refused, says
        # the data leaves no room for one message: every later one is refused (`refused`
        # below), as nothing is evicted or expires.
        for i in range(16):
            try:
                c.set(f"promptkit:conversation:probe{i}:messages", secrets.token_bytes(VALUE))
            except redis.OutOfMemoryError:
                return True
        return False

    fill(running, ttl=False, done=out_of_memory)
    assert evicted(client) == 0
    refused(client, "OOM", value=secrets.token_bytes(VALUE))
    # One burst, scraped once: the error's series is new, which `increase` alone cannot see.
    after = running.snapshot()
    master, replica = pod(running, running.nodes[0]), pod(running, running.replica(0))
    run(
        tmp_path,
        running,
        healthy,
        [after],
        {
            at(90): {"RedisOutOfMemory": [master]},
            at(420): {"RedisMemoryNearMaxmemory": [master, replica]},
        },
    )


def one_replica_lost(tmp_path: Path, running: Monitored, left: int) -> None:
    """Kill one replica: it is down, and the master misses it, whatever the others do."""
    healthy = running.snapshot()
    running.replica(0).server.kill()
    wait_for("the master sees it gone", lambda: _replicas(running.master) == left, 10)
    after = running.snapshot()
    lost = pod(running, running.replica(0))
    run(
        tmp_path,
        running,
        healthy,
        [after],
        {
            at(90): {"RedisDown": [lost]},
            at(360): {
                "RedisDown": [lost],
                "RedisReplicasMissing": [pod(running, running.nodes[0])],
            },
        },
    )


def test_a_replica_lost(tmp_path: Path, monitored) -> None:
    one_replica_lost(tmp_path, monitored(PAIR), left=0)


def test_the_master_lost(tmp_path: Path, monitored) -> None:
    running = monitored(PAIR)
    healthy = running.snapshot()
    running.master.kill()
    link = running.replica(0).server.client()
    wait_for(
        "the link is down", lambda: link.info("replication")["master_link_status"] == "down", 10
    )
    after = running.snapshot()
    firing = {
        "RedisDown": [pod(running, running.nodes[0])],
        "RedisMasterLinkDown": [pod(running, running.replica(0))],
        "RedisNoMaster": [whole(running)],
    }
    run(tmp_path, running, healthy, [after], {at(30): {}, at(90): firing, at(360): firing})


def test_a_failover(tmp_path: Path, monitored) -> None:
    """The master dies and its replica takes over (what Sentinel does)."""
    running = monitored(PAIR)
    healthy = running.snapshot()
    running.master.kill()
    running.replica(0).server.client().replicaof("NO", "ONE")
    after = running.snapshot()
    old, new = pod(running, running.nodes[0]), pod(running, running.replica(0))
    run(
        tmp_path,
        running,
        healthy,
        [after],
        {
            at(90): {"RedisDown": [old], "RedisFailover": [new]},
            at(360): {"RedisDown": [old], "RedisFailover": [new], "RedisReplicasMissing": [new]},
            # Ten minutes on, the new master is no news any more.
            at(720): {"RedisDown": [old], "RedisReplicasMissing": [new]},
        },
    )


def test_two_masters(tmp_path: Path, monitored) -> None:
    """A replica promoted while the old master still runs (a partitioned failover)."""
    running = monitored(PAIR)
    healthy = running.snapshot()
    running.replica(0).server.client().replicaof("NO", "ONE")
    wait_for("the old master has no replica", lambda: _replicas(running.master) == 0, 10)
    after = running.snapshot()
    old, new = pod(running, running.nodes[0]), pod(running, running.replica(0))
    run(
        tmp_path,
        running,
        healthy,
        [after],
        {
            at(90): {"RedisMultipleMasters": [whole(running)], "RedisFailover": [new]},
            at(360): {
                "RedisMultipleMasters": [whole(running)],
                "RedisFailover": [new],
                "RedisReplicasMissing": [old, new],
            },
        },
    )


def test_the_append_only_file_cannot_be_written(tmp_path: Path, monitored) -> None:
    running = monitored(PAIR, master_limit=2 * 1024 * 1024)
    healthy = running.snapshot()
    client = running.master.client(5.0)
    with pytest.raises(redis.ResponseError, match=r"^MISCONF"):
        for batch in range(64):
            client.set(f"promptkit:conversation:big{batch}:messages", secrets.token_bytes(VALUE))
            time.sleep(0.01)
    assert client.info("persistence")["aof_last_write_status"] == "err"
    after = running.snapshot()
    run(
        tmp_path,
        running,
        healthy,
        [after],
        {at(30): {}, at(90): {"RedisAofWriteFailing": [pod(running, running.nodes[0])]}},
    )


def test_the_append_only_file_cannot_be_rewritten(tmp_path: Path, monitored) -> None:
    """DEBUG POPULATE makes a large dataset without writing the AOF (it is not propagated), so
    only the rewrite, which writes the whole dataset, outgrows the file size limit."""
    running = monitored(PAIR, master_limit=300 * 1024, master_conf="enable-debug-command local")
    healthy = running.snapshot()
    client = running.master.client(5.0)
    client.execute_command("DEBUG", "POPULATE", 50_000, "promptkit:filler", 100)
    client.bgrewriteaof()
    wait_for(
        "the rewrite failed",
        lambda: client.info("persistence")["aof_last_bgrewrite_status"] == "err",
        10,
    )
    assert client.set("promptkit:conversation:after:meta", "{}") is True  # writes go on
    after = running.snapshot()
    master = pod(running, running.nodes[0])
    run(
        tmp_path,
        running,
        healthy,
        [after],
        {at(90): {}, at(360): {"RedisAofRewriteFailing": [master]}},
    )


def test_connections_rejected(tmp_path: Path, monitored) -> None:
    running = monitored(PAIR)
    healthy = running.snapshot()
    admin = running.master.client()
    admin.config_set("maxclients", int(admin.info("clients")["connected_clients"]) + 1)
    replies = [_connect(running.master.port) for _ in range(4)]
    assert any(b"max number of clients reached" in reply for reply in replies), replies
    admin.config_set("maxclients", 10000)
    after = running.snapshot()
    run(
        tmp_path,
        running,
        healthy,
        [after],
        {at(90): {"RedisRejectingConnections": [pod(running, running.nodes[0])]}, at(420): {}},
    )


def test_an_exporter_lost(tmp_path: Path, monitored) -> None:
    """Only the master's exporter is gone: its replica still follows a master, so there is no
    "no master" alert, only the exporter's."""
    running = monitored(PAIR)
    healthy = running.snapshot()
    running.nodes[0].exporter.kill()
    after = running.snapshot()
    assert after[running.nodes[0].target] is None
    run(
        tmp_path,
        running,
        healthy,
        [after],
        {at(90): {}, at(180): {"RedisExporterDown": [pod(running, running.nodes[0])]}},
    )


def test_no_exporter_scraped_at_all(tmp_path: Path, monitored) -> None:
    """The ServiceMonitor no longer selected: every target, and each of its series, gone."""
    running = monitored(PAIR)
    healthy = running.snapshot()
    job = {**whole(running), "job": metrics_job(RELEASE)}
    run(tmp_path, running, healthy, [{}], {at(300): {}, at(660): {"RedisMetricsAbsent": [job]}})


# ---- the write guard ----------------------------------------------------------------------


def test_the_write_guard_holds_with_one_replica_left(tmp_path: Path, monitored) -> None:
    running = monitored(GUARDED)
    one_replica_lost(tmp_path, running, left=1)
    assert running.master.client().set("promptkit:conversation:ok:meta", "{}") is True


def test_the_write_guard_refuses_when_no_replica_keeps_up(tmp_path: Path, monitored) -> None:
    """One replica dead, the other frozen (SIGSTOP: connected, but its acks stop): the master
    still counts a connected replica, but none in sync within minReplicasMaxLag, and refuses
    writes with NOREPLICAS; the guard alert follows Redis's rule, not the connection count."""
    running = monitored(GUARDED)
    healthy = running.snapshot()
    running.replica(0).server.kill()
    frozen = running.replica(1)
    frozen.server.signal(signal.SIGSTOP)
    lag = running.config.failover.min_replicas_max_lag
    client = running.master.client()
    wait_for("the guard closes", lambda: _refuses(client), lag + 5)
    assert _replicas(running.master) == 1  # the frozen one is still connected
    refused(client, "NOREPLICAS")
    first = running.snapshot(timeout=1.0)
    assert first[frozen.target] is None  # its exporter hangs on the frozen Redis
    refused(client, "NOREPLICAS")
    second = running.snapshot(timeout=1.0)
    master, dead, stopped = (pod(running, n) for n in running.nodes)
    run(
        tmp_path,
        running,
        healthy,
        [first, second],
        {
            at(45): {"RedisWriteGuardRefusing": [master]},
            at(90): {
                "RedisWriteGuardClosed": [master],
                "RedisWriteGuardRefusing": [master],
                "RedisDown": [dead],
            },
            at(420): {
                "RedisWriteGuardClosed": [master],
                "RedisDown": [dead],
                "RedisReplicasMissing": [master],
                "RedisExporterDown": [stopped],
            },
        },
    )


def test_every_rule_is_exercised() -> None:
    """Each alert of the two stacks above fires in some scenario of this module."""
    source = Path(__file__).read_text(encoding="utf-8")
    names = {a.name for raw in (PAIR, GUARDED) for a in alerts(stack(raw), RELEASE)}
    assert {name for name in names if f'"{name}"' not in source} == set()
    assert names == {r["alert"] for r in alert_rules(stack(GUARDED), RELEASE)}


def _value(scrape: list[Sample] | None, name: str) -> float:
    assert scrape is not None
    (found,) = [s.value for s in scrape if s.name == name]
    return found


def _connect(port: int) -> bytes:
    """A new client connection's first reply (Redis answers one over maxclients at once)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(200)


def _replicas(server: Server) -> int:
    return int(server.client().info("replication")["connected_slaves"])


def _refuses(client: redis.Redis) -> bool:
    try:
        client.set("promptkit:conversation:probe:meta", "{}")
    except redis.ResponseError as err:
        return str(err).startswith("NOREPLICAS")
    return False
