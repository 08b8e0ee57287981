"""Stacks planned and rendered by the real Helm on the real charts of ../shared/bitnami-redis.

Helm is the pinned CLI `make helm` installs (or one on PATH); missing with `CI` set fails the
test, never skips it (tests.support.shared.need_helm).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from offline import harness
from offline.helm import add_children
from offline.program import run_plan
from settings.project import PROJECT
from tests.support.shared import CHARTS, need_helm, shared_file
from upstream.chart_versions import CHECKED
from upstream.helm_chart_v4 import chart_children


def need_charts() -> Path:
    for version in CHECKED:
        shared_file(
            CHARTS / version / f"redis-{version}.tgz",
            "the packaged Bitnami Redis charts (bitnami/charts at their release commits)",
        )
    return CHARTS


def write_stack(path: Path, config: dict[str, Any]) -> Path:
    """A stack file with these omnia-agents keys (prefix added)."""
    document = {"config": {f"{PROJECT}:{k}": v for k, v in config.items()}}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def rendered_plan(stack_file: Path, stack: str = "prod") -> harness.Plan:
    """The stack's plan with every Chart's children, as `plan.py --render` makes it."""
    need_helm()
    return add_children(run_plan(stack_file, stack), need_charts())


def objects(plan: harness.Plan) -> dict[tuple[str, str], dict[str, Any]]:
    """The rendered children as (kind, metadata.name) -> the object the provider receives."""
    charts = {r.urn for r in plan.resources if r.type.endswith(":Chart")}
    found = {}
    for r in plan.resources:
        if r.parent in charts:
            obj = harness.render(r.inputs, show_secrets=True)
            found[(obj["kind"], obj["metadata"]["name"])] = obj
    return found


def with_redis(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of a stack's config with `redis.<dotted key>` set (None: removed)."""
    raw = copy.deepcopy(raw)
    for path, value in changes.items():
        node = raw["redis"]
        *head, last = path.split("__")
        for part in head:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return raw


def render_values(values: dict[str, Any], version: str, namespace: str = "redis") -> list[Any]:
    """Chart values straight through `helm template` (for topologies the settings refuse)."""
    from offline.helm import ChartSource, helm_template

    need_helm()
    source = ChartSource(need_charts() / version / f"redis-{version}.tgz", "redis", version)
    manifest = helm_template(source, "redis", namespace, values)
    children = chart_children(manifest, "urn:pulumi:t::p::x::redis", "redis", namespace)
    return [c.object for c in children]
