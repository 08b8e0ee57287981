"""Proofs on a real redis-server (Debian's), started by the tests on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from settings.models import RedisConfig
from tests.support.redis_procs import Server, as_config_get, generated_password
from tests.support.render import configs_of_values
from tests.support.shared import need
from upstream.redis_chart import chart_values
from upstream.redis_url import redis_url


def _need_server() -> None:
    need("redis-server")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the password cases; each case leaves it without a password again."""
    _need_server()
    srv = Server(tmp_path_factory.mktemp("redis-auth"))
    srv.first_start()
    yield srv
    srv.stop()


PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))  # every printable ASCII character
PASSWORDS = [
    pytest.param(generated_password(), id="generated"),
    pytest.param(PRINTABLE, id="all-printable"),
    pytest.param(PRINTABLE[::-1], id="all-printable-reversed"),
    *(pytest.param(f"pw{c}pw{c}", id=f"char-{ord(c):02x}") for c in PRINTABLE if not c.isalnum()),
]


@pytest.mark.parametrize("password", PASSWORDS)
def test_project_url_authenticates_on_real_redis(server: Server, password: str) -> None:
    admin = redis.Redis(host="127.0.0.1", port=server.port)
    admin.config_set("requirepass", password)  # argument-based: no config-file quoting
    client = redis.Redis.from_url(redis_url(password, "127.0.0.1", server.port))
    try:
        assert client.ping() is True
        assert client.set("session:abc", "state", ex=60) is True
        assert client.get("session:abc") == b"state"
        with pytest.raises(redis.AuthenticationError):
            redis.Redis.from_url(redis_url(password + "x", "127.0.0.1", server.port)).ping()
    finally:
        client.config_set("requirepass", "")
        client.delete("session:abc")


def test_sessions_survive_kill_9_with_their_ttls_still_counting(tmp_path: Path) -> None:
    """Start Redis as the chart starts a standalone master (its rendered redis.conf and
    master.conf, start-master.sh's password wiring), crash it, restart on the same data.

    kill -9 ends the process, not the machine: what Redis wrote is in the page cache, so this
    proves the append-only file and the TTLs (without `appendonly yes` and with `save ""` every
    key is gone), not the fsync policy, which only matters when the node itself fails.
    """
    _need_server()
    config = RedisConfig.model_validate({"chartVersion": "22.0.5"})
    configs = configs_of_values(chart_values(config), config.chart_version)
    conf = configs.redis_conf()
    assert {"appendonly yes", "appendfsync everysec", "maxmemory-policy volatile-ttl"} <= set(conf)
    password = generated_password()
    srv = Server(tmp_path, configs.node(password, None))
    srv.password = password
    srv.first_start()
    try:
        client = srv.client()
        # The server runs with exactly the chart's lines.
        for line in conf:
            key, value = line.split(" ", 1)
            assert client.config_get(key)[key] == as_config_get(value), line
        ttl_ms = 600_000
        written = {}
        for i in range(200):
            client.set(f"session:{i}", f"state-{i}", px=ttl_ms)
            written[f"session:{i}"] = time.monotonic()
        time.sleep(1.5)  # older than one fsync interval
        for i in range(50):  # too recent to be promised
            client.set(f"late:{i}", "x", px=ttl_ms)
        srv.kill()
        killed = time.monotonic()
        srv.start()
        client = srv.client()
        for key, at in written.items():
            assert killed - at > 1.0
            assert client.get(key) == f"state-{key.split(':')[1]}".encode(), key
            remaining = client.pttl(key)
            elapsed_ms = (time.monotonic() - at) * 1000
            # Kept counting while Redis was down (not reset to 600 s), and not expired.
            assert 0 < remaining <= ttl_ms - elapsed_ms + 50, (key, remaining, elapsed_ms)
    finally:
        srv.stop()
