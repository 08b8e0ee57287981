"""The one config function: Pulumi config (or a mapping of the same keys) to a StackConfig.

Every key under `omnia-agents:` is read, so a typo is refused instead of ignored; every problem
is collected before anything is raised, so a user sees them all at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime.config import (
    CONFIG,
    get_config_env,
    get_config_secret_keys_env,
    is_config_secret,
)
from pydantic import ValidationError

from settings.chart_values import values_problems
from settings.checks import (
    SECRET_KEY,
    clear_store_urls,
    cross_checks,
    redis_namespace_problems,
    store_url_problems,
    value_problems,
    value_warnings,
)
from settings.errors import ConfigError, Problem, key_path, problem, scrub
from settings.fields import AgentNamespaces, mask_credentials
from settings.models import RedisConfig, StackConfig
from settings.project import PROJECT, STACK_CONFIG_DIR


def parse_config(
    raw: Mapping[str, Any],
    source: str,
    secret_keys: frozenset[str] = frozenset(),
    kube_context: str | None = None,
) -> StackConfig:
    """Validate omnia-agents:* keys (prefix removed); raise ConfigError listing every problem.

    `secret_keys`: keys set with `--secret`. They are refused: nothing here is a secret, and the
    program writes these values in clear into resource inputs and stack outputs. Messages
    never repeat their values. `kube_context`: the context the program's own Kubernetes
    provider uses (`kubernetes:context`, or the package's `kubeContext`).
    """
    problems = [
        Problem(
            key_path((key,)),
            "is set as a secret, but its value would be written in clear into resources and "
            "outputs: omnia-agents settings hold no secrets; set it without --secret",
        )
        for key in sorted(secret_keys - {SECRET_KEY})
    ]
    config = None
    found = value_problems(raw)  # before the models: they would recurse into a deep value
    if not found:
        try:
            config = StackConfig.model_validate(dict(raw))
        except ValidationError as err:
            found += [problem(e, secret_keys) for e in err.errors()]
        found += cross_checks(raw)
    problems += scrub(found, raw, secret_keys)
    if not problems:  # their messages never quote a URL: no scrubbing (it would mangle them)
        problems += store_url_problems(raw)
    if problems or config is None:
        raise ConfigError(source, problems)
    return config.model_copy(update={"kube_context": kube_context}) if kube_context else config


def parse_redis(raw: Mapping[str, Any], source: str) -> RedisConfig:
    """A `redis` block on its own (the package's RedisSessionStore): keys as in a stack file."""
    found = value_problems({"redis": dict(raw)})
    if found:
        raise ConfigError(source, found)
    found = values_problems(raw)
    try:
        config = RedisConfig.model_validate(dict(raw))
    except ValidationError as err:
        errors = [{**e, "loc": ("redis", *e["loc"])} for e in err.errors()]
        raise ConfigError(source, [problem(e) for e in errors] + found) from None
    if found:
        raise ConfigError(source, found)
    found = redis_namespace_problems(raw, AgentNamespaces.REQUIRE, [])
    if found:
        raise ConfigError(source, found)
    return config


class _TooDeepError(Exception):
    """JSON nested past what json.loads decodes (it recurses)."""


def _decode(text: str) -> Any:
    """Pulumi hands structured values over as JSON text and plain strings as they are."""
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
        except RecursionError:  # the CLI allows 10000 levels; the checks report it
            raise _TooDeepError from None
    return text


# The stack file the offline plan reads (`plan.py --stack-file`), for messages: under `pulumi
# up` it is always the stack's own file in stackConfigDir.
stack_file_override: str | None = None


def stack_file() -> str:
    """The running stack's config file, as error messages name it."""
    if stack_file_override is not None:
        return stack_file_override
    return f"{STACK_CONFIG_DIR}/Pulumi.{pulumi.get_stack()}.yaml"


def load_stack_config() -> StackConfig:
    """Read this stack's omnia-agents:* config (every key, so typos are caught), and the
    `kubernetes:context` the program's own Kubernetes provider must use."""
    source = stack_file()
    prefix = f"{PROJECT}:"
    every = {*CONFIG.get(), *get_config_env()}
    keys = {k for k in every if k.startswith(prefix)}
    secret = set(get_config_secret_keys_env())
    config = pulumi.Config(PROJECT)
    raw = {}
    too_deep = []
    for key in sorted(keys):
        name = key.removeprefix(prefix)
        text = config.get(name)
        if text is not None:
            try:
                raw[name] = _decode(text)
            except _TooDeepError:
                too_deep.append(Problem(key_path((name,)), "is nested too deep to read"))
    if too_deep:
        raise ConfigError(source, too_deep)
    hidden = frozenset(k.removeprefix(prefix) for k in keys if k in secret or is_config_secret(k))
    for warning in value_warnings({k: v for k, v in raw.items() if k not in hidden}):
        pulumi.log.warn(mask_credentials(f"{source}: {warning}"))
    if SECRET_KEY not in hidden:
        for where in clear_store_urls(raw):
            pulumi.log.warn(
                f"{source}: {where} is in clear in the stack file: it holds the store's "
                f"password; set it with pulumi config set --secret --path '{where}'"
            )
    # An explicit provider does not read `kubernetes:*` stack config itself: pass it through,
    # and say which other provider settings the cluster will not see.
    ignored = sorted(k for k in every if k.startswith("kubernetes:") and k != "kubernetes:context")
    if ignored:
        pulumi.log.warn(
            f"{source}: {', '.join(ignored)} not used: the program's own "
            "Kubernetes provider reads only kubernetes:context"
        )
    return parse_config(raw, source, hidden, pulumi.Config("kubernetes").get("context"))
