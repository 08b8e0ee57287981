"""Bad input the Pulumi CLI, the API server or the operator would refuse: exit 2, one line
naming the file and the key (or the line), nothing on stdout, no traceback (issue 16).

Each case is a real stack file (dev or prod) with one thing changed. The YAML cases follow
yaml.v3 v3.0.1 as the Pulumi CLI uses it (offline/yaml_v3.py cites each rule).
"""

from __future__ import annotations

import pytest

from offline import cli
from offline.inputs import ROOT

DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text(encoding="utf-8")
PROD = (ROOT / "stacks" / "Pulumi.prod.yaml").read_text(encoding="utf-8")


def agent_spec(extra: str) -> str:  # a third agent in dev with extra spec lines
    return (
        DEV
        + "    - name: extra\n      namespace: agents\n      spec:\n        facades: [{type: websocket}]\n"
        + extra
    )


def laughs(n: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, n):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return (
        "\n".join(lines)
        + "\n"
        + DEV.replace(
            "  omnia-agents:session:", f"  omnia-agents:x: *a{n - 1}\n  omnia-agents:session:"
        )
    )


literal = "\n".join(f"  k{i}: [{', '.join(['abcdefghijklmnopqrst'] * 5)}]" for i in range(400))
wide = (
    "pad: &p\n"
    + literal
    + "\n"
    + DEV.replace(
        "  omnia-agents:session:",
        "  omnia-agents:x: [" + ", ".join(["*p"] * 120) + "]\n  omnia-agents:session:",
    )
)
_CASES: dict[str, str | bytes] = {
    "binary-not-utf8": PROD.replace(
        'passwordRotation: "2026-11"', "passwordRotation: !!binary /+7/"
    ),
    "set-as-string": PROD.replace('passwordRotation: "2026-11"', "passwordRotation: !!set {a, b}"),
    "latin-1": ("# Caf\xe9\n" + DEV).encode("latin-1"),
    "nan": agent_spec("        replicas: .nan\n"),
    "inf": agent_spec("        resources: {limits: {cpu: .inf}}\n"),
    "minus-inf": PROD.replace("replicas: 3", "replicas: -.inf"),
    "billion-laughs": laughs(9),
    "wide-expansion": wide,
    "depth-350": DEV.replace(
        "  omnia-agents:session:",
        "  omnia-agents:x: " + "[" * 350 + "]" * 350 + "\n  omnia-agents:session:",
    ),
    "depth-via-aliases": "d: &d "
    + "[" * 40
    + "]" * 40
    + "\ne: &e "
    + "[" * 30
    + "*d"
    + "]" * 30
    + "\n"
    + DEV.replace("  omnia-agents:session:", "  omnia-agents:x: *e\n  omnia-agents:session:"),
    "protect-yes": PROD.replace("protect: true ", "protect: yes  "),
    "sentinel-on": PROD.replace("sentinel: true ", "sentinel: on   "),
    "duplicate-top": DEV + "  omnia-agents:omniaVersion: 0.9.0-beta.16\n",
    "duplicate-nested": DEV.replace("    ttl: 1h\n", "    ttl: 1h\n    ttl: 2h\n"),
    "syntax": DEV.replace("    type: memory", "    type: [memory"),
    "control-char": DEV.replace("ttl: 1h", "ttl: 1h\x07"),
    "root-int-key": DEV + "1: one\n",
    "config-int-key": DEV + "  7: seven\n",
    "self-anchor": DEV.replace(
        "  omnia-agents:session:", "  omnia-agents:x: &loop [*loop]\n  omnia-agents:session:"
    ),
    "unknown-anchor": DEV.replace("    type: memory", "    type: *nowhere"),
    "merge-scalar": DEV.replace("    type: memory", "    <<: 1\n    type: memory"),
    "too-big": DEV + "# " + "x" * (1 << 20) + "\n",
    "int-tag-on-text": DEV.replace("ttl: 1h", "ttl: !!int 1h"),
    "esc-environment": "environment: [team/dev]\n" + DEV,
    "set-twice": DEV + "  session: {type: redis}\n",
    "bad-key": DEV + "  a:b:c: 1\n",
    "bad-base64": DEV.replace("ttl: 1h", "ttl: !!binary '%%%'"),
    "annotations-over-256k": agent_spec(
        "        extraPodAnnotations: {note: " + "x" * (300 * 1024) + "}\n"
    ),
    "annotation-name": agent_spec("        extraPodAnnotations: {'bad key!': x}\n"),
    "annotation-bool": agent_spec("        extraPodAnnotations: {sidecar.istio.io/inject: true}\n"),
    "ready-timeout-1ns": PROD.replace(
        "    protect: true", "    readyTimeout: 1ns\n    protect: true"
    ),
    "rotation-newline": PROD.replace('passwordRotation: "2026-11"', 'passwordRotation: "\\n"'),
    "rotation-space": PROD.replace('passwordRotation: "2026-11"', 'passwordRotation: " "'),
    "chart-credentials": PROD.replace(
        "    protect: true",
        "    chart: oci://admin:hunter2@registry.example.com/charts/redis\n    protect: true",
    ),
    "chart-invalid-credentials": PROD.replace(
        "    protect: true",
        "    chart: https://admin:hunter2@charts.example.com/redis\n    protect: true",
    ),
    "env-credentials": agent_spec(
        "        runtime: {extraEnv: [{name: CACHE_URL, value: 'redis://:hunter2@cache:6379'}]}\n"
    ),
    "redis-kube-system": PROD.replace("    namespace: redis\n", "    namespace: kube-system\n"),
    "redis-default": PROD.replace("    namespace: redis\n", "    namespace: default\n"),
    "redis-agent-namespace": PROD.replace("    namespace: redis\n", "    namespace: finance\n"),
    "ttl-above-max": DEV.replace("ttl: 1h", "ttl: 9999999h"),
}


