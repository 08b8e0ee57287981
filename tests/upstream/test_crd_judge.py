"""The CRD check against the real Omnia CRDs in ../shared/omnia-crds (three releases)."""

from __future__ import annotations

from typing import Any

import pytest

from offline import cli, harness
from offline.inputs import stack_file_for
from offline.program import run_plan
from settings.errors import ConfigError, CrdMismatch
from tests.support.shared import crd_path
from tests.support.stacks import expected_session, session_era, stack_config
from upstream.crd_judge import (
    CEL_SKIPPED,
    CONTEXT_HINT,
    SESSION_HINT,
    Crd,
    Finding,
    check_manifests,
)

PRUNED = "unknown field: the API server prunes it (silently)"
REQUIRED = "required field is missing"


_LOADED: dict[str, Crd] = {}


def crd(release: str) -> Crd:
    """Parsed once per session: the files are read-only and parsing the largest takes 0.5 s."""
    if release not in _LOADED:
        _LOADED[release] = Crd.from_file(crd_path(release))
    return _LOADED[release]


def runtime(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "omnia.altairalabs.ai/v1alpha1",
        "kind": "AgentRuntime",
        "metadata": {"name": "bot", "namespace": "agents"},
        "spec": spec,
    }


SESSION_ERA = {
    "promptPackRef": {"name": "cs"},
    "facade": {"type": "websocket"},
    "session": {"type": "redis", "ttl": "24h", "storeRef": {"name": "redis-credentials"}},
}
CONTEXT_ERA = {
    "promptPackRef": {"name": "cs"},
    "facades": [{"type": "websocket"}],
    "context": {"type": "redis", "ttl": "24h", "storeRef": {"name": "redis-credentials"}},
}


@pytest.mark.parametrize(
    ("release", "field"),
    [("v0.2.0-alpha.1", "session"), ("v0.9.0-beta.16", "session"), ("v0.9.0-beta.17", "context")],
)
def test_each_crd_names_its_session_field(release, field) -> None:
    assert crd(release).session_field("v1alpha1") == field


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_real_stacks_conform_to_the_crd_they_target(stack) -> None:
    raw = stack_config(stack)
    release = f"v{raw['omniaVersion']}"
    plan = run_plan(stack_file_for(stack))
    manifests = plan.manifests()
    assert len(manifests) == len(raw["agents"])
    assert check_manifests(crd(release), manifests) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stacks_moved_to_the_oldest_release_conform_to_its_crd(stack, write_stack) -> None:
    """0.2.0-alpha.1 has no extraPodAnnotations: the program must not stamp pods there."""
    raw = session_era(stack_config(stack), "0.2.0-alpha.1")
    manifests = run_plan(write_stack(raw)).manifests()
    assert all("extraPodAnnotations" not in m["spec"] for m in manifests)
    assert check_manifests(crd("v0.2.0-alpha.1"), manifests) == []


def test_stacks_of_each_generation_conform(write_stack) -> None:
    beta16 = session_era(stack_config("prod"), "0.9.0-beta.16")
    manifests = run_plan(write_stack(beta16)).manifests()
    # beta.16 keeps what it does not prune: the injected runtime env is part of the check.
    by_name = {m["metadata"]["name"]: m["spec"] for m in manifests}
    redis = [a["name"] for a in beta16["agents"] if expected_session(beta16, a)["type"] == "redis"]
    assert redis and all("extraEnv" in by_name[name]["runtime"] for name in redis)
    assert check_manifests(crd("v0.9.0-beta.16"), manifests) == []

    context_era = stack_config("prod")  # omniaVersion 0.9.0-beta.17
    manifests = run_plan(write_stack(context_era, name="ctx")).manifests()
    assert {"context"} == {k for m in manifests for k in m["spec"] if k in ("session", "context")}
    assert check_manifests(crd("v0.9.0-beta.17"), manifests) == []


def test_session_era_object_against_the_context_crd() -> None:
    found = crd("v0.9.0-beta.17").judge(runtime(SESSION_ERA))
    assert Finding("spec.session", PRUNED) in found
    assert Finding("spec.facade", PRUNED) in found
    assert Finding("spec.facades", REQUIRED) in found


def test_context_era_object_against_the_session_crd() -> None:
    found = crd("v0.9.0-beta.16").judge(runtime(CONTEXT_ERA))
    assert found[:3] == [  # pruned fields in key order, whatever order the object had
        Finding("spec.context", PRUNED),
        Finding("spec.facades", PRUNED),
        Finding("spec.facade", REQUIRED),
    ]


def test_cel_requires_store_ref_for_redis() -> None:
    spec = {**CONTEXT_ERA, "context": {"type": "redis", "ttl": "24h"}}
    assert crd("v0.9.0-beta.17").judge(runtime(spec)) == [
        Finding("spec.context", "spec.context.storeRef is required when context.type is 'redis'")
    ]


