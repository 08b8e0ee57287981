"""The mock harness: runs a Pulumi program in-process under mocks and records what it registers.

Reads (`Resource.get`) are recorded apart, as the objects a preview reads from the cluster, and
answered by a mock `Cluster`: what it lacks fails the run as the real read fails the preview.

Shared by `plan.py` (the offline plan), the tests and the benchmarks. Of the project it imports
only type tokens, so the benchmark floor can run an empty program under exactly these mocks.
"""

from __future__ import annotations

import asyncio
import atexit
import graphlib
import hashlib
import json
import random
import string
import threading
from collections.abc import Callable, KeysView, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
from google.protobuf import json_format
from pulumi.output import Unknown
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from upstream.agent_runtime import TYPE as AGENT_RUNTIME
from upstream.kubernetes import CRD, NAMESPACE
from upstream.prometheus_operator import CRDS as MONITORING_CRDS
from upstream.pulumi_config import SECRET_SHOWN

__all__ = ["AGENT_RUNTIME"]  # and every name defined below

SECRET = SECRET_SHOWN
UNKNOWN = "[unknown]"
# The random provider's default special characters (pulumi-random docs).
_RANDOM_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"
PASSWORD = "random:index/randomPassword:RandomPassword"
_COMPUTED = {PASSWORD: ("result", "bcryptHash")}


class NotInClusterError(Exception):
    """A read (`Resource.get`) of an object the (mock) cluster does not have: the real
    provider finds nothing and the engine fails the preview on that read.

    `missing`: every object the run's reads did not find (the first is `type`/`name`), so a
    user creates them all in one round.
    """

    def __init__(self, type_: str, name: str, missing: list[tuple[str, str]] | None = None):
        self.type = type_
        self.name = name
        self.missing = missing or [(type_, name)]
        super().__init__(missing_text(type_, name))


def missing_text(type_: str, name: str) -> str:
    return f"the cluster has no {type_.rsplit(':', 1)[-1]} {name!r}"


def provider_urn(ref: str) -> str:
    """The provider's URN in a provider reference (`<urn>::<id>`, as the engine takes it)."""
    return ref.rsplit("::", 1)[0]


@dataclass(frozen=True)
class Cluster:
    """What the mock cluster answers to reads.

    `namespaces`: the namespaces that exist (None: every one asked for). `crds`: the
    CustomResourceDefinitions it serves, by name, as the API server returns them (None: any
    asked for is present, without its schema, so the program cannot judge against it).
    `prometheus_operator`: whether the ServiceMonitor and PrometheusRule CRDs are served.
    """

    namespaces: frozenset[str] | None = None
    crds: Mapping[str, dict[str, Any]] | None = None
    # Whether it serves the Prometheus operator's kinds (their CRDs answered by name only).
    prometheus_operator: bool = True

    def answer(self, type_: str, name: str) -> dict[str, Any]:
        if type_ == CRD and name in MONITORING_CRDS:
            if not self.prometheus_operator:
                raise NotInClusterError(type_, name)
            return {"metadata": {"name": name}}
        if type_ == NAMESPACE:
            if self.namespaces is not None and name not in self.namespaces:
                raise NotInClusterError(type_, name)
            return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        if type_ == CRD:
            if self.crds is None:
                return {"metadata": {"name": name}}
            if name not in self.crds:
                raise NotInClusterError(type_, name)
            return dict(self.crds[name])
        return {"metadata": {"name": name}}


