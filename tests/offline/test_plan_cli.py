"""`python plan.py` as users run it: a YAML stream or a JSON array of {type, name, inputs}."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from offline import cli
from offline.inputs import ROOT
from tests.support.stacks import stack_config


def test_yaml_stream_and_json_array_carry_the_same_items(capsys) -> None:
    assert cli.main(["prod"]) == 0
    stream = list(yaml.safe_load_all(capsys.readouterr().out))
    assert cli.main(["prod", "--format", "json"]) == 0
    array = json.loads(capsys.readouterr().out)
    assert stream == array
    reads = [i for i in array if "read" in i]  # objects read from the cluster come first
    assert array[: len(reads)] == reads
    assert all(list(item) == ["type", "name", "read"] for item in reads)
    assert all(list(item)[:3] == ["type", "name", "inputs"] for item in array[len(reads) :])
    assert {k for item in array for k in item} == {"type", "name", "inputs", "options", "read"}
    raw = stack_config("prod")
    assert sorted(i["name"] for i in array if i["type"].endswith(":AgentRuntime")) == sorted(
        f"{a['namespace']}.{a['name']}" for a in raw["agents"]
    )


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
