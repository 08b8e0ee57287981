"""`plan.py --policy`: the real pack, started as the CLI starts it, on real plans.

Each run is the real thing end to end: the program under the mock harness, the pack as its own
process on policy/venv speaking the analyzer protocol, its verdict printed as `pulumi preview`
prints its "Policies:" section. Planted violations come from stack files and policy configs, as
a user would write them. Where a test needs a pack of its own (a probe of what the engine view
sends, a pack that fails), it is a folder beside the test with policy/venv linked in.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import json_format

from offline import analyzer, cli, harness
from offline.inputs import ROOT
from offline.program import run_plan
from tests.support.render import need_charts
from tests.support.shared import need_helm, need_policy_pack

PROD = ROOT / "stacks" / "Pulumi.prod.yaml"
PACK_LINE = "    {mark} omnia-agents@v0.1.0 (local: policy)"
PASSED = f"Policies:\n{PACK_LINE.format(mark='✅')}\n\n"
SESSIONS = "Production stacks keep agent sessions in redis, not memory"
MEMORY = "spec.context.type is 'memory': production agents must keep sessions in redis"
RUNTIME = "kubernetes:omnia.altairalabs.ai/v1alpha1:AgentRuntime"


@pytest.fixture(autouse=True, scope="module")
def pack() -> analyzer.PackProject:
    return need_policy_pack()


def plan_py(*args: str) -> subprocess.CompletedProcess[str]:
    """`plan.py ARGS` in this process (the pack is a real process either way)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return subprocess.CompletedProcess(["plan.py", *args], code, out.getvalue(), err.getvalue())