@dataclass
class Registration:
    """One resource as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    inputs: dict[str, Any]  # secrets still wrapped, as the monitor received them
    dependencies: list[str]
    protect: bool
    secret_outputs: list[str] = field(default_factory=list)  # additionalSecretOutputs
    retain_on_delete: bool = False
    provider: str = ""  # `<urn>::<id>` of an explicit provider, as the monitor received it
    providers: dict[str, str] = field(default_factory=dict)  # a component's, by package
    # What else the request carried, for the analyzer requests of `plan.py --policy`
    # (offline/analyzer.py): a CustomResource or a component, a remote (multi-language) one, the
    # provider version asked for, the options the engine hands on to a policy pack.
    custom: bool = True
    remote: bool = False
    version: str = ""
    ignore_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool | None = None
    aliases: list[str] = field(default_factory=list)  # the aliases given as URNs
    custom_timeouts: dict[str, str] = field(default_factory=dict)  # create/update/delete/read
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    # The state the (mock) provider returned, in wire form (secrets as signature objects);
    # None where nothing registered it (a rendered chart child: the preview echoes its inputs).
    outputs: dict[str, Any] | None = None


@dataclass
class Read:
    """One `Resource.get`: an object read from the cluster at preview, never created."""

    type: str
    name: str
    urn: str
    id: str
    parent: str
    provider: str


@dataclass
class Plan:
    stack: str
    resources: list[Registration] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)  # stack outputs, secrets wrapped
    config: dict[str, str] = field(default_factory=dict)  # what the program was handed
    # RegisterResourceOutputs of each component (and the Stack), by URN, in wire form.
    registered_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def completed(self) -> KeysView[str]:
        """URNs that called register_outputs."""
        return self.registered_outputs.keys()

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
        """Reads first as `{type, name, urn, read: id}`; then `{type, name, urn, inputs}`, plus
        `options` where protect, retainOnDelete or dependsOn are set. The URN is what
        `pulumi stack export` lists for the same resource."""
        urns = [r.urn for r in self.resources] + [r.urn for r in self.reads]
        tails = {u: u.rsplit("$", 1)[-1].split("::", 3)[-1] for u in urns}
        items: list[dict[str, Any]] = [
            {"type": r.type, "name": r.name, "urn": r.urn, "read": r.id} for r in self.reads
        ]
        for r in self.resources:
            inputs = render(r.inputs, show_secrets)
            item = {"type": r.type, "name": r.name, "urn": r.urn, "inputs": inputs}
            options: dict[str, Any] = {"protect": True} if r.protect else {}
            if r.retain_on_delete:
                options["retainOnDelete"] = True
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


def _needs(resource: Registration) -> set[str]:
    """URNs a resource waits for: its parent, its dependencies, and the provider(s) it (or, for
    a component, its children) is managed by; provider references are `<urn>::<id>`."""
    providers = [resource.provider, *resource.providers.values()]
    return {
        resource.parent,
        *resource.dependencies,
        *(provider_urn(p) for p in providers if p),
    }


def apply_order(resources: list[Registration]) -> list[Registration]:
    """Parents, providers and dependencies first, ties by name (registration itself arrives in
    any order); the stdlib's topological sort, one ready batch at a time."""
    by_urn = {r.urn: r for r in resources}
    graph = graphlib.TopologicalSorter({r.urn: _needs(r) & by_urn.keys() for r in resources})
    try:
        graph.prepare()
    except graphlib.CycleError as err:
        raise RuntimeError("dependency cycle among: " + ", ".join(err.args[1])) from None
    ordered: list[Registration] = []
    while graph.is_active():
        ready = sorted((by_urn[u] for u in graph.get_ready()), key=lambda r: (r.name, r.type))
        ordered += ready
        graph.done(*(r.urn for r in ready))
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
    """Echo inputs as outputs; invent what a provider computes (a password).

    The stock monitor calls `new_resource` synchronously on the registering thread; a
    thread-local carries what it leaves out of MockResourceArgs (the outputs the engine would
    mark secret) in, and the inputs it already decoded back out to the recording monitor.
    """

    def __init__(self, stack: str, unknown_computed: bool, cluster: Cluster | None = None) -> None:
        self.stack = stack
        self.unknown_computed = unknown_computed  # a first preview: computed values not known
        self.cluster = cluster or Cluster()
        self.call_state = threading.local()
        self.missing: list[tuple[str, str]] = []  # reads the cluster could not answer

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if getattr(self.call_state, "reading", False):
            name = str(args.resource_id)
            try:
                return name, self.cluster.answer(args.typ, name)
            except NotInClusterError:
                self.missing.append((args.typ, name))
                raise
        self.call_state.inputs = args.inputs
        state = dict(args.inputs)
        if args.typ in _COMPUTED and not self.unknown_computed:
            password = mock_password(f"{self.stack}/{args.name}", args.inputs)
            state.update(result=password, bcryptHash="mock-bcrypt-hash")
        # The engine marks these outputs secret (RandomPassword's `result`); so must we.
        for key in getattr(self.call_state, "secret_outputs", ()):
            if key in state:
                state[key] = rpc.wrap_rpc_secret(state[key])
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


# The mock monitor gives every worker thread its own event loop and never closes it; left to the
# garbage collector at interpreter teardown, one occasionally fails ("Invalid file descriptor")
# on stderr. Close them while the interpreter is still whole.
_THREAD_LOOPS: set[asyncio.AbstractEventLoop] = set()


