"""The package's SessionAgents with session stores, an external URL an Output of another resource.

Args reach the component as the engine sends them to Construct (tests/support/engine.py):
numbers as doubles, an Output of the consuming program as an output value, decoded by the SDK's
own code. The managed cache is a RandomPassword registered in the same run, as in
examples/typescript/index.ts.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_random as random
import pytest
from pulumi.errors import InputPropertiesError
from pulumi.provider.server import ProviderServicer
from pulumi.runtime.proto import provider_pb2

from offline import harness
from offline.harness import run_program
from offline.program import run_plan
from tests.support.engine import (
    engine_inputs,
    output_value,
    printed_by_pulumi_up,
    refused_args,
    wire,
)
from tests.support.package_schema import provider
from tests.support.render import write_stack
from tests.support.stacks import stack_config
from upstream.kubernetes import NAMESPACE_PATCH, SECRET

TOKEN = "omnia-agents:index:SessionAgents"
PROJECT = "omnia-agents"
CACHE = "cache-token"  # the stand-in cache's generated token (a RandomPassword)
CACHE_ARGS: dict[str, Any] = {"length": 32, "special": False}
HOST = "@cache.example.com:6380/0"
MANAGED = "finance"  # prod's namespace the tests move to the external store


def cache_urn(stack: str = "prod") -> str:
    return harness.engine_urn(stack, PROJECT, "", harness.PASSWORD, CACHE)


def cache_password(stack: str = "prod") -> str:
    return harness.mock_password(f"{stack}/{CACHE}", CACHE_ARGS)


def prod_with_store(url: Any, **changes: Any) -> dict[str, Any]:
    """Prod's settings with an external store `managed` for the agents of `finance`."""
    raw = copy.deepcopy(stack_config("prod"))
    raw["stores"] = {"managed": {"url": url}}
    for agent in raw["agents"]:
        if agent["namespace"] == MANAGED:
            agent["session"] = {**agent.get("session", {}), "store": "managed"}
    raw.update(changes)
    return raw


def construct(
    args: Callable[[], dict[str, Any]],
    *,
    unknown: bool = False,
    into: harness.Plan | None = None,
    stack: str = "prod",
) -> harness.Plan:
    """A consumer's program: the cache's token, then SessionAgents given `args()` (built in
    the run, where an Output can exist), constructed by the package's provider."""

    def program() -> None:
        random.RandomPassword(CACHE, length=CACHE_ARGS["length"], special=CACHE_ARGS["special"])
        provider().construct("agents", TOKEN, engine_inputs(args()), None)

    return run_program(
        program, {}, project=PROJECT, stack=stack, unknown_computed=unknown, into=into
    )


def cache_url(template: tuple[str, str] = ("rediss://:", HOST), *, known: bool = True) -> Any:
    """The cache's URL as the engine sends it: a secret (the token is one), depending on it."""
    value = f"{template[0]}{cache_password()}{template[1]}" if known else None
    return output_value(value, secret=True, urns=[cache_urn()])


def credentials(plan: harness.Plan, namespace: str) -> harness.Registration:
    (found,) = [r for r in plan.find(SECRET) if r.name == f"{namespace}-credentials"]
    return found


def kubernetes_objects(plan: harness.Plan) -> list[harness.Registration]:
    """What the component would create in the cluster (and its random resources)."""
    return [
        r
        for r in plan.resources
        if r.type.startswith(("kubernetes:", "random:")) and r.name != CACHE
    ]


def waits_for(plan: harness.Plan, resource: harness.Registration, urn: str) -> bool:
    """Whether `resource` is created after `urn`: directly, or through what it depends on."""
    by_urn = {r.urn: r for r in plan.resources}
    seen, todo = set(), list(resource.dependencies)
    while todo:
        needed = todo.pop()
        if needed == urn:
            return True
        if needed not in seen and needed in by_urn:
            seen.add(needed)
            todo += by_urn[needed].dependencies
    return False


