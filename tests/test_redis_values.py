"""URL and chart values, as pure functions."""

from __future__ import annotations

import string
from urllib.parse import unquote, urlsplit

import pytest

from components.config import RedisConfig
from components.redis import chart_values, master_host, redis_url


@pytest.mark.parametrize(
    "password",
    ["plainPassword123", "a#b?c/d%e[f]g", "p@ss:w0rd", string.printable.strip(), " lead", "ü€"],
)
def test_url_gives_back_host_port_and_exact_password(password: str) -> None:
    url = urlsplit(redis_url(password, "redis-master.redis.svc", 6379))
    assert url.scheme == "redis"
    assert url.hostname == "redis-master.redis.svc"
    assert url.port == 6379
    assert url.username == ""
    assert unquote(url.password or "") == password


def test_url_percent_encodes_every_reserved_character() -> None:
    url = redis_url("a#b?c/d%e[f]g@h:i", "h", 1)
    assert url == "redis://:a%23b%3Fc%2Fd%25e%5Bf%5Dg%40h%3Ai@h:1"


def test_master_host_is_the_write_service() -> None:
    assert master_host("redis", "redis") == "redis-master.redis.svc"
    assert master_host("store", "data") == "store-master.data.svc"


def test_chart_values_read_the_password_from_the_fixed_secret() -> None:
    values = chart_values(RedisConfig.model_validate({"chartVersion": "22.0.5"}))
    assert values == {
        "architecture": "standalone",
        "auth": {
            "enabled": True,
            "existingSecret": "redis-auth",
            "existingSecretPasswordKey": "redis-password",
        },
    }


def test_image_override_allows_the_non_default_image() -> None:
    config = RedisConfig.model_validate(
        {"chartVersion": "22.0.5", "image": {"repository": "bitnamilegacy/redis", "tag": "8.2.1"}}
    )
    values = chart_values(config)
    assert values["image"] == {"repository": "bitnamilegacy/redis", "tag": "8.2.1"}
    assert values["global"] == {"security": {"allowInsecureImages": True}}
