"""The runbooks' commands on real processes: docs/operating-redis.md's session copy, as shown.

docs/snippets/copy-sessions.bash is run with bash in the environment the chart's
`redis` container has (`REDIS_PASSWORD_FILE`, `REDIS_PORT`), against two real redis-server
processes started from the chart's render: with the same password, as after a namespace move,
and with the new one's own, given as the third argument, as for a move to another store.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from pathlib import Path

import pytest

from offline.inputs import ROOT
from settings.models import RedisConfig
from tests.support.redis_procs import INDEX, SESSION_TTL_MS, Server, missing_sessions, session_keys
from tests.support.render import configs_of_values
from tests.support.shared import need
from tests.support.stacks import stack_config
from upstream.redis_chart import chart_values

SCRIPT = ROOT / "docs" / "snippets" / "copy-sessions.bash"


def _script() -> str:
    return SCRIPT.read_text(encoding="utf-8")


@pytest.mark.parametrize("other_store", [False, True], ids=["same-store", "another-store"])
def test_the_copy_script_moves_every_session_with_its_ttl(
    tmp_path: Path, other_store: bool
) -> None:
    need("redis-server")
    bash, cli = need("bash"), need("redis-cli")
    # Two lone masters, as the chart starts a standalone one (prod's write guard would refuse
    # every write to a master without replicas; a real move copies into a full topology).
    redis = RedisConfig.model_validate(
        {"chartVersion": stack_config("prod")["redis"]["chartVersion"]}
    )
    configs = configs_of_values(chart_values(redis), redis.chart_version)
    password = secrets.token_hex(20)
    passwords = {"old": password, "new": secrets.token_hex(20) if other_store else password}
    servers = []
    try:
        for name in ("old", "new"):
            server = Server(tmp_path / name, configs.node(passwords[name], None))
            server.password = passwords[name]
            server.first_start()
            servers.append(server)
        old, new = servers
        source = old.client()
        acked = []
        for _ in range(1200):
            session = secrets.token_hex(16)
            meta, messages = session_keys(session)
            pipe = source.pipeline(transaction=True)
            pipe.set(meta, "{}", px=SESSION_TTL_MS)
            pipe.rpush(messages, "user: hello", "assistant: hi")
            pipe.pexpire(messages, SESSION_TTL_MS)
            pipe.sadd(INDEX, session)
            pipe.execute()
            acked.append((session, time.monotonic()))
        secret = tmp_path / "redis-password"
        secret.write_text(password, encoding="utf-8")
        done = subprocess.run(
            [bash, "-s", "--", "127.0.0.1", str(new.port), *([passwords["new"]] * other_store)],
            input=_script(),
            capture_output=True,
            text=True,
            timeout=120,
            env={
                "PATH": str(Path(cli).parent) + ":/usr/bin:/bin",
                "REDIS_PASSWORD_FILE": str(secret),
                "REDIS_PORT": str(old.port),
            },
            check=False,
        )
        assert done.returncode == 0, done.stderr
        keys = 2 * len(acked) + 1
        assert done.stdout.splitlines()[-1] == f"old: {keys} keys, new: {keys} keys"
        missing, bad_ttl = missing_sessions(new.client(), acked, time.monotonic())
        assert (missing, bad_ttl) == ([], [])
        assert source.dbsize() == keys  # COPY: the old data untouched
    finally:
        for server in servers:
            server.stop()
