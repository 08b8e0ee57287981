"""The pack tests' fixtures: a stack file of full config keys, and its plan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import harness
from offline.program import run_plan


@pytest.fixture
def stack_file(tmp_path: Path) -> Callable[..., Path]:
    """Write `Pulumi.<stack>.yaml` whose config is `config` as given (keys with their prefix)."""

    def stack_file(config: dict[str, Any], stack: str) -> Path:
        path = tmp_path / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
        return path

    return stack_file


@pytest.fixture
def plan_of(stack_file: Callable[..., Path]) -> Callable[..., harness.Plan]:
    """The plan of such a stack file (keywords to run_plan)."""

    def plan_of(config: dict[str, Any], stack: str, **kwargs: Any) -> harness.Plan:
        return run_plan(stack_file(config, stack), stack, **kwargs)

    return plan_of
