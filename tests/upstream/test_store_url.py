"""An external store's URL judged per Omnia release: refusals, warnings, and masking."""

from __future__ import annotations

from urllib.parse import quote as percent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upstream.go_redis_url import GoRedisURLError, go_redis_for, parse_url
from upstream.store_url import SECRET, UrlVerdict, judge_store_url

BETA_17 = "0.9.0-beta.17"
ALPHA = "0.2.0-alpha.12"
CLEAR = "redis:// to a host outside the cluster"
SKIPS = "skip_verify=true: the runtime does not check the server's certificate"


def _messages(verdict: UrlVerdict) -> tuple[str, ...]:
    return verdict.problems + verdict.warnings


def test_an_unknown_option_is_refused_naming_it_without_the_url() -> None:
    url = "redis://h:6379/?abc=1"
    verdict = judge_store_url(url, BETA_17)
    assert verdict.problems == (
        f"the runtime of Omnia {BETA_17} (go-redis v9.21.0) refuses it and exits: "
        "redis: unexpected option: abc",
    )
    assert verdict.options is None
    assert all(url not in message for message in _messages(verdict))


def test_conn_max_lifetime_jitter_is_refused_for_an_alpha_and_accepted_for_beta_17() -> None:
    url = "rediss://:pw@cache.example.com:6380/?conn_max_lifetime=1h&conn_max_lifetime_jitter=6m"
    assert (
        judge_store_url(url, ALPHA)
        .problems[-1]
        .endswith("refuses it and exits: redis: unexpected option: conn_max_lifetime_jitter")
    )
    verdict = judge_store_url(url, BETA_17)
    assert verdict.problems == () and verdict.warnings == ()
    assert verdict.options is not None
    assert verdict.options.conn_max_lifetime_jitter == 360_000_000_000


def test_skip_verify_on_redis_is_refused_in_every_release() -> None:
    for version in (ALPHA, "0.9.0-beta.1", "0.9.0-beta.16", BETA_17):
        problems = judge_store_url(
            "redis://:pw@r.cache.svc:6379/?skip_verify=true", version
        ).problems
        assert problems[-1].endswith("redis: unexpected option: skip_verify"), version


def test_a_net_url_refusal_masks_the_url_go_redis_quotes() -> None:
    url = "redis://:hunter2@cache.example.com:abc"
    with pytest.raises(GoRedisURLError) as refused:
        parse_url(url, go_redis_for(BETA_17))
    assert refused.value.go_text == f'parse "{url}": invalid port ":abc" after host'  # Go's text
    (problem,) = judge_store_url(url, BETA_17).problems
    assert problem.endswith(f'parse "{SECRET}": invalid port ":abc" after host')
    assert "hunter2" not in problem


def test_a_bad_escape_in_the_password_is_masked_too() -> None:
    (problem,) = judge_store_url("redis://:hun%zzter@cache.svc", BETA_17).problems
    assert problem.endswith(f'parse "{SECRET}": invalid URL escape "{SECRET}"')
    assert "%zz" not in problem and "hun" not in problem


@pytest.mark.parametrize("cut", ["/", "?", "#"])
def test_a_raw_delimiter_in_the_password_is_refused_without_echoing_any_of_it(cut: str) -> None:
    """`/`, `?` or `#` cut the userinfo short: go-redis would dial the wrong host with no
    password (or quote the rest of the password as an option or a DB)."""
    url = f"redis://Kq7:Zx1{cut}Wv2@cache.svc:6379"
    verdict = judge_store_url(url, BETA_17)
    assert verdict.problems == (
        "it has an '@' after its host part: in a user name or password, '@', '/', '?' and '#' "
        "must be percent-encoded (%40, %2F, %3F, %23)",
    )
    assert not any(piece in m for piece in ("Kq7", "Zx1", "Wv2") for m in _messages(verdict))


@pytest.mark.parametrize(
    "host",
    [
        "redis-master.redis.svc",
        "redis-master.redis.svc.cluster.local",
        "Redis-Master.Redis.SVC",
        "redis-master.redis.svc.cluster.local.",
    ],
)
def test_redis_to_an_in_cluster_service_is_not_warned(host: str) -> None:
    verdict = judge_store_url(f"redis://:pw@{host}:6379/0", BETA_17)
    assert verdict.problems == () and verdict.warnings == ()


@pytest.mark.parametrize(
    "host", ["cache.example.com", "10.0.0.12", "redis-master.redis", "svc", "cache.svc.example.com"]
)
def test_redis_to_a_host_outside_the_cluster_warns_it_travels_in_clear(host: str) -> None:
    (warning,) = judge_store_url(f"redis://:pw@{host}:6379", BETA_17).warnings
    assert warning.startswith(CLEAR) and "use rediss://" in warning
    assert judge_store_url(f"rediss://:pw@{host}:6380", BETA_17).warnings == ()


def test_skip_verify_true_warns_that_the_certificate_is_not_checked() -> None:
    for value in ("true", "1"):
        (warning,) = judge_store_url(
            f"rediss://:pw@c.example.com/?skip_verify={value}", BETA_17
        ).warnings
        assert warning.startswith(SKIPS)
    for value in ("false", "0", ""):
        assert (
            judge_store_url(f"rediss://:pw@c.example.com/?skip_verify={value}", BETA_17).warnings
            == ()
        )


