"""Real redis-server and redis-sentinel processes on 127.0.0.1, for the tests and the benchmark.

Every process is started here, known by its PID and stopped here: `Cluster.close()` kills what
is still running, whatever happened before.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import redis

from upstream.redis_chart import (
    MASTER_SET,
    PARALLEL_SYNCS,
    PASSWORD_LENGTH,
    QUORUM,
    ServerSettings,
)
from upstream.redis_url import redis_url

_UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}
PAUSE_MS = 22000  # the chart's preStop pauses writes for this long at most


class MissingBinaryError(Exception):
    pass


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MissingBinaryError(f"{name} is not installed (Debian: apt-get install {name})")
    return found


def generated_password() -> str:
    """A password like the stack's RandomPassword: PASSWORD_LENGTH, no special characters
    (components/redis_store.py sets special=False)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_config_get(value: str) -> str:
    """A redis.conf value as CONFIG GET reports it: sizes in bytes, no quotes."""
    words = []
    for word in value.strip('"').split(" "):
        unit = word[-2:].lower()
        if unit in _UNITS and word[:-2].isdigit():
            word = str(int(word[:-2]) * _UNITS[unit])
        words.append(word)
    return " ".join(words)


class Server:
    """One redis-server (or, with `program`, redis-sentinel) on a random loopback port."""

    def __init__(self, workdir: Path, conf: str = "", program: str = "redis-server") -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.conf = workdir / "redis.conf"
        self.extra = conf
        self.program = program
        self.password: str | None = None  # to ask whether it is up
        self.proc: subprocess.Popen[bytes] | None = None
        self.preexec: Callable[[], None] | None = None  # run in the child before exec
        self._choose_port()

    # The host a client names: the address it binds, or the name a TLS server's cert holds.
    client_host = "127.0.0.1"

    def _listen(self) -> str:
        """redis.conf's lines for where it listens (`self.port`, chosen before)."""
        return f"port {self.port}\n"

    def _client_tls(self) -> dict[str, Any]:
        """redis-py's TLS arguments: none for a plain server."""
        return {}

    def _choose_port(self) -> None:
        self.port = free_port()
        self.conf.write_text(
            f"{self._listen()}bind 127.0.0.1\ndir {self.workdir}\nprotected-mode yes\n{self.extra}",
            encoding="utf-8",
        )

    def first_start(self) -> None:
        """Start on a fresh port; another process may take a free port before we bind it."""
        for attempt in range(3):
            try:
                self.start()
                return
            except RuntimeError:
                if attempt == 2:
                    raise
                self._choose_port()

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return redis.Redis(
            host=self.client_host,
            port=self.port,
            password=self.password,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            **self._client_tls(),
        )

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [binary(self.program), str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=self.preexec,
        )
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.AuthenticationError:
                return  # up, and asking for a password
            except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.kill()  # never leave a half-started server behind
                    raise RuntimeError(f"{self.program} did not start ({self.conf})") from None
                time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        if self.proc and self.running:
            os.kill(self.proc.pid, sig)

    def kill(self) -> None:
        """kill -9: no shutdown, no final fsync."""
        if self.proc and self.running:
            self.proc.send_signal(signal.SIGCONT)  # a stopped process must not outlive us
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, as Kubernetes stops a container; SIGKILL if it does not end in time."""
        if self.proc and self.running:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(what: str, check: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Poll until `check()`; the monotonic time it first held. Raises after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return time.monotonic()
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.1f} s")
        time.sleep(step)


def auth_lines(password: str, master_port: int | None) -> list[str]:
    """The redis.conf lines every node gets beside its settings: the password for clients and
    for its master, and (a replica) its master on loopback."""
    lines = [f"requirepass {password}", f"masterauth {password}"]
    if master_port is not None:
        lines.append(f"replicaof 127.0.0.1 {master_port}")
    return lines


@contextlib.contextmanager
def quick_first_sync(master: redis.Redis) -> Iterator[None]:
    """Redis waits repl-diskless-sync-delay (5 s) for more replicas before a first full sync;
    only while replicas are set up is that wait skipped, then restored."""
    delay = str(master.config_get("repl-diskless-sync-delay")["repl-diskless-sync-delay"])
    master.config_set("repl-diskless-sync-delay", 0)
    yield
    master.config_set("repl-diskless-sync-delay", delay)


def replicas_online(master: Server, count: int) -> bool:
    """The master sees exactly `count` replicas, each past its full sync."""
    info = master.client().info("replication")
    return info.get("connected_slaves") == count and all(
        info[f"slave{i}"]["state"] == "online" for i in range(count)
    )


class Configs(Protocol):
    """What each process of a Cluster is started with (after its port, bind and dir)."""

    sentinel_requires_password: bool

    def node(self, password: str, master_port: int | None) -> str: ...

    def sentinel(self, password: str, master_port: int) -> str: ...


class ProgramConfigs:
    """The program's own derivation (`server_settings`) with the chart's defaults and password
    wiring: for the benchmark, which compares it with the chart's own defaults. The tests
    start from the render instead (tests.support.render.RenderedConfigs)."""

    sentinel_requires_password = False

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings

    def node(self, password: str, master_port: int | None) -> str:
        lines = [f"{key} {value}" for key, value in self.settings.redis_conf]
        lines += auth_lines(password, master_port)
        return "\n".join(lines) + "\n"

    def sentinel(self, password: str, master_port: int) -> str:
        lines = [
            f"sentinel monitor {MASTER_SET} 127.0.0.1 {master_port} {QUORUM}",
            f"sentinel auth-pass {MASTER_SET} {password}",
            f"sentinel parallel-syncs {MASTER_SET} {PARALLEL_SYNCS}",
            *(f"sentinel {s.directive} {MASTER_SET} {s.value}" for s in self.settings.sentinel),
        ]
        return "\n".join(lines) + "\n"


class Cluster:
    """A master, replicas and Sentinels on loopback, each Redis node with its Sentinel as the
    chart runs them in one pod (`pod(i)`: node i and Sentinel i)."""

    def __init__(
        self,
        workdir: Path,
        settings: ServerSettings | Configs,
        password: str,
        replicas: int = 2,
        sentinels: int = 3,
    ) -> None:
        self.workdir = workdir
        self.configs: Configs = (
            ProgramConfigs(settings) if isinstance(settings, ServerSettings) else settings
        )
        self.password = password
        self.n_replicas = replicas
        self.n_sentinels = sentinels
        self.nodes: list[Server] = []
        self.sentinels: list[Server] = []

    def _node_conf(self, master_port: int | None) -> str:
        return self.configs.node(self.password, master_port)

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        master = Server(self.workdir / "node-0", self._node_conf(None))
        master.password = self.password
        self.nodes.append(master)
        master.first_start()
        with quick_first_sync(master.client()):
            for i in range(self.n_replicas):
                node = Server(self.workdir / f"node-{i + 1}", self._node_conf(master.port))
                node.password = self.password
                self.nodes.append(node)
                node.first_start()
            monitor = self.configs.sentinel(self.password, master.port)
            for i in range(self.n_sentinels):
                sentinel = Server(self.workdir / f"sentinel-{i}", monitor, "redis-sentinel")
                if self.configs.sentinel_requires_password:
                    sentinel.password = self.password
                self.sentinels.append(sentinel)
                sentinel.first_start()
            wait_for("replicas in sync", lambda: replicas_online(master, self.n_replicas), 20)
        wait_for("sentinels know each other and the replicas", self._sentinels_ready, 30)

    @staticmethod
    def replica_in_sync(node: Server) -> bool:
        info = node.client().info("replication")
        return bool(info["role"] == "slave" and info["master_link_status"] == "up")

    def _sentinels_ready(self) -> bool:
        for sentinel in self.sentinels:
            state = cast(dict[str, Any], sentinel.client().sentinel_master(MASTER_SET))
            if state["num-other-sentinels"] != self.n_sentinels - 1:
                return False
            if state["num-slaves"] != self.n_replicas:
                return False
        return True

    def master_port(self) -> int | None:
        """The master's port as the first Sentinel that answers names it."""
        for sentinel in self.sentinels:
            if not sentinel.running:
                continue
            try:
                addr = cast(
                    "tuple[str, int] | None",
                    sentinel.client(0.5).sentinel_get_master_addr_by_name(MASTER_SET),
                )
            except (redis.RedisError, OSError):
                continue
            if addr:
                return int(addr[1])
        return None

    def new_master(self, old: int, timeout: float) -> tuple[int, float]:
        """The port Sentinel names once it is no longer `old`, and when it first did."""
        found: list[int] = []

        def moved() -> bool:
            port = self.master_port()
            if port is not None and port != old:
                found.append(port)
                return True
            return False

        at = wait_for("a new master", moved, timeout)
        return found[-1], at

    def planned_failover(self, port: int) -> float:
        """The chart's preStop hook on the master (`prestop-redis.sh`: CLIENT PAUSE 22000 WRITE,
        SENTINEL FAILOVER, wait for another master); then the container stops (SIGTERM).
        Returns when the new master was named."""
        master = self.node(port)
        master.client().client_pause(PAUSE_MS, all=False)
        self.sentinel_client().sentinel_failover(MASTER_SET)
        _, named = self.new_master(port, 30)
        master.stop()
        return named

    def node(self, port: int) -> Server:
        return next(n for n in self.nodes if n.port == port)

    def lose_pod(self, port: int) -> None:
        """kill -9 of a whole pod: the Redis node on `port` and the Sentinel beside it."""
        i = next(i for i, n in enumerate(self.nodes) if n.port == port)
        self.nodes[i].kill()
        if i < len(self.sentinels):
            self.sentinels[i].kill()

    def sentinel_client(self) -> redis.Redis:
        return next(s for s in self.sentinels if s.running).client(2.0)

    def close(self) -> None:
        for proc in [*self.sentinels, *self.nodes]:
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):  # kill the others too
                proc.kill()


