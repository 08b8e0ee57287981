"""Judge a custom resource the way a kube-apiserver would, from a CRD file.

The API server prunes fields its schema does not know and Pulumi's server-side apply only
warns, so a session block written for the wrong Omnia release deploys "successfully" and the
agent runs on memory sessions. This finds that before anything is applied.

Order, as the server does it: prune unknown fields, apply the schema's defaults, validate the
openAPIV3Schema, then evaluate every `x-kubernetes-validations` CEL rule at its level.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from upstream.agent_runtime import POD_ANNOTATIONS
from upstream.kubernetes import DEFAULT_NAMESPACE
from upstream.omnia_releases import RELEASES, SESSION_FIELDS, first_with, last_with

CONTEXT_HINT = (
    "this CRD has spec.context: set omnia-agents:omniaVersion to "
    f"{first_with('context').first} or later"
)
SESSION_HINT = (
    f"this CRD has spec.session: set omnia-agents:omniaVersion below {first_with('context').first}"
    f" (e.g. {last_with('session').last})"
)


def session_hint(spec_fields: set[str]) -> str:
    """The hint for a `session` CRD, naming a release of its own row: the alpha CRDs have no
    extraPodAnnotations (omnia-releases.md), so an alpha.1 CRD is not told `beta.16`."""
    alike = [
        r
        for r in RELEASES
        if r.block == "session" and r.last and r.pod_annotations == (POD_ANNOTATIONS in spec_fields)
    ]
    if not alike or alike[-1] is last_with("session"):
        return SESSION_HINT
    return (
        f"this CRD has spec.session and no spec.{POD_ANNOTATIONS}: set omnia-agents:omniaVersion "
        f"to the release it comes from, {alike[-1].first} .. {alike[-1].last}"
    )


CEL_SKIPPED = (
    "some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)
# Every object keeps these whatever the schema says (the server handles metadata itself).
_ROOT_KEEP = {"apiVersion", "kind", "metadata"}


class CrdFileError(Exception):
    """A file that is not a readable CustomResourceDefinition."""


@dataclass(frozen=True)
class Finding:
    """One reason the API server would prune or reject part of an object."""

    path: str
    message: str


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def read_crd(path: Path, label: str) -> dict[str, Any]:
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser: CRDs run to MBs
        documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=loader))
    except OSError as err:
        raise CrdFileError(f"cannot read {label} ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise CrdFileError(f"{label} is not valid YAML ({err})") from None
    for document in documents:
        items = document.get("items", [document]) if isinstance(document, dict) else []
        for item in items:
            if isinstance(item, dict) and item.get("kind") == "CustomResourceDefinition":
                return item
    raise CrdFileError(f"{label} holds no CustomResourceDefinition")


def _prune(value: Any, schema: dict[str, Any], path: str, found: list[Finding]) -> Any:
    """Drop (and report) what a structural schema does not declare."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        keep_all = (
            extra is True
            or schema.get("x-kubernetes-preserve-unknown-fields", False)
            or "type" not in schema  # int-or-string and the like: nothing to prune against
        )
        embedded = path == "" or schema.get("x-kubernetes-embedded-resource", False)
        kept: dict[str, Any] = {}
        for key, item in sorted(value.items()):  # reported in a stable order
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if item is None and sub is not None and not sub.get("nullable", False):
                continue  # the server drops a null the schema does not allow; defaults follow
            if embedded and key in _ROOT_KEEP:
                kept[key] = item
            elif key in properties:
                kept[key] = _prune(item, properties[key], _join(path, key), found)
            elif isinstance(extra, dict):
                kept[key] = _prune(item, extra, _join(path, key), found)
            elif keep_all:
                kept[key] = item
            else:
                found.append(
                    Finding(_join(path, key), "unknown field: the API server prunes it (silently)")
                )
        return kept
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_prune(v, schema["items"], _join(path, i), found) for i, v in enumerate(value)]
    return value


