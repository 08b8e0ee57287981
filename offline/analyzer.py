"""`plan.py --policy`: the policy pack run on a plan as `pulumi preview --policy-pack` runs it.

The engine's half of the analyzer protocol, offline (pulumi/pulumi @ 1b5949891b, v3.259.0-14,
read for this; see docs/policy-pack.md):
- the pack is started as pulumi-language-python's RunPlugin starts an analyzer: `<pack>/venv/
  bin/python -u -m pulumi.policy <engine address> <abs pack dir>`, in the pack's folder
  (sdk/python/cmd/pulumi-language-python/main.go `RunPlugin`; PulumiPolicy.yaml `virtualenv`),
  and its port read from its first line of stdout;
- Handshake, ConfigureStack, GetAnalyzerInfo, then Configure with the policy config the CLI
  builds from `--policy-pack-config` (pkg/engine/update.go `loadPolicyPlugins`,
  pkg/resource/analyzer/config.go `parsePolicyPackConfig`, `ReconcilePolicyPackConfig`);
- Analyze for every resource the program registers, with its inputs, and AnalyzeStack once with
  every resource's outputs (pkg/resource/deploy/step_generator.go `analyzeAll`,
  `AnalyzeResources`), properties marshalled as pkg/resource/plugin/analyzer_plugin.go does
  (`MarshalOptions{KeepUnknowns, KeepSecrets, SkipInternalKeys}`: secrets and unknowns kept as
  their wire signatures, resource references as their ID or URN, `__` keys left out);
- the violations printed as the CLI's progress display prints its "Policies:" section
  (pkg/backend/display/progress.go `printPolicies`, diff.go `renderDiffPolicyViolationEvent`).

What the engine sees that a mock run cannot give, and what is sent instead, is said where it is
built: providers' Check is not run (Analyze gets the registered inputs), the preview's outputs
are the inputs echoed (what pulumi-kubernetes' Create returns when it cannot dry-run).
"""

from __future__ import annotations

import json
import math
import os
import selectors
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import semver
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from offline.harness import ROOT_STACK, Plan, Registration, engine_urn, provider_urn
from offline.inputs import ROOT, display_path
from settings.fields import mask_credentials
from upstream.go_duration import DurationError, parse_go_duration

PACK = ROOT / "policy"
DEFAULT_CONFIG = PACK / "config.json"
START_TIMEOUT_S = 60.0  # the pack imports the project, pulumi and grpc: ~1 s on a quiet machine
CALL_TIMEOUT_S = 120.0
# pulumi.policy's __main__ takes the engine's address as its first argument and never dials it
# (the runtime is only configured with PULUMI_PROJECT/STACK/DRY_RUN set, which the CLI does not
# set for a pack it starts through RunPlugin); no engine is served here.
ENGINE_ADDRESS = "127.0.0.1:0"
PROVIDER_PREFIX = "pulumi:providers:"
# sdk/go/common/resource/properties.go: the wire signatures.
SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
# apitype.EnforcementLevel; the proto's numbers are analyzer_pb2's.
LEVELS = ("advisory", "mandatory", "remediate", "disabled")
_LEVEL_OF = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
_PROTO_LEVEL = {name: number for number, name in _LEVEL_OF.items()}
_SEVERITY_OF = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
# pkg/backend/display/progress.go `enforcementRank`, `severityRank`: the order violations print.
_LEVEL_RANK = {"remediate": 0, "mandatory": 1, "advisory": 2, "disabled": 3}
_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "": 4}
INSTALL_HINT = "run `make install` (it creates policy/venv with the pack's dependencies)"