# ---- what the engine hands over -----------------------------------------------------------


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
def test_construct_hands_the_component_the_output_inside_its_arg(known: bool) -> None:
    """The provider server's own decoding (`_construct_inputs`): an output value nested in
    `stores` stays an Output there, secret, with its dependency; the rest plain values."""
    struct = wire(prod_with_store(cache_url(known=known)))

    async def decode() -> tuple[Any, ...]:
        request = provider_pb2.ConstructRequest()
        request.inputDependencies["stores"].urns.append(cache_urn())
        inputs = await ProviderServicer._construct_inputs(struct, request.inputDependencies)
        stores: Any = inputs["stores"]
        url = stores["managed"]["url"]
        urns = {await r.urn.future() for r in await url.resources()}
        return url, await url.is_secret(), await url.is_known(), urns, inputs["omniaVersion"]

    loop = asyncio.new_event_loop()  # its own: asyncio.run would unset the harness's loop
    try:
        url, secret, is_known, urns, version = loop.run_until_complete(decode())
    finally:
        loop.close()
    assert isinstance(url, pulumi.Output)
    assert (secret, is_known, urns, version) == (True, known, {cache_urn()}, "0.9.0-beta.17")


# ---- an Output URL: judged once known, secret, gating everything -------------------------


def test_an_output_url_known_at_preview_is_judged_and_sent_as_a_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plan = construct(lambda: prod_with_store(cache_url()))
    secret = credentials(plan, MANAGED)
    assert secret.inputs["metadata"] == {"name": "redis-credentials-managed", "namespace": MANAGED}
    assert harness.render(secret.inputs["stringData"]) == harness.SECRET
    url = harness.render(secret.inputs["stringData"], show_secrets=True)["url"]
    token = harness.render(plan.one(harness.PASSWORD, CACHE).outputs, show_secrets=True)
    assert url == f"rediss://:{token['result']}{HOST}" == f"rediss://:{cache_password()}{HOST}"
    # The agents of finance use it; the in-cluster default keeps the others.
    refs = {
        r.name: r.inputs["spec"]["context"]["storeRef"]["name"]
        for r in plan.find(harness.AGENT_RUNTIME)
        if "storeRef" in r.inputs["spec"]["context"]
    }
    assert refs == {
        "agents.support": "redis-credentials",
        "agents.triage": "redis-credentials",
        "finance.billing": "redis-credentials-managed",
    }
    assert MANAGED not in {r.inputs["metadata"]["name"] for r in plan.find(NAMESPACE_PATCH)}
    # Everything the component creates waits for the URL's verdict, hence for the cache, and
    # still for the served CRD's.
    objects = kubernetes_objects(plan)
    crd = next(r.urn for r in plan.reads if r.type.endswith("CustomResourceDefinition"))
    assert (
        len(objects) == 12
    )  # guard, namespace, password, auth, chart; 2 Secrets, 1 label, 4 agents
    assert [r.name for r in objects if not waits_for(plan, r, cache_urn())] == []
    assert [r.name for r in objects if not waits_for(plan, r, crd)] == []
    assert [m for m in caplog.messages if "stores.managed" in m] == []  # fine, and a secret


def test_an_output_url_unknown_at_preview_plans_the_same_resources() -> None:
    """The cache not created yet: nothing to judge at preview, everything planned; the
    Secret's URL unknown (and still a secret), every object still after the CRD read."""
    known = construct(lambda: prod_with_store(cache_url()))
    unknown = construct(lambda: prod_with_store(cache_url(known=False)), unknown=True)
    assert sorted((r.type, r.name) for r in unknown.resources) == sorted(
        (r.type, r.name) for r in known.resources
    )
    string_data = credentials(unknown, MANAGED).inputs["stringData"]
    assert harness.render(string_data) == harness.SECRET
    assert harness.render(string_data, show_secrets=True) == harness.UNKNOWN
    crd = next(r.urn for r in unknown.reads if r.type.endswith("CustomResourceDefinition"))
    objects = kubernetes_objects(unknown)
    assert [r.name for r in objects if not waits_for(unknown, r, cache_urn())] == []
    assert [r.name for r in objects if not waits_for(unknown, r, crd)] == []


def _refused(args: Callable[[], dict[str, Any]]) -> tuple[list[tuple[str, str]], str, harness.Plan]:
    plan = harness.Plan(stack="prod")
    with pytest.raises(InputPropertiesError) as caught:
        construct(args, into=plan)
    return refused_args(caught.value), str(caught.value), plan