def _prod(change: Callable[[dict[str, Any]], None], folder: Path) -> Path:
    """prod's stack file with a change, saved as `<folder>/Pulumi.prod.yaml` (stack prod)."""
    document = yaml.safe_load(PROD.read_text())
    change(document["config"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _agent(name: str, namespace: str, session: dict[str, Any]) -> dict[str, Any]:
    spec = {"promptPackRef": {"name": name}, "facades": [{"type": "websocket"}]}
    return {"name": name, "namespace": namespace, "session": session, "spec": spec}


def _config(tmp_path: Path, config: Any) -> Path:
    path = tmp_path / "policy-config.json"
    path.write_text(config if isinstance(config, str) else json.dumps(config), encoding="utf-8")
    return path


# ---- the real stacks, the real config ---------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_dev_and_prod_pass(stack) -> None:
    done = plan_py(stack, "--policy")
    assert (done.returncode, done.stdout) == (0, PASSED), done.stderr
    assert "mandatory" not in done.stderr and "Traceback" not in done.stderr


def test_prod_passes_only_with_the_config_the_cli_is_given(tmp_path) -> None:
    """The stateless public/faq is an exception policy/config.json lists; an empty config
    (the CLI's "gracefully allow empty content") leaves it a mandatory violation."""
    done = plan_py("prod", "--policy", "--policy-pack-config", str(_config(tmp_path, "")))
    assert done.returncode == 1
    assert done.stdout == (
        "Policies:\n"
        f"{PACK_LINE.format(mark='❌')}\n"
        f"        - [mandatory]  omnia-production-sessions  ({RUNTIME}: public.faq)\n"
        f"          {SESSIONS}\n"
        f"          {MEMORY}\n"
        "\n"
    )
    assert done.stderr.splitlines()[-1] == cli.MANDATORY_LINE


# ---- planted violations -------------------------------------------------------------------


def test_a_memory_agent_prod_does_not_list_is_mandatory(tmp_path) -> None:
    stack = _prod(
        lambda c: c["omnia-agents:agents"].append(
            _agent("scratch", "agents", {"type": "memory", "ttl": "1h"})
        ),
        tmp_path,
    )
    done = plan_py("--stack-file", str(stack), "--policy")
    assert done.returncode == 1
    assert done.stdout == (
        "Policies:\n"
        f"{PACK_LINE.format(mark='❌')}\n"
        f"        - [mandatory]  omnia-production-sessions  ({RUNTIME}: agents.scratch)\n"
        f"          {SESSIONS}\n"
        f"          {MEMORY}\n"
        "\n"
    )
    assert done.stderr.splitlines()[-1] == cli.MANDATORY_LINE
    assert "Traceback" not in done.stderr


def test_a_config_for_another_release_names_the_policy_on_every_agent(tmp_path) -> None:
    """Policy properties reach the pack: omniaVersion 0.9.0-beta.16 against prod's beta.17
    agents (spec.context) is omnia-release-block on each of the four."""
    config = json.loads((ROOT / "policy" / "config.json").read_text())
    config["omnia-release-block"] = {"omniaVersion": "0.9.0-beta.16"}
    done = plan_py("prod", "--policy", "--policy-pack-config", str(_config(tmp_path, config)))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    heads = [line for line in lines if line.startswith("        - ")]
    assert heads == [
        f"        - [mandatory]  omnia-release-block  ({RUNTIME}: {name})"
        for name in ("agents.support", "agents.triage", "finance.billing", "public.faq")
    ]
    assert lines.count(
        "          spec.context: omnia 0.9.0-beta.16 reads spec.session; the API server prunes "
        "spec.context and the agent runs on memory sessions"
    ) == len(heads)


def _long_ttl(tmp_path: Path) -> Path:
    """triage keeps sessions 48h in redis; beta.17 keeps their history 24h."""

    def change(config: dict[str, Any]) -> None:
        config["omnia-agents:agents"][1]["session"] = {"ttl": "48h"}

    return _prod(change, tmp_path / "long-ttl")


ADVISORY = [
    f"        - [advisory]  omnia-release-ttl  ({RUNTIME}: agents.triage)",
    "          TTLs longer than the history the targeted Omnia release keeps",
    "          omnia 0.9.0-beta.17 keeps session history 24h (redis), shorter than ttl 48h: "
    "clients can resume sessions whose history is gone",
]


def test_an_advisory_violation_prints_and_passes(tmp_path) -> None:
    done = plan_py("--stack-file", str(_long_ttl(tmp_path)), "--policy")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["Policies:", PACK_LINE.format(mark="⚠️"), *ADVISORY, ""]
    assert cli.MANDATORY_LINE not in done.stderr


def test_the_config_sets_the_enforcement_level(tmp_path) -> None:
    """As `--policy-pack-config` does: the advisory made mandatory fails; `disabled` silences
    the exception-less production rule."""
    stack = str(_long_ttl(tmp_path))
    config = json.loads((ROOT / "policy" / "config.json").read_text())
    config["omnia-release-ttl"]["enforcementLevel"] = "mandatory"
    path = str(_config(tmp_path, config))
    done = plan_py("--stack-file", stack, "--policy", "--policy-pack-config", path)
    assert done.returncode == 1
    assert done.stdout.splitlines()[2] == ADVISORY[0].replace("[advisory]", "[mandatory]")
    off = {"omnia-production-sessions": "disabled"}  # no memoryAgents: faq would fail
    done = plan_py("prod", "--policy", "--policy-pack-config", str(_config(tmp_path, off)))
    assert (done.returncode, done.stdout) == (0, PASSED), done.stderr


# ---- the chart's rendered objects (--render): what the production Redis rules judge ---------

NODE = "kubernetes:apps/v1:StatefulSet: redis:redis/redis-node"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
UNWATCHED = (
    "nobody sees this Redis reach maxmemory, evict sessions, refuse writes or lose its "
    "replicas; set omnia-agents:redis.metrics {enabled: true, serviceMonitor: true, "
    "prometheusRule: true}"
)
METRICS_ADVISORY = [
    f"        - [advisory]  omnia-production-redis-metrics  ({NODE})",
    "          Production Redis is watched: its exporter on, and the program's alert rules",
    "          StatefulSet redis/redis-node: no `metrics` exporter container (the chart's "
    f"metrics.enabled is not true): {UNWATCHED}",
]
AUTH_TEXT = (
    "          Production Redis (the objects the Bitnami chart renders): a password from "
    "auth.existingSecret, never in clear in a pod spec or config file"
)
NETWORK_TEXT = (
    "          Production Redis (the objects the Bitnami chart renders): a NetworkPolicy "
    "isolates its pods, no ingress rule opens its ports to every source"
)


def _rendered(*args: str) -> subprocess.CompletedProcess[str]:
    need_helm()
    return plan_py(*args, "--policy", "--render", "--charts", str(need_charts()))


def test_dev_and_prod_pass_with_the_render() -> None:
    """The chart's 13 objects judged: prod passes every mandatory rule; only the metrics
    advisory remains (prod runs where no Prometheus operator is)."""
    done = _rendered("prod")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Policies:",
        PACK_LINE.format(mark="⚠️"),
        *METRICS_ADVISORY,
        "",
    ]
    assert "without --render" not in done.stderr
    done = _rendered("dev")
    assert (done.returncode, done.stdout) == (0, PASSED), done.stderr


def test_without_the_render_the_note_says_what_is_not_judged() -> None:
    done = plan_py("prod", "--policy")
    assert cli.CHILDREN_NOTE in done.stderr.splitlines()


def test_a_clear_password_in_the_pods_env_from_a_chart_of_any_name(tmp_path) -> None:
    """What the program lets through (replica.extraEnvVars), with the chart from a vendored
    .tgz whose name says nothing of Redis: the StatefulSet the chart renders is refused, by
    its labels."""
    vendored = tmp_path / "vendor" / "sessions-store-23.1.1.tgz"
    vendored.parent.mkdir()
    shutil.copyfile(need_charts() / "23.1.1" / "redis-23.1.1.tgz", vendored)

    def change(config: dict[str, Any]) -> None:
        redis = config["omnia-agents:redis"]
        redis["chart"] = str(vendored)
        redis["values"] = {
            "replica": {"extraEnvVars": [{"name": "REDIS_PASSWORD", "value": "hunter2"}]}
        }

    done = _rendered("--stack-file", str(_prod(change, tmp_path / "stack")))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[:5] == [
        "Policies:",
        PACK_LINE.format(mark="❌"),
        f"        - [mandatory]  omnia-production-redis-auth  ({NODE})",
        AUTH_TEXT,
        "          StatefulSet redis/redis-node: container redis env REDIS_PASSWORD holds a "
        "password in clear (a literal `value`): whoever may read the workload reads it, and the "
        "state keeps it unencrypted; use valueFrom.secretKeyRef",
    ]
    assert "hunter2" not in done.stdout + done.stderr
    assert done.stderr.splitlines()[-1] == cli.MANDATORY_LINE


def test_a_network_policy_opening_redis_is_placed_on_itself(tmp_path) -> None:
    """extraDeploy (which the program lets through) adds a policy admitting every source to
    every pod of the Redis namespace: the stack policy names that NetworkPolicy."""
    opened = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "open"},
        "spec": {"podSelector": {}, "ingress": [{}]},
    }

    def change(config: dict[str, Any]) -> None:
        config["omnia-agents:redis"]["values"] = {"extraDeploy": [opened]}

    done = _rendered("--stack-file", str(_prod(change, tmp_path)))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[:5] == [
        "Policies:",
        PACK_LINE.format(mark="❌"),
        "        - [mandatory]  omnia-production-redis-network  "
        f"({NETWORK_POLICY}: redis:redis/open)",
        NETWORK_TEXT,
        "          NetworkPolicy redis/open spec.ingress[0] opens StatefulSet redis/redis-node "
        "ports 6379, 26379 to every source (no `from`): Redis is open to the cluster, its "
        "password the only guard",
    ]


