"""The component package's schema as the SDK infers it, and which model judges which args."""

from __future__ import annotations

import functools
import json
from typing import Any

from pulumi.provider.experimental.component import ComponentProvider
from pydantic import BaseModel

from components import package
from settings import models, package_args

# Each TypedDict of the package's args, and the stack-file model its values go through.
PAIRS: list[tuple[type, type[BaseModel]]] = [
    (package_args.SessionAgentsArgs, models.StackConfig),
    (package_args.SessionArgs, models.SessionConfig),
    (package_args.SessionOverrideArgs, models.SessionOverride),
    (package_args.AgentArgs, models.AgentConfig),
    (package_args.StoreArgs, models.StoreConfig),
    (package_args.RedisArgs, models.RedisConfig),
    (package_args.ImagesArgs, models.ImagesConfig),
    (package_args.ImageArgs, models.ImageConfig),
    (package_args.ResourcesArgs, models.ResourcesConfig),
    (package_args.MaxmemoryArgs, models.MaxmemoryConfig),
    (package_args.FailoverArgs, models.FailoverConfig),
    (package_args.MetricsArgs, models.MetricsConfig),
]


@functools.cache
def provider() -> ComponentProvider:
    """The SDK's ComponentProvider, judging raw args first; built once (its schema inference
    takes ~0.1 s) and shared: it keeps only what __init__ infers, construct() sets no state
    (pulumi sdk/python pulumi/provider/experimental/component.py, components/package.py)."""
    return package.provider()


def schema() -> dict[str, Any]:
    """The schema the SDK infers from the components' args and outputs (as `GetSchema` serves)."""
    found: dict[str, Any] = json.loads(provider().schema or "{}")
    return found
