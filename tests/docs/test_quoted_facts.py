"""What the docs quote from the code, the chart and the measurements is what those say.

Defaults, ranges, the release table, prod's redis.conf lines, the sizing table, the failover
settings, the package's outputs and the benchmark figures: each is read off the page and
compared with its one source, so a changed default cannot leave the docs behind.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from offline.inputs import ROOT, stack_file_for
from offline.program import run_plan
from settings import package_args
from settings.errors import _model_of
from settings.models import RedisConfig, StackConfig
from tests.support import package_schema
from tests.support.markdown import DOCS, table
from tests.support.shared import CHARTS, shared_file
from tests.support.stacks import CHART
from upstream.kubernetes import MIB, memory_bytes
from upstream.omnia_releases import NEWEST_KNOWN, RELEASES
from upstream.redis_chart import AOF_VOLUME_FACTOR

DASH = "\N{EN DASH}"  # the pages write ranges as 10\N{EN DASH}90


def field(path: str) -> Any:
    """The pydantic field a dotted stack-file key names (`redis.failover.failoverTimeout`)."""
    model: type[BaseModel] | None = StackConfig
    found = None
    for part in path.replace("[i]", "").split("."):
        assert model is not None, path
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        found = fields[part]
        model = _model_of(found.annotation)
    return found


def _quoted(cell: str) -> str | None:
    found = re.match(r"no \(`([^`]+)`", cell)
    return found.group(1) if found else None


def _as_doc(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


CONFIG_ROWS = table(DOCS / "configuration.md", "key ")


def test_every_quoted_default_is_the_model_s() -> None:
    checked = 0
    for key, required, _ in CONFIG_ROWS:
        default = _quoted(required)
        name = key.strip("`").split("`")[0]
        if default is None or ":" in name:
            continue
        info = field(name)
        if info.default is None:  # a default the model derives (e.g. the write guard)
            continue
        assert default == _as_doc(info.default), name
        checked += 1
    assert checked >= 15


def test_every_quoted_range_is_the_model_s() -> None:
    checked = 0
    for key, _, meaning in CONFIG_ROWS:
        found = re.search(rf"\((\d+){DASH}(\d+)\)", meaning)
        if not found:
            continue
        info = field(key.strip("`"))
        bounds = {type(m).__name__: m for m in info.metadata}
        assert (bounds["Ge"].ge, bounds["Le"].le) == (int(found[1]), int(found[2])), key
        checked += 1
    assert checked >= 2


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key a stack file can set that holds a value (blocks are their keys' sum)."""
    found = set()
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        key = prefix + (info.alias or name)
        nested = _model_of(info.annotation)
        if nested is None:
            found.add(key)
        else:
            kind = str(info.annotation)
            inner = (
                f"{key}[i]."
                if "list" in kind
                else f"{key}.<name>."
                if "dict" in kind
                else f"{key}."
            )
            found |= _keys(nested, inner)
    return found


def test_the_reference_has_a_row_for_every_key() -> None:
    rows = " ".join(r[0] for r in CONFIG_ROWS)
    documented = set(re.findall(r"`([a-zA-Z][\w\[\].<>]*)`", rows))
    # `redis.images.redis` / `.sentinel` / `.kubectl` is one row for the three images.
    wanted = {
        k
        for k in _keys(StackConfig)
        # One row each: the images' {registry, repository, tag}, an agent's session override,
        # an in-cluster store's `redis` (every key of omnia-agents:redis).
        if not (
            k.startswith("redis.images.")
            or k.startswith("agents[i].session.")
            or k.startswith("stores.<name>.redis.")
        )
    }
    wanted |= {"redis.images.redis", "agents[i].session", "stores", "stores.<name>.redis"}
    assert wanted - documented == set()
    assert len(wanted) >= 25


def test_the_release_table_is_the_program_s() -> None:
    rows = table(DOCS / "omnia-releases.md", "`omniaVersion`")
    assert len(rows) == len(RELEASES)
    for row, release in zip(rows, RELEASES, strict=True):
        version, block, facade, wiring, history, extra_env, annotations = row
        if release.last is None:
            assert version == f"newer than {NEWEST_KNOWN}"
        else:
            assert version.startswith(release.first)
        assert (block, facade) == (f"`{release.block}`", f"`{release.facade}`")
        assert ("extraEnv" in wiring) == (release.url_wiring == "extra_env")
        if release.history is None:
            assert history == "`ttl`"
        else:
            assert history == ", ".join(f"{p} ({k})" for k, p in release.history.items())
        assert (extra_env, annotations) == tuple(
            "yes" if flag else "no" for flag in (release.extra_env, release.pod_annotations)
        )


def test_prod_s_quoted_redis_conf_lines_are_the_ones_it_plans() -> None:
    text = (DOCS / "configuration.md").read_text()
    quoted = text.split("Prod (1Gi):", 1)[1].split(";", 1)[0]
    lines = re.findall(r"`([^`]+)`", quoted)
    plan = run_plan(stack_file_for("prod"))
    conf = plan.one(CHART, "redis").inputs["values"]["commonConfiguration"].splitlines()
    assert len(lines) >= 5 and set(lines) <= set(conf)
    prod = yaml.safe_load(stack_file_for("prod").read_text())["config"]["omnia-agents:redis"]
    assert prod["resources"]["memory"] == "1Gi"


def _mb(text: str) -> int:
    return int(text.removesuffix("mb"))