def test_an_output_url_the_runtime_refuses_fails_naming_the_arg_masked() -> None:
    """As stack files: exit with the key and the option, never the URL; and, as the served
    CRD's verdict, before anything of the component reaches the cluster."""
    found, text, plan = _refused(
        lambda: prod_with_store(cache_url(("redis://:", "@h:6379/?abc=1")))
    )
    assert found == [
        (
            "stores.managed.url",
            "the runtime of Omnia 0.9.0-beta.17 (go-redis v9.21.0) refuses it and exits: "
            "redis: unexpected option: abc",
        )
    ]
    assert text.startswith("SessionAgents: invalid args:\nstores.managed.url: ")
    assert cache_password() not in text and "@h:6379" not in text
    assert kubernetes_objects(plan) == []  # no Redis, Secret, label or agent


@pytest.mark.parametrize("secret", [True, False])
def test_what_pulumi_up_prints_of_a_refused_plain_url_holds_no_password(secret: bool) -> None:
    """A URL given as a value, not an Output: the engine holds it in the component's inputs and
    would print it, a secret's in clear, at a property error's path."""
    url = f"rediss://:{cache_password()}@cache.example.com:6380/?abc=1"
    args = prod_with_store(output_value(url, secret=True, urns=[]) if secret else url)
    raw = prod_with_store(url)  # what the engine holds, and would print
    with pytest.raises(InputPropertiesError) as caught:
        construct(lambda: args)
    printed = printed_by_pulumi_up(caught.value, raw)
    assert "\nstores.managed.url: " in printed and "unexpected option: abc" in printed
    assert cache_password() not in printed and "cache.example.com" not in printed


@pytest.mark.parametrize(
    ("version", "refused"), [("0.2.0-alpha.12", True), ("0.9.0-beta.17", False)]
)
def test_the_lifetime_jitter_option_of_an_output_url_depends_on_the_release(
    version: str, refused: bool
) -> None:
    template = ("rediss://:", HOST + "?conn_max_lifetime=1h&conn_max_lifetime_jitter=6m")

    def args() -> dict[str, Any]:
        raw = prod_with_store(cache_url(template), omniaVersion=version)
        if version.startswith("0.2"):  # that release's facade key
            for agent in raw["agents"]:
                agent["spec"] = {"promptPackRef": {"name": "p"}, "facade": {"type": "websocket"}}
        return raw

    if not refused:
        assert credentials(construct(args), MANAGED)
        return
    found, text, _ = _refused(args)
    assert [path for path, _ in found] == ["stores.managed.url"]
    assert any(
        reason.endswith("unexpected option: conn_max_lifetime_jitter") for _, reason in found
    )
    assert cache_password() not in text


def test_a_store_url_that_is_not_a_secret_warns_without_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A URL not given as a secret is in clear where the consumer holds it (its source, or the
    state of the resource that gives it): a plain string and an Output that is not secret both
    warn, by the arg's name, and the component keeps it secret all the same."""
    clear = output_value(f"rediss://:{cache_password()}{HOST}", secret=False, urns=[])
    for url in (clear, f"rediss://:{cache_password()}{HOST}"):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            plan = construct(lambda url=url: prod_with_store(url))  # type: ignore[misc]
        warned = [m for m in caplog.messages if "stores.managed.url" in m]
        assert warned == [
            "stores.managed.url is not a secret: its password is in clear wherever your program "
            "holds it (its source, or the state of the resource whose output it is); the "
            "component keeps it secret from here on, but pass it as one (pulumi.secret(...), or "
            "an output that is one, as a generated password makes it)"
        ]
        assert not any(cache_password() in m for m in caplog.messages)
        assert harness.render(credentials(plan, MANAGED).inputs["stringData"]) == harness.SECRET


def test_an_output_url_s_warnings_are_printed_without_it(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        construct(lambda: prod_with_store(cache_url(("redis://:", "@cache.example.com:6379"))))
    warned = [m for m in caplog.messages if "stores.managed.url" in m]
    assert warned == [
        "stores.managed.url: redis:// to a host outside the cluster (not *.svc or "
        "*.svc.cluster.local): sessions and the password travel in clear; use rediss://"
    ]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda raw: raw["agents"][0].update(namespace=cache_url()), "agents[0].namespace"),
        # Where an SDK sends the whole arg as one Output (secrets or dependencies pushed up).
        (lambda raw: raw.update(stores=cache_url()), "stores"),
        (lambda raw: raw.update(omniaVersion=cache_url()), "omniaVersion"),
    ],
)
def test_an_output_where_a_plain_value_is_needed_is_refused_with_its_path(
    change: Callable[[dict[str, Any]], None], path: str
) -> None:
    def args() -> dict[str, Any]:
        raw = prod_with_store(f"rediss://:pw{HOST}")
        change(raw)
        return raw

    found, _, plan = _refused(args)
    assert found == [
        (
            path,
            "is an output of another resource (or unknown at preview): only stores.<name>.url "
            "may be one, every other arg decides what the component registers and must be a "
            "plain value",
        )
    ]
    assert plan.find(TOKEN) == []  # refused before anything is registered


