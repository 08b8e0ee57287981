"""How Omnia's runtime reads its Redis URL: go-redis's `ParseURL`, release by release.

Every Omnia runtime hands the credentials Secret's `url` to `redis.ParseURL` of
github.com/redis/go-redis/v9 and exits on its error (`cmd/runtime/main.go`), so an agent whose
URL go-redis refuses crash-loops. `parse_url` returns the `Options` go-redis would build (what
the runtime dials, how it authenticates, TLS or not) or raises its exact error. Rules read from
redis/go-redis `options.go` (`ParseURL`, `setupTCPConn`, `getHostPortWithDefaults`,
`setupUnixConn`, `queryOptions`, `setupConnParams`, `getUserPassword`) at v9.17.2, v9.18.0,
v9.19.0, v9.20.0 and v9.21.0: identical but for `conn_max_lifetime_jitter`, read from v9.18.0.
`../shared/go-redis-url/` holds go-redis's own TestParseURL table (v9.21.0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from upstream.go_duration import DurationError, parse_go_duration
from upstream.go_text import GoNumError, atoi, from_go, is_blank, quote, to_go, wrap_int64
from upstream.go_url import (
    URLError,
    UrlRules,
    Userinfo,
    join_host_port,
    parse,
    query,
    split_host_port,
)
from upstream.omnia_releases import OLDEST_KNOWN, parse_version, release_for

# The toolchains that built the runtime images (Dockerfile.runtime: golang:1.25-alpine for the
# alphas, tagged 2026-01-04, so Go 1.25.5; golang:1.26(-alpine) for every beta, tagged from
# 2026-04-12 on, so Go 1.26.2 or later, whose net/url is the same through 1.26.5).
GO_1_25 = UrlRules(bracket_must_lead=False, strict_http_colons=False, max_query_params=None)
# go.mod `go 1.25.6`: GODEBUG urlstrictcolons keeps its old value (0) below `go 1.26`.
GO_1_26_MOD_1_25 = UrlRules(
    bracket_must_lead=True, strict_http_colons=False, max_query_params=10000
)
GO_1_26 = UrlRules(bracket_must_lead=True, strict_http_colons=True, max_query_params=10000)


@dataclass(frozen=True)
class GoRedis:
    """Omnia releases from `first` on (until the next row) pin this go-redis (their go.mod)."""

    first: str
    version: str
    go: str  # the toolchain of the runtime image, and the go.mod `go` line
    url_rules: UrlRules
    lifetime_jitter: bool  # `conn_max_lifetime_jitter`, new in v9.18.0


# Oldest first, read from AltairaLabs/Omnia's go.mod and Dockerfile.runtime at each tag
# (beta.10-12 and beta.14 were never tagged); HEAD (c7428e31) pins v9.21.0 like beta.17.
GO_REDIS: tuple[GoRedis, ...] = (
    GoRedis(OLDEST_KNOWN, "v9.17.2", "1.25.5, go.mod 1.25.1", GO_1_25, False),
    GoRedis("0.9.0-beta.1", "v9.18.0", "1.26.2+, go.mod 1.25.6", GO_1_26_MOD_1_25, True),
    GoRedis("0.9.0-beta.13", "v9.19.0", "1.26.3+, go.mod 1.26.0", GO_1_26, True),
    GoRedis("0.9.0-beta.15", "v9.20.0", "1.26.3+, go.mod 1.26.0", GO_1_26, True),
    GoRedis("0.9.0-beta.17", "v9.21.0", "1.26.5, go.mod 1.26.0", GO_1_26, True),
)


def go_redis_for(omnia_version: str) -> GoRedis:
    """The row an Omnia version behaves like; release_for's ValueError for one older than
    any release (GO_REDIS starts at the oldest)."""
    release_for(omnia_version)
    parsed = parse_version(omnia_version)
    return [row for row in GO_REDIS if parse_version(row.first) <= parsed][-1]


@dataclass(frozen=True)
class TLS:
    """`tls.Config` of a `rediss://` URL: the system CAs verify the server (RootCAs nil)."""

    server_name: str  # the URL's host, unbracketed
    insecure_skip_verify: bool
    min_version: str = "1.2"


@dataclass(frozen=True)
class Options:
    """The `redis.Options` fields ParseURL sets. Durations are Go nanoseconds; -1 disables."""

    network: Literal["tcp", "unix"]
    addr: str  # host:port as JoinHostPort built it, or the socket path
    host: str | None  # what the addr was built from (tcp only)
    port: str | None
    username: str
    password: str
    db: int
    tls: TLS | None
    protocol: int = 0  # 0: NewClient's default (RESP3)
    client_name: str = ""
    max_retries: int = 0
    min_retry_backoff: int = 0
    max_retry_backoff: int = 0
    dial_timeout: int = 0
    read_timeout: int = 0
    write_timeout: int = 0
    pool_fifo: bool = False
    pool_size: int = 0
    pool_timeout: int = 0
    min_idle_conns: int = 0
    max_idle_conns: int = 0
    max_active_conns: int = 0
    max_concurrent_dials: int = 0
    conn_max_idle_time: int = 0
    conn_max_lifetime: int = 0
    conn_max_lifetime_jitter: int = 0
    skip_verify_value: str | None = None  # what `skip_verify` said, read or not
    url_host: str | None = None  # net/url's Host, before SplitHostPort (tcp only)


# What queryOptions.bool reads as true and as false; any other value is its error.
BOOL_TRUE: tuple[bytes, ...] = (b"true", b"1")
BOOL_FALSE: tuple[bytes, ...] = (b"false", b"0", b"")


class GoRedisURLError(ValueError):
    """ParseURL's error as go-redis returns it (`go_text`); `url_error` when net/url failed."""

    def __init__(self, go_text: str, url_error: URLError | None = None) -> None:
        super().__init__(go_text)
        self.go_text = go_text
        self.url_error = url_error