_LINES = {
    "binary-not-utf8": "omnia-agents:redis.passwordRotation: line 14: !!binary data that is not UTF-8 text cannot reach the program intact",
    "set-as-string": "omnia-agents:redis.passwordRotation: Input should be a valid string (got {'a': None, 'b': None})",
    "latin-1": "line 1: byte 0xE9 is not UTF-8: the Pulumi CLI reads stack files as UTF-8 (or UTF-16 with a byte-order mark); save the file as UTF-8",
    "nan": "omnia-agents:agents[2].spec.replicas: .nan is not a number JSON can carry: the Pulumi CLI refuses the stack file (json: unsupported value), and Kubernetes objects are JSON; use a number or a string",
    "inf": "omnia-agents:agents[2].spec.resources.limits.cpu: .inf is not a number JSON can carry: the Pulumi CLI refuses the stack file (json: unsupported value), and Kubernetes objects are JSON; use a number or a string",
    "minus-inf": "omnia-agents:redis.replicas: -.inf is not a number JSON can carry: the Pulumi CLI refuses the stack file (json: unsupported value), and Kubernetes objects are JSON; use a number or a string",
    "billion-laughs": "line 1: document contains excessive aliasing (yaml.v3 allows at most 99% of a document's values to come from aliases)",
    "wide-expansion": "line 108: the document expands to more than 1 MiB: omnia-agents reads at most that much config (and Linux starts no program whose config exceeds 128 KiB)",
    "depth-350": "line 4: nested deeper than 64 levels: omnia-agents reads at most 64 (no AgentRuntime field is nested so deep)",
    "depth-via-aliases": "line 1: nested deeper than 64 levels once aliases are expanded: omnia-agents reads at most 64",
    "protect-yes": "omnia-agents:redis.protect: 'yes' is a string to the Pulumi CLI (YAML 1.2: only true and false are booleans): write true or false",
    "sentinel-on": "omnia-agents:redis.sentinel: 'on' is a string to the Pulumi CLI (YAML 1.2: only true and false are booleans): write true or false",
    "duplicate-top": "omnia-agents:omniaVersion: line 19: key 'omnia-agents:omniaVersion' already defined at line 3: the Pulumi CLI refuses duplicate keys",
    "duplicate-nested": "omnia-agents:session.ttl: line 7: key 'ttl' already defined at line 6: the Pulumi CLI refuses duplicate keys",
    "syntax": "line 6, column 8: did not find expected ',' or ']': not valid YAML (the Pulumi CLI refuses the file)",
    "control-char": "line 6: control character U+0007: YAML allows none (readerc.go: control characters are not allowed)",
    "root-int-key": "key '1' is not a string: the Pulumi CLI reads a stack file only with string keys at the top",
    "config-int-key": "config: key '7' is not a string: the Pulumi CLI parses every config key as <namespace>:<name>",
    "self-anchor": "omnia-agents:x[0][0]: line 4: anchor 'loop' value contains itself",
    "unknown-anchor": "line 5: unknown anchor 'nowhere'",
    "merge-scalar": "omnia-agents:session: line 5: map merge requires map or sequence of maps as the value",
    "too-big": "is 1.0 MiB: omnia-agents reads stack files up to 1 MiB (Linux starts no program whose config exceeds 128 KiB)",
    "int-tag-on-text": "omnia-agents:session.ttl: line 6: cannot decode !!str `1h` as a !!int",
    "esc-environment": "environment: Pulumi ESC environments add config the offline plan cannot open; plan a copy of the stack file without them",
    "set-twice": "omnia-agents:session: set twice (as omnia-agents:session and session): the Pulumi CLI keeps one of them at random; keep one",
    "bad-key": "a:b:c: not a configuration key (the Pulumi CLI takes <namespace>:<name>)",
    "bad-base64": "omnia-agents:session.ttl: line 6: !!binary value contains invalid base64 data",
    "annotations-over-256k": "omnia-agents:agents[2].spec.extraPodAnnotations: 300 KiB of annotations (with the program's own stamp): Kubernetes refuses pods with more than 256 KiB, so the operator could never start the agent",
    "annotation-name": "omnia-agents:agents[2].spec.extraPodAnnotations.bad key!: is not an annotation name: the name 'bad key!' must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    "annotation-bool": "omnia-agents:agents[2].spec.extraPodAnnotations.sidecar.istio.io/inject: must be a string (got true): quote it",
    "ready-timeout-1ns": "omnia-agents:redis: readyTimeout: 1ns is shorter than the Redis pods can become ready: each waits 20s for its first readiness probe (the chart's initialDelaySeconds) and the StatefulSet starts its 3 pods one after another; use at least 60s (default 30m)",
    "rotation-newline": "omnia-agents:redis.passwordRotation: '\\n' is blank, multi-line or padded: a rotation value must be a visible label such as '2026-11' (any new value rotates the password)",
    "rotation-space": "omnia-agents:redis.passwordRotation: ' ' is blank, multi-line or padded: a rotation value must be a visible label such as '2026-11' (any new value rotates the password)",
    "chart-credentials": "omnia-agents:redis.chart: 'oci://admin:[secret]@registry.example.com/charts/redis' holds a password in a URL: it would be stored in clear in the state and the objects it reaches; omnia-agents settings hold no secrets (log in with `helm registry login` and drop `user:password@`)",
    "chart-invalid-credentials": "omnia-agents:redis.chart: 'https://admin:[secret]@charts.example.com/redis' holds a password in a URL: it would be stored in clear in the state and the objects it reaches; omnia-agents settings hold no secrets (log in with `helm registry login` and drop `user:password@`)",
    "env-credentials": "omnia-agents:agents[2].spec.runtime.extraEnv[0].value: 'redis://:[secret]@cache:6379' holds a password in a URL: it would be stored in clear in the state and the objects it reaches; omnia-agents settings hold no secrets (reference a Secret instead, e.g. valueFrom.secretKeyRef)",
    "redis-kube-system": "omnia-agents:redis.namespace: 'kube-system' exists in every cluster: the program creates (and keeps) the Redis namespace, so creating it fails (AlreadyExists); give Redis a namespace of its own (default 'redis')",
    "redis-default": "omnia-agents:redis.namespace: 'default' exists in every cluster: the program creates (and keeps) the Redis namespace, so creating it fails (AlreadyExists); give Redis a namespace of its own (default 'redis')",
    "redis-agent-namespace": "omnia-agents:redis.namespace: 'finance' is also agents[2]'s namespace, which agentNamespaces: require says exists: the program creates the Redis namespace, and creating one that exists fails (AlreadyExists); give Redis a namespace of its own",
    "ttl-above-max": "omnia-agents:session.ttl: '9999999h' is above Go's maximum duration (2562047h47m16.854775807s)",
}