class PolicyError(Exception):
    """The pack cannot be evaluated (no venv, a bad config file, the pack failing): exit 2,
    one line per problem."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        super().__init__("\n".join(lines))


# ---- the pack and its config, as the CLI loads them -----------------------------------------


@dataclass(frozen=True)
class PackProject:
    """PulumiPolicy.yaml: the version the CLI prints (it wins over the pack's own "0.0.1":
    analyzer_plugin.go `GetAnalyzerInfo`) and the venv the pack runs on."""

    path: Path
    version: str
    python: Path


def read_pack(path: Path | None = None) -> PackProject:
    path = path or PACK
    try:
        project = yaml.safe_load((path / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise PolicyError(f"plan: {display_path(path)}: not a policy pack ({err})") from None
    if not isinstance(project, dict) or not isinstance(project.get("runtime"), dict | str):
        raise PolicyError(f"plan: {display_path(path)}/PulumiPolicy.yaml: no runtime")
    runtime = project["runtime"]
    options = (runtime.get("options") if isinstance(runtime, dict) else None) or {}
    venv = path / str(options.get("virtualenv", "venv"))
    python = venv / "bin" / "python"
    if not python.is_file():
        raise PolicyError(
            f"plan: the policy pack's venv {display_path(venv)} is missing: {INSTALL_HINT}"
        )
    return PackProject(path, str(project.get("version") or ""), python)


@dataclass(frozen=True)
class PolicyConfig:
    """One policy's entry: its enforcement level (None: the policy's own) and properties."""

    level: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Go's encoding/json refuses NaN and Infinity


def load_config(path: Path) -> dict[str, PolicyConfig]:
    """`--policy-pack-config FILE` as config.go `parsePolicyPackConfig` reads it: a JSON object
    of policy name (or `all`) to an enforcement level or an object of properties, with an
    optional `enforcementLevel`; empty entries dropped."""
    where = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError(f"plan: {where}: cannot read the policy config ({err})") from None
    if not text.strip():
        return {}  # config.go: "Gracefully allow empty content."
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except ValueError as err:
        raise PolicyError(f"plan: {where}: not JSON ({err})") from None
    if not isinstance(document, dict):
        raise PolicyError(f"plan: {where}: a JSON object of policy names is expected")
    if "environments" in document:
        # update.go: a DIY backend has no ESC, and offline there is none either.
        raise PolicyError(
            f"plan: {where}: environments: ESC environments cannot be resolved offline"
        )
    config: dict[str, PolicyConfig] = {}
    problems: list[str] = []
    for name, value in document.items():
        level: str | None = None
        properties: dict[str, Any] = {}
        if isinstance(value, str):
            level = value
        elif isinstance(value, dict):
            properties = dict(value)
            given = properties.pop("enforcementLevel", None)
            if given is not None and not isinstance(given, str):
                problems.append(f"plan: {where}: {name}.enforcementLevel: must be a string")
                continue
            level = given
        else:
            problems.append(f"plan: {where}: {name}: must be an enforcement level or an object")
            continue
        if level is not None and level not in LEVELS:
            problems.append(
                f"plan: {where}: {name}: {level!r} is not an enforcement level "
                f"({', '.join(LEVELS)})"
            )
            continue
        if level is not None or properties:
            config[name] = PolicyConfig(level, properties)
    if problems:
        raise PolicyError(*problems)
    return config


def reconcile(
    info: analyzer_pb2.AnalyzerInfo, given: Mapping[str, PolicyConfig], where: str
) -> dict[str, PolicyConfig]:
    """config.go `ReconcilePolicyPackConfig`: every policy's level and schema defaults, then the
    pack's initial config, then the file's (`all` first); each policy's properties validated
    against its schema (the CLI uses gojsonschema; jsonschema's messages differ)."""
    import jsonschema

    result: dict[str, PolicyConfig] = {}
    schemas: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema)
        defaults = {
            k: v["default"] for k, v in (schema.get("properties") or {}).items() if "default" in v
        }
        result[policy.name] = PolicyConfig(_LEVEL_OF[policy.enforcementLevel], defaults)
        schemas[policy.name] = {"type": "object", **schema}
    initial = {
        name: PolicyConfig(
            _LEVEL_OF[c.enforcementLevel], json_format.MessageToDict(c.properties) or {}
        )
        for name, c in info.initialConfig.items()
    }
    for layer in (initial, given):
        if "all" in layer and layer["all"].level:
            result = {k: PolicyConfig(layer["all"].level, v.properties) for k, v in result.items()}
        for name, config in layer.items():
            old = result.get(name, PolicyConfig())
            result[name] = PolicyConfig(
                config.level or old.level, {**old.properties, **config.properties}
            )
    problems = []
    for name, schema in schemas.items():
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(result[name].properties), key=str):
            at = ".".join(str(p) for p in error.absolute_path) or "(root)"
            problems.append(
                f"plan: {where}: validating policy config: {info.name} {info.version}  "
                f"{name}: {at}: {error.message}"
            )
    if problems:
        raise PolicyError(*sorted(problems))
    return result


# ---- the pack process ---------------------------------------------------------------------


