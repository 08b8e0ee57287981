"""What the Prometheus operator serves and how it labels what it scrapes (pure).

The chart renders its ServiceMonitor and PrometheusRule as `monitoring.coreos.com/v1` objects
(bitnami/charts bitnami/redis/templates/servicemonitor.yaml, prometheusrule.yaml); only a
cluster that runs the operator serves those kinds.
"""

from __future__ import annotations

GROUP = "monitoring.coreos.com"
SERVICE_MONITOR_CRD = f"servicemonitors.{GROUP}"
PROMETHEUS_RULE_CRD = f"prometheusrules.{GROUP}"
CRDS = (SERVICE_MONITOR_CRD, PROMETHEUS_RULE_CRD)
# The labels every target of a ServiceMonitor carries, whatever the Prometheus:
# prometheus-operator pkg/prometheus/promcfg.go (v0.93.0) relabels `namespace`, `service`,
# `pod` and `container` from the Kubernetes meta labels, sets `job` to the Service's name
# (no `jobLabel` given) and `endpoint` to the port name.
TARGET_LABELS = ("namespace", "service", "pod", "container", "endpoint", "job", "instance")
# Prometheus's own series per target: 1 when the scrape succeeded, 0 when it failed
# (prometheus/prometheus scrape/scrape.go, `up`).
UP = "up"
INSTALL_HINT = (
    "the cluster does not serve the Prometheus operator's ServiceMonitor and PrometheusRule "
    "kinds (monitoring.coreos.com): install the operator (e.g. the kube-prometheus-stack chart) "
    "or turn off redis.metrics.serviceMonitor and redis.metrics.prometheusRule"
)