def _default(value: Any, schema: dict[str, Any]) -> Any:
    """Fill absent fields from their schema `default`, top-down like the server."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key, sub in properties.items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
        for key, item in value.items():
            if key in properties:
                value[key] = _default(item, properties[key])
            elif isinstance(schema.get("additionalProperties"), dict):
                value[key] = _default(item, schema["additionalProperties"])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_default(v, schema["items"]) for v in value]
    return value


def _json_schema(schema: Any) -> Any:
    """OpenAPI v3 (as CRDs use it) to JSON Schema draft 4: `nullable` becomes a null type."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "description", "default"):
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {k: _json_schema(v) for k, v in value.items()}
        else:
            out[key] = _json_schema(value)
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


_REQUIRED = re.compile(r"^'(.+)' is a required property$")


def _whole_number(checker: Any, value: Any) -> bool:
    """The server's JSON decoding accepts 3.0 for an integer field; draft 4 alone does not."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _schema_findings(obj: dict[str, Any], schema: dict[str, Any]) -> tuple[list[Finding], bool]:
    """Schema errors, and whether any is a type error (the server then skips CEL)."""
    import jsonschema  # deferred: only a stack that checks CRDs pays for it

    base = jsonschema.Draft4Validator
    validator_class = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        base, type_checker=base.TYPE_CHECKER.redefine("integer", _whole_number)
    )
    validator = validator_class(_json_schema(schema))
    found = []
    type_errors = False
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        path = ""
        for part in error.absolute_path:
            path = _join(path, part)
        message = error.message
        type_errors = type_errors or error.validator == "type"
        missing = _REQUIRED.match(message) if error.validator == "required" else None
        if missing:
            path, message = _join(path, missing.group(1)), "required field is missing"
        found.append(Finding(path or "(object)", message))
    return found + _list_findings(obj, schema, ""), type_errors


def _children(value: Any, schema: dict[str, Any], path: str) -> Iterator[tuple[Any, Any, str]]:
    """The values right below `value` that the schema describes: (value, its schema, path)."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key) or (extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield item, sub, _join(path, key)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield item, schema["items"], _join(path, i)


def _identity(item: Any, kind: Any, keys: list[str]) -> str | None:
    """What must be unique in an x-kubernetes-list-type set (the item) or map (its keys)."""
    if kind == "set":
        return repr(item)
    if kind == "map" and isinstance(item, dict):
        return repr([item.get(k) for k in keys])
    return None


def _list_findings(value: Any, schema: dict[str, Any], path: str) -> list[Finding]:
    """x-kubernetes-list-type set and map: no duplicate items, no duplicate keys."""
    found = []
    if isinstance(value, list):
        kind = schema.get("x-kubernetes-list-type")
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen: dict[str, int] = {}
        for i, item in enumerate(value):
            identity = _identity(item, kind, keys)
            if identity is None:
                continue
            if identity in seen:
                what = f"{', '.join(keys)} " if kind == "map" else ""
                found.append(
                    Finding(_join(path, i), f"Duplicate value: {what}as in [{seen[identity]}]")
                )
            else:
                seen[identity] = i
    for item, sub, where in _children(value, schema, path):
        found += _list_findings(item, sub, where)
    return found


