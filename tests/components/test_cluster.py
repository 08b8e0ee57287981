"""What the real engine and provider need, on the real stack files: the program's own provider
with mutable Secrets, reads at preview (the Omnia CRD, agent namespaces), early failures."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from offline import cli, harness
from offline.inputs import stack_file_for
from offline.program import run_plan
from settings.errors import CrdMismatch
from tests.support.shared import crd_path
from tests.support.stacks import (
    AGENT_RUNTIME,
    CHART,
    NAMESPACE,
    PASSWORD,
    PATCH,
    SECRET,
    expected_session,
    redis_namespaces,
    stack_config,
)
from upstream.agent_runtime import CRD_NAME, INSTALL_HINT, NAMESPACE_HINT
from upstream.crd_judge import Crd, check_manifests
from upstream.kubernetes import CRD as CRD_TYPE
from upstream.kubernetes import PROVIDER


def own_release(raw: dict[str, Any]) -> str:
    return f"v{raw['omniaVersion']}"


def other_era_release(raw: dict[str, Any]) -> str:
    """A release whose CRD reads the session block under the other key than this stack's."""
    field = Crd.from_file(crd_path(own_release(raw))).session_field("v1alpha1")
    return "v0.9.0-beta.16" if field == "context" else "v0.9.0-beta.17"


def serving(release: str, namespaces: frozenset[str] | None = None) -> harness.Cluster:
    crd = yaml.safe_load(crd_path(release).read_text(encoding="utf-8"))
    return harness.Cluster(namespaces=namespaces, crds={CRD_NAME: crd})


def test_one_provider_with_mutable_secrets_manages_every_kubernetes_object(prod_plan) -> None:
    (provider,) = prod_plan.find(PROVIDER)
    assert provider.inputs["enableSecretMutable"] == "true"
    assert "context" not in provider.inputs  # the stack sets no kubernetes:context
    ref = provider.urn
    kube = [r for r in prod_plan.resources if r.type.startswith("kubernetes:")]
    assert {r.type for r in kube} >= {NAMESPACE, SECRET, PATCH, CHART, AGENT_RUNTIME}
    for r in kube:
        assert r.provider.startswith(f"{ref}::"), r.name
    assert prod_plan.one(CHART, "redis").providers["kubernetes"].startswith(f"{ref}::")
    assert prod_plan.reads and all(r.provider.startswith(f"{ref}::") for r in prod_plan.reads)
    assert not prod_plan.one(PASSWORD, "redis-password").provider  # not a Kubernetes object


def test_kubernetes_context_reaches_the_provider(tmp_path) -> None:
    document = yaml.safe_load(stack_file_for("dev").read_text(encoding="utf-8"))
    document["config"]["kubernetes:context"] = "prod-cluster"
    path = tmp_path / "Pulumi.ctx.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    (provider,) = run_plan(path).find(PROVIDER)
    assert provider.inputs == {"context": "prod-cluster", "enableSecretMutable": "true"}


def test_the_crd_and_each_agent_namespace_are_read_once(prod_plan) -> None:
    raw = stack_config("prod")
    reads = sorted((r.type, r.id) for r in prod_plan.reads)
    agent_namespaces = {a["namespace"] for a in raw["agents"]} - {raw["redis"]["namespace"]}
    assert reads == sorted([(CRD_TYPE, CRD_NAME), *((NAMESPACE, n) for n in agent_namespaces)])
    # The program creates no agent namespace in `require` mode, only the Redis one.
    created = [r.inputs["metadata"]["name"] for r in prod_plan.find(NAMESPACE)]
    assert created == [raw["redis"]["namespace"]]


def test_nothing_is_created_before_the_crd_read(prod_plan) -> None:
    crd = next(r.urn for r in prod_plan.reads if r.type == CRD_TYPE)
    kube = [r for r in prod_plan.resources if r.type.startswith(("kubernetes:", "random:"))]
    for r in kube:
        # Directly, or through the Redis namespace / namespace read that waits for it.
        waits = set(r.dependencies)
        assert crd in waits or prod_plan.one(NAMESPACE, "redis-namespace").urn in waits, r.name
    assert crd in prod_plan.one(NAMESPACE, "redis-namespace").dependencies


