"""Stacks planned and rendered by the real Helm on the real charts of ../shared/bitnami-redis.

Helm is the pinned CLI `make helm` installs (or one on PATH); missing with `CI` set fails the
test, never skips it (tests.support.shared.need_helm).
"""

from __future__ import annotations

import copy
import re
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


def set_path(node: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set the key at `parts` under `node`, making the maps on the way (None: removed)."""
    *head, last = parts
    for part in head:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value


def with_redis(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of a stack's config with `redis.<dotted key>` set (None: removed)."""
    raw = copy.deepcopy(raw)
    for path, value in changes.items():
        set_path(raw["redis"], path.split("__"), value)
    return raw


def replication(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The stack's Redis as a master and replicas without Sentinel (and without the write guard
    the settings allow only beside Sentinel)."""
    return with_redis(raw, sentinel=False, failover__minReplicasToWrite=None, **changes)


def standalone(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The stack's Redis as one master: no Sentinel, no replicas, no write guard."""
    return replication(raw, architecture="standalone", replicas=None, **changes)


def render_values(values: dict[str, Any], version: str, namespace: str = "redis") -> list[Any]:
    """Chart values straight through `helm template` (for topologies the settings refuse)."""
    from offline.helm import ChartSource, helm_template

    need_helm()
    source = ChartSource(need_charts() / version / f"redis-{version}.tgz", "redis", version)
    manifest = helm_template(source, "redis", namespace, values)
    children = chart_children(manifest, "urn:pulumi:t::p::x::redis", "redis", namespace)
    return [c.object for c in children]


_INCLUDE = re.compile(r'ARGS\+=\("--include" "/opt/bitnami/redis/etc/([\w.]+)"\)')
_MONITOR = re.compile(r"^sentinel monitor (\S+) \S+ \d+ (\d+)$")
# What start-sentinel.sh appends to the mounted sentinel.conf before it starts Sentinel.
_SENTINEL_AUTH = (
    'printf "\\nsentinel auth-pass %s %s" "mymaster" "$REDIS_PASSWORD"',
    'printf "\\nrequirepass %s" "$REDIS_PASSWORD"',
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


class RenderedConfigs:
    """The processes' configs as the chart starts them, from its rendered ConfigMaps and
    start scripts, rewritten for loopback: no `dir` or `port` of the pod (each process gets
    its own), the master at 127.0.0.1. Left out, because they name pods: the replicas'
    `replica-announce-ip/port` (their DNS names) and Sentinel's `client-reconfig-script`
    (push-master-label.sh relabels pods through the Kubernetes API) and hostname settings."""

    sentinel_requires_password = True

    def __init__(self, objs: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.files = objs[("ConfigMap", "redis-configuration")]["data"]
        scripts = objs[("ConfigMap", "redis-scripts")]["data"]
        self.sentinel_mode = "start-node.sh" in scripts
        self.master_script = scripts["start-node.sh" if self.sentinel_mode else "start-master.sh"]
        # Standalone renders no replica script.
        self.replica_script = scripts.get(
            "start-node.sh" if self.sentinel_mode else "start-replica.sh", ""
        )
        for script in filter(None, (self.master_script, self.replica_script)):
            assert 'ARGS+=("--requirepass" "${REDIS_PASSWORD}")' in script
            assert "--masterauth" in script
        if self.sentinel_mode:
            start = scripts["start-sentinel.sh"]
            assert all(line in start for line in _SENTINEL_AUTH), "the chart's Sentinel auth"
            # The quorum start-sentinel.sh writes into the monitor line at boot.
            quorum = re.search(r'"sentinel monitor" "mymaster \S+ \S+ (\d+)"', start)
            assert quorum is not None
            self.quorum = int(quorum.group(1))

    def redis_conf(self) -> list[str]:
        """The common redis.conf lines (what CONFIG GET must report)."""
        return _lines(self.files["redis.conf"])

    def sentinel_conf(self) -> list[str]:
        return _lines(self.files["sentinel.conf"])

    def node(self, password: str, master_port: int | None) -> str:
        script = self.master_script if master_port is None else self.replica_script
        lines = []
        for include in _INCLUDE.findall(script):
            lines += [line for line in _lines(self.files[include]) if not line.startswith("dir ")]
        # Imported here: redis_procs needs redis-py, which policy/venv (importing this) lacks.
        from tests.support.redis_procs import auth_lines

        lines += auth_lines(password, master_port)
        return "\n".join(lines) + "\n"

    def sentinel(self, password: str, master_port: int) -> str:
        lines = []
        for line in self.sentinel_conf():
            if line.startswith(("dir ", "port ", "sentinel client-reconfig-script ")):
                continue
            monitor = _MONITOR.match(line)
            if monitor:
                line = f"sentinel monitor {monitor.group(1)} 127.0.0.1 {master_port} {self.quorum}"
            lines.append(line)
        lines += [f"sentinel auth-pass mymaster {password}", f"requirepass {password}"]
        return "\n".join(lines) + "\n"


def rendered_configs(raw: dict[str, Any], tmp: Path) -> RenderedConfigs:
    """A stack's processes as the pinned chart renders them for it."""
    return RenderedConfigs(objects(rendered_plan(write_stack(tmp / "Pulumi.prod.yaml", raw))))


def configs_of_values(values: dict[str, Any], version: str) -> RenderedConfigs:
    """Processes as the chart would run them for these values, settings refusals aside."""
    objs = render_values(values, version)
    return RenderedConfigs({(o["kind"], o["metadata"]["name"]): o for o in objs})
