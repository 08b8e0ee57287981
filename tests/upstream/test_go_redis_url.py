"""go-redis's ParseURL per Omnia release, on go-redis's own TestParseURL table
(../shared/go-redis-url/vectors.json, v9.21.0) and on the rules read off options.go."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.shared import SHARED, shared_file
from upstream.go_redis_url import (
    GO_REDIS,
    GoRedis,
    GoRedisURLError,
    Options,
    go_redis_for,
    parse_url,
)
from upstream.omnia_releases import NEWEST_KNOWN, OLDEST_KNOWN
from upstream.redis_url import master_host, redis_url

URL_DIR = SHARED / "go-redis-url"
ALPHA = go_redis_for("0.2.0-alpha.12")
BETA_17 = go_redis_for("0.9.0-beta.17")
# Defaults of every field the vectors may name (absent from a vector: go-redis's zero value).
FIELDS: dict[str, tuple[str, Any]] = {
    "addr": ("addr", None),
    "network": ("network", "tcp"),
    "db": ("db", 0),
    "username": ("username", ""),
    "password": ("password", ""),
    "protocol": ("protocol", 0),
    "client_name": ("client_name", ""),
    "pool_fifo": ("pool_fifo", False),
    "max_concurrent_dials": ("max_concurrent_dials", 0),
    "read_timeout_ns": ("read_timeout", 0),
    "conn_max_idle_time_ns": ("conn_max_idle_time", 0),
    "conn_max_lifetime_ns": ("conn_max_lifetime", 0),
    "conn_max_lifetime_jitter_ns": ("conn_max_lifetime_jitter", 0),
}


@functools.cache  # read once: the tests only read it
def _vectors() -> dict[str, Any]:
    path = shared_file(URL_DIR / "vectors.json", "go-redis's TestParseURL table")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _seen(options: Options) -> dict[str, Any]:
    seen = {key: getattr(options, attr) for key, (attr, _) in FIELDS.items()}
    seen["tls"] = options.tls is not None
    seen["skip_verify"] = options.tls is not None and options.tls.insecure_skip_verify
    return seen


def _expected(case: dict[str, Any]) -> dict[str, Any]:
    expected = {key: case.get(key, default) for key, (_, default) in FIELDS.items()}
    expected["tls"] = case.get("tls", False)
    expected["skip_verify"] = case.get("skip_verify", False)
    return expected


def test_vector_table_is_go_redis_whole_table() -> None:
    data = _vectors()
    assert "v9.21.0" in data["source"]
    assert len(data["accepted"]) == 24 and len(data["refused"]) == 14


def test_every_accepted_vector_gives_go_redis_options_at_v9_21_0() -> None:
    wrong = {}
    for case in _vectors()["accepted"]:
        seen = _seen(parse_url(case["url"], BETA_17))
        if seen != _expected(case):
            wrong[case["url"]] = (seen, _expected(case))
    assert wrong == {}


def test_every_refused_vector_gives_go_redis_error_in_every_release() -> None:
    wrong = {}
    cases = _vectors()["refused"]
    for row in GO_REDIS:
        for case in cases:
            try:
                parse_url(case["url"], row)
                wrong[(row.version, case["url"])] = "accepted"
            except GoRedisURLError as refused:
                if refused.go_text != case["error"]:
                    wrong[(row.version, case["url"])] = refused.go_text
    assert wrong == {}


def test_vectors_without_the_jitter_option_hold_in_every_release() -> None:
    accepted = _vectors()["accepted"]
    for row in GO_REDIS:
        for case in accepted:
            if "since" not in case:
                assert _seen(parse_url(case["url"], row)) == _expected(case), (row, case)


def test_conn_max_lifetime_jitter_is_refused_before_v9_18_0_and_read_since() -> None:
    since = [case for case in _vectors()["accepted"] if case.get("since") == "v9.18.0"]
    assert len(since) == 3
    for case in since:
        with pytest.raises(GoRedisURLError) as refused:
            parse_url(case["url"], ALPHA)
        assert refused.value.go_text == "redis: unexpected option: conn_max_lifetime_jitter"
        for row in GO_REDIS[1:]:
            assert _seen(parse_url(case["url"], row)) == _expected(case)


def _readme_pins() -> dict[str, str]:
    """The README's table: Omnia release (range) -> go-redis."""
    text = shared_file(URL_DIR / "README.md", "the go-redis URL notes").read_text("utf-8")
    pins = {}
    for omnia, go_redis in re.findall(r"^\| (v0\.[^|]+?) \| (v9\.[0-9.]+) \|$", text, re.M):
        for version in re.findall(r"v?(0\.\d+\.\d+-(?:alpha|beta)\.\d+)|(alpha\.\d+)", omnia):
            full = version[0] or f"0.2.0-{version[1]}"
            pins[full] = go_redis
    return pins