class _Query:
    """go-redis's `queryOptions`: each read deletes the key; the first bad value is kept."""

    def __init__(self, values: dict[bytes, list[bytes]]) -> None:
        self.values = values
        self.err: str | None = None

    def has(self, name: bytes) -> bool:
        return len(self.values.get(name, [])) > 0

    def string(self, name: bytes) -> bytes:
        found = self.values.get(name, [])
        if not found:
            return b""
        del self.values[name]
        return found[-1]  # the last of a repeated option wins

    def text(self, name: bytes) -> str:
        return from_go(self.string(name))

    def _fail(self, text: str) -> None:
        if self.err is None:
            self.err = text

    def integer(self, name: bytes) -> int:
        s = self.string(name)
        if not s:
            return 0
        try:
            return atoi(s)
        except GoNumError as bad:
            self._fail(f"redis: invalid {from_go(name)} number: {bad}")
            return 0

    def duration(self, name: bytes) -> int:
        """A plain integer is seconds (<= 0 disables: -1), else Go's ParseDuration."""
        s = self.string(name)
        if not s:
            return 0
        try:
            seconds = atoi(s)
        except GoNumError:
            pass
        else:
            return -1 if seconds <= 0 else wrap_int64(seconds * 1_000_000_000)
        try:
            return parse_go_duration(from_go(s))
        except DurationError as bad:
            self._fail(f"redis: invalid {from_go(name)} duration: {bad.go_text}")
            return 0

    def boolean(self, name: bytes) -> bool:
        s = self.string(name)
        if s in BOOL_TRUE:
            return True
        if s in BOOL_FALSE:
            return False
        self._fail(
            f"redis: invalid {from_go(name)} boolean: expected true/false/1/0 or an empty "
            f"string, got {quote(s)}"
        )
        return False


def _user_password(user: Userinfo | None) -> tuple[str, str]:
    """go-redis's `getUserPassword`: no userinfo, no password: both empty."""
    if user is None:
        return "", ""
    return from_go(user.username), from_go(user.password) if user.password_set else ""


