"""`make bench`, part three: what a session costs a real redis-server running the program's
settings (memory per session, append-only file, copy-on-write during an AOF rewrite).

The README's sizing table rests on these figures. Writes its own section of RESULTS.md.
"""

from __future__ import annotations

import base64
import datetime
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import redis

from benchmarks import failover
from tests.support.redis_procs import Server, session_keys, wait_for
from upstream.redis_chart import redis_conf

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEGIN = "<!-- sizing benchmark: written by benchmarks/sizing.py -->"
END = "<!-- end of sizing benchmark -->"
TTL_MS = 86_400_000  # PromptKit's 24 h
META = 300  # bytes of session metadata
MESSAGE = 400  # bytes a message
# (sessions, messages a session): about 2, 8 and 32 KiB a session.
SHAPES = ((20_000, 5), (20_000, 20), (5_000, 80))


def text(size: int) -> str:
    """Incompressible, like the RDB preamble would see real conversation text at worst."""
    return base64.b64encode(os.urandom(size * 3 // 4)).decode()


def fill(client: redis.Redis, sessions: int, messages: int) -> list[str]:
    ids = []
    pipe = client.pipeline(transaction=False)
    for i in range(sessions):
        session = uuid.uuid4().hex
        meta, history = session_keys(session)
        pipe.set(meta, text(META), px=TTL_MS)
        pipe.rpush(history, *(text(MESSAGE) for _ in range(messages)))
        pipe.pexpire(history, TTL_MS)
        pipe.sadd("promptkit:conversations:index", session)
        ids.append(session)
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()
    return ids


def rewrite_done(server: Server) -> bool:
    info = server.client(5).info("persistence")
    return not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]


def shape(sessions: int, messages: int, conf: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="sizing-") as tmp:
        server = Server(Path(tmp), conf)
        server.first_start()
        try:
            client = server.client(10)
            before = client.info("memory")["used_memory"]
            ids = fill(client, sessions, messages)
            wait_for("automatic rewrites done", lambda: rewrite_done(server), 120, 0.1)
            used = client.info("memory")["used_memory"] - before
            # Rewrite while a client appends a message to existing sessions at 200/s.
            halt = threading.Event()

            def append() -> None:
                writer = server.client(10)
                while not halt.is_set():
                    writer.rpush(
                        session_keys(ids[int.from_bytes(os.urandom(4)) % len(ids)])[1],
                        text(MESSAGE),
                    )
                    time.sleep(0.005)

            thread = threading.Thread(target=append, daemon=True)
            thread.start()
            started = time.monotonic()
            client.bgrewriteaof()
            wait_for("rewrite", lambda: rewrite_done(server), 120, 0.05)
            took = time.monotonic() - started
            halt.set()
            thread.join(timeout=10)
            info = client.info("persistence")
            aof = sum(f.stat().st_size for f in (Path(tmp) / "appendonlydir").iterdir())
        finally:
            server.stop()
    payload = META + MESSAGE * messages
    return {
        "payload": payload,
        "per_session": used / sessions,
        "aof_ratio": aof / used,
        "cow_ratio": info["aof_last_cow_size"] / used,
        "rewrite_s": took,
        "used_mb": used / 1024**2,
    }


def main() -> None:
    from settings.models import RedisConfig

    conf = redis_conf(RedisConfig.model_validate({"chartVersion": failover.CHART_VERSION}))
    conf = conf.replace("maxmemory ", "# maxmemory ")  # measure the data, not the limit
    rows = []
    for sessions, messages in SHAPES:
        got = shape(sessions, messages, conf)
        rows.append(
            f"| {sessions:,} | {got['payload']:,.0f} | {got['per_session']:,.0f} "
            f"| {got['per_session'] / got['payload']:.2f}x | {got['used_mb']:.0f} "
            f"| {got['aof_ratio']:.2f}x | {got['rewrite_s']:.1f} | {got['cow_ratio'] * 100:.1f} % |"
        )
        print(rows[-1], flush=True)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        BEGIN,
        "## What a session costs Redis",
        "",
        f"Measured {now} by `benchmarks/sizing.py`: one redis-server with the program's "
        "redis.conf lines (maxmemory left out), sessions shaped like Omnia's (a metadata key "
        f"of {META} B and a list of {MESSAGE} B messages, both with a 24 h TTL, the id in the "
        "index set), random incompressible text. Then an AOF rewrite while a client appends a "
        "message to a random session every 5 ms; copy-on-write is Redis's own "
        "`aof_last_cow_size`.",
        "",
        "| sessions | payload B | used_memory B a session | overhead | used MiB "
        "| AOF after rewrite / used_memory | rewrite s | copy-on-write / used_memory |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        END,
    ]
    section = "\n".join(lines) + "\n"
    failover.write(section, BEGIN, END)
    print(section)


if __name__ == "__main__":
    main()