def test_each_release_pins_the_go_redis_the_readme_names() -> None:
    pins = _readme_pins()
    assert pins == {
        "0.2.0-alpha.1": "v9.17.2",
        "0.2.0-alpha.12": "v9.17.2",
        "0.9.0-beta.1": "v9.18.0",
        "0.9.0-beta.16": "v9.20.0",
        "0.9.0-beta.17": "v9.21.0",
    }
    for omnia, version in pins.items():
        assert go_redis_for(omnia).version == version, omnia


@pytest.mark.parametrize(
    ("omnia", "version"),
    [
        ("0.2.0-alpha.5", "v9.17.2"),
        ("v0.9.0-beta.9", "v9.18.0"),  # the tag's spelling
        ("0.9.0-beta.12", "v9.18.0"),  # never tagged: behaves like the tag before it
        ("0.9.0-beta.13", "v9.19.0"),
        ("0.9.0-beta.15", "v9.20.0"),
        ("0.9.0-beta.18", "v9.21.0"),  # newer than any: HEAD pins v9.21.0 too
    ],
)
def test_versions_between_rows_take_the_row_before(omnia: str, version: str) -> None:
    assert go_redis_for(omnia).version == version


def test_a_version_older_than_any_release_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape(OLDEST_KNOWN)):
        go_redis_for("0.1.0")
    assert go_redis_for(NEWEST_KNOWN) == GO_REDIS[-1]


def _refusal(url: str, row: GoRedis = BETA_17) -> str:
    with pytest.raises(GoRedisURLError) as refused:
        parse_url(url, row)
    return refused.value.go_text


@pytest.mark.parametrize(
    ("url", "error"),
    [
        # Values are checked in go-redis's reading order; the first bad one is the error.
        (
            "redis://h/?pool_size=x&read_timeout=y",
            'redis: invalid read_timeout duration: time: invalid duration "y"',
        ),
        (
            "redis://h/?read_timeout=1.5",
            'redis: invalid read_timeout duration: time: missing unit in duration "1.5"',
        ),
        (
            "redis://h/?dial_timeout=3d",
            'redis: invalid dial_timeout duration: time: unknown unit "d" in duration "3d"',
        ),
        # A bad value wins over an unknown option: q.err is returned before the leftovers.
        (
            "redis://h/?abc=1&pool_size=x",
            'redis: invalid pool_size number: strconv.Atoi: parsing "x": invalid syntax',
        ),
        (
            "redis://h/?pool_size=99999999999999999999",
            'redis: invalid pool_size number: strconv.Atoi: parsing "99999999999999999999": value out of range',
        ),
        # The last value of a repeated option is the one read.
        (
            "redis://h/?pool_size=1&pool_size=x",
            'redis: invalid pool_size number: strconv.Atoi: parsing "x": invalid syntax',
        ),
        # Old and new names together: the old one is never read.
        (
            "redis://h/?conn_max_idle_time=1s&idle_timeout=2s",
            "redis: unexpected option: idle_timeout",
        ),
        (
            "redis://h/?conn_max_lifetime=1s&max_conn_age=2s",
            "redis: unexpected option: max_conn_age",
        ),
        # Connection fields are no query options.
        (
            "redis://h/?password=p&addr=a&network=tcp",
            "redis: unexpected option: addr, network, password",
        ),
        ("rediss://h/?skip_verify=true&Skip_verify=1", "redis: unexpected option: Skip_verify"),
        ("redis://h/?db=", None),
        ("redis://h/?=1", "redis: unexpected option: "),
        ("redis://h/%2F1%2F2", "redis: invalid URL path: //1/2"),
        ("redis://h/-", 'redis: invalid database number: "-"'),
        ("redis://h/%C3%A9", 'redis: invalid database number: "é"'),
        ("redis://h/%FF", 'redis: invalid database number: "\\xff"'),
        (
            "unix:///s?db=%2B",
            'redis: invalid database number: strconv.Atoi: parsing "+": invalid syntax',
        ),
        ("unix://h", "redis: empty unix socket path"),
        ("unix:run/r.sock", "redis: empty unix socket path"),  # rootless: opaque, no path
        ("REDISS://h:6379/?x=1", "redis: unexpected option: x"),
        ("valkey://h", "redis: invalid URL scheme: valkey"),
        ("redis://h:abc", 'parse "redis://h:abc": invalid port ":abc" after host'),
        ("redis://h name", 'parse "redis://h name": invalid character " " in host name'),
        ("redis://:p%zz@h", 'parse "redis://:p%zz@h": invalid URL escape "%zz"'),
        ("redis://:p@h/#%zz", 'parse "redis://:p@h/#%zz": invalid URL escape "%zz"'),
        ("redis://:pä@h", 'parse "redis://:pä@h": net/url: invalid userinfo'),
        ("redis://h\n", 'parse "redis://h\\n": net/url: invalid control character in URL'),
        ("redis://[1.2.3.4]", 'parse "redis://[1.2.3.4]": invalid IP-literal'),
        ("redis://[h]", 'parse "redis://[h]": invalid host: ParseAddr("h"): unable to parse IP'),
    ],
)
def test_rules_read_off_options_go(url: str, error: str | None) -> None:
    if error is None:
        parse_url(url, BETA_17)
    else:
        assert _refusal(url) == error