def test_planted_renders_through_the_pack(tmp_path) -> None:
    """What the program refuses at config time (auth, networkPolicy and commonConfiguration are
    its own), planted in prod's Chart values and rendered: the pack, as its own process, names
    each object; the missing NetworkPolicy is placed on the StatefulSet it leaves open."""
    from offline.helm import add_children

    need_helm()
    plan = run_plan(PROD)
    chart = plan.one("kubernetes:helm.sh/v4:Chart", "redis")
    values = json.loads(json.dumps(chart.inputs["values"]))
    values["auth"] = {"enabled": True}  # no existingSecret: the chart makes its own
    values["networkPolicy"] = {"enabled": False}
    values["commonConfiguration"] += "requirepass hunter2\n"
    chart.inputs = {**chart.inputs, "values": values}
    add_children(plan, need_charts())
    pack = analyzer.read_pack()
    config = analyzer.load_config(analyzer.DEFAULT_CONFIG)
    report = analyzer.evaluate(plan, "omnia-agents", pack, config, analyzer.DEFAULT_CONFIG)
    found = sorted(
        (v.policy, analyzer.urn_name(v.urn), v.message.splitlines()[-1].split(":")[0])
        for v in report.violations
        if v.level == "mandatory"
    )
    assert found == [
        (
            "omnia-production-redis-auth",
            "redis:redis/redis",
            "Secret redis/redis is the chart's own password Secret (secret.yaml, key "
            "redis-password)",
        ),
        (
            "omnia-production-redis-auth",
            "redis:redis/redis-configuration",
            "ConfigMap redis/redis-configuration redis.conf",
        ),
        (
            "omnia-production-redis-network",
            "redis:redis/redis-node",
            "StatefulSet redis/redis-node",
        ),
    ]
    assert "hunter2" not in analyzer.render_policies(report)


