"""Offline plan: run the real `__main__.py` under Pulumi mocks and print what it would register.

Needs no cluster, no Pulumi CLI and no network. The tests use the same harness (`run_plan`), so
what they assert is what `python plan.py STACK` shows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import runpy
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # the program imports `components` as `pulumi up` would
    sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
import pulumi.runtime  # noqa: E402
from pulumi.output import Unknown  # noqa: E402
from pulumi.runtime import rpc, settings  # noqa: E402
from pulumi.runtime.mocks import MockMonitor  # noqa: E402
from pulumi.runtime.stack import run_in_stack  # noqa: E402
from pulumi.runtime.sync_await import _sync_await  # noqa: E402

from components.agent import API_VERSION, KIND  # noqa: E402
from components.config import ConfigError  # noqa: E402
from components.crd import Crd, CrdFileError, CrdMismatch, check_manifests  # noqa: E402

AGENT_RUNTIME = f"kubernetes:{API_VERSION}:{KIND}"
SECRET = "[secret]"
UNKNOWN = "[unknown]"
# The random provider's default special characters (pulumi-random docs).
_RANDOM_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"
_COMPUTED = {"random:index/randomPassword:RandomPassword": ("result", "bcryptHash")}


class StackFileError(Exception):
    """A stack file that cannot be read as Pulumi stack config."""


@dataclass
class Registration:
    """One resource as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]  # secrets still wrapped, as the monitor received them
    dependencies: list[str]
    protect: bool


@dataclass
class Plan:
    stack: str
    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)  # stack outputs, secrets wrapped
    completed: set[str] = field(default_factory=set)  # URNs that called register_outputs

    def find(self, type_: str, name: str | None = None) -> list[Registration]:
        return [r for r in self.resources if r.type == type_ and name in (None, r.name)]

    def one(self, type_: str, name: str) -> Registration:
        found = self.find(type_, name)
        if len(found) != 1:
            raise LookupError(f"{len(found)} resources of type {type_} named {name}")
        return found[0]

    def manifests(self) -> list[dict[str, Any]]:
        """Each AgentRuntime as the API server would receive it."""
        return [render(r.inputs, show_secrets=True) for r in self.find(AGENT_RUNTIME)]

    def items(self, show_secrets: bool = False) -> list[dict[str, Any]]:
        """`{type, name, inputs}`, plus `options` where protect or dependsOn are set."""
        tails = {r.urn: r.urn.rsplit("$", 1)[-1].split("::", 3)[-1] for r in self.resources}
        items = []
        for r in self.resources:
            item = {"type": r.type, "name": r.name, "inputs": render(r.inputs, show_secrets)}
            options: dict[str, Any] = {"protect": True} if r.protect else {}
            if r.dependencies:
                options["dependsOn"] = sorted(tails.get(u, u) for u in r.dependencies)
            if options:
                item["options"] = options
            items.append(item)
        return items


