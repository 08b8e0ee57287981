"""The advisory that a production Redis is watched, on the real plans: on the objects the
chart renders (what the engine analyzes of a Chart v4) and on a v3 Release's values."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from offline import harness
from offline.inputs import ROOT
from offline.program import run_plan
from policy.tests.test_policies import POLICIES, _pack_config, _stack_raw, as_release, run_policies
from tests.support.render import rendered_plan

NAME = "omnia-production-redis-metrics"
UNWATCHED = (
    "nobody sees this Redis reach maxmemory, evict sessions, refuse writes or lose its "
    "replicas; set omnia-agents:redis.metrics {enabled: true, serviceMonitor: true, "
    "prometheusRule: true}"
)
NOT_ON = f"values.metrics.enabled is not true: {UNWATCHED}"
NO_EXPORTER = (
    "StatefulSet redis/redis-node: no `metrics` exporter container (the chart's "
    f"metrics.enabled is not true): {UNWATCHED}"
)


def _released(plan: harness.Plan) -> harness.Plan:
    as_release(plan)
    return plan


def _prod_with(metrics: dict[str, Any] | None) -> dict[str, Any]:
    raw = _stack_raw("prod")
    raw["omnia-agents:redis"] = copy.deepcopy(raw["omnia-agents:redis"])
    if metrics is not None:
        raw["omnia-agents:redis"]["metrics"] = metrics
    return raw


def test_it_is_advisory_and_the_prod_stack_gets_it() -> None:
    """On the render, as `pulumi preview` analyzes it; the Chart v4 alone says nothing."""
    assert POLICIES[NAME].enforcement_level.value == "advisory"
    prod = ROOT / "stacks" / "Pulumi.prod.yaml"
    assert run_policies(run_plan(prod), _pack_config())[NAME] == []  # the Chart: no props
    assert run_policies(rendered_plan(prod), _pack_config())[NAME] == [NO_EXPORTER]
    assert run_policies(_released(run_plan(prod)), _pack_config())[NAME] == [NOT_ON]
    assert run_policies(run_plan(ROOT / "stacks" / "Pulumi.dev.yaml"))[NAME] == []  # no Redis


def test_the_exporter_on_passes_the_render(stack_file: Callable[..., Path]) -> None:
    on = _prod_with({"enabled": True, "serviceMonitor": True, "prometheusRule": True})
    assert run_policies(rendered_plan(stack_file(on, "prod")))[NAME] == []
    # Without Sentinel the chart renders a master and a replicas StatefulSet: each is judged.
    raw = _prod_with(None)
    raw["omnia-agents:redis"]["sentinel"] = False
    raw["omnia-agents:redis"]["failover"].pop("minReplicasToWrite")
    found = run_policies(rendered_plan(stack_file(raw, "prod")))[NAME]
    assert found == [
        NO_EXPORTER.replace("redis-node", name) for name in ("redis-master", "redis-replicas")
    ]


def test_metrics_with_alerts_pass_and_without_alerts_do_not(
    plan_of: Callable[..., harness.Plan],
) -> None:
    """A v3 Release's values: the alert rules are judged there only (a render's
    PrometheusRule is not judged yet)."""
    alerts = {"enabled": True, "serviceMonitor": True, "prometheusRule": True}
    on = _released(plan_of(_prod_with(alerts), "prod"))
    assert run_policies(on)[NAME] == []
    bare = _released(plan_of(_prod_with({"enabled": True}), "prod"))
    assert run_policies(bare)[NAME] == [
        "values.metrics.prometheusRule.enabled is not true: no alert fires when this Redis loses "
        "sessions; set omnia-agents:redis.metrics.prometheusRule: true"
    ]
    # Not a production stack: no opinion.
    assert run_policies(_released(plan_of(_prod_with(None), "staging")))[NAME] == []