@contextmanager
def served(pack: PackProject) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack serving the analyzer protocol, killed after (whatever happens)."""
    where = display_path(pack.path)
    # toolchain/pip.go ActivateVirtualEnv: the venv's bin first on PATH, VIRTUAL_ENV set,
    # PYTHONHOME dropped; nothing else changes.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHOME"}
    env["VIRTUAL_ENV"] = str(pack.python.parent.parent)
    env["PATH"] = f"{pack.python.parent}{os.pathsep}{env.get('PATH', '')}"
    args = [str(pack.python), "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(pack.path.resolve())]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            args,
            cwd=pack.path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        try:
            port = _port(proc, START_TIMEOUT_S)
            if port is None:
                said = _said(proc, errors)
                raise PolicyError(f"plan: the policy pack {where} failed to start: {said}")
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            try:
                grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_S)
            except grpc.FutureTimeoutError:
                raise PolicyError(f"plan: the policy pack {where} does not answer") from None
            try:
                yield analyzer_pb2_grpc.AnalyzerStub(channel)
            except PolicyError as err:
                if proc.poll() is None:
                    raise
                # It died on a request: what it said last is the cause.
                said = _said(proc, errors, wait=False)
                raise PolicyError(f"{err.lines[0]} (the pack exited: {said})") from None
            finally:
                channel.close()
        finally:
            proc.kill()
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()


def _port(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The first line of the pack's stdout (pulumi_policy `PolicyPack`: `{port}\\n`), or None
    when it exits or says something else first."""
    assert proc.stdout is not None
    line = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(proc.stdout.fileno(), 64)
            if not chunk:
                return None
            line += chunk
    text = line.decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


def _said(proc: subprocess.Popen[bytes], errors: Any, *, wait: bool = True) -> str:
    """The last line the pack wrote on stderr (a traceback's is the exception), or its exit."""
    if wait:
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    errors.seek(0)
    lines = [line.strip() for line in errors.read().decode(errors="replace").splitlines()]
    lines = [line for line in lines if line]
    if lines:
        return mask_credentials(lines[-1])
    code = proc.poll()
    if code is None:
        return f"no port on its stdout within {START_TIMEOUT_S:.0f} s"
    return f"exited with code {code}"


def _rpc_text(err: grpc.RpcError) -> str:
    details = err.details() if isinstance(err, grpc.Call) else str(err)
    # pulumi_policy's grpc server wraps a validate() exception as "Exception calling
    # application: <message>"; one line of it is enough.
    return mask_credentials((details or "").strip().splitlines()[-1] if details else str(err))


# ---- what the engine sends --------------------------------------------------------------------


def urn_name(urn: str) -> str:
    return urn.split("::", 3)[-1]


def urn_type(urn: str) -> str:
    return urn.split("::", 3)[2].rsplit("$", 1)[-1]


def display_type(token: str) -> str:
    """sdk/go/common/tokens `Type.DisplayName`: `pkg:mod/file:Name` shown as `pkg:mod:Name`
    when `file` is the camel-cased name; any other token as it is."""
    parts = token.split(":")
    if len(parts) != 3 or not parts[2] or "/" not in parts[1]:
        return token
    module, file = parts[1].rsplit("/", 1)
    if file != parts[2][:1].lower() + parts[2][1:]:
        return token
    return f"{parts[0]}:{module}:{parts[2]}"


