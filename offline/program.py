"""The real `__main__.py`, run on a stack file under the mock harness: the one entry point the
offline plan, the change preview, the tests and the benchmarks share."""

from __future__ import annotations

import runpy
from pathlib import Path

from offline.harness import Cluster, Plan, run_program
from offline.inputs import ROOT, display_path, project_settings, read_stack_config, stack_name_of


def run_plan(
    stack_file: Path,
    stack: str | None = None,
    *,
    unknown_computed: bool = False,
    into: Plan | None = None,
    cluster: Cluster | None = None,
) -> Plan:
    """Run `__main__.py` with the stack file's config; raise ConfigError/StackFileError, and
    NotInClusterError / CrdMismatch when the (mock) cluster lacks or refuses what it needs."""
    from settings import loader

    project, _ = project_settings()
    stack = stack or stack_name_of(stack_file)
    config = read_stack_config(stack_file, project)

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    # The program's messages name the file this plan read, wherever it is.
    loader.stack_file_override = display_path(stack_file)
    try:
        return run_program(
            program,
            config,
            project=project,
            stack=stack,
            unknown_computed=unknown_computed,
            into=into,
            cluster=cluster,
        )
    finally:
        loader.stack_file_override = None
