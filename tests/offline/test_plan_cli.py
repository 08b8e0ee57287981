"""`python plan.py` as users run it: a JSON array of {type, name, urn, inputs} for programs, a
YAML stream for people (no URNs, no empty inputs, block scalars, a summary last)."""

from __future__ import annotations

import gc
import json
import logging
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from offline import cli, harness
from offline.inputs import ROOT, stack_file_for
from offline.program import run_plan
from settings.errors import CrdMismatch
from tests.support.shared import crd_path
from tests.support.stacks import stack_config
from upstream.agent_runtime import CRD_NAME


def test_yaml_stream_and_json_array_carry_the_same_items(capsys) -> None:
    assert cli.main(["prod"]) == 0
    text = capsys.readouterr().out
    *stream, last = yaml.safe_load_all(text)
    assert cli.main(["prod", "--format", "json"]) == 0
    array = json.loads(capsys.readouterr().out)
    # YAML for people: the same items without URNs and without empty inputs (components).
    people = [
        {k: v for k, v in i.items() if k != "urn" and not (k == "inputs" and v == {})}
        for i in array
    ]
    assert stream == people
    assert any(i.get("inputs") == {} for i in array) and "inputs: {}" not in text
    reads = [i for i in array if "read" in i]  # objects read from the cluster come first
    assert array[: len(reads)] == reads
    assert all(list(item) == ["type", "name", "urn", "read"] for item in reads)
    assert all(list(item)[:4] == ["type", "name", "urn", "inputs"] for item in array[len(reads) :])
    assert {k for item in array for k in item} == {
        "type", "name", "urn", "inputs", "options", "read"
    }  # fmt: skip
    raw = stack_config("prod")
    assert sorted(i["name"] for i in array if i["type"].endswith(":AgentRuntime")) == sorted(
        f"{a['namespace']}.{a['name']}" for a in raw["agents"]
    )
    # The last document sums the plan up: what it reads, and what it registers by type.
    made = [i for i in array if "read" not in i]
    assert last["summary"]["reads"] == len(reads)
    assert last["summary"]["resources"] == len(made)
    assert last["summary"]["by type"] == dict(Counter(i["type"] for i in made))
    assert last["summary"]["by type"]["kubernetes:omnia.altairalabs.ai/v1alpha1:AgentRuntime"] == (
        len(raw["agents"])
    )


def test_multi_line_values_print_as_block_scalars(capsys) -> None:
    """redis.conf reads as redis.conf: one line per directive, not one quoted string."""
    assert cli.main(["prod"]) == 0
    text = capsys.readouterr().out
    chart = next(d for d in yaml.safe_load_all(text) if d.get("name") == "redis" and "inputs" in d)
    conf = chart["inputs"]["values"]["commonConfiguration"]
    assert conf.count("\n") >= 5
    block = ["    commonConfiguration: |", *(f"      {line}" for line in conf.splitlines())]
    assert "\n".join(block) in text


def test_providers_parents_and_dependencies_come_first(capsys) -> None:
    assert cli.main(["prod", "--format", "json"]) == 0
    array = json.loads(capsys.readouterr().out)
    made = [i for i in array if "read" not in i]
    seen: set[str] = set()
    plan = {r.urn: r for r in run_plan(stack_file_for("prod")).resources}
    for item in made:
        resource = plan[item["urn"]]
        provider = resource.provider.rsplit("::", 1)[0]
        for needed in (resource.parent, provider, *resource.dependencies):
            assert needed in seen or needed not in plan, (item["name"], needed)
        seen.add(item["urn"])
    first_user = next(i for i, r in enumerate(made) if plan[r["urn"]].provider)
    provider_at = next(i for i, r in enumerate(made) if r["type"] == "pulumi:providers:kubernetes")
    assert provider_at < first_user


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_urn_is_the_one_existing_stacks_have(stack, capsys) -> None:
    """A renamed resource or type token is a delete and a create in a live stack: the URNs are
    pinned (tests/offline/urns), in the engine's form, for the resources the program registered
    before the layout moved, plus the data guard issue 15 added."""
    assert cli.main([stack, "--format", "json"]) == 0
    urns = sorted(i["urn"] for i in json.loads(capsys.readouterr().out))
    pinned = (Path(__file__).parent / "urns" / f"{stack}.txt").read_text(encoding="utf-8")
    assert urns == sorted(pinned.split())


def test_dev_plan_as_a_process_shows_a_memory_session() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "plan.py"), "dev"],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    # Offline without a CRD, the cluster's CRD is taken as present, and it says so.
    assert (done.returncode, done.stderr) == (0, cli.CRD_NOTE + "\n")
    items = list(yaml.safe_load_all(done.stdout))
    runtime = next(i for i in items if i["name"] == "agents.support")
    assert runtime["inputs"]["spec"]["context"] == {"type": "memory", "ttl": "1h"}


def test_no_stack_given_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main([])
    assert exit_.value.code == 2
    assert "give a STACK or --stack-file PATH" in capsys.readouterr().err


def test_a_failed_run_leaves_nothing_for_asyncio_to_log_later(caplog) -> None:
    """A run that fails part-way leaves futures holding the error the caller already has; left
    to asyncio, the garbage collector would log each again with its traceback in the middle of
    later work (and re-enter ast.parse there: python/cpython#106905)."""
    beta16 = ROOT / "examples" / "stacks" / "Pulumi.first-beta16.yaml"
    crd = yaml.safe_load(crd_path("v0.9.0-beta.17").read_text(encoding="utf-8"))
    cluster = harness.Cluster(crds={CRD_NAME: crd})
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        for _ in range(3):
            with pytest.raises(CrdMismatch):
                run_plan(beta16, cluster=cluster)
        gc.collect()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_urns_are_the_ones_the_engine_gives() -> None:
    """pulumi/pulumi deployment.go generateURN: no root-stack type for a top-level resource, the
    parent's whole qualified type for anything below (the SDK's stock mock monitor writes the
    root stack's type and only the parent's last type)."""
    plan = run_plan(stack_file_for("prod"))
    store = plan.one("omnia-agents:index:RedisStore", "redis")
    assert store.urn == "urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore::redis"
    namespace = plan.one("kubernetes:core/v1:Namespace", "redis-namespace")
    assert namespace.urn == (
        "urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore"
        "$kubernetes:core/v1:Namespace::redis-namespace"
    )
    assert namespace.parent == store.urn
    assert not any("pulumi:pulumi:Stack$" in r.urn for r in plan.resources)