def wire(value: Any) -> Any:
    """A property value as MarshalProperties(KeepUnknowns, KeepSecrets) puts it on the wire,
    in the JSON shape a protobuf Struct holds (every number a double)."""
    if isinstance(value, Unknown) or value == rpc.UNKNOWN:
        return rpc.UNKNOWN
    if isinstance(value, dict):
        sig = value.get(SIG)
        if sig == _SECRET_SIG:
            return {SIG: _SECRET_SIG, "value": wire(value.get("value"))}
        if sig == _RESOURCE_SIG:  # KeepResources is not set: its ID, else its URN
            return value.get("id") or str(value.get("urn", ""))
        if sig == _OUTPUT_SIG:
            inner = wire(value["value"]) if "value" in value else rpc.UNKNOWN
            return {SIG: _SECRET_SIG, "value": inner} if value.get("secret") else inner
        return {str(k): wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise PolicyError(f"plan: {value!r} cannot be marshalled for the policy pack")
        return float(value)
    raise PolicyError(f"plan: a {type(value).__name__} value cannot be marshalled for the pack")


def properties(values: Mapping[str, Any]) -> dict[str, Any]:
    """MarshalProperties' top level: `__` keys are the engine's own (SkipInternalKeys)."""
    return {k: wire(v) for k, v in values.items() if not k.startswith("__")}


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == _SECRET_SIG


@dataclass
class EngineResource:
    """One resource as the engine holds it in a preview: its goal and its new state."""

    urn: str
    type: str
    parent: str
    inputs: dict[str, Any]  # wire form
    outputs: dict[str, Any]  # wire form
    options: analyzer_pb2.AnalyzerResourceOptions
    provider: analyzer_pb2.AnalyzerProviderResource | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return urn_name(self.urn)  # step_generator.go: `Name: new.URN.Name()`

    def _fields(self) -> dict[str, Any]:
        """What both messages carry (a None provider leaves the field unset)."""
        return {
            "type": self.type,
            "urn": self.urn,
            "name": self.name,
            "options": self.options,
            "provider": self.provider,
        }

    def analyze_request(self) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(**self._fields(), properties=_struct(self.inputs))

    def stack_resource(self) -> analyzer_pb2.AnalyzerResource:
        resource = analyzer_pb2.AnalyzerResource(
            **self._fields(),
            properties=_struct(self.outputs),
            parent=self.parent,
            dependencies=self.dependencies,
        )
        for key, urns in self.property_dependencies.items():
            if urns:  # analyzer_plugin.go: "Skip properties that have no dependencies."
                resource.propertyDependencies[key].urns.extend(urns)
        return resource


def _timeouts(r: Registration) -> analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts:
    """source_eval.go `generateTimeoutInSeconds`: Go durations, as seconds."""
    seconds: dict[str, float] = {}
    for key, text in r.custom_timeouts.items():
        try:
            seconds[key] = parse_go_duration(text) / 1e9
        except DurationError:
            raise PolicyError(
                f"plan: {r.urn}: customTimeouts.{key}: unable to parse customTimeout Value {text}"
            ) from None
    return analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(**seconds)


def _options(r: Registration) -> analyzer_pb2.AnalyzerResourceOptions:
    """analyzer_plugin.go `marshalResourceOptions`, from the registration's goal."""
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=r.protect,
        ignoreChanges=r.ignore_changes,
        deleteBeforeReplace=bool(r.delete_before_replace),
        deleteBeforeReplaceDefined=r.delete_before_replace is not None,
        additionalSecretOutputs=r.secret_outputs,
        aliases=list(r.aliases),
        customTimeouts=_timeouts(r),
        parent=r.parent,
    )


def _default_provider_name(version: str) -> str:
    """providers/provider.go `ProviderRequest.DefaultName`: `default`, then the version's
    parts joined by `_` (QNames have no dashes or dots)."""
    if not version:
        return "default"
    v = semver.Version.parse(version)
    parts = [str(v.major), str(v.minor), str(v.patch)]
    parts += (v.prerelease or "").split(".") if v.prerelease else []
    parts += (v.build or "").split(".") if v.build else []
    return "default_" + "_".join(parts)


