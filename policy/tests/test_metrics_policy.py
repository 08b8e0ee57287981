"""The advisory that a production Redis is watched, on the real plans."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import harness
from offline.inputs import ROOT
from offline.program import run_plan
from policy.tests.test_policies import POLICIES, _pack_config, _stack_raw, run_policies

NAME = "omnia-production-redis-metrics"
NOT_ON = (
    "values.metrics.enabled is not true: nobody sees this Redis reach maxmemory, evict sessions, "
    "refuse writes or lose its replicas; set omnia-agents:redis.metrics {enabled: true, "
    "serviceMonitor: true, prometheusRule: true}"
)


@pytest.fixture
def plan_of(tmp_path: Path) -> Callable[..., harness.Plan]:
    def plan_of(config: dict[str, Any], stack: str) -> harness.Plan:
        path = tmp_path / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
        return run_plan(path, stack)

    return plan_of


def _prod_with(metrics: dict[str, Any] | None) -> dict[str, Any]:
    raw = _stack_raw("prod")
    raw["omnia-agents:redis"] = copy.deepcopy(raw["omnia-agents:redis"])
    if metrics is not None:
        raw["omnia-agents:redis"]["metrics"] = metrics
    return raw


def test_it_is_advisory_and_the_prod_stack_gets_it() -> None:
    assert POLICIES[NAME].enforcement_level.value == "advisory"
    plan = run_plan(ROOT / "stacks" / "Pulumi.prod.yaml")
    found = run_policies(plan, _pack_config())
    assert found[NAME] == [NOT_ON]
    assert run_policies(run_plan(ROOT / "stacks" / "Pulumi.dev.yaml"))[NAME] == []  # no Redis


def test_metrics_with_alerts_pass_and_without_alerts_do_not(
    plan_of: Callable[..., harness.Plan],
) -> None:
    on = plan_of(
        _prod_with({"enabled": True, "serviceMonitor": True, "prometheusRule": True}), "prod"
    )
    assert run_policies(on)[NAME] == []
    bare = plan_of(_prod_with({"enabled": True}), "prod")
    assert run_policies(bare)[NAME] == [
        "values.metrics.prometheusRule.enabled is not true: no alert fires when this Redis loses "
        "sessions; set omnia-agents:redis.metrics.prometheusRule: true"
    ]
    # Not a production stack: no opinion.
    assert run_policies(plan_of(_prod_with(None), "staging"))[NAME] == []
