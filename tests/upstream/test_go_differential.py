"""The Go ports (upstream/go_url.py, go_text.py, go_duration.py) against a real Go build.

tests/support/go_probe/main.go asks Go's own net/url, strconv, time, net and net/netip; the
same inputs go through the Python ports; every field and every error text must match. Go
1.26.5 built twice: with go.mod `go 1.26.0` (beta.13 on) and `go 1.25.6` (beta.1-beta.9),
whose GODEBUG defaults differ. GO_PROBE_GOROOT=<Go 1.25.5> checks the alphas' rules.
"""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.support.go_probe import GoProbe, go_version, goroot, unb64
from upstream.go_duration import DurationError, parse_go_duration
from upstream.go_redis_url import GO_REDIS
from upstream.go_text import GoNumError, atoi, from_go, is_blank, quote, runes
from upstream.go_url import (
    AddrError,
    URLError,
    UrlRules,
    join_host_port,
    parse,
    parse_addr,
    query,
    split_host_port,
)

# go.mod `go` line -> the net/url rules a runtime built for it follows (GO_REDIS's rows).
RULES_BY_GO_MOD_LINE: dict[str, UrlRules] = {
    row.go.partition("go.mod ")[2]: row.url_rules for row in GO_REDIS
}


def _builds(version: str) -> list[tuple[str, UrlRules]]:
    """(go.mod line, the rules it means) for the toolchain at hand, newest line first."""
    if version == "1.25.5":  # the alphas' toolchain
        lines = ["1.25.1"]
    else:  # every beta's: 1.26.2 or later
        assert version.startswith("1.26.") and int(version.split(".")[2]) >= 2, version
        lines = ["1.26.0", "1.25.6"]
    return [(line, RULES_BY_GO_MOD_LINE[line]) for line in lines]


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[GoProbe, UrlRules]]]:
    """One probe per go.mod line (the standard library is compiled once, for both). The
    toolchain is looked up here, never at collection: a missing one skips (fails with CI)."""
    workdir = tmp_path_factory.mktemp("go")
    built = [
        (GoProbe(workdir / f"probe-{line}", line), rules)
        for line, rules in _builds(go_version(goroot()))
    ]
    yield built
    for go, _ in built:
        go.close()


# Fixed at collection (no toolchain lookup there): a toolchain with one build skips the second.
@pytest.fixture(params=[0, 1], ids=["go.mod-newest", "go.mod-older"])
def probe(
    request: pytest.FixtureRequest, probes: list[tuple[GoProbe, UrlRules]]
) -> tuple[GoProbe, UrlRules]:
    """Each build, for what GODEBUG defaults change (net/url)."""
    index: int = request.param
    if index >= len(probes):
        pytest.skip(f"this toolchain builds {len(probes)} go.mod line(s) only")
    return probes[index]


@pytest.fixture
def go(probes: list[tuple[GoProbe, UrlRules]]) -> GoProbe:
    """Any build, for what no GODEBUG setting changes."""
    return probes[0][0]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def py_parse(data: bytes, rules: UrlRules) -> dict[str, Any]:
    """The port's answer in the probe's shape."""
    try:
        url = parse(data, rules)
    except URLError as bad:
        return {"err": b64(str(bad).encode("utf-8", "surrogateescape"))}
    out: dict[str, Any] = {
        "scheme": b64(url.scheme),
        "opaque": b64(url.opaque),
        "host": b64(url.host),
        "path": b64(url.path),
        "raw_query": b64(url.raw_query),
        "fragment": b64(url.fragment),
        "query": [
            [b64(k), [b64(v) for v in vs]] for k, vs in sorted(query(url.raw_query, rules).items())
        ],
    }
    if url.user is not None:
        out["user"] = [b64(url.user.username), b64(url.user.password), url.user.password_set]
    return out


