"""`redis.values`: a stack's own chart values, merged over the program's, for keys the pinned
chart has and the program does not set; `redis.storageClass` and `redis.metrics` beside them.

Run through the real program on the prod stack (changed per case) and through `plan.py`, as a
user meets them.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.errors import InputPropertiesError

from offline import cli, harness
from offline.program import run_plan
from settings import chart_values
from settings.errors import ConfigError
from settings.loader import parse_config
from settings.models import FailoverConfig, RedisConfig
from settings.package_args import redis_store_config
from tests.support.stacks import CHART, prod_with, stack_config
from upstream.chart_keys import merged, problems
from upstream.redis_chart import chart_values as values_of

DONE_WHEN = {
    "global": {"defaultStorageClass": "fast-ssd"},
    "replica": {"nodeSelector": {"pool": "redis"}},
}


def _values(plan: harness.Plan) -> dict[str, Any]:
    values: dict[str, Any] = plan.one(CHART, "redis").inputs["values"]
    return values


def _refused(raw: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "s")
    return [(p.key, p.message) for p in caught.value.problems]


def _leaf_settings(model: type[Any], prefix: str = "") -> set[str]:
    from settings.errors import _model_of

    found: set[str] = set()
    for name, info in model.model_fields.items():
        key = prefix + (info.alias or name)
        nested = _model_of(info.annotation)
        found |= _leaf_settings(nested, f"{key}.") if nested else {key}
    return found


def test_every_setting_has_a_variant_so_what_it_derives_is_owned() -> None:
    """A new setting without a variant would leave the values keys it emits to the stack."""
    settings = _leaf_settings(RedisConfig)
    images = {s for s in settings if s.startswith("images.")}
    wanted = (settings - images) | {s.rsplit(".", 1)[0] for s in images}
    assert wanted - set(chart_values.VARIANTS) - chart_values.NOT_DERIVED == set()
    assert set(chart_values.VARIANTS) - wanted == set()


def test_the_done_when_values_reach_the_chart_merged_over_the_program_s(write_stack) -> None:
    plan = run_plan(write_stack(prod_with(values=DONE_WHEN)))
    values = _values(plan)
    assert values["global"] == {
        "defaultStorageClass": "fast-ssd",
        "security": {"allowInsecureImages": True},  # the program's, beside the stack's
    }
    assert values["replica"]["nodeSelector"] == {"pool": "redis"}
    assert values["replica"]["podAntiAffinityPreset"] == "hard"  # the program's keys stay
    # Nothing else changed: the values are the program's with the stack's two keys added.
    assert values == merged(_values(run_plan(write_stack(prod_with()))), DONE_WHEN)


def test_maps_merge_and_lists_replace() -> None:
    assert merged(
        {"m": {"a": 1, "n": {"b": 2}}, "l": [1, 2], "s": "x"},
        {"m": {"n": {"c": 3}}, "l": [3], "s": "y"},
    ) == {"m": {"a": 1, "n": {"b": 2, "c": 3}}, "l": [3], "s": "y"}
    config = RedisConfig.model_validate(
        {
            "chartVersion": "23.1.1",
            "values": {
                "commonAnnotations": {"team": "sessions"},
                "replica": {"tolerations": [{"key": "pool", "operator": "Exists"}]},
            },
        }
    )
    values = values_of(config)
    assert values["commonAnnotations"] == {"pulumi.com/timeoutSeconds": "1800", "team": "sessions"}
    assert values["replica"] == {"tolerations": [{"key": "pool", "operator": "Exists"}]}


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        # The done-when: `auth` named, and the setting to use.
        (
            {"auth": {"password": "x"}},
            "auth",
            "is set by omnia-agents: the password is generated into the Secret redis-auth; use "
            "redis.passwordRotation",
        ),
        ({"architecture": "standalone"}, "architecture", "from redis.architecture"),
        ({"sentinel": {"enabled": False}}, "sentinel.enabled", "from redis.sentinel"),
        ({"replica": {"replicaCount": 5}}, "replica.replicaCount", "from redis.replicas"),
        ({"networkPolicy": {"extraIngress": [{}]}}, "networkPolicy", "omnia-agents/redis-client"),
        (
            {"commonConfiguration": "maxmemory 0"},
            "commonConfiguration",
            "from redis.architecture, redis.failover.minReplicasMaxLag, "
            "redis.failover.minReplicasToWrite, redis.maxmemory.percentOfLimit, "
            "redis.maxmemory.policy, redis.resources.memory, redis.sentinel: set those instead",
        ),
        (
            {"master": {"resources": {"limits": {"cpu": "4"}}}},
            "master.resources",
            "from redis.resources.cpu, redis.resources.cpuLimit, redis.resources.memory",
        ),
        ({"replica": {"resourcesPreset": "large"}}, "replica.resourcesPreset", "redis.resources"),
        (
            {"master": {"persistence": {"size": "1Gi"}}},
            "master.persistence.size",
            "from redis.volumeSize: set that instead",
        ),
        (
            {"replica": {"persistence": {"storageClass": "x"}}},
            "replica.persistence.storageClass",
            "from redis.storageClass",
        ),
        ({"image": {"tag": "8.2.2"}}, "image", "use redis.images.redis"),
        ({"metrics": {"image": {"tag": "1.77.0"}}}, "metrics.image", "use redis.images.exporter"),
        ({"metrics": {"enabled": True}}, "metrics.enabled", "from redis.metrics.enabled"),
        (
            {"metrics": {"prometheusRule": {"rules": []}}},
            "metrics.prometheusRule.rules",
            "from redis.metrics.prometheusRule",
        ),
        (
            {"commonAnnotations": {"pulumi.com/timeoutSeconds": "60"}},
            "commonAnnotations.pulumi.com/timeoutSeconds",
            "from redis.readyTimeout",
        ),
        (
            {"replica": {"podAnnotations": {"omnia-agents/password-rotation": "x"}}},
            "replica.podAnnotations.omnia-agents/password-rotation",
            "from redis.passwordRotation",
        ),
        ({"global": {"redis": {"password": "x"}}}, "global.redis", "overrides auth.password"),
        ({"sentinel": {"quorum": 1}}, "sentinel.quorum", "quorum of 2"),
        ({"replica": {"affinity": {}}}, "replica.affinity", "nodeAffinityPreset"),
    ],
)
def test_keys_the_program_sets_are_refused_with_the_setting_to_use(values, key, message) -> None:
    lines = _refused(prod_with(values=values))
    assert len(lines) == 1, lines
    (found, text) = lines[0]
    assert found == f"omnia-agents:redis.values.{key}"
    assert text.startswith("is set by omnia-agents") and message in text, text


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        (
            {"replica": {"nodeSelectr": {"pool": "redis"}}},
            "replica.nodeSelectr",
            "not a key of chart 23.1.1's values.yaml (nearest: replica.nodeSelector)",
        ),
        (
            {"nodeSelector": {"pool": "redis"}},
            "nodeSelector",
            "not a key of chart 23.1.1's values.yaml (nearest: master.nodeSelector)",
        ),
        ({"replica": 3}, "replica", "is a map in chart 23.1.1's values.yaml"),
        (
            {"replica": {"tolerations": {"key": "pool"}}},
            "replica.tolerations",
            "is a list in chart 23.1.1's values.yaml",
        ),
        (
            {"replica": {"priorityClassName": {"name": "high"}}},
            "replica.priorityClassName",
            "is a single value in chart 23.1.1's values.yaml",
        ),
        (
            {"replica": {"nodeSelector": "pool=redis"}},
            "replica.nodeSelector",
            "is a map in chart 23.1.1's values.yaml",
        ),
    ],
)
def test_keys_the_chart_does_not_have_are_refused_with_the_nearest(values, key, message) -> None:
    assert _refused(prod_with(values=values)) == [(f"omnia-agents:redis.values.{key}", message)]


def test_every_problem_at_once_and_the_cli_exits_2(write_stack, capsys) -> None:
    raw = prod_with(values={"auth": {"password": "x"}, "replica": {"nodeSelectr": {}}})
    path = write_stack(raw)
    assert cli.main(["--stack-file", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[:2] == [
        f"{path}: omnia-agents:redis.values.auth: is set by omnia-agents: the password is "
        "generated into the Secret redis-auth; use redis.passwordRotation",
        f"{path}: omnia-agents:redis.values.replica.nodeSelectr: not a key of chart 23.1.1's "
        "values.yaml (nearest: replica.nodeSelector)",
    ]


def test_a_version_the_project_has_not_checked_is_judged_by_the_nearest_one() -> None:
    found = problems({"replica": {"nodeSelectr": {}}}, "24.0.0", chart_values.ownership())
    assert found == [
        (
            ("replica", "nodeSelectr"),
            "not a key of chart 23.1.1's values.yaml (the nearest version checked to 24.0.0) "
            "(nearest: replica.nodeSelector)",
        )
    ]
    assert problems({"replica": {"nodeSelector": {}}}, "24.0.0", chart_values.ownership()) == []


def test_the_package_store_judges_its_values_like_a_stack_file() -> None:
    with pytest.raises(InputPropertiesError) as caught:
        redis_store_config({"chart_version": "23.1.1", "values": {"auth": {"password": "x"}}})
    assert "values.auth: is set by omnia-agents" in str(caught.value)


def test_storage_class_is_every_volume_s(write_stack) -> None:
    values = _values(run_plan(write_stack(prod_with(storageClass="fast-ssd"))))
    for role in ("master", "replica", "sentinel"):
        assert values[role]["persistence"]["storageClass"] == "fast-ssd", role
    assert (
        "storageClass" not in _values(run_plan(write_stack(prod_with())))["replica"]["persistence"]
    )


def test_storage_class_given_twice_is_refused() -> None:
    raw = prod_with(storageClass="fast", values={"global": {"defaultStorageClass": "slow"}})
    assert _refused(raw) == [
        (
            "omnia-agents:redis.values.global.defaultStorageClass",
            "and redis.storageClass both set: set one (the chart takes global.storageClass, "
            "then redis.storageClass, then global.defaultStorageClass)",
        )
    ]


@pytest.mark.parametrize("name", ["Fast", "fast_ssd", "-fast", "a" * 254])
def test_storage_class_must_be_a_kubernetes_name(name: str) -> None:
    ((key, message),) = _refused(prod_with(storageClass=name))
    assert key == "omnia-agents:redis.storageClass"
    assert "is not a DNS-1123 subdomain" in message


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ({"serviceMonitor": True}, "metrics.serviceMonitor and metrics.prometheusRule need"),
        (
            {"enabled": True, "prometheusRule": True},
            "metrics.prometheusRule needs metrics.serviceMonitor",
        ),
    ],
)
def test_metrics_objects_need_what_they_scrape(metrics, message) -> None:
    ((key, text),) = _refused(prod_with(metrics=metrics))
    assert key == "omnia-agents:redis.metrics" and text.startswith(message)


def test_the_exporter_image_without_metrics_is_a_warning() -> None:
    raw = prod_with(images={**stack_config("prod")["redis"]["images"], "exporter": {"tag": "x"}})
    assert (
        "omnia-agents:redis: images.exporter set, but metrics.enabled is off: only the metrics "
        "sidecar uses it"
    ) in parse_config(raw, "s").warnings()


def test_the_failover_settings_keep_their_fields() -> None:
    """The variants name settings as stack files spell them."""
    for name, info in FailoverConfig.model_fields.items():
        assert f"failover.{info.alias or name}" in chart_values.VARIANTS