def render(value: Any, show_secrets: bool = False) -> Any:
    """Plain data for printing: secrets masked unless asked, unknowns marked."""
    if rpc.is_rpc_secret(value):
        return render(rpc.unwrap_rpc_secret(value), show_secrets) if show_secrets else SECRET
    if isinstance(value, dict):
        return {k: render(v, show_secrets) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [render(v, show_secrets) for v in value]
    if isinstance(value, Unknown) or value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire format carries every number as a double
    return value


def apply_order(resources: list[Registration]) -> list[Registration]:
    """Parents and dependencies first, ties by name: registration itself arrives in any order."""
    by_urn = {r.urn: r for r in resources}
    waits = {r.urn: {u for u in (r.parent, *r.dependencies) if u in by_urn} for r in resources}
    ordered: list[Registration] = []
    while waits:
        ready = sorted(
            (by_urn[u] for u, w in waits.items() if not w), key=lambda r: (r.name, r.type)
        )
        if not ready:
            raise RuntimeError("dependency cycle among: " + ", ".join(sorted(waits)))
        for r in ready:
            ordered.append(r)
            del waits[r.urn]
        done = {r.urn for r in ready}
        for w in waits.values():
            w -= done
    return ordered


def mock_password(seed: str, inputs: dict[str, Any]) -> str:
    """Deterministic per resource and keepers (new keepers, new password, as the provider does),
    honouring the character classes the program asked for."""
    alphabet = ""
    for flag, chars in (
        ("upper", string.ascii_uppercase),
        ("lower", string.ascii_lowercase),
        ("numeric", string.digits),
    ):
        if inputs.get(flag, True):
            alphabet += chars
    if inputs.get("special", True):
        alphabet += inputs.get("overrideSpecial") or _RANDOM_SPECIAL
    keepers = json.dumps(inputs.get("keepers") or {}, sort_keys=True)
    rng = random.Random(hashlib.sha256(f"{seed}\n{keepers}".encode()).digest())
    return "".join(rng.choice(alphabet) for _ in range(int(inputs["length"])))


class PlanMocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs; invent what a provider computes (a password)."""

    def __init__(self, stack: str, unknown_computed: bool) -> None:
        self.stack = stack
        self.unknown_computed = unknown_computed  # a first preview: computed values not known

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ in _COMPUTED and not self.unknown_computed:
            password = mock_password(f"{self.stack}/{args.name}", args.inputs)
            state.update(result=password, bcryptHash="mock-bcrypt-hash")
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """Keeps what the stock mock monitor drops: parent, dependencies, options, outputs."""

    def __init__(self, mocks: PlanMocks, plan: Plan) -> None:
        super().__init__(mocks)
        self.plan = plan

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.plan.resources.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=rpc.deserialize_properties(request.object),
                    dependencies=list(request.dependencies),
                    protect=bool(request.protect),
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        self.plan.completed.add(request.urn)
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.plan.outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def project_settings() -> tuple[str, Path]:
    """Project name and stackConfigDir, from Pulumi.yaml as the CLI reads them."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    return project["name"], ROOT / project.get("stackConfigDir", ".")


def read_stack_config(path: Path, project: str) -> dict[str, str]:
    """Config as the Pulumi CLI hands it to a program: structured values as JSON text."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    """Run `__main__.py` with the stack file's config; raise ConfigError/StackFileError.

    `into` receives the registrations even when the program fails part-way.
    """
    project, _ = project_settings()
    stack = stack or stack_name_of(stack_file)
    config = read_stack_config(stack_file, project)
    plan = into if into is not None else Plan(stack=stack)
    mocks = PlanMocks(stack, unknown_computed)
    # Fresh runtime state per run: config, root stack, pending outputs.
    pulumi.runtime.set_all_config(config, [])
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=True, monitor=RecordingMonitor(mocks, plan)
    )
    settings.ROOT.set(None)  # run_in_stack registers the Stack itself, as `pulumi up` does
    settings.SETTINGS.outputs.clear()

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    _sync_await(run_in_stack(program))
    plan.resources = apply_order(plan.resources)
    return plan


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
    try:
        crd = Crd.from_file(args.crd) if args.crd else None
        plan = run_plan(path, args.stack)
    except CrdFileError as err:
        return _fail([str(err)], 2)
    except StackFileError as err:
        return _fail([f"{where}: {err}"], 2)
    except ConfigError as err:
        return _fail(err.lines(where), 2)
    except CrdMismatch as err:  # the stack's own omnia-agents:crdFile check
        return _fail(err.lines, 1)
    items = plan.items(args.show_secrets)
    if args.format == "json":
        print(json.dumps(items, indent=2))
    else:
        print(yaml.safe_dump_all(items, sort_keys=False, allow_unicode=True), end="")
    problems = check_manifests(crd, plan.manifests()) if crd else []
    return _fail(problems, 1) if problems else 0


def _fail(lines: list[str], code: int) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
