"""URL and chart values, as pure functions."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from settings.errors import ConfigError
from settings.loader import parse_config
from settings.models import RedisConfig
from tests.support.shared import CHARTS, shared_file
from upstream.chart_versions import CHECKED
from upstream.redis_chart import PORT, SENTINEL_PORT, chart_values, redis_conf
from upstream.redis_url import master_host, redis_url

AUTH = {
    "enabled": True,
    "existingSecret": "redis-auth",
    "existingSecretPasswordKey": "redis-password",
}
KEEP = {"enabled": True, "whenDeleted": "Retain", "whenScaled": "Retain"}
NETWORK = {
    "enabled": True,
    "allowExternal": False,
    "ingressNSMatchLabels": {"omnia-agents/redis-client": "true"},
}
# readyTimeout's default, 30m, as the await annotation every rendered object carries.
WAIT = {"pulumi.com/timeoutSeconds": "1800"}
PERSISTENCE = 'appendonly yes\nappendfsync everysec\nsave ""\n'
# Defaults (README: Sizing): 1Gi memory limit, maxmemory 60 % of it in whole MiB (1024 * 0.6 =
# 614.4), the policy that never evicts a key without a TTL.
CONF = PERSISTENCE + "maxmemory 614mb\nmaxmemory-policy volatile-ttl\n"
# With replicas: replica output buffers capped at 10 % / 5 % (60 s) of the limit.
REPLICATION_CONF = CONF + "client-output-buffer-limit replica 102mb 51mb 60\n"
RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
POD = {
    "persistence": {"enabled": True, "size": "8Gi"},  # the chart's own size, kept
    "persistentVolumeClaimRetentionPolicy": KEEP,
    "resourcesPreset": "none",
    "resources": RESOURCES,
}


def values(**redis: Any) -> dict[str, Any]:
    return chart_values(RedisConfig.model_validate({"chartVersion": "22.0.5", **redis}))


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
    assert (
        redis_url("a#b?c/d%e[f]g@h:i", "h", 1) == "redis://:a%23b%3Fc%2Fd%25e%5Bf%5Dg%40h%3Ai@h:1"
    )


def test_master_host_is_the_write_service() -> None:
    assert master_host("redis", "redis") == "redis-master.redis.svc"
    # The chart's fullname: a release whose name lacks `redis` gets it appended (helm template
    # of redis-23.1.1.tgz as release `store` renders Service `store-redis-master`).
    assert master_host("store", "data") == "store-redis-master.data.svc"
    assert master_host("sessions-redis", "data") == "sessions-redis-master.data.svc"


def test_persistence_and_memory_are_explicit() -> None:
    assert redis_conf(RedisConfig.model_validate({"chartVersion": "22.0.5"})) == CONF


def test_standalone_values() -> None:
    assert values() == {
        "architecture": "standalone",
        "auth": AUTH,
        "commonConfiguration": CONF,
        "master": POD,
        "networkPolicy": NETWORK,
        "commonAnnotations": WAIT,
    }


def test_replication_values() -> None:
    # Without Sentinel nothing fails over: no write guard by default.
    assert values(architecture="replication", replicas=2) == {
        "architecture": "replication",
        "auth": AUTH,
        "commonConfiguration": REPLICATION_CONF,
        "master": POD,
        "replica": {**POD, "replicaCount": 2},
        "networkPolicy": NETWORK,
        "commonAnnotations": WAIT,
    }


def test_sentinel_values_keep_the_master_service() -> None:
    got = values(architecture="replication", sentinel=True)
    assert got["sentinel"] == {
        "enabled": True,
        "masterService": {"enabled": True},
        "persistentVolumeClaimRetentionPolicy": KEEP,
        "downAfterMilliseconds": 5000,
        "failoverTimeout": 20000,
        "resourcesPreset": "none",
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
    }
    # The chart's 3 nodes under Sentinel are a master and 2 replicas: the guard is on.
    assert got["commonConfiguration"] == (
        REPLICATION_CONF + "min-replicas-to-write 1\nmin-replicas-max-lag 10\n"
    )
    # What the chart's validateValues.createMaster demands for masterService.
    assert got["rbac"] == {"create": True}
    assert got["serviceAccount"] == {"create": True}
    assert got["replica"]["automountServiceAccountToken"] is True
    assert "replicaCount" not in got["replica"]  # the chart's own default (3)
    assert got["networkPolicy"] == NETWORK


@pytest.mark.parametrize(
    ("redis", "message"),
    [
        ({"sentinel": True}, "sentinel: true needs architecture: replication"),
        ({"replicas": 2}, "replicas needs architecture: replication"),
    ],
)
def test_topologies_the_chart_cannot_run_are_refused(redis, message) -> None:
    raw = {
        "omniaVersion": "0.9.0-beta.17",
        "session": {"type": "redis"},
        "agents": [{"name": "a"}],
        "redis": {"chartVersion": "1.0.0", **redis},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "s")
    assert caught.value.lines() == [f"s: omnia-agents:redis: {message}"]


def test_rotation_annotates_every_redis_pod() -> None:
    got = values(architecture="replication", passwordRotation="2026-11")
    for role in ("master", "replica"):
        assert got[role]["podAnnotations"] == {"omnia-agents/password-rotation": "2026-11"}
    assert "podAnnotations" not in values()["master"]


def test_image_overrides_allow_the_non_default_images() -> None:
    redis = {"repository": "bitnamilegacy/redis", "tag": "8.2.1"}
    kubectl = {"registry": "r.example", "repository": "tools/kubectl", "tag": "1.33"}
    got = values(
        architecture="replication",
        sentinel=True,
        images={"redis": redis, "sentinel": {"tag": "8.2.1"}, "kubectl": kubectl},
    )
    assert got["image"] == redis
    assert got["sentinel"]["image"] == {"tag": "8.2.1"}
    assert got["kubectl"] == {"image": kubectl}
    assert got["global"] == {"security": {"allowInsecureImages": True}}
    assert "global" not in values() and "image" not in values()
    # Without Sentinel those two images never run: no override, no insecure-image waiver.
    assert values(images={"kubectl": kubectl}) == values()


@pytest.mark.parametrize(("timeout", "seconds"), [("30m", "1800"), ("1h", "3600"), ("90s", "90")])
def test_ready_timeout_reaches_every_chart_object(timeout: str, seconds: str) -> None:
    assert values(readyTimeout=timeout)["commonAnnotations"] == {
        "pulumi.com/timeoutSeconds": seconds
    }


@pytest.mark.parametrize(
    ("chart", "message"),
    [
        ("bitnami/redis", "'bitnami/redis' is neither an OCI reference"),
        ("https://charts.example/redis-22.0.5.tgz.sig", "is neither an OCI reference"),
    ],
)
def test_chart_source_must_be_oci_or_a_local_archive(chart: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                "session": {"type": "redis"},
                "redis": {"chartVersion": "22.0.5", "chart": chart},
                "agents": [{"name": "a"}],
            },
            "s",
        )
    assert caught.value.problems[0].key == "omnia-agents:redis.chart"
    assert message in caught.value.problems[0].message


def test_ready_timeout_must_be_a_go_duration() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                "omniaVersion": "0.9.0-beta.17",
                "session": {"type": "redis"},
                "redis": {"chartVersion": "22.0.5", "readyTimeout": "1d"},
                "agents": [{"name": "a"}],
            },
            "s",
        )
    assert [(p.key, p.message) for p in caught.value.problems] == [
        ("omnia-agents:redis.readyTimeout", "'1d' is not a Go duration (use '24h')")
    ]


@pytest.mark.parametrize("version", CHECKED)
def test_the_ports_are_the_pinned_charts(version: str) -> None:
    """The write Service's port and the one policy/rules.py expects of Sentinel are the ports
    each checked chart's values.yaml gives its containers."""
    values = yaml.safe_load(
        shared_file(CHARTS / version / "values.yaml", "bitnami/charts").read_text()
    )
    assert values["master"]["containerPorts"]["redis"] == PORT
    assert values["replica"]["containerPorts"]["redis"] == PORT
    assert values["sentinel"]["containerPorts"]["sentinel"] == SENTINEL_PORT
