"""Offline plan: run the real `__main__.py` under Pulumi mocks and print what it would register.

Needs no cluster, no Pulumi CLI and no network. The tests use the same harness (`run_plan`), so
what they assert is what `python plan.py STACK` shows. With `--from OLD_STACK_FILE` it prints
the change preview instead: what `pulumi up` would do to go from the old stack file to this one.
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

from components.cluster import CRD_NAME, CRD_TYPE, INSTALL_HINT, NAMESPACE_HINT  # noqa: E402
from components.config import ConfigError, CrdMismatch  # noqa: E402
from harness import (  # noqa: E402  (re-exported: the tests reach the harness through plan)
    AGENT_RUNTIME,
    SECRET,
    UNKNOWN,
    Cluster,
    NotInClusterError,
    Plan,
    mock_password,
    render,
    run_program,
)

__all__ = [
    "AGENT_RUNTIME",
    "SECRET",
    "UNKNOWN",
    "Cluster",
    "NotInClusterError",
    "Plan",
    "mock_password",
    "render",
]
CRD_NOTE = (
    "plan: no --crd or cluster crd given: the AgentRuntime CRD read is answered as present "
    "and agents are not judged against it"
)


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
    cluster: Cluster | None = None,
) -> Plan:
    """Run `__main__.py` with the stack file's config; raise ConfigError/StackFileError, and
    NotInClusterError / CrdMismatch when the (mock) cluster lacks or refuses what it needs."""
    project, _ = project_settings()
    stack = stack or stack_name_of(stack_file)
    config = read_stack_config(stack_file, project)

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    return run_program(
        program,
        config,
        project=project,
        stack=stack,
        unknown_computed=unknown_computed,
        into=into,
        cluster=cluster,
    )


def crd_cluster(crd_file: Path, base: Cluster | None = None) -> Cluster:
    """A cluster serving the CRD in this file (raises CrdFileError)."""
    from components.crd import read_crd

    crd = read_crd(crd_file, str(crd_file))
    namespaces = base.namespaces if base else None
    return Cluster(namespaces=namespaces, crds={CRD_NAME: crd})


def read_cluster(path: Path) -> Cluster:
    """A cluster description: `namespaces:` (the ones that exist; omitted: all do) and `crd:`
    (a CRD file, relative to the description; null: not installed; omitted: present, not
    judged). Raises StackFileError."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    except (OSError, yaml.YAMLError) as err:
        raise StackFileError(f"cannot read the cluster description ({err})") from None
    if not isinstance(document, dict) or set(document) - {"namespaces", "crd"}:
        raise StackFileError("a cluster description has only `namespaces:` and `crd:`")
    names = document.get("namespaces")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise StackFileError("namespaces: expected a list of names")
    cluster = Cluster(namespaces=None if names is None else frozenset(names))
    if "crd" not in document:
        return cluster
    if document["crd"] is None:
        return Cluster(namespaces=cluster.namespaces, crds={})
    from components.crd import CrdFileError

    try:
        return crd_cluster(path.parent / str(document["crd"]), cluster)
    except CrdFileError as err:
        raise StackFileError(f"crd: {err}") from None


def missing_lines(where: str, err: NotInClusterError) -> list[str]:
    """The engine fails a preview on a read of a missing object; say what to do about it."""
    hint = INSTALL_HINT if err.type == CRD_TYPE else NAMESPACE_HINT
    return [f"{where}: {err}", hint]


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
        "--crd", type=Path, help="the cluster serves this AgentRuntime CRD (agents judged: exit 1)"
    )
    parser.add_argument(
        "--cluster", type=Path, help="cluster description: namespaces that exist, its CRD"
    )
    parser.add_argument(
        "--from",
        dest="old",
        type=Path,
        metavar="OLD_STACK_FILE",
        help="print the change preview from this stack file instead (refused steps: exit 1)",
    )
    args = parser.parse_args(argv)
    if args.stack is None and args.stack_file is None:
        parser.error("give a STACK or --stack-file PATH")
    path = args.stack_file or stack_file_for(args.stack)
    cluster = None
    try:
        if args.cluster:
            cluster = read_cluster(args.cluster)
    except StackFileError as err:
        return _fail([f"{display_path(args.cluster)}: {err}"], 2)
    if args.crd:
        from components.crd import CrdFileError

        try:
            cluster = crd_cluster(args.crd, cluster)
        except CrdFileError as err:
            return _fail([str(err)], 2)
    stack = args.stack or stack_name_of(path)
    old = None
    if args.old:
        old, code = _planned(args.old, stack, cluster)
        if old is None:
            return code
    plan, code = _planned(path, stack, cluster, warn=True)
    if plan is None:
        return code
    if cluster is None or cluster.crds is None:
        print(CRD_NOTE, file=sys.stderr)  # after the plan: only a plan that ran skipped it
    if old is not None:
        from change_preview import compare, refused

        changes = compare(old, plan)
        _print(changes, args.format)
        stops = [f"refused: {c['type']} {c['name']}: {c['refused']}" for c in refused(changes)]
        return _fail(stops, 1) if stops else 0
    _print(plan.items(args.show_secrets), args.format)
    return 0


def _planned(
    path: Path, stack: str, cluster: Cluster | None, *, warn: bool = False
) -> tuple[Plan | None, int]:
    """The plan, or None and the exit code after printing why (naming the stack file).

    `warn`: print the program's warnings (pulumi.log.warn reaches the mocks' logger) on
    stderr, as `pulumi preview` would; only for the stack being planned, not an old one.
    """
    where = display_path(path)
    warnings = logging.StreamHandler(sys.stderr)
    warnings.setLevel(logging.WARNING)
    warnings.setFormatter(logging.Formatter("warning: %(message)s"))
    # Only the program's own: the mocks log its warnings on the root logger; asyncio's noise
    # about a run that failed part-way is not the user's business.
    warnings.addFilter(lambda record: record.name == "root" and record.levelno == logging.WARNING)
    if warn:
        logging.getLogger().addHandler(warnings)
    try:
        return run_plan(path, stack, cluster=cluster), 0
    except StackFileError as err:
        return None, _fail([f"{where}: {err}"], 2)
    except ConfigError as err:
        return None, _fail(err.lines(where), 2)
    except CrdMismatch as err:  # omnia-agents:crdFile, or the CRD the cluster serves
        return None, _fail(err.lines, 1)
    except NotInClusterError as err:
        return None, _fail(missing_lines(where, err), 1)
    finally:
        logging.getLogger().removeHandler(warnings)


def _print(items: list[dict[str, Any]], format_: str) -> None:
    if format_ == "json":
        print(json.dumps(items, indent=2))
    else:
        text = yaml.dump_all(items, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
        print(text, end="")


def _fail(lines: list[str], code: int) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
