"""Day-2 changes the engine or the provider refuses, and the commands that get a user through.

Kept beside `change_preview` (which diffs the plans): `review` adds what the diff alone cannot
see and a `fix` to every refusal; `plan.py --from` prints both and exits 1.
"""

from __future__ import annotations

from typing import Any

from offline.harness import Plan, provider_urn
from upstream.kubernetes import NAMESPACE


def _quoted(urn: str) -> str:
    return "'" + urn.replace("'", "'\\''") + "'"


def review(old: Plan, new: Plan, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes with day-2 refusals added and a `fix` on each refusal."""
    reads = {r.urn: r for r in old.reads}
    resources = {r.urn: r for r in new.resources}
    for entry in changes:
        if entry["op"] == "create" and entry["type"] == NAMESPACE and entry["urn"] in reads:
            # The old stack read this namespace (agentNamespaces: require): it exists, and the
            # provider's create of an object that exists fails with AlreadyExists.
            made = resources[entry["urn"]]
            parent = resources.get(made.parent)
            provider = provider_urn(made.provider) if made.provider else ""
            name = reads[entry["urn"]].id
            entry["refused"] = (
                f"namespace {name} exists (the old stack read it): creating it fails "
                "(AlreadyExists)"
            )
            flags = ""
            if parent is not None:
                flags += f" --parent {_quoted(f'{parent.name}={parent.urn}')}"
            if provider:
                provider_name = provider.rsplit("::", 1)[-1]
                flags += f" --provider {_quoted(f'{provider_name}={made.provider}')}"
            entry["fix"] = (
                f"adopt it first: pulumi import {NAMESPACE} {made.name} {name}{flags}; or keep "
                "agentNamespaces: require"
            )
        elif "protect" not in entry.get("refused", "") or "fix" in entry:
            continue  # another guard's refusal: it says what to do itself
        elif entry["op"] == "delete":
            entry["fix"] = (
                f"pulumi state unprotect {_quoted(entry['urn'])}, then pulumi up "
                "(set redis.protect: false in the same change so it stays off)"
            )
        elif entry["op"] == "replace":
            entry["fix"] = (
                "two steps: pulumi up with redis.protect: false and nothing else changed, then "
                "pulumi up with this change"
            )
    return changes


def stop_lines(changes: list[dict[str, Any]]) -> list[str]:
    """`refused:` lines, each followed by the command that gets the user through."""
    lines = []
    for c in changes:
        if "refused" in c:
            lines.append(f"refused: {c['type']} {c['name']}: {c['refused']}")
            if "fix" in c:
                lines.append(f"  fix: {c['fix']}")
    return lines
