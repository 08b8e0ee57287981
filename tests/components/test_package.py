"""The component package: its inferred schema, its args against the models, and what it builds.

Constructed in-process through the SDK's own `ComponentProvider.construct`, under the same mocks
as the program, from the real stack files' settings sent as the engine sends them (numbers as
doubles): the package must register what the program registers for the same settings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from pydantic import BaseModel

from offline import harness
from offline.harness import run_program
from offline.inputs import ROOT, stack_file_for
from offline.program import run_plan
from settings import errors, models
from tests.support import package_schema
from tests.support.engine import as_sent, printed_by_pulumi_up, refused_args
from tests.support.package_schema import PAIRS, provider
from tests.support.plugins import served
from tests.support.stacks import stack_config

TOKEN = "omnia-agents:index:{}"
# Stack-file keys the package leaves out, on purpose.
NOT_IN_PACKAGE = {
    (models.StackConfig, "crdFile"): "a path on the program's machine; the package judges "
    "agents against the CRD the cluster serves",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return package_schema.schema()


# ---- args and models in step --------------------------------------------------------------


def _schema_names(typed: type) -> set[str]:
    names = {camel_case(k) for k in typed.__annotations__}  # bases' included
    return {"kubernetes:context" if n == "kubeContext" else n for n in names}


def _model_names(model: type[BaseModel]) -> set[str]:
    return {
        f.alias or n
        for n, f in model.model_fields.items()
        if (model, f.alias or n) not in NOT_IN_PACKAGE
    }


def _nested_models(model: type[BaseModel]) -> set[type[BaseModel]]:
    found = set()
    for field in model.model_fields.values():
        nested = errors._model_of(field.annotation)
        if nested is not None:
            found |= {nested, *_nested_models(nested)}
    return found


@pytest.mark.parametrize(("typed", "model"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_args_and_models_have_the_same_fields(typed, model) -> None:
    assert _schema_names(typed) == _model_names(model)


def test_every_model_a_stack_file_reaches_has_args() -> None:
    covered = {model for _, model in PAIRS}
    assert _nested_models(models.StackConfig) <= covered


# ---- the inferred schema ------------------------------------------------------------------


def test_schema_resources_tokens_and_required_inputs(schema) -> None:
    assert schema["name"] == "omnia-agents"
    resources = schema["resources"]
    assert set(resources) == {TOKEN.format("SessionAgents"), TOKEN.format("RedisSessionStore")}
    agents = resources[TOKEN.format("SessionAgents")]
    assert agents["isComponent"] is True
    assert sorted(agents["requiredInputs"]) == ["agents", "session"]
    assert set(agents["inputProperties"]) == {
        "omniaVersion",
        "session",
        "redis",
        "stores",
        "agents",
        "agentNamespaces",
        "kubeContext",
    }
    assert set(agents["properties"]) == {
        "agents",
        "redisHost",
        "redisPort",
        "redisUrl",
        "stores",
        "storeUrls",
    }
    # The one arg that may be another resource's output: not plain, so the generated SDKs take
    # an Output there (TypeScript: pulumi.Input<string>); the structure around it stays plain.
    store_args = schema["types"][TOKEN.format("StoreArgs")]["properties"]
    assert store_args["url"] == {"type": "string", "description": store_args["url"]["description"]}
    assert store_args["redis"]["plain"] is True
    assert agents["inputProperties"]["stores"]["plain"] is True
    store = resources[TOKEN.format("RedisSessionStore")]
    assert store["requiredInputs"] == ["chartVersion"]
    assert set(store["properties"]) == {"host", "port", "url"}
    assert store["properties"]["port"]["type"] == "integer"


def test_schema_types_enums_and_descriptions(schema) -> None:
    types = schema["types"]
    session_type = types[TOKEN.format("SessionType")]
    assert [e["value"] for e in session_type["enum"]] == ["memory", "redis"]
    assert [e["value"] for e in types[TOKEN.format("Architecture")]["enum"]] == [
        "standalone",
        "replication",
    ]
    agent = types[TOKEN.format("AgentArgs")]
    assert agent["required"] == ["name"]
    assert agent["properties"]["spec"]["additionalProperties"]["$ref"] == "pulumi.json#/Any"
    redis = types[TOKEN.format("RedisArgs")]["properties"]
    assert redis["replicas"]["type"] == "integer"
    assert redis["sentinel"]["type"] == "boolean"
    assert "Go duration" in types[TOKEN.format("SessionArgs")]["properties"]["ttl"]["description"]
    description = schema["resources"][TOKEN.format("SessionAgents")]["description"]
    assert description.startswith("Omnia agents (AgentRuntimes)") and "\n    " not in description


@pytest.fixture(scope="module")
def served_package(tmp_path_factory) -> Iterator[Any]:
    """The package as the CLI starts it: pulumi-language-python RunPlugin runs `python <plugin
    dir> <engine>` in the consuming program's directory (pulumi/pulumi
    sdk/python/cmd/pulumi-language-python/main.go), so only `package/` is on sys.path."""
    consumer = tmp_path_factory.mktemp("consumer")
    with served([str(ROOT / "package"), "127.0.0.1:9"], consumer) as channel:
        yield provider_pb2_grpc.ResourceProviderStub(channel)


def test_the_hosted_package_serves_the_same_schema(served_package, schema) -> None:
    answer = served_package.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=20)
    assert json.loads(answer.schema) == schema


# ---- construct: the same children as the program ------------------------------------------


def _construct(token: str, name: str, inputs: dict[str, Any], stack: str) -> harness.Plan:
    def program() -> None:
        provider().construct(name, TOKEN.format(token), as_sent(inputs), None)

    return run_program(program, {}, project="omnia-agents", stack=stack)


def _shape(plan: harness.Plan, skip: set[str]) -> list[tuple[str, str, str]]:
    return sorted(
        (r.type, r.name, json.dumps(harness.render(r.inputs, show_secrets=True), sort_keys=True))
        for r in plan.resources
        if r.type not in skip
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_session_agents_registers_what_the_program_registers(stack) -> None:
    program = run_plan(stack_file_for(stack))
    built = _construct("SessionAgents", "agents", stack_config(stack), stack)
    (component,) = built.find(TOKEN.format("SessionAgents"))
    assert _shape(built, {component.type}) == _shape(program, set())
    assert sorted((r.type, r.name, r.id) for r in built.reads) == sorted(
        (r.type, r.name, r.id) for r in program.reads
    )
    outer = {r.urn for r in built.resources if r.parent == component.urn}
    assert outer and all(
        r.type.startswith("omnia-agents:index:") for r in built.resources if r.urn in outer
    )
    assert component.urn in built.completed


def test_session_agents_outputs_are_the_program_s_stack_outputs(prod_plan) -> None:
    def program() -> None:
        result = provider().construct(
            "agents", TOKEN.format("SessionAgents"), as_sent(stack_config("prod")), None
        )
        for key, value in result.state.items():  # what the engine gets back, per property
            pulumi.export(key, value)

    state = run_program(program, {}, project="omnia-agents", stack="prod").outputs
    assert harness.render(state["agents"]) == harness.render(prod_plan.outputs["agents"])
    assert {"host": state["redisHost"], "port": harness.render(state["redisPort"])} == (
        prod_plan.outputs["redis"]
    )
    assert harness.render(state["redisUrl"]) == harness.SECRET  # still a secret
    assert harness.render(state["redisUrl"], show_secrets=True) == harness.render(
        prod_plan.outputs["redisUrl"], show_secrets=True
    )


def test_redis_session_store_registers_the_program_s_store(prod_plan) -> None:
    raw = stack_config("prod")
    built = _construct("RedisSessionStore", "redis", raw["redis"], "prod")
    (component,) = built.find(TOKEN.format("RedisSessionStore"))
    (store,) = prod_plan.find(TOKEN.format("RedisStore"))
    in_store = {r.urn for r in prod_plan.resources if store.urn in (r.urn, r.parent)}
    expected = _shape(
        harness.Plan(stack="prod", resources=[r for r in prod_plan.resources if r.urn in in_store]),
        set(),
    )
    (own_store,) = built.find(TOKEN.format("RedisStore"))
    assert own_store.parent == component.urn and own_store.name == component.name
    own = {r.urn for r in built.resources if own_store.urn in (r.urn, r.parent)}
    got = _shape(
        harness.Plan(stack="prod", resources=[r for r in built.resources if r.urn in own]), set()
    )
    assert got == expected
    # Its own provider (mutable Secrets) and CRD read, named after the component.
    provider_ = next(r for r in built.resources if r.type == "pulumi:providers:kubernetes")
    assert provider_.name == "redis-cluster-provider"
    assert provider_.inputs["enableSecretMutable"] in (True, "true")
    assert [r.name for r in built.reads] == ["redis-cluster-crd"]


def test_whole_numbers_arrive_as_doubles_and_reach_the_models_as_integers() -> None:
    raw = stack_config("prod")
    raw["agents"][0]["spec"]["facades"] = [{"type": "websocket", "port": 8080}]
    built = _construct("SessionAgents", "agents", raw, "prod")
    chart = built.one("kubernetes:helm.sh/v4:Chart", "redis")
    replicas = chart.inputs["values"]["replica"]["replicaCount"]
    assert replicas == raw["redis"]["replicas"] and isinstance(replicas, int | float)
    spec = next(
        r
        for r in built.find(harness.AGENT_RUNTIME)
        if r.name == f"agents.{raw['agents'][0]['name']}"
    ).inputs["spec"]
    assert harness.render(spec)["facades"] == [{"type": "websocket", "port": 8080}]


def test_a_fractional_integer_is_refused_with_its_path() -> None:
    raw = stack_config("prod")
    raw["redis"]["replicas"] = 2.5
    with pytest.raises(InputPropertiesError) as caught:  # not wrapped: the SDK reports it
        _construct("SessionAgents", "agents", raw, "prod")
    assert refused_args(caught.value) == [
        (
            "redis.replicas",
            "Input should be a valid integer (got 2.5)",
        )
    ]


@pytest.mark.parametrize(
    ("token", "change", "path", "reason"),
    [
        (
            "SessionAgents",
            lambda raw: raw["agents"][1].__setitem__("name", "Triage"),
            "agents[1].name",
            "'Triage' is not a DNS-1123 label (lowercase letters, digits and '-', starting and "
            "ending with a letter or digit, at most 63 characters)",
        ),
        (
            "SessionAgents",
            lambda raw: raw["session"].__setitem__("ttl", "7d"),
            "session.ttl",
            "'7d' is not a Go duration (use '168h')",
        ),
        (
            "SessionAgents",
            lambda raw: raw.__setitem__("omniaVersion", "latest"),
            "omniaVersion",
            "'latest' is not an Omnia release version (e.g. '0.9.0-beta.17')",
        ),
        (
            "RedisSessionStore",
            lambda raw: (
                raw.__setitem__("sentinel", True)
                or raw.__setitem__("architecture", "standalone")
                or raw.pop("replicas")
            ),
            "",  # the args as a whole
            "sentinel: true needs architecture: replication",
        ),
        (
            "RedisSessionStore",
            lambda raw: raw.__setitem__("chartVersion", "^23"),
            "chartVersion",
            "'^23' is not an exact version (x.y.z, e.g. '22.0.7'); pin one",
        ),
    ],
)
def test_bad_args_are_refused_with_their_path_before_anything_is_registered(
    token, change, path, reason
) -> None:
    raw = stack_config("prod")
    inputs = raw if token == "SessionAgents" else raw["redis"]
    change(inputs)
    plan = harness.Plan(stack="prod")

    def program() -> None:
        provider().construct("x", TOKEN.format(token), as_sent(inputs), None)

    with pytest.raises(InputPropertiesError) as caught:
        run_program(program, {}, project="omnia-agents", stack="prod", into=plan)
    assert refused_args(caught.value) == [(path, reason)]
    assert plan.resources == []  # nothing half-built


def test_a_missing_required_arg_is_refused_with_its_path_before_construct() -> None:
    raw = stack_config("prod")
    del raw["session"]
    with pytest.raises(InputPropertiesError) as caught:
        _construct("SessionAgents", "agents", raw, "prod")
    assert refused_args(caught.value) == [("session", "is required")]


SECRET_VALUE = "s3cret-Tok3n"


@pytest.mark.parametrize(
    ("token", "change", "path"),
    [
        (
            "RedisSessionStore",
            lambda raw: raw.__setitem__("values", {"auth": {"password": SECRET_VALUE}}),
            "values.auth",
        ),
        ("RedisSessionStore", lambda raw: raw.__setitem__("password", SECRET_VALUE), "password"),
        (
            "RedisSessionStore",  # refused as a whole: an empty path would print every arg
            lambda raw: (
                raw.update(
                    sentinel=True,
                    architecture="standalone",
                    values={"commonAnnotations": {"token": SECRET_VALUE}},
                )
                or raw.pop("replicas")
            ),
            "(args)",
        ),
        (
            "SessionAgents",
            lambda raw: raw["redis"].__setitem__("values", {"auth": {"password": SECRET_VALUE}}),
            "redis.values.auth",
        ),
    ],
)
def test_what_pulumi_up_prints_of_a_refusal_holds_no_value(token, change, path) -> None:
    """The engine would print the arg at each property error's path, secrets in clear."""
    raw = stack_config("prod")
    inputs = raw if token == "SessionAgents" else raw["redis"]
    change(inputs)
    with pytest.raises(InputPropertiesError) as caught:
        _construct(token, "x", inputs, "prod")
    printed = printed_by_pulumi_up(caught.value, inputs)
    assert f"\n{path}: " in printed
    assert SECRET_VALUE not in printed


