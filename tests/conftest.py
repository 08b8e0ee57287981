"""Shared fixtures: the real stack files, planned through the same harness as `plan.py`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from offline import harness
from offline.inputs import stack_file_for
from offline.program import run_plan
from tests.support import render


@pytest.fixture
def dev_plan() -> harness.Plan:
    return run_plan(stack_file_for("dev"))


@pytest.fixture
def prod_plan() -> harness.Plan:
    return run_plan(stack_file_for("prod"))


@pytest.fixture
def write_stack(tmp_path: Path) -> Callable[..., Path]:
    """Write a stack file whose omnia-agents keys are `config` (prefix added)."""

    def write(config: dict[str, Any], name: str = "test", raw: str | None = None) -> Path:
        path = tmp_path / f"Pulumi.{name}.yaml"
        if raw is not None:
            path.write_text(raw, encoding="utf-8")
            return path
        return render.write_stack(path, config)

    return write