INDEX = "promptkit:conversations:index"  # Omnia's global set, no TTL (omnia-releases.md)
SESSION_TTL_MS = 600_000


def session_keys(session: str) -> tuple[str, str]:
    base = f"promptkit:conversation:{session}"
    return f"{base}:meta", f"{base}:messages"


@dataclass
class WriterLog:
    acked: list[tuple[str, float]] = field(default_factory=list)  # (session, ack time)
    errors: list[tuple[float, str]] = field(default_factory=list)
    attempts: list[float] = field(default_factory=list)
    refused_seconds: float = 0.0


class SessionWriter(threading.Thread):
    """Writes sessions shaped like Omnia's (a meta key, a message list, both with a TTL, and
    the id in the global index) through the project's URL, as one MULTI/EXEC each.

    `resolve` names the master's port: Sentinel's answer (a client that follows the master)
    or a fixed port (a client still reaching the old master, as through a stale Service)."""

    def __init__(
        self, password: str, resolve: Callable[[], int | None], rate: float = 200.0
    ) -> None:
        super().__init__(daemon=True)
        self.password = password
        self.resolve = resolve
        self.interval = 1.0 / rate
        self.log = WriterLog()
        self._halt = threading.Event()

    def stop(self) -> WriterLog:
        self._halt.set()
        self.join(timeout=10)
        return self.log

    def run(self) -> None:
        client: redis.Redis | None = None
        failing_since: float | None = None
        next_at = time.monotonic()
        while not self._halt.is_set():
            next_at += self.interval
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            session = uuid.uuid4().hex
            meta, messages = session_keys(session)
            started = time.monotonic()
            self.log.attempts.append(started)
            try:
                if client is None:
                    port = self.resolve()
                    if port is None:
                        raise redis.ConnectionError("no master named")
                    url = redis_url(self.password, "127.0.0.1", port)
                    client = redis.Redis.from_url(
                        url, socket_timeout=0.5, socket_connect_timeout=0.5
                    )
                pipe = client.pipeline(transaction=True)
                pipe.set(meta, f'{{"id": "{session}", "agent": "support"}}', px=SESSION_TTL_MS)
                pipe.rpush(messages, "user: hello", "assistant: hi, how can I help?")
                pipe.pexpire(messages, SESSION_TTL_MS)
                pipe.sadd(INDEX, session)
                pipe.execute()
            except (redis.RedisError, OSError) as err:
                now = time.monotonic()
                # A refused MULTI/EXEC names the failing command first: keep Redis's reply.
                reply = str(err).split("caused error: ", 1)[-1]
                self.log.errors.append((now, f"{type(err).__name__}: {reply[:120]}"))
                if failing_since is None:
                    failing_since = started
                if client is not None:
                    client.close()
                client = None
                continue
            acked = time.monotonic()
            self.log.acked.append((session, acked))
            if failing_since is not None:
                self.log.refused_seconds += acked - failing_since
                failing_since = None
        if client is not None:
            client.close()


def missing_sessions(
    client: redis.Redis, acked: list[tuple[str, float]], now: float
) -> tuple[list[str], list[str]]:
    """Acknowledged sessions not whole on `client`, and those whose TTL was reset or lost."""
    missing, bad_ttl = [], []
    for start in range(0, len(acked), 500):
        chunk = acked[start : start + 500]
        pipe = client.pipeline(transaction=False)
        for session, _ in chunk:
            meta, messages = session_keys(session)
            pipe.pttl(meta)
            pipe.llen(messages)
            pipe.pttl(messages)
            pipe.sismember(INDEX, session)
        replies = pipe.execute()
        for i, (session, at) in enumerate(chunk):
            meta_ttl, length, messages_ttl, indexed = replies[4 * i : 4 * i + 4]
            if meta_ttl < 0 or length != 2 or not indexed:
                missing.append(session)
                continue
            ceiling = SESSION_TTL_MS - (now - at) * 1000 + 100
            if not all(0 < ttl <= ceiling for ttl in (meta_ttl, messages_ttl)):
                bad_ttl.append(session)
    return missing, bad_ttl