# Pieces URLs are made of: every delimiter net/url knows, escapes good and bad, hosts of each
# kind, non-ASCII and invalid UTF-8, control bytes.
URL_PIECES = [
    *(bytes([c]) for c in b"aZ09.-_~:/?#[]@%+&=;!$'()*, \"<>^`{|}\\"),
    b"%2",
    b"%25",
    b"%zz",
    b"%41",
    b"%2F",
    b"%3A",
    b"%40",
    b"%00",
    b"%7f",
    b"%C3%A9",
    b"%ff",
    "é".encode(),
    "\u00a0".encode(),
    b"\xff",
    b"\xc3",
    b"\x7f",
    b"\x01",
    b"\t",
    b"localhost",
    b"6379",
    b"::1",
    b"[::1]",
    b"[fe80::1%25en0]",
    b"1.2.3.4",
    b"[1.2.3.4]",
    b"[::ffff:1.2.3.4]",
    b"user",
    b"pass",
    b"db=",
    b"skip_verify=true",
    b"&",
]
SCHEMES = [b"redis://", b"rediss://", b"unix://", b"REDIS://", b"redis:", b"http://", b"", b"//"]
urls = st.builds(
    lambda scheme, pieces: scheme + b"".join(pieces),
    st.sampled_from(SCHEMES),
    st.lists(st.sampled_from(URL_PIECES), max_size=24),
)
MANY = settings(
    max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SOME = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@MANY
@given(data=urls)
@example(data=b"redis://a[::1]:6379")  # Go 1.26.1+: invalid IP-literal; 1.25 drops the `a`
@example(data=b"redis://h:1:2")  # the last colon starts the port, for redis://
@example(data=b"http://h:1:2")  # strict for http only with go.mod 1.26
@example(data=b"redis://[::1]")
@example(data=b"redis://[1.2.3.4]:1")
@example(data=b"redis://[fe80::1%25en0]:1/2")
@example(data=b"redis://[fe80::1%25%41]:1")
@example(data=b"redis://[fe80::1%25%2F]:1")
@example(data=b"redis://:p%zz@h")
@example(data=b"redis://:p@ss@h")
@example(data=b"redis://:pa/ss@h")
@example(data=b"redis://h/?a=1;b=2&c=3")
@example(data=b"redis://h/?a=%zz&b=%41&c+d=e+f")
@example(data=b"redis://h/?" + b"&" * 10000)  # 10001 parameters: past Go's limit
@example(data=b"redis://h/?a=1" + b"&" * 9999)  # exactly 10000
@example(data=b"redis://h#%zz")
@example(data=b"redis://h#\x01")
@example(data=b"redis:h")
@example(data=b"unix:/tmp/s")
@example(data=b"*")
@example(data=b":x")
@example(data=b"redis://h%41")
@example(data=b"redis://h%c3%a9")
@example(data=b"redis://us er@h")
@example(data=b"redis://h?")
@example(data=b"redis://h??")
def test_url_parse_and_query_match_go(probe: tuple[GoProbe, UrlRules], data: bytes) -> None:
    go, rules = probe
    assert py_parse(data, rules) == go.ask("parse", data)


def py_atoi(data: bytes) -> dict[str, Any]:
    try:
        return {"value": str(atoi(data))}
    except GoNumError as bad:
        return {"err": b64(str(bad).encode())}


NUMBERS = st.one_of(
    st.binary(max_size=6),
    st.from_regex(rb"\A[+-]?[0-9]{0,25}[a_x]?[0-9]{0,3}\Z"),
    st.sampled_from(
        [
            b"9223372036854775807",
            b"9223372036854775808",
            b"-9223372036854775808",
            b"-9223372036854775809",
            b"+000000000000000000000001",
            b"18446744073709551616x",
            b"1_000",
            b"0x10",
            b"\xff1",
        ]
    ),
)


@SOME
@given(data=NUMBERS)
def test_atoi_matches_go(go: GoProbe, data: bytes) -> None:
    assert py_atoi(data) == go.ask("atoi", data)


TEXT = st.one_of(
    st.binary(max_size=12),
    st.text(max_size=8).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\xef\xbf\xbd", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", "\U0001f600".encode()]),
)


@SOME
@given(data=TEXT)
def test_quote_and_whitespace_match_go(go: GoProbe, data: bytes) -> None:
    # Python 3.11 knows Unicode 14.0, Go 1.26 15.0: a character new in 15.0 is the one
    # documented difference (is_print), in the text of a message only.
    assume(not any(unicodedata.category(chr(r)) == "Cn" for _, r, w in runes(data) if w > 1))
    assert quote(data) == unb64(go.ask("quote", data)["value"]).decode()
    assert is_blank(data) == go.ask("blank", data)["value"]


def py_duration(data: bytes) -> dict[str, Any]:
    try:
        return {"value": str(parse_go_duration(from_go(data)))}
    except DurationError as bad:
        return {"err": b64(bad.go_text.encode())}


INT64_EDGES = [b"9223372036854775807ns", b"9223372036854775808ns", b"-9223372036854775808ns"]
DURATIONS = st.one_of(
    st.from_regex(rb"\A[+-]?([0-9]{0,21}(\.[0-9]{0,3})?(ns|us|ms|s|m|h|d|x|\xc2\xb5s)?){1,3}\Z"),
    st.binary(max_size=8),
    st.sampled_from(INT64_EDGES),
)


@SOME
@given(data=DURATIONS)
def test_parse_duration_matches_go(go: GoProbe, data: bytes) -> None:
    assert py_duration(data) == go.ask("duration", data)


HOSTPORTS = st.lists(st.sampled_from([b"h", b":", b"[", b"]", b"1", b"::1", b"%"]), max_size=8)


@SOME
@given(pieces=HOSTPORTS)
def test_split_and_join_host_port_match_go(go: GoProbe, pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    answer = go.ask("split", data)
    split = split_host_port(data)
    if split is None:
        assert "err" in answer
    else:
        assert (b64(split[0]), b64(split[1])) == (answer["host"], answer["port"])
    assert join_host_port(data, b"1") == unb64(go.ask("join", data + b"\x001")["value"])


ADDRESSES = st.lists(
    st.sampled_from([b"1", b"ff", b"12345", b"0", b"00", b"256", b".", b":", b"::", b"%", b"e0"]),
    max_size=12,
).map(b"".join)


@SOME
@given(data=ADDRESSES)
@example(data=b"::ffff:1.2.3.4")
@example(data=b"1:2:3:4:5:6:1.2.3.4")
@example(data=b"1:2:3:4:5:6:7::")
@example(data=b"fe80::1%")
def test_parse_addr_matches_go(go: GoProbe, data: bytes) -> None:
    answer = go.ask("addr", data)
    try:
        assert {"is4": parse_addr(data)} == answer
    except AddrError as bad:
        assert {"err": b64(str(bad).encode())} == answer