def test_a_bad_skip_verify_on_rediss_is_ignored_and_the_certificate_verified() -> None:
    """setupConnParams checks q.err before reading skip_verify, and never after."""
    options = parse_url("rediss://h:1/?skip_verify=yes", BETA_17)
    assert options.tls is not None and options.tls.insecure_skip_verify is False
    assert options.skip_verify_value == "yes"
    # Repeated: the last value wins here too.
    options = parse_url("rediss://h:1/?skip_verify=true&skip_verify=false", BETA_17)
    assert options.tls is not None and options.tls.insecure_skip_verify is False


@pytest.mark.parametrize("row", GO_REDIS, ids=lambda row: row.version)
def test_skip_verify_is_unexpected_without_tls_in_every_release(row: GoRedis) -> None:
    assert _refusal("redis://h:6379/?skip_verify=true", row) == (
        "redis: unexpected option: skip_verify"
    )
    assert _refusal("unix:///s?skip_verify=false", row) == "redis: unexpected option: skip_verify"
    assert parse_url("rediss://h:6379/?skip_verify=true", row).tls is not None


@pytest.mark.parametrize(
    ("url", "seen"),
    [
        # Userinfo percent-decoding as net/url does: `+` stays a plus, %XX any byte.
        ("redis://us%40er:p%3Ass+w%2F@h", {"username": "us@er", "password": "p:ss+w/"}),
        ("redis://u:@h", {"username": "u", "password": ""}),
        ("redis://us%40er%3A@h", {"username": "us@er:", "password": ""}),  # no colon: no password
        ("redis://:p@ss@h", {"password": "p@ss", "addr": "h:6379"}),  # the last @ ends it
        # The query decodes `+` as a space.
        ("redis://h/?client_name=a+b%2Bc", {"client_name": "a b+c"}),
        # The path is decoded before it is split on `/`; empty segments do not count.
        ("redis://h/%32", {"db": 2}),
        ("redis://h//3//", {"db": 3}),
        ("redis://h/-1", {"db": -1}),  # Atoi takes it; NewClient SELECTs only a DB > 0
        ("redis://h/1?db=4", {"db": 4}),  # ?db= overrides the path
        ("redis://h/1?db=", {"db": 1}),  # an empty one does not
        ("unix:///run/r.sock/5", {"addr": "/run/r.sock/5", "db": 0}),  # no DB in a socket path
        # Host and port defaults; IPv6 brackets kept only when a port splits off.
        ("redis://", {"addr": "localhost:6379"}),
        ("redis:", {"addr": "localhost:6379"}),
        ("redis://:7000", {"addr": "localhost:7000", "host": "localhost"}),
        ("redis://h:", {"addr": "h:6379"}),
        ("redis://[::1]:7000", {"addr": "[::1]:7000", "host": "::1"}),
        ("redis://[::1]", {"addr": "[[::1]]:6379", "host": "[::1]"}),  # SplitHostPort failed
        ("redis://h:1:2", {"addr": "[h:1:2]:6379"}),  # the last colon: host `h:1:2`
        # Plain integers are seconds, <= 0 disables; Go's int64 wraps silently.
        (
            "redis://h/?read_timeout=-5&write_timeout=%2B3",
            {"read_timeout": -1, "write_timeout": 3_000_000_000},
        ),
        ("redis://h/?dial_timeout=9223372036854775807", {"dial_timeout": -1_000_000_000}),
        (
            "redis://h/?conn_max_lifetime=-1&conn_max_lifetime_jitter=5m",
            {"conn_max_lifetime_jitter": -1},
        ),
        ("redis://h/?idle_timeout=90", {"conn_max_idle_time": 90_000_000_000}),
        ("redis://h/?max_conn_age=1m", {"conn_max_lifetime": 60_000_000_000}),
        ("redis://h/?pool_fifo=&pool_fifo=1", {"pool_fifo": True}),
        (
            "redis://h/?protocol=2&max_retries=-1&pool_size=20",
            {"protocol": 2, "max_retries": -1, "pool_size": 20},
        ),
        # A `;` drops the whole pair silently (ParseQuery's error is dropped by URL.Query).
        ("redis://h/?abc=1;x&db=3", {"db": 3}),
        ("redis://h/?abc=%zz&db=3", {"db": 3}),
        (
            "rediss://Cache.Example.com:6380",
            {"tls": "Cache.Example.com", "addr": "Cache.Example.com:6380"},
        ),
    ],
)
def test_options_read_off_options_go(url: str, seen: dict[str, Any]) -> None:
    options = parse_url(url, BETA_17)
    for key, value in seen.items():
        if key == "tls":
            assert options.tls is not None and options.tls.server_name == value
            assert options.tls.min_version == "1.2" and not options.tls.insecure_skip_verify
        else:
            assert getattr(options, key) == value, key