def test_a_skip_verify_go_redis_cannot_read_warns_that_it_is_ignored() -> None:
    verdict = judge_store_url("rediss://:pw@c.example.com/?skip_verify=yes", BETA_17)
    assert verdict.options is not None and verdict.options.tls is not None
    assert verdict.options.tls.insecure_skip_verify is False
    assert verdict.warnings == (
        "skip_verify has a value go-redis does not read as a boolean (true/1, false/0): "
        "it is ignored and the certificate verified",
    )


def test_alpha_facades_cannot_use_tls_or_an_acl_user() -> None:
    """v0.2.0-alpha.*: internal/session/redis.go keeps Addr, Password and DB of the URL."""
    (problem,) = judge_store_url("rediss://app:pw@c.example.com:6380/2", ALPHA).problems
    assert "drops TLS (it would talk plain Redis to a TLS port) and the user name" in problem
    (problem,) = judge_store_url("redis://app:pw@r.cache.svc:6379", ALPHA).problems
    assert "drops the user name" in problem and "TLS" not in problem
    assert judge_store_url("redis://default:pw@r.cache.svc:6379", ALPHA).problems == ()
    assert judge_store_url("rediss://app:pw@c.example.com:6380/2", "0.9.0-beta.1").problems == ()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "rediss://c.example.com:1:2",
            "its host is not one address the runtime can dial (go-redis builds '[c.example.com:1:2]:6379'",
        ),
        (
            "rediss://[::1]",
            "its host is not one address the runtime can dial (go-redis builds '[[::1]]:6379'",
        ),
        ("rediss://c.example.com:99999", "port '99999': the runtime's dial fails"),
        ("rediss://c.example.com:0", "port '0': the runtime's dial fails"),
        ("unix:///run/redis.sock", "a unix socket is in the agent's own pod"),
    ],
)
def test_addresses_go_redis_builds_but_cannot_dial_are_refused(url: str, problem: str) -> None:
    (found,) = judge_store_url(url, BETA_17).problems
    assert found.startswith(problem)


def test_an_ipv6_store_in_brackets_with_a_port_is_fine() -> None:
    verdict = judge_store_url("rediss://:pw@[2001:db8::7]:6380", BETA_17)
    assert verdict.problems == () and verdict.options is not None
    assert verdict.options.addr == "[2001:db8::7]:6380"


@pytest.mark.parametrize(
    ("url", "warning"),
    [
        ("rediss://app@c.example.com", "a user name without a password is never sent"),
        ("rediss://:pw@c.example.com/-1", "DB -1: go-redis selects no DB below 1"),
        ("rediss://:pw@c.example.com/16", "DB 16: SELECT fails unless the server has more than 16"),
        ("redis://:pw@localhost", "its host is the agent's own pod (localhost)"),
        ("redis://:pw@127.0.0.1:7000", "its host is the agent's own pod (localhost)"),
        ("rediss://:pw@[::1]:7000", "its host is the agent's own pod (localhost)"),
    ],
)
def test_what_works_otherwise_than_written_is_warned(url: str, warning: str) -> None:
    verdict = judge_store_url(url, BETA_17)
    assert verdict.problems == ()
    assert [w for w in verdict.warnings if w.startswith(warning)], verdict.warnings


# Masking, whatever the URL: secrets made of characters no message spells (and their UTF-8
# percent-encodings), every other one a delimiter URL syntax cares about.
MARKERS = "§¶ÆØ"
DELIMITERS = "@/?#%:+ &=;[]!$'()*,"
secrets_ = st.lists(
    st.tuples(st.sampled_from(MARKERS), st.sampled_from(DELIMITERS + "x")), min_size=3, max_size=8
).map(lambda pairs: "".join(m + d for m, d in pairs))
encodings = st.sampled_from(["raw", "encoded", "half"])


def _written(secret: str, how: str) -> str:
    if how == "raw":
        return secret
    if how == "encoded":
        return percent(secret, safe="")
    return percent(secret, safe="%@/?#:")  # a hand-made escape, forgetting some


URL_TAILS = st.lists(
    st.sampled_from(
        [
            ":6379",
            ":abc",
            "/2",
            "/x",
            "/1/2",
            "?abc=1",
            "?pool_size=x",
            "?skip_verify=true",
            "?db=3",
            "&read_timeout=5",
            "#f",
            "%zz",
            ":1:2",
            "[",
            "]",
        ]
    ),
    max_size=4,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(
    scheme=st.sampled_from(["redis://", "rediss://", "unix://", "http://", "", "redis:"]),
    user=st.one_of(st.just(""), secrets_),
    password=secrets_,
    how=encodings,
    host=st.sampled_from(["cache.example.com", "r.ns.svc", "", "[::1]", "h h"]),
    tail=URL_TAILS,
    version=st.sampled_from([ALPHA, "0.9.0-beta.1", BETA_17]),
)
def test_no_message_ever_contains_the_url_or_a_piece_of_a_secret(
    scheme: str, user: str, password: str, how: str, host: str, tail: str, version: str
) -> None:
    url = f"{scheme}{_written(user, how)}:{_written(password, how)}@{host}{tail}"
    for message in _messages(judge_store_url(url, version)):
        assert url not in message
        assert not any(marker in message for marker in MARKERS), message
        assert "%C2" not in message.upper() and "%C3" not in message.upper(), message
