"""Go's `net/url.Parse` and `URL.Query`, the first step of go-redis's `ParseURL`.

Read from `src/net/url/url.go` (and `net/netip/netip.go` for bracketed hosts, `net/ipsock.go`
for `SplitHostPort`/`JoinHostPort`) of the toolchains that built Omnia's runtime images:
Go 1.25.5 (alpha) and Go 1.26.2-1.26.5 (every beta). Where those differ, `UrlRules` says so.
Everything works on bytes, as Go strings are bytes; the tests compare it with a real Go build.
"""

from __future__ import annotations

from dataclasses import dataclass

from upstream.go_text import quote

# Go's `encoding` modes (which part of a URL is being escaped or unescaped).
_PATH, _PATH_SEGMENT, _HOST, _ZONE, _USER_PASSWORD, _QUERY, _FRAGMENT = range(1, 8)


@dataclass(frozen=True)
class UrlRules:
    """Where the Go releases that built Omnia's runtime parse a URL differently."""

    bracket_must_lead: bool
    """Go 1.26.1+: a `[` past the host's first byte is `invalid IP-literal`; Go 1.25 parses
    the bracketed part and drops what precedes it."""
    strict_http_colons: bool
    """Go 1.26.2+ built for a go.mod saying `go 1.26` (GODEBUG urlstrictcolons=1): an http(s)
    host takes its port after the first colon. Every other scheme, in every build here, after
    the last colon (1.26.2 limited the strict rule to http and https, go.dev/issue/78077)."""
    max_query_params: int | None
    """Go 1.25.6+/1.26 (GODEBUG urlmaxqueryparams, on for go.mod >= 1.24): a query with more
    parameters fails ParseQuery whole, and `URL.Query()` drops the error: no options at all."""


@dataclass(frozen=True)
class Userinfo:
    username: bytes
    password: bytes
    password_set: bool


@dataclass(frozen=True)
class URL:
    """The fields of Go's `url.URL` go-redis reads (Path decoded, RawQuery not)."""

    scheme: bytes
    opaque: bytes
    user: Userinfo | None
    host: bytes
    path: bytes
    raw_query: bytes
    fragment: bytes


class URLError(ValueError):
    """`*url.Error`: `parse "<url>": <reason>`; the URL is quoted whole, password and all."""

    def __init__(self, url: bytes, reason: str, from_userinfo: bool) -> None:
        self.url = url
        self.reason = reason
        self.from_userinfo = from_userinfo  # the reason quotes bytes of the userinfo
        super().__init__(f"parse {quote(url)}: {reason}")


