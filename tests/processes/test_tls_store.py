"""An external store over TLS, on a real TLS-only redis-server (Debian's) with the tests' CA.

The client is configured from the URL exactly as go-redis configures Omnia's runtime: the
Options come from the port of ParseURL (upstream/go_redis_url.py), the handshake is go-redis's
(tests/support/go_redis_client.py). The test CA stands in for the runtime image's system CAs.
"""

from __future__ import annotations

import dataclasses
import ssl
import uuid
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import quote

import pytest

from tests.support.go_redis_client import GoRedisLikeClient, RedisReplyError
from tests.support.shared import need
from tests.support.tls_redis import Authority, TlsServer, make_ca, server_cert
from upstream.go_redis_url import Options, go_redis_for, parse_url
from upstream.store_url import judge_store_url

BETA_17 = "0.9.0-beta.17"
ALPHA = "0.2.0-alpha.12"
ADMIN_PASSWORD = "admin-only-Zq4"
APP_USER = "omnia-agents"
# Every character URL syntax cares about, so the URL must percent-encode each of them.
APP_PASSWORD = "p@ss:w/rd?#%+ &=;[]é"
SESSION_TTL_S = 86_400  # PromptKit's Redis history period (../shared/omnia-releases.md)


class Store(NamedTuple):
    server: TlsServer
    ca: Authority  # what signed the server's certificate
    other_ca: Authority  # a CA the server's certificate does not chain to


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A TLS-only server whose certificate names `localhost` (not 127.0.0.1), an ACL user
    limited to the session keys, and a default user nobody else knows the password of."""
    need("redis-server")
    workdir = tmp_path_factory.mktemp("tls-store")
    ca = make_ca(workdir, "Omnia test CA")
    other_ca = make_ca(workdir, "Some other CA")
    cert_file, key_file = server_cert(workdir, ca, dns_names=["localhost"], ips=[])
    server = TlsServer(workdir / "redis", ca, cert_file, key_file)
    server.first_start()
    try:
        admin = server.client()
        admin.acl_setuser(
            APP_USER,
            enabled=True,
            passwords=[f"+{APP_PASSWORD}"],
            keys=["promptkit:*", "rt:*"],
            commands=["+@all"],
        )
        admin.config_set("requirepass", ADMIN_PASSWORD)  # the default user's password
        server.password = ADMIN_PASSWORD
        yield Store(server, ca, other_ca)
    finally:
        server.stop()


def _url(port: int, *, host: str = "localhost", db: int = 2, query: str = "") -> str:
    user = f"{quote(APP_USER, safe='')}:{quote(APP_PASSWORD, safe='')}"
    return f"rediss://{user}@{host}:{port}/{db}{query}"


def _options(url: str, version: str = BETA_17) -> Options:
    verdict = judge_store_url(url, version)
    assert verdict.options is not None, verdict.problems
    return verdict.options


def _write_session(client: GoRedisLikeClient) -> str:
    """Keys shaped as the runtime's and the facade's (omnia-releases.md: Keys)."""
    conversation = str(uuid.uuid4())
    assert (
        client.command(
            "SET", f"promptkit:conversation:{conversation}:state", "{}", "EX", SESSION_TTL_S
        )
        == "OK"
    )
    assert client.command("RPUSH", f"promptkit:conversation:{conversation}:messages", "hi") == 1
    assert (
        client.command("EXPIRE", f"promptkit:conversation:{conversation}:messages", SESSION_TTL_S)
        == 1
    )
    assert client.command("SADD", "promptkit:conversations:index", conversation) == 1
    assert client.command("SET", f"rt:route:{conversation}", "pod-a", "EX", 60) == "OK"
    return conversation


def test_the_acl_user_url_authenticates_over_tls_and_writes_sessions_in_its_db(
    store: Store,
) -> None:
    url = _url(store.server.port, query="?client_name=omnia-runtime")
    options = _options(url)
    assert (options.username, options.password, options.db) == (APP_USER, APP_PASSWORD, 2)
    assert options.tls is not None and options.tls.server_name == "localhost"
    with GoRedisLikeClient(options, store.ca.cert_file) as client:
        conversation = _write_session(client)
        assert client.command("ACL", "WHOAMI") == APP_USER.encode()
        info = client.command("CLIENT", "INFO")
    assert b" db=2 " in info and f" user={APP_USER} ".encode() in info
    assert b" name=omnia-runtime " in info
    admin = store.server.client()
    admin.select(2)  # redis-py: same connection for the next commands
    assert 0 < admin.ttl(f"promptkit:conversation:{conversation}:state") <= SESSION_TTL_S
    assert admin.sismember("promptkit:conversations:index", conversation)
    admin.select(0)
    assert admin.exists(f"promptkit:conversation:{conversation}:state") == 0  # not in DB 0


def test_the_user_cannot_touch_keys_outside_the_sessions(store: Store) -> None:
    options = _options(_url(store.server.port))
    with (
        GoRedisLikeClient(options, store.ca.cert_file) as client,
        pytest.raises(RedisReplyError, match="NOPERM"),
    ):
        client.command("SET", "other-tenant:secret", "x")


def test_a_wrong_password_is_refused_by_the_server(store: Store) -> None:
    url = _url(store.server.port).replace(quote(APP_PASSWORD, safe=""), "wrong")
    with pytest.raises(RedisReplyError, match="WRONGPASS"):
        GoRedisLikeClient(_options(url), store.ca.cert_file)


def test_a_certificate_from_another_ca_fails_without_skip_verify(store: Store) -> None:
    options = _options(_url(store.server.port))
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        GoRedisLikeClient(options, store.other_ca.cert_file)


def test_skip_verify_true_connects_whatever_the_certificate(store: Store) -> None:
    url = _url(store.server.port, query="?skip_verify=true")
    verdict = judge_store_url(url, BETA_17)
    assert [w for w in verdict.warnings if w.startswith("skip_verify=true")], verdict.warnings
    assert verdict.options is not None
    with GoRedisLikeClient(verdict.options, store.other_ca.cert_file) as client:
        _write_session(client)
    # Even for a name the certificate does not carry.
    url = _url(store.server.port, host="127.0.0.1", query="?skip_verify=true")
    with GoRedisLikeClient(_options(url), None) as client:
        assert client.command("PING") == "PONG"


def test_the_server_name_is_the_url_host(store: Store) -> None:
    """go-redis sets ServerName to the URL's host: 127.0.0.1 is not the name in the cert."""
    options = _options(_url(store.server.port, host="127.0.0.1"))
    assert options.tls is not None and options.tls.server_name == "127.0.0.1"
    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        GoRedisLikeClient(options, store.ca.cert_file)