def test_defaults_apply_before_cel() -> None:
    """`mode` is absent: the rules read self.mode, which only the default makes exist."""
    beta17 = crd("v0.9.0-beta.17")
    assert (
        beta17.schemas["v1alpha1"]["properties"]["spec"]["properties"]["mode"]["default"] == "agent"
    )
    assert "mode" not in CONTEXT_ERA
    assert beta17.judge(runtime(CONTEXT_ERA)) == []
    # A facade with no type gets the default `websocket`: a second one is then a duplicate.
    spec = {**CONTEXT_ERA, "facades": [{"type": "websocket"}, {}]}
    assert beta17.judge(runtime(spec)) == [
        Finding("spec", "spec.facades must not contain duplicate facade types")
    ]


CASES = [
    # (release, change to the era's valid spec, findings)
    (
        "v0.9.0-beta.16",
        {"facade": {"type": "http"}},
        [Finding("spec.facade.type", "'http' is not one of ['websocket', 'grpc', 'a2a']")],
    ),
    (
        "v0.9.0-beta.16",
        {"facade": {"type": "websocket", "port": 70000}},
        [Finding("spec.facade.port", "70000 is greater than the maximum of 65535")],
    ),
    (
        "v0.9.0-beta.16",
        {"facade": {"type": "websocket", "port": 0}},
        [Finding("spec.facade.port", "0 is less than the minimum of 1")],
    ),
    (
        "v0.9.0-beta.16",
        {"promptPackRef": {"name": ""}},
        [Finding("spec.promptPackRef.name", "'' should be non-empty")],
    ),
    (
        "v0.9.0-beta.16",
        {"promptPackRef": {"version": "1"}},
        [Finding("spec.promptPackRef.name", REQUIRED)],
    ),
    (
        "v0.9.0-beta.16",
        {"promptPackRef": {"name": "cs", "track": "canary"}},  # alpha.1 had it
        [Finding("spec.promptPackRef.track", PRUNED)],
    ),
    (
        "v0.9.0-beta.16",
        {"session": {"type": "redis", "storeRef": {"name": "c", "key": "url"}}},
        [Finding("spec.session.storeRef.key", PRUNED)],
    ),  # the operator docs' `key`
    (
        "v0.9.0-beta.16",
        {"session": {"type": "redis", "ttl": 3600}},
        # A type error stops validation before CEL, as on the server.
        [
            Finding("spec.session.ttl", "3600 is not of type 'string'"),
            Finding("(object)", CEL_SKIPPED),
        ],
    ),
    (
        "v0.9.0-beta.16",
        {"facade": {"type": "websocket", "port": None}},  # dropped, then defaulted: accepted
        [],
    ),
    (
        "v0.9.0-beta.16",
        {"facade": {"type": "websocket", "port": 8080.0}},  # a whole number decodes as integer
        [],
    ),
    (
        "v0.9.0-beta.16",
        {"facade": {"type": "websocket", "port": 80.5}},
        [
            Finding("spec.facade.port", "80.5 is not of type 'integer'"),
            Finding("(object)", CEL_SKIPPED),
        ],
    ),
    (
        "v0.9.0-beta.16",
        {
            "providers": [
                {"name": "default", "providerRef": {"name": "a"}},
                {"name": "default", "providerRef": {"name": "b"}},
            ]
        },
        [Finding("spec.providers[1]", "Duplicate value: name as in [0]")],
    ),
    (
        "v0.9.0-beta.16",
        {"mode": "function"},
        [
            Finding("spec", "spec.inputSchema is required when spec.mode is 'function'"),
            Finding("spec", "spec.outputSchema is required when spec.mode is 'function'"),
            Finding(
                "spec",
                "facade.type 'websocket' is incompatible with mode 'function'; use 'grpc' or omit",
            ),
        ],
    ),
    (
        "v0.9.0-beta.17",
        {"context": {"type": "postgres", "storeRef": {"name": "c"}}},
        [Finding("spec.context.type", "'postgres' is not one of ['memory', 'redis']")],
    ),
    ("v0.9.0-beta.17", {"facades": []}, [Finding("spec.facades", "[] should be non-empty")]),
    (
        "v0.9.0-beta.17",
        {"facades": [{"type": "websocket"}, {"type": "smtp"}]},
        [
            Finding(
                "spec.facades[1].type", "'smtp' is not one of ['websocket', 'a2a', 'rest', 'mcp']"
            ),
            Finding("spec", "mode 'agent' allows only 'websocket' and 'a2a' facades"),
        ],
    ),
    (
        "v0.9.0-beta.17",
        {"facades": [{"type": "websocket"}, {"type": "rest"}]},
        [Finding("spec", "mode 'agent' allows only 'websocket' and 'a2a' facades")],
    ),
    (
        "v0.9.0-beta.17",
        {"mode": "batch"},
        [Finding("spec.mode", "'batch' is not one of ['agent', 'function']")],
    ),
    (
        "v0.9.0-beta.17",
        {"facades": [{"type": "websocket", "colour": "red"}]},
        [Finding("spec.facades[0].colour", PRUNED)],
    ),
]