def test_more_than_10000_query_parameters_drop_every_option_since_go_1_26() -> None:
    """Go 1.26's ParseQuery limit (GODEBUG urlmaxqueryparams): URL.Query() comes back empty."""
    url = "redis://h/?abc=1&db=3" + "&" * 9999  # 10001 parameters
    assert parse_url(url, BETA_17).db == 0
    assert _refusal(url, ALPHA) == "redis: unexpected option: abc"  # Go 1.25.5 had no limit
    assert _refusal("redis://h/?abc=1&db=3" + "&" * 9998) == "redis: unexpected option: abc"


def test_a_bracket_past_the_host_start_differs_between_go_1_25_and_1_26() -> None:
    url = "redis://x[::1]:7000"
    assert parse_url(url, ALPHA).addr == "[::1]:7000"  # Go 1.25 drops the `x`
    assert _refusal(url) == 'parse "redis://x[::1]:7000": invalid IP-literal'


@settings(max_examples=300, deadline=None)
@given(
    password=st.text(min_size=1, max_size=40),
    release=st.sampled_from(["default", "redis", "r1", "store-a"]),
    namespace=st.sampled_from(["redis", "omnia-redis", "tenant-a-redis"]),
    port=st.integers(min_value=1, max_value=65535),
    row=st.sampled_from(GO_REDIS),
)
def test_the_project_url_is_accepted_with_the_exact_password_back(
    password: str, release: str, namespace: str, port: int, row: GoRedis
) -> None:
    host = master_host(release, namespace)
    options = parse_url(redis_url(password, host, port), row)
    assert options.password == password
    assert options.username == ""
    assert (options.addr, options.db, options.tls) == (f"{host}:{port}", 0, None)
