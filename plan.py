"""Offline plan: run the real `__main__.py` under Pulumi mocks and print what it would register.

Needs no cluster, no Pulumi CLI and no network. The tests use the same harness (`run_plan`), so
what they assert is what `python plan.py STACK` shows.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import re
import runpy
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # the program imports `components` as `pulumi up` would
    sys.path.insert(0, str(ROOT))

from components.config import ConfigError, CrdMismatch  # noqa: E402
from harness import (  # noqa: E402  (re-exported: the tests reach the harness through plan)
    AGENT_RUNTIME,
    SECRET,
    UNKNOWN,
    Plan,
    mock_password,
    render,
    run_program,
)

__all__ = ["AGENT_RUNTIME", "SECRET", "UNKNOWN", "Plan", "mock_password", "render"]


# libyaml when present (safe variants either way): a stack of 1000 agents parses 20x faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class StackFileError(Exception):
    """A stack file that cannot be read as Pulumi stack config."""


@functools.cache
def project_settings() -> tuple[str, Path]:
    """Project name and stackConfigDir, from Pulumi.yaml as the CLI reads them (read once)."""
    project = yaml.load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
    return project["name"], ROOT / project.get("stackConfigDir", ".")


def read_stack_config(path: Path, project: str) -> dict[str, str]:
    """Config as the Pulumi CLI hands it to a program: structured values as JSON text."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as err:
        raise StackFileError(f"cannot read the stack file ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise StackFileError(f"not valid YAML ({err})") from None
    document = document or {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise StackFileError("expected a mapping with a `config:` mapping")
    config: dict[str, str] = {}
    for key, value in (document.get("config") or {}).items():
        full = str(key) if ":" in str(key) else f"{project}:{key}"
        if _has_secure(value):
            raise StackFileError(f"{full}: encrypted values cannot be read offline")
        config[full] = value if isinstance(value, str) else json.dumps(value)
    return config


def _has_secure(value: Any) -> bool:
    """`secure:` values are ciphertext only the Pulumi CLI can open, at any depth."""
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def stack_file_for(stack: str) -> Path:
    _, config_dir = project_settings()
    return config_dir / f"Pulumi.{stack}.yaml"


def stack_name_of(path: Path) -> str:
    match = re.fullmatch(r"Pulumi\.(.+)\.ya?ml", path.name)
    return match.group(1) if match else "offline"


def run_plan(
    stack_file: Path,
    stack: str | None = None,
    *,
    unknown_computed: bool = False,
    into: Plan | None = None,
) -> Plan:
    """Run `__main__.py` with the stack file's config; raise ConfigError/StackFileError."""
    project, _ = project_settings()
    stack = stack or stack_name_of(stack_file)
    config = read_stack_config(stack_file, project)

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    return run_program(
        program, config, project=project, stack=stack, unknown_computed=unknown_computed, into=into
    )


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", help="stack name: reads stacks/Pulumi.<STACK>.yaml")
    parser.add_argument("--stack-file", type=Path, help="plan this stack file instead")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    parser.add_argument("--show-secrets", action="store_true", help="print secret values")
    parser.add_argument(
        "--crd", type=Path, help="then judge every AgentRuntime against this CRD file (exit 1)"
    )
    args = parser.parse_args(argv)
    if args.stack is None and args.stack_file is None:
        parser.error("give a STACK or --stack-file PATH")
    path = args.stack_file or stack_file_for(args.stack)
    where = display_path(path)
    if args.crd:  # jsonschema and CEL only when asked for
        from components.crd import Crd, CrdFileError, check_manifests

        try:
            crd = Crd.from_file(args.crd)
        except CrdFileError as err:
            return _fail([str(err)], 2)
    # The program's pulumi.log.warn reaches the mocks' logger: say it on stderr as the CLI would.
    warnings = logging.StreamHandler(sys.stderr)
    warnings.setLevel(logging.WARNING)
    warnings.setFormatter(logging.Formatter("warning: %(message)s"))
    logging.getLogger().addHandler(warnings)
    try:
        plan = run_plan(path, args.stack)
    except StackFileError as err:
        return _fail([f"{where}: {err}"], 2)
    except ConfigError as err:
        return _fail(err.lines(where), 2)
    except CrdMismatch as err:  # the stack's own omnia-agents:crdFile check
        return _fail(err.lines, 1)
    finally:
        logging.getLogger().removeHandler(warnings)
    items = plan.items(args.show_secrets)
    if args.format == "json":
        print(json.dumps(items, indent=2))
    else:
        text = yaml.dump_all(items, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
        print(text, end="")
    problems = check_manifests(crd, plan.manifests()) if args.crd else []
    return _fail(problems, 1) if problems else 0


def _fail(lines: list[str], code: int) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