# ---- bad input and a pack that cannot run: exit 2, one line each, nothing on stdout ---------


@pytest.mark.parametrize(
    ("config", "line"),
    [
        (
            "{not json",
            "plan: {where}: not JSON (Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1))",
        ),
        ("[]", "plan: {where}: a JSON object of policy names is expected"),
        (
            {"omnia-release-ttl": "strict"},
            "plan: {where}: omnia-release-ttl: 'strict' is not an enforcement level (advisory, "
            "mandatory, remediate, disabled)",
        ),
        (
            {"omnia-production-sessions": {"memoryAgents": "public/faq"}},
            "plan: {where}: validating policy config: omnia-agents 0.1.0  "
            "omnia-production-sessions: memoryAgents: 'public/faq' is not of type 'array'",
        ),
        (
            {"environments": ["prod/policy"]},
            "plan: {where}: environments: ESC environments cannot be resolved offline",
        ),
    ],
    ids=["not-json", "not-an-object", "level", "schema", "esc"],
)
def test_a_bad_policy_config_is_refused(tmp_path, config, line) -> None:
    path = _config(tmp_path, config)
    done = plan_py("prod", "--policy", "--policy-pack-config", str(path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[-1] == line.format(where=path)
    assert "Traceback" not in done.stderr


def test_a_config_naming_no_policy_is_warned_about(tmp_path) -> None:
    config = json.loads((ROOT / "policy" / "config.json").read_text())
    config["omnia-sesions"] = "mandatory"  # a typo: the CLI applies it to nothing
    path = _config(tmp_path, config)
    done = plan_py("prod", "--policy", "--policy-pack-config", str(path))
    assert (done.returncode, done.stdout) == (0, PASSED)
    assert (
        f"warning: {path}: omnia-sesions: the pack has no such policy (the CLI ignores it)"
        in done.stderr.splitlines()
    )


def _pack_copy(tmp_path: Path, main: str | None = None, *, venv: bool = True) -> Path:
    """A policy pack folder: this one's files, or `main` as its __main__.py; policy/venv
    linked in unless `venv` is False (a checkout before `make install`)."""
    folder = tmp_path / "pack"
    shutil.copytree(ROOT / "policy", folder, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    if main is not None:
        (folder / "__main__.py").write_text(textwrap.dedent(main), encoding="utf-8")
    if venv:
        (folder / "venv").symlink_to(ROOT / "policy" / "venv")
    return folder


def test_without_the_pack_s_venv_it_says_make_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(analyzer, "PACK", _pack_copy(tmp_path, venv=False))
    done = plan_py("prod", "--policy")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"plan: the policy pack's venv {tmp_path}/pack/venv is missing: run `make install` "
        "(it creates policy/venv with the pack's dependencies)\n"
    )


@pytest.fixture
def started(monkeypatch) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Every pack process `plan.py` starts; each must be gone when it returns."""
    procs: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real(*args, **kwargs)
        procs.append(proc)
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen)  # the pack is the only process
    yield procs
    assert procs and all(p.poll() is not None for p in procs)


def test_a_pack_that_fails_to_start_is_one_line(tmp_path, monkeypatch, started) -> None:
    monkeypatch.setattr(analyzer, "PACK", _pack_copy(tmp_path, "raise RuntimeError('boom')\n"))
    done = plan_py("prod", "--policy")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[-1] == (
        f"plan: the policy pack {tmp_path}/pack failed to start: RuntimeError: boom"
    )
    assert "Traceback" not in done.stderr


FAILING = """\
    from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

    def judge(args, report):
        if args.resource_type.endswith(":AgentRuntime"):
            raise KeyError("spec")

    PolicyPack(
        name="failing",
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=[ResourceValidationPolicy(name="judge", description="d", validate=judge)],
    )
"""


def test_a_pack_failing_on_a_resource_is_one_line_and_killed(
    tmp_path, monkeypatch, started
) -> None:
    monkeypatch.setattr(analyzer, "PACK", _pack_copy(tmp_path, FAILING))
    done = plan_py("dev", "--policy")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[-1] == (
        "plan: the policy pack failed in Analyze(urn:pulumi:dev::omnia-agents::omnia-agents:"
        f"index:AgentNamespace${RUNTIME}::agents.support): Exception calling application: 'spec'"
    )
    assert len(started) == 1


# ---- what the engine view sends, seen from inside a pack ----------------------------------

PROBE = """\
    from pulumi_policy import (
        EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy,
    )

    def seen(args, report):
        o, p = args.opts, args.props
        extra = ""
        if "url" in (p.get("stringData") or {}):
            extra = " url-scheme=" + p["stringData"]["url"].split(":", 1)[0]
        if args.resource_type == "random:index/randomPassword:RandomPassword":
            extra = f" length={p['length']!r}"
        report(
            f"{args.resource_type} {args.name} keys={','.join(sorted(p))} protect={o.protect} "
            f"provider={args.provider.name if args.provider else None} "
            f"secret-outputs={','.join(o.additional_secret_outputs)}{extra}"
        )

    def stack(args, report):
        for r in args.resources:
            if r.name in ("omnia-agents-prod", "redis-password"):
                report(f"outputs of {r.name}: {','.join(sorted(r.props))}")
        report(f"{len(args.resources)} resources")

    PolicyPack(
        name="probe",
        enforcement_level=EnforcementLevel.ADVISORY,
        policies=[
            ResourceValidationPolicy(name="seen", description="seen", validate=seen),
            StackValidationPolicy(name="stack", description="stack", validate=stack),
        ],
    )
"""


@pytest.fixture(scope="module")
def probed(tmp_path_factory) -> list[str]:
    """The probe's messages on prod with --render: one per resource Analyze got, and what
    AnalyzeStack got."""
    need_helm()
    folder = _pack_copy(tmp_path_factory.mktemp("probe"), PROBE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analyzer, "PACK", folder)
        done = plan_py("prod", "--policy", "--render", "--charts", str(need_charts()))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "    ⚠️ probe@v0.1.0 (local: " + str(folder) + ")"
    return [line.strip() for line in done.stdout.splitlines() if line.startswith("          ")]


def test_every_registration_is_analyzed_with_its_provider(probed) -> None:
    lines = [line for line in probed if line != "seen"]
    # The Stack, 19 registrations, random's default provider, the chart's 13 objects.
    assert "34 resources" in lines
    kinds = ("pulumi:", "kubernetes:", "random:", "omnia-")
    assert sum(line.startswith(kinds) for line in lines) == 34
    assert (
        "pulumi:pulumi:Stack omnia-agents-prod keys= protect=False provider=None secret-outputs="
        in lines
    )
    assert (
        "pulumi:providers:random default_4_21_4 keys=version protect=False provider=None "
        "secret-outputs=" in lines
    )
    assert (
        "random:index/randomPassword:RandomPassword redis-password keys=keepers,length,special "
        "protect=False provider=default_4_21_4 secret-outputs=bcryptHash,result length=40.0"
        in lines
    )  # numbers arrive as doubles, as through a protobuf Struct
    assert (
        "kubernetes:core/v1:Namespace redis-namespace keys=apiVersion,kind,metadata protect=True "
        "provider=cluster-provider secret-outputs=" in lines
    )


def test_secrets_arrive_unwrapped_and_the_chart_without_its_values(probed) -> None:
    assert (
        "kubernetes:core/v1:Secret agents-credentials keys=apiVersion,kind,metadata,stringData "
        "protect=False provider=cluster-provider secret-outputs=data,stringData "
        "url-scheme=redis" in probed
    )
    # pulumi-kubernetes' Construct registers the Chart v4 itself, with no properties: the
    # values the program passed never reach a policy pack.
    assert (
        "kubernetes:helm.sh/v4:Chart redis keys= protect=False provider=None secret-outputs="
        in probed
    )
    # ... its children do: each object Helm renders, on the Chart's provider.
    assert (
        "kubernetes:networking.k8s.io/v1:NetworkPolicy redis:redis/redis "
        "keys=apiVersion,kind,metadata,spec protect=False provider=cluster-provider "
        "secret-outputs=" in probed
    )


def test_the_stack_policy_gets_outputs(probed) -> None:
    assert "outputs of omnia-agents-prod: agents,redis,redisUrl" in probed
    assert (
        "outputs of redis-password: bcryptHash,keepers,length,result,special" in probed
    )  # the computed password the inputs lack


def test_a_stack_violation_is_placed_on_the_root_stack(monkeypatch) -> None:
    """omnia-credentials-secret is a stack policy: its violation names no URN and the engine
    files it under the root stack. No stack file makes the Secret wrong, so it is planted."""
    plan = run_plan(PROD)
    (secret,) = [
        r for r in plan.find("kubernetes:core/v1:Secret") if r.name == "finance-credentials"
    ]
    secret.inputs = {**secret.inputs, "stringData": {"url": "redis://x"}}
    secret.outputs = None  # what the preview returns: these inputs
    secret.secret_outputs = []
    pack = analyzer.read_pack()
    config = analyzer.load_config(analyzer.DEFAULT_CONFIG)
    report = analyzer.evaluate(plan, "omnia-agents", pack, config, analyzer.DEFAULT_CONFIG)
    assert analyzer.render_policies(report).splitlines()[1:] == [
        PACK_LINE.format(mark="❌"),
        "        - [mandatory]  omnia-credentials-secret  (pulumi:pulumi:Stack: omnia-agents-prod)",
        "          A redis AgentRuntime's credentials Secret, when in the stack, has key `url` "
        "and holds it as a Pulumi secret",
        "          finance/billing: Secret finance/redis-credentials holds `url` outside "
        "Pulumi secrets: the password would be stored in clear in the state",
        "",
    ]


# ---- the engine's rules, on upstream's own vectors --------------------------------------------


@pytest.mark.parametrize(
    ("token", "shown"),
    [  # pulumi/pulumi sdk/go/common/tokens/tokens_test.go `TestTypeDisplayName`
        ("pkg:mod:typ", "pkg:mod:typ"),
        ("pkg:Mod/foo:typ", "pkg:Mod/foo:typ"),
        ("pkg:mod/foo/bar:Bar", "pkg:mod/foo:Bar"),
        ("pkg:mod/foo/bar/baz:Baz", "pkg:mod/foo/bar:Baz"),
        ("random:index/randomPassword:RandomPassword", "random:index:RandomPassword"),
        (RUNTIME, RUNTIME),
    ],
)
def test_type_display_names(token, shown) -> None:
    assert analyzer.display_type(token) == shown


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ("4.21.4", "default_4_21_4"),
        ("1.2.3-alpha.1+b7", "default_1_2_3_alpha_1_b7"),
        ("", "default"),
    ],
)
def test_default_provider_names(version, name) -> None:
    assert analyzer._default_provider_name(version) == name


def test_the_root_stack_and_remote_component_requests() -> None:
    plan = run_plan(PROD)
    chart = plan.one("kubernetes:helm.sh/v4:Chart", "redis")
    assert chart.remote and "values" in chart.inputs  # what the program registered
    resources = {r.urn: r for r in analyzer.engine_resources(plan, "omnia-agents")}
    sent = resources[chart.urn].analyze_request()
    assert (sent.name, dict(sent.properties), sent.options.parent) == (
        "redis",
        {},
        "urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore::redis",
    )
    secret = plan.find("kubernetes:core/v1:Secret")[0]
    request = resources[secret.urn].analyze_request()
    # Kept as a secret on the wire (KeepSecrets): the signature object around the value.
    url = harness.render(secret.inputs, show_secrets=True)["stringData"]["url"]
    assert json_format.MessageToDict(request.properties)["stringData"] == {
        analyzer.SIG: "1b47061264138c4ac30d75fd1eb44270",
        "value": {"url": url},
    }
