"""An external store's URL, judged as the agents of an Omnia release will use it (pure).

`judge_store_url` says what the runtime would refuse (go-redis's error: the agent exits and
crash-loops) or could not use, and warns where it works but not as a user expects. Nothing it
says contains the URL or a part of its user name or password: the value is a Pulumi secret, and
whoever reads a plan or a CI log must not learn it. go-redis's own text quotes the whole URL
when net/url refuses it; that quote is replaced by `[secret]`.
"""

from __future__ import annotations

from dataclasses import dataclass

from upstream.go_redis_url import (
    BOOL_FALSE,
    BOOL_TRUE,
    GoRedisURLError,
    Options,
    go_redis_for,
    parse_url,
)
from upstream.go_text import from_go, to_go
from upstream.go_url import URLError
from upstream.omnia_releases import RELEASES, release_for
from upstream.pulumi_config import SECRET_SHOWN

SECRET = SECRET_SHOWN  # in place of the URL wherever a message would quote it
# In-cluster Service names (Kubernetes DNS: <svc>.<ns>.svc[.cluster.local]).
IN_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
# skip_verify absent, or a value go-redis's queryOptions.bool reads.
_BOOLEANS = (None, *map(from_go, BOOL_TRUE + BOOL_FALSE))
# redis.conf `databases`: 16 unless the server says otherwise.
REDIS_DATABASES = 16
# The oldest release whose facade keeps the URL's TLS and user name (the fix to suggest).
_FACADE_KEEPS_FROM = next(r.first for r in RELEASES if r.facade_keeps_tls_and_user)


@dataclass(frozen=True)
class UrlVerdict:
    """`problems` stop the plan (exit 2); `warnings` are printed. Both are safe to print."""

    options: Options | None
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def _printable(text: str) -> str:
    """Go prints raw bytes; bad UTF-8 is shown as Go's replacement, never as a crash."""
    return to_go(text).decode("utf-8", "replace")


def _authority_end(raw: bytes) -> tuple[bytes, bytes] | None:
    """The authority (`//` up to `/`, `?` or `#`) and what follows, as net/url splits them."""
    before, sep, frag = raw.partition(b"#")
    rest, qsep, query = before.partition(b"?")
    scheme_end = rest.find(b":")
    after = rest[scheme_end + 1 :] if scheme_end >= 0 else rest
    if not after.startswith(b"//"):
        return None
    authority, slash, path = after[2:].partition(b"/")
    return authority, slash + path + qsep + query + sep + frag


def at_outside_authority(url: str) -> bool:
    """An `@` past the host part: a `/`, `?` or `#` left raw in the user name or password
    has cut it short, and the rest of the secret sits in the path, query or fragment."""
    raw = to_go(url)
    split = _authority_end(raw)
    if split is None:
        return b"@" in raw
    return b"@" in split[1]


def masked_error(refused: GoRedisURLError) -> str:
    """go-redis's error with the URL and any quote of the user name or password masked."""
    bad: URLError | None = refused.url_error
    if bad is None:
        return _printable(refused.go_text)  # after the @ check: nothing from the userinfo
    reason = f'invalid URL escape "{SECRET}"' if bad.from_userinfo else bad.reason
    return _printable(f'parse "{SECRET}": {reason}')


def _host_problem(options: Options) -> str | None:
    """An address the runtime cannot dial, though ParseURL built one. (A bracketed host that
    is not an IPv6 address never gets here: net/url refuses it.)"""
    host, port = options.host or "", options.port or ""
    if "[" in host or (":" in host and not (options.url_host or "").startswith("[")):
        return (
            "its host is not one address the runtime can dial (go-redis builds "
            f"{_printable(options.addr)!r}): put an IPv6 address in brackets, with a port"
        )
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return f"port {_printable(port)!r}: the runtime's dial fails (a TCP port is 1-65535)"
    return None


def _warnings(options: Options) -> list[str]:
    found = []
    host = (options.host or "").lower().rstrip(".")
    if host in LOOPBACK:
        found.append("its host is the agent's own pod (localhost): no store listens there")
    elif options.tls is None and not host.endswith(IN_CLUSTER_SUFFIXES):
        found.append(
            "redis:// to a host outside the cluster (not *.svc or *.svc.cluster.local): "
            "sessions and the password travel in clear; use rediss://"
        )
    if options.tls is not None and options.tls.insecure_skip_verify:
        found.append(
            "skip_verify=true: the runtime does not check the server's certificate, so whoever "
            "can intercept the connection can pose as the store and read sessions and password"
        )
    elif options.tls is not None and options.skip_verify_value not in _BOOLEANS:
        found.append(
            "skip_verify has a value go-redis does not read as a boolean (true/1, false/0): "
            "it is ignored and the certificate verified"
        )
    if options.username and not options.password:
        found.append(
            "a user name without a password is never sent (go-redis authenticates only with a "
            "password): the runtime connects as the default user"
        )
    if options.db < 0:
        found.append(f"DB {options.db}: go-redis selects no DB below 1, the runtime uses DB 0")
    elif options.db >= REDIS_DATABASES:
        found.append(
            f"DB {options.db}: SELECT fails unless the server has more than {REDIS_DATABASES} "
            "databases (redis.conf `databases`), and the runtime exits"
        )
    return found


def judge_store_url(url: str, omnia_version: str) -> UrlVerdict:
    """What the targeted release's agents do with `url`."""
    row = go_redis_for(omnia_version)
    if at_outside_authority(url):
        return UrlVerdict(
            None,
            problems=(
                "it has an '@' after its host part: in a user name or password, '@', '/', '?' "
                "and '#' must be percent-encoded (%40, %2F, %3F, %23)",
            ),
        )
    try:
        options = parse_url(url, row)
    except GoRedisURLError as refused:
        return UrlVerdict(
            None,
            problems=(
                f"the runtime of Omnia {omnia_version} (go-redis {row.version}) refuses it and "
                f"exits: {masked_error(refused)}",
            ),
        )
    if options.network == "unix":
        return UrlVerdict(
            options, problems=("a unix socket is in the agent's own pod: no store is there",)
        )
    problems = []
    found = _host_problem(options)
    if found:
        problems.append(found)
    if not release_for(omnia_version).facade_keeps_tls_and_user:
        dropped = []
        if options.tls is not None:
            dropped.append("TLS (it would talk plain Redis to a TLS port)")
        if options.username not in ("", "default"):
            dropped.append("the user name (it would log in as the default user)")
        if dropped:
            problems.append(
                f"Omnia {omnia_version}'s facade connects with the address, password and DB "
                f"only (internal/session/redis.go) and drops {' and '.join(dropped)}: it cannot "
                f"reach the store and exits; use Omnia {_FACADE_KEEPS_FROM} or later"
            )
    return UrlVerdict(options, tuple(problems), tuple(_warnings(options)))