def engine_resources(plan: Plan, project: str) -> list[EngineResource]:
    """Every resource the engine would analyze, in registration order: the root Stack, each
    registration (reads are not analyzed: step_executor.go files them under `reads`, not
    `news`), and a default provider before the first resource that needs one."""
    stack_urn = engine_urn(plan.stack, project, "", ROOT_STACK, f"{project}-{plan.stack}")
    empty = analyzer_pb2.AnalyzerResourceOptions(
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts()
    )
    found = [
        EngineResource(
            urn=stack_urn,
            type=ROOT_STACK,
            parent="",
            inputs={},  # the SDK registers the Stack with no properties
            outputs=properties(plan.registered_outputs.get(stack_urn, {})),
            options=empty,
        )
    ]
    by_urn = {r.urn: r for r in plan.resources}
    defaults: dict[tuple[str, str], analyzer_pb2.AnalyzerProviderResource] = {}

    def provider_of(r: Registration) -> analyzer_pb2.AnalyzerProviderResource | None:
        if not r.custom or r.type.startswith(PROVIDER_PREFIX):
            return None  # components and providers have none
        if r.provider:
            ref = by_urn.get(provider_urn(r.provider))
            if ref is None:
                return None
            return analyzer_pb2.AnalyzerProviderResource(
                urn=ref.urn,
                type=ref.type,
                name=ref.name,
                properties=_struct(properties(ref.inputs)),
            )
        package = r.type.split(":", 1)[0]
        key = (package, r.version)
        if key not in defaults:
            defaults[key] = _default_provider(plan, project, package, r.version)
            found.append(
                EngineResource(
                    urn=defaults[key].urn,
                    type=defaults[key].type,
                    parent="",
                    inputs=json_format.MessageToDict(defaults[key].properties),
                    outputs=json_format.MessageToDict(defaults[key].properties),
                    options=empty,
                )
            )
        return defaults[key]

    for r in plan.resources:
        provider = provider_of(r)
        urn = r.urn
        if r.remote:
            # A multi-language component (the Chart v4) never reaches the step generator from
            # the program: source_eval.go sends it to its provider's Construct, and
            # pulumi-kubernetes registers the Chart itself with no properties
            # (provider/pkg/provider/helm/v4/chart.go `Construct`: RegisterComponentResource,
            # which the Go SDK registers with `nil /*props*/`). Its `resources` output (the
            # children, as references) is not modelled.
            inputs: dict[str, Any] = {}
            outputs: dict[str, Any] = {}
        elif not r.custom:
            inputs = properties(r.inputs)
            outputs = properties(plan.registered_outputs.get(r.urn, {}))  # RegisterResourceOutputs
        else:
            # Analyze gets the inputs after the provider's Check, which is not run offline.
            # The preview's outputs: the inputs echoed, as pulumi-kubernetes' Create returns them
            # when it cannot dry-run (provider.go `Create`: "return them as-is"), with what the
            # mock provider computes (a password); a reachable cluster's dry-run is not modelled.
            inputs = properties(r.inputs)
            outputs = properties(r.outputs if r.outputs is not None else r.inputs)
            for key, value in inputs.items():
                # step_executor.go: "If an input secret is potentially leaked as an output,
                # preemptively mark it as secret."
                if _is_secret(value) and key in outputs and not _is_secret(outputs[key]):
                    outputs[key] = {SIG: _SECRET_SIG, "value": outputs[key]}
        found.append(
            EngineResource(
                urn=urn,
                type=r.type,
                parent=r.parent,
                inputs=inputs,
                outputs=outputs,
                options=_options(r),
                provider=provider,
                dependencies=list(r.dependencies),
                property_dependencies={k: list(v) for k, v in r.property_dependencies.items()},
            )
        )
    return found


def _default_provider(
    plan: Plan, project: str, package: str, version: str
) -> analyzer_pb2.AnalyzerProviderResource:
    """default_providers.go `newRegisterDefaultProviderEvent`: the package's config from the
    stack, plus `version` (providers.SetProviderVersion)."""
    prefix = f"{package}:"
    inputs: dict[str, Any] = {
        k[len(prefix) :]: v for k, v in plan.config.items() if k.startswith(prefix)
    }
    if version:
        inputs["version"] = version
    type_ = f"{PROVIDER_PREFIX}{package}"
    name = _default_provider_name(version)
    return analyzer_pb2.AnalyzerProviderResource(
        urn=engine_urn(plan.stack, project, "", type_, name),
        type=type_,
        name=name,
        properties=_struct(inputs),
    )


# ---- running it ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    policy: str
    pack: str
    version: str
    level: str
    message: str
    urn: str  # "" for a stack-level violation the engine could not place
    severity: str = ""


@dataclass(frozen=True)
class Report:
    pack: str
    version: str
    where: str  # the pack's path as the display shows it: `(local: <path>)`
    violations: list[Violation]
    analyzed: int  # resources sent to Analyze
    unused: list[str] = field(default_factory=list)  # config entries naming no policy

    @property
    def mandatory(self) -> bool:
        return any(v.level == "mandatory" for v in self.violations)


def _call(method: Callable[..., Any], request: Any, what: str) -> Any:
    try:
        return method(request, timeout=CALL_TIMEOUT_S)
    except grpc.RpcError as err:
        if isinstance(err, grpc.Call) and err.code() == grpc.StatusCode.UNIMPLEMENTED:
            return None  # analyzer_plugin.go: Handshake and ConfigureStack are optional
        raise PolicyError(f"plan: the policy pack failed in {what}: {_rpc_text(err)}") from None