@pytest.mark.parametrize(("release", "change", "expected"), CASES)
def test_crd_constraints_with_exact_paths(release, change, expected) -> None:
    base = SESSION_ERA if crd(release).session_field("v1alpha1") == "session" else CONTEXT_ERA
    assert crd(release).judge(runtime({**base, **change})) == expected


def test_metadata_and_wrong_api_version() -> None:
    beta16 = crd("v0.9.0-beta.16")
    obj = runtime(SESSION_ERA)
    obj["metadata"]["labels"] = {"team": "support"}
    assert beta16.judge(obj) == []
    obj["apiVersion"] = "omnia.altairalabs.ai/v1"
    assert beta16.judge(obj) == [
        Finding("apiVersion", "this CRD serves AgentRuntime as omnia.altairalabs.ai/v1alpha1")
    ]


def test_generation_hints() -> None:
    assert check_manifests(crd("v0.9.0-beta.17"), [runtime(SESSION_ERA)])[0] == CONTEXT_HINT
    assert check_manifests(crd("v0.9.0-beta.16"), [runtime(CONTEXT_ERA)])[0] == SESSION_HINT
    assert CONTEXT_HINT == (
        "this CRD has spec.context: set omnia-agents:omniaVersion to 0.9.0-beta.17 or later"
    )
    assert SESSION_HINT == (
        "this CRD has spec.session: set omnia-agents:omniaVersion below 0.9.0-beta.17 "
        "(e.g. 0.9.0-beta.16)"
    )


def test_plan_crd_exit_codes(capsys) -> None:
    assert cli.main(["prod", "--crd", str(crd_path("v0.9.0-beta.17"))]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "AgentRuntime" in out

    assert cli.main(["prod", "--crd", str(crd_path("v0.9.0-beta.16"))]) == 1
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines[0] == SESSION_HINT
    assert f"public/faq: spec.context: {PRUNED}" in lines
    assert f"agents/support: spec.context: {PRUNED}" in lines
    assert f"finance/billing: spec.facade: {REQUIRED}" in lines
    assert out == ""  # judged by the program against the served CRD: it fails, no plan


def test_stack_crd_file_fails_the_program_before_registering(write_stack, capsys) -> None:
    config = stack_config("prod")
    config["crdFile"] = str(crd_path("v0.9.0-beta.16"))
    path = write_stack(config)
    plan = harness.Plan(stack="test")
    with pytest.raises(CrdMismatch) as caught:
        run_plan(path, into=plan)
    assert plan.resources == []  # nothing registered, not even Redis
    order = [(a["namespace"], a["name"]) for a in config["agents"]]  # the program's order
    manifests = sorted(
        run_plan(stack_file_for("prod")).manifests(),
        key=lambda m: order.index((m["metadata"]["namespace"], m["metadata"]["name"])),
    )
    expected = check_manifests(crd("v0.9.0-beta.16"), manifests)
    assert expected[0] == SESSION_HINT
    assert caught.value.lines == expected
    assert cli.main(["--stack-file", str(path)]) == 1
    out, err = capsys.readouterr()
    assert (out, err.splitlines()) == ("", expected)


def test_stack_crd_file_that_conforms(write_stack) -> None:
    config = stack_config("prod")
    config["crdFile"] = str(crd_path("v0.9.0-beta.17"))
    assert len(run_plan(write_stack(config)).manifests()) == 4


def test_unreadable_crd_files(write_stack, tmp_path, capsys) -> None:
    config = stack_config("dev")
    config["crdFile"] = "no/such/crd.yaml"
    with pytest.raises(ConfigError) as caught:
        run_plan(write_stack(config))
    assert caught.value.problems[0].key == "omnia-agents:crdFile"
    assert (
        caught.value.problems[0].message
        == "cannot read no/such/crd.yaml (No such file or directory)"
    )
    not_crd = tmp_path / "deployment.yaml"
    not_crd.write_text("kind: Deployment\napiVersion: apps/v1\n", encoding="utf-8")
    assert cli.main(["dev", "--crd", str(not_crd)]) == 2
    assert capsys.readouterr() == ("", f"{not_crd} holds no CustomResourceDefinition\n")
