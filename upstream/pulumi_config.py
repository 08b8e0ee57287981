"""How the Pulumi CLI hands a stack file's config to the program (pure facts, cited).

The CLI reads stack files with gopkg.in/yaml.v3 v3.0.1 (pulumi/pulumi v3.259.0 `sdk/go.mod`;
the project pins the SDK at 3.272.0, whose CLI source is not available here): `offline.yaml_v3`
reads them the same way; the program sees the result as strings.
"""

from __future__ import annotations

import re

# How the Pulumi CLI shows a secret (`pulumi config`, preview diffs): so do the plan and every
# message of the program's.
SECRET_SHOWN = "[secret]"

# YAML 1.1 booleans that yaml.v3 reads as strings into `any` (go-yaml/yaml v3.0.1 resolve.go
# resolveMap has only true/True/TRUE and false/False/FALSE; decode.go `scalar` turns these
# into bools only when decoding into a typed Go bool, which config values never are).
_TRUE = ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON")
OLD_BOOLS = frozenset((*_TRUE, "n", "N", "no", "No", "NO", "off", "Off", "OFF"))
# A YAML timestamp reaches the program as Go's Time.String() (pulumi/pulumi
# sdk/go/common/resource/config/object.go `unmarshalObject`: `case time.Time:
# newObject(v.String())`): `2026-11-01` becomes `2026-11-01 00:00:00 +0000 UTC`.
GO_TIME_STRING = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)? [+-][0-9]{4} \S+"
)
# Our bound on nesting (yaml.v3 itself allows 10000: scannerc.go max_flow_level/max_indents):
# the program json-decodes each value and pydantic validates it, both recursively, and no
# AgentRuntime field is nested half this deep.
MAX_DEPTH = 64
# Linux refuses to exec a program with one environment string longer than MAX_ARG_STRLEN,
# 32 pages (include/uapi/linux/binfmts.h), `NAME=` and the final NUL included; the Python
# language host passes the whole config as one variable (pulumi/pulumi v3.259.0
# sdk/python/cmd/pulumi-language-python/main.go `constructConfig`, then
# `env = append(env, pulumiConfigVar+"="+config)`).
MAX_ARG_STRLEN = 32 * 4096
CONFIG_ENV = "PULUMI_CONFIG"
MAX_CONFIG_ENV = MAX_ARG_STRLEN - len(CONFIG_ENV) - 2  # `=` and NUL