def test_no_operator_fails_before_anything_is_created(tmp_path, capsys) -> None:
    plan = harness.Plan(stack="prod")
    with pytest.raises(harness.NotInClusterError) as caught:
        run_plan(stack_file_for("prod"), cluster=harness.Cluster(crds={}), into=plan)
    assert (caught.value.type, caught.value.name) == (CRD_TYPE, CRD_NAME)
    registered = {r.type for r in plan.resources}
    assert registered <= {PROVIDER, *(t for t in registered if t.startswith("omnia-agents:"))}
    description = tmp_path / "cluster.yaml"
    description.write_text("crd: null\n", encoding="utf-8")
    assert cli.main(["prod", "--cluster", str(description)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"stacks/Pulumi.prod.yaml: the cluster has no CustomResourceDefinition '{CRD_NAME}'",
        INSTALL_HINT,
    ]
    assert "install the Omnia operator" in INSTALL_HINT


def test_agents_the_served_crd_would_prune_fail_the_plan_with_the_checker_lines(capsys) -> None:
    raw = stack_config("prod")
    other = other_era_release(raw)
    manifests = run_plan(stack_file_for("prod")).manifests()
    order = [(a["namespace"], a["name"]) for a in raw["agents"]]
    manifests.sort(key=lambda m: order.index((m["metadata"]["namespace"], m["metadata"]["name"])))
    expected = check_manifests(Crd.from_file(crd_path(other)), manifests)
    assert expected  # the other era's CRD prunes this stack's session block
    plan = harness.Plan(stack="prod")
    with pytest.raises(CrdMismatch) as caught:
        run_plan(stack_file_for("prod"), cluster=serving(other), into=plan)
    assert caught.value.lines == expected
    # Nothing reaches the cluster: no agent, and no Redis, Secret or label either (the engine
    # would create those before the program fails, and `up` would stop half-applied).
    registered = {r.type for r in plan.resources}
    assert registered <= {PROVIDER, *(t for t in registered if t.startswith("omnia-agents:"))}
    assert plan.find(AGENT_RUNTIME) == []
    assert cli.main(["prod", "--crd", str(crd_path(other))]) == 1
    out, err = capsys.readouterr()
    assert (out, err.splitlines()) == ("", expected)


def test_agents_conforming_to_the_served_crd_depend_on_its_read(capsys) -> None:
    raw = stack_config("prod")
    plan = run_plan(stack_file_for("prod"), cluster=serving(own_release(raw)))
    crd = next(r.urn for r in plan.reads if r.type == CRD_TYPE)
    runtimes = plan.find(AGENT_RUNTIME)
    assert len(runtimes) == len(raw["agents"])
    assert all(crd in r.dependencies for r in runtimes)
    assert cli.main(["prod", "--crd", str(crd_path(own_release(raw)))]) == 0
    assert capsys.readouterr().err == ""  # judged: no note


def test_a_missing_agent_namespace_fails_the_plan_naming_it(tmp_path, capsys) -> None:
    raw = stack_config("prod")
    missing = sorted(redis_namespaces(raw))[-1]
    present = frozenset({a["namespace"] for a in raw["agents"]} - {missing})
    plan = harness.Plan(stack="prod")
    with pytest.raises(harness.NotInClusterError) as caught:
        run_plan(
            stack_file_for("prod"),
            cluster=harness.Cluster(namespaces=present),
            into=plan,
        )
    assert (caught.value.type, caught.value.name) == (NAMESPACE, missing)
    # Neither the label patch (which would create it) nor the Secret was sent.
    assert [r for r in plan.resources if r.name.startswith(f"{missing}-")] == []
    description = tmp_path / "cluster.yaml"
    description.write_text(yaml.safe_dump({"namespaces": sorted(present)}), encoding="utf-8")
    assert cli.main(["prod", "--cluster", str(description)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"stacks/Pulumi.prod.yaml: the cluster has no Namespace '{missing}'",
        NAMESPACE_HINT,
    ]


def test_created_agent_namespaces_carry_the_label_and_need_no_read(write_stack) -> None:
    raw = stack_config("prod")
    raw["agentNamespaces"] = "create"
    # A cluster with no agent namespace at all: they are created, so nothing is missing.
    plan = run_plan(write_stack(raw), cluster=harness.Cluster(namespaces=frozenset()))
    assert [(r.type, r.id) for r in plan.reads] == [(CRD_TYPE, CRD_NAME)]
    assert plan.find(PATCH) == []  # created with the label: nothing to patch
    crd = plan.reads[0].urn
    agent_namespaces = {a["namespace"] for a in raw["agents"]}
    created = {r.inputs["metadata"]["name"]: r for r in plan.find(NAMESPACE)}
    assert set(created) == agent_namespaces | {raw["redis"]["namespace"]}
    for name in agent_namespaces:
        namespace = created[name]
        labels = namespace.inputs["metadata"].get("labels")
        label = {"omnia-agents/redis-client": "true"}
        assert labels == (label if name in redis_namespaces(raw) else None)
        assert crd in namespace.dependencies
        assert not namespace.protect and not namespace.retain_on_delete
    for runtime in plan.find(AGENT_RUNTIME):
        assert created[runtime.inputs["metadata"]["namespace"]].urn in runtime.dependencies
    for agent in raw["agents"]:
        if expected_session(raw, agent)["type"] == "redis":
            secret = plan.one(SECRET, f"{agent['namespace']}-credentials")
            assert created[agent["namespace"]].urn in secret.dependencies


def test_agent_namespaces_setting_is_checked(write_stack, capsys) -> None:
    raw = stack_config("dev")
    raw["agentNamespaces"] = "maybe"
    assert cli.main(["--stack-file", str(write_stack(raw))]) == 2
    err = capsys.readouterr().err
    assert "omnia-agents:agentNamespaces: Input should be 'require' or 'create'" in err


def test_a_served_crd_without_schemas_fails_the_plan() -> None:
    empty = harness.Cluster(crds={CRD_NAME: {"kind": "CustomResourceDefinition", "spec": {}}})
    with pytest.raises(CrdMismatch) as caught:
        run_plan(stack_file_for("dev"), cluster=empty)
    assert caught.value.lines == [f"{CRD_NAME}: the CRD serves no version with an openAPIV3Schema"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "nodes: 3\n",
            "a cluster description has only `namespaces:`, `crd:` and `prometheusOperator:`",
        ),
        ("prometheusOperator: no-thanks\n", "prometheusOperator: expected true or false"),
        ("namespaces: agents\n", "namespaces: expected a list of names"),
        ("crd: missing.yaml\n", "crd: cannot read"),
    ],
)
def test_bad_cluster_descriptions_exit_2(tmp_path, capsys, text, message) -> None:
    description = tmp_path / "cluster.yaml"
    description.write_text(text, encoding="utf-8")
    assert cli.main(["dev", "--cluster", str(description)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{description}: {message}")


def test_other_kubernetes_settings_are_flagged_as_unused(tmp_path, caplog) -> None:
    document = yaml.safe_load(stack_file_for("dev").read_text(encoding="utf-8"))
    document["config"]["kubernetes:kubeconfig"] = "~/.kube/other"
    document["config"]["kubernetes:context"] = "dev-cluster"
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    (provider,) = run_plan(path).find(PROVIDER)
    assert provider.inputs == {"context": "dev-cluster", "enableSecretMutable": "true"}
    # The file this plan read, not `stacks/Pulumi.dev.yaml` (issue 16: it named that one).
    assert (
        f"{path}: kubernetes:kubeconfig not used: the program's own Kubernetes "
        "provider reads only kubernetes:context"
    ) in caplog.text
    assert "stacks/Pulumi.dev.yaml" not in caplog.text
