"""`python plan.py` as users run it: a YAML stream or a JSON array of {type, name, inputs}."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

import plan as harness
from tests.conftest import stack_config


def test_yaml_stream_and_json_array_carry_the_same_items(capsys) -> None:
    assert harness.main(["prod"]) == 0
    stream = list(yaml.safe_load_all(capsys.readouterr().out))
    assert harness.main(["prod", "--format", "json"]) == 0
    array = json.loads(capsys.readouterr().out)
    assert stream == array
    assert all(list(item)[:3] == ["type", "name", "inputs"] for item in array)
    assert {k for item in array for k in item} == {"type", "name", "inputs", "options"}
    raw = stack_config("prod")
    assert sorted(i["name"] for i in array if i["type"].endswith(":AgentRuntime")) == sorted(
        f"{a['namespace']}.{a['name']}" for a in raw["agents"]
    )


def test_dev_plan_as_a_process_shows_a_memory_session() -> None:
    done = subprocess.run(
        [sys.executable, str(harness.ROOT / "plan.py"), "dev"],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    assert (done.returncode, done.stderr) == (0, "")
    items = list(yaml.safe_load_all(done.stdout))
    runtime = next(i for i in items if i["name"] == "agents.support")
    assert runtime["inputs"]["spec"]["context"] == {"type": "memory", "ttl": "1h"}


def test_no_stack_given_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        harness.main([])
    assert exit_.value.code == 2
    assert "give a STACK or --stack-file PATH" in capsys.readouterr().err