def evaluate(
    plan: Plan,
    project: str,
    pack: PackProject,
    config: Mapping[str, PolicyConfig],
    config_path: Path,
    analyzer: analyzer_pb2_grpc.AnalyzerStub | None = None,
) -> Report:
    """Every policy of the pack over the plan, as a preview runs them; `analyzer`: a pack
    already serving (tests share one), else one is started and killed after."""
    if analyzer is None:
        with served(pack) as started:
            return evaluate(plan, project, pack, config, config_path, started)
    pack_dir = str(pack.path.resolve())
    _call(
        analyzer.Handshake,
        analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=ENGINE_ADDRESS, root_directory=pack_dir, program_directory=pack_dir
        ),
        "Handshake",
    )
    _call(
        analyzer.ConfigureStack,
        analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=plan.stack, project=project, dry_run=True, config=plan.config
        ),
        "ConfigureStack",
    )
    info = _call(analyzer.GetAnalyzerInfo, empty_pb2.Empty(), "GetAnalyzerInfo")
    version = pack.version or info.version
    info.version = version
    reconciled = reconcile(info, config, display_path(config_path))
    _call(
        analyzer.Configure,
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                name: analyzer_pb2.PolicyConfig(
                    enforcementLevel=_PROTO_LEVEL[c.level or "advisory"],
                    properties=_struct(c.properties),
                )
                for name, c in reconciled.items()
            }
        ),
        "Configure",
    )
    severities = {p.name: _SEVERITY_OF.get(p.severity, "") for p in info.policies}
    resources = engine_resources(plan, project)
    violations: list[Violation] = []

    def found(diagnostic: Any, urn: str) -> Violation:
        level = _LEVEL_OF[diagnostic.enforcementLevel]
        return Violation(
            policy=diagnostic.policyName,
            pack=diagnostic.policyPackName,
            version=version,  # analyzer_plugin.go: PulumiPolicy.yaml's version wins
            # step_generator.go: a remediate-level violation is reported as mandatory.
            level="mandatory" if level == "remediate" else level,
            message=diagnostic.message,
            urn=urn,
            severity=_SEVERITY_OF.get(diagnostic.severity, "")
            or severities.get(diagnostic.policyName, ""),
        )

    for r in resources:
        response = _call(analyzer.Analyze, r.analyze_request(), f"Analyze({r.urn})")
        # analyze_snapshot.go `analyzeResource`: every diagnostic is the resource's.
        violations += [found(d, r.urn) for d in response.diagnostics]
    response = _call(
        analyzer.AnalyzeStack,
        analyzer_pb2.AnalyzeStackRequest(resources=[r.stack_resource() for r in resources]),
        "AnalyzeStack",
    )
    known = {r.urn for r in resources}
    # step_generator.go `AnalyzeResources`: a stack diagnostic's own URN when it names a
    # resource of the stack, else the root stack's.
    violations += [
        found(d, d.urn if d.urn in known else resources[0].urn)
        for d in (response.diagnostics if response is not None else [])
    ]
    names = {p.name for p in info.policies}
    unused = sorted(set(config) - names - {"all"})
    return Report(info.name, version, display_path(pack.path), violations, len(resources), unused)


def render_policies(report: Report) -> str:
    """The "Policies:" section of `pulumi preview` (progress.go `printPolicies`, without
    colour): the pack with ✅/⚠️/❌, then each violation, mandatory first, its message indented
    under it (diff.go `renderDiffPolicyViolationEvent`), then a blank line. Credentials in a
    message are masked (settings.fields.mask_credentials): this project never prints them."""
    mark = "✅"
    if report.violations:
        mark = "❌" if report.mandatory else "⚠️"
    lines = ["Policies:", f"    {mark} {report.pack}@v{report.version} (local: {report.where})"]
    ordered = sorted(
        report.violations,
        key=lambda v: (
            _LEVEL_RANK.get(v.level, 99),
            _SEVERITY_RANK.get(v.severity, 99),
            v.policy,
            v.urn,
        ),
    )
    for v in ordered:
        severity = f" [severity: {v.severity}]" if v.severity else ""
        where = f"  ({display_type(urn_type(v.urn))}: {urn_name(v.urn)})" if v.urn else ""
        lines.append(f"        - [{v.level}]{severity}  {v.policy}{where}")
        for line in v.message.removesuffix("\n").split("\n"):
            lines.append(f"          {mask_credentials(line)}")
    lines.append("")
    return "\n".join(lines) + "\n"