def parse_url(url: str, go_redis: GoRedis) -> Options:
    """`redis.ParseURL(url)` as that go-redis, built by that Go, runs it."""
    try:
        parsed = parse(to_go(url), go_redis.url_rules)
    except URLError as bad:
        raise GoRedisURLError(str(bad), bad) from None
    username, password = _user_password(parsed.user)
    network: Literal["tcp", "unix"] = "tcp"
    host: str | None = None
    port: str | None = None
    url_host: str | None = None
    db = 0
    if parsed.scheme in (b"redis", b"rediss"):
        split = split_host_port(parsed.host)
        raw_host, raw_port = split if split is not None else (parsed.host, b"")
        raw_host, raw_port = raw_host or b"localhost", raw_port or b"6379"
        fields = [f for f in parsed.path.split(b"/") if f]
        if len(fields) == 1:
            try:
                db = atoi(fields[0])
            except GoNumError:
                raise GoRedisURLError(
                    f"redis: invalid database number: {quote(fields[0])}"
                ) from None
        elif len(fields) > 1:
            raise GoRedisURLError(f"redis: invalid URL path: {from_go(parsed.path)}")
        addr = from_go(join_host_port(raw_host, raw_port))
        host, port, url_host = from_go(raw_host), from_go(raw_port), from_go(parsed.host)
    elif parsed.scheme == b"unix":
        if is_blank(parsed.path):  # the socket path is required
            raise GoRedisURLError("redis: empty unix socket path")
        network, addr = "unix", from_go(parsed.path)
    else:
        raise GoRedisURLError(f"redis: invalid URL scheme: {from_go(parsed.scheme)}")
    server = Options(
        network=network,
        addr=addr,
        host=host,
        port=port,
        username=username,
        password=password,
        db=db,
        tls=TLS(server_name=host or "", insecure_skip_verify=False)
        if parsed.scheme == b"rediss"
        else None,
        url_host=url_host,
    )
    return _conn_params(query(parsed.raw_query, go_redis.url_rules), go_redis, server)


# setupConnParams's reads after `db`, in its order (the first bad value is the error); each
# name is both the query option and the Options field.
_PARAMS: tuple[tuple[str, Callable[[_Query, bytes], int | str | bool]], ...] = (
    ("protocol", _Query.integer),
    ("client_name", _Query.text),
    ("max_retries", _Query.integer),
    ("min_retry_backoff", _Query.duration),
    ("max_retry_backoff", _Query.duration),
    ("dial_timeout", _Query.duration),
    ("read_timeout", _Query.duration),
    ("write_timeout", _Query.duration),
    ("pool_fifo", _Query.boolean),
    ("pool_size", _Query.integer),
    ("pool_timeout", _Query.duration),
    ("min_idle_conns", _Query.integer),
    ("max_idle_conns", _Query.integer),
    ("max_active_conns", _Query.integer),
    ("max_concurrent_dials", _Query.integer),
)


def _conn_params(values: dict[bytes, list[bytes]], go_redis: GoRedis, server: Options) -> Options:
    """go-redis's `setupConnParams` on what the URL's address part set, in its order."""
    given = values.get(b"skip_verify")
    skip_verify_value = from_go(given[-1]) if given else None
    q = _Query(values)
    db = server.db
    given_db = q.string(b"db")  # read apart, its error returned at once
    if given_db:
        try:
            db = atoi(given_db)
        except GoNumError as bad:
            raise GoRedisURLError(f"redis: invalid database number: {bad}") from None
    read: dict[str, Any] = {field: kind(q, field.encode()) for field, kind in _PARAMS}
    # The old names are read only when the new one is absent (and are unexpected otherwise).
    idle = b"conn_max_idle_time" if q.has(b"conn_max_idle_time") else b"idle_timeout"
    conn_max_idle_time = q.duration(idle)
    lifetime = b"conn_max_lifetime" if q.has(b"conn_max_lifetime") else b"max_conn_age"
    conn_max_lifetime = q.duration(lifetime)
    jitter = 0
    if go_redis.lifetime_jitter and q.has(b"conn_max_lifetime_jitter"):
        jitter = min(q.duration(b"conn_max_lifetime_jitter"), conn_max_lifetime)
    if q.err is not None:
        raise GoRedisURLError(q.err)
    tls = server.tls
    if tls is not None and q.has(b"skip_verify"):
        # A bad value sets q.err, never checked again: the certificate is verified.
        tls = replace(tls, insecure_skip_verify=q.boolean(b"skip_verify"))
    left = sorted(q.values)
    if left:
        names = ", ".join(from_go(name) for name in left)
        raise GoRedisURLError(f"redis: unexpected option: {names}")
    return replace(
        server,
        db=db,
        tls=tls,
        conn_max_idle_time=conn_max_idle_time,
        conn_max_lifetime=conn_max_lifetime,
        conn_max_lifetime_jitter=jitter,
        skip_verify_value=skip_verify_value,
        **read,
    )