def test_an_unreadable_skip_verify_is_ignored_and_the_certificate_checked(store: Store) -> None:
    options = _options(_url(store.server.port, query="?skip_verify=yes"))
    with pytest.raises(ssl.SSLCertVerificationError):
        GoRedisLikeClient(options, store.other_ca.cert_file)
    with GoRedisLikeClient(options, store.ca.cert_file) as client:
        assert client.command("PING") == "PONG"


def test_redis_without_tls_cannot_talk_to_a_tls_store(store: Store) -> None:
    url = _url(store.server.port).replace("rediss://", "redis://", 1)
    with pytest.raises((ConnectionError, OSError)):
        GoRedisLikeClient(_options(url), None, timeout=3)


def test_what_an_alpha_facade_keeps_of_the_url_cannot_reach_the_store(store: Store) -> None:
    """alpha facades: internal/session/redis.go keeps Addr, Password and DB, nothing else;
    the judge refuses such a URL for an alpha, and here is why."""
    url = _url(store.server.port)
    assert judge_store_url(url, ALPHA).problems
    full = parse_url(url, go_redis_for(ALPHA))  # the runtime itself keeps everything
    facade = dataclasses.replace(full, username="", tls=None)
    with pytest.raises((ConnectionError, OSError)):
        GoRedisLikeClient(facade, None, timeout=3)  # plain Redis to a TLS port
    with_tls = dataclasses.replace(full, username="")  # even with TLS, no user: default's login
    with pytest.raises(RedisReplyError, match="WRONGPASS"):
        GoRedisLikeClient(with_tls, store.ca.cert_file)


def test_a_db_the_server_does_not_have_fails_and_a_negative_one_is_db_0(store: Store) -> None:
    with pytest.raises(RedisReplyError, match="DB index is out of range"):
        GoRedisLikeClient(_options(_url(store.server.port, db=16)), store.ca.cert_file)
    with GoRedisLikeClient(_options(_url(store.server.port, db=-1)), store.ca.cert_file) as client:
        assert b" db=0 " in client.command("CLIENT", "INFO")


def test_a_user_name_without_a_password_logs_in_as_nobody(store: Store) -> None:
    """go-redis sends HELLO without AUTH: the default user, whose password it does not have."""
    options = _options(f"rediss://{APP_USER}@localhost:{store.server.port}/2")
    with pytest.raises(RedisReplyError, match="NOAUTH"):
        GoRedisLikeClient(options, store.ca.cert_file)  # SELECT 2 needs a login