def _quiet_unretrieved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A run that failed part-way leaves futures holding the exception the caller already got
    (run_program raised it). asyncio would log each again, traceback and all, whenever the
    garbage collector finds it: in the middle of unrelated work, even inside `ast.parse`, where
    formatting the traceback re-enters the parser and CPython 3.11.7 fails that outer parse
    with "AST constructor recursion depth mismatch" (python/cpython#106905). Those are dropped;
    anything else goes to asyncio's default handler."""
    if str(context.get("message", "")).endswith("exception was never retrieved"):
        return
    loop.default_exception_handler(context)


def _own(loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
    if loop.get_exception_handler() is not _quiet_unretrieved:
        loop.set_exception_handler(_quiet_unretrieved)
    return loop


@atexit.register
def _close_thread_loops() -> None:
    for loop in _THREAD_LOOPS:
        if not loop.is_running() and not loop.is_closed():
            loop.close()


ROOT_STACK = "pulumi:pulumi:Stack"


def engine_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """The URN the engine gives a resource: the parent's whole qualified type, none for a child
    of the root stack (pulumi/pulumi pkg/resource/deploy/deployment.go `generateURN`: "don't use
    the root stack type; otherwise, use the full qualified type"). The SDK's stock mock monitor
    writes the root stack's type and only the parent's last type, so its URNs are not the ones
    `pulumi stack export` lists."""
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != ROOT_STACK:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


class RecordingMonitor(MockMonitor):
    """Keeps what the stock mock monitor drops: parent, dependencies, options, outputs; and
    names resources as the engine does."""

    def __init__(self, mocks: PlanMocks, plan: Plan) -> None:
        super().__init__(mocks)
        self.plan_mocks = mocks
        self.plan = plan

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return engine_urn(pulumi.get_stack(), pulumi.get_project(), parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        call = self.plan_mocks.call_state
        call.secret_outputs = tuple(request.additionalSecretOutputs)
        call.inputs = None
        call.reading = False
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        _THREAD_LOOPS.add(_own(_ensure_event_loop()))  # type: ignore[no-untyped-call]
        if request.type != ROOT_STACK:
            self.plan.resources.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    inputs=call.inputs,  # as decoded for new_resource: not decoded twice
                    dependencies=list(request.dependencies),
                    protect=bool(request.protect),
                    secret_outputs=list(request.additionalSecretOutputs),
                    retain_on_delete=bool(request.retainOnDelete),
                    provider=request.provider,
                    providers=dict(request.providers),
                    custom=bool(request.custom),
                    remote=bool(request.remote),
                    version=request.version,
                    ignore_changes=list(request.ignoreChanges),
                    delete_before_replace=(
                        bool(request.deleteBeforeReplace)
                        if request.deleteBeforeReplaceDefined
                        else None
                    ),
                    aliases=[
                        *request.aliasURNs,
                        *(a.urn for a in request.aliases if a.WhichOneof("alias") == "urn"),
                    ],
                    custom_timeouts={
                        k: v
                        for k in ("create", "update", "delete", "read")
                        if (v := getattr(request.customTimeouts, k))
                    },
                    property_dependencies={
                        k: list(v.urns) for k, v in request.propertyDependencies.items()
                    },
                    outputs=json_format.MessageToDict(response.object),
                )
            )
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        call = self.plan_mocks.call_state
        call.secret_outputs = ()
        call.reading = True
        try:
            response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        finally:
            call.reading = False
        _THREAD_LOOPS.add(_own(_ensure_event_loop()))  # type: ignore[no-untyped-call]
        self.plan.reads.append(
            Read(
                type=request.type,
                name=request.name,
                urn=response.urn,
                id=request.id,
                parent=request.parent,
                provider=request.provider,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        self.plan.registered_outputs[request.urn] = json_format.MessageToDict(request.outputs)
        if f"::{ROOT_STACK}::" in request.urn:
            self.plan.outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def run_program(
    program: Callable[[], None],
    config: dict[str, str],
    *,
    project: str,
    stack: str,
    unknown_computed: bool = False,
    into: Plan | None = None,
    secret_keys: list[str] | None = None,
    cluster: Cluster | None = None,
) -> Plan:
    """Run `program` as `pulumi preview` would, with fresh runtime state and this config.

    `into` receives the registrations even when the program fails part-way; `secret_keys` are
    config keys handed over as set with `--secret`; `cluster` answers the program's reads.
    """
    plan = into if into is not None else Plan(stack=stack)
    mocks = PlanMocks(stack, unknown_computed, cluster)
    # Fresh runtime state per run: config, root stack, pending outputs.
    pulumi.runtime.set_all_config(config, secret_keys or [])
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=True, monitor=RecordingMonitor(mocks, plan)
    )
    settings.ROOT.set(None)  # run_in_stack registers the Stack itself, as `pulumi up` does
    settings.SETTINGS.outputs.clear()
    _own(_ensure_event_loop())  # type: ignore[no-untyped-call]
    plan.config = dict(config)
    try:
        _sync_await(run_in_stack(program))
    except NotInClusterError as err:
        # Sorted: the reads run concurrently, so the order they fail in is not the program's.
        missing = sorted(set(mocks.missing)) or [(err.type, err.name)]
        raise NotInClusterError(err.type, err.name, missing) from None
    plan.resources = apply_order(plan.resources)
    plan.reads.sort(key=lambda r: (r.name, r.type))
    return plan