class _FailError(Exception):
    def __init__(self, reason: str, from_userinfo: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.from_userinfo = from_userinfo


def _is_alnum(c: int) -> bool:
    return 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A or 0x30 <= c <= 0x39


def _ishex(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x61 <= c <= 0x66 or 0x41 <= c <= 0x46


def should_escape(c: int, mode: int) -> bool:
    """Go's `shouldEscape` (RFC 3986 with Go's exceptions)."""
    if _is_alnum(c):
        return False
    if mode in (_HOST, _ZONE) and c in b"!$&'()*+,;=:[]<>\"":
        return False
    if c in b"-_.~":
        return False
    if c in b"$&+,/:;=?@":
        if mode == _PATH:
            return c == 0x3F
        if mode == _PATH_SEGMENT:
            return c in b"/;,?"
        if mode == _USER_PASSWORD:
            return c in b"@/?:"
        if mode == _QUERY:
            return True
        if mode == _FRAGMENT:
            return False
    return not (mode == _FRAGMENT and c in b"!()*")


def _escape_error(s: bytes, from_userinfo: bool = False) -> _FailError:
    return _FailError("invalid URL escape " + quote(s), from_userinfo)


def unescape(s: bytes, mode: int, from_userinfo: bool = False) -> bytes:
    """Go's `unescape`: `%XX` decoding, `+` as space in queries, host byte rules."""
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x25:  # %
            if i + 2 >= len(s) or not _ishex(s[i + 1]) or not _ishex(s[i + 2]):
                raise _escape_error(s[i : i + 3], from_userinfo)
            # In a host, %-encoding only for non-ASCII bytes, and %25 (RFC 6874 zones).
            if mode == _HOST and int(s[i + 1 : i + 2], 16) < 8 and s[i : i + 3] != b"%25":
                raise _escape_error(s[i : i + 3])
            if mode == _ZONE:
                v = int(s[i + 1 : i + 3], 16)
                if s[i : i + 3] != b"%25" and v != 0x20 and should_escape(v, _HOST):
                    raise _escape_error(s[i : i + 3])
            i += 3
        else:
            if mode in (_HOST, _ZONE) and c < 0x80 and c != 0x2B and should_escape(c, mode):
                raise _FailError("invalid character " + quote(bytes([c])) + " in host name")
            i += 1
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x25:
            out.append(int(s[i + 1 : i + 3], 16))
            i += 3
            continue
        out.append(0x20 if c == 0x2B and mode == _QUERY else c)
        i += 1
    return bytes(out)


def query_unescape(s: bytes) -> bytes:
    return unescape(s, _QUERY)


def _get_scheme(raw: bytes) -> tuple[bytes, bytes]:
    for i, c in enumerate(raw):
        if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A:
            continue
        if 0x30 <= c <= 0x39 or c in b"+-.":
            if i == 0:
                return b"", raw
            continue
        if c == 0x3A:  # :
            if i == 0:
                raise _FailError("missing protocol scheme")
            return raw[:i], raw[i + 1 :]
        return b"", raw  # no valid scheme
    return b"", raw


def _valid_optional_port(port: bytes) -> bool:
    if not port:
        return True
    return port[:1] == b":" and all(0x30 <= c <= 0x39 for c in port[1:])


def _valid_userinfo(s: bytes) -> bool:
    """Go's `validUserinfo`, per rune: anything non-ASCII (or bad UTF-8) is invalid."""
    return all(c < 0x80 and (_is_alnum(c) or c in b"-._:~!$&'()*+,;=%@") for c in s)


def _parse_host(scheme: bytes, host: bytes, rules: UrlRules) -> bytes:
    open_bracket = host.rfind(b"[")
    if open_bracket > 0 and rules.bracket_must_lead:
        raise _FailError("invalid IP-literal")
    if open_bracket != -1:
        close_bracket = host.rfind(b"]")
        if close_bracket < 0:
            raise _FailError("missing ']' in host")
        colon_port = host[close_bracket + 1 :]
        if not _valid_optional_port(colon_port):
            raise _FailError(f"invalid port {quote(colon_port)} after host")
        hostname = host[open_bracket + 1 : close_bracket]
        zone = hostname.find(b"%25")
        if zone >= 0:
            literal = unescape(hostname[:zone], _HOST) + unescape(hostname[zone:], _ZONE)
        else:
            literal = unescape(hostname, _HOST)
        try:
            is4 = parse_addr(literal)
        except AddrError as bad:
            raise _FailError(f"invalid host: {bad}") from None
        if is4:
            raise _FailError("invalid IP-literal")
        return b"[" + literal + b"]" + colon_port
    first = host.find(b":")
    if first != -1:
        strict = rules.strict_http_colons and scheme in (b"http", b"https")
        colon_port = host[first if strict else host.rfind(b":") :]
        if not _valid_optional_port(colon_port):
            raise _FailError(f"invalid port {quote(colon_port)} after host")
    return unescape(host, _HOST)


def _parse_authority(
    scheme: bytes, authority: bytes, rules: UrlRules
) -> tuple[Userinfo | None, bytes]:
    at = authority.rfind(b"@")
    host = _parse_host(scheme, authority[at + 1 :] if at >= 0 else authority, rules)
    if at < 0:
        return None, host
    userinfo = authority[:at]
    if not _valid_userinfo(userinfo):
        raise _FailError("net/url: invalid userinfo")
    if b":" not in userinfo:
        return Userinfo(unescape(userinfo, _USER_PASSWORD, True), b"", False), host
    username, _, password = userinfo.partition(b":")
    return (
        Userinfo(
            unescape(username, _USER_PASSWORD, True),
            unescape(password, _USER_PASSWORD, True),
            True,
        ),
        host,
    )


def _parse(raw: bytes, rules: UrlRules) -> URL:
    if any(c < 0x20 or c == 0x7F for c in raw):
        raise _FailError("net/url: invalid control character in URL")
    if raw == b"*":
        return URL(b"", b"", None, b"", b"*", b"", b"")
    scheme, rest = _get_scheme(raw)
    scheme = scheme.lower()
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        rest, raw_query = rest[:-1], b""  # ForceQuery
    else:
        rest, _, raw_query = rest.partition(b"?")
    if not rest.startswith(b"/"):
        if scheme:
            return URL(scheme, rest, None, b"", b"", raw_query, b"")  # rootless: opaque
        if b":" in rest.partition(b"/")[0]:
            raise _FailError("first path segment in URL cannot contain colon")
    user, host = None, b""
    if (scheme or not rest.startswith(b"///")) and rest.startswith(b"//"):
        authority, rest = rest[2:], b""
        slash = authority.find(b"/")
        if slash >= 0:
            authority, rest = authority[:slash], authority[slash:]
        user, host = _parse_authority(scheme, authority, rules)
    return URL(scheme, b"", user, host, unescape(rest, _PATH), raw_query, b"")


def parse(raw: bytes, rules: UrlRules) -> URL:
    """`url.Parse`; URLError as Go reports it."""
    before, _, frag = raw.partition(b"#")
    try:
        url = _parse(before, rules)
    except _FailError as fail:
        raise URLError(before, fail.reason, fail.from_userinfo) from None
    if not frag:
        return url
    try:
        fragment = unescape(frag, _FRAGMENT)
    except _FailError as fail:
        raise URLError(raw, fail.reason, fail.from_userinfo) from None
    return URL(url.scheme, url.opaque, url.user, url.host, url.path, url.raw_query, fragment)


def query(raw_query: bytes, rules: UrlRules) -> dict[bytes, list[bytes]]:
    """`URL.Query()`: ParseQuery with its error dropped, so a bad pair is silently skipped
    (a `;` in it, a bad `%` escape) and over the parameter limit nothing is kept."""
    values: dict[bytes, list[bytes]] = {}
    limit = rules.max_query_params
    if limit is not None and raw_query.count(b"&") + 1 > limit:
        return values
    for pair in raw_query.split(b"&") if raw_query else []:
        if b";" in pair or not pair:
            continue
        key, _, value = pair.partition(b"=")
        try:
            key, value = query_unescape(key), query_unescape(value)
        except _FailError:
            continue
        values.setdefault(key, []).append(value)
    return values


def split_host_port(hostport: bytes) -> tuple[bytes, bytes] | None:
    """`net.SplitHostPort`; None where Go returns an error (go-redis ignores which)."""
    i = hostport.rfind(b":")
    if i < 0:
        return None
    j = k = 0
    if hostport[:1] == b"[":
        end = hostport.find(b"]")
        if end < 0 or end + 1 != i:
            return None  # missing ']', missing port, or too many colons
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if b":" in host:
            return None
    if b"[" in hostport[j:] or b"]" in hostport[k:]:
        return None
    return host, hostport[i + 1 :]


def join_host_port(host: bytes, port: bytes) -> bytes:
    """`net.JoinHostPort`: a host with a colon is taken for IPv6 and bracketed."""
    return b"[" + host + b"]:" + port if b":" in host else host + b":" + port


class AddrError(ValueError):
    """`netip.ParseAddr`'s error text."""

    def __init__(self, given: bytes, msg: str, at: bytes = b"") -> None:
        text = f"ParseAddr({quote(given)}): {msg}"
        super().__init__(text + (f" (at {quote(at)})" if at else ""))


def _ipv4_fields(given: bytes, off: int, end: int) -> None:
    s = given[off:end]
    val = pos = digits = 0
    for i, c in enumerate(s):
        if 0x30 <= c <= 0x39:
            if digits == 1 and val == 0:
                raise AddrError(given, "IPv4 field has octet with leading zero")
            val = val * 10 + c - 0x30
            digits += 1
            if val > 255:
                raise AddrError(given, "IPv4 field has value >255")
        elif c == 0x2E:  # .
            if i == 0 or i == len(s) - 1 or s[i - 1] == 0x2E:
                raise AddrError(given, "IPv4 field must have at least one digit", s[i:])
            if pos == 3:
                raise AddrError(given, "IPv4 address too long")
            pos += 1
            val = digits = 0
        else:
            raise AddrError(given, "unexpected character", s[i:])
    if pos < 3:
        raise AddrError(given, "IPv4 address too short")


def _ipv6(given: bytes) -> None:
    s, zone = given, b""
    percent = s.find(b"%")
    if percent != -1:
        s, zone = s[:percent], s[percent + 1 :]
        if not zone:
            raise AddrError(given, "zone must be a non-empty string")
    ellipsis = -1
    if s[:2] == b"::":
        ellipsis, s = 0, s[2:]
        if not s:
            return
    i = 0
    while i < 16:
        off, acc = 0, 0
        while off < len(s) and _ishex(s[off]):
            acc = (acc << 4) + int(s[off : off + 1], 16)
            if off > 3:
                raise AddrError(given, "each group must have 4 or less digits", s)
            if acc > 0xFFFF:
                raise AddrError(given, "IPv6 field has value >=2^16", s)
            off += 1
        if off == 0:
            raise AddrError(given, "each colon-separated field must have at least one digit", s)
        if off < len(s) and s[off] == 0x2E:
            if ellipsis < 0 and i != 12:
                why = "embedded IPv4 address must replace the final 2 fields of the address"
                raise AddrError(given, why, s)
            if i + 4 > 16:
                why = "too many hex fields to fit an embedded IPv4 at the end of the address"
                raise AddrError(given, why, s)
            end = len(given) - (len(zone) + 1 if zone else 0)
            _ipv4_fields(given, end - len(s), end)
            s, i = b"", i + 4
            break
        i += 2
        s = s[off:]
        if not s:
            break
        if s[0] != 0x3A:
            raise AddrError(given, "unexpected character, want colon", s)
        if len(s) == 1:
            raise AddrError(given, "colon must be followed by more characters", s)
        s = s[1:]
        if s[0] == 0x3A:
            if ellipsis >= 0:
                raise AddrError(given, "multiple :: in address", s)
            ellipsis, s = i, s[1:]
            if not s:
                break
    if s:
        raise AddrError(given, "trailing garbage after address", s)
    if i < 16 and ellipsis < 0:
        raise AddrError(given, "address string too short")
    if i >= 16 and ellipsis >= 0:
        raise AddrError(given, "the :: must expand to at least one field of zeros")


def parse_addr(s: bytes) -> bool:
    """`netip.ParseAddr` for validity: True for IPv4, False for IPv6; AddrError otherwise."""
    for c in s:
        if c == 0x2E:
            _ipv4_fields(s, 0, len(s))
            return True
        if c == 0x3A:
            _ipv6(s)
            return False
        if c == 0x25:
            raise AddrError(s, "missing IPv6 address")
    raise AddrError(s, "unable to parse IP")