def _rules(
    value: Any, schema: dict[str, Any], path: str
) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Each CEL rule with the value it judges, for values present in the object."""
    for rule in schema.get("x-kubernetes-validations") or []:
        yield path, value, rule
    for item, sub, where in _children(value, schema, path):
        yield from _rules(item, sub, where)


def _cel_findings(obj: dict[str, Any], schema: dict[str, Any]) -> list[Finding]:
    import celpy  # deferred, as jsonschema

    env = celpy.Environment()
    found = []
    for path, value, rule in _rules(obj, schema, ""):
        text = rule["rule"]
        if "oldSelf" in text:
            continue  # transition rules do not run when an object is created
        where = path + rule.get("fieldPath", "") if rule.get("fieldPath") else path
        error: Exception | None = None
        try:
            program = env.program(env.compile(text))
            result: Any = program.evaluate({"self": celpy.adapter.json_to_cel(value)})
        except Exception as err:  # any evaluation error rejects, as on the server
            error = err
        if error is None and isinstance(result, Exception):
            error = result  # cel-python may return the error instead of raising it
        if error is None and isinstance(result, celpy.celtypes.BoolType) and bool(result):
            continue
        if error is not None:
            reason = error.args[0] if error.args else error
            message = f"rule {text!r} could not be evaluated ({reason})"
        else:
            message = rule.get("message") or f"failed rule: {text}"
        found.append(Finding(where or "(object)", message))
    return found


@dataclass(frozen=True)
class Crd:
    """One CRD's schemas by version, and which session key this Omnia release reads."""

    group: str
    kind: str
    schemas: dict[str, dict[str, Any]]

    @classmethod
    def from_file(cls, path: Path, label: str | None = None) -> Crd:
        """`label` names the file in messages (the path as the user wrote it)."""
        label = label or str(path)
        return cls.from_object(read_crd(path, label), label)

    @classmethod
    def from_object(cls, crd: dict[str, Any], label: str) -> Crd:
        """A CRD as the API server returns it (a file's, or the one read from the cluster)."""
        spec = crd.get("spec") or {}
        schemas = {
            v["name"]: v["schema"]["openAPIV3Schema"]
            for v in spec.get("versions") or []
            if v.get("served", True) and (v.get("schema") or {}).get("openAPIV3Schema")
        }
        if not schemas:
            raise CrdFileError(f"{label}: the CRD serves no version with an openAPIV3Schema")
        return cls(
            group=spec.get("group", ""), kind=spec.get("names", {}).get("kind", ""), schemas=schemas
        )

    def spec_fields(self, version: str) -> set[str]:
        spec = self.schemas[version].get("properties", {}).get("spec", {})
        return set(spec.get("properties") or {})

    def session_field(self, version: str) -> str | None:
        fields = self.spec_fields(version)
        return "context" if "context" in fields else "session" if "session" in fields else None

    def judge(self, obj: dict[str, Any]) -> list[Finding]:
        """Every pruned field, schema error and failed CEL rule, in that order."""
        group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
        if group != self.group or obj.get("kind") != self.kind or version not in self.schemas:
            served = ", ".join(f"{self.group}/{v}" for v in self.schemas)
            return [Finding("apiVersion", f"this CRD serves {self.kind} as {served}")]
        schema = self.schemas[version]
        found: list[Finding] = []
        pruned = _prune(copy.deepcopy(obj), schema, "", found)
        defaulted = _default(pruned, schema)
        schema_errors, type_errors = _schema_findings(defaulted, schema)
        found += schema_errors
        if type_errors:  # CEL would see values of the wrong type: the server stops here too
            found.append(Finding("(object)", CEL_SKIPPED))
        else:
            found += _cel_findings(defaulted, schema)
        return found


def check_manifests(crd: Crd, manifests: list[dict[str, Any]]) -> list[str]:
    """One line per problem, the generation fix first; empty when every object conforms."""
    lines = []
    used = {key for m in manifests for key in SESSION_FIELDS if key in m.get("spec", {})}
    for version in sorted({str(m.get("apiVersion", "")).rpartition("/")[2] for m in manifests}):
        has = crd.session_field(version) if version in crd.schemas else None
        if has == "context" and "session" in used:
            lines.append(CONTEXT_HINT)
        elif has == "session" and "context" in used:
            lines.append(session_hint(crd.spec_fields(version)))
    for manifest in manifests:
        meta = manifest.get("metadata", {})
        who = f"{meta.get('namespace', DEFAULT_NAMESPACE)}/{meta.get('name', '?')}"
        lines += [f"{who}: {f.path}: {f.message}" for f in crd.judge(manifest)]
    return lines