def _refused(token: str, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    plan = harness.Plan(stack="prod")

    def program() -> None:
        provider().construct("x", TOKEN.format(token), as_sent(inputs), None)

    with pytest.raises(InputPropertiesError) as caught:
        run_program(program, {}, project="omnia-agents", stack="prod", into=plan)
    assert plan.resources == []
    return refused_args(caught.value)


_KNOWN = "session, agents, omniaVersion, redis, stores, agentNamespaces, kubeContext"
_REDIS = (
    "chartVersion, namespace, chart, images, architecture, sentinel, replicas, protect, "
    "passwordRotation, readyTimeout, resources, maxmemory, volumeSize, failover"
)
_EXISTS = (
    "'kube-system' exists in every cluster: the program creates (and keeps) the Redis "
    "namespace, so creating it fails (AlreadyExists); give Redis a namespace of its own "
    "(default 'redis')"
)


@pytest.mark.parametrize(
    ("token", "change", "expected"),
    [
        # The SDK drops keys its schema lacks: a misspelt release deployed the default one.
        (
            "SessionAgents",
            lambda raw: raw.__setitem__("omnia_version", raw.pop("omniaVersion")),
            [("omnia_version", f"unknown arg (known: {_KNOWN})")],
        ),
        (
            "SessionAgents",
            lambda raw: raw.__setitem__("foo", 1),
            [("foo", f"unknown arg (known: {_KNOWN})")],
        ),
        (
            "SessionAgents",
            lambda raw: raw.__setitem__("crdFile", "crd.yaml"),  # a stack-file key, not an arg
            [("crdFile", f"unknown arg (known: {_KNOWN})")],
        ),
        (
            "SessionAgents",
            lambda raw: raw["redis"].__setitem__("foo", True),
            [
                (
                    "redis.foo",
                    "unknown arg (known: chartVersion, namespace, chart, images, architecture, sentinel, replicas, protect, passwordRotation, readyTimeout, resources, maxmemory, volumeSize, failover, storageClass, metrics, values)",
                )
            ],
        ),
        (
            "SessionAgents",
            lambda raw: raw.__setitem__("kubeContext", 7),
            [("kubeContext", "must be a string (got 7.0)")],
        ),
        (
            "SessionAgents",
            lambda raw: raw["redis"].__setitem__("resources", [1]),
            [
                (
                    "redis.resources",
                    "Input should be a valid dictionary or instance of ResourcesConfig (got [1])",
                )
            ],
        ),
        (
            "SessionAgents",
            lambda raw: raw["redis"].__setitem__("replicas", math.inf),
            [
                (
                    "redis.replicas",
                    "inf is not a number JSON can carry (Kubernetes objects are JSON)",
                )
            ],
        ),
        (
            "RedisSessionStore",
            lambda raw: raw.__setitem__("namespace", "kube-system"),
            [
                (
                    "namespace",
                    "'kube-system' exists in every cluster: the program creates (and keeps) the Redis namespace, so creating it fails (AlreadyExists); give Redis a namespace of its own (default 'redis')",
                )
            ],
        ),
        (
            "RedisSessionStore",
            lambda raw: raw.__setitem__("kube_context", "x"),
            [
                (
                    "kube_context",
                    "unknown arg (known: chartVersion, namespace, chart, images, architecture, sentinel, replicas, protect, passwordRotation, readyTimeout, resources, maxmemory, volumeSize, failover, storageClass, metrics, values, kubeContext)",
                )
            ],
        ),
    ],
)
def test_raw_args_are_judged_like_stack_files(token, change, expected) -> None:
    """Read before the SDK maps them (issue 16): unknown keys with their arg path, kubeContext,
    inf, a list for an object; refused as invalid properties, never a bare exception."""
    raw = stack_config("prod")
    inputs = raw if token == "SessionAgents" else raw["redis"]
    change(inputs)
    assert _refused(token, inputs) == expected


# ---- the README's examples ----------------------------------------------------------------


def _check(value: Any, prop: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    """A value against a schema property: types, enums, required and unknown keys. An Output
    of the program (`{"$ts": name}`, tests/support/ts_literal.py) only where the schema takes
    one: a string that is not `plain` (the generated SDK's pulumi.Input<string>)."""
    from tests.support.ts_literal import REF

    if isinstance(value, dict) and set(value) == {REF}:
        takes = prop.get("type") == "string" and not prop.get("plain")
        return [] if takes else [f"{path}: {value[REF]} is an Output, the schema wants a value"]
    ref = prop.get("$ref", "")
    if ref == "pulumi.json#/Any":
        return []
    if ref.startswith("#/types/"):
        typ = schema["types"][ref.removeprefix("#/types/")]
        if "enum" in typ:
            allowed = [e["value"] for e in typ["enum"]]
            return [] if value in allowed else [f"{path}: {value!r} not one of {allowed}"]
        return _check_object(value, typ, schema, path)
    kind = prop.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [
            p for i, v in enumerate(value) for p in _check(v, prop["items"], schema, f"{path}[{i}]")
        ]
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: not a map"]
        extra = prop.get("additionalProperties", {})
        return [p for k, v in value.items() for p in _check(v, extra, schema, f"{path}.{k}")]
    python: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "boolean": bool,
        "number": (int, float),
    }
    return [] if isinstance(value, python[str(kind)]) else [f"{path}: not {kind}"]


def _check_object(value: Any, typ: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    """`typ`: an object type, or a resource (its inputs: `inputProperties`, `requiredInputs`)."""
    if not isinstance(value, dict):
        return [f"{path}: not an object"]
    resource = "inputProperties" in typ
    props = typ["inputProperties"] if resource else typ.get("properties", {})
    required = typ.get("requiredInputs" if resource else "required")
    found = [f"{path}.{k}: unknown" for k in value if k not in props]
    found += [f"{path}.{k}: missing" for k in required or [] if k not in value]
    for key, item in value.items():
        if key in props:
            found += _check(item, props[key], schema, f"{path}.{key}")
    return found


def test_the_yaml_example_s_inputs_fit_the_schema(schema) -> None:
    import yaml

    program = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    checked = 0
    for name, resource in program["resources"].items():
        token = resource["type"]
        if token.count(":") == 1:  # `pkg:Name`, YAML's short form of `pkg:index:Name`
            token = token.replace(":", ":index:")
        if not token.startswith("omnia-agents:index:"):
            continue
        assert _check_object(resource["properties"], schema["resources"][token], schema, name) == []
        checked += 1
    assert checked == 1


def _resolved(value: Any, outputs: dict[str, Any]) -> Any:
    """The literal with each `{"$ts": name}` replaced by `outputs[name]`."""
    from tests.support.ts_literal import REF

    if isinstance(value, dict) and set(value) == {REF}:
        return outputs[value[REF]]
    if isinstance(value, dict):
        return {k: _resolved(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, outputs) for v in value]
    return value


@pytest.mark.parametrize("known", [True, False], ids=["cache-exists", "first-preview"])
def test_the_typescript_example_s_inputs_fit_the_schema(schema, known) -> None:
    """The args literal against the schema, and the package building it with the managed
    cache's URL as the engine sends it: an output of the program's RandomPassword, secret as
    its `result` is, unknown at the first preview."""
    import pulumi_random as random

    from tests.support.engine import engine_inputs, output_value
    from tests.support.ts_literal import object_literal, template

    source = (ROOT / "examples" / "typescript" / "index.ts").read_text()
    args = object_literal(source, "const args: omnia.SessionAgentsArgs = ")
    token = TOKEN.format("SessionAgents")
    assert _check_object(args, schema["resources"][token], schema, "args") == []
    assert args["stores"] == {"managed": {"url": {"$ts": "cacheUrl"}}}
    before, expression, after = template(source, "cacheUrl")
    assert expression == "cacheToken.result"
    name = "cache-token"
    token_args = object_literal(source, f'new random.RandomPassword("{name}", ')
    urn = harness.engine_urn("prod", "omnia-agents", "", harness.PASSWORD, name)
    password = harness.mock_password(f"prod/{name}", token_args)
    url = before + password + after

    def program() -> None:
        random.RandomPassword(name, **token_args)
        sent = output_value(url if known else None, secret=True, urns=[urn])
        inputs = engine_inputs(_resolved(args, {"cacheUrl": sent}))
        provider().construct("sessions", token, inputs, None)

    built = run_program(
        program, {}, project="omnia-agents", stack="prod", unknown_computed=not known
    )
    cache = built.one(harness.PASSWORD, name)
    assert "result" in cache.secret_outputs  # hence secret=True
    if known:  # the token the URL carries is the one the cache's resource gives
        assert harness.render(cache.outputs, show_secrets=True)["result"] == password
    assert len(built.find(harness.AGENT_RUNTIME)) == len(args["agents"])
    (managed,) = [
        r for r in built.find("kubernetes:core/v1:Secret") if r.name == "public-credentials"
    ]
    assert managed.inputs["metadata"]["name"] == "redis-credentials-managed"
    shown = harness.render(managed.inputs["stringData"], show_secrets=True)
    assert shown == ({"url": url} if known else harness.UNKNOWN)


def test_the_typescript_project_is_what_pulumi_package_add_leaves(schema) -> None:
    """The example is a complete project: `pulumi package add ../../package` records the local
    path in Pulumi.yaml (pulumi/pulumi pkg/cmd/pulumi/packagecmd/package_add.go, short form
    for a package without parameters) and links the generated SDK as `@pulumi/<name>` from
    `file:sdks/<name>` (sdk/nodejs/cmd/pulumi-language-nodejs Link, sdk/nodejs/npm/manager.go);
    `pulumi up` compiles index.ts with its tsconfig."""
    project = ROOT / "examples" / "typescript"
    name = schema["name"]
    manifest = yaml.safe_load((project / "Pulumi.yaml").read_text())
    source = manifest["packages"][name]
    assert (project / source / "PulumiPlugin.yaml").is_file()
    assert (project / source).resolve() == ROOT / "package"
    package_json = json.loads((project / "package.json").read_text())
    assert package_json["dependencies"][f"@pulumi/{name}"] == f"file:sdks/{name}"
    assert package_json["main"] == "index.ts"
    assert "typescript" in package_json["devDependencies"]
    tsconfig = json.loads((project / "tsconfig.json").read_text())
    assert tsconfig["files"] == ["index.ts"] and tsconfig["compilerOptions"]["strict"] is True
    index = (project / "index.ts").read_text()
    assert f'from "@pulumi/{name}"' in index
    # The YAML program records the same local source.
    program = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    assert (ROOT / "examples" / "yaml" / program["packages"][name]).resolve() == ROOT / "package"


def test_the_schema_check_itself_catches_a_misspelt_key(schema) -> None:
    token = TOKEN.format("SessionAgents")
    bad = {"session": {"type": "redis", "ttl": "24h"}, "agents": [{"name": "a", "namepsace": "x"}]}
    assert _check_object(bad, schema["resources"][token], schema, "args") == [
        "args.agents[0].namepsace: unknown"
    ]
    assert _check_object(
        {"session": {"type": "disk"}, "agents": []}, schema["resources"][token], schema, "a"
    ) == ["a.session.type: 'disk' not one of ['memory', 'redis']"]