def test_the_sizing_table_follows_the_program_s_rules() -> None:
    """maxmemory is the program's share of the limit; volumeSize holds the AOF; maxmemory is
    at least 1.25x the data (the page's rule), so growth does not start eviction."""
    for _, _, data, memory, maxmemory, volume in table(DOCS / "operating-redis.md", "sessions"):
        memory = memory.split("`")[1]
        volume = volume.split("`")[1]
        config = RedisConfig.model_validate(
            {"chartVersion": "23.1.1", "resources": {"memory": memory}, "volumeSize": volume}
        )  # the model refuses a volume too small for the AOF
        assert config.maxmemory_bytes // MIB == _mb(maxmemory), memory
        assert memory_bytes(volume) >= AOF_VOLUME_FACTOR * config.maxmemory_bytes
        amount, unit = data.split()
        data_mib = float(amount) * (1024 if unit == "GiB" else 1)
        assert _mb(maxmemory) >= 1.25 * data_mib, data


def _chart_values(version: str) -> dict[str, Any]:
    source = shared_file(CHARTS / version / "values.yaml", "Bitnami's chart files")
    values: dict[str, Any] = yaml.safe_load(source.read_text())
    return values


def test_the_failover_table_quotes_program_and_chart_defaults() -> None:
    chart = _chart_values("23.1.1")["sentinel"]
    rows = table(DOCS / "operating-redis.md", "setting")
    for setting, default, chart_default, _ in rows:
        key = setting.strip("`")
        info = field(f"redis.{key}")
        if info.default is not None:
            assert default == str(info.default), key
        name = key.split(".")[1]
        if name in chart:
            assert chart_default == str(chart[name]), key
    assert {r[0].strip("`").split(".")[1] for r in rows} & set(chart) == {
        "downAfterMilliseconds",
        "failoverTimeout",
    }


def test_the_measured_sizing_figures_are_the_benchmark_s() -> None:
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    rows = table(ROOT / "benchmarks" / "RESULTS.md", "sessions")
    assert rows, results[:100]
    overheads = [r[3] for r in rows]
    aof = [float(r[5].removesuffix("x")) for r in rows]
    rewrite = [float(r[6]) for r in rows]
    cow = [float(r[7].removesuffix(" %")) for r in rows]
    used = [int(r[4]) for r in rows]
    page = (DOCS / "operating-redis.md").read_text().replace("\n", " ")
    assert f"measured: {overheads[0]} at 2.3 KB a session, {overheads[1]} at 8.3 KB" in page
    assert f"measured {min(aof)}{DASH}{max(aof)}x `used_memory`" in page
    assert f"copied {min(cow)}{DASH}{max(cow)} % of the data" in page
    rewrites = f"{min(rewrite)}{DASH}{max(rewrite)} s rewrites of {min(used)}{DASH}{max(used)} MiB"
    assert f"({rewrites})" in page


def test_the_outputs_table_is_the_schema_s(schema_outputs: dict[str, dict[str, Any]]) -> None:
    rows = table(DOCS / "component-package.md", "component | output")
    documented: dict[str, set[str]] = {}
    for component, output, _, _ in rows:
        documented.setdefault(component.strip("`"), set()).add(output.strip("`"))
    assert documented == {name: set(outputs) for name, outputs in schema_outputs.items()}


@pytest.fixture
def schema_outputs() -> dict[str, dict[str, Any]]:
    return {
        token.rsplit(":", 1)[1]: resource.get("properties", {})
        for token, resource in package_schema.schema()["resources"].items()
    }


def test_every_default_an_arg_docstring_quotes_is_the_model_s() -> None:
    """The package schema's descriptions come from docstrings the SDK reads from the source; a
    default they quote must be the model's."""
    tree = ast.parse(Path(package_args.__file__).read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    checked = 0
    for typed, model in package_schema.PAIRS:
        body = classes[typed.__name__].body
        for node, after in itertools.pairwise(body):
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            doc = (
                after.value.value
                if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                else ""
            )
            quoted = re.search(r"\(default ([^),;]+)[),;]", str(doc))
            info = model.model_fields.get(node.target.id)
            if quoted is None or info is None or info.default is None:
                continue  # None: a default the model derives (the write guard), said in words
            assert quoted.group(1).strip("`") == _as_doc(info.default), node.target.id
            checked += 1
    assert checked >= 5


def test_every_relative_link_resolves() -> None:
    broken = []
    for doc in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc.read_text()):
            if "://" in target:
                continue
            if not (doc.parent / target).exists():
                broken.append((doc.name, target))
    assert broken == []


def test_the_stack_outputs_table_is_what_the_program_exports() -> None:
    """docs/deploying.md's table: one row per `pulumi.export` of __main__.py, and the keys it
    quotes for `stores` are those the docs' three-store stack exports (with the two kinds)."""
    rows = {row[0].strip("`"): row for row in table(DOCS / "deploying.md", "output | when")}
    exported = set(re.findall(r'pulumi\.export\("(\w+)"', (ROOT / "__main__.py").read_text()))
    assert set(rows) == exported
    plan = run_plan(DOCS / "snippets" / "Pulumi.stores.yaml", "stores")
    stores = plan.outputs["stores"]
    keys = {key for entry in stores.values() for key in entry}
    kinds = {entry["kind"] for entry in stores.values()}
    assert kinds == {"redis", "url"}
    assert set(re.findall(r"`([^`]+)`", rows["stores"][2])) == keys | kinds
