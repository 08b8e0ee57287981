"""How a plan and a change preview are printed: JSON for programs, YAML for people.

JSON is everything, one array (each item with its URN, the change preview with every resource,
`op: same` included). YAML is a stream a person reads top to bottom: no URNs, no empty inputs,
multi-line strings as block scalars, unchanged resources only on request, and a last document
that sums up what the plan does.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import yaml

from offline.change_preview import OPS

_BASE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BASE_DUMPER):  # type: ignore[misc]
    """Safe YAML, with multi-line strings (redis.conf, scripts) as `|` block scalars."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def plan_summary(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of what the plan reads and registers, by type (most first)."""
    reads = [i for i in items if "read" in i]
    made = Counter(i["type"] for i in items if "read" not in i)
    return {
        "summary": {
            "reads": len(reads),
            "resources": sum(made.values()),
            "by type": dict(sorted(made.items(), key=lambda kv: (-kv[1], kv[0]))),
        }
    }


def change_summary(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by op, in the order `pulumi preview` names them; refusals counted apart."""
    ops = Counter(c["op"] for c in changes)
    summary: dict[str, Any] = {"by op": {op: ops[op] for op in OPS if ops[op]}}
    refused = sum(1 for c in changes if "refused" in c)
    if refused:
        summary["refused"] = refused
    return {"summary": summary}


def _for_people(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "urn" and not (k == "inputs" and v == {})}


def render_plan(items: list[dict[str, Any]], format_: str) -> str:
    if format_ == "json":
        return json.dumps(items, indent=2) + "\n"
    return _stream([*(_for_people(i) for i in items), plan_summary(items)])


def render_changes(changes: list[dict[str, Any]], format_: str, *, show_same: bool) -> str:
    if format_ == "json":
        return json.dumps(changes, indent=2) + "\n"
    shown = [_for_people(c) for c in changes if show_same or c["op"] != "same"]
    return _stream([*shown, change_summary(changes)])


def _stream(documents: list[dict[str, Any]]) -> str:
    text: str = yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text
