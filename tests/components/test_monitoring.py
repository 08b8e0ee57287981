"""`redis.metrics` in the plan: the chart's exporter and the Prometheus operator's objects, and
the operator's CRDs read at preview so a cluster without it fails `pulumi preview`."""

from __future__ import annotations

import pytest

from offline import cli, harness
from offline.program import run_plan
from tests.support.stacks import CHART, prod_with
from upstream.kubernetes import CRD
from upstream.prometheus_operator import INSTALL_HINT, PROMETHEUS_RULE_CRD, SERVICE_MONITOR_CRD
from upstream.redis_chart import EXPORTER_REPOSITORY, RELEASE
from upstream.redis_metrics import SCRAPE_INTERVAL, chart_rules

ALL_ON = {"enabled": True, "serviceMonitor": True, "prometheusRule": True}
NO_OPERATOR = harness.Cluster(prometheus_operator=False)


def test_all_on_reads_both_crds_and_the_chart_waits_for_them(write_stack) -> None:
    plan = run_plan(write_stack(prod_with(metrics=ALL_ON)))
    reads = {r.id: r for r in plan.reads if r.type == CRD}
    assert set(reads) == {
        "agentruntimes.omnia.altairalabs.ai",
        SERVICE_MONITOR_CRD,
        PROMETHEUS_RULE_CRD,
    }
    chart = plan.one(CHART, "redis")
    store = next(r for r in plan.resources if r.type == "omnia-agents:index:RedisStore")
    provider = next(r for r in plan.resources if r.name == "cluster-provider")
    for crd in (SERVICE_MONITOR_CRD, PROMETHEUS_RULE_CRD):
        assert reads[crd].urn in chart.dependencies
        assert reads[crd].parent == store.urn
        assert reads[crd].provider.startswith(provider.urn)


def test_all_on_chart_values(write_stack) -> None:
    config = prod_with(metrics=ALL_ON)
    values = run_plan(write_stack(config)).one(CHART, "redis").inputs["values"]
    from settings.loader import parse_config

    redis = parse_config(config, "s").redis
    assert redis is not None
    assert values["metrics"] == {
        "enabled": True,
        # The chart's own tag (metrics.image.tag), from where Bitnami's versioned images went.
        "image": {"registry": "docker.io", "repository": EXPORTER_REPOSITORY},
        "serviceMonitor": {"enabled": True, "interval": SCRAPE_INTERVAL},
        "prometheusRule": {"enabled": True, "rules": chart_rules(redis, RELEASE)},
    }
    assert values["global"] == {"security": {"allowInsecureImages": True}}


@pytest.mark.parametrize(
    ("metrics", "missing"),
    [
        # The reads run one after the other: the first reports.
        (ALL_ON, {SERVICE_MONITOR_CRD}),
        ({"enabled": True, "serviceMonitor": True}, {SERVICE_MONITOR_CRD}),
    ],
)
def test_a_cluster_without_the_operator_fails_the_preview(write_stack, metrics, missing) -> None:
    with pytest.raises(harness.NotInClusterError) as caught:
        run_plan(write_stack(prod_with(metrics=metrics)), cluster=NO_OPERATOR)
    assert caught.value.type == CRD and caught.value.name in missing


def test_the_exporter_alone_needs_no_operator(write_stack) -> None:
    plan = run_plan(write_stack(prod_with(metrics={"enabled": True})), cluster=NO_OPERATOR)
    assert {r.id for r in plan.reads if r.type == CRD} == {"agentruntimes.omnia.altairalabs.ai"}
    metrics = plan.one(CHART, "redis").inputs["values"]["metrics"]
    assert set(metrics) == {"enabled", "image"}


def test_the_plan_says_what_to_install(write_stack, tmp_path, capsys) -> None:
    description = tmp_path / "cluster.yaml"
    description.write_text("prometheusOperator: false\n", encoding="utf-8")
    path = write_stack(prod_with(metrics={"enabled": True, "serviceMonitor": True}))
    assert cli.main(["--stack-file", str(path), "--cluster", str(description)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[:2] == [
        f"{path}: the cluster has no CustomResourceDefinition '{SERVICE_MONITOR_CRD}'",
        INSTALL_HINT,
    ]


def test_without_metrics_nothing_is_read_or_set(prod_plan) -> None:
    assert [r.id for r in prod_plan.reads if r.type == CRD] == [
        "agentruntimes.omnia.altairalabs.ai"
    ]
    values = prod_plan.one(CHART, "redis").inputs["values"]
    assert "metrics" not in values and "metrics" not in values["networkPolicy"]