CASES = [(name, _CASES[name], _LINES[name]) for name in _CASES]


@pytest.mark.parametrize(("name", "text", "line"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(name, text, line, tmp_path, capsys) -> None:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    assert cli.main(["--stack-file", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    said = [s for s in err.splitlines() if not s.startswith("warning: ")]
    assert said == [f"{path}: {line}"]
    assert "Traceback" not in err and "hunter2" not in err


def test_there_are_at_least_25_new_bad_inputs() -> None:
    assert len(CASES) >= 25


def _prompt(text: str) -> str:  # a third agent in dev whose spec holds `text`
    return agent_spec(f'        systemPrompt: "{text}"\n')


def test_config_size_is_counted_in_the_bytes_linux_counts(tmp_path, capsys) -> None:
    """PULUMI_CONFIG is UTF-8: 70,000 `é` are 140 KB, over Linux's 128 KiB for one variable;
    70,000 `e` are not."""
    warned = []
    for char in ("e", "é"):
        path = tmp_path / "Pulumi.dev.yaml"
        path.write_text(_prompt(char * 70_000), encoding="utf-8")
        assert cli.main(["--stack-file", str(path)]) == 0
        warned.append([w for w in capsys.readouterr().err.splitlines() if "PULUMI_CONFIG" in w])
    assert warned[0] == []
    assert warned[1] == [
        f"warning: {tmp_path / 'Pulumi.dev.yaml'}: the config is 137 KiB as the program receives "
        "it (PULUMI_CONFIG): Linux refuses to start a program with an environment variable over "
        "128 KiB, so `pulumi up` fails there (argument list too long)"
    ]


def test_an_agent_is_weighed_in_utf8_as_the_api_server_stores_it() -> None:
    """1.0 MB of `é` is 1.0 MB in etcd, not the 3 MB of its ASCII-escaped JSON; 1.6 MB is over."""
    from settings.errors import ConfigError
    from settings.loader import parse_config

    def agents(chars: int) -> dict[str, object]:
        spec = {"facades": [{"type": "websocket"}], "systemPrompt": "é" * chars}
        return {
            "omniaVersion": "0.9.0-beta.17",
            "session": {"type": "memory"},
            "agents": [{"name": "a", "namespace": "agents", "spec": spec}],
        }

    parse_config(agents(500_000), "SessionAgents")
    with pytest.raises(ConfigError) as caught:
        parse_config(agents(800_000), "SessionAgents")
    assert [f"{p.key}: {p.message}" for p in caught.value.problems] == [
        "omnia-agents:agents[0].spec: is 1.5 MiB: an AgentRuntime is stored as JSON in etcd, "
        "which refuses objects over 1.5 MiB"
    ]