# ---- in-cluster stores under `stores`, and what the component exports ---------------------


def tenant_stack() -> dict[str, Any]:
    """Prod with a second in-cluster store for finance and the external one for a new team."""
    raw = prod_with_store(f"rediss://:pw{HOST}")
    raw["stores"]["tenant-b"] = {"redis": {**stack_config("prod")["redis"], "namespace": "redis-b"}}
    raw["agents"][2]["session"]["store"] = "tenant-b"  # finance/billing
    spec = {"promptPackRef": {"name": "p"}, "facades": [{"type": "websocket"}]}
    raw["agents"].append(
        {"name": "ops", "namespace": "team-c", "session": {"store": "managed"}, "spec": spec}
    )
    return raw


def test_an_in_cluster_store_under_stores_reaches_the_models() -> None:
    """The SDK maps a map of typed args to Python names (`chart_version`): they are taken back
    to the stack-file spelling, so the package plans what the program plans."""
    plan = construct(tenant_stack)
    charts = {r.name: r.inputs["namespace"] for r in plan.find("kubernetes:helm.sh/v4:Chart")}
    assert charts == {"redis": "redis", "redis-tenant-b": "redis-b"}


def test_the_store_outputs_are_the_program_s(tmp_path: Any) -> None:
    """A stack naming `stores` exports `stores` (plain) and `storeUrls` (secret); the package's
    SessionAgents the same, as `stores` and `storeUrls`."""
    raw = tenant_stack()
    program = run_plan(write_stack(tmp_path / "Pulumi.prod.yaml", raw), "prod")

    def consumer() -> None:
        result = provider().construct("agents", TOKEN, engine_inputs(raw), None)
        for key, value in result.state.items():
            pulumi.export(key, value)

    state = run_program(consumer, {}, project=PROJECT, stack="prod").outputs
    stores = harness.render(program.outputs["stores"])
    assert stores == {
        "default": {
            "kind": "redis",
            "agentNamespaces": ["agents"],
            "secret": "redis-credentials",
            "release": "redis",
            "namespace": "redis",
            "host": "redis-master.redis.svc",
            "port": 6379,
            "label": "omnia-agents/redis-client",
        },
        "tenant-b": {
            "kind": "redis",
            "agentNamespaces": ["finance"],
            "secret": "redis-credentials-tenant-b",
            "release": "redis-tenant-b",
            "namespace": "redis-b",
            "host": "redis-tenant-b-master.redis-b.svc",
            "port": 6379,
            "label": "omnia-agents/redis-client-tenant-b",
        },
        "managed": {
            "kind": "url",
            "agentNamespaces": ["team-c"],
            "secret": "redis-credentials-managed",
        },
    }
    assert harness.render(state["stores"]) == stores
    assert harness.render(program.outputs["storeUrls"]) == harness.SECRET
    urls = harness.render(program.outputs["storeUrls"], show_secrets=True)
    assert urls == harness.render(state["storeUrls"], show_secrets=True)
    # Each is what that store's Secrets hold.
    held = {
        r.inputs["metadata"]["name"]: harness.render(r.inputs["stringData"], True)["url"]
        for r in program.find(SECRET)
        if r.name.endswith("-credentials")
    }
    assert {stores[n]["secret"]: u for n, u in urls.items()} == held
    # The default store's outputs as before.
    assert program.outputs["redis"] == {"host": "redis-master.redis.svc", "port": 6379}
    assert harness.render(program.outputs["redisUrl"], True) == urls["default"]


def test_today_s_stacks_export_what_they_always_have(prod_plan: harness.Plan) -> None:
    assert sorted(prod_plan.outputs) == ["agents", "redis", "redisUrl"]
    assert sorted(run_plan_dev().outputs) == ["agents"]


def run_plan_dev() -> harness.Plan:
    from offline.inputs import stack_file_for

    return run_plan(stack_file_for("dev"))
