"""The change preview: what `pulumi up` would do to go from one planned stack to another.

Both plans come from the same mock harness (same stack name, so the same stand-in password
unless its keepers change). Resources are matched by URN, as the engine matches them; each kind
this program uses is diffed by the rules its provider and the engine apply, cited per rule.
What the engine would refuse (replacing or deleting a protected resource) is reported, and
`plan.py --from` exits 1 for it.
"""

from __future__ import annotations

from typing import Any

from offline.harness import PASSWORD, Plan, Registration, render
from upstream.kubernetes import HELM_CHART_V4 as CHART_TYPE
from upstream.kubernetes import PROVIDER as PROVIDER_TYPE
from upstream.kubernetes import SECRET as SECRET_TYPE

PASSWORD_TYPE = PASSWORD
OPS = ("create", "update", "replace", "delete", "same")


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths (`[i]` for list items) of every leaf that differs, sorted."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for key in sorted(set(old) | set(new)):
            where = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                paths.append(where)
            else:
                paths += changed_paths(old[key], new[key], where)
        return paths
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            p
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for p in changed_paths(a, b, f"{prefix}[{i}]")
        ]
    return [] if old == new else [prefix or "(inputs)"]


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in prefixes)


def _mutable_secrets(plan: Plan, resource: Registration) -> bool:
    """Whether the provider managing this resource was configured with enableSecretMutable."""
    urn = resource.provider.rsplit("::", 1)[0] if resource.provider else ""
    for candidate in plan.resources:
        if candidate.urn == urn:
            return str(candidate.inputs.get("enableSecretMutable")).lower() == "true"
    # A default provider reads PULUMI_K8S_ENABLE_SECRET_MUTABLE or stack config: not ours.
    return False


def replace_reason(plan: Plan, resource: Registration, paths: list[str]) -> str | None:
    """Why the provider would replace rather than update, or None for an in-place update."""
    if resource.type == PASSWORD_TYPE:
        # pulumi-random (bridged terraform-provider-random): every argument of random_password
        # forces a new resource; `keepers` exists for exactly that ("Arbitrary map of values
        # that, when changed, will trigger recreation of resource", the SDK's docstring).
        return "RandomPassword inputs force a new password: " + ", ".join(paths)
    if resource.type == CHART_TYPE:
        return None  # a component: re-rendered, its children diffed one by one (see below)
    if not resource.type.startswith("kubernetes:"):
        return None
    # pulumi-kubernetes provider/pkg/provider/diff.go forceNewProperties: `.metadata.name`
    # and `.metadata.namespace` replace every kind.
    forced: tuple[str, ...] = ("metadata.name", "metadata.namespace")
    if resource.type == SECRET_TYPE and (
        not _mutable_secrets(plan, resource) or resource.inputs.get("immutable") is True
    ):
        # Same function: a Secret's `.type`, `.stringData`, `.data` replace it unless the
        # provider has enableSecretMutable (and the Secret is not `immutable`); diff_test.go:
        # "Secret resources trigger a replace when enableSecretMutable is not set".
        forced += ("type", "stringData", "data")
    elif resource.type == SECRET_TYPE:
        forced += ("type",)  # diff_test.go: "... when type changes even if enableSecretMutable"
    hits = [p for p in paths if _under(p, forced)]
    if not hits:
        return None
    return "the Kubernetes provider replaces on a change of " + ", ".join(hits)


def compare(old: Plan, new: Plan) -> list[dict[str, Any]]:
    """One entry per resource: `{type, name, urn, op, paths?, reason?, refused?}`.

    apiVersion/kind are part of a Kubernetes resource's type token (`kubernetes:<apiVersion>:
    <kind>`, the SDK's CustomResource), so changing them changes the URN: a delete and a create.
    """
    before = {r.urn: r for r in old.resources}
    after = {r.urn for r in new.resources}
    changes: list[dict[str, Any]] = []
    for resource in new.resources:
        entry: dict[str, Any] = {"type": resource.type, "name": resource.name, "urn": resource.urn}
        previous = before.get(resource.urn)
        if previous is None:
            changes.append({**entry, "op": "create"})
            continue
        paths = changed_paths(
            render(previous.inputs, show_secrets=True), render(resource.inputs, show_secrets=True)
        )
        if not paths:
            changes.append({**entry, "op": "same"})
            continue
        reason = replace_reason(new, resource, paths)
        if reason is None:
            entry.update(op="update", paths=paths)
            if resource.type == CHART_TYPE:
                # pulumi-kubernetes provider/pkg/provider/helm/v4/chart.go: a v4 Chart is a
                # component rendered again on every run; each rendered object is registered
                # and diffed as its own resource (and inherits the Chart's `protect`).
                entry["reason"] = "chart re-rendered: each rendered object is diffed on its own"
                if resource.protect:  # (never so in this program: see RedisStore)
                    entry["reason"] += (
                        "; the chart is protected and so is every object it renders: one the "
                        "new render renames, drops or must replace will be refused"
                    )
            if resource.type == PROVIDER_TYPE:
                # pulumi-kubernetes provider/pkg/provider/provider.go DiffConfig: the provider
                # is replaced iff the active cluster its kubeconfig resolves to changes; pulumi
                # step_generator.go providerChanged then replaces every object it manages (and
                # refuses the protected ones). The kubeconfig is on the Pulumi host only.
                entry["reason"] = (
                    "provider settings changed: if the context names another cluster, "
                    "`pulumi preview` replaces every object this provider manages"
                )
            changes.append(entry)
            continue
        if previous.retain_on_delete:
            reason += " (the old one is left in the cluster: retainOnDelete)"
        entry.update(op="replace", paths=paths, reason=reason)
        # pulumi pkg/resource/deploy/step_generator.go continueStepsFromDiff: a replacement
        # with `new.Protect && old.Protect` is an error ("unable to replace resource ... as it
        # is currently marked for protection").
        if resource.protect and previous.protect:
            entry["refused"] = "cannot replace a protected resource (protect: true)"
        changes.append(entry)
    for resource in reversed(old.resources):  # deletes run dependents first
        if resource.urn in after:
            continue
        entry = {"type": resource.type, "name": resource.name, "urn": resource.urn, "op": "delete"}
        if resource.retain_on_delete:
            entry["reason"] = "retainOnDelete: removed from the stack, left in the cluster"
        # pulumi pkg/resource/deploy/step.go DeleteStep.Apply: "Refuse to delete protected
        # resources" (the old state's protect flag).
        if resource.protect:
            entry["refused"] = "cannot delete a protected resource (protect: true)"
        changes.append(entry)
    return changes


def refused(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in changes if "refused" in c]
