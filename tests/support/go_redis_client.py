"""A Redis client that connects the way go-redis v9 does from ParseURL's Options.

What Omnia's runtime does with its URL, step by step (redis/go-redis v9.21.0): dial `Network`
`Addr`; with `TLSConfig`, a TLS client with that ServerName (SNI and the name the certificate
must carry), TLS 1.2 at least, the system CAs (`RootCAs` nil; here the test's CA file stands in
for them), no check at all with InsecureSkipVerify; then `initConn` (redis.go): `HELLO
<protocol> [AUTH <user or "default"> <password>] [SETNAME <name>]` (commands.go `Hello`; no
AUTH without a password), `AUTH` alone only when the server does not know HELLO, `SELECT` only
for a DB above 0, `CLIENT SETNAME` when named. NewClient's default protocol is 3.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

from upstream.go_redis_url import Options

RESP3 = 3


class RedisReplyError(Exception):
    """An error reply (`-ERR ...`, `-WRONGPASS ...`)."""


def _encode(*args: str | bytes | int) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode("utf-8", "surrogateescape")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class GoRedisLikeClient:
    """One connection, set up as go-redis sets up each pooled connection."""

    def __init__(self, options: Options, system_cas: Path | None, timeout: float = 5.0) -> None:
        self.options = options
        if options.network != "tcp" or options.host is None or options.port is None:
            raise ValueError("only TCP stores are reachable from an agent's pod")
        raw = socket.create_connection((options.host, int(options.port)), timeout=timeout)
        self.sock: socket.socket = raw
        if options.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if options.tls.insecure_skip_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                context.load_verify_locations(cafile=str(system_cas))
            try:
                self.sock = context.wrap_socket(raw, server_hostname=options.tls.server_name)
            except BaseException:
                raw.close()
                raise
        self.reader = self.sock.makefile("rb")
        try:
            self._init_conn()
        except BaseException:
            self.close()
            raise

    def _init_conn(self) -> None:
        o = self.options
        protocol = o.protocol if o.protocol >= 2 else RESP3
        hello: list[str | int] = ["HELLO", protocol]
        if o.password:
            hello += ["AUTH", o.username or "default", o.password]
        if o.client_name:
            hello += ["SETNAME", o.client_name]
        try:
            self.command(*hello)
        except RedisReplyError:
            if not o.password:
                raise
            if o.username:
                self.command("AUTH", o.username, o.password)
            else:
                self.command("AUTH", o.password)
        if o.db > 0:
            self.command("SELECT", o.db)
        if o.client_name:
            self.command("CLIENT", "SETNAME", o.client_name)

    def command(self, *args: str | bytes | int) -> Any:
        self.sock.sendall(_encode(*args))
        return self._read()

    def _line(self) -> bytes:
        line = self.reader.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed mid-reply")
        return line[:-2]

    def _read(self) -> Any:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+",):
            return rest.decode()
        if kind in (b"-", b"!"):
            if kind == b"!":
                rest = self.reader.read(int(rest) + 2)[:-2]
            raise RedisReplyError(rest.decode())
        if kind in (b":", b"("):
            return int(rest)
        if kind == b",":
            return float(rest)
        if kind == b"#":
            return rest == b"t"
        if kind == b"_":
            return None
        if kind in (b"$", b"="):
            if rest == b"-1":
                return None
            return self.reader.read(int(rest) + 2)[:-2]
        if kind in (b"*", b"~", b">"):
            if rest == b"-1":
                return None
            return [self._read() for _ in range(int(rest))]
        if kind == b"%":
            return {self._hashable(self._read()): self._read() for _ in range(int(rest))}
        if kind == b"|":  # attributes precede the reply they describe
            for _ in range(int(rest) * 2):
                self._read()
            return self._read()
        raise ConnectionError(f"unknown reply type {kind!r}")

    @staticmethod
    def _hashable(key: Any) -> Any:
        return key.decode() if isinstance(key, bytes) else key

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()

    def __enter__(self) -> GoRedisLikeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
