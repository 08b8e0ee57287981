"""The real Helm on the planned charts: each Chart v4 of a plan rendered into its children.

`plan.py --render` and the change preview render every `kubernetes:helm.sh/v4:Chart` the
program registers with the Helm 3 CLI (`make helm` installs the pinned one into `.tools/helm`),
from a packaged chart on disk, and add the objects the provider would register as children of
the Chart (upstream/helm_chart_v4.py) to the plan, so they are listed and diffed like any other
resource. Nothing is pulled: the chart is `redis.chart` when that is a local `.tgz`, otherwise
`<chart>-<version>.tgz` found under a charts folder (`--charts DIR`, default `charts/`, which
`helm pull` fills).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from offline.harness import Plan, Registration, apply_order, render
from offline.inputs import ROOT, display_path
from upstream.helm_chart_v4 import Child, RenderError, chart_children
from upstream.kubernetes import DEFAULT_NAMESPACE, HELM_CHART_V4

TOOLS_HELM = ROOT / ".tools" / "helm" / "helm"  # where `make helm` puts the pinned CLI
DEFAULT_CHARTS = Path("charts")  # where plan.py runs, as `helm pull --destination charts`
RENDER_TIMEOUT_S = 120
# chart.go `preregister`: this annotation makes the child RetainOnDelete.
KEEP_POLICY = ("helm.sh/resource-policy", "keep")
SECRET_FIELDS = ("data", "stringData")


class HelmError(Exception):
    """Helm or the chart cannot be found or does not render: one line per problem (exit 2)."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        super().__init__("\n".join(lines))


def helm_binary() -> str:
    """The pinned CLI in `.tools/helm`, else a `helm` on PATH."""
    if TOOLS_HELM.is_file() and os.access(TOOLS_HELM, os.X_OK):
        return str(TOOLS_HELM)
    found = shutil.which("helm")
    if found:
        return found
    raise HelmError(
        f"plan: helm not found (looked for {display_path(TOOLS_HELM)} and on PATH): "
        "run `make helm` to install the pinned Helm 3 CLI"
    )


@dataclass(frozen=True)
class ChartSource:
    path: Path
    name: str  # the chart's name, from its reference
    version: str


def chart_archive(chart: str, version: str, charts: Path) -> ChartSource:
    """The packaged chart a Chart's `chart`/`version` name, on disk (HelmError if absent)."""
    if not chart.startswith("oci://") and chart.endswith(".tgz"):
        path = (ROOT / chart).resolve()
        if not path.is_file():
            raise HelmError(f"plan: redis.chart {chart}: no such file ({display_path(path)})")
        return ChartSource(path, path.name.rsplit("-", 1)[0], version)
    name = chart.rstrip("/").rsplit("/", 1)[-1]
    wanted = f"{name}-{version}.tgz"
    found = sorted(charts.rglob(wanted)) if charts.is_dir() else []
    if not found:
        where = display_path(charts)
        raise HelmError(
            f"plan: chart {name} {version}: no {wanted} under {where} (--charts DIR); fetch "
            f"it with: helm pull {chart} --version {version} --destination {where}"
        )
    return ChartSource(found[0], name, version)


def helm_template(source: ChartSource, release: str, namespace: str, values: Any) -> str:
    """`helm template` as the provider renders a Chart v4: hooks left out (chart.go
    `DisableHooks`), CRDs included (`IncludeCRDs`), values as given. Once per input: a change
    preview renders both plans, and a chart the change leaves alone is the same render."""
    path = source.path
    return _template(
        helm_binary(), str(path), path.stat().st_mtime_ns, release, namespace, json.dumps(values)
    )


@functools.lru_cache(maxsize=64)
def _template(
    binary: str, path: str, _mtime: int, release: str, namespace: str, values: str
) -> str:
    """A render (a failure raises, so it is never kept); `_mtime` keys a rewritten archive."""
    command = [
        binary,
        "template",
        release,
        path,
        "--namespace",
        namespace,
        "--include-crds",
        "--no-hooks",
        "--values",
        "-",
    ]
    shown = display_path(Path(path))
    # Helm's own state (repositories, cache) kept out of the user's home: nothing is fetched.
    with tempfile.TemporaryDirectory(prefix="omnia-helm-") as home:
        env = {
            **os.environ,
            "HELM_CACHE_HOME": f"{home}/cache",
            "HELM_CONFIG_HOME": f"{home}/config",
            "HELM_DATA_HOME": f"{home}/data",
        }
        try:
            done = subprocess.run(
                command,
                input=values,
                capture_output=True,
                text=True,
                timeout=RENDER_TIMEOUT_S,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HelmError(f"plan: helm template {shown} took over {RENDER_TIMEOUT_S} s") from None
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()]
        raise HelmError(*(f"plan: helm template {shown}: {line}" for line in said))
    return done.stdout


def render_chart(chart: Registration, charts: Path) -> list[Child]:
    """One Chart registration rendered into the children the provider registers."""
    inputs = render(chart.inputs, show_secrets=True)
    source = chart_archive(str(inputs["chart"]), str(inputs.get("version", "")), charts)
    release = str(inputs.get("name") or chart.name)
    # chart.go: the Chart's namespace, else the provider's default namespace; the program's
    # provider sets none, so the kubeconfig context's (usually `default`).
    namespace = str(inputs.get("namespace") or DEFAULT_NAMESPACE)
    manifest = helm_template(source, release, namespace, inputs.get("values") or {})
    prefix = inputs.get("resourcePrefix")
    try:
        return chart_children(
            manifest, chart.urn, chart.name if prefix is None else str(prefix), namespace
        )
    except RenderError as err:
        raise HelmError(f"plan: {display_path(source.path)}: {err}") from None


def _secret_data(obj: dict[str, Any]) -> dict[str, Any]:
    """A Secret's `data` and `stringData` as secrets, as the provider registers them
    (pulumi-kubernetes @ 94977969d6 provider/pkg/provider/yaml/v2/yaml.go `register`: "Always
    mark these fields as secret"): masked in the plan, secrets on the analyzer's wire."""
    if obj.get("apiVersion") != "v1" or obj.get("kind") != "Secret":
        return obj
    return {k: rpc.wrap_rpc_secret(v) if k in SECRET_FIELDS else v for k, v in obj.items()}


def add_children(plan: Plan, charts: Path) -> Plan:
    """Every Chart v4 in the plan rendered, its children registered under it (in place).

    Children inherit the Chart's providers and `protect`, not its dependsOn
    (pulumi/pulumi sdk/go/pulumi/context.go `registerResource`; they wait for the Chart)."""
    added: list[Registration] = []
    for chart in plan.find(HELM_CHART_V4):
        provider = chart.providers.get("kubernetes", chart.provider)
        for child in render_chart(chart, charts):
            annotations = child.object["metadata"].get("annotations") or {}
            added.append(
                Registration(
                    type=child.type,
                    name=child.name,
                    urn=child.urn,
                    parent=chart.urn,
                    inputs=_secret_data(child.object),
                    dependencies=[],
                    protect=chart.protect,
                    retain_on_delete=annotations.get(KEEP_POLICY[0]) == KEEP_POLICY[1],
                    provider=provider,
                )
            )
    plan.resources = apply_order([*plan.resources, *added])
    return plan
