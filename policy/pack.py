"""The policies, as pulumi-policy objects over the pure rules in `rules.py`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policy import rules

PACK = "omnia-agents"
_PRODUCTION = PolicyConfigSchema(
    properties={
        "productionStacks": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(rules.PRODUCTION_STACKS),
            "description": "Stack name patterns (fnmatch) held to the production rules",
        },
    }
)
_VERSION = PolicyConfigSchema(
    properties={
        "omniaVersion": {
            "type": "string",
            "description": "The Omnia release the clusters run, e.g. 0.9.0-beta.17",
        }
    }
)
_MEMORY_AGENTS = {
    "memoryAgents": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "namespace/name patterns of stateless agents allowed memory sessions",
    }
}


def _report(report: ReportViolation, problems: list[str], urn: str | None = None) -> None:
    for problem in problems:
        report(problem, urn)


def _session_blocks(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if rules.is_agent_runtime(args.resource_type):
        _report(report, rules.block_problems(args.props.get("spec") or {}))


def _production(config: Mapping[str, Any], urn: str) -> bool:
    """Whether the stack `urn` belongs to is one of the configured production stacks."""
    return rules.is_production(rules.stack_of(urn), config.get("productionStacks"))


def _no_memory_sessions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == rules.AGENT_RUNTIME and _production(args.get_config(), args.urn):
        exceptions = args.get_config().get("memoryAgents")
        _report(report, rules.memory_problems(args.props, exceptions))


def _redis_values(args: ResourceValidationArgs) -> bool:
    """A Helm resource whose values reach the pack (rules.HELM_VALUES), of a Redis chart."""
    return (
        args.resource_type in rules.HELM_VALUES
        and rules.is_redis_chart(args.props)
        and _production(args.get_config(), args.urn)
    )


def _redis_chart(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _redis_values(args):
        _report(report, rules.chart_problems(args.props))


def _redis_metrics(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _redis_values(args):
        _report(report, rules.metrics_advisories(args.props))
    elif args.resource_type.startswith("kubernetes:") and _production(args.get_config(), args.urn):
        _report(report, rules.rendered_metrics_advisories(args.props))


def _redis_auth(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # Every object the engine analyzes, whatever made it: a Chart's children among them.
    if args.resource_type.startswith("kubernetes:") and _production(args.get_config(), args.urn):
        _report(report, rules.rendered_redis_problems(args.props))


def _redis_network(args: StackValidationArgs, report: ReportViolation) -> None:
    if not args.resources:
        return
    if not _production(args.get_config(), args.resources[0].urn):
        return
    objects = [
        rules.Resource(r.resource_type, r.props, urn=r.urn)
        for r in args.resources
        if r.resource_type.startswith("kubernetes:")
    ]
    # A first preview may not know an object yet: no verdict on what cannot be read.
    with contextlib.suppress(UnknownValueError):
        for urn, problem in rules.redis_network_problems(objects):
            report(problem, urn)


def _credentials(args: StackValidationArgs, report: ReportViolation) -> None:
    agents = [
        rules.Resource(r.resource_type, r.props)
        for r in args.resources
        if rules.is_agent_runtime(r.resource_type)
    ]
    secrets = [
        rules.Resource(r.resource_type, r.props, tuple(r.opts.additional_secret_outputs))
        for r in args.resources
        if r.resource_type == rules.SECRET
    ]
    # First preview: the URL is computed from the password; `pulumi up` checks it again.
    with contextlib.suppress(UnknownValueError):
        _report(report, rules.credentials_problems(agents, secrets))


def _for_release(
    rule: Callable[[Mapping[str, Any], str], list[str]],
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """A policy applying `rule` to each AgentRuntime's spec for the configured Omnia release."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        version = args.get_config().get("omniaVersion")
        if rules.is_agent_runtime(args.resource_type) and version:
            _report(report, rule(args.props.get("spec") or {}, version))

    return validate


_release_ttl = _for_release(rules.ttl_advisories)
_release_block = _for_release(rules.release_problems)


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    resource: list[tuple[str, str, Callable[..., Any], EnforcementLevel, Any]] = [
        (
            "omnia-session-block",
            "AgentRuntime session/context blocks the operator accepts: memory or redis, a Go "
            "TTL, storeRef with only `name`, present for redis; never both blocks",
            _session_blocks,
            EnforcementLevel.MANDATORY,
            None,
        ),
        (
            "omnia-production-sessions",
            "Production stacks keep agent sessions in redis, not memory",
            _no_memory_sessions,
            EnforcementLevel.MANDATORY,
            PolicyConfigSchema(properties={**_PRODUCTION.properties, **_MEMORY_AGENTS}),
        ),
        (
            "omnia-production-redis-chart",
            "Production Redis (Bitnami chart values of a Helm v3 Release or Chart): password "
            "from a Secret, a closed NetworkPolicy",
            _redis_chart,
            EnforcementLevel.MANDATORY,
            _PRODUCTION,
        ),
        (
            "omnia-production-redis-auth",
            "Production Redis (the objects the Bitnami chart renders): a password from "
            "auth.existingSecret, never in clear in a pod spec or config file",
            _redis_auth,
            EnforcementLevel.MANDATORY,
            _PRODUCTION,
        ),
        (
            "omnia-release-block",
            "The session block the targeted Omnia release reads, with the Redis URL where the "
            "release ignores storeRef",
            _release_block,
            EnforcementLevel.MANDATORY,
            _VERSION,
        ),
        (
            "omnia-production-redis-metrics",
            "Production Redis is watched: its exporter on, and the program's alert rules",
            _redis_metrics,
            EnforcementLevel.ADVISORY,
            _PRODUCTION,
        ),
        (
            "omnia-release-ttl",
            "TTLs longer than the history the targeted Omnia release keeps",
            _release_ttl,
            EnforcementLevel.ADVISORY,
            _VERSION,
        ),
    ]
    found: list[ResourceValidationPolicy | StackValidationPolicy] = [
        ResourceValidationPolicy(
            name=name,
            description=text,
            validate=check,
            enforcement_level=level,
            config_schema=schema,
        )
        for name, text, check, level, schema in resource
    ]
    found.append(
        StackValidationPolicy(
            name="omnia-production-redis-network",
            description="Production Redis (the objects the Bitnami chart renders): a "
            "NetworkPolicy isolates its pods, no ingress rule opens its ports to every source",
            validate=_redis_network,
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=_PRODUCTION,
        )
    )
    found.append(
        StackValidationPolicy(
            name="omnia-credentials-secret",
            description="A redis AgentRuntime's credentials Secret, when in the stack, has key "
            "`url` and holds it as a Pulumi secret",
            validate=_credentials,
            enforcement_level=EnforcementLevel.MANDATORY,
        )
    )
    return found


def policy_pack() -> PolicyPack:
    return PolicyPack(name=PACK, enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
