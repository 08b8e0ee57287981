"""The change preview: what `pulumi up` would do to go from one planned stack to another.

Both plans come from the same mock harness (same stack name, so the same stand-in password
unless its keepers change). Resources are matched by URN, as the engine matches them; each kind
this program uses is diffed by the rules its provider and the engine apply, cited per rule.
With `--render`, a Helm Chart's children are in both plans (offline/helm.py) and are diffed the
same way. What the engine would refuse (replacing or deleting a protected resource) is reported,
and so is what the program refuses on top of it: deleting, replacing or moving the StatefulSet
whose claims hold the sessions (upstream/redis_volumes.py). `plan.py --from` exits 1 for either.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from offline.harness import Plan, Registration, provider_urn, render
from upstream.chart_versions import change_notes
from upstream.kubernetes import HELM_CHART_V4 as CHART_TYPE
from upstream.kubernetes import PROVIDER as PROVIDER_TYPE
from upstream.kubernetes_diff import delete_before_replace, force_new_paths, kind_of, replace_keys
from upstream.redis_volumes import GUARD_SUFFIX, RUNBOOK, claim_size, claims, holds_sessions

OPS = ("create", "update", "replace", "delete", "same")
_RANDOM = "random:"
PROTECTED_REPLACE = "cannot replace a protected resource (protect: true)"
PROTECTED_DELETE = "cannot delete a protected resource (protect: true)"
# Where docs/operating-redis.md says how to make each refused change by hand.
RUNBOOKS = {
    "volumeSize": f"{RUNBOOK}#growing-the-redis-volumes",
    "namespace": f"{RUNBOOK}#moving-redis-to-another-namespace",
    "statefulSet": f"{RUNBOOK}#turning-sentinel-on-or-off",
    "other": f"{RUNBOOK}#replacing-the-statefulset-that-holds-the-sessions",
}


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


def _provider_flag(plan: Plan, resource: Registration, flag: str) -> bool:
    """Whether the provider managing this resource was configured with `flag` (true)."""
    urn = provider_urn(resource.provider) if resource.provider else ""
    for candidate in plan.resources:
        if candidate.urn == urn:
            return str(candidate.inputs.get(flag)).lower() == "true"
    # A default provider reads PULUMI_K8S_ENABLE_* or stack config: not ours.
    return False


def replace_reason(plan: Plan, resource: Registration, paths: list[str]) -> str | None:
    """Why the provider would replace rather than update, or None for an in-place update."""
    if resource.type.startswith(_RANDOM):
        # pulumi-random (bridged terraform-provider-random): every argument of its resources
        # forces a new one; `keepers` exists for exactly that ("Arbitrary map of values
        # that, when changed, will trigger recreation of resource", the SDK's docstring).
        return f"{resource.type.rsplit(':', 1)[-1]} inputs force a new one: " + ", ".join(paths)
    if resource.type == CHART_TYPE:
        return None  # a component: re-rendered, its children diffed one by one (see below)
    kind = kind_of(resource.type)
    if kind is None:
        return None
    forced = force_new_paths(
        *kind,
        immutable=resource.inputs.get("immutable") is True,
        secret_mutable=_provider_flag(plan, resource, "enableSecretMutable"),
        configmap_mutable=_provider_flag(plan, resource, "enableConfigMapMutable"),
    )
    hits = replace_keys(paths, forced)
    if not hits:
        return None
    return "the Kubernetes provider replaces on a change of " + ", ".join(hits)


def _entry(resource: Registration, op: str) -> dict[str, Any]:
    return {"type": resource.type, "name": resource.name, "urn": resource.urn, "op": op}


def compare(old: Plan, new: Plan) -> list[dict[str, Any]]:
    """One entry per resource: `{type, name, urn, op, paths?, reason?, refused?, ...}`.

    apiVersion/kind are part of a Kubernetes resource's type token (`kubernetes:<apiVersion>:
    <kind>`, the SDK's CustomResource), so changing them changes the URN: a delete and a create.
    """
    before = {r.urn: r for r in old.resources}
    after = {r.urn for r in new.resources}
    changes: list[dict[str, Any]] = []
    for resource in new.resources:
        entry = _entry(resource, "create")
        previous = before.get(resource.urn)
        if previous is None:
            changes.append(entry)
            continue
        was = render(previous.inputs, show_secrets=True)
        now = render(resource.inputs, show_secrets=True)
        paths = changed_paths(was, now)
        if not paths:
            changes.append({**entry, "op": "same"})
            continue
        reason = replace_reason(new, resource, paths)
        if reason is None:
            entry.update(op="update", paths=paths)
            if resource.type == CHART_TYPE:
                _chart_notes(entry, previous, resource)
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
        if kind_of(resource.type) and delete_before_replace(was, now):
            # provider.go Diff: same name and namespace, so the old object goes first.
            reason += " (deleted before its replacement is created: same name)"
        if previous.retain_on_delete:
            reason += " (the old one is left in the cluster: retainOnDelete)"
        entry.update(op="replace", paths=paths, reason=reason)
        # pulumi pkg/resource/deploy/step_generator.go continueStepsFromDiff: a replacement
        # with `new.Protect && old.Protect` is an error ("unable to replace resource ... as it
        # is currently marked for protection").
        if resource.protect and previous.protect:
            entry["refused"] = PROTECTED_REPLACE
        changes.append(entry)
    for resource in reversed(old.resources):  # deletes run dependents first
        if resource.urn in after:
            continue
        entry = _entry(resource, "delete")
        if resource.retain_on_delete:
            entry["reason"] = "retainOnDelete: removed from the stack, left in the cluster"
        # pulumi pkg/resource/deploy/step.go DeleteStep.Apply: "Refuse to delete protected
        # resources" (the old state's protect flag).
        if resource.protect:
            entry["refused"] = PROTECTED_DELETE
        changes.append(entry)
    _guard_sessions(changes, old, new)
    _summarise_charts(changes, old, new)
    return changes


def _chart_notes(entry: dict[str, Any], previous: Registration, resource: Registration) -> None:
    # pulumi-kubernetes provider/pkg/provider/helm/v4/chart.go: a v4 Chart is a component
    # rendered again on every run; each rendered object is registered and diffed as its own
    # resource (and inherits the Chart's `protect`).
    entry["reason"] = "chart re-rendered: each rendered object is diffed on its own"
    if resource.protect:  # (never so in this program: see RedisStore)
        entry["reason"] += (
            "; the chart is protected and so is every object it renders: one the "
            "new render renames, drops or must replace will be refused"
        )
    notes = change_notes(str(previous.inputs.get("version")), str(resource.inputs.get("version")))
    if notes:
        entry["warnings"] = notes


def _chart_children(plan: Plan) -> dict[str, str]:
    """Child URN -> its Chart's URN, for the rendered children in a plan."""
    charts = {r.urn for r in plan.resources if r.type == CHART_TYPE}
    return {r.urn: r.parent for r in plan.resources if r.parent in charts}


def _summarise_charts(changes: list[dict[str, Any]], old: Plan, new: Plan) -> None:
    """With rendered children: the Chart's entry says what changes inside it."""
    parent_of = {**_chart_children(old), **_chart_children(new)}
    inside: dict[str, list[dict[str, Any]]] = {}
    for change in changes:
        if change["urn"] in parent_of:
            inside.setdefault(parent_of[change["urn"]], []).append(change)
    for chart in changes:
        if chart["urn"] not in inside or chart["op"] in ("create", "delete"):
            continue
        ops = Counter(c["op"] for c in inside[chart["urn"]])
        names = {
            op: [c["name"] for c in inside[chart["urn"]] if c["op"] == op]
            for op in OPS
            if op != "same" and ops[op]
        }
        if names:
            chart["children"] = names
            chart["reason"] = "chart re-rendered: " + ", ".join(
                f"{ops[op]} {op}" for op in OPS if ops[op]
            )


def _data_holders(plan: Plan) -> dict[str, Registration]:
    children = _chart_children(plan)
    return {
        r.urn: r
        for r in plan.resources
        if r.urn in children and holds_sessions(render(r.inputs, show_secrets=True))
    }


def _guard_sessions(changes: list[dict[str, Any]], old: Plan, new: Plan) -> None:
    """The program's refusals: deleting, replacing or moving the StatefulSet that holds the
    sessions, read from the rendered children (and the engine guard standing in for it)."""
    held, holding = _data_holders(old), _data_holders(new)
    for change in changes:
        previous = held.get(change["urn"])
        if change["type"].startswith(_RANDOM) and change["name"].endswith(GUARD_SUFFIX):
            _explain_guard(change, old, new)
            continue
        if previous is None or change["op"] not in ("replace", "delete"):
            continue
        obj = render(previous.inputs, show_secrets=True)
        lost = ", ".join(claims(obj))
        where = f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}"
        if change["op"] == "replace":
            new_obj = render(next(r for r in new.resources if r.urn == change["urn"]).inputs, True)
            grown = claim_size(obj) != claim_size(new_obj)
            runbook = RUNBOOKS["volumeSize" if grown else "other"]
            why = f"replacing StatefulSet {where} deletes it first: every Redis pod stops at once"
            if replace_keys(change.get("paths", []), ("spec.volumeClaimTemplates",)):
                template = (
                    f"new claim template ({claim_size(new_obj)})"
                    if grown
                    else "changed claim template"
                )
                why += (
                    f"; its pods come back on the same claims ({lost}, {claim_size(obj)}): the "
                    f"{template} never applies to them"
                )
        else:
            others = [
                render(r.inputs, show_secrets=True)
                for u, r in holding.items()
                if u not in held and r.inputs["metadata"]["name"] == obj["metadata"]["name"]
            ]
            if others:
                runbook = RUNBOOKS["namespace"]
                target = others[0]["metadata"].get("namespace")
                why = (
                    f"StatefulSet {where} moves to namespace {target}: Redis starts there on "
                    f"new, empty claims; the sessions stay on {lost}"
                )
            else:
                runbook = RUNBOOKS["statefulSet"]
                instead = [
                    f"{r.inputs['metadata'].get('namespace')}/{r.inputs['metadata']['name']}"
                    for u, r in holding.items()
                    if u not in held
                ]
                why = f"deleting StatefulSet {where} leaves the sessions on {lost}"
                if instead:
                    why += f"; {', '.join(instead)} starts on new, empty claims"
        change["refused"] = f"{why} (sessions lost; by hand: {runbook})"


def _explain_guard(change: dict[str, Any], old: Plan, new: Plan) -> None:
    """The engine guard's refusal, with what it stands for and where the runbook is."""
    if "refused" not in change:
        return
    if change["op"] == "delete":
        change["refused"] += (
            "; it stands for the StatefulSet that holds the sessions, which this change "
            f"removes (by hand: {RUNBOOK}#removing-redis)"
        )
        return
    before = old.one(change["type"], change["name"]).inputs.get("keepers") or {}
    after = new.one(change["type"], change["name"]).inputs.get("keepers") or {}
    moved = [k for k in sorted(after) if before.get(k) != after.get(k)]
    said = ", ".join(f"{k}: {before.get(k)} -> {after.get(k)}" for k in moved)
    runbook = RUNBOOKS.get(moved[0], RUNBOOKS["other"]) if moved else RUNBOOKS["other"]
    change["refused"] += (
        f"; it stands for the StatefulSet that holds the sessions, which this change deletes, "
        f"replaces or moves ({said}) (sessions lost; by hand: {runbook})"
    )
